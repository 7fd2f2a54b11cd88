/**
 * The data the HTTP API exchanges with the controller: what the controller answers in its own
 * words, and the server serialises as JSON (docs/api.md). Types only: the dashboard and the CLI
 * client import them too, so no code of the engine reaches them.
 */
import type { Problem } from "../core/problems.ts";
import type { CommitRecordJson } from "../store/record.ts";

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
  /** Set when it would not be carried out: what the pre-check of a deployment found missing in AWS (`CODE file path: message`). */
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
  /** The engine strategy a deployment would use (rolling, bluegreen, ecs-managed, rainbow). */
  strategy?: string;
  /** ECS-managed, when it would change: how ECS will roll it out (docs/plan.md). */
  rollout?: string;
  reasons: string[];
  /** Fields plan does not compare (documented in docs/plan.md). */
  notCompared: string[];
  problems: Problem[];
  /** Unified diffs, live (`---`) to Git (`+++`), normalised and masked as `flotilla plan` prints them. */
  service: { changed: boolean; text: string };
  taskDefinition: { changed: boolean; text: string };
}

/** A GitHub webhook delivery as it arrived: the headers and the exact bytes GitHub signed. */
export interface WebhookDelivery {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string | Uint8Array;
}

/**
 * What became of a delivery, in the controller's words. The server alone turns it into an HTTP
 * status (server/webhook.ts), so GitHub's delivery log shows a failure only where one happened.
 */
export const WEBHOOK_OUTCOMES = ["stopping", "queued", "bad-signature", "disabled", "duplicate", "ping", "not-a-push", "not-a-branch", "no-match", "already-processed", "invalid"] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export interface WebhookReceipt {
  outcome: WebhookOutcome;
  message: string;
  /** The registered repositories the delivery concerns (queued, or already processed). */
  repositories: string[];
}

// ---- Rainbow objects (src/controller/rainbow.ts) ----

export interface VersionInfo {
  version: string;
  service: string;
  /** ACTIVE, DRAINING, INACTIVE, or `missing` (a version half-made or half-removed). */
  status: string;
  live: boolean;
  protected: boolean;
  desired: number | null;
  running: number | null;
  createdAt: string | null;
  url: string;
  /** What else a request needs to reach it (a header), or empty. */
  note: string;
  targetGroup: string;
}

export interface VersionsAnswer {
  object: string;
  versions: VersionInfo[];
  /** The last cutover that stood: to which version, by whom, when. */
  lastCutover: { version: string; by: string; at: string; deployment: string } | null;
}

export interface CleanupPlanAnswer {
  object: string;
  remove: string[];
  /** Each version that stays, and why (live, protected, excluded, among the newest, too young). */
  kept: { version: string; why: string }[];
}

/** A sync window as the server's configuration defines it, open or closed now (docs/controller.md, Sync windows). */
export interface SyncWindowState {
  name: string;
  kind: "allow" | "deny";
  /** Five-field cron: when each occurrence opens, read in `timeZone`. */
  schedule: string;
  timeZone: string;
  durationSeconds: number;
  open: boolean;
  /** While open: when it closes; while closed: when it next opens (ISO 8601); null: never. */
  nextChange: string | null;
  /** What it covers; an empty list matches everything. */
  repositories: string[];
  objects: string[];
  regions: string[];
  clusters: string[];
  accounts: string[];
}
