/** Shared by the goal benchmarks: CPU and wall time of a piece of work, and medians of repeats. */

export interface Timing {
  /** CPU seconds of this process (user + system): what a loaded, shared machine distorts least. */
  cpu: number;
  wall: number;
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ result: T } & Timing> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const result = await fn();
  const c = process.cpuUsage(c0);
  return { result, cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000 };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The sizes every goal with an N is measured at, to show how it grows. */
export const SIZES = [100, 1000, 2000] as const;

export const fmt = (n: number, digits = 2): string => (Number.isInteger(n) ? String(n) : n.toFixed(digits));
