/**
 * What the controller's Git sources hand over and report: a commit to run (a CommitContext, given
 * to the CommitHandler), and SourceEvents (a mirror made, a commit processed, a history rewritten,
 * a lease held elsewhere or lost, a sync that failed) for the log and the metrics.
 */
import { isFlotillaError, type Problem } from "../core/problems.ts";
import type { Repository } from "../store/types.ts";
import type { CommitPlan, RecordCommit } from "./process-commit.ts";

export type Trigger = "poll" | "webhook" | "manual";

export interface CommitContext {
  repository: Repository;
  gitDir: string;
  plan: CommitPlan;
  trigger: Trigger;
  /**
   * Writes the commit's record. When this processing marks the commit processed, in the same
   * transaction as that (process-commit.ts): call it last, once the commit's work is done.
   */
  record: RecordCommit;
}

/** Runs a commit's deployments (the Controller's runCommit). A throw leaves the commit unprocessed, to retry. */
export type CommitHandler = (context: CommitContext) => Promise<unknown>;

export type SourceEvent =
  | { type: "mirror-created"; repository: string; gitDir: string }
  | { type: "commit-processed"; repository: string; branch: string; sha: string; trigger: Trigger; deploy: number; delete: number }
  | { type: "rewritten"; repository: string; branch: string; lastProcessed: string; head: string; reason: "not-ancestor" | "missing"; problem: Problem }
  | { type: "lease-held-elsewhere"; repository: string; holder: string | undefined }
  | { type: "lease-lost"; repository: string }
  | { type: "sync-failed"; repository: string; code: string; message: string }
  | { type: "commit-waiting"; repository: string; branch: string; sha: string; until: number | null; message: string };

/** How a sync of a repository ended. */
export type SyncOutcome =
  | { kind: "processed"; head: string; commits: string[] }
  | { kind: "up-to-date"; head: string }
  | { kind: "rewritten"; lastProcessed: string; head: string; reason: "not-ancestor" | "missing" }
  | { kind: "held-elsewhere"; holder: string | undefined }
  /** A sync window holds `sha` (and the commits after it); `commits` were processed before it. */
  | { kind: "waiting"; head: string; sha: string; until: number | null; commits: string[] };

export type EmitSourceEvent = (event: SourceEvent) => void;

/** Events to `listener`, which can never break the sources: what it throws is dropped. */
export function eventSink(listener: ((event: SourceEvent) => void) | undefined): EmitSourceEvent {
  return (event) => {
    try {
      listener?.(event);
    } catch {
      /* a listener never breaks the controller */
    }
  };
}

/** The event for a sync of `repository` (`*`: the list of repositories) that failed with `e`. */
export function syncFailed(repository: string, e: unknown): SourceEvent {
  return { type: "sync-failed", repository, code: isFlotillaError(e) ? e.code : "FLT-INTERNAL", message: e instanceof Error ? e.message : String(e) };
}
