/** Human-readable output shared by the verbs: problems as a checklist, with colour only on a TTY. */
import type { Problem } from "../core/problems.ts";
import { paint, type CliIO } from "./io.ts";

export function location(p: Problem): string {
  if (!p.file) return "";
  return `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ""}` : ""}`;
}

export function formatProblem(io: CliIO, p: Problem, indent = ""): string {
  const sev = p.severity === "error" ? paint(io, ["red", "bold"], "error") : paint(io, "yellow", "warning");
  const where = [location(p), p.path].filter(Boolean).join(" ");
  let line = `${indent}${sev} ${paint(io, "dim", p.code)}${where ? ` ${where}` : ""}\n${indent}  ${p.message}`;
  if (p.hint) line += `\n${indent}  ${paint(io, "cyan", "hint:")} ${p.hint}`;
  return line;
}

export function mark(io: CliIO, ok: boolean, warn = false): string {
  return ok ? (warn ? paint(io, "yellow", "[OK]") : paint(io, "green", "[OK]")) : paint(io, "red", "[NG]");
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + "\n");
}

