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
} from "./schema.ts";
import type { Problem } from "../core/problems.ts";
import type {
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
