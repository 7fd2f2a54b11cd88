/**
 * `_input.json`: the values substituted into an object's templates. It is plain JSON (not itself
 * a template). An optional `ref` pulls in values from other files of the repository:
 *   TERRAFORM  `terraform output -json`: each output becomes a variable holding its `.value`
 *   CDK        `cdk deploy --outputs-file`: each stack becomes a variable holding its outputs
 *   JSON       a plain object: its keys become variables
 * Precedence (our decision, Gitmoxi leaves it open): ref files in list order, later ones winning,
 * then the input file's own keys win over all of them.
 */
import path from "node:path";
import type { Problem } from "../core/problems.ts";
import { isJsonObject, JsonDocument, type JsonValue } from "./json-document.ts";
import { DEFAULT_INPUT_LIMITS, readRepoFile, type InputLimits } from "./limits.ts";
import type { RepoSource } from "./source.ts";

export const REF_TYPES = ["TERRAFORM", "CDK", "JSON"] as const;
export type RefType = (typeof REF_TYPES)[number];

export interface Inputs {
  values: Record<string, JsonValue>;
  /** Files the values came from, for messages. */
  files: string[];
  /** Values that must never be shown (Terraform outputs marked sensitive). */
  sensitive: string[];
  problems: Problem[];
}

interface RefFile {
  values?: Record<string, JsonValue>;
  sensitive: string[];
  problems: Problem[];
}

/** Parsed ref files, shared by every object of one source (one Terraform output often feeds hundreds). */
export class RefCache {
  private readonly cache = new Map<string, Promise<RefFile>>();
  get(source: RepoSource, file: string, type: RefType, from: string, limits: InputLimits): Promise<RefFile> {
    const key = `${type}:${file}`;
    let hit = this.cache.get(key);
    if (!hit) this.cache.set(key, (hit = loadRefFile(source, file, type, from, limits)));
    return hit;
  }
}

export async function loadInputs(source: RepoSource, inputFile: string | undefined, refs: RefCache, limits: InputLimits = DEFAULT_INPUT_LIMITS): Promise<Inputs> {
  const empty: Inputs = { values: {}, files: [], sensitive: [], problems: [] };
  if (!inputFile) return empty;
  const read = await readRepoFile(source, inputFile, limits);
  if (!read || "problem" in read) {
    return { ...empty, problems: [read?.problem ?? { code: "FLT-FILE-UNREADABLE", severity: "error", file: inputFile, message: "the file could not be read" }] };
  }
  const doc = new JsonDocument(inputFile, read.text, { maxDepth: limits.jsonDepth });
  const own = doc.object;
  if (!own) return { ...empty, files: [inputFile], problems: doc.problems };
  const problems = [...doc.problems];
  const values: Record<string, JsonValue> = {};
  const files: string[] = [];
  const sensitive: string[] = [];

  const ref = own["ref"];
  if (ref !== undefined) {
    const spec = parseRef(ref, doc, problems);
    for (const [i, file] of spec?.files.entries() ?? []) {
      const normalized = normalizeRepoPath(file);
      if (!normalized) {
        problems.push(doc.problemAt(["ref", "file", ...(spec!.fileIsList ? [i] : [])], { code: "FLT-INPUT-REF-INVALID", severity: "error", message: `ref file "${file}" must be a path inside the repository` }));
        continue;
      }
      const loaded = await refs.get(source, normalized, spec!.type, inputFile, limits);
      if (!loaded.values) {
        problems.push(
          ...loaded.problems.map((p) =>
            p.code === "FLT-INPUT-REF-FILE-MISSING" ? { ...p, file: inputFile, ...doc.locate(["ref", "file", ...(spec!.fileIsList ? [i] : [])]), path: `$.ref.file${spec!.fileIsList ? `[${i}]` : ""}` } : p,
          ),
        );
        continue;
      }
      problems.push(...loaded.problems);
      for (const [k, v] of Object.entries(loaded.values)) setValue(values, k, v);
      sensitive.push(...loaded.sensitive);
      files.push(normalized);
    }
  }
  for (const [k, v] of Object.entries(own)) if (k !== "ref") setValue(values, k, v);
  files.push(inputFile);
  return { values, files, sensitive, problems };
}

function parseRef(ref: JsonValue, doc: JsonDocument, problems: Problem[]): { files: string[]; type: RefType; fileIsList: boolean } | undefined {
  const bad = (p: (string | number)[], message: string) => {
    problems.push(doc.problemAt(["ref", ...p], { code: "FLT-INPUT-REF-INVALID", severity: "error", message }));
    return undefined;
  };
  if (!isJsonObject(ref)) return bad([], 'ref must be an object: {"file": ["path", ...], "type": "TERRAFORM" | "CDK" | "JSON"}');
  for (const key of Object.keys(ref)) {
    if (key !== "file" && key !== "type") {
      problems.push(doc.problemAt(["ref", key], { code: "FLT-CONFIG-UNKNOWN-KEY", severity: "error", message: `unknown key "${key}" in ref`, hint: 'ref has "file" and "type"' }, true));
    }
  }
  const file = ref["file"] ?? [];
  // A plain string is the legacy form; Gitmoxi's older docs used it with no type (plain JSON).
  const fileIsList = Array.isArray(file);
  const files = fileIsList ? file : [file];
  if (files.some((f) => typeof f !== "string" || f === "")) return bad(["file"], "ref.file must be a list of repository paths");
  const type = ref["type"] ?? "JSON";
  if (typeof type !== "string" || !(REF_TYPES as readonly string[]).includes(type)) {
    return bad(["type"], `ref.type must be one of ${REF_TYPES.join(", ")}, not ${JSON.stringify(type)}`);
  }
  return { files: files as string[], type: type as RefType, fileIsList };
}

/** Repository-relative, forward slashes, never escaping the root. */
function normalizeRepoPath(file: string): string | undefined {
  const n = path.posix.normalize(file.replace(/\\/g, "/").replace(/^\.\//, ""));
  if (n.startsWith("../") || n === ".." || path.posix.isAbsolute(n)) return undefined;
  return n;
}

/** An own data property: a variable named `__proto__` stays a variable instead of replacing the prototype. */
function setValue(values: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
}

async function loadRefFile(source: RepoSource, file: string, type: RefType, from: string, limits: InputLimits): Promise<RefFile> {
  const read = await readRepoFile(source, file, limits);
  if (read && "problem" in read) return { sensitive: [], problems: [read.problem] };
  if (read === undefined) {
    return {
      sensitive: [],
      problems: [{ code: "FLT-INPUT-REF-FILE-MISSING", severity: "error", file: from, message: `ref file "${file}" does not exist in the repository`, hint: "paths in ref.file are relative to the repository root" }],
    };
  }
  const doc = new JsonDocument(file, read.text, { maxDepth: limits.jsonDepth });
  const obj = doc.object;
  if (!obj) return { sensitive: [], problems: doc.problems };
  const problems: Problem[] = [...doc.problems];
  const values: Record<string, JsonValue> = {};
  const sensitive: string[] = [];
  if (type === "TERRAFORM") {
    for (const [name, output] of Object.entries(obj)) {
      if (!isJsonObject(output) || !("value" in output)) {
        problems.push(
          doc.problemAt([name], {
            code: "FLT-INPUT-REF-KEY-MISSING",
            severity: "error",
            message: `Terraform output "${name}" in ${file} has no "value"`,
            hint: "TERRAFORM refs take the file `terraform output -json` writes; use type JSON for a plain object",
          }),
        );
        continue;
      }
      setValue(values, name, output["value"]);
      if (output["sensitive"] === true) collectStrings(output["value"], sensitive);
    }
  } else if (type === "CDK") {
    for (const [stack, outputs] of Object.entries(obj)) {
      if (!isJsonObject(outputs)) {
        problems.push(doc.problemAt([stack], { code: "FLT-INPUT-REF-KEY-MISSING", severity: "error", message: `CDK stack "${stack}" in ${file} must map output names to values`, hint: "CDK refs take the file `cdk deploy --outputs-file` writes" }));
        continue;
      }
      setValue(values, stack, outputs);
    }
  } else {
    for (const [k, v] of Object.entries(obj)) setValue(values, k, v);
  }
  return { values, sensitive, problems };
}

function collectStrings(v: JsonValue, out: string[]): void {
  if (typeof v === "string") {
    if (v.length >= 4) out.push(v);
  } else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (isJsonObject(v)) Object.values(v).forEach((x) => collectStrings(x, out));
}
