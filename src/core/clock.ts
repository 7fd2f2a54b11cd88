/**
 * Time, injected. Everything that waits (deployment runners, the simulator, rate limiters) asks a
 * `Clock`, so tests and rehearsals can run an hour of deployment in milliseconds.
 */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error("The operation was aborted.", { cause: r });
  e.name = "AbortError";
  return e;
}

/** Wall-clock time. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return scaledSleep(ms, 1, signal);
  }
}

function scaledSleep(ms: number, factor: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms / factor),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Real time running `factor` times faster, starting at `epoch` (default: now). For the demo: the
 * simulator follows this clock lazily, so a 60× clock shows a ten-minute rollout in ten seconds.
 */
export class ScaledClock implements Clock {
  readonly factor: number;
  private readonly realStart: number;
  private readonly epoch: number;
  constructor(factor: number, epoch: number = Date.now()) {
    if (!(factor > 0)) throw new RangeError("ScaledClock factor must be > 0");
    this.factor = factor;
    this.realStart = Date.now();
    this.epoch = epoch;
  }
  now(): number {
    return this.epoch + Math.floor((Date.now() - this.realStart) * this.factor);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return scaledSleep(ms, this.factor, signal);
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
  done: boolean;
}

export interface VirtualClockOptions {
  /** Start time, epoch ms (default 2026-01-01T00:00:00Z, so output is reproducible). */
  start?: number;
  /** Jump to the next timer by itself once the program has settled (see `setAutoAdvance`). */
  autoAdvance?: boolean;
  /** setImmediate turns without activity that count as "settled" (default 3). */
  settleTurns?: number;
}

/**
 * Time that moves only when told to. `advance`/`advanceTo` move it by hand, waking sleepers in
 * time order and letting the program settle after each instant. In auto-advance mode the clock
 * waits until the program has gone quiet (a few event-loop turns with no sleeper added or woken)
 * and then jumps straight to the earliest timer, so `await clock.sleep(30 * 60_000)` costs a
 * handful of event-loop turns.
 *
 * Every sleeper due at one instant wakes in the same turn, in the order the sleeps were asked for,
 * as Node runs every timer due at one millisecond in one timers phase before any setImmediate
 * callback. So work that coalesces calls made in one turn (the AWS batcher) sees the same
 * batches in virtual time as in real time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly heap: Sleeper[] = [];
  private seq = 0;
  private auto: boolean;
  private pumping = false;
  private activity = 0;
  private readonly settleTurns: number;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.start ?? Date.UTC(2026, 0, 1);
    this.auto = options.autoAdvance ?? false;
    this.settleTurns = options.settleTurns ?? 3;
  }

  now(): number {
    return this.current;
  }

  /** Number of sleepers not yet woken. */
  get pending(): number {
    return this.heap.length;
  }

  /** Time of the earliest sleeper, if any. */
  nextTimer(): number | undefined {
    return this.heap[0]?.at;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const s: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve, done: false };
      if (signal) {
        const onAbort = () => {
          if (s.done) return;
          s.done = true;
          this.remove(s);
          reject(abortReason(signal));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        s.resolve = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
      }
      this.push(s);
      this.activity++;
      if (this.auto) this.pump();
    });
  }

  /** Move time forward by `ms`, waking every sleeper due on the way, in order. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.current + ms);
  }

  async advanceTo(t: number): Promise<void> {
    for (;;) {
      await settle(this.settleTurns);
      const next = this.heap[0];
      if (!next || next.at > t) break;
      this.wakeInstant();
    }
    if (t > this.current) this.current = t;
    await settle(this.settleTurns);
  }

  /** Wake every pending sleeper, however far away, until none is left (bounded by `maxMs`). */
  async runAll(maxMs = Number.POSITIVE_INFINITY): Promise<void> {
    const limit = this.current + maxMs;
    for (;;) {
      await settle(this.settleTurns);
      const next = this.heap[0];
      if (!next || next.at > limit) return;
      this.wakeInstant();
    }
  }

  setAutoAdvance(on: boolean): void {
    this.auto = on;
    if (on) this.pump();
  }

  /**
   * Move to the earliest timer and wake every sleeper due then. Sleeps asked for by their
   * continuations (even of 0 ms) wait for the next instant's turn, as a timer set inside a timer
   * callback does.
   */
  private wakeInstant(): void {
    const first = this.heap[0];
    if (!first) return;
    const at = first.at;
    if (at > this.current) this.current = at;
    const due: Sleeper[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at === at) due.push(this.pop()!);
    for (const s of due) s.done = true;
    this.activity++;
    for (const s of due) s.resolve();
  }

  /** Auto-advance loop: runs only while sleepers exist, so an idle clock keeps no process alive. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const loop = async () => {
      try {
        while (this.auto && this.heap.length > 0) {
          const before = this.activity;
          await settle(this.settleTurns);
          if (this.activity !== before) continue; // still busy: let it settle
          this.wakeInstant();
        }
      } finally {
        this.pumping = false;
      }
    };
    void loop();
  }

  // Binary min-heap on (at, seq): timers with equal times wake in the order they were set.
  private less(a: Sleeper, b: Sleeper): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private push(s: Sleeper): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private pop(): Sleeper | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      this.siftDown(0);
    }
    return top;
  }
  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  private remove(s: Sleeper): void {
    const i = this.heap.indexOf(s);
    if (i < 0) return;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      this.siftDown(i);
      // The moved element may also need to rise.
      let j = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!this.less(this.heap[j]!, this.heap[p]!)) break;
        [this.heap[j], this.heap[p]] = [this.heap[p]!, this.heap[j]!];
        j = p;
      }
    }
  }
}

/** Let pending callbacks and promise chains run: `turns` trips through the event loop's check phase. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
