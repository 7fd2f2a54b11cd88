/**
 * Compares two canonical documents: a list of changes with JSONPaths, and a unified diff of their
 * pretty-printed JSON (live → desired, like `git diff`). Secrets are masked in both (src/core/mask.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { createTwoFilesPatch, diffArrays } from "diff";
import { canonicalize, formatPath, isRecord } from "./json.ts";
import { Masker } from "../core/mask.ts";
import type { Change, Diff, DiffOptions, JsonRecord } from "./types.ts";

type Segment = string | number;
interface RawChange {
  path: Segment[];
  kind: Change["kind"];
}

/** Pass documents that went through normalizeServiceDefinition/normalizeTaskDefinition; undefined is "does not exist". */
export function diffDefinitions(desired: JsonRecord | undefined, live: JsonRecord | undefined, options: DiffOptions = {}): Diff {
  const d = canonicalize(desired);
  const l = canonicalize(live);
  const raw: RawChange[] = [];
  compare(d, l, [], raw);
  if (!raw.length) return { changed: false, changes: [], text: "" };

  // Each side also hides the secrets found by name on the other (an old password quoted elsewhere).
  const masker = new Masker(options);
  const maskedLive = masker.document(l, d);
  const maskedDesired = masker.document(d, l, true);
  const changes = raw.map(({ path, kind }): Change => {
    const change: Change = { path: formatPath(path), kind };
    if (kind !== "removed") change.desired = valueAt(maskedDesired, path);
    if (kind !== "added") change.live = valueAt(maskedLive, path);
    return change;
  });
  const patch = createTwoFilesPatch(options.labels?.live ?? "live", options.labels?.desired ?? "desired", pretty(maskedLive), pretty(maskedDesired), undefined, undefined, { context: 3 });
  const text = patch.replace(/^=+\n/, ""); // jsdiff's separator line; `git diff` starts at ---
  return { changed: true, changes, text };
}

function pretty(doc: unknown): string {
  return doc === undefined ? "" : JSON.stringify(doc, null, 2) + "\n";
}

function compare(d: unknown, l: unknown, path: Segment[], out: RawChange[]): void {
  if (isDeepStrictEqual(d, l)) return;
  if (d === undefined) out.push({ path, kind: "removed" });
  else if (l === undefined) out.push({ path, kind: "added" });
  else if (isRecord(d) && isRecord(l)) {
    for (const key of [...new Set([...Object.keys(l), ...Object.keys(d)])].sort()) compare(d[key], l[key], [...path, key], out);
  } else if (Array.isArray(d) && Array.isArray(l)) compareArrays(d as unknown[], l as unknown[], path, out);
  else out.push({ path, kind: "changed" });
}

/**
 * Lines up equal items (longest common subsequence), then matches the rest of each removed run
 * with the added run after it: items with the same identity (`name`, `key`), or, for items
 * without one, the same position. A new image is then `$.containerDefinitions[0].image`, not a
 * whole container removed and added, while a renamed environment variable is one removed and one
 * added. Added and changed items carry desired indexes, removed ones live indexes.
 */
function compareArrays(d: unknown[], l: unknown[], path: Segment[], out: RawChange[]): void {
  const parts = diffArrays(l, d, { comparator: (a, b) => isDeepStrictEqual(a, b) });
  let li = 0;
  let di = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (!part.added && !part.removed) {
      li += part.count;
      di += part.count;
      continue;
    }
    const next = parts[p + 1];
    const removed = part.removed ? part.count : 0;
    const added = part.added ? part.count : next?.added ? next.count : 0;
    if (part.removed && next?.added) p++;
    const pairs = matchRuns(
      l.slice(li, li + removed),
      d.slice(di, di + added),
    );
    const pairedLive = new Set(pairs.map(([i]) => i));
    const pairedDesired = new Set(pairs.map(([, j]) => j));
    for (let i = 0; i < removed; i++) if (!pairedLive.has(i)) out.push({ path: [...path, li + i], kind: "removed" });
    for (const [i, j] of pairs) compare(d[di + j], l[li + i], [...path, di + j], out);
    for (let j = 0; j < added; j++) if (!pairedDesired.has(j)) out.push({ path: [...path, di + j], kind: "added" });
    li += removed;
    di += added;
  }
}

/** Pairs of (live index, desired index) within a removed run and the added run that replaces it. */
function matchRuns(live: unknown[], desired: unknown[]): [number, number][] {
  const pairs: [number, number][] = [];
  const used = new Set<number>();
  live.forEach((item, i) => {
    const id = identity(item);
    const j = desired.findIndex((other, k) => !used.has(k) && identity(other) === id && (id !== undefined || k === i));
    if (j >= 0) {
      used.add(j);
      pairs.push([i, j]);
    }
  });
  return pairs;
}

function identity(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  const id = item["name"] ?? item["key"];
  return typeof id === "string" ? id : undefined;
}

function valueAt(doc: unknown, path: readonly Segment[]): unknown {
  let v = doc;
  for (const s of path) {
    if (typeof s === "number") v = Array.isArray(v) ? (v as unknown[])[s] : undefined;
    else v = isRecord(v) ? v[s] : undefined;
  }
  return v;
}
