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

/** Replace sensitive values (e.g. Terraform outputs marked sensitive) wherever they appear. */
export function mask<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const sorted = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return sorted.reduce((s, secret) => s.split(secret).join("****"), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
