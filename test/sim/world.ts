/** Shared set-up for simulator tests: a virtual clock, a simulator and quick builders. */
import { VirtualClock } from "../../src/core/clock.ts";
import { Simulator } from "../../src/sim/simulator.ts";
import type { SimulatorOptions } from "../../src/sim/core.ts";
import type { Service } from "../../src/aws/ports.ts";

export interface World {
  clock: VirtualClock;
  sim: Simulator;
  /** Move simulated time on by `ms` and let the simulator catch up. */
  run(ms: number): Promise<void>;
  service(name: string, cluster?: string): Promise<Service>;
  /** Step `stepMs` at a time until `pred` holds; returns the elapsed ms, or throws after `maxMs`. */
  until(pred: () => boolean | Promise<boolean>, maxMs?: number, stepMs?: number): Promise<number>;
}

export function world(opts: Partial<SimulatorOptions> = {}): World {
  const clock = new VirtualClock();
  const sim = new Simulator({ throttling: false, ...opts, clock });
  sim.addCluster("prod");
  const w: World = {
    clock,
    sim,
    async run(ms) {
      await clock.advance(ms);
      sim.sync();
    },
    async service(name, cluster = "prod") {
      const r = await sim.ports().ecs.describeServices(cluster, [name]);
      const s = r.services[0];
      if (!s) throw new Error(`no service ${name}`);
      return s;
    },
    async until(pred, maxMs = 3_600_000, stepMs = 1_000) {
      const start = clock.now();
      while (!(await pred())) {
        if (clock.now() - start > maxMs) throw new Error(`condition not reached within ${maxMs} ms`);
        await w.run(stepMs);
      }
      return clock.now() - start;
    },
  };
  return w;
}

export function taskdef(family: string, image: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { family, containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }], ...extra };
}

import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";

/** A simulator built from a scenario object, with helpers to move time. */
export function scenarioWorld(data: Record<string, unknown>) {
  const clock = new VirtualClock();
  const sim = loadScenario(parseScenario({ throttling: false, ...data }), clock);
  const ports = sim.ports();
  return {
    clock,
    sim,
    ...ports,
    async step(ms = 1000) {
      await clock.advance(ms);
      sim.sync();
    },
    async service(name: string, cluster = "prod"): Promise<Service> {
      const s = (await ports.ecs.describeServices(cluster, [name])).services[0];
      if (!s) throw new Error(`no service ${name}`);
      return s;
    },
  };
}

export const WEB_TG = { name: "web", healthCheck: { intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 }, deregistrationDelaySeconds: 30 };
export const WEB_LB = { name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "web" }] }] };
