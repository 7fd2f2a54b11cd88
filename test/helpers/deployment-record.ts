/** A deployment record as the runner persists it, for tests of what is said about one (progress lines, serve's waiting lines). */
import type { Deployment } from "../../src/store/types.ts";

/** A rolling deployment of 2 tasks, stabilizing with both pending, its deadline `deadline`. */
export function stabilizingRecord(deadline: number, over: Partial<Deployment> = {}): Deployment {
  return {
    id: "d1",
    object: "shop/api/api",
    phase: "Stabilizing",
    strategy: "rolling",
    counts: { desired: 2, running: 0, pending: 2, failed: 0 },
    trafficWeight: null,
    finishedAt: null,
    machineState: { deadline },
    ...over,
  } as Deployment;
}
