/**
 * The poller: one loop per registered repository, syncing it every `pollIntervalSeconds` (through
 * the repository's queue, so a poll never overlaps a webhook's or a manual deploy's work), and a
 * refresher that starts loops for repositories registered since; a removed repository's loop ends.
 */
import type { Clock } from "../core/clock.ts";
import { isFlotillaError } from "../core/problems.ts";
import type { Store } from "../store/store.ts";
import type { RepositoryQueue } from "./repository-queue.ts";
import { syncFailed, type EmitSourceEvent } from "./source-events.ts";

export interface PollerOptions {
  store: Store;
  clock: Clock;
  queue: RepositoryQueue;
  emit: EmitSourceEvent;
  /** How often the poller looks for added or removed repositories (default 30 s). */
  refreshIntervalMs?: number;
}

export class Poller {
  private readonly options: PollerOptions;
  private readonly loops = new Map<string, Promise<void>>();
  private polling: AbortController | undefined;
  private refresher: Promise<void> | undefined;

  constructor(options: PollerOptions) {
    this.options = options;
  }

  /** Poll every registered repository on its interval (and pick up added or removed ones). */
  start(): void {
    if (this.polling) return;
    const ac = new AbortController();
    this.polling = ac;
    const refreshEvery = this.options.refreshIntervalMs ?? 30_000;
    this.refresher = (async () => {
      while (!ac.signal.aborted) {
        try {
          await this.refresh();
        } catch (e) {
          this.options.emit(syncFailed("*", e));
        }
        try {
          await this.options.clock.sleep(refreshEvery, ac.signal);
        } catch {
          return;
        }
      }
    })();
  }

  /** Start a poll loop for every registered repository that has none. */
  async refresh(): Promise<void> {
    const ac = this.polling;
    if (!ac) return;
    for (const repo of await this.options.store.listRepositories()) {
      if (!this.loops.has(repo.name)) this.loop(repo.name, ac.signal);
    }
  }

  /**
   * A repository was registered or changed: look at it now rather than at the next refresh. A new
   * one gets its poll loop (which syncs at once); a known one is synced.
   */
  watch(name: string): void {
    const ac = this.polling;
    if (this.options.queue.stopped) return;
    if (ac && !this.loops.has(name)) return this.loop(name, ac.signal);
    this.options.queue.sync(name, "poll").catch((e: unknown) => this.options.emit(syncFailed(name, e)));
  }

  /** End every loop and wait for them (a sync in flight finishes in the repository's queue). */
  async stop(): Promise<void> {
    this.polling?.abort();
    this.polling = undefined;
    await this.refresher;
    await Promise.all([...this.loops.values()]);
  }

  private loop(name: string, signal: AbortSignal): void {
    const loop = this.pollLoop(name, signal).finally(() => this.loops.delete(name));
    this.loops.set(name, loop);
  }

  private async pollLoop(name: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let interval = 60_000;
      try {
        const repo = await this.options.store.getRepository(name);
        if (!repo) return; // removed
        interval = repo.pollIntervalSeconds * 1000;
        await this.options.queue.sync(name, "poll");
      } catch (e) {
        // Work cut short by a stop is not a failure: the repository's next owner carries on.
        if (!(signal.aborted && isFlotillaError(e) && e.code === "FLT-CONTROLLER-STOPPING")) this.options.emit(syncFailed(name, e));
      }
      try {
        await this.options.clock.sleep(interval, signal);
      } catch {
        return;
      }
    }
  }
}
