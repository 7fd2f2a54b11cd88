/** `flotilla commit list|show|files|deploy|dryrun`: a repository's commits, through the API of `flotilla serve`. */
import { FlotillaError } from "../core/problems.ts";
import { ApiClient, SERVER_OPTION, table, type CommitRecordJson, type CommitResult, type DryRunResult } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { formatProblem, plural, printJson } from "./output.ts";

type Flags = { server?: string; output: string };
const OVERRIDES = ["skip-alarms", "all-at-once", "outside-window"];

export const register: RegisterCommand = (program, io, run) => {
  const commit = program.command("commit").description("a repository's commits: list, files, deploy, dry run (through the API of `flotilla serve`)");
  commit
    .command("list")
    .description("the newest commits of the repository's branch, and whether each was processed")
    .argument("<repo>", "the repository name")
    .option("--limit <n>", "how many commits (1-500)", "20")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, flags: Flags & { limit: string }) => run(() => list(io, repo, flags)));
  commit
    .command("show")
    .description("how the controller processed a commit: what it did per object, and its problems")
    .argument("<repo>", "the repository name")
    .argument("<sha>", "a full or abbreviated commit id")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, sha: string, flags: Flags) => run(() => show(io, repo, sha, flags)));
  commit
    .command("files")
    .description("the object files of a commit and how each changed")
    .argument("<repo>", "the repository name")
    .argument("<sha>", "a full or abbreviated commit id")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, sha: string, flags: Flags) => run(() => files(io, repo, sha, flags)));
  commit
    .command("deploy")
    .description("queue a deployment of a commit (prints what will happen; follow it with `flotilla deployment watch`)")
    .argument("<repo>", "the repository name")
    .argument("<sha>", "a full or abbreviated commit id")
    .option("--force", "redeploy objects that did not change", false)
    .option("--override <name...>", `deployment overrides: ${OVERRIDES.join(", ")}`)
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, sha: string, flags: Flags & { force: boolean; override?: string[] }) => run(() => deploy(io, repo, sha, flags)));
  commit
    .command("dryrun")
    .description("what deploying a commit would do, changing nothing")
    .argument("<repo>", "the repository name")
    .argument("<sha>", "a full or abbreviated commit id")
    .option("--rendered", "include the rendered definitions", false)
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, sha: string, flags: Flags & { rendered: boolean }) => run(() => dryrun(io, repo, sha, flags)));
};

export function limitOf(value: string, max = 500): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--limit must be a whole number from 1 to ${max}, not ${value}` });
  return n;
}

async function list(io: CliIO, repo: string, flags: Flags & { limit: string }): Promise<number> {
  const { items } = await ApiClient.from(io, flags.server).listCommits(repo, limitOf(flags.limit));
  if (flags.output === "json") printJson(io, { items });
  else if (items.length === 0) io.out(`no commits on ${repo}'s branch\n`);
  else io.out(table(["SHA", "DATE", "PROCESSED", "RESULT", "AUTHOR", "SUBJECT"], items.map((c) => [c.sha.slice(0, 12), c.committedAt, c.processed ? "yes" : "no", resultText(c.result), c.author, c.subject]), (s) => paint(io, "bold", s)));
  return EXIT.ok;
}

/** `ok`, `ok: 1 warning`, `invalid: 3 problems`; `-` when the controller has no record of it. */
function resultText(r: CommitResult | null | undefined): string {
  if (!r) return "-";
  const n = r.errors + r.warnings;
  if (r.status === "invalid") return `invalid: ${plural(n, "problem")}`;
  return r.warnings ? `ok: ${plural(r.warnings, "warning")}` : "ok";
}

const OUTCOME_STYLE: Record<string, Parameters<typeof paint>[1]> = { deploy: "green", delete: "red", "delete-held": "yellow", none: "dim", invalid: "red", blocked: "red" };

/** A commit record as text: the verdict, what happened per object, then every problem. */
function recordText(io: CliIO, r: CommitRecordJson): string {
  const verdict = r.status === "invalid" ? paint(io, "red", `invalid: ${plural(r.errors, "error")}, ${plural(r.warnings, "warning")}`) : paint(io, "green", r.warnings ? `ok: ${plural(r.warnings, "warning")}` : "ok");
  let out = `${paint(io, "bold", `${r.repository}@${r.sha.slice(0, 12)}`)} processed ${r.processedAt} (${r.trigger}): ${verdict}\n`;
  if (r.objects.length) {
    const width = Math.max(...r.objects.map((o) => o.action.length));
    for (const o of r.objects) out += `  ${paint(io, OUTCOME_STYLE[o.action] ?? "reset", o.action.padEnd(width))}  ${o.object}: ${o.description}${o.deploymentId ? paint(io, "dim", ` (${o.deploymentId})`) : ""}\n`;
  }
  for (const p of r.problems) out += `${formatProblem(io, p, "  ")}\n`;
  const shown = r.problems.length;
  if (shown < r.errors + r.warnings) out += paint(io, "dim", `  ... and ${r.errors + r.warnings - shown} more (the first ${shown} are kept)`) + "\n";
  return out;
}

async function show(io: CliIO, repo: string, sha: string, flags: Flags): Promise<number> {
  const r = await ApiClient.from(io, flags.server).getCommit(repo, sha);
  if (flags.output === "json") printJson(io, r);
  else io.out(recordText(io, r));
  return EXIT.ok;
}

async function files(io: CliIO, repo: string, sha: string, flags: Flags): Promise<number> {
  const r = await ApiClient.from(io, flags.server).commitFiles(repo, sha);
  if (flags.output === "json") printJson(io, r);
  else if (r.items.length === 0) io.out(`no object files in ${r.sha.slice(0, 12)}\n`);
  else io.out(table(["CHANGE", "KIND", "OBJECT", "PATH"], r.items.map((f) => [f.change, f.kind, f.object, f.path]), (s) => paint(io, "bold", s)));
  return EXIT.ok;
}

const ACTION_STYLE: Record<string, Parameters<typeof paint>[1]> = { create: "green", update: "cyan", delete: "red", none: "dim", invalid: "red", unsupported: "yellow" };

function actionLines(io: CliIO, actions: DryRunResult["actions"]): string {
  if (actions.length === 0) return "  (no objects)\n";
  const width = Math.max(...actions.map((a) => a.action.length));
  return actions.map((a) => `  ${paint(io, ACTION_STYLE[a.action] ?? "reset", a.action.padEnd(width))}  ${a.object}: ${a.why}${a.blocked ? ` ${paint(io, "yellow", `(blocked: ${a.blocked})`)}` : ""}\n`).join("");
}

async function deploy(io: CliIO, repo: string, sha: string, flags: Flags & { force: boolean; override?: string[] }): Promise<number> {
  const overrides = flags.override ?? [];
  const unknown = overrides.filter((o) => !OVERRIDES.includes(o));
  if (unknown.length) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `unknown override ${unknown.join(", ")}`, hint: `overrides: ${OVERRIDES.join(", ")}` });
  const r = await ApiClient.from(io, flags.server).deployCommit(repo, sha, { ...(flags.force ? { force: true } : {}), ...(overrides.length ? { overrides } : {}) });
  if (flags.output === "json") {
    printJson(io, r);
    return EXIT.ok;
  }
  const when = r.queuePosition === 0 ? "next in the queue" : `${r.queuePosition} commit${r.queuePosition === 1 ? "" : "s"} ahead in the queue`;
  io.out(`${paint(io, "green", "queued")} ${r.repository}@${r.sha.slice(0, 12)} (${when}), requested by ${r.requestedBy}; will:\n`);
  io.out(actionLines(io, r.actions));
  io.out(paint(io, "dim", `follow it with: flotilla deployment list --repository ${r.repository} --commit ${r.sha.slice(0, 12)} --active`) + "\n");
  return EXIT.ok;
}

async function dryrun(io: CliIO, repo: string, sha: string, flags: Flags & { rendered: boolean }): Promise<number> {
  const r = await ApiClient.from(io, flags.server).dryRun(repo, sha, flags.rendered);
  if (flags.output === "json") {
    printJson(io, r);
    return EXIT.ok;
  }
  io.out(`${paint(io, "bold", "dry run")} of ${r.repository}@${r.sha.slice(0, 12)} (nothing changed):\n`);
  io.out(r.actions.length === 0 && r.recorded ? "  (nothing to do against the last processed commit)\n" : actionLines(io, r.actions));
  for (const p of r.problems) io.out(`  ${p.severity === "error" ? paint(io, "red", "error") : paint(io, "yellow", "warning")} ${paint(io, "dim", p.code)} ${[p.file, p.path].filter(Boolean).join(" ")}\n    ${p.message}\n`);
  if (r.rendered !== undefined) io.out(`\n${paint(io, "bold", "rendered")}\n${JSON.stringify(r.rendered, null, 2)}\n`);
  if (r.recorded) io.out(`\n${recordText(io, r.recorded)}`);
  return EXIT.ok;
}
