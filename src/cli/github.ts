/**
 * `--output github`: what a command prints inside a GitHub Actions job (docs/github.md).
 *
 * - The usual text report, made inert: the runner reads any output line (stdout or stderr) that
 *   starts with `::` (after spaces) as a workflow command, and any `##[name …]` anywhere in a line
 *   as a legacy one. A repository controls object names, file names and the values that messages
 *   quote, so every line we did not write as a command gets a zero-width space that stops both.
 * - Annotations (`::error file=…,line=…,col=…,title=FLT-…::message`) with file paths relative to
 *   the repository root, property and data escaped as the runner unescapes them. In a pull request
 *   only problems in files the pull request changes are annotated, those on changed lines first;
 *   the summary lists the rest.
 * - A Markdown report appended to `$GITHUB_STEP_SUMMARY` and step outputs in `$GITHUB_OUTPUT`.
 *
 * Everything is masked (src/core/mask.ts) on its way out, like every other output.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { locateTree } from "../config/changes.ts";
import { git } from "../git/read.ts";
import { defaultMasker } from "../core/mask.ts";
import { FlotillaError, type Problem } from "../core/problems.ts";
import type { CliIO } from "./io.ts";
import * as md from "./markdown.ts";

/** Lets the commands of one run through this io be written raw, and each problem be annotated once. */
export interface GithubChannel {
  command(name: string, properties: Record<string, string | number | undefined>, data: string): void;
  /**
   * Problems already reported through this io, annotated or listed in a summary: the Action runs
   * several verbs through one io, and each problem is reported by the first that finds it.
   */
  readonly seen: Set<string>;
  /** Write out what is left of an unfinished line. */
  flush(): void;
}

// The runner unescapes `%25` last, so `%` is escaped first.
export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export function workflowCommand(name: string, properties: Record<string, string | number | undefined>, data: string): string {
  const props = Object.entries(properties)
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== "")
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(",");
  return `::${name}${props ? ` ${props}` : ""}::${escapeData(data)}`;
}

const ZWSP = "\u200B";
// What the runner trims before looking for `::` (.NET's whitespace), and a little more.
const COMMAND_START = /^([\p{Z}\t\n\v\f\r\u0085\u180E\u200B-\u200D\u2060\uFEFF]*):(?=:)/u;

/** Text the runner reads as no command at all: line breaks are \n, \r or \r\n to it. */
export function neutralize(s: string): string {
  return s
    .split(/(\r\n|\r|\n)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(COMMAND_START, `$1:${ZWSP}`)))
    .join("")
    .replace(/##\[/g, `#${ZWSP}#[`);
}

/**
 * The io a `--output github` run prints through: colour and redrawn progress off, every line
 * masked and made inert, and a channel for our own commands. Idempotent: the Action's io is
 * passed to the verbs it runs.
 */
export function githubIO(io: CliIO): CliIO {
  if (io.github) return io;
  const line = (write: (t: string) => void) => {
    let pending = "";
    return {
      write(t: string) {
        pending += t;
        const cut = Math.max(pending.lastIndexOf("\n"), pending.lastIndexOf("\r"));
        if (cut < 0) return;
        write(neutralize(defaultMasker.text(pending.slice(0, cut + 1))));
        pending = pending.slice(cut + 1);
      },
      flush() {
        if (pending) write(neutralize(defaultMasker.text(pending)) + "\n");
        pending = "";
      },
    };
  };
  const out = line((t) => io.out(t));
  const err = line((t) => io.err(t));
  const github: GithubChannel = {
    command(name, properties, data) {
      out.flush();
      const masked = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeof v === "string" ? defaultMasker.text(v) : v]));
      io.out(workflowCommand(name, masked, defaultMasker.text(data)) + "\n");
    },
    seen: new Set(),
    flush() {
      out.flush();
      err.flush();
    },
  };
  return { ...io, color: false, interactive: false, out: (t) => out.write(t), err: (t) => err.write(t), github };
}

/** Whether argv asks for `--output github` (main wraps the io before any verb runs). */
export function wantsGithubOutput(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return false;
    if (a === "--output=github" || a === "-ogithub") return true;
    if ((a === "--output" || a === "-o") && argv[i + 1] === "github") return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The pull request, and what it changes

export interface PullRequest {
  number: number;
  baseSha: string;
  headSha: string;
  baseRef?: string;
  headRef?: string;
}

export interface WorkflowEvent {
  name: string;
  pullRequest?: PullRequest;
  /** A push event's commit before the push, when it is a real commit (not a new branch's zeros). */
  before?: string;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** The workflow's event (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH), as far as Flotilla uses it. */
export function readEvent(env: NodeJS.ProcessEnv): WorkflowEvent | undefined {
  const name = env["GITHUB_EVENT_NAME"];
  const file = env["GITHUB_EVENT_PATH"];
  if (!name) return undefined;
  const isPullRequest = name === "pull_request" || name === "pull_request_target";
  if (!file) {
    if (isPullRequest) throw new FlotillaError({ code: "FLT-GITHUB-EVENT", message: `GITHUB_EVENT_NAME is ${name} but GITHUB_EVENT_PATH is not set` });
    return { name };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    // Only a pull request needs the file; other events use it for the commit before a push at most.
    if (!isPullRequest) return { name };
    throw new FlotillaError({ code: "FLT-GITHUB-EVENT", file, message: `the event file cannot be read as JSON: ${(e as Error).message}` });
  }
  const event: WorkflowEvent = { name };
  const p = record(payload);
  if (isPullRequest) {
    const pr = record(p["pull_request"]);
    const base = record(pr["base"]);
    const head = record(pr["head"]);
    const number = pr["number"] ?? p["number"];
    if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || typeof base["sha"] !== "string" || !SHA.test(base["sha"]) || typeof head["sha"] !== "string" || !SHA.test(head["sha"])) {
      throw new FlotillaError({ code: "FLT-GITHUB-EVENT", file, message: "the pull_request event lacks the pull request's number or its base and head commit shas", hint: "run on pull_request events with the event file GitHub writes" });
    }
    event.pullRequest = {
      number,
      baseSha: base["sha"],
      headSha: head["sha"],
      ...(typeof base["ref"] === "string" ? { baseRef: base["ref"] } : {}),
      ...(typeof head["ref"] === "string" ? { headRef: head["ref"] } : {}),
    };
  } else if (name === "push" && typeof p["before"] === "string" && SHA.test(p["before"]) && !/^0+$/.test(p["before"])) {
    event.before = p["before"];
  }
  return event;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Lines changed per repository-relative file; "all" for a file that is new or deleted as a whole. */
export type ChangedLines = Map<string, Set<number> | "all">;

/** Files and lines that differ between `base` and the working tree of the repository at `root`. */
export async function changedLines(root: string, base: string): Promise<ChangedLines> {
  const out = await git(root, ["-c", "core.quotePath=true", "diff", "--no-color", "--no-ext-diff", "--no-renames", "-U0", "--src-prefix=a/", "--dst-prefix=b/", "--end-of-options", base, "--"]);
  const changed: ChangedLines = new Map();
  let oldPath: string | undefined;
  let current: Set<number> | "all" | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("diff --git ")) {
      oldPath = undefined;
      current = undefined;
    } else if (line.startsWith("--- ")) {
      oldPath = diffPath(line.slice(4), "a/");
    } else if (line.startsWith("+++ ")) {
      const newPath = diffPath(line.slice(4), "b/");
      // A deleted file keeps its old name; nothing on it can point at a line.
      const file = newPath ?? oldPath;
      if (!file) continue;
      current = newPath && oldPath ? new Set<number>() : "all";
      changed.set(file, current);
    } else if (line.startsWith("@@ ") && current instanceof Set) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      const start = Number(m[1]);
      const count = m[2] === undefined ? 1 : Number(m[2]);
      for (let i = 0; i < count; i++) current.add(start + i);
      // Pure deletions: the line after the cut is where the change shows.
      if (count === 0) current.add(Math.max(1, start));
    }
  }
  return changed;
}

/** A path from a `---`/`+++` line: `/dev/null` is none; `"a/…"` is C-quoted by git. */
function diffPath(raw: string, prefix: string): string | undefined {
  const s = raw.replace(/\t$/, "");
  if (s === "/dev/null") return undefined;
  const unquoted = s.startsWith('"') ? unquoteC(s) : s;
  return unquoted.startsWith(prefix) ? unquoted.slice(prefix.length) : unquoted;
}

function unquoteC(s: string): string {
  const bytes: number[] = [];
  const body = s.slice(1, s.endsWith('"') ? -1 : undefined);
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = body[i + 1] ?? "";
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

// ---------------------------------------------------------------------------------------------
// Annotations

/** Where a tree's problems point, and which of them a pull request makes worth annotating. */
export interface AnnotationScope {
  /** Prefix that makes a tree-relative file repository-relative ("" at the root, else "sub/"). */
  prefix: string;
  /** Undefined: annotate every problem (not a pull request, or its diff is unknown). */
  changed?: ChangedLines;
  pullRequest?: PullRequest;
  /** Said once, as a warning, when the pull request's diff cannot be computed. */
  warning?: Problem;
}

/**
 * The scope for a tree at `dir`: repository-relative paths (the repository holding `dir`, else
 * GITHUB_WORKSPACE, else the working directory) and, in a pull request, the files and lines it
 * changes: from where it left its base (the merge base) to what is checked out.
 */
export async function annotationScope(io: CliIO, dir: string): Promise<AnnotationScope> {
  const event = readEvent(io.env);
  let located: { root: string; subPath: string } | undefined;
  try {
    located = await locateTree(dir);
  } catch (e) {
    if (!(e instanceof FlotillaError)) throw e;
  }
  if (!located) {
    const base = io.env["GITHUB_WORKSPACE"] || io.cwd;
    const rel = path.relative(base, dir).split(path.sep).join("/");
    return { prefix: rel && !rel.startsWith("..") ? `${rel}/` : "" };
  }
  const prefix = located.subPath ? `${located.subPath}/` : "";
  const pr = event?.pullRequest;
  if (!pr) return { prefix };
  try {
    const mergeBase = (await git(located.root, ["merge-base", "--end-of-options", pr.baseSha, "HEAD"])).trim();
    return { prefix, pullRequest: pr, changed: await changedLines(located.root, mergeBase) };
  } catch (e) {
    if (!(e instanceof FlotillaError)) throw e;
    return {
      prefix,
      pullRequest: pr,
      warning: {
        code: "FLT-GITHUB-HISTORY",
        severity: "warning",
        message: `the pull request's base commit ${pr.baseSha.slice(0, 12)} (or its common ancestor with HEAD) is not in this clone, so every problem is annotated, not only those in files the pull request changes`,
        hint: "check out with fetch-depth: 0 (actions/checkout), or use the Flotilla action, which fetches what it needs",
      },
    };
  }
}

export interface Annotated {
  /** Problems annotated now, changed lines first. */
  annotated: Problem[];
  /** Problems in files the pull request does not change: only in the summary. */
  elsewhere: Problem[];
}

/** The repository-relative file of a problem, for annotations and the summary. */
export function repositoryFile(scope: AnnotationScope, p: Problem): string | undefined {
  return p.file ? `${scope.prefix}${p.file}` : undefined;
}

/**
 * Annotate the problems the scope selects and return them with the rest, leaving out what an
 * earlier verb of the same run reported already.
 */
export function annotate(io: CliIO, problems: readonly Problem[], scope: AnnotationScope): Annotated {
  const seen = io.github?.seen ?? new Set<string>();
  const key = (p: Problem) => JSON.stringify([p.severity, p.code, repositoryFile(scope, p), p.line, p.column, p.path, p.message]);
  const fresh = [...(scope.warning ? [scope.warning] : []), ...problems].filter((p) => {
    if (seen.has(key(p))) return false;
    seen.add(key(p));
    return true;
  });
  const rank = (p: Problem): number => {
    const file = repositoryFile(scope, p);
    if (!file || !scope.changed || p === scope.warning) return 1;
    const lines = scope.changed.get(file);
    if (!lines) return 2; // elsewhere
    return lines === "all" || (p.line !== undefined && lines.has(p.line)) ? 0 : 1;
  };
  const ranked = fresh.map((p) => ({ p, r: rank(p) })).sort((a, b) => a.r - b.r);
  const annotated = ranked.filter((x) => x.r < 2).map((x) => x.p);
  for (const p of annotated) {
    const file = repositoryFile(scope, p);
    const message = [p.object && !p.file ? `${p.object}: ` : "", p.message, p.path ? ` (${p.path})` : "", p.hint ? `\nhint: ${p.hint}` : ""].join("");
    const properties = { file, line: file ? p.line : undefined, col: file && p.line ? p.column : undefined, title: p.code };
    const name = p.severity === "error" ? "error" : "warning";
    if (io.github) io.github.command(name, properties, message);
    else io.out(workflowCommand(name, properties, message) + "\n");
  }
  return { annotated, elsewhere: ranked.filter((x) => x.r === 2).map((x) => x.p) };
}

// ---------------------------------------------------------------------------------------------
// Summary and outputs

/** 1 MiB is GitHub's limit for one step's summary. */
const SUMMARY_LIMIT = 1024 * 1024 - 1024;

/** Append Markdown to the job summary ($GITHUB_STEP_SUMMARY), masked; nothing when it is not set. */
export function writeSummary(io: CliIO, markdown: string): void {
  const file = io.env["GITHUB_STEP_SUMMARY"];
  if (!file) return;
  const body = md.truncate(defaultMasker.text(markdown), SUMMARY_LIMIT, "_The report is cut here: it is longer than a job summary may be._");
  appendFileSync(file, body.replace(/\n*$/, "\n\n"));
}

/** Step outputs ($GITHUB_OUTPUT), each in the multi-line form with a delimiter no value can contain. */
export function setOutputs(io: CliIO, outputs: Record<string, string>): void {
  const file = io.env["GITHUB_OUTPUT"];
  if (!file) return;
  let text = "";
  for (const [name, value] of Object.entries(outputs)) {
    const masked = defaultMasker.text(value);
    let delimiter = `flotilla_${randomUUID()}`;
    while (masked.includes(delimiter)) delimiter = `flotilla_${randomUUID()}`;
    text += `${name}<<${delimiter}\n${masked}\n${delimiter}\n`;
  }
  appendFileSync(file, text);
}

/** Read back outputs written in either of GitHub's forms (the Action reads what its verbs set). */
export function parseOutputs(text: string): Map<string, string> {
  const outputs = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) break;
      outputs.set(heredoc[1]!, lines.slice(i + 1, end).join("\n"));
      i = end;
    } else if (line.includes("=")) {
      outputs.set(line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1));
    }
  }
  return outputs;
}

/** Problems as a Markdown table: severity, code, where (repository-relative), message. */
export function problemTable(scope: AnnotationScope, problems: readonly Problem[]): string {
  return md.table(
    ["", "code", "where", "message"],
    problems.map((p) => {
      const file = repositoryFile(scope, p);
      const where = file ? md.code(`${file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ""}` : ""}`) + (p.path ? ` ${md.code(p.path)}` : "") : p.object ? md.code(p.object) : "";
      return [p.severity === "error" ? "error" : "warning", md.code(p.code), where, md.text(p.message) + (p.hint ? `<br>_${md.text(p.hint)}_` : "")];
    }),
  );
}

/** The problems section of a summary: annotated ones, then (in a pull request) those elsewhere. */
export function problemsMarkdown(scope: AnnotationScope, result: Annotated): string {
  const parts: string[] = [];
  const annotated = result.annotated.filter((p) => p !== scope.warning);
  if (annotated.length) parts.push(scope.changed ? `**In files this pull request changes** (annotated):\n\n${problemTable(scope, annotated)}` : problemTable(scope, annotated));
  if (result.elsewhere.length) {
    parts.push(md.details(`${result.elsewhere.length} in files this pull request does not change (not annotated)`, problemTable(scope, result.elsewhere)));
  }
  if (scope.warning && result.annotated.includes(scope.warning)) parts.push(`> ${md.text(scope.warning.message)}`);
  return parts.join("\n\n");
}
