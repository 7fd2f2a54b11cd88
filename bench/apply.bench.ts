/** Apply 1,000 rolling services on the simulator (virtual time): wall time, AWS calls, peak memory. */
import type { AwsPortsFactory } from "../src/aws/ports.ts";
import { countingPorts, total } from "./counting.ts";
import { apply } from "../src/controller/apply.ts";
import { simulatedEngine } from "../src/app/simulated.ts";
import type { Runner } from "../src/deploy/runner.ts";
import type { Simulator } from "../src/sim/simulator.ts";
import type { Store } from "../src/store/store.ts";
import type { BenchFigure } from "./run.ts";
import { fleetObject } from "../test/helpers/fleet.ts";

const SERVICES = 1000;

async function pass(image: string, sim: Simulator, aws: AwsPortsFactory, runner: Runner, store: Store) {
  const objects = Array.from({ length: SERVICES }, (_, i) => fleetObject(i, image, { desiredCount: 3, ecsBreaker: true }));
  const start = performance.now();
  const r = await apply(objects, { store, aws, runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 100 });
  const seconds = (performance.now() - start) / 1000;
  const ok = r.deployments.filter((d) => d.phase === "Succeeded").length;
  if (ok !== SERVICES) throw new Error(`only ${ok}/${SERVICES} deployments succeeded: ${r.deployments.find((d) => d.phase !== "Succeeded")?.message}`);
  void sim;
  return seconds;
}

export default async function (): Promise<BenchFigure[]> {
  const calls = new Map<string, number>();
  // Count what reaches "AWS": beneath the batching, rate limiting and retries every caller uses.
  const engine = await simulatedEngine({ clusters: ["apps"], wrap: (ports) => countingPorts(ports, calls) });
  const { clock, sim, store, aws } = engine;
  const runner = engine.runner({ sampling: false });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const simStart = clock.now();
    const create = await pass("app:1", sim, aws, runner, store);
    const createCalls = total(calls);
    calls.clear();
    const update = await pass("app:2", sim, aws, runner, store);
    const updateCalls = total(calls);
    const top = [...calls.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v}`).join(", ");
    return [
      { name: `create ${SERVICES} services: wall time`, value: create, unit: "s" },
      { name: `create ${SERVICES} services: AWS calls`, value: createCalls, unit: "calls", note: `${(createCalls / SERVICES).toFixed(1)} per service` },
      { name: `update ${SERVICES} services (one commit): wall time`, value: update, unit: "s" },
      { name: `update ${SERVICES} services: AWS calls`, value: updateCalls, unit: "calls", note: top },
      { name: "simulated time for both passes", value: (clock.now() - simStart) / 1000, unit: "s" },
      { name: "peak resident memory", value: peak / 1024 / 1024, unit: "MiB" },
    ];
  } finally {
    clearInterval(sampler);
    await engine.close();
  }
}
