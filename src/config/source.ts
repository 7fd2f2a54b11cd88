/**
 * Where definition files come from: a working tree on disk, or a commit read straight from git.
 * Paths are always repository-relative with forward slashes.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { BlobReader, listTree, resolveRevision, type TreeEntry } from "./git.ts";

export interface RepoSource {
  /** For messages: the directory, or `dir@sha`. */
  readonly label: string;
  /** All file paths in the tree. */
  listFiles(): Promise<string[]>;
  /** The file's text, or undefined when it does not exist. */
  readFile(file: string): Promise<string | undefined>;
  /** The file's size in bytes without reading it, or undefined when it does not exist. */
  size(file: string): Promise<number | undefined>;
  close?(): void;
}

const SKIP_DIRS = new Set([".git", "node_modules", ".flotilla"]);

const missing = (e: unknown) => ["ENOENT", "EISDIR", "ENOTDIR"].includes((e as NodeJS.ErrnoException).code ?? "");

export class WorkingTreeSource implements RepoSource {
  readonly label: string;
  private readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
    this.label = root;
  }
  async listFiles(): Promise<string[]> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    const files: string[] = [];
    for (const e of entries) {
      if (!e.isFile()) continue;
      const rel = path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join("/");
      if (rel.split("/").some((seg) => SKIP_DIRS.has(seg))) continue;
      files.push(rel);
    }
    return files.sort();
  }
  async readFile(file: string): Promise<string | undefined> {
    const full = this.inside(file);
    if (!full) return undefined;
    try {
      return await readFile(full, "utf8");
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  }
  async size(file: string): Promise<number | undefined> {
    const full = this.inside(file);
    if (!full) return undefined;
    try {
      const s = await stat(full);
      return s.isFile() ? s.size : undefined;
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
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
