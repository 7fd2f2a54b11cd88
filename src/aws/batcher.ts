/**
 * Coalesces reads from concurrent callers. Calls made in the same event-loop turn (or within
 * `windowMs` of clock time) for the same key — a cluster — are merged, de-duplicated, split into
 * AWS's maximum batch size and sent together; each caller then receives only its own items.
 * A deployment engine polling 100 services in one cluster makes 10 DescribeServices calls, not 100.
 */
import type { Clock } from "../core/clock.ts";

interface Waiter<R> {
  ids: readonly string[];
  resolve: (r: R[]) => void;
  reject: (e: unknown) => void;
}

export interface BatcherOptions<R> {
  maxBatch: number;
  /** Fetch one batch (≤ maxBatch ids) for `key`. Results may come back in any order. */
  fetch: (key: string, ids: string[]) => Promise<R[]>;
  /** Which requested id a result answers (several ids may match, e.g. name and ARN). */
  matches: (result: R, id: string) => boolean;
  clock?: Clock;
  windowMs?: number;
}

export class Batcher<R> {
  private readonly pending = new Map<string, Waiter<R>[]>();
  private readonly opts: BatcherOptions<R>;

  constructor(opts: BatcherOptions<R>) {
    this.opts = opts;
  }

  load(key: string, ids: readonly string[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      let waiters = this.pending.get(key);
      if (!waiters) {
        waiters = [];
        this.pending.set(key, waiters);
        this.schedule(key);
      }
      waiters.push({ ids, resolve, reject });
    });
  }

  private schedule(key: string): void {
    const { clock, windowMs } = this.opts;
    if (clock && windowMs && windowMs > 0) void clock.sleep(windowMs).then(() => this.flush(key));
    else setImmediate(() => void this.flush(key));
  }

  private async flush(key: string): Promise<void> {
    const waiters = this.pending.get(key) ?? [];
    this.pending.delete(key);
    const unique = [...new Set(waiters.flatMap((w) => w.ids))];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += this.opts.maxBatch) chunks.push(unique.slice(i, i + this.opts.maxBatch));
    const settled = await Promise.allSettled(chunks.map((c) => this.opts.fetch(key, c)));
    const results: R[] = [];
    const errorsById = new Map<string, unknown>();
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") results.push(...s.value);
      else for (const id of chunks[i]!) errorsById.set(id, s.reason);
    });
    for (const w of waiters) {
      const failed = w.ids.find((id) => errorsById.has(id));
      if (failed !== undefined) {
        w.reject(errorsById.get(failed));
        continue;
      }
      w.resolve(results.filter((r) => w.ids.some((id) => this.opts.matches(r, id))));
    }
  }
}
