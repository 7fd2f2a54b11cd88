/**
 * G1: ECS calls per poll round while N rolling deployments in one cluster wait for their services
 * to stabilise (their new tasks take minutes to start), counted beneath the batcher, rate limiter
 * and retries every caller uses, over 20 rounds. The baseline, measured in the same run against
 * the same world: N per-service waiters (a DescribeServices of their one service per round, as
 * `aws ecs wait services-stable` does).
 */
import { simulatedEngine } from "../../src/app/simulated.ts";
import { depdefSchema } from "../../src/config/depdef.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { fleetScenario } from "../../test/helpers/fleet.ts";
import { countingPorts } from "../counting.ts";

const POLL_S = 15;
const ROUNDS = 20;

function spec(i: number): DeploySpec {
  const name = `svc${i}`;
  return {
    object: `apps/${name}/${name}`,
    region: "us-east-1",
    cluster: "apps",
    service: name,
    svcdef: { cluster: "apps", serviceName: name, desiredCount: 2, launchType: "FARGATE", deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } },
    taskdef: { family: name, containerDefinitions: [{ name: "app", image: "app:2", essential: true }] },
    depdef: depdefSchema.parse({ stabilityCheck: { pollInterval: POLL_S, timeout: 3600 } }),
  };
}

export interface PollingRun {
  services: number;
  /** ECS calls per round: the deployment engine's, and N per-service waiters'. */
  engine: number;
  waiters: number;
  byOperation: Record<string, number>;
}

export async function pollRound(services: number): Promise<PollingRun> {
  // The new tasks take 30 minutes to start: every deployment is still waiting through the rounds
  // counted, which begin once the last task definition is registered (20 at once, then 1 a second).
  const scenario = fleetScenario(services, { faults: [{ image: "app:2", startDelay: "30m" }] });
  const calls = new Map<string, number>();
  const engine = await simulatedEngine({ sim: (clock) => loadScenario(scenario, clock), wrap: (ports) => countingPorts(ports, calls) });
  const { clock, sim } = engine;
  try {
    const runner = engine.runner({ sampling: false });
    const runs = Array.from({ length: services }, async (_, i) => runner.run(await runner.create(spec(i), { strategy: "rolling" })));
    await clock.sleep(Math.max(0, services - 20) * 1000 + 120_000); // all registered, updated and polling
    // The waiters poll the same world on the same interval, each on its own (no batcher: separate processes).
    const waiterCalls = new Map<string, number>();
    const raw = countingPorts(sim.ports(), waiterCalls);
    const waiting = Array.from({ length: services }, async (_, i) => {
      for (let r = 0; r < ROUNDS; r++) {
        await clock.sleep(POLL_S * 1000);
        await raw.ecs.describeServices("apps", [`svc${i}`]);
      }
    });
    calls.clear();
    const from = clock.now();
    await Promise.all(waiting);
    const rounds = (clock.now() - from) / (POLL_S * 1000);
    const ecs = [...calls].filter(([k]) => k.startsWith("ecs."));
    const perRound = ecs.reduce((s, [, v]) => s + v, 0) / rounds;
    const waiters = [...waiterCalls.values()].reduce((s, v) => s + v, 0) / rounds;
    const byOperation = Object.fromEntries(ecs.map(([k, v]) => [k, Math.round((v / rounds) * 10) / 10]));
    const ended = await Promise.all(runs);
    const failed = ended.filter((d) => d.phase !== "Succeeded");
    if (failed.length) throw new Error(`${failed.length} deployments did not succeed: ${failed[0]!.reason} ${failed[0]!.message}`);
    return { services, engine: perRound, waiters, byOperation };
  } finally {
    await engine.close();
  }
}
