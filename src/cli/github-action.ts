/**
 * `flotilla github-action`: the entry point of the GitHub Action (action.yml, docs/github.md).
 * It reads its inputs from INPUT_* variables (action.yml passes each one) and the run from GITHUB_*
 * ones, runs the verbs it is asked for with `--output github` through this same io (so each
 * problem is annotated once), gathers their job-summary sections and step outputs, and keeps one
 * pull-request comment up to date with the report.
 *
 * - `validate`: annotations on the files the pull request changes, the rest in the summary.
 * - `changes`: what the pull request's commits would do per object, from where it left its base
 *   (the merge base) to what is checked out; on a push, from the commit before the push.
 * - `plan`: against AWS (or `simulator` scenarios); in `check`, only when AWS credentials are
 *   configured or a scenario is given, and only for the objects the change deploys.
 * - `apply`: deploy from CI, with apply's own safeguards (deletes and overrides only when asked).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { locateTree } from "../config/changes.ts";
import { git, resolveRevision } from "../git/read.ts";
import { defaultMasker } from "../core/mask.ts";
import { FlotillaError } from "../core/problems.ts";
import { didYouMean } from "../core/suggest.ts";
import { GithubApi } from "./github-api.ts";
import { githubIO, parseOutputs, readEvent, setOutputs, writeSummary, type WorkflowEvent } from "./github.ts";
import { EXIT, type CliIO } from "./io.ts";
import { main, type RegisterCommand } from "./main.ts";
import * as md from "./markdown.ts";
import { existingDir } from "./options.ts";
import { PASS_DEFAULTS } from "../controller/pass.ts";

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("github-action")
    .description("the GitHub Action's entry point (action.yml): inputs from INPUT_* variables, the run from GITHUB_* ones (docs/github.md)")
    .action(() => run(() => githubAction(io)));
};

const MODES = ["validate", "changes", "plan", "apply"] as const;
type Mode = (typeof MODES)[number];

export interface ActionInputs {
  modes: Mode[];
  /** `check` plans only when AWS credentials or scenarios are there; a `plan` asked for by name always runs. */
  planWhenPossible: boolean;
  path: string;
  base: string;
  head: string;
  region: string;
  simulator: string;
  objects: string[];
  planScope: "changed" | "all";
  secretNames: string[];
  comment: boolean;
  commentKey: string;
  commentAuthor: string;
  token: string;
  dryRun: boolean;
  allowDelete: boolean;
  confirmMassDelete: boolean;
  maxDeleteFraction: string;
  overrides: string[];
  store: string;
}

/** An input as action.yml passes it: INPUT_ and the name in capitals, `-` as `_`. */
function input(env: NodeJS.ProcessEnv, name: string): string {
  return (env[`INPUT_${name.toUpperCase().replace(/-/g, "_")}`] ?? "").trim();
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = input(env, name).toLowerCase();
  if (v === "") return fallback;
  if (v === "true" || v === "false") return v === "true";
  throw new FlotillaError({ code: "FLT-GITHUB-INPUT", message: `input ${name} must be true or false, not "${v}"` });
}

function words(v: string): string[] {
  return v.split(/[\s,]+/).filter(Boolean);
}

export function readInputs(env: NodeJS.ProcessEnv): ActionInputs {
  const modes = new Set<Mode>();
  let planWhenPossible = false;
  for (const word of words(input(env, "mode") || "check")) {
    if (word === "check") {
      modes.add("validate").add("changes");
      if (!modes.has("plan")) planWhenPossible = true;
      modes.add("plan");
    } else if ((MODES as readonly string[]).includes(word)) {
      modes.add(word as Mode);
      if (word === "plan") planWhenPossible = false;
    } else {
      const guess = didYouMean(word, [...MODES, "check"]);
      throw new FlotillaError({ code: "FLT-GITHUB-INPUT", message: `unknown mode "${word}"`, hint: guess ? `did you mean "${guess}"?` : "modes: check (validate, changes and plan when AWS credentials are there), validate, changes, plan, apply" });
    }
  }
  const planScope = input(env, "plan-scope") || "changed";
  if (planScope !== "changed" && planScope !== "all") throw new FlotillaError({ code: "FLT-GITHUB-INPUT", message: `input plan-scope must be changed or all, not "${planScope}"` });
  const commentKey = input(env, "comment-key") || path.posix.normalize(input(env, "path") || ".");
  // The key goes inside an HTML comment: nothing that could end it.
  if (!/^[A-Za-z0-9._/-]{1,100}$/.test(commentKey)) throw new FlotillaError({ code: "FLT-GITHUB-INPUT", message: `input comment-key may hold letters, digits, '.', '_', '-' and '/' (at most 100), not "${commentKey}"` });
  const maxDeleteFraction = input(env, "max-delete-fraction") || String(PASS_DEFAULTS.maxDeleteFraction);
  return {
    modes: MODES.filter((m) => modes.has(m)),
    planWhenPossible,
    path: input(env, "path") || ".",
    base: input(env, "base"),
    head: input(env, "head") || "HEAD",
    region: input(env, "region"),
    simulator: input(env, "simulator"),
    objects: words(input(env, "objects")),
    planScope,
    secretNames: words(input(env, "secret-names")),
    comment: bool(env, "comment", false),
    commentKey,
    commentAuthor: input(env, "comment-author") || "github-actions[bot]",
    token: input(env, "github-token"),
    dryRun: bool(env, "dry-run", false),
    allowDelete: bool(env, "allow-delete", false),
    confirmMassDelete: bool(env, "confirm-mass-delete", false),
    maxDeleteFraction,
    overrides: words(input(env, "override")),
    store: input(env, "store"),
  };
}

/** Variables by which the AWS SDK's default chain finds credentials on a runner. */
const AWS_CREDENTIAL_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];

async function githubAction(given: CliIO): Promise<number> {
  const io = githubIO(given);
  const inputs = readInputs(io.env);
  const workspace = io.env["GITHUB_WORKSPACE"] || io.cwd;
  const dir = await existingDir(workspace, inputs.path);
  const event = readEvent(io.env);
  const located = await locateTree(dir).catch((e: unknown) => {
    if (e instanceof FlotillaError) return undefined;
    throw e;
  });

  // The commit to compare with: an explicit base, the pull request's base, or the commit before a push.
  const base = inputs.base || event?.pullRequest?.baseSha || event?.before;
  let from: string | undefined;
  if (located && base && (inputs.modes.includes("changes") || event?.pullRequest)) {
    await ensureHistory(io, located.root, base, inputs.head);
    from = await mergeBase(located.root, base, inputs.head);
  }

  // Overrides and controls are recorded with who started the run, not the runner's login.
  const actor = !io.env["FLOTILLA_USER"] && io.env["GITHUB_ACTOR"] ? { FLOTILLA_USER: `${io.env["GITHUB_ACTOR"]} (GitHub Actions)` } : {};
  const headSha = located ? await resolveRevision(located.root, inputs.head) : undefined;
  const work = await mkdtemp(path.join(tmpdir(), "flotilla-action-"));
  const sections: string[] = [header(event, located ? located.subPath : inputs.path, from, headSha)];
  const outputs = new Map<string, string>();
  let exit: number = EXIT.ok;
  try {
    const verb = async (mode: Mode, args: string[]): Promise<void> => {
      const summary = path.join(work, `${mode}.md`);
      const outputFile = path.join(work, `${mode}.out`);
      // Each verb's log folds into a group; its annotations are processed inside it all the same.
      io.github?.command("group", {}, `flotilla ${mode}`);
      const code = await main([mode, dir, "--output", "github", ...args], { ...io, env: { ...io.env, ...actor, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: outputFile } });
      io.github?.command("endgroup", {}, "");
      exit = worse(exit, code);
      const section = await readFile(summary, "utf8").catch(() => "");
      sections.push(section.trim() || `### Flotilla ${mode}\n\nIt stopped (exit ${code}) before it could report: the error is annotated on this run and in its log.`);
      for (const [k, v] of parseOutputs(await readFile(outputFile, "utf8").catch(() => ""))) outputs.set(k, v);
    };
    const region = inputs.region ? [`--region=${inputs.region}`] : [];
    const simulator = !inputs.simulator || inputs.simulator === "false" ? [] : inputs.simulator === "true" ? ["--simulator"] : [`--simulator=${words(inputs.simulator).map((f) => path.resolve(workspace, f)).join(",")}`];
    const objectFlags = (names: readonly string[]) => names.map((o) => `--object=${o}`);

    for (const mode of inputs.modes) {
      if (mode === "validate") await verb("validate", region);
      else if (mode === "changes") await verb("changes", [...(from ? [`--from=${from}`] : []), `--to=${inputs.head}`, ...region]);
      else if (mode === "plan") {
        const credentials = AWS_CREDENTIAL_VARIABLES.some((v) => io.env[v]);
        if (inputs.planWhenPossible && !credentials && !simulator.length) {
          sections.push("### Flotilla plan\n\nNot run: no AWS credentials are configured in this job (and no `simulator` scenario is given). See docs/github.md for OIDC role assumption.");
          continue;
        }
        let only = inputs.objects;
        if (!only.length && inputs.planScope === "changed" && inputs.modes.includes("changes")) {
          const deploys = outputs.get("deploys");
          if (deploys === undefined) {
            sections.push("### Flotilla plan\n\nNot run: `changes` could not say which objects this change deploys.");
            continue;
          }
          only = JSON.parse(deploys) as string[];
          if (!only.length) {
            sections.push("### Flotilla plan\n\nNothing to plan: this change deploys no object.");
            continue;
          }
        }
        await verb("plan", [...objectFlags(only), ...simulator, ...region, ...inputs.secretNames.map((n) => `--secret-name=${n}`)]);
      } else {
        await verb("apply", [
          ...objectFlags(inputs.objects),
          ...simulator,
          ...region,
          ...(inputs.dryRun ? ["--dry-run"] : []),
          ...(inputs.allowDelete ? ["--allow-delete"] : []),
          ...(inputs.confirmMassDelete ? ["--confirm-mass-delete"] : []),
          `--max-delete-fraction=${inputs.maxDeleteFraction}`,
          ...inputs.overrides.map((o) => `--override=${o}`),
          ...(inputs.store ? [`--store=${inputs.store}`] : []),
        ]);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const report = sections.join("\n\n");
  writeSummary(io, report);
  if (inputs.comment) {
    const url = await comment(io, inputs, event, report);
    if (url) outputs.set("comment-url", url);
  }
  setOutputs(io, Object.fromEntries(outputs));
  return exit;
}

/** The worse of two exit codes: internal over usage over failed over ok. */
function worse(a: number, b: number): number {
  return Math.max(a, b);
}

function header(event: WorkflowEvent | undefined, tree: string, from: string | undefined, head: string | undefined): string {
  const pr = event?.pullRequest;
  const what = pr
    ? `Pull request #${pr.number}${pr.headRef && pr.baseRef ? ` (${md.code(pr.headRef)} into ${md.code(pr.baseRef)})` : ""}`
    : event
      ? `${md.code(event.name)} event`
      : "Run";
  const range = from && head ? `, changes from ${md.code(from.slice(0, 12))} to ${md.code(head.slice(0, 12))}` : head ? ` at ${md.code(head.slice(0, 12))}` : "";
  return `## Flotilla\n\n${what}${range}, tree ${md.code(tree || ".")}.`;
}

/**
 * Make sure `rev` and the history down to its common ancestor with HEAD are in the clone: a
 * checkout with actions/checkout's default depth of 1 has neither. Unshallow, then fetch the
 * commit itself if no branch holds it; a clear error when that is not possible.
 */
async function ensureHistory(io: CliIO, root: string, rev: string, head: string): Promise<void> {
  const has = () => git(root, ["cat-file", "-e", "--end-of-options", `${rev}^{commit}`]).then(() => true, () => false);
  const shallow = async () => (await git(root, ["rev-parse", "--is-shallow-repository"])).trim() === "true";
  const related = () => git(root, ["merge-base", "--end-of-options", rev, head]).then(() => true, () => false);
  if ((await has()) && (await related())) return;
  try {
    if (await shallow()) {
      io.err(`The clone is shallow: fetching the history from origin so ${rev.slice(0, 12)} and HEAD can be compared.\n`);
      await git(root, ["fetch", "--no-tags", "--quiet", "--unshallow", "origin"]);
    }
    if (!(await has()) && /^[0-9a-f]{40}$/.test(rev)) await git(root, ["fetch", "--no-tags", "--quiet", "origin", rev]);
  } catch (e) {
    if (!(e instanceof FlotillaError)) throw e;
    throw new FlotillaError({ code: "FLT-GITHUB-HISTORY", message: `${rev.slice(0, 12)} is not in this clone and fetching it failed: ${e.message}`, hint: "check out with actions/checkout's fetch-depth: 0" });
  }
  if (!(await has())) throw new FlotillaError({ code: "FLT-GITHUB-HISTORY", message: `${rev} is not in this clone, and origin did not have it either`, hint: "check out with actions/checkout's fetch-depth: 0, or give an existing commit as base" });
}

/** Where HEAD left `base`: what the change itself did, not what base did since. */
async function mergeBase(root: string, base: string, head: string): Promise<string> {
  try {
    return (await git(root, ["merge-base", "--end-of-options", base, head])).trim();
  } catch {
    // Unrelated histories: compare with base itself.
    return (await git(root, ["rev-parse", "--verify", "--end-of-options", `${base}^{commit}`])).trim();
  }
}

/** GitHub refuses a comment over 65,536 characters. */
const COMMENT_LIMIT = 60_000;

/**
 * One comment per pull request and tree (the hidden marker holds the comment key), written by the
 * token's user (`comment-author`, github-actions[bot] for the workflow's token): created the first
 * time, then updated in place. A comment by someone else that copies the marker is never touched.
 * A refusal (a fork's read-only token, a missing permission) is a warning: the summary has it all.
 */
async function comment(io: CliIO, inputs: ActionInputs, event: WorkflowEvent | undefined, report: string): Promise<string | undefined> {
  const pr = event?.pullRequest;
  if (!pr) {
    io.err("comment: true is for pull_request events; this run's report is in the job summary only.\n");
    return undefined;
  }
  const warn = (message: string, hint?: string) => io.github?.command("warning", { title: "FLT-GITHUB-API" }, `${message}${hint ? `\nhint: ${hint}` : ""}`);
  if (!inputs.token) {
    warn("no github-token: the pull-request comment is not written", "pass github-token (the default is the workflow's token)");
    return undefined;
  }
  const marker = `<!-- flotilla-action:${inputs.commentKey} -->`;
  const run = runUrl(io.env);
  const footer = `\n\n---\n<sub>Flotilla ${run ? `[run](${run})` : "run"} for ${md.code(pr.headSha.slice(0, 12))}; this comment is updated in place on every run.</sub>`;
  const body = `${marker}\n${md.truncate(defaultMasker.text(report), COMMENT_LIMIT, `_The report is cut here; the whole of it is in the job summary${run ? ` of [the run](${run})` : ""}._`)}${footer}`;
  try {
    const api = new GithubApi({ baseUrl: io.env["GITHUB_API_URL"] || "https://api.github.com", token: inputs.token, repository: io.env["GITHUB_REPOSITORY"] ?? "" });
    const mine = (await api.listIssueComments(pr.number)).find((c) => c.body.startsWith(marker) && c.user?.login === inputs.commentAuthor);
    const written = mine ? await api.updateIssueComment(mine.id, body) : await api.createIssueComment(pr.number, body);
    io.err(`${mine ? "Updated" : "Wrote"} the pull-request comment: ${written.html_url}\n`);
    return written.html_url;
  } catch (e) {
    if (!(e instanceof FlotillaError)) throw e;
    warn(`the pull-request comment is not written: ${e.message}`, e.problem.hint);
    return undefined;
  }
}

function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  const server = env["GITHUB_SERVER_URL"];
  const repo = env["GITHUB_REPOSITORY"];
  const id = env["GITHUB_RUN_ID"];
  if (!server || !repo || !id || !/^https?:\/\/[^\s()<>]+$/.test(server) || !/^[\w.-]+\/[\w.-]+$/.test(repo) || !/^\d+$/.test(id)) return undefined;
  return `${server.replace(/\/+$/, "")}/${repo}/actions/runs/${id}`;
}
