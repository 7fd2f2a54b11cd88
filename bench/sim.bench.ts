/**
 * Simulator throughput: 2,000 services of 10 tasks each (20,000 tasks) all rolling to a new task
 * definition at once, followed for 15 simulated minutes (goals/simulator.ts; the G3 goal and its
 * growth with N are in goals.bench.ts).
 */
import { simulateRollout } from "./goals/simulator.ts";
import type { BenchFigure } from "./run.ts";

export default async function (): Promise<BenchFigure[]> {
  const r = await simulateRollout(2000, false);
  return [
    { name: "simulated seconds per wall second (2,000 services × 10 tasks)", value: r.perWall, unit: "sim-s/s", note: `${Math.round(r.perCpu)} per CPU second` },
    { name: "simulator events processed per CPU second", value: Math.round(r.events * (r.perCpu / 900)), unit: "events/s" },
    { name: "rolling deployments completed in that time", value: r.completed, unit: `of ${r.services}` },
  ];
}
