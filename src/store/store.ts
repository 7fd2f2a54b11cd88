/**
 * Flotilla's durable state, behind one interface with two implementations sharing a Kysely
 * query layer: SQLite (embedded default, one process) and PostgreSQL (several replicas).
 * Never stored: secret values. Tokens are kept as SHA-256 hashes; repository credentials only
 * as references (env var name, file path, credential helper).
 */
import type {
  ActivityEvent,
  DriftRecord,
  DriftStatus,
  NewActivityEvent,
  NewDriftRecord,
  NewWaitingCommit,
  WaitingCommit,
  ApiToken,
  CommitRecord,
  Control,
  ControlAction,
  Deployment,
  DeploymentEvent,
  DeploymentFilter,
  DeploymentOwner,
  DeploymentPage,
  DeploymentPatch,
  DeploymentSample,
  Fence,
  LastCommit,
  Lease,
  NewDeployment,
  NewCommitRecord,
  NewEvent,
  NewPendingDelete,
  NewRepository,
  PendingDelete,
  Repository,
  RepositoryPatch,
  SampleData,
  Session,
  TokenRole,
} from "./types.ts";

/** Any clock with epoch-millisecond `now()` (src/core/clock.ts's Clock fits). */
export interface StoreClock {
  now(): number;
}

export interface UpdateOptions {
  /** Controls the update acts on, marked consumed in the same transaction (crash-safe). */
  consumeControls?: readonly number[];
  /**
   * The owner's id and fencing token. Refused with FencedError (FLT-STORE-FENCED) unless they are
   * the deployment's current owner and token; without a fence, refused while a live owner holds it.
   */
  fence?: Fence;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";

  // Deployments
  /** Fails with ActiveDeploymentError when the service (region, cluster, name) has a non-terminal deployment. */
  createDeployment(input: NewDeployment, events?: readonly NewEvent[]): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | undefined>;
  /**
   * Writes the patch and appends the events atomically. Throws VersionConflictError when the
   * version is no longer `expectedVersion`, and FLT-STORE-DEPLOYMENT-FINISHED when the
   * deployment is already terminal. Entering a terminal phase sets `finishedAt`.
   */
  updateDeployment(
    id: string,
    expectedVersion: number,
    patch: DeploymentPatch,
    events?: readonly NewEvent[],
    options?: UpdateOptions,
  ): Promise<Deployment>;
  /** Newest deployment of an object (optionally within one repository). */
  latestDeployment(object: string, repository?: string | null): Promise<Deployment | undefined>;
  /** The newest deployment of every object matching the filter's fields, newest first. */
  latestPerObject(filter?: Pick<DeploymentFilter, "repository" | "region" | "cluster">): Promise<Deployment[]>;
  /** Newest first, paginated with `before`/`nextCursor`. */
  listDeployments(filter?: DeploymentFilter): Promise<DeploymentPage>;
  /**
   * Every non-terminal deployment, oldest first; with `orphaned`, only those no live process owns
   * (no owner, or its lease expired or was released): what a process may adopt and resume.
   */
  activeDeployments(options?: { orphaned?: boolean }): Promise<Deployment[]>;

  // Ownership: one process drives a deployment at a time (docs/store.md, "Several replicas")
  /**
   * Makes `owner` the deployment's owner for `ttlMs` when it has none, its owner's lease has
   * expired (or was released), or it is already ours (then only the expiry moves). A new
   * acquisition gets the next fencing token and appends `events(previous owner)` in the same
   * transaction. Undefined when another live owner holds it or the deployment has finished.
   */
  acquireDeployment(id: string, owner: string, ttlMs: number, events?: (previous: DeploymentOwner | null) => readonly NewEvent[]): Promise<Deployment | undefined>;
  /** The heartbeat: extends the leases `owner` still holds among `ids` (one statement); returns those ids. */
  renewDeployments(owner: string, ids: readonly string[], ttlMs: number): Promise<string[]>;
  /** Ends our live lease now (so another process adopts at once), appending the events; false if it was not ours. */
  releaseDeployment(id: string, fence: Fence, events?: readonly NewEvent[]): Promise<boolean>;

  // Timeline
  /** Appends events without touching the record (works on finished deployments too). */
  appendEvents(deploymentId: string, events: readonly NewEvent[]): Promise<DeploymentEvent[]>;
  /** In order; with `afterSeq`, only later ones (for live streaming). */
  listEvents(deploymentId: string, options?: { afterSeq?: number; limit?: number }): Promise<DeploymentEvent[]>;

  // Operator controls
  /** Records an operator's request; throws if the deployment is unknown or finished. */
  requestControl(deploymentId: string, action: ControlAction, requestedBy: string): Promise<Control>;
  /** Unconsumed requests, oldest first. */
  pendingControls(deploymentId: string): Promise<Control[]>;
  /** Deployments with unconsumed requests: one look for every deployment a runner has waiting. */
  deploymentsWithPendingControls(): Promise<string[]>;
  /** Marks one consumed; false if it already was (another consumer won). */
  consumeControl(controlId: number): Promise<boolean>;
  listControls(deploymentId: string): Promise<Control[]>;

  // Commits
  getLastCommit(repository: string, branch: string): Promise<LastCommit | undefined>;
  /**
   * Records the last processed commit. With `expectedSha` (null meaning "none yet"), only if the
   * stored one still matches, else VersionConflict-style FLT-STORE-CONFLICT.
   */
  setLastCommit(repository: string, branch: string, sha: string, expectedSha?: string | null): Promise<LastCommit>;

  // Repositories
  addRepository(input: NewRepository): Promise<Repository>;
  updateRepository(name: string, patch: RepositoryPatch): Promise<Repository>;
  getRepository(name: string): Promise<Repository | undefined>;
  listRepositories(): Promise<Repository[]>;
  removeRepository(name: string): Promise<boolean>;

  // API tokens
  /** Returns the plaintext once (generated unless given); only its hash is stored. */
  createToken(name: string, role: TokenRole, plaintext?: string): Promise<{ token: string; record: ApiToken }>;
  /** The token's record if the plaintext matches one (constant-time), else undefined. */
  verifyToken(plaintext: string): Promise<ApiToken | undefined>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(name: string): Promise<boolean>;
  /**
   * Gives the named token a new value (generated unless given), keeping its name and role; the old
   * value stops working at once. Returns the new plaintext once. FLT-STORE-NOT-FOUND when there is no
   * such token, FLT-STORE-DUPLICATE when another token has that value.
   */
  rotateToken(name: string, plaintext?: string): Promise<{ token: string; record: ApiToken }>;

  // Dashboard sessions (a browser's cookie stands for the token it signed in with)
  /**
   * Exchanges a valid token for a new session lasting `ttlMs`: returns the session's secret (once;
   * only its hash is stored) and the session, or undefined when the token is not valid. Expired
   * sessions are removed on the way.
   */
  createSession(token: string, ttlMs: number): Promise<{ secret: string; session: Session } | undefined>;
  /** The session for a secret, while it has not expired and its token was neither rotated nor revoked. */
  verifySession(secret: string): Promise<Session | undefined>;
  /** Ends a session (sign-out); false when there was none. */
  deleteSession(secret: string): Promise<boolean>;

  // Deployment samples (the dashboard's chart)
  appendSample(deploymentId: string, data: SampleData): Promise<DeploymentSample>;
  /** In order; with `afterSeq`, only later ones. */
  listSamples(deploymentId: string, options?: { afterSeq?: number; limit?: number }): Promise<DeploymentSample[]>;

  // Leases (see repositoryLeaseKey)
  /** Takes the lease if free, expired, or already ours (then renews it); undefined if held by another. */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease we still hold; undefined if it expired or changed hands. */
  renewLease(key: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  releaseLease(key: string, holder: string): Promise<boolean>;
  getLease(key: string): Promise<Lease | undefined>;

  // Commit records (what each processing of a commit did; docs/controller.md)
  /** Appends a record; the newest record of a sha is the commit's. */
  recordCommit(input: NewCommitRecord): Promise<CommitRecord>;
  /**
   * Appends the record of a commit's processing and marks the commit its repository's last
   * processed one (compare-and-set against `expectedSha`, null meaning "none yet"), in one
   * transaction: both are written or neither (FLT-STORE-CONFLICT when another worker moved it), so
   * a commit processed to its end has exactly one record, however a crash falls.
   */
  markProcessed(input: NewCommitRecord, expectedSha: string | null): Promise<{ record: CommitRecord; lastCommit: LastCommit }>;
  /** The newest record of a commit (full sha). */
  getCommitRecord(repository: string, sha: string): Promise<CommitRecord | undefined>;
  /**
   * Newest record per commit, newest first: of the given shas, or with `afterSeq` every record
   * after it in seq order (the event stream; `processedAfter` keeps only later ones), at most
   * `limit` (default 100, at most 500).
   */
  listCommitRecords(filter?: { repository?: string; shas?: readonly string[]; afterSeq?: number; processedAfter?: number; limit?: number }): Promise<CommitRecord[]>;
  /** The largest record seq so far (0 with none). */
  lastCommitRecordSeq(): Promise<number>;
  /**
   * Full commit shas that start with `prefix` (lower-case hex) among deployments and commit records,
   * at most `limit` (enough to tell unique from ambiguous).
   */
  commitsWithPrefix(prefix: string, options?: { repository?: string; limit?: number }): Promise<string[]>;

  // Pending deletes (deletes the controller held back)
  /** Records or updates the held delete of (repository, object), keeping when it was first held. */
  holdDelete(input: NewPendingDelete): Promise<PendingDelete>;
  getPendingDelete(repository: string, object: string): Promise<PendingDelete | undefined>;
  /** By repository, then object. */
  listPendingDeletes(filter?: { repository?: string }): Promise<PendingDelete[]>;
  /** False when there was none. */
  removePendingDelete(repository: string, object: string): Promise<boolean>;

  // Commits held by sync windows (one per repository and branch: the next to process)
  /**
   * Records or updates the held commit of (repository, branch). The same sha keeps when it was first
   * held and any release; another sha replaces the record.
   */
  holdCommit(input: NewWaitingCommit): Promise<WaitingCommit>;
  getWaitingCommit(repository: string, branch: string): Promise<WaitingCommit | undefined>;
  /** By repository, then branch. */
  listWaitingCommits(filter?: { repository?: string }): Promise<WaitingCommit[]>;
  /** Marks the held commit released by `by`, if `sha` is the one held; undefined otherwise. */
  releaseWaitingCommit(repository: string, branch: string, sha: string, by: string): Promise<WaitingCommit | undefined>;
  /** Forgets the held commit (only if it is `sha`, when given); false when there was none. */
  removeWaitingCommit(repository: string, branch: string, sha?: string): Promise<boolean>;

  // The controller's activity (sync windows, drift): append-only, numbered
  appendActivity(input: NewActivityEvent): Promise<ActivityEvent>;
  /** Without `afterSeq`: the newest first; with it, the later ones oldest first. At most `limit` (default 100, at most 500). */
  listActivity(filter?: { repository?: string; afterSeq?: number; limit?: number }): Promise<ActivityEvent[]>;
  /** The largest activity seq so far (0 with none). */
  lastActivitySeq(): Promise<number>;

  // Drift (the last check of each object against what runs)
  /** Records the check (checkedAt is now). */
  putDrift(input: NewDriftRecord): Promise<DriftRecord>;
  getDrift(repository: string, object: string): Promise<DriftRecord | undefined>;
  /** By repository, then object. */
  listDrift(filter?: { repository?: string; status?: DriftStatus }): Promise<DriftRecord[]>;
  /** Forgets the checks of objects no longer in the repository (all of the repository's with `keep` empty). */
  pruneDrift(repository: string, keep: readonly string[]): Promise<number>;

  close(): Promise<void>;
}

/** Lease key for the replica that polls and processes a repository. */
export function repositoryLeaseKey(repository: string, branch: string): string {
  return `repository:${repository}:${branch}`;
}

/** Lease key for the replica whose turn it is to check a repository for drift (one pass per interval across replicas). */
export function driftLeaseKey(repository: string, branch: string): string {
  return `drift:${repository}:${branch}`;
}
