/**
 * `_input.json`: the values substituted into an object's templates. It is plain JSON (not itself
 * a template). An optional `ref` (one, or a list) pulls in values from other files of the repository:
 *   TERRAFORM  `terraform output -json`: each output becomes a variable holding its `.value`
 *   CDK        `cdk deploy --outputs-file`: each stack becomes a variable holding its outputs
 *   JSON       a plain object: its keys become variables
 * or, with `"type": "ENV", "keys": [...]`, from the environment of the process that renders: each
 * key a variable holding its value — only keys the operator allows (never the repository's choice),
 * and no other variable of the environment is ever read.
 * Precedence (our decision, Gitmoxi leaves it open): refs in list order (and their files in list
 * order), later ones winning, then the input file's own keys win over all of them.
 */
import path from "node:path";
import { looksSecret } from "../core/mask.ts";
import { FlotillaError } from "../core/problems.ts";
import type { Problem } from "../core/problems.ts";
import { isJsonObject, JsonDocument, type JsonValue } from "./json-document.ts";
import { DEFAULT_INPUT_LIMITS, readRepoFile, type InputLimits } from "./limits.ts";
import type { RepoSource } from "./source.ts";

export const REF_TYPES = ["TERRAFORM", "CDK", "JSON"] as const;
export type RefType = (typeof REF_TYPES)[number];
/** A ref of environment variables: `{"type": "ENV", "keys": ["API_URL"]}`. */
export const ENV_REF = "ENV";
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * The environment variables templates may read (ENV refs), as the operator allows them: the server
 * configuration's `inputs.allowedEnv`, or `--allow-env` / FLOTILLA_ALLOW_ENV for the CLI.
 */
export interface InputEnvironment {
  allowed(name: string): boolean;
  value(name: string): string | undefined;
  /** Where the operator allows a variable, for the hint of a refused one. */
  howToAllow: string;
}

/**
 * An allow-list over an environment: names as given, or a prefix ending in `*` (`APP_*`). Nothing
 * else of `env` is read.
 */
export function allowedEnvironment(patterns: readonly string[], env: Readonly<Record<string, string | undefined>>, howToAllow: string): InputEnvironment {
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")));
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  const allowed = (name: string) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
  return { allowed, value: (name) => (allowed(name) && Object.hasOwn(env, name) ? env[name] : undefined), howToAllow };
}

const ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/**
 * The variables the operator lets templates read: the server configuration's `inputs.allowedEnv`,
 * `--allow-env`, and FLOTILLA_ALLOW_ENV (comma- or space-separated). A pattern that is not a
 * variable name (or a prefix with `*`) is refused: `*` alone would hand the whole environment to a
 * repository.
 */
export function operatorEnvironment(env: Readonly<Record<string, string | undefined>>, patterns: readonly string[]): InputEnvironment {
  const all = [...patterns, ...(env["FLOTILLA_ALLOW_ENV"] ?? "").split(/[,\s]+/).filter(Boolean)];
  for (const p of all) {
    if (!ENV_PATTERN.test(p) || p === "*") throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `"${p}" is not an environment variable name or a prefix ending in * (such as APP_*)`, hint: "--allow-env, FLOTILLA_ALLOW_ENV and inputs.allowedEnv take names like API_URL or prefixes like APP_*" });
  }
  return allowedEnvironment(all, env, "allow it with --allow-env NAME (or FLOTILLA_ALLOW_ENV) on the command line, or inputs.allowedEnv in the server configuration");
}

/** Nothing allowed: what loading without an operator's allow-list sees. */
export const NO_ENVIRONMENT: InputEnvironment = { allowed: () => false, value: () => undefined, howToAllow: "the operator allows variables with --allow-env NAME (or FLOTILLA_ALLOW_ENV), or inputs.allowedEnv in the server configuration" };

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

export async function loadInputs(source: RepoSource, inputFile: string | undefined, refs: RefCache, limits: InputLimits = DEFAULT_INPUT_LIMITS, environment: InputEnvironment = NO_ENVIRONMENT): Promise<Inputs> {
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
  // One ref (Gitmoxi's form) or a list of them.
  const refList = Array.isArray(ref) ? ref.map((r, i) => [r, ["ref", i]] as const) : ref !== undefined ? [[ref, ["ref"]] as const] : [];
  for (const [one, at] of refList) {
    if (isJsonObject(one) && one["type"] === ENV_REF) {
      readEnvironment(one, [...at], doc, environment, values, sensitive, problems);
      continue;
    }
    const spec = parseRef(one, [...at], doc, problems);
    for (const [i, file] of spec?.files.entries() ?? []) {
      const filePath = [...at, "file", ...(spec!.fileIsList ? [i] : [])];
      const normalized = normalizeRepoPath(file);
      if (!normalized) {
        problems.push(doc.problemAt(filePath, { code: "FLT-INPUT-REF-INVALID", severity: "error", message: `ref file "${file}" must be a path inside the repository` }));
        continue;
      }
      const loaded = await refs.get(source, normalized, spec!.type, inputFile, limits);
      if (!loaded.values) {
        problems.push(...loaded.problems.map((p) => (p.code === "FLT-INPUT-REF-FILE-MISSING" ? doc.problemAt(filePath, { code: p.code, severity: p.severity, message: p.message, ...(p.hint ? { hint: p.hint } : {}) }) : p)));
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

/**
 * An ENV ref: each key, when the operator allows it and it is set, becomes a variable holding its
 * value; a value whose name looks secret is masked in every output. A key not allowed, or allowed
 * and unset, is an error naming it.
 */
function readEnvironment(ref: Record<string, JsonValue>, at: (string | number)[], doc: JsonDocument, env: InputEnvironment, values: Record<string, JsonValue>, sensitive: string[], problems: Problem[]): void {
  for (const key of Object.keys(ref)) {
    if (key !== "type" && key !== "keys") problems.push(doc.problemAt([...at, key], { code: "FLT-CONFIG-UNKNOWN-KEY", severity: "error", message: `unknown key "${key}" in an ENV ref`, hint: 'an ENV ref has "type": "ENV" and "keys": ["NAME", ...]' }, true));
  }
  const keys = ref["keys"];
  if (!Array.isArray(keys) || keys.length === 0) {
    problems.push(doc.problemAt([...at, ...(keys === undefined ? [] : ["keys"])], { code: "FLT-INPUT-REF-INVALID", severity: "error", message: 'an ENV ref needs "keys": a list of environment variable names' }));
    return;
  }
  keys.forEach((key, i) => {
    const where = [...at, "keys", i];
    if (typeof key !== "string" || !ENV_KEY.test(key)) {
      problems.push(doc.problemAt(where, { code: "FLT-INPUT-REF-INVALID", severity: "error", message: `${JSON.stringify(key)} is not an environment variable name (letters, digits and _, not starting with a digit)` }));
      return;
    }
    if (!env.allowed(key)) {
      problems.push(doc.problemAt(where, { code: "FLT-INPUT-ENV-NOT-ALLOWED", severity: "error", message: `environment variable ${key} is not one the operator allows inputs to read`, hint: env.howToAllow }));
      return;
    }
    const value = env.value(key);
    if (value === undefined) {
      problems.push(doc.problemAt(where, { code: "FLT-INPUT-ENV-MISSING", severity: "error", message: `environment variable ${key} is allowed but not set where Flotilla runs`, hint: `set ${key} in the environment of flotilla serve (or of the CLI command)` }));
      return;
    }
    setValue(values, key, value);
    if (looksSecret(key) && value.length > 0) sensitive.push(value);
  });
}

function parseRef(ref: JsonValue, at: (string | number)[], doc: JsonDocument, problems: Problem[]): { files: string[]; type: RefType; fileIsList: boolean } | undefined {
  const bad = (p: (string | number)[], message: string) => {
    problems.push(doc.problemAt([...at, ...p], { code: "FLT-INPUT-REF-INVALID", severity: "error", message }));
    return undefined;
  };
  if (!isJsonObject(ref)) return bad([], 'ref must be an object: {"file": ["path", ...], "type": "TERRAFORM" | "CDK" | "JSON"} or {"type": "ENV", "keys": [...]}, or a list of them');
  for (const key of Object.keys(ref)) {
    if (key !== "file" && key !== "type") {
      problems.push(doc.problemAt([...at, key], { code: "FLT-CONFIG-UNKNOWN-KEY", severity: "error", message: `unknown key "${key}" in ref`, hint: 'ref has "file" and "type" ("keys" only with "type": "ENV")' }, true));
    }
  }
  const file = ref["file"] ?? [];
  // A plain string is the legacy form; Gitmoxi's older docs used it with no type (plain JSON).
  const fileIsList = Array.isArray(file);
  const files = fileIsList ? file : [file];
  if (files.some((f) => typeof f !== "string" || f === "")) return bad(["file"], "ref.file must be a list of repository paths");
  const type = ref["type"] ?? "JSON";
  if (typeof type !== "string" || !(REF_TYPES as readonly string[]).includes(type)) {
    return bad(["type"], `ref.type must be one of ${[...REF_TYPES, ENV_REF].join(", ")}, not ${JSON.stringify(type)}`);
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
