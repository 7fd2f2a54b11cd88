/** An engine on the simulator: virtual clock, in-memory store, a runner — for end-to-end tests, built by the composition root (src/app/). */
import { simulatedEngine, type SimulatedEngine } from "../../src/app/simulated.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import type { Store } from "../../src/store/store.ts";
import type { Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { depdefSchema, type DepDef } from "../../src/config/depdef.ts";
import type { Deployment, DeploymentEvent } from "../../src/store/types.ts";

export interface Engine {
  clock: VirtualClock;
  sim: Simulator;
  store: Store;
  runner: Runner;
  /** The engine as the composition root built it: more runners (with test hooks), a controller, a notifier. */
  engine: SimulatedEngine;
  /** Create and run a deployment to its end. */
  deploy(spec: DeploySpec, strategy?: "rolling" | "delete"): Promise<Deployment>;
  events(d: Deployment): Promise<DeploymentEvent[]>;
  close(): Promise<void>;
}

/** The simulator's ports are called directly (no batching or retries), so a test sees every call as the engine makes it. */
export async function engine(options: { cluster?: string } = {}): Promise<Engine> {
  const built = await simulatedEngine({ clusters: [options.cluster ?? "apps"], resilient: false });
  const { clock, sim, store } = built;
  const runner = built.runner();
  return {
    clock,
    sim,
    store,
    runner,
    engine: built,
    async deploy(spec, strategy = "rolling") {
      return runner.run(await runner.create(spec, { strategy }));
    },
    events: (d) => store.listEvents(d.id),
    close: () => built.close(),
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

import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import type { NewEvent } from "../../src/store/types.ts";

export interface BgWorld extends Engine {
  tg(name: string): string;
  /** The forward weights of every listener, as { listenerPort: { tgName: weight } }. */
  weights(): Promise<Record<string, Record<string, number>>>;
  /** The forward weights of the listener rules on port 443, by priority. */
  ruleWeights(): Promise<Record<string, Record<string, number>>>;
  taskSets(service?: string): Promise<{ id: string; status: string; taskDefinition: string; targetGroups: string[] }[]>;
  /** Shift events seen so far, as [simulated seconds since start, weight]. */
  shifts: [number, number][];
  runner: Runner;
}

/**
 * A blue/green world: cluster `apps`, target groups web-blue/web-green (and api-blue/api-green),
 * an ALB with listener 443 on web and 8443 on api, and the alarms given.
 */
export async function bgWorld(extra: { alarms?: unknown[]; faults?: unknown; onEvent?: (d: Deployment, e: readonly NewEvent[], w: BgWorld) => void } = {}): Promise<BgWorld> {
  const tgDef = (name: string) => ({ name, port: 8080, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 30 });
  const scenario = parseScenario({
    throttling: false,
    clusters: ["apps"],
    targetGroups: ["web-blue", "web-green", "api-blue", "api-green"].map(tgDef),
    loadBalancers: [
      {
        name: "public",
        listeners: [
          {
            port: 443,
            protocol: "HTTPS",
            defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "web-blue", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }],
            // A path rule on the same pair: it must move with the default action.
            rules: [{ priority: 10, conditions: [{ field: "path-pattern", values: ["/checkout/*"] }], actions: [{ type: "forward", targetGroup: "web-blue" }] }],
          },
          { port: 8443, protocol: "HTTPS", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "api-blue", weight: 100 }, { targetGroup: "api-green", weight: 0 }] }] },
        ],
      },
    ],
    alarms: extra.alarms ?? [{ name: "web-5xx" }],
    ...(extra.faults ? { faults: extra.faults } : {}),
  });
  const built = await simulatedEngine({ resilient: false, sim: (clock) => loadScenario(scenario, clock) });
  const { clock, sim, store } = built;
  const start = clock.now();
  const shifts: [number, number][] = [];
  // eslint-disable-next-line prefer-const
  let world: BgWorld;
  const runner = built.runner({
    controlPollMs: 1000,
    onUpdate: (d, events) => {
      for (const e of events) if (e.type === "Shifted") shifts.push([(clock.now() - start) / 1000, (e.data as { weight: number }).weight]);
      extra.onEvent?.(d, events, world);
    },
  });
  const names = new Map<string, string>();
  for (const n of ["web-blue", "web-green", "api-blue", "api-green"]) names.set(sim.elb.targetGroupArn(n), n);
  world = {
    clock,
    sim,
    store,
    runner,
    engine: built,
    shifts,
    async deploy(spec, strategy = "rolling") {
      const bluegreen = (spec.svcdef["deploymentController"] as { type?: string } | undefined)?.type === "EXTERNAL";
      return runner.run(await runner.create(spec, { strategy: strategy === "delete" ? "delete" : bluegreen ? "bluegreen" : "rolling" }));
    },
    events: (d) => store.listEvents(d.id),
    close: () => built.close(),
    tg: (name) => sim.elb.targetGroupArn(name),
    async weights() {
      const ports = sim.ports();
      const out: Record<string, Record<string, number>> = {};
      const [lb] = await ports.elbv2.describeTargetGroups({ targetGroupArns: [sim.elb.targetGroupArn("web-blue")] });
      for (const l of await ports.elbv2.describeListeners({ loadBalancerArn: lb!.loadBalancerArns[0]! })) {
        const w: Record<string, number> = {};
        for (const a of l.defaultActions) {
          if (a.forwardConfig) for (const t of a.forwardConfig.targetGroups) w[names.get(t.targetGroupArn) ?? t.targetGroupArn] = t.weight;
          else if (a.targetGroupArn) w[names.get(a.targetGroupArn) ?? a.targetGroupArn] = 100;
        }
        out[String(l.port)] = w;
      }
      return out;
    },
    async ruleWeights() {
      const ports = sim.ports();
      const [lb] = await ports.elbv2.describeTargetGroups({ targetGroupArns: [sim.elb.targetGroupArn("web-blue")] });
      const listener = (await ports.elbv2.describeListeners({ loadBalancerArn: lb!.loadBalancerArns[0]! })).find((l) => l.port === 443)!;
      const out: Record<string, Record<string, number>> = {};
      for (const r of await ports.elbv2.describeRules({ listenerArn: listener.listenerArn })) {
        if (r.isDefault) continue;
        const w: Record<string, number> = {};
        for (const a of r.actions) {
          if (a.forwardConfig) for (const t of a.forwardConfig.targetGroups) w[names.get(t.targetGroupArn) ?? t.targetGroupArn] = t.weight;
          else if (a.targetGroupArn) w[names.get(a.targetGroupArn) ?? a.targetGroupArn] = 100;
        }
        out[r.priority] = w;
      }
      return out;
    },
    async taskSets(service = "web") {
      const sets = await sim.ports().ecs.describeTaskSets({ cluster: "apps", service });
      return sets.map((t) => ({ id: t.id, status: t.status, taskDefinition: t.taskDefinition, targetGroups: t.loadBalancers.map((l) => names.get(l.targetGroupArn ?? "") ?? "?") }));
    },
  };
  return world;
}

export function bgSpec(w: { tg(name: string): string }, image: string, over: { depdef?: Record<string, unknown>; svcdef?: Record<string, unknown>; service?: string } = {}): DeploySpec {
  const service = over.service ?? "web";
  return {
    object: `apps/${service}/${service}`,
    region: "us-east-1",
    cluster: "apps",
    service,
    svcdef: {
      cluster: "apps",
      serviceName: service,
      desiredCount: 4,
      deploymentController: { type: "EXTERNAL" },
      launchType: "FARGATE",
      loadBalancers: [{ targetGroupArn: w.tg(`${service}-blue`), containerName: "app", containerPort: 8080 }],
      ...over.svcdef,
    },
    taskdef: { family: service, containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    depdef: depdef({
      stabilityCheck: { pollInterval: 10, timeout: 600 },
      trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 60 },
      targetGroupArnPairs: [[w.tg(`${service}-blue`), w.tg(`${service}-green`)]],
      alarms: { alarmNames: ["web-5xx"] },
      ...over.depdef,
    }),
  };
}

import type { AwsPortsFactory, EcsPort, Elbv2Port } from "../../src/aws/ports.ts";

/**
 * The same ports, with some ECS calls answered differently: how an AWS-compatible endpoint that is
 * not our simulator behaves (omits fields, answers without acting, other error names).
 */
export function withEcs(factory: AwsPortsFactory, override: (real: EcsPort) => Partial<EcsPort>): AwsPortsFactory {
  return (region) => {
    const ports = factory(region);
    return { ...ports, ecs: overridden(ports.ecs, override(ports.ecs)) };
  };
}

/** The same ports, with some ELBv2 calls answered differently (see `withEcs`). */
export function withElbv2(factory: AwsPortsFactory, override: (real: Elbv2Port) => Partial<Elbv2Port>): AwsPortsFactory {
  return (region) => {
    const ports = factory(region);
    return { ...ports, elbv2: overridden(ports.elbv2, override(ports.elbv2)) };
  };
}

function overridden<P extends object>(real: P, replaced: Partial<P>): P {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && prop in replaced) return replaced[prop as keyof P];
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
