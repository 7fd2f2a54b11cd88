/**
 * Catching a repository up with its branch: fetch its mirror, find the commits after the last
 * processed one (commits.ts) and process each, oldest first (process-commit.ts), through the
 * handler. A history rewritten under the last processed commit is reported once and processes
 * nothing until an operator deploys a commit by hand. Runs inside the repository's queue and lease
 * (repository-queue.ts); a lease lost half-way leaves the rest to the replica that took it. A commit a
 * sync window holds stops the sync there, and it is looked at again when the windows change.
 */
import type { LoadOptions } from "../config/load-object.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import type { Repository } from "../store/types.ts";
import { newCommits, rewrittenProblem } from "./commits.ts";
import type { Mirrors } from "./mirror.ts";
import { processCommit } from "./process-commit.ts";
import type { HeldLease } from "./repository-queue.ts";
import type { CommitHandler, EmitSourceEvent, SyncOutcome, Trigger } from "./source-events.ts";
import { CommitWaiting } from "./window-gate.ts";

export interface BranchSyncOptions {
  store: Store;
  clock: Clock;
  mirrors: Mirrors;
  handler: CommitHandler;
  emit: EmitSourceEvent;
  load?: Partial<LoadOptions>;
  /**
   * Runs after each sync that processed the branch up to its head (or found it up to date), still
   * inside the repository's queue and lease: the controller carries out held deletes there.
   */
  afterSync?: (repository: Repository) => Promise<void>;
  /** A sync window holds a commit until `at` (null: no window will let it through): sync again then. */
  wake?: (repository: string, at: number | null) => void;
}

export class BranchSync {
  private readonly options: BranchSyncOptions;
  /** Per repository, the rewritten history last reported (`last..head`), so it is reported once. */
  private readonly reported = new Map<string, string>();

  constructor(options: BranchSyncOptions) {
    this.options = options;
  }

  /** Fetch and process every new commit of the repository's branch, in order. */
  async run(repo: Repository, trigger: Trigger, lease: HeldLease): Promise<SyncOutcome> {
    const { store, clock, emit } = this.options;
    const gitDir = await this.options.mirrors.fetch(repo);
    let last = (await store.getLastCommit(repo.name, repo.branch))?.sha;
    const found = await newCommits(gitDir, repo.branch, last, { clock });
    if (found.kind === "rewritten") {
      const key = `${found.lastProcessed}..${found.head}`;
      if (this.reported.get(repo.name) !== key) {
        this.reported.set(repo.name, key);
        emit({ type: "rewritten", repository: repo.name, branch: repo.branch, lastProcessed: found.lastProcessed, head: found.head, reason: found.reason, problem: rewrittenProblem(repo.name, repo.branch, found) });
      }
      return { kind: "rewritten", lastProcessed: found.lastProcessed, head: found.head, reason: found.reason };
    }
    this.movedOn(repo.name);
    const done: string[] = [];
    if (found.kind === "up-to-date") {
      await this.options.afterSync?.(repo);
      return { kind: "up-to-date", head: found.head };
    }
    for (const commit of found.commits) {
      if (lease.lost) break; // another replica may own the repository now: leave the rest to it
      let processed;
      try {
        processed = await processCommit(
          { store, repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, commit, expectedPrevious: last ?? null, clock, ...(this.options.load ? { load: this.options.load } : {}) },
          (plan, record) => this.options.handler({ repository: repo, gitDir, plan, trigger, record }),
        );
      } catch (e) {
        if (!(e instanceof CommitWaiting)) throw e;
        // Held by a sync window (window-gate.ts): it and the commits behind it wait; look again when the windows change.
        const { until, message } = e.waiting;
        emit({ type: "commit-waiting", repository: repo.name, branch: repo.branch, sha: commit.sha, until, message });
        this.options.wake?.(repo.name, until);
        return { kind: "waiting", head: found.head, sha: commit.sha, until, commits: done };
      }
      last = commit.sha;
      done.push(commit.sha);
      emit({ type: "commit-processed", repository: repo.name, branch: repo.branch, sha: commit.sha, trigger, deploy: processed.plan.deploy.length, delete: processed.plan.delete.length });
    }
    if (!lease.lost) await this.options.afterSync?.(repo);
    return { kind: "processed", head: found.head, commits: done };
  }

  /** The repository moved past a rewritten history (a sync found its way, or an operator deployed a commit): a new rewrite is reported again. */
  movedOn(name: string): void {
    this.reported.delete(name);
  }
}
