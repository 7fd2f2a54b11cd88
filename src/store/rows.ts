/** Conversions between table rows and the records the rest of Flotilla sees. */
import type { Selectable } from "kysely";
import type {
  ApiTokensTable,
  CommitRecordsTable,
  ControlsTable,
  DeploymentEventsTable,
  DeploymentsTable,
  LeasesTable,
  PendingDeletesTable,
  RepositoriesTable,
  WaitingCommitsTable,
  ActivityTable,
  DriftTable,
} from "./schema.ts";
import type { Problem } from "../core/problems.ts";
import type {
  ActivityEvent,
  DriftRecord,
  DriftStatus,
  HoldingWindow,
  WaitingCommit,
  ApiToken,
  CommitObjectOutcome,
  CommitRecord,
  Control,
  ControlAction,
  LegacyCredentialsRef,
  Deployment,
  DeploymentEvent,
  Lease,
  Override,
  PendingDelete,
  PendingDeleteReason,
  Phase,
  Repository,
  Strategy,
  TokenRole,
} from "./types.ts";
import { decodeMachineState } from "./machine-state.ts";

export function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function fromJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

export function toDeployment(r: Selectable<DeploymentsTable>): Deployment {
  return {
    id: r.id,
    object: r.object,
    repository: r.repository,
    branch: r.branch,
    commitSha: r.commit_sha,
    strategy: r.strategy as Strategy,
    region: r.region,
    cluster: r.cluster,
    service: r.service,
    phase: r.phase as Phase,
    reason: r.reason,
    message: r.message,
    trafficWeight: r.traffic_weight,
    oldTaskDefinitionArn: r.old_task_definition_arn,
    newTaskDefinitionArn: r.new_task_definition_arn,
    counts: { desired: r.desired_count, running: r.running_count, pending: r.pending_count, failed: r.failed_count },
    overrides: fromJson(r.overrides) as Override[],
    machineState: decodeMachineState(r.machine_state, r.machine_base),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    version: r.version,
    owner: r.owner === null ? null : { id: r.owner, token: r.owner_token, expiresAt: r.owner_expires_at ?? 0 },
  };
}

export function toEvent(r: Selectable<DeploymentEventsTable>): DeploymentEvent {
  return { deploymentId: r.deployment_id, seq: r.seq, at: r.at, type: r.type, message: r.message, data: fromJson(r.data) };
}

export function toControl(r: Selectable<ControlsTable>): Control {
  return {
    id: r.id,
    deploymentId: r.deployment_id,
    action: r.action as ControlAction,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    consumedAt: r.consumed_at,
  };
}

export function toRepository(r: Selectable<RepositoriesTable>): Repository {
  return {
    name: r.name,
    url: r.url,
    branch: r.branch,
    path: r.path,
    pollIntervalSeconds: r.poll_interval_seconds,
    credentials: fromJson(r.credentials) as string | LegacyCredentialsRef | null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toApiToken(r: Pick<Selectable<ApiTokensTable>, "name" | "role" | "created_at" | "last_used_at">): ApiToken {
  return { name: r.name, role: r.role as TokenRole, createdAt: r.created_at, lastUsedAt: r.last_used_at };
}

export function toLease(r: Selectable<LeasesTable>): Lease {
  return { key: r.key, holder: r.holder, acquiredAt: r.acquired_at, expiresAt: r.expires_at, epoch: r.epoch };
}

export function toCommitRecord(r: Selectable<CommitRecordsTable>): CommitRecord {
  return {
    seq: r.seq,
    repository: r.repository,
    branch: r.branch,
    sha: r.sha,
    trigger: r.trigger,
    processedAt: r.processed_at,
    status: r.status === "invalid" ? "invalid" : "ok",
    errors: r.errors,
    warnings: r.warnings,
    objects: fromJson(r.objects) as CommitObjectOutcome[],
    problems: fromJson(r.problems) as Problem[],
  };
}

export function toPendingDelete(r: Selectable<PendingDeletesTable>): PendingDelete {
  return {
    repository: r.repository,
    object: r.object,
    branch: r.branch,
    commitSha: r.commit_sha,
    region: r.region,
    cluster: r.cluster,
    service: r.service,
    reason: r.reason as PendingDeleteReason,
    code: r.code,
    message: r.message,
    spec: fromJson(r.spec),
    heldAt: r.held_at,
    updatedAt: r.updated_at,
  };
}

export function toWaitingCommit(r: Selectable<WaitingCommitsTable>): WaitingCommit {
  return {
    repository: r.repository,
    branch: r.branch,
    sha: r.sha,
    windows: fromJson(r.windows) as HoldingWindow[],
    objects: fromJson(r.objects) as string[],
    message: r.message,
    since: Number(r.since),
    until: r.until === null ? null : Number(r.until),
    checkedAt: Number(r.checked_at),
    releasedBy: r.released_by,
    releasedAt: r.released_at === null ? null : Number(r.released_at),
  };
}

export function toActivity(r: Selectable<ActivityTable>): ActivityEvent {
  return { seq: Number(r.seq), at: Number(r.at), type: r.type, repository: r.repository, object: r.object, sha: r.sha, message: r.message, data: r.data === null ? null : (fromJson(r.data) as Record<string, unknown>) };
}

export function toDrift(r: Selectable<DriftTable>): DriftRecord {
  return {
    repository: r.repository,
    object: r.object,
    sha: r.sha,
    region: r.region,
    cluster: r.cluster,
    service: r.service,
    status: r.status as DriftStatus,
    detail: fromJson(r.detail) as DriftRecord["detail"],
    detectedAt: r.detected_at === null ? null : Number(r.detected_at),
    checkedAt: Number(r.checked_at),
    healDeploymentId: r.heal_deployment_id,
    healedAt: r.healed_at === null ? null : Number(r.healed_at),
  };
}
