/** A working tree of files in a temporary folder (no git), loaded as a repository. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOptions, loadRepository, type LoadedRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";

const made: string[] = [];

export function writeTree(files: Record<string, string | object>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "flotilla-tree-"));
  made.push(dir);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export async function loadTree(files: Record<string, string | object>, region = "us-east-1"): Promise<LoadedRepository> {
  return loadRepository(new WorkingTreeSource(writeTree(files)), loadOptions({ defaultRegion: region }));
}

export function cleanupTrees(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
