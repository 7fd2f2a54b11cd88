/**
 * A rainbow world on the simulator: cluster `apps`, an ALB `public` whose HTTPS listener answers 404
 * until a version is live, a runner on a virtual clock, and the object `apps/web/web` (service `web`,
 * versions routed by host `<version>.app.example.com`). Helpers deploy, cut over and clean up, and
 * ask the simulated load balancer where a request goes.
 */
import { Engine, type EngineRunnerOptions } from "../../src/app/engine.ts";
import { simulatedEngine } from "../../src/app/simulated.ts";
import type { AwsPortsFactory } from "../../src/aws/ports.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import { depdefSchema } from "../../src/config/depdef.ts";
import type { Runner, StartOptions } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { discoverRainbow } from "../../src/deploy/rainbow/discover.ts";
import type { RainbowWorld } from "../../src/deploy/rainbow/world.ts";
import { AlbRouter } from "../../src/deploy/traffic/alb.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { defaultVpc } from "../../src/sim/vpc.ts";
import type { Store } from "../../src/store/store.ts";
import type { Deployment, DeploymentEvent, Strategy } from "../../src/store/types.ts";

export interface RainbowWorldUnderTest {
  clock: VirtualClock;
  sim: Simulator;
  store: Store;
  runner: Runner;
  listenerArn: string;
  spec(version: string | undefined, image?: string, over?: { rainbow?: Record<string, unknown>; depdef?: Record<string, unknown>; svcdef?: Record<string, unknown>; commitSha?: string }): DeploySpec;
  deploy(version: string, image?: string, over?: Parameters<RainbowWorldUnderTest["spec"]>[2]): Promise<Deployment>;
  cutover(version: string, by?: string, over?: Parameters<RainbowWorldUnderTest["spec"]>[2]): Promise<Deployment>;
  cleanup(over?: Parameters<RainbowWorldUnderTest["spec"]>[2]): Promise<Deployment>;
  /** Create and run any rainbow operation. */
  run(spec: DeploySpec, strategy: Strategy, options?: Omit<StartOptions, "strategy">, runner?: Runner): Promise<Deployment>;
  /** The services a request for this host (and path, headers) reaches now. */
  reach(host: string, request?: { path?: string; headers?: Record<string, string> }): string[];
  /** The listener's answer to a host: status and services. */
  answer(host: string): { status: number; services: string[] };
  /** What discovery sees (versions, rules, live routes). */
  world(over?: Parameters<RainbowWorldUnderTest["spec"]>[2]): Promise<RainbowWorld>;
  events(d: Deployment): Promise<DeploymentEvent[]>;
  newRunner(options?: NewRunnerOptions): Runner;
  close(): Promise<void>;
}

/** A runner's options on the world's engine, and other AWS ports if given. */
export type NewRunnerOptions = EngineRunnerOptions & { aws?: AwsPortsFactory };

export const HOST = (version: string) => `${version}.app.example.com`;

export async function rainbowWorld(extra: { alarms?: unknown[]; faults?: unknown; rules?: unknown[] } = {}): Promise<RainbowWorldUnderTest> {
  const scenario = parseScenario({
    throttling: false,
    clusters: ["apps"],
    targetGroups: [{ name: "other", port: 80 }],
    loadBalancers: [
      {
        name: "public",
        listeners: [{ port: 443, protocol: "HTTPS", defaultActions: [{ type: "fixed-response", fixedResponse: { statusCode: "404" } }], rules: extra.rules ?? [] }],
      },
    ],
    alarms: extra.alarms ?? [{ name: "web-5xx" }],
    ...(extra.faults ? { faults: extra.faults } : {}),
  });
  const engine = await simulatedEngine({ resilient: false, sim: (clock) => loadScenario(scenario, clock) });
  const { clock, sim, store } = engine;
  const listenerArn = [...sim.elb.listeners.values()][0]!.arn;
  const vpcId = defaultVpc(sim.region, sim.account).vpcId;
  // A test may put other AWS ports under a runner (an endpoint that ignores a write); the rest is the engine's.
  const newRunner = ({ aws, ...options }: NewRunnerOptions = {}) => (aws ? new Engine({ clock, store, aws }) : engine).runner({ controlPollMs: 1000, ...options });
  const runner = newRunner();
  const spec: RainbowWorldUnderTest["spec"] = (version, image = "web:1", over = {}) => ({
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: {
      cluster: "apps",
      serviceName: "web",
      desiredCount: 2,
      launchType: "FARGATE",
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      loadBalancers: [{ containerName: "app", containerPort: 8080 }],
      ...over.svcdef,
    },
    taskdef: { family: "web", networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    depdef: depdefSchema.parse({
      stabilityCheck: { pollInterval: 10, timeout: 600 },
      rainbow: {
        ...(version !== undefined ? { version } : {}),
        listeners: [{ listenerArn }],
        route: { hostHeader: "{version}.app.example.com" },
        targetGroup: { vpcId, healthCheck: { path: "/health", intervalSeconds: 10, healthyThresholdCount: 2 } },
        ...over.rainbow,
      },
      ...over.depdef,
    }),
    ...(over.commitSha ? { commitSha: over.commitSha } : {}),
  });
  const run: RainbowWorldUnderTest["run"] = async (s, strategy, options = {}, r = runner) => r.run(await r.create(s, { strategy, ...options }));
  return {
    clock,
    sim,
    store,
    runner,
    listenerArn,
    spec,
    run,
    deploy: (version, image = `web:${version}`, over = {}) => run(spec(version, image, over), "rainbow"),
    cutover: (version, by = "alice", over = {}) => run(spec(undefined, "web:1", over), "cutover", { rainbow: { version, by } }),
    cleanup: (over = {}) => run(spec(undefined, "web:1", over), "cleanup", { rainbow: { by: "alice" } }),
    reach: (host, request = {}) => sim.route({ loadBalancer: "public", port: 443, host, ...request }).services,
    answer: (host) => {
      const r = sim.route({ loadBalancer: "public", port: 443, host });
      return { status: r.status, services: r.services };
    },
    world: (over = {}) => {
      const s = spec(undefined, "web:1", over);
      const ports = sim.ports();
      return discoverRainbow(ports, new AlbRouter(ports.elbv2), { cluster: "apps", service: "web", rainbow: s.depdef.rainbow!, versions: [] });
    },
    events: (d) => store.listEvents(d.id),
    newRunner,
    close: () => engine.close(),
  };
}
