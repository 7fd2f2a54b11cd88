/**
 * What the HTTP API needs from the rest of Flotilla, injected so that tests (and `serve
 * --simulator`) can wire anything behind it. The server itself only reads and writes the store;
 * everything that touches Git goes through `ControllerPort`, the seam to `src/controller/`.
 */
import type { RepositoryPolicy } from "../controller/server-config.ts";
import type { Masker } from "../core/mask.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "./log.ts";
import type { MetricsSink } from "../core/metrics.ts";
import type { Problem } from "../core/problems.ts";
import type { CommitRecordJson } from "../store/record.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, Repository } from "../store/types.ts";
import type { DeploymentEventBus } from "./events.ts";
import type { PromMetrics } from "./metrics.ts";
import type { DashboardOptions } from "./web.ts";

/** A commit of a registered repository's branch, newest first in listings. */
export interface CommitInfo {
  sha: string;
  parents: string[];
  author: string;
  /** ISO 8601. */
  committedAt: string;
  /** First line of the message. */
  subject: string;
  /** Whether the controller has processed it (at or before the repository's last processed commit). */
  processed: boolean;
}

/** One file of a commit that Flotilla reads (the `_svcdef/_taskdef/_depdef/_input.json` files). */
export interface CommitFile {
  /** Repository-relative path (below the repository's sub-path, if any). */
  path: string;
  /** The deployment object it belongs to, e.g. `dev/web/web`. */
  object: string;
  kind: "svcdef" | "taskdef" | "depdef" | "input";
  /** How the commit changed it relative to its first parent; `unchanged` for files it did not touch. */
  change: "added" | "modified" | "deleted" | "unchanged";
}

/** What a commit would do (or will do) to one object. */
export interface ObjectAction {
  object: string;
  action: "create" | "update" | "delete" | "none" | "invalid" | "unsupported";
  /** Why, in a sentence (`taskdef changed`, `unchanged since abc1234`, ...). */
  why: string;
  /** Set when a delete is held back for safety. */
  blocked?: string;
}

/** The answer to a deploy request: queued, not finished. */
export interface DeployAccepted {
  repository: string;
  sha: string;
  /** Commits ahead of this one in the repository's queue (0: next). */
  queuePosition: number;
  /** What processing the commit will do, per object (as far as known when queued). */
  actions: ObjectAction[];
}

export interface DryRunResult {
  repository: string;
  sha: string;
  actions: ObjectAction[];
  /** Validation problems of the commit's objects (codes, files, paths, lines). */
  problems: Problem[];
  /** With `rendered: true`: per object, the rendered definition files by kind. Secret values masked. */
  rendered?: Record<string, Partial<Record<"svcdef" | "taskdef" | "depdef", unknown>>>;
  /** How the controller's last processing of this commit went, when it processed it (a commit compared with itself has no actions). */
  recorded?: CommitRecordJson | null;
}

/**
 * How what runs differs from what Git says for one object (`flotilla plan` for one object): the
 * object as of its repository's last processed commit, against the live service and task definition.
 */
export interface ObjectPlanAnswer {
  object: string;
  repository: string;
  /** The commit the object was read from: the repository's last processed commit. */
  sha: string;
  /** `none`: live matches Git; `blocked`: it differs, but something apply needs is missing. */
  action: "create" | "update" | "none" | "invalid" | "blocked";
  reasons: string[];
  /** Fields plan does not compare (documented in docs/plan.md). */
  notCompared: string[];
  problems: Problem[];
  /** Unified diffs, live (`---`) to Git (`+++`), normalised and masked as `flotilla plan` prints them. */
  service: { changed: boolean; text: string };
  taskDefinition: { changed: boolean; text: string };
}

/**
 * The Git side of the controller, as the API drives it. Every method may throw a FlotillaError
 * whose code the API maps to an HTTP status: `FLT-GIT-UNKNOWN-REVISION`, `FLT-OBJECT-NOT-FOUND` and
 * `FLT-STORE-NOT-FOUND` → 404; `FLT-STORE-CONFLICT`, `FLT-STORE-ACTIVE-DEPLOYMENT`,
 * `FLT-STORE-DEPLOYMENT-FINISHED`, `FLT-STORE-DUPLICATE` → 409; `FLT-CLI-USAGE`,
 * `FLT-STORE-INVALID` → 400; `FLT-GIT-FAILED` → 502; any other FlotillaError → 422; anything else → 500
 * (logged, message not returned). The repository passed in is the stored record (the API has
 * already answered 404 for unknown names).
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
}

export interface ServerDeps {
  store: Store;
  /** What repositories may be (URL forms, local roots, named credentials); default: https and ssh only, no credentials. */
  policy?: RepositoryPolicy;
  /** Time for SSE polling, heartbeats and ages (a VirtualClock in tests). */
  clock: Clock;
  /** Absent: the commit and rollback routes answer 503 FLT-API-UNAVAILABLE (e.g. an API over a store only). */
  controller?: ControllerPort;
  /** Defaults to a fresh prom-client registry (`createMetrics()`); pass the one the engine reports to. */
  metrics?: PromMetrics;
  /** In-process wake-ups for the events stream: a notified stream polls at once instead of waiting for its next tick. */
  events?: DeploymentEventBus;
  /** Masks every API answer and event (src/core/mask.ts); the default rules when absent. */
  masker?: Masker;
  options?: ServerOptions;
}

export interface ServerOptions {
  /** SSE poll interval on `clock` (default 1000 ms). */
  pollIntervalMs?: number;
  /** SSE comment line sent when nothing else was for this long (default 15000 ms). */
  heartbeatMs?: number;
  /** The server's logger (serve passes the one from createLogger, with its secrets); else built from `logger`. */
  log?: Logger;
  /**
   * A logger built with createLogger for this destination, or false (default) for no logs.
   * Credential fields are always redacted and every line masked, whatever is given here.
   */
  logger?: false | { level?: string; stream?: { write(msg: string): void } };
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** The dashboard at `/` (default: the built assets in dist/web); false for none. */
  web?: DashboardOptions | false;
}

export type { MetricsSink };
