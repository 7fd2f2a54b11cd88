/**
 * G2: one commit updating 1,000 rolling services (a new image each), applied at the default
 * settings against the simulator with ECS's request-rate buckets on. Registering 1,000 task
 * definitions cannot take less than 980 s (RegisterTaskDefinition: a burst of 20, then 1 per
 * second), so the figure is 980 s ÷ the commit's simulated duration (1 would be the floor itself),
 * with the ThrottlingExceptions answered along the way and the deployments that failed.
 */
import { simulatedEngine } from "../../src/app/simulated.ts";
import type { AwsPorts } from "../../src/aws/ports.ts";
import { ECS_BUCKETS } from "../../src/aws/rate-limits.ts";
import { DEFAULT_CONCURRENCY, type Concurrency } from "../../src/controller/pacing.ts";
import { apply } from "../../src/controller/apply.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { fleetObject, fleetScenario } from "../../test/helpers/fleet.ts";

/** Counts ThrottlingException answers, beneath the retries that hide them. */
function throttleCounting(ports: AwsPorts, counter: { throttled: number }): AwsPorts {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const v = Reflect.get(t, key, receiver) as unknown;
        if (typeof v !== "function") return v;
        return async (...args: unknown[]) => {
          try {
            return await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          } catch (e) {
            if (e instanceof Error && (e.name === "ThrottlingException" || e.name === "Throttling")) counter.throttled++;
            throw e;
          }
        };
      },
    });
  return { ...ports, ecs: wrap(ports.ecs), elbv2: wrap(ports.elbv2), cloudwatch: wrap(ports.cloudwatch) };
}

export interface CommitRun {
  services: number;
  /** Simulated seconds from the start of the pass to its last deployment's end. */
  seconds: number;
  /** The RegisterTaskDefinition floor for this many services. */
  floor: number;
  throttled: number;
  failed: number;
  concurrency: Concurrency;
}

export async function commitOfUpdates(services: number, concurrency: Concurrency = DEFAULT_CONCURRENCY): Promise<CommitRun> {
  const scenario = fleetScenario(services, { throttling: true, ecsBreaker: true });
  const counter = { throttled: 0 };
  const engine = await simulatedEngine({ sim: (clock) => loadScenario(scenario, clock), wrap: (ports) => throttleCounting(ports, counter) });
  const { clock, store, aws } = engine;
  try {
    const runner = engine.runner({ sampling: false });
    const objects = Array.from({ length: services }, (_, i) => fleetObject(i, "app:2", { ecsBreaker: true }));
    // The buckets start full, as an account's would after a quiet while.
    const start = clock.now();
    const r = await apply(objects, { store, aws, runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency });
    const seconds = (clock.now() - start) / 1000;
    const bucket = ECS_BUCKETS["task-definition-modify"];
    const floor = Math.max(0, services - bucket.burst) / bucket.refillPerSecond;
    const failed = r.deployments.filter((d) => d.phase !== "Succeeded").length + r.errors.length + (services - r.deployments.length - r.errors.length);
    return { services, seconds, floor, throttled: counter.throttled, failed, concurrency };
  } finally {
    await engine.close();
  }
}
