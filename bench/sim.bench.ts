/**
 * Simulator throughput: 2,000 services of 10 tasks each (20,000 tasks) all rolling to a new task
 * definition at once, followed for 15 simulated minutes. Reports simulated seconds per wall second.
 */
import { VirtualClock } from "../src/core/clock.ts";
import { loadScenario, parseScenario } from "../src/sim/scenario.ts";
import type { BenchFigure } from "./run.ts";

export default async function (): Promise<BenchFigure[]> {
  const services = 2000;
  const tasksPer = 10;
  const clock = new VirtualClock();
  const scenario = parseScenario({
    throttling: false,
    clusters: ["bench"],
    taskDefinitions: [
      { family: "app", containerDefinitions: [{ name: "app", image: "bench/app:1", essential: true }] },
      { family: "app", containerDefinitions: [{ name: "app", image: "bench/app:2", essential: true }] },
    ],
    services: Array.from({ length: services }, (_, i) => ({
      cluster: "bench",
      serviceName: `svc-${i}`,
      taskDefinition: "app:1",
      desiredCount: tasksPer,
      deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150, deploymentCircuitBreaker: { enable: true, rollback: true } },
    })),
  });
  const setupStart = performance.now();
  const sim = loadScenario(scenario, clock);
  const ecs = sim.ports().ecs;
  for (let i = 0; i < services; i++) await ecs.updateService({ cluster: "bench", service: `svc-${i}`, taskDefinition: "app:2" });
  const setupMs = performance.now() - setupStart;

  const simulatedMs = 15 * 60_000;
  const start = performance.now();
  const events0 = sim.eventsRun;
  for (let t = 0; t < simulatedMs; t += 10_000) {
    await clock.advance(10_000);
    sim.sync();
  }
  const wallMs = performance.now() - start;
  const done = [...sim.clusters.get("bench")!.services.values()].filter((s) => s.deployments.length === 1 && s.deployments[0]!.rolloutState === "COMPLETED").length;
  return [
    { name: "simulated seconds per wall second (2,000 services × 10 tasks)", value: simulatedMs / 1000 / (wallMs / 1000), unit: "sim-s/s", note: `${Math.round(wallMs)} ms wall for ${simulatedMs / 60_000} simulated minutes` },
    { name: "simulator events processed per wall second", value: Math.round((sim.eventsRun - events0) / (wallMs / 1000)), unit: "events/s" },
    { name: "rolling deployments completed in that time", value: done, unit: `of ${services}` },
    { name: "set-up: load scenario and issue 2,000 UpdateService calls", value: setupMs, unit: "ms" },
  ];
}
