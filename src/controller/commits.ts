/**
 * Which commits to process, in order: from the last processed commit (exclusive) to the branch's
 * head, along the first-parent chain. No processed commit yet: the head alone, as "every file
 * added". A last processed commit that is no longer an ancestor of the head (a force-push) is
 * reported as `rewritten`: never silently skipped, never reprocessed.
 */
import type { Clock } from "../core/clock.ts";
import { FlotillaError, type Problem } from "../core/problems.ts";
import { classifyFile, type FileKind } from "../config/discover.ts";
import { branchHead, commitExists, diffCommits, git, isAncestor, listTree, resolveRevision, type FileChange } from "../git/read.ts";
import type { Override } from "../store/types.ts";
import { parseOverrideTrailers } from "./overrides.ts";

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: { name: string; email: string };
  /** Author date, epoch ms. */
  date: number;
  /** Committer date, epoch ms. */
  committedAt: number;
  subject: string;
  /** The full message (subject, body, trailers). */
  message: string;
  /** `Flotilla-Override:` trailers of the message. */
  overrides: Override[];
}

export type NewCommits =
  /** Nothing processed yet: the head alone, every file counting as added. */
  | { kind: "initial"; head: string; commits: CommitInfo[] }
  /** Commits after the last processed one, oldest first. */
  | { kind: "new"; lastProcessed: string; head: string; commits: CommitInfo[] }
  | { kind: "up-to-date"; head: string }
  /**
   * The last processed commit is not an ancestor of the head (`not-ancestor`: history was rewritten,
   * e.g. a force-push) or no longer exists (`missing`). Nothing is processed; the caller records
   * and surfaces it, and an operator deploys a commit explicitly to move on.
   */
  | { kind: "rewritten"; lastProcessed: string; head: string; reason: "not-ancestor" | "missing" };

const SEP = "\u001f";
const END = "\u001e";
const FORMAT = ["%H", "%P", "%an", "%ae", "%at", "%ct", "%s", "%B"].join("%x1f") + "%x1e";

function parseCommits(out: string, at: number): CommitInfo[] {
  const commits: CommitInfo[] = [];
  for (const record of out.split(END)) {
    const r = record.replace(/^\n/, "");
    if (!r) continue;
    const [sha, parents, name, email, authored, committed, subject, ...body] = r.split(SEP);
    if (!sha) continue;
    const message = body.join(SEP).replace(/\n+$/, "");
    commits.push({
      sha,
      parents: parents ? parents.split(" ").filter(Boolean) : [],
      author: { name: name ?? "", email: email ?? "" },
      date: Number(authored) * 1000,
      committedAt: Number(committed) * 1000,
      subject: subject ?? "",
      message,
      overrides: parseOverrideTrailers(message, sha, at),
    });
  }
  return commits;
}

/** One commit's metadata (and its override trailers, stamped `at`). */
export async function readCommit(gitDir: string, rev: string, at: number): Promise<CommitInfo> {
  let out: string;
  try {
    out = await git(gitDir, ["log", "-1", "--no-walk", `--format=${FORMAT}`, "--end-of-options", `${rev}^{commit}`]);
  } catch {
    throw new FlotillaError({ code: "FLT-GIT-UNKNOWN-REVISION", message: `unknown commit '${rev}'`, hint: "use a commit sha that exists in the repository (after a fetch)" });
  }
  const c = parseCommits(out, at)[0];
  if (!c) throw new FlotillaError({ code: "FLT-GIT-UNKNOWN-REVISION", message: `unknown commit '${rev}'` });
  return c;
}

export interface NewCommitsOptions {
  clock: Pick<Clock, "now">;
  /** The head to process up to (default: the branch's head in the mirror). */
  head?: string;
}

/** The commits to process on `branch` after `lastProcessed`, oldest first (see NewCommits). */
export async function newCommits(gitDir: string, branch: string, lastProcessed: string | undefined, options: NewCommitsOptions): Promise<NewCommits> {
  const head = options.head ?? (await branchHead(gitDir, branch));
  const at = options.clock.now();
  if (!lastProcessed) return { kind: "initial", head, commits: [await readCommit(gitDir, head, at)] };
  if (lastProcessed === head) return { kind: "up-to-date", head };
  if (!(await commitExists(gitDir, lastProcessed))) return { kind: "rewritten", lastProcessed, head, reason: "missing" };
  if (!(await isAncestor(gitDir, lastProcessed, head))) return { kind: "rewritten", lastProcessed, head, reason: "not-ancestor" };
  const out = await git(gitDir, ["log", "--reverse", "--first-parent", `--format=${FORMAT}`, "--end-of-options", `${lastProcessed}..${head}`, "--"]);
  const commits = parseCommits(out, at);
  if (commits.length === 0) return { kind: "up-to-date", head };
  return { kind: "new", lastProcessed, head, commits };
}

/** The problem a caller records and shows for a `rewritten` result. */
export function rewrittenProblem(repository: string, branch: string, r: Extract<NewCommits, { kind: "rewritten" }>): Problem {
  const why = r.reason === "missing" ? `no longer exists in the repository` : `is not an ancestor of the new head ${r.head.slice(0, 12)}`;
  return {
    code: "FLT-GIT-HISTORY-REWRITTEN",
    severity: "error",
    message: `the history of ${repository} (${branch}) was rewritten: the last processed commit ${r.lastProcessed.slice(0, 12)} ${why}; nothing is deployed until an operator deploys a commit`,
    hint: `review the new history, then deploy the head by hand (flotilla commit deploy ${repository} ${r.head.slice(0, 12)})`,
  };
}

export interface BranchCommit extends CommitInfo {
  /** At or before the last processed commit (reachable from it). */
  processed: boolean;
}

/** The branch's commits along the first parent, newest first, at most `limit`, each marked processed or not. */
export async function listBranchCommits(gitDir: string, branch: string, options: { limit: number; lastProcessed?: string | undefined; clock: Pick<Clock, "now"> }): Promise<BranchCommit[]> {
  const head = await branchHead(gitDir, branch);
  const limit = Math.max(1, Math.floor(options.limit));
  const commits = parseCommits(await git(gitDir, ["log", "--first-parent", `-n${limit}`, `--format=${FORMAT}`, "--end-of-options", head, "--"]), options.clock.now());
  const last = options.lastProcessed;
  if (!last || !(await commitExists(gitDir, last))) return commits.map((c) => ({ ...c, processed: false }));
  const unprocessed = new Set((await git(gitDir, ["rev-list", "--end-of-options", `${last}..${head}`])).split("\n").filter(Boolean));
  return commits.map((c) => ({ ...c, processed: !unprocessed.has(c.sha) }));
}

export interface CommitFile {
  /** Relative to the repository's sub-path. */
  path: string;
  object: string;
  kind: FileKind;
  /** Against the commit's first parent; `unchanged` for files it did not touch. */
  change: "added" | "modified" | "deleted" | "unchanged";
}

/** The Flotilla files of a commit (below `subPath`), with how the commit changed each, sorted by path. */
export async function commitFiles(gitDir: string, rev: string, subPath?: string | null): Promise<CommitFile[]> {
  const sha = await resolveRevision(gitDir, rev);
  const prefix = subPath ? subPath.replace(/^\/+|\/+$/g, "") + "/" : "";
  const inside = (p: string) => (prefix ? (p.startsWith(prefix) ? p.slice(prefix.length) : undefined) : p);
  const parent = (await git(gitDir, ["rev-list", "--parents", "-n", "1", "--end-of-options", sha])).trim().split(" ")[1];
  const changes = new Map<string, FileChange["status"]>();
  if (parent) for (const c of await diffCommits(gitDir, parent, sha)) changes.set(c.path, c.status);
  const files = new Map<string, CommitFile["change"]>();
  for (const p of (await listTree(gitDir, sha)).keys()) {
    const s = parent ? changes.get(p) : "A";
    files.set(p, s === "A" ? "added" : s === "M" ? "modified" : "unchanged");
  }
  for (const [p, s] of changes) if (s === "D") files.set(p, "deleted");
  const out: CommitFile[] = [];
  for (const [p, change] of files) {
    const rel = inside(p);
    const c = rel === undefined ? undefined : classifyFile(rel);
    if (c && rel !== undefined) out.push({ path: rel, object: c.object, kind: c.kind, change });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
