/**
 * A world for ECS-managed blue/green, linear and canary deployments: cluster `apps`, target groups
 * web-a (primary) and web-b (alternate), an ALB `public` whose listener 443 has a production rule
 * (priority 10) and a test rule (priority 5) forwarding to web-a, and an engine on it.
 */
import { simulatedEngine } from "../../src/app/simulated.ts";
import type { EngineRunnerOptions } from "../../src/app/engine.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import type { Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import type { Store } from "../../src/store/store.ts";
import type { Deployment, DeploymentEvent, NewEvent } from "../../src/store/types.ts";
import { depdef } from "./engine.ts";
import assert from "node:assert/strict";

export const LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test";
export const HOOK_ROLE = "arn:aws:iam::123456789012:role/ecs-hooks";
export const ELB_ROLE = "arn:aws:iam::123456789012:role/ecs-infrastructure-elb";

export interface ManagedWorld {
  clock: VirtualClock;
  sim: Simulator;
  store: Store;
  runner: Runner;
  start: number;
  tgA: string;
  tgB: string;
  prodRule: string;
  testRule: string;
  /** Seconds since the world started. */
  elapsed(): number;
  /** A rule's forward weights by target group name: { "web-a": 100, "web-b": 0 }. */
  weights(ruleArn: string): Promise<Record<string, number>>;
  deploy(spec: DeploySpec): Promise<Deployment>;
  events(d: Deployment): Promise<DeploymentEvent[]>;
  /** Every event of every deployment as it was recorded, with its simulated second. */
  timeline: { at: number; type: string; message: string; data?: unknown }[];
  close(): Promise<void>;
}

export interface WorldOptions {
  alarms?: unknown[];
  faults?: Record<string, unknown>;
  /** Runner options for the engine (hooks for crash tests). */
  runner?: EngineRunnerOptions;
}

export async function managedWorld(options: WorldOptions = {}): Promise<ManagedWorld> {
  const tg = (name: string) => ({ name, port: 8080, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 30 });
  const forwardA = [{ type: "forward", targetGroups: [{ targetGroup: "web-a", weight: 100 }, { targetGroup: "web-b", weight: 0 }] }];
  const scenario = parseScenario({
    throttling: false,
    clusters: ["apps"],
    targetGroups: [tg("web-a"), tg("web-b")],
    loadBalancers: [
      {
        name: "public",
        listeners: [
          {
            port: 443,
            protocol: "HTTPS",
            defaultActions: [{ type: "fixed-response" }],
            rules: [
              { priority: 5, conditions: [{ field: "http-header", httpHeaderConfig: { httpHeaderName: "x-canary", values: ["1"] } }], actions: forwardA },
              { priority: 10, conditions: [{ field: "path-pattern", values: ["/*"] }], actions: forwardA },
            ],
          },
        ],
      },
    ],
    alarms: options.alarms ?? [{ name: "web-5xx" }],
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const engine = await simulatedEngine({ resilient: false, sim: (clock) => loadScenario(scenario, clock) });
  const { clock, sim, store } = engine;
  const rule = (priority: string) => [...sim.elb.rules.values()].find((r) => r.priority === priority)!.arn;
  const start = clock.now();
  const timeline: ManagedWorld["timeline"] = [];
  const runner = engine.runner({
    controlPollMs: 1000,
    onUpdate: (_d: Deployment, events: readonly NewEvent[]) => {
      for (const e of events) timeline.push({ at: (clock.now() - start) / 1000, type: e.type, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) });
    },
    ...options.runner,
  });
  const names = new Map([
    [sim.elb.targetGroupArn("web-a"), "web-a"],
    [sim.elb.targetGroupArn("web-b"), "web-b"],
  ]);
  return {
    clock,
    sim,
    store,
    runner,
    start,
    tgA: sim.elb.targetGroupArn("web-a"),
    tgB: sim.elb.targetGroupArn("web-b"),
    prodRule: rule("10"),
    testRule: rule("5"),
    elapsed: () => (clock.now() - start) / 1000,
    async weights(ruleArn) {
      const [r] = await sim.ports().elbv2.describeRules({ ruleArns: [ruleArn] });
      const out: Record<string, number> = {};
      for (const a of r!.actions) for (const t of a.forwardConfig?.targetGroups ?? []) out[names.get(t.targetGroupArn) ?? t.targetGroupArn] = t.weight;
      return out;
    },
    async deploy(spec) {
      return runner.run(await runner.create(spec, { strategy: "ecs-managed" }));
    },
    events: (d) => store.listEvents(d.id),
    timeline,
    close: () => engine.close(),
  };
}

export interface ManagedSpecOptions {
  strategy?: "BLUE_GREEN" | "LINEAR" | "CANARY";
  deploymentConfiguration?: Record<string, unknown>;
  advanced?: Record<string, unknown>;
  depdef?: Record<string, unknown>;
  desiredCount?: number;
  testRule?: boolean;
}

/** The svcdef, taskdef and depdef of service `web` with an ECS-managed strategy. */
export function managedSpec(w: Pick<ManagedWorld, "tgA" | "tgB" | "prodRule" | "testRule">, image: string, o: ManagedSpecOptions = {}): DeploySpec {
  const strategy = o.strategy ?? "BLUE_GREEN";
  return {
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: {
      cluster: "apps",
      serviceName: "web",
      desiredCount: o.desiredCount ?? 3,
      launchType: "FARGATE",
      deploymentController: { type: "ECS" },
      deploymentConfiguration: {
        strategy,
        bakeTimeInMinutes: 2,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...(strategy === "LINEAR" ? { linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 1 } } : {}),
        ...(strategy === "CANARY" ? { canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 3 } } : {}),
        ...o.deploymentConfiguration,
      },
      loadBalancers: [
        {
          targetGroupArn: w.tgA,
          containerName: "app",
          containerPort: 8080,
          advancedConfiguration: { alternateTargetGroupArn: w.tgB, productionListenerRule: w.prodRule, ...(o.testRule === false ? {} : { testListenerRule: w.testRule }), roleArn: ELB_ROLE, ...o.advanced },
        },
      ],
    },
    taskdef: { family: "web", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    depdef: depdef({ stabilityCheck: { pollInterval: 10, timeout: 600 }, ...o.depdef }),
  };
}

/** A world whose service `web` already runs web:1 as an ECS-managed service; its timeline starts empty. */
export async function liveWorld(o: ManagedSpecOptions = {}, extra: WorldOptions = {}): Promise<ManagedWorld> {
  const world = await managedWorld(extra);
  const first = await world.deploy(managedSpec(world, "web:1", o));
  assert.equal(first.phase, "Succeeded", `${first.reason}: ${first.message}`);
  world.timeline.length = 0;
  return world;
}

/** The timeline's events of one type. */
export const eventsOf = (world: ManagedWorld, type: string) => world.timeline.filter((e) => e.type === type);
/** The production traffic percentages the timeline recorded, in order. */
export const productionWeights = (world: ManagedWorld) => eventsOf(world, "ProductionTraffic").map((e) => (e.data as { weight: number }).weight);
