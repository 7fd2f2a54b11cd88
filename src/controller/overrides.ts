/**
 * Break-glass overrides (DESIGN §2): given on the command line, through the API, or as a trailer in
 * the commit message — `Flotilla-Override: skip-alarms` (several comma-separated, or several lines).
 * Every override is recorded on the deployment with who or what set it.
 */
import { FlotillaError } from "../core/problems.ts";
import { OVERRIDES } from "../deploy/runner.ts";
import type { Override } from "../store/types.ts";

/** Lets a commit deploy while a sync window holds it (docs/controller.md, Sync windows); not a deployment behaviour. */
export const OUTSIDE_WINDOW = "outside-window";
/** Every override a commit trailer, the CLI or the API may name. */
export const OVERRIDE_NAMES: readonly string[] = [...OVERRIDES, OUTSIDE_WINDOW];

export function parseOverrideNames(names: readonly string[], setBy: string, source: string, at: number): Override[] {
  const out: Override[] = [];
  for (const raw of names.flatMap((n) => n.split(","))) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    if (!OVERRIDE_NAMES.includes(name)) {
      throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `unknown override "${raw.trim()}"`, hint: `overrides: ${OVERRIDE_NAMES.join(", ")}` });
    }
    if (!out.some((o) => o.name === name)) out.push({ name, setBy, source, at });
  }
  return out;
}

/** Overrides from `Flotilla-Override:` trailers of a commit message; unknown names are ignored (and reported by the caller). */
export function parseOverrideTrailers(message: string, sha: string, at: number): Override[] {
  const names: string[] = [];
  for (const line of message.split("\n")) {
    const m = /^\s*Flotilla-Override\s*:\s*(.+?)\s*$/i.exec(line);
    if (m) names.push(...m[1]!.split(",").map((s) => s.trim().toLowerCase()).filter((n) => OVERRIDE_NAMES.includes(n)));
  }
  return [...new Set(names)].map((name) => ({ name, setBy: `commit ${sha.slice(0, 7)}`, source: "trailer", at }));
}
