/**
 * The wire server's simulated time: it moves only when the server moves it (to real time × speed,
 * before each request), and sleepers (injected API latency) wake in time order, each at its own
 * instant, with their continuation run before the next wakes. Replaying a journal moves it through
 * the same instants, so the world comes out the same (journal.ts).
 */
import type { Clock } from "../../core/clock.ts";

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** One trip through the event loop: every promise continuation queued so far has run. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class SteppedClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly sleepers: Sleeper[] = [];
  private onSleep: (() => void) | undefined;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const s: Sleeper = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve, reject };
      signal?.addEventListener("abort", () => {
        const i = this.sleepers.indexOf(s);
        if (i >= 0) this.sleepers.splice(i, 1);
        reject(signal.reason as Error);
      });
      this.sleepers.push(s);
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const told = this.onSleep;
      this.onSleep = undefined;
      told?.();
    });
  }

  /**
   * Start `run` and wait until it has finished or is waiting on this clock, whichever comes first;
   * its outcome is returned unawaited. Calls only ever wait on the clock, so this is the point where
   * the next call may start, the same live and in replay.
   */
  async start<T>(run: () => Promise<T>): Promise<{ outcome: Promise<T> }> {
    let told!: () => void;
    const sleeping = new Promise<void>((resolve) => (told = resolve));
    this.onSleep = told;
    const outcome = run();
    const done = outcome.then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([done, sleeping]);
    if (this.onSleep === told) this.onSleep = undefined;
    return { outcome };
  }

  /** When the earliest sleeper wakes, if any sleeps. */
  nextWake(): number | undefined {
    return this.sleepers[0]?.at;
  }

  /** Move to `t` (never back), waking due sleepers one at a time at their own instants. */
  async advanceTo(t: number): Promise<void> {
    for (let s = this.sleepers[0]; s && s.at <= t; s = this.sleepers[0]) {
      this.sleepers.shift();
      if (s.at > this.current) this.current = s.at;
      s.resolve();
      await turn();
    }
    if (t > this.current) this.current = t;
  }
}
