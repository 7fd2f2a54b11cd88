/**
 * Problems are how Flotilla talks to a user about their input: every one has a stable code,
 * a severity, the file and JSON path it concerns and, when the source has one, a line and column.
 */
import type { ProblemCode } from "./codes.ts";

export type { ProblemCode };

export type Severity = "error" | "warning";

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  message: string;
  /** Repository-relative path of the file concerned. */
  file?: string;
  /** JSONPath-style location inside the file, e.g. `$.containerDefinitions[0].image`. */
  path?: string;
  line?: number;
  column?: number;
  /** A concrete next step, e.g. a did-you-mean. */
  hint?: string;
  /** The deployment object the problem belongs to, when there is one. */
  object?: string;
}

/** A user-facing failure: thrown where a single problem stops an operation. */
export class FlotillaError extends Error {
  readonly problem: Problem;
  constructor(problem: Omit<Problem, "severity"> & { severity?: Severity }) {
    super(problem.message);
    this.name = "FlotillaError";
    this.problem = { severity: "error", ...problem };
  }
  get code(): ProblemCode {
    return this.problem.code;
  }
}

export function isFlotillaError(e: unknown): e is FlotillaError {
  return e instanceof FlotillaError;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/** Render a path array as `$.a.b[0]["odd key"]`. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = "$";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Stable ordering for output: by file, then line, then path. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort(
    (a, b) =>
      (a.object ?? "").localeCompare(b.object ?? "") ||
      (a.file ?? "").localeCompare(b.file ?? "") ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.path ?? "").localeCompare(b.path ?? ""),
  );
}
