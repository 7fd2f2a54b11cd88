/**
 * The simulator's agenda: callbacks at simulated times, run in (time, insertion) order.
 *
 * A busy world schedules hundreds of thousands of events, so an event is cheap: the callback is
 * usually a module-level function given its argument (a task, a service) instead of a closure made
 * for the occasion, an event guarded by a task's generation is skipped once the task has moved on,
 * and event records are reused once run.
 */
type EventFn = (arg: never, sim: never) => void;

export interface SimEvent {
  at: number;
  seq: number;
  fn: EventFn;
  arg: unknown;
  /** Run only while `arg.gen` still equals this (a task's lifecycle step); -1: always run. */
  gen: number;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  /** Records of events already run, for reuse (a few thousand at most). */
  private readonly free: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** When the earliest event is due, if any. */
  nextAt(): number | undefined {
    return this.heap[0]?.at;
  }

  push<A, S>(at: number, fn: (arg: A, sim: S) => void, arg?: A, gen = -1): void {
    const ev: SimEvent = this.free.pop() ?? { at: 0, seq: 0, fn, arg: undefined, gen: -1 };
    ev.at = at;
    ev.seq = this.seq++;
    ev.fn = fn;
    ev.arg = arg;
    ev.gen = gen;
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  /**
   * Run the earliest event if it is due at or before `t`, after moving `sim.now` to its time;
   * false when nothing is due.
   */
  runNext(t: number, sim: { now: number; eventsRun: number }): boolean {
    const h = this.heap;
    const top = h[0];
    if (!top || top.at > t) return false;
    const last = h.pop()!;
    if (h.length > 0) {
      // Sift `last` down from the root.
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    if (top.at > sim.now) sim.now = top.at;
    sim.eventsRun++;
    const { fn, arg, gen } = top;
    top.arg = undefined;
    if (this.free.length < 4096) this.free.push(top);
    if (gen < 0 || (arg as { gen: number }).gen === gen) (fn as (a: unknown, s: unknown) => void)(arg, sim);
    return true;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
