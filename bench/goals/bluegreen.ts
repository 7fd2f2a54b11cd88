/**
 * G6: AWS calls (ECS, ELBv2, CloudWatch) for one blue/green LINEAR deployment of 5 steps (20 %
 * every 120 s, 300 s bake) polling every 10 s, with one alarm: the world of bluegreen.bench.ts.
 */
import { spec, world } from "../bluegreen.bench.ts";
import { total } from "../counting.ts";

export interface BlueGreenRun {
  calls: number;
  seconds: number;
  byOperation: Record<string, number>;
}

export async function blueGreenCalls(): Promise<BlueGreenRun> {
  const w = await world({ name: "web-5xx" });
  try {
    await w.runner.run(await w.runner.create(spec(w.sim, "web:1", 10), { strategy: "bluegreen" }));
    w.calls.clear();
    const start = w.clock.now();
    const d = await w.runner.run(await w.runner.create(spec(w.sim, "web:2", 10), { strategy: "bluegreen" }));
    if (d.phase !== "Succeeded") throw new Error(`${d.reason}: ${d.message}`);
    return { calls: total(w.calls), seconds: (w.clock.now() - start) / 1000, byOperation: Object.fromEntries([...w.calls].sort((a, b) => b[1] - a[1])) };
  } finally {
    await w.store.close();
  }
}
