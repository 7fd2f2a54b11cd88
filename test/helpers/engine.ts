/** An engine on the simulator: virtual clock, in-memory store, a runner — for end-to-end tests. */
import { VirtualClock } from "../../src/core/clock.ts";
import { Simulator } from "../../src/sim/simulator.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { depdefSchema, type DepDef } from "../../src/config/depdef.ts";
import type { Deployment, DeploymentEvent } from "../../src/store/types.ts";

export interface Engine {
  clock: VirtualClock;
  sim: Simulator;
  store: Store;
  runner: Runner;
  /** Create and run a deployment to its end. */
  deploy(spec: DeploySpec, strategy?: "rolling" | "delete"): Promise<Deployment>;
  events(d: Deployment): Promise<DeploymentEvent[]>;
  close(): Promise<void>;
}

export async function engine(options: { cluster?: string } = {}): Promise<Engine> {
  const clock = new VirtualClock({ autoAdvance: true });
  const sim = new Simulator({ clock, throttling: false });
  sim.addCluster(options.cluster ?? "apps");
  const store = await openSqliteStore({ path: ":memory:", clock });
  const runner = new Runner({ store, aws: sim.portsFactory(), clock });
  return {
    clock,
    sim,
    store,
    runner,
    async deploy(spec, strategy = "rolling") {
      return runner.run(await runner.create(spec, { strategy }));
    },
    events: (d) => store.listEvents(d.id),
    close: () => store.close(),
  };
}

export function depdef(over: Record<string, unknown> = {}): DepDef {
  return depdefSchema.parse(over);
}

export function rollingSpec(service: string, image: string, over: { svcdef?: Record<string, unknown>; depdef?: Record<string, unknown>; region?: string } = {}): DeploySpec {
  return {
    object: `apps/${service}/${service}`,
    region: over.region ?? "us-east-1",
    cluster: "apps",
    service,
    svcdef: {
      cluster: "apps",
      serviceName: service,
      desiredCount: 4,
      launchType: "FARGATE",
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      ...over.svcdef,
    },
    taskdef: { family: service, containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    depdef: depdef({ stabilityCheck: { pollInterval: 15, timeout: 600 }, ...over.depdef }),
  };
}
