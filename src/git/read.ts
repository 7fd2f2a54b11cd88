/**
 * Reading a repository with system git, without a checkout: resolve revisions, list trees, read
 * blobs, diff commits, follow ancestry. Blobs are read through one long-lived `git cat-file --batch`
 * so that thousands of files cost one process, not thousands. Every revision a caller gives reaches
 * git after `--end-of-options`: one that looks like an option is an unknown revision, never an option.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { FlotillaError } from "../core/problems.ts";
import { gitExitCode, GitExit, runGit, spawnGit } from "./run.ts";

/** Run a git command in `cwd`; failures become FLT-GIT-NOT-A-REPOSITORY or FLT-GIT-FAILED with git's first line. */
export async function git(cwd: string, args: string[]): Promise<string> {
  try {
    return await runGit(args, { cwd });
  } catch (e) {
    if (!(e instanceof GitExit)) throw e;
    const stderr = (e.stderr ?? e.message).trim();
    if (/not a git repository/i.test(stderr)) {
      throw new FlotillaError({ code: "FLT-GIT-NOT-A-REPOSITORY", message: `${cwd} is not inside a Git repository`, hint: "run `git init` or pass the repository's directory" });
    }
    throw new FlotillaError({ code: "FLT-GIT-FAILED", message: `git ${args[0]} failed: ${stderr.split("\n")[0]}` });
  }
}

/** The full sha of a revision, or a clear error naming it. */
export async function resolveRevision(cwd: string, rev: string): Promise<string> {
  try {
    return (await git(cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`])).trim();
  } catch (e) {
    if (e instanceof FlotillaError && e.code === "FLT-GIT-NOT-A-REPOSITORY") throw e;
    throw new FlotillaError({ code: "FLT-GIT-UNKNOWN-REVISION", message: `unknown revision '${rev}'`, hint: "use a commit sha, branch or tag that exists in this repository" });
  }
}

export async function repositoryRoot(cwd: string): Promise<string> {
  return (await git(cwd, ["rev-parse", "--show-toplevel"])).trim();
}

export interface TreeEntry {
  oid: string;
  /** Bytes, so that an oversized blob can be refused without reading it. */
  size: number;
}

/** All blob paths (relative to the repository root) at a commit, with their object ids and sizes. */
export async function listTree(cwd: string, commit: string): Promise<Map<string, TreeEntry>> {
  const out = await git(cwd, ["ls-tree", "-r", "-l", "-z", "--full-tree", "--end-of-options", commit]);
  const files = new Map<string, TreeEntry>();
  for (const entry of out.split("\0")) {
    if (!entry) continue;
    const tab = entry.indexOf("\t");
    const [, type, oid, size] = entry.slice(0, tab).split(/ +/);
    if (type === "blob" && oid) files.set(entry.slice(tab + 1), { oid, size: Number(size) });
  }
  return files;
}

export interface FileChange {
  status: "A" | "M" | "D";
  path: string;
}

/** Files changed between two commits, renames split into delete + add (we pair objects ourselves). */
export async function diffCommits(cwd: string, from: string, to: string): Promise<FileChange[]> {
  const out = await git(cwd, ["diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--end-of-options", from, to, "--"]);
  const parts = out.split("\0").filter((p) => p !== "");
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const s = parts[i]!.charAt(0);
    const status = s === "A" ? "A" : s === "D" ? "D" : "M"; // M, T (type change) count as modified
    changes.push({ status, path: parts[i + 1]! });
  }
  return changes;
}

/** Reads many blobs through one `git cat-file --batch` process. Call close() when done. */
export class BlobReader {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private buffer = Buffer.alloc(0);
  private queue: { resolve: (b: Buffer | undefined) => void; reject: (e: Error) => void }[] = [];
  private readonly cwd: string;
  private failure: Error | undefined;

  constructor(cwd: string) {
    this.cwd = cwd;
  }

  read(oid: string): Promise<Buffer | undefined> {
    const proc = this.start();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      proc.stdin.write(`${oid}\n`);
    });
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawnGit(["cat-file", "--batch"], { cwd: this.cwd });
    proc.stdout.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    const fail = (e: Error) => {
      this.failure = new FlotillaError({ code: "FLT-GIT-FAILED", message: `git cat-file failed: ${e.message}` });
      for (const q of this.queue.splice(0)) q.reject(this.failure);
    };
    proc.on("error", fail);
    proc.on("exit", (code) => {
      if (this.queue.length) fail(new Error(`exited with ${code}`));
    });
    proc.stdin.on("error", fail);
    this.proc = proc;
    return proc;
  }

  private drain(): void {
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0 || this.queue.length === 0) return;
      const header = this.buffer.subarray(0, nl).toString("utf8");
      if (header.endsWith(" missing")) {
        this.buffer = this.buffer.subarray(nl + 1);
        this.queue.shift()!.resolve(undefined);
        continue;
      }
      const size = Number(header.split(" ")[2]);
      if (this.buffer.length < nl + 1 + size + 1) return; // wait for the rest of the blob
      const body = Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + size));
      this.buffer = this.buffer.subarray(nl + 1 + size + 1);
      this.queue.shift()!.resolve(body);
    }
  }
}

/** The branch's head in a (mirror) git directory; FLT-GIT-BRANCH-MISSING when the branch is gone. */
export async function branchHead(gitDir: string, branch: string): Promise<string> {
  const ref = branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
  let out = "";
  try {
    out = (await git(gitDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`])).trim();
  } catch {
    out = "";
  }
  if (!out) {
    throw new FlotillaError({ code: "FLT-GIT-BRANCH-MISSING", message: `branch ${branch} does not exist in the repository (deleted or renamed?)`, hint: "push the branch again, or point the repository at the branch that now holds the definitions" });
  }
  return out;
}

export async function commitExists(gitDir: string, sha: string): Promise<boolean> {
  return (await gitExitCode(["cat-file", "-e", "--end-of-options", `${sha}^{commit}`], { cwd: gitDir })) === 0;
}

/** True when `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const status = await gitExitCode(["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant], { cwd: gitDir });
  if (status > 1) throw new FlotillaError({ code: "FLT-GIT-UNKNOWN-REVISION", message: `cannot compare ${ancestor.slice(0, 12)} and ${descendant.slice(0, 12)}: one of them is not in the repository` });
  return status === 0;
}
