/**
 * System git, read-only: resolve revisions, list trees, read blobs and diff commits without a
 * checkout. Blobs are read through one long-lived `git cat-file --batch` so that thousands of
 * files cost one process, not thousands.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promisify } from "node:util";
import { FlotillaError } from "../core/problems.ts";

const run = promisify(execFile);
const MAX_BUFFER = 512 * 1024 * 1024;

export async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: MAX_BUFFER, encoding: "utf8" });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number; message: string };
    if (err.code === "ENOENT") {
      throw new FlotillaError({ code: "FLT-GIT-FAILED", message: "git is not installed or not on PATH", hint: "install git (apt-get install git)" });
    }
    const stderr = (err.stderr ?? err.message).trim();
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
    const proc = spawn("git", ["cat-file", "--batch"], { cwd: this.cwd, stdio: ["pipe", "pipe", "pipe"] });
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
