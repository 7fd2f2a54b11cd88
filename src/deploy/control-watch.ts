/**
 * Operator controls (abort, promote, pause, resume) for every deployment a runner has waiting,
 * read in one store query per `pollMs` — the deployments with unconsumed controls — instead of one
 * query per waiting deployment: a thousand deployments polling ECS cost one look at the store
 * every few seconds, not hundreds a second. A control is noticed within `pollMs` either way.
 */
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";

export class ControlWatch {
  private readonly store: Pick<Store, "deploymentsWithPendingControls">;
  private readonly clock: Clock;
  private readonly pollMs: number;
  /** Deployments waiting, each with the waits to end when a control arrives for it. */
  private readonly waiting = new Map<string, Set<() => void>>();
  private running = false;
  /** What the last look found, and when it was taken. */
  private pending = new Set<string>();
  private lookedAt = Number.NEGATIVE_INFINITY;

  constructor(options: { store: Pick<Store, "deploymentsWithPendingControls">; clock: Clock; pollMs: number }) {
    this.store = options.store;
    this.clock = options.clock;
    this.pollMs = options.pollMs;
  }

  /** Resolves when a look finds a control pending for the deployment, or when `signal` aborts. */
  until(deploymentId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      let waits = this.waiting.get(deploymentId);
      if (!waits) this.waiting.set(deploymentId, (waits = new Set()));
      const done = () => {
        waits.delete(done);
        if (waits.size === 0 && this.waiting.get(deploymentId) === waits) this.waiting.delete(deploymentId);
        resolve();
      };
      waits.add(done);
      signal.addEventListener("abort", done, { once: true });
      this.run();
    });
  }

  /**
   * Whether the deployment may have a control pending: the last look found one, or the last look
   * is older than a poll (nobody was waiting). When false, asking the store again would find none
   * that the watch would not find within a poll.
   */
  mayHave(deploymentId: string): boolean {
    return this.pending.has(deploymentId) || this.clock.now() - this.lookedAt > this.pollMs;
  }

  private run(): void {
    if (this.running) return;
    this.running = true;
    void (async () => {
      try {
        while (this.waiting.size > 0) {
          await this.clock.sleep(this.pollMs);
          if (this.waiting.size === 0) break;
          let ids: string[];
          try {
            ids = await this.store.deploymentsWithPendingControls();
          } catch {
            continue; // the store may be briefly unavailable: the next look tries again
          }
          this.pending = new Set(ids);
          this.lookedAt = this.clock.now();
          for (const id of ids) for (const wake of [...(this.waiting.get(id) ?? [])]) wake();
        }
      } finally {
        this.running = false;
      }
    })();
  }
}
