/**
 * Where definition files come from: a working tree on disk, or a commit read straight from git.
 * Paths are always repository-relative with forward slashes.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { BlobReader, listTree, resolveRevision } from "./git.ts";

export interface RepoSource {
  /** For messages: the directory, or `dir@sha`. */
  readonly label: string;
  /** All file paths in the tree. */
  listFiles(): Promise<string[]>;
  /** The file's text, or undefined when it does not exist. */
  readFile(file: string): Promise<string | undefined>;
  close?(): void;
}

const SKIP_DIRS = new Set([".git", "node_modules", ".flotilla"]);

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
    const full = path.resolve(this.root, file);
    if (!full.startsWith(this.root + path.sep)) return undefined; // refs may not escape the repository
    try {
      return await readFile(full, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EISDIR") return undefined;
      throw e;
    }
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
  private tree: Promise<Map<string, string>> | undefined;
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

  private files(): Promise<Map<string, string>> {
    this.tree ??= listTree(this.cwd, this.commit).then((all) => {
      if (!this.prefix) return all;
      const inside = new Map<string, string>();
      for (const [file, oid] of all) if (file.startsWith(this.prefix)) inside.set(file.slice(this.prefix.length), oid);
      return inside;
    });
    return this.tree;
  }
  async listFiles(): Promise<string[]> {
    return [...(await this.files()).keys()].sort();
  }
  async readFile(file: string): Promise<string | undefined> {
    const oid = (await this.files()).get(path.posix.normalize(file));
    if (!oid) return undefined;
    return (await this.reader.read(oid))?.toString("utf8");
  }
  close(): void {
    this.reader.close();
  }
}
