/**
 * One repository's work at a time. Syncs, manual deploys and confirmed deletes of a repository run
 * in its queue, one after the other in the order asked, so this process never works on it twice at
 * once; each holds the store's repository lease while it runs, so several replicas never work on it
 * together. A sync asked for while another of the same repository waits shares that one.
 */
import type { Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import { StoreError } from "../store/errors.ts";
import { repositoryLeaseKey, type Store } from "../store/store.ts";
import type { Repository } from "../store/types.ts";
import type { EmitSourceEvent, SyncOutcome, Trigger } from "./source-events.ts";

/** Runs tasks one at a time per key, in the order given. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly counts = new Map<string, number>();
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
  /** Tasks for the key running or waiting. */
  depth(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  /** Settles once every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

/** The lease a piece of work holds: `lost` turns true when a renewal fails (another replica may own the repository now). */
export interface HeldLease {
  lost: boolean;
}

/** The registered repository of that name, read afresh; FLT-STORE-NOT-FOUND when there is none. */
export async function registeredRepository(store: Store, name: string): Promise<Repository> {
  const r = await store.getRepository(name);
  if (!r) throw new StoreError("FLT-STORE-NOT-FOUND", `no repository named ${name}`);
  return r;
}

export interface RepositoryQueueOptions {
  store: Store;
  clock: Clock;
  /** This replica's name, for leases. */
  holder: string;
  /** Repository lease time to live (default 60 s), renewed every third of it while working. */
  leaseTtlMs?: number;
  emit: EmitSourceEvent;
  /** Bring the repository up to its branch's head, holding its lease (sync.ts). */
  sync: (repository: Repository, trigger: Trigger, lease: HeldLease) => Promise<SyncOutcome>;
}

export class RepositoryQueue {
  private readonly options: RepositoryQueueOptions;
  private readonly queue = new KeyedQueue();
  private readonly waiting = new Map<string, Promise<SyncOutcome>>();
  private stopping = false;

  constructor(options: RepositoryQueueOptions) {
    this.options = options;
  }

  /** True once stop() was called: only polls are still taken, to finish what is queued. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Syncs and manual deploys of the repository running or waiting (for queue positions and metrics). */
  depth(name: string): number {
    return this.queue.depth(name);
  }

  /** Fetch and process every new commit, in order. Triggers that arrive while one waits share it. */
  sync(name: string, trigger: Trigger = "poll"): Promise<SyncOutcome> {
    if (this.stopping && trigger !== "poll") return Promise.reject(new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: "the controller is shutting down" }));
    const waiting = this.waiting.get(name);
    if (waiting) return waiting;
    const p = this.queue.run(name, async () => {
      this.waiting.delete(name);
      // Queued before a stop: the repository's next owner (or this replica's next start) does it.
      if (this.stopping) throw new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: "the controller is shutting down" });
      const repo = await registeredRepository(this.options.store, name);
      return this.withLease(repo, (lease) => this.options.sync(repo, trigger, lease));
    });
    this.waiting.set(name, p);
    return p;
  }

  /**
   * Run `fn` as the repository's one worker: in its queue (after the syncs and deploys waiting) and
   * holding its lease. FLT-CONTROLLER-BUSY when another replica holds the lease,
   * FLT-CONTROLLER-STOPPING while shutting down.
   */
  exclusive<T>(name: string, fn: (repository: Repository) => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: "the controller is shutting down", hint: "retry once it has restarted" }));
    return this.queue.run(name, async () => {
      const repo = await registeredRepository(this.options.store, name);
      const outcome = await this.withLease(repo, async () => ({ value: await fn(repo) }));
      if ("kind" in outcome) {
        throw new FlotillaError({ code: "FLT-CONTROLLER-BUSY", message: `repository ${name} is being processed by ${outcome.holder ?? "another replica"}`, hint: "retry in a moment" });
      }
      return outcome.value;
    });
  }

  /**
   * Run `fn` as the repository's one worker only if it is free now: nothing of it running or
   * waiting in this process, and its lease not held by another replica (which is then processing
   * it). Undefined, having waited for nothing, otherwise. Drift passes run this way (drift.ts).
   */
  whenFree<T>(name: string, fn: (repository: Repository) => Promise<T>): Promise<T | undefined> {
    if (this.stopping || this.queue.depth(name) > 0) return Promise.resolve(undefined);
    return this.queue.run(name, async () => {
      const repo = await registeredRepository(this.options.store, name);
      const outcome = await this.withLease(repo, async () => ({ value: await fn(repo) }), { quiet: true });
      return "kind" in outcome ? undefined : outcome.value;
    });
  }

  /** Take no new work (but polls); stop() of the sources then waits for idle(). */
  stop(): void {
    this.stopping = true;
  }

  /** Settles once everything queued so far has run. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Hold the repository's lease while `fn` runs, renewing it; another replica holding it ⇒ held-elsewhere (`quiet`: not reported). */
  private async withLease<T>(repo: Repository, fn: (lease: HeldLease) => Promise<T>, options: { quiet?: boolean } = {}): Promise<T | { kind: "held-elsewhere"; holder: string | undefined }> {
    const { store, clock, holder, emit } = this.options;
    const ttl = this.options.leaseTtlMs ?? 60_000;
    const key = repositoryLeaseKey(repo.name, repo.branch);
    if (!(await store.acquireLease(key, holder, ttl))) {
      const other = (await store.getLease(key))?.holder;
      if (!options.quiet) emit({ type: "lease-held-elsewhere", repository: repo.name, holder: other });
      return { kind: "held-elsewhere", holder: other };
    }
    const stop = new AbortController();
    const lease: HeldLease = { lost: false };
    const renewing = (async () => {
      while (!stop.signal.aborted) {
        try {
          await clock.sleep(Math.max(1, Math.floor(ttl / 3)), stop.signal);
        } catch {
          return;
        }
        // A store error counts as lost: compare-and-set still guards the last commit.
        const renewed = await store.renewLease(key, holder, ttl).catch(() => undefined);
        if (!renewed) {
          lease.lost = true;
          emit({ type: "lease-lost", repository: repo.name });
          return;
        }
      }
    })();
    try {
      return await fn(lease);
    } finally {
      stop.abort();
      await renewing;
      await store.releaseLease(key, holder).catch(() => false);
    }
  }
}
