/**
 * The public JSON shape of a deployment and of a timeline event: what `--output json` prints and
 * what the HTTP API returns. Never includes `machineState` (opaque, large, and it may carry
 * rendered definitions) nor anything the store does not expose.
 */
import type { ActivityEvent, CommitRecord, Control, Deployment, DeploymentEvent, DeploymentSample, DriftRecord, PendingDelete, WaitingCommit } from "./types.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The deployment record (the CLI's `record()` fields, plus where it came from and its live state). */
export function deploymentRecord(d: Deployment) {
  return {
    id: d.id,
    object: d.object,
    repository: d.repository,
    branch: d.branch,
    commitSha: d.commitSha,
    strategy: d.strategy,
    region: d.region,
    cluster: d.cluster,
    service: d.service,
    phase: d.phase,
    reason: d.reason,
    message: d.message,
    trafficWeight: d.trafficWeight,
    failedTasks: d.counts.failed,
    counts: d.counts,
    oldTaskDefinitionArn: d.oldTaskDefinitionArn,
    newTaskDefinitionArn: d.newTaskDefinitionArn,
    overrides: d.overrides.map((o) => ({ name: o.name, setBy: o.setBy, source: o.source, at: iso(o.at) })),
    paused: pausedOf(d),
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
    finishedAt: iso(d.finishedAt),
    version: d.version,
    /** The process that drives (or last drove) it, its fencing token and when its lease ends. */
    owner: d.owner ? { id: d.owner.id, token: d.owner.token, leaseExpiresAt: iso(d.owner.expiresAt)! } : null,
  };
}
export type DeploymentRecord = ReturnType<typeof deploymentRecord>;

/** Who paused a running deployment and why (an operator, or Flotilla after a manual weight change); null when it runs on. */
function pausedOf(d: Deployment): { by: string; reason: string } | null {
  if (d.finishedAt !== null) return null;
  const paused = (d.machineState as { paused?: { by?: unknown; reason?: unknown } } | null)?.paused;
  return paused && typeof paused.by === "string" ? { by: paused.by, reason: typeof paused.reason === "string" ? paused.reason : "paused" } : null;
}

export function eventRecord(e: DeploymentEvent) {
  return { deploymentId: e.deploymentId, seq: e.seq, at: iso(e.at)!, type: e.type, message: e.message, data: e.data ?? null };
}
export type EventRecord = ReturnType<typeof eventRecord>;

export function controlRecord(c: Control) {
  return { id: c.id, action: c.action, requestedBy: c.requestedBy, requestedAt: iso(c.requestedAt)!, consumedAt: iso(c.consumedAt) };
}

/** A sample of a running deployment, for the dashboard's chart (traffic weights, task counts, alarm states). */
export function sampleRecord(s: DeploymentSample) {
  return { seq: s.seq, at: iso(s.at)!, weights: s.data.weights, sets: s.data.sets, alarms: s.data.alarms };
}
export type SampleRecord = ReturnType<typeof sampleRecord>;

/** How a processed commit went, as the API and `--output json` show it. */
export function commitRecordJson(r: CommitRecord) {
  return {
    repository: r.repository,
    branch: r.branch,
    sha: r.sha,
    trigger: r.trigger,
    processedAt: iso(r.processedAt)!,
    status: r.status,
    errors: r.errors,
    warnings: r.warnings,
    objects: r.objects,
    problems: r.problems,
  };
}
export type CommitRecordJson = ReturnType<typeof commitRecordJson>;

/** The one-line result a commit listing shows. */
export function commitResult(r: CommitRecord) {
  return { status: r.status, errors: r.errors, warnings: r.warnings, processedAt: iso(r.processedAt)! };
}
export type CommitResult = ReturnType<typeof commitResult>;

/** A held delete without what the delete needs (`spec` holds the rendered definitions: never answered). */
export function pendingDeleteRecord(p: PendingDelete) {
  return {
    repository: p.repository,
    object: p.object,
    branch: p.branch,
    commitSha: p.commitSha,
    region: p.region,
    cluster: p.cluster,
    service: p.service,
    reason: p.reason,
    code: p.code,
    message: p.message,
    heldAt: iso(p.heldAt)!,
    updatedAt: iso(p.updatedAt)!,
  };
}
export type PendingDeleteRecord = ReturnType<typeof pendingDeleteRecord>;

/** A commit a sync window holds, as the API and the CLI show it. */
export function waitingCommitRecord(w: WaitingCommit) {
  return {
    repository: w.repository,
    branch: w.branch,
    sha: w.sha,
    windows: w.windows,
    objects: w.objects,
    message: w.message,
    since: iso(w.since)!,
    until: iso(w.until),
    checkedAt: iso(w.checkedAt)!,
    releasedBy: w.releasedBy,
    releasedAt: iso(w.releasedAt),
  };
}

export type WaitingCommitRecord = ReturnType<typeof waitingCommitRecord>;

export function activityRecord(e: ActivityEvent) {
  return { seq: e.seq, at: iso(e.at)!, type: e.type, repository: e.repository, object: e.object, sha: e.sha, message: e.message, data: e.data };
}

export type ActivityRecord = ReturnType<typeof activityRecord>;

export function driftRecord(d: DriftRecord) {
  return {
    repository: d.repository,
    object: d.object,
    sha: d.sha,
    region: d.region,
    cluster: d.cluster,
    service: d.service,
    status: d.status,
    reasons: d.detail.reasons,
    /** Unified diffs, live (`---`) to Git (`+++`), normalised and masked as `flotilla plan` prints them. */
    diff: { service: d.detail.service, taskDefinition: d.detail.taskDefinition },
    ...(d.detail.message ? { message: d.detail.message } : {}),
    detectedAt: iso(d.detectedAt),
    checkedAt: iso(d.checkedAt)!,
    healDeploymentId: d.healDeploymentId,
    healedAt: iso(d.healedAt),
  };
}

export type DriftRecordJson = ReturnType<typeof driftRecord>;
