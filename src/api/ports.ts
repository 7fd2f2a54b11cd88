/**
 * The API's contract with the engine: what the HTTP server may ask of the controller. The server
 * depends on these ports, the controller implements them, and neither imports the other's code
 * (docs/architecture.md).
 *
 * Every method answers in the controller's own terms: a typed result, or a FlotillaError with a
 * stable problem code (`FLT-GIT-UNKNOWN-REVISION`, `FLT-OBJECT-NOT-FOUND`, `FLT-CONTROLLER-BUSY`,
 * ...). Which HTTP status a code or an outcome becomes is the server's choice (server/errors.ts,
 * server/webhook.ts), never the controller's.
 */
import type { Deployment, DriftRecord, Repository, WaitingCommit } from "../store/types.ts";
import type { CleanupPlanAnswer, CommitFile, CommitInfo, DeployAccepted, DryRunResult, ObjectPlanAnswer, SyncWindowState, VersionsAnswer, WebhookDelivery, WebhookReceipt } from "./types.ts";

/**
 * The Git side of the controller, as the API drives it. The repository passed in is the stored
 * record (the API has already answered unknown names itself).
 */
export interface ControllerPort {
  /** Newest first, at most `limit`, from the repository's mirror (fetching first is the controller's choice). */
  listCommits(repo: Repository, options: { limit: number }): Promise<CommitInfo[]>;
  /** The Flotilla files of the tree at `sha` (a full or abbreviated hex sha). */
  commitFiles(repo: Repository, sha: string): Promise<CommitFile[]>;
  /**
   * Queue the commit for processing (manual trigger) and return at once. `force` redeploys
   * objects the commit did not change; `overrides` are break-glass names (`skip-alarms`,
   * `all-at-once`) to record on every deployment with `setBy: requestedBy, source: "api"`.
   */
  deployCommit(repo: Repository, sha: string, options: { force: boolean; requestedBy: string; overrides: readonly string[] }): Promise<DeployAccepted>;
  /** What processing the commit would do now; changes nothing. */
  dryRun(repo: Repository, sha: string, options: { rendered: boolean }): Promise<DryRunResult>;
  /**
   * Roll the object back to the revision before its last successful update, as a new recorded
   * deployment (see src/controller/rollback.ts). Returns once the deployment is created (Pending
   * or later), not when it finishes; its progress is on the events stream.
   */
  rollback(object: string, requestedBy: string): Promise<Deployment>;
  /**
   * Rainbow: make `version` of the object live (scale it to the live count, switch the live route,
   * watch the alarms), as a recorded deployment; cutting back is the same call with the older
   * version. Returns once the deployment is created. `FLT-OBJECT-NOT-FOUND` / `FLT-OBJECT-NOT-RAINBOW`.
   */
  cutover(object: string, version: string, requestedBy: string): Promise<Deployment>;
  /** Rainbow: remove the versions the object's cleanup policy lets go, as a recorded deployment. */
  cleanup(object: string, requestedBy: string): Promise<Deployment>;
  /** Rainbow: which versions a cleanup would remove now and why the others stay. Changes nothing. */
  planCleanup(object: string): Promise<CleanupPlanAnswer>;
  /** Rainbow: the object's versions, which is live, their URLs, and the last cutover. Changes nothing. */
  versions(object: string): Promise<VersionsAnswer>;
  /**
   * Live versus Git for one object: the object from the last processed commit of the repository
   * that last deployed it, planned against what runs (read-only AWS calls). `FLT-OBJECT-NOT-FOUND`
   * when no registered repository has deployed it or its last processed commit no longer holds it.
   */
  planObject(object: string): Promise<ObjectPlanAnswer>;
  /**
   * Carry out a delete the controller held back (a pending delete), as the operator asked: runs in
   * the repository's queue; returns once the delete deployment is created. `FLT-OBJECT-NOT-FOUND`
   * when no delete of the object is pending.
   */
  confirmPendingDelete(repo: Repository, object: string, requestedBy: string): Promise<Deployment>;
  /** A repository was registered or changed: fetch and process it now instead of at the next poll. */
  watchRepository(name: string): void;
  /** The sync windows of the server's configuration, open or closed now (none: an empty list). */
  syncWindows(): SyncWindowState[];
  /**
   * Let the commit a sync window holds deploy now (an override, recorded on the activity stream and
   * on its deployments); it runs at once, in the repository's queue. `sha` (full or abbreviated)
   * must be the held commit when given. `FLT-WINDOW-NOT-WAITING` when no commit (or another one) waits.
   */
  releaseWaitingCommit(repo: Repository, sha: string | undefined, requestedBy: string): Promise<WaitingCommit>;
  /**
   * Compare every object of the repository (or of all) with what runs now, record the drift and heal
   * where self-heal is on, as the periodic check does; answers the records. `FLT-DRIFT-OFF` when
   * drift detection is off.
   */
  checkDrift(repository?: string): Promise<DriftRecord[]>;
}

/** Receives GitHub push webhooks: verifies, de-duplicates and queues. Never throws for a bad request. */
export interface GithubWebhookPort {
  handleGithubWebhook(delivery: WebhookDelivery): Promise<WebhookReceipt>;
}
