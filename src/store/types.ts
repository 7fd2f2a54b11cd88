/**
 * The records Flotilla keeps durably: deployments with their timeline, operator controls,
 * repositories, processed commits, API tokens and leases. Timestamps are epoch milliseconds
 * from the injected clock.
 */
import type { Problem } from "../core/problems.ts";

/**
 * How a deployment is driven: rolling update, Flotilla's task-set blue/green, ECS-managed
 * blue/green/linear/canary, or a delete; `rainbow`, `cutover`, `cleanup`: a rainbow object's deploy
 * of a version, switch of the live route, and removal of versions (deploy/rainbow/).
 */
export type Strategy = "rolling" | "bluegreen" | "ecs-managed" | "delete" | "rainbow" | "cutover" | "cleanup";

export const PHASES = [
  "Pending",
  "Registering",
  "Deploying",
  "Stabilizing",
  "Shifting",
  "Baking",
  "RollingBack",
  "Succeeded",
  "Failed",
  "RolledBack",
  "Aborted",
] as const;
export type Phase = (typeof PHASES)[number];

export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set<Phase>(["Succeeded", "Failed", "RolledBack", "Aborted"]);

/** A deployment in a terminal phase never changes again (only late events may be appended). */
export function isTerminal(phase: Phase): boolean {
  return TERMINAL_PHASES.has(phase);
}

export function isPhase(value: string): value is Phase {
  return (PHASES as readonly string[]).includes(value);
}

export interface TaskCounts {
  desired: number;
  running: number;
  pending: number;
  failed: number;
}

/** A break-glass override (e.g. `skip-alarms`, `all-at-once`) and who or what set it. */
export interface Override {
  name: string;
  /** Token name, user, or `commit <sha>` for a commit-message trailer. */
  setBy: string;
  /** How it arrived: `cli`, `api`, `trailer`, ... */
  source: string;
  at: number;
}

export interface Deployment {
  /** Time-ordered (ULID): sorting ids sorts by creation time. */
  id: string;
  /** The deployment object, a path prefix such as `dev/web/web`. */
  object: string;
  /** Registered repository name; null for a CLI apply of a directory. */
  repository: string | null;
  branch: string | null;
  commitSha: string | null;
  strategy: Strategy;
  region: string;
  cluster: string;
  service: string;
  phase: Phase;
  /** A named reason, e.g. `CircuitBreakerTripped`; null while nothing needs explaining. */
  reason: string | null;
  message: string | null;
  /** Percent of traffic on green during a blue/green shift; null otherwise. */
  trafficWeight: number | null;
  oldTaskDefinitionArn: string | null;
  newTaskDefinitionArn: string | null;
  counts: TaskCounts;
  overrides: Override[];
  /** The state machine's serialized state, opaque to the store; what the engine resumes from. */
  machineState: unknown;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Optimistic concurrency: bumped by every update. */
  version: number;
  /**
   * The process that drives it, with its fencing token and lease expiry (docs/store.md, "Several
   * replicas"); null when no process ever owned it. A finished deployment keeps its last owner.
   */
  owner: DeploymentOwner | null;
}

/** Who drives a deployment: one process at a time, while its lease lasts. */
export interface DeploymentOwner {
  /** The owning process (a replica name plus a per-process suffix, so a restart is a new owner). */
  id: string;
  /** Grows on every acquisition; a write carrying an older token is refused (FLT-STORE-FENCED). */
  token: number;
  /** Epoch ms; past it, another process may adopt the deployment. */
  expiresAt: number;
}

/** What a state write carries to prove it comes from the current owner. */
export interface Fence {
  owner: string;
  token: number;
}

export interface NewDeployment {
  /** Normally generated; given only by importers and tests. */
  id?: string;
  object: string;
  repository?: string | null;
  branch?: string | null;
  commitSha?: string | null;
  strategy: Strategy;
  region: string;
  cluster: string;
  service: string;
  phase?: Phase;
  reason?: string | null;
  message?: string | null;
  trafficWeight?: number | null;
  oldTaskDefinitionArn?: string | null;
  newTaskDefinitionArn?: string | null;
  counts?: Partial<TaskCounts>;
  overrides?: Override[];
  machineState?: unknown;
  /** The creating process owns it from the start (token 1), for `ttlMs`. */
  owner?: { id: string; ttlMs: number };
}

/** What an update may change; everything else is fixed at creation. */
export interface DeploymentPatch {
  phase?: Phase;
  reason?: string | null;
  message?: string | null;
  trafficWeight?: number | null;
  oldTaskDefinitionArn?: string | null;
  newTaskDefinitionArn?: string | null;
  counts?: Partial<TaskCounts>;
  overrides?: Override[];
  machineState?: unknown;
}

export interface DeploymentEvent {
  deploymentId: string;
  /** 1, 2, 3, ... within a deployment: the order of the timeline and the cursor for streaming. */
  seq: number;
  at: number;
  type: string;
  message: string;
  data: unknown;
}

export interface NewEvent {
  type: string;
  message: string;
  data?: unknown;
}

export interface DeploymentFilter {
  repository?: string;
  commitSha?: string;
  region?: string;
  cluster?: string;
  service?: string;
  object?: string;
  phase?: Phase | readonly Phase[];
  /** true: non-terminal only; false: terminal only. */
  active?: boolean;
  /** Page size, default 50, at most 500. */
  limit?: number;
  /** Cursor: return deployments older than this id (the previous page's `nextCursor`). */
  before?: string;
}

export interface DeploymentPage {
  items: Deployment[];
  /** Pass as `before` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

export type ControlAction = "promote" | "abort" | "pause" | "resume";
export const CONTROL_ACTIONS: readonly ControlAction[] = ["promote", "abort", "pause", "resume"];

export interface Control {
  id: number;
  deploymentId: string;
  action: ControlAction;
  requestedBy: string;
  requestedAt: number;
  consumedAt: number | null;
}

export interface LastCommit {
  repository: string;
  branch: string;
  sha: string;
  processedAt: number;
}

/**
 * How repositories referred to credentials before the server configuration named them: a stored row
 * may still hold one. They are never resolved any more (FLT-CREDENTIAL-LEGACY at fetch), because they
 * let whoever registered the repository choose any variable, file or command of the server.
 */
export type LegacyCredentialsRef =
  | { kind: "env"; name: string }
  | { kind: "file"; path: string }
  | { kind: "helper"; helper: string };

export interface Repository {
  /** Unique name, what deployments and commits refer to. */
  name: string;
  /** Remote URL or local path. */
  url: string;
  branch: string;
  /** Sub-directory holding the objects; null for the repository root. */
  path: string | null;
  pollIntervalSeconds: number;
  /** The name of a credential defined in the server configuration (or a legacy reference, refused at fetch). */
  credentials: string | LegacyCredentialsRef | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewRepository {
  name: string;
  url: string;
  branch: string;
  path?: string | null;
  pollIntervalSeconds?: number;
  /** The name of a credential defined in the server configuration. */
  credentials?: string | null;
}

export type RepositoryPatch = Partial<Omit<NewRepository, "name">>;

export type TokenRole = "read-only" | "operator";

export interface ApiToken {
  name: string;
  role: TokenRole;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface Lease {
  key: string;
  holder: string;
  acquiredAt: number;
  expiresAt: number;
  /** Fencing number: grows each time the lease changes hands. */
  epoch: number;
}

/**
 * A dashboard session: what a signed-in browser holds instead of the token (an httpOnly cookie with a
 * random secret; the store keeps only its hash). It stands for the token it was made from and ends
 * when that token is rotated or revoked, at `expiresAt`, or at sign-out.
 */
export interface Session {
  token: ApiToken;
  createdAt: number;
  expiresAt: number;
}

/**
 * One observation of a deployment while it runs, for the dashboard's chart: the traffic weight of
 * each target group, and per task set (blue/green) or ECS deployment (rolling) its tasks. Recorded
 * when something changed (or a minute passed), so the series is a step function between samples.
 */
export interface DeploymentSample {
  deploymentId: string;
  /** Grows with every sample (across deployments): the cursor for `listSamples`. */
  seq: number;
  at: number;
  data: SampleData;
}

export interface SampleData {
  /** Percent of the routed traffic per target group ARN (the mean over the listeners and rules that forward to it). */
  weights: Record<string, number>;
  /** `blue`/`green` task sets of a blue/green deployment; `old`/`new` ECS deployments of a rolling one. */
  sets: SampleSet[];
  /** The depdef's alarms and their states, when the deployment watches alarms. */
  alarms: { name: string; state: string }[];
}

export interface SampleSet {
  role: "blue" | "green" | "old" | "new";
  /** Task set or ECS deployment id. */
  id: string;
  targetGroups: string[];
  /** null: not reported (never read as 0). */
  desired: number | null;
  running: number | null;
  pending: number | null;
  /** Targets healthy in the set's target groups; null without a load balancer. */
  healthy: number | null;
  /** Tasks of the set that stopped by failing since the deployment began. */
  failed: number | null;
}

/**
 * How a commit's processing went, per object (`delete-held`: a removed object whose delete waits, see
 * PendingDelete; `blocked`: what its deployment needs is missing in AWS, so none was started).
 */
export type CommitObjectAction = "deploy" | "delete" | "delete-held" | "none" | "invalid" | "blocked";

export interface CommitObjectOutcome {
  object: string;
  action: CommitObjectAction;
  /** The change's reason (`changed`, `svcdef-removed`, ...). */
  reason: string;
  /** One line a person can read. */
  description: string;
  /** The deployment the commit started for the object, if any. */
  deploymentId: string | null;
}

/**
 * One processing of a commit by the controller: what it did per object and the problems its objects
 * have (masked before they are stored). A commit processed again (a manual redeploy) gets a new
 * record; the newest is the commit's.
 */
export interface CommitRecord {
  /** Grows with every record: the event stream's cursor. */
  seq: number;
  repository: string;
  branch: string;
  sha: string;
  /** What made the controller process it: `poll`, `webhook`, `manual`. */
  trigger: string;
  processedAt: number;
  /** `invalid` when any object has an error (its valid objects still deployed). */
  status: "ok" | "invalid";
  errors: number;
  warnings: number;
  objects: CommitObjectOutcome[];
  /** At most COMMIT_PROBLEMS_KEPT of them (errors first); `errors` and `warnings` count them all. */
  problems: Problem[];
}

export type NewCommitRecord = Omit<CommitRecord, "seq" | "processedAt">;

/** Problems kept per commit record (the counts are exact): a repository of a thousand broken objects must not fill the store. */
export const COMMIT_PROBLEMS_KEPT = 200;

/** Why a removed object's delete waits. */
export type PendingDeleteReason = "deletes-off" | "mass-delete" | "unsafe";

/**
 * A delete the controller held back: the svcdef is gone from the repository but the service runs on
 * until an operator confirms the delete, the controller runs with deletes allowed, or a later commit
 * re-adds the object.
 */
export interface PendingDelete {
  repository: string;
  object: string;
  branch: string;
  /** The commit that removed the svcdef. */
  commitSha: string;
  region: string;
  cluster: string;
  service: string;
  reason: PendingDeleteReason;
  /** The problem code behind an `unsafe` hold (FLT-CHANGE-DELETE-UNSAFE), else null. */
  code: string | null;
  message: string;
  /** What the delete needs (the object as it was before removal): opaque to the store, never answered by the API. */
  spec: unknown;
  heldAt: number;
  updatedAt: number;
}

export type NewPendingDelete = Omit<PendingDelete, "heldAt" | "updatedAt">;

/** A window that holds a commit back: its configured name and kind. */
export interface HoldingWindow {
  name: string;
  kind: "allow" | "deny";
}

/**
 * The commit the controller holds back because a sync window is closed for what it changes
 * (docs/controller.md, Sync windows): the next commit of the branch; the ones after it wait behind it.
 */
export interface WaitingCommit {
  repository: string;
  branch: string;
  sha: string;
  windows: HoldingWindow[];
  /** The objects of the commit the windows cover. */
  objects: string[];
  message: string;
  /** When it was first held. */
  since: number;
  /** When the windows may next let it through (the controller looks again then); null when no window will. */
  until: number | null;
  checkedAt: number;
  /** An operator released it (API action): it runs at the next sync, recorded as an override. */
  releasedBy: string | null;
  releasedAt: number | null;
}

export type NewWaitingCommit = Omit<WaitingCommit, "since" | "checkedAt" | "releasedBy" | "releasedAt">;

/**
 * Something the controller did or found outside a deployment's timeline — a commit held by a sync
 * window, an override of one, drift found, healed or left alone — numbered by the store so the
 * event stream can resume after it.
 */
export interface ActivityEvent {
  seq: number;
  at: number;
  type: string;
  repository: string | null;
  object: string | null;
  sha: string | null;
  message: string;
  data: Record<string, unknown> | null;
}

export type NewActivityEvent = Omit<ActivityEvent, "seq" | "at">;

export type DriftStatus = "in-sync" | "drifted" | "missing" | "unknown";

/** The last drift check of one object: Git's object at the repository's last processed commit against what runs. */
export interface DriftRecord {
  repository: string;
  object: string;
  /** The commit the object was read from. */
  sha: string;
  region: string;
  cluster: string;
  service: string;
  /** `missing`: the service does not run; `unknown`: it could not be compared (the message says why). */
  status: DriftStatus;
  /** What differs, normalised and masked as `flotilla plan` shows it. */
  detail: { reasons: string[]; service: { changed: boolean; text: string }; taskDefinition: { changed: boolean; text: string }; message?: string };
  /** Since when it has been drifted (kept while it stays drifted); null when in sync. */
  detectedAt: number | null;
  checkedAt: number;
  /** The last self-heal deployment started for this drift, and when. */
  healDeploymentId: string | null;
  healedAt: number | null;
}

export type NewDriftRecord = Omit<DriftRecord, "checkedAt">;
