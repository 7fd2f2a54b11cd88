/**
 * Where definition files come from: a working tree on disk, or a commit read straight from git.
 * Paths are always repository-relative with forward slashes.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import path from "node:path";
import { BlobReader, listTree, resolveRevision, type TreeEntry } from "../git/read.ts";

/** What `readWithin` found: the text, or the size of a file too large to be read. */
export type BoundedRead = { text: string } | { tooLarge: number };

export interface RepoSource {
  /** For messages: the directory, or `dir@sha`. */
  readonly label: string;
  /** All file paths in the tree. */
  listFiles(): Promise<string[]>;
  /** The file's text, or undefined when it does not exist. */
  readFile(file: string): Promise<string | undefined>;
  /** The file's size in bytes without reading it, or undefined when it does not exist. */
  size(file: string): Promise<number | undefined>;
  /**
   * The file's text when it has at most `maxBytes` bytes (a larger one is never read), in one go
   * where the source can; undefined when it does not exist. Sources without it are asked `size`
   * and then `readFile`.
   */
  readWithin?(file: string, maxBytes: number): Promise<BoundedRead | undefined>;
  close?(): void;
}

const SKIP_DIRS = new Set([".git", "node_modules", ".flotilla"]);

const missing = (e: unknown) => ["ENOENT", "EISDIR", "ENOTDIR"].includes((e as NodeJS.ErrnoException).code ?? "");

/**
 * A directory on disk, for the CLI (validate, render, plan, apply). Reads are synchronous system
 * calls: a tree of thousands of small files is read with an open, a fstat, a read and a close
 * each, without a thread-pool round trip per call or a separate stat, and a walk that never enters
 * .git or node_modules.
 */
export class WorkingTreeSource implements RepoSource {
  readonly label: string;
  private readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
    this.label = root;
  }
  listFiles(): Promise<string[]> {
    const files: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name)) walk(path.join(dir, e.name), `${prefix}${e.name}/`);
        } else if (e.isFile() && !SKIP_DIRS.has(e.name)) files.push(prefix + e.name);
      }
    };
    walk(this.root, "");
    return Promise.resolve(files.sort());
  }
  readFile(file: string): Promise<string | undefined> {
    const r = this.read(file, Number.POSITIVE_INFINITY);
    return Promise.resolve(r && "text" in r ? r.text : undefined);
  }
  size(file: string): Promise<number | undefined> {
    const r = this.read(file, -1);
    return Promise.resolve(r && "tooLarge" in r ? r.tooLarge : undefined);
  }
  readWithin(file: string, maxBytes: number): Promise<BoundedRead | undefined> {
    return Promise.resolve(this.read(file, maxBytes));
  }
  /** Open once; the size comes from the open file, and a file over `maxBytes` is not read. */
  private read(file: string, maxBytes: number): BoundedRead | undefined {
    const full = this.inside(file);
    if (!full) return undefined;
    let fd: number;
    try {
      fd = openSync(full, "r");
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return undefined;
      if (st.size > maxBytes) return { tooLarge: st.size };
      // Read to the end, never past the limit (the file may have grown since fstat).
      let buf = Buffer.allocUnsafe(Math.min(maxBytes, st.size) + 1);
      let length = 0;
      for (;;) {
        if (length === buf.length) {
          if (length > maxBytes) return { tooLarge: length };
          const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buf.length * 2));
          buf.copy(bigger, 0, 0, length);
          buf = bigger;
        }
        const n = readSync(fd, buf, length, buf.length - length, null);
        if (n === 0) break;
        length += n;
      }
      if (length > maxBytes) return { tooLarge: length };
      return { text: buf.toString("utf8", 0, length) };
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    } finally {
      closeSync(fd);
    }
  }
  /** Refs may not escape the repository. */
  private inside(file: string): string | undefined {
    const full = path.resolve(this.root, file);
    return full.startsWith(this.root + path.sep) ? full : undefined;
  }
}

/**
 * A commit, read with git. `subPath` (repository-relative, e.g. `deploy/ecs`) makes a folder of the
 * repository the root of the Flotilla tree: object names and ref paths are relative to it.
 */
export class GitCommitSource implements RepoSource {
  readonly label: string;
  readonly commit: string;
  private readonly cwd: string;
  private readonly prefix: string;
  private tree: Promise<Map<string, TreeEntry>> | undefined;
  private readonly reader: BlobReader;

  constructor(cwd: string, commit: string, subPath = "") {
    this.cwd = cwd;
    this.commit = commit;
    this.prefix = subPath ? subPath.replace(/\/+$/, "") + "/" : "";
    this.label = `${commit.slice(0, 12)}`;
    this.reader = new BlobReader(cwd);
  }

  static async open(cwd: string, rev: string, subPath = ""): Promise<GitCommitSource> {
    return new GitCommitSource(cwd, await resolveRevision(cwd, rev), subPath);
  }

  private files(): Promise<Map<string, TreeEntry>> {
    this.tree ??= listTree(this.cwd, this.commit).then((all) => {
      if (!this.prefix) return all;
      const inside = new Map<string, TreeEntry>();
      for (const [file, entry] of all) if (file.startsWith(this.prefix)) inside.set(file.slice(this.prefix.length), entry);
      return inside;
    });
    return this.tree;
  }
  async listFiles(): Promise<string[]> {
    return [...(await this.files()).keys()].sort();
  }
  async readFile(file: string): Promise<string | undefined> {
    const entry = (await this.files()).get(path.posix.normalize(file));
    if (!entry) return undefined;
    return (await this.reader.read(entry.oid))?.toString("utf8");
  }
  async size(file: string): Promise<number | undefined> {
    return (await this.files()).get(path.posix.normalize(file))?.size;
  }
  close(): void {
    this.reader.close();
  }
}
