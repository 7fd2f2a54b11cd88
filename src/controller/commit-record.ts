/**
 * What a processed commit leaves behind: per object what the controller did, and every problem its
 * objects have (code, object, file, line, JSON path, severity), masked with each object's own
 * sensitive values and the server's secret names before anything is stored — a problem message can
 * quote a value (`"..." is not a valid launchType`). A commit with an invalid object, or one the
 * pre-check blocked (what it needs is missing in AWS: `found`), is `invalid`; its other objects
 * still deploy.
 */
import type { ObjectChange } from "../config/changes.ts";
import { Masker } from "../core/mask.ts";
import type { Problem } from "../core/problems.ts";
import type { CommitObjectAction, CommitObjectOutcome, NewCommitRecord } from "../store/types.ts";
import type { CommitPlan } from "./process-commit.ts";

/** The outcome of one object, from its change (the controller fills in what it decided and ran). */
export function outcomeOf(c: ObjectChange, action: CommitObjectAction, description = c.description, deploymentId: string | null = null): CommitObjectOutcome {
  return { object: c.object, action, reason: c.reason, description, deploymentId };
}

/** A commit's record: outcomes for the objects the controller decided on, `none` for the rest. */
export function buildCommitRecord(plan: CommitPlan, outcomes: ReadonlyMap<string, CommitObjectOutcome>, options: { trigger: string; secretNames?: readonly string[]; found?: ReadonlyMap<string, readonly Problem[]> }): NewCommitRecord {
  const problems: Problem[] = [];
  const objects: CommitObjectOutcome[] = [];
  for (const c of plan.changes) {
    const masker = maskerFor(c, options.secretNames);
    for (const p of [...c.problems, ...(options.found?.get(c.object) ?? [])]) problems.push(masker.value({ ...p, object: p.object ?? c.object }));
    const outcome = outcomes.get(c.object) ?? outcomeOf(c, c.action === "deploy" ? "deploy" : c.action === "delete" ? "delete" : "none");
    objects.push({ ...outcome, description: masker.text(outcome.description) });
  }
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity !== "error");
  return {
    repository: plan.repository,
    branch: plan.branch,
    sha: plan.commit.sha,
    trigger: options.trigger,
    status: errors.length > 0 ? "invalid" : "ok",
    errors: errors.length,
    warnings: warnings.length,
    objects,
    // Errors first: when a record keeps only some, it keeps the ones that stopped something.
    problems: [...errors, ...warnings],
  };
}

/** The masker for what an object's change shows: its own sensitive values and the server's secret names. */
export function maskerFor(c: ObjectChange, secretNames: readonly string[] = []): Masker {
  return new Masker({ secretNames }).with(c.loaded?.sensitive ?? []);
}

/** `FLT-JSON-SYNTAX apps/api/api_svcdef.json:6:1 $: message` — a problem on one line, for logs (mask it first). */
export function problemLine(p: Problem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ""}` : ""}` : "";
  return [p.code, where, p.path].filter(Boolean).join(" ") + `: ${p.message}`;
}
