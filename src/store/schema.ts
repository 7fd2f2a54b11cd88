/** Table shapes as Kysely sees them (snake_case columns; JSON columns hold text). */
import type { Generated } from "kysely";

export interface DeploymentsTable {
  id: string;
  object: string;
  repository: string | null;
  branch: string | null;
  commit_sha: string | null;
  strategy: string;
  region: string;
  cluster: string;
  service: string;
  phase: string;
  /** 1 while non-terminal; a partial unique index on it allows one active deployment per service. */
  active: number;
  reason: string | null;
  message: string | null;
  traffic_weight: number | null;
  old_task_definition_arn: string | null;
  new_task_definition_arn: string | null;
  desired_count: number;
  running_count: number;
  pending_count: number;
  failed_count: number;
  overrides: string;
  /** The engine's state: its small members, JSON (machine-state.ts). */
  machine_state: string | null;
  /** Its large members (the spec), JSON, rewritten only when they change; null when there are none. */
  machine_base: string | null;
  machine_base_hash: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  version: number;
  /** Seq of the newest event: the next event gets this + 1 (under the row's write lock). */
  last_event_seq: number;
  /** The process that owns (drives) the deployment; null when none ever did. */
  owner: string | null;
  /** Fencing token: grows on every acquisition of the ownership; every state write carries it. */
  owner_token: number;
  /** The owner's lease ends here (epoch ms) unless renewed; expired ownership may be adopted. */
  owner_expires_at: number | null;
}

export interface DeploymentEventsTable {
  deployment_id: string;
  seq: number;
  at: number;
  type: string;
  message: string;
  data: string | null;
}

export interface ControlsTable {
  id: Generated<number>;
  deployment_id: string;
  action: string;
  requested_by: string;
  requested_at: number;
  consumed_at: number | null;
}

export interface LastCommitsTable {
  repository: string;
  branch: string;
  sha: string;
  processed_at: number;
}

export interface RepositoriesTable {
  name: string;
  url: string;
  branch: string;
  path: string | null;
  poll_interval_seconds: number;
  credentials: string | null;
  created_at: number;
  updated_at: number;
}

export interface ApiTokensTable {
  name: string;
  role: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface LeasesTable {
  key: string;
  holder: string;
  acquired_at: number;
  expires_at: number;
  epoch: number;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's secret. */
  id_hash: string;
  token_name: string;
  /** The token's hash when the session began: a rotated or revoked token no longer matches. */
  token_hash: string;
  created_at: number;
  expires_at: number;
}

export interface DeploymentSamplesTable {
  seq: Generated<number>;
  deployment_id: string;
  at: number;
  data: string;
}

export interface CommitRecordsTable {
  seq: Generated<number>;
  repository: string;
  branch: string;
  sha: string;
  trigger: string;
  processed_at: number;
  status: string;
  errors: number;
  warnings: number;
  /** JSON list of CommitObjectOutcome. */
  objects: string;
  /** JSON list of Problem (masked). */
  problems: string;
}

export interface PendingDeletesTable {
  repository: string;
  object: string;
  branch: string;
  commit_sha: string;
  region: string;
  cluster: string;
  service: string;
  reason: string;
  code: string | null;
  message: string;
  /** JSON: what the delete needs. */
  spec: string;
  held_at: number;
  updated_at: number;
}

export interface Database {
  deployments: DeploymentsTable;
  deployment_events: DeploymentEventsTable;
  controls: ControlsTable;
  last_commits: LastCommitsTable;
  repositories: RepositoriesTable;
  api_tokens: ApiTokensTable;
  leases: LeasesTable;
  sessions: SessionsTable;
  deployment_samples: DeploymentSamplesTable;
  commit_records: CommitRecordsTable;
  pending_deletes: PendingDeletesTable;
  waiting_commits: WaitingCommitsTable;
  activity: ActivityTable;
  drift: DriftTable;
}

export interface WaitingCommitsTable {
  repository: string;
  branch: string;
  sha: string;
  /** JSON list of HoldingWindow. */
  windows: string;
  /** JSON list of object names. */
  objects: string;
  message: string;
  since: number;
  until: number | null;
  checked_at: number;
  released_by: string | null;
  released_at: number | null;
}

export interface ActivityTable {
  seq: Generated<number>;
  at: number;
  type: string;
  repository: string | null;
  object: string | null;
  sha: string | null;
  message: string;
  /** JSON object or null. */
  data: string | null;
}

export interface DriftTable {
  repository: string;
  object: string;
  sha: string;
  region: string;
  cluster: string;
  service: string;
  status: string;
  /** JSON: reasons and diffs (masked). */
  detail: string;
  detected_at: number | null;
  checked_at: number;
  heal_deployment_id: string | null;
  healed_at: number | null;
}
