/**
 * The controller's side of sync windows (sync-windows.ts decides; this acts): before a commit's
 * deployments run, a commit the windows hold is recorded as waiting (store, activity, a pending
 * commit status) and not processed, so it and the commits behind it wait in order. It goes through
 * when the windows let it (the controller looks again when they change), when its message carries
 * the trailer `Flotilla-Override: outside-window`, or when an operator releases it through the API.
 * Every override is recorded: on the activity stream, in the log, and on the deployments it starts.
 */
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import type { NewActivityEvent, Override, Repository, WaitingCommit } from "../store/types.ts";
import type { CommitStatusSink } from "./commit-status.ts";
import { OUTSIDE_WINDOW } from "./overrides.ts";
import type { CommitPlan } from "./process-commit.ts";
import type { SyncWindows, WindowSubject } from "./sync-windows.ts";

/** Thrown by the gate: the commit waits (it is not processed; the sync stops there). */
export class CommitWaiting extends Error {
  readonly waiting: WaitingCommit;
  constructor(waiting: WaitingCommit) {
    super(`${waiting.repository}@${waiting.sha.slice(0, 7)} waits: ${waiting.message}`);
    this.name = "CommitWaiting";
    this.waiting = waiting;
  }
}

export interface WindowGateOptions {
  store: Store;
  clock: Clock;
  windows: SyncWindows;
  statuses?: CommitStatusSink;
  /** Records an activity (the store's, and serve's log: overrides are audit lines there). */
  record: (event: NewActivityEvent) => Promise<unknown>;
}

/** A changed object as a commit's plan (`loaded`) or its dry run (`account`, copied from it) describes it. */
export interface WindowChange {
  object: string;
  identity?: { region: string; cluster: string } | undefined;
  /** The depdef's environment.account, when the change carries no loaded object. */
  account?: string | undefined;
  loaded?: { depdef: { environment: { account?: string | undefined } } } | undefined;
}

/**
 * The objects a commit would change, as the windows see them. The controller's gate and an API
 * deploy's refusal both come here, so a window selected by any selector (account included) holds
 * and refuses the same commits.
 */
export function windowSubjects(repository: string, changes: readonly WindowChange[]): WindowSubject[] {
  return changes.map((c) => {
    const account = c.account ?? c.loaded?.depdef.environment.account;
    return { repository, object: c.object, ...(c.identity ? { region: c.identity.region, cluster: c.identity.cluster } : {}), ...(account ? { account } : {}) };
  });
}

export class WindowGate {
  private readonly o: WindowGateOptions;
  constructor(options: WindowGateOptions) {
    this.o = options;
  }

  private record(event: NewActivityEvent): Promise<unknown> {
    return this.o.record(event);
  }

  /**
   * Lets the commit through (answering the overrides to record on its deployments), or records it
   * as waiting and throws CommitWaiting.
   */
  async check(repository: Repository, plan: CommitPlan): Promise<Override[]> {
    const { store, clock, windows } = this.o;
    const sha = plan.commit.sha;
    const verdict = windows.verdict(windowSubjects(repository.name, [...plan.deploy, ...plan.delete]), clock.now());
    const held = await store.getWaitingCommit(repository.name, repository.branch);
    const mine = held?.sha === sha ? held : undefined;
    const base = { repository: repository.name, object: null, sha };
    if (!verdict.held) {
      if (mine && (await store.removeWaitingCommit(repository.name, repository.branch, sha))) {
        await this.record({ ...base, type: "commit-released", message: `${repository.name}@${sha.slice(0, 7)} no longer waits: no sync window holds it now`, data: { windows: mine.windows.map((w) => w.name), waitedSeconds: Math.round((clock.now() - mine.since) / 1000) } });
      }
      return [];
    }
    const given = plan.overrides.find((o) => o.name === OUTSIDE_WINDOW);
    if (given) {
      if (mine) await store.removeWaitingCommit(repository.name, repository.branch, sha);
      await this.record({ ...base, type: "window-override", message: `${repository.name}@${sha.slice(0, 7)} deploys outside its sync windows (${verdict.message}): ${OUTSIDE_WINDOW} set by ${given.setBy} (${given.source})`, data: { windows: verdict.windows.map((w) => w.name), objects: verdict.objects, setBy: given.setBy, source: given.source } });
      return [];
    }
    if (mine?.releasedBy) {
      // The release was recorded (audit line and activity) when the operator asked for it.
      await store.removeWaitingCommit(repository.name, repository.branch, sha);
      return [{ name: OUTSIDE_WINDOW, setBy: mine.releasedBy, source: "api", at: mine.releasedAt ?? clock.now() }];
    }
    const waiting = await store.holdCommit({ repository: repository.name, branch: repository.branch, sha, windows: verdict.windows, objects: verdict.objects, message: verdict.message, until: verdict.until });
    if (!mine) {
      await this.record({ ...base, type: "commit-waiting", message: `${repository.name}@${sha.slice(0, 7)} waits: ${verdict.message}`, data: { windows: verdict.windows.map((w) => w.name), objects: verdict.objects, until: verdict.until === null ? null : new Date(verdict.until).toISOString() } });
      this.o.statuses?.report(repository, sha, { state: "pending", description: `waiting: ${verdict.message}` });
    }
    throw new CommitWaiting(waiting);
  }

  /** An operator releases the waiting commit: recorded now; it runs at the next sync. */
  async release(repository: Repository, sha: string, by: string): Promise<WaitingCommit | undefined> {
    const released = await this.o.store.releaseWaitingCommit(repository.name, repository.branch, sha, by);
    if (released) {
      await this.record({ repository: repository.name, object: null, sha, type: "window-override", message: `${repository.name}@${sha.slice(0, 7)} released by ${by}: deploys outside its sync windows (${released.message})`, data: { windows: released.windows.map((w) => w.name), objects: released.objects, setBy: by, source: "api" } });
    }
    return released;
  }
}
