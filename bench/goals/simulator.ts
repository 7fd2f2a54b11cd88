/**
 * G3, the simulator: N services of 10 tasks each all rolling to a new task definition at once,
 * followed for 15 simulated minutes with nobody polling (the world's own work), and again with a
 * deployment engine's polling of today (every 15 s: DescribeServices 10 at a time, and per
 * service ListTasks of its stopped tasks and DescribeTasks of them).
 */
import { VirtualClock } from "../../src/core/clock.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import { timed } from "./measure.ts";

const SIMULATED_MS = 15 * 60_000;

function world(services: number) {
  const clock = new VirtualClock();
  const sim = loadScenario(
    parseScenario({
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
        desiredCount: 10,
        deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150, deploymentCircuitBreaker: { enable: true, rollback: true } },
      })),
    }),
    clock,
  );
  return { clock, sim, ecs: sim.ports().ecs };
}

export interface SimulatorRun {
  services: number;
  /** Simulated seconds per second of CPU, and per wall second. */
  perCpu: number;
  perWall: number;
  events: number;
  completed: number;
}

export async function simulateRollout(services: number, observe: boolean): Promise<SimulatorRun> {
  const { clock, sim, ecs } = world(services);
  for (let i = 0; i < services; i++) await ecs.updateService({ cluster: "bench", service: `svc-${i}`, taskDefinition: "app:2" });
  const names = Array.from({ length: services }, (_, i) => `svc-${i}`);
  const events0 = sim.eventsRun;
  const step = observe ? 15_000 : 10_000;
  const t = await timed(async () => {
    for (let elapsed = 0; elapsed < SIMULATED_MS; elapsed += step) {
      await clock.advance(step);
      sim.sync();
      if (!observe) continue;
      for (let i = 0; i < services; i += 10) await ecs.describeServices("bench", names.slice(i, i + 10));
      for (const s of names) {
        const stopped = await ecs.listTasks({ cluster: "bench", serviceName: s, desiredStatus: "STOPPED" });
        if (stopped.length) await ecs.describeTasks("bench", stopped);
      }
    }
  });
  const completed = [...sim.clusters.get("bench")!.services.values()].filter((s) => s.deployments.length === 1 && s.deployments[0]!.rolloutState === "COMPLETED").length;
  if (completed !== services) throw new Error(`only ${completed} of ${services} rollouts completed`);
  return { services, perCpu: SIMULATED_MS / 1000 / t.cpu, perWall: SIMULATED_MS / 1000 / t.wall, events: sim.eventsRun - events0, completed };
}
