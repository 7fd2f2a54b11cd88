/**
 * A fleet of N rolling services named svc0..svcN-1 in cluster `apps`: the simulator scenario that
 * runs them on app:1, and the loaded objects that update them — for the tests and benchmarks of
 * large passes (pacing, the status sweep, `npm run bench`).
 */
import { depdefSchema } from "../../src/config/depdef.ts";
import type { JsonObject } from "../../src/config/json-document.ts";
import type { LoadedObject } from "../../src/config/load-object.ts";
import { parseScenario, type Scenario } from "../../src/sim/scenario.ts";

export interface FleetOptions {
  desiredCount?: number;
  /** ECS's circuit breaker with rollback in the svcdefs. */
  ecsBreaker?: boolean;
}

function svcdef(name: string, o: FleetOptions): JsonObject {
  return {
    cluster: "apps",
    serviceName: name,
    desiredCount: o.desiredCount ?? 2,
    launchType: "FARGATE",
    deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, ...(o.ecsBreaker ? { deploymentCircuitBreaker: { enable: true, rollback: true } } : {}) },
  };
}

/** The scenario: N services on app:1 (throttling as asked), with faults for the images deployed next. */
export function fleetScenario(services: number, o: FleetOptions & { throttling?: boolean; faults?: unknown[] } = {}): Scenario {
  return parseScenario({
    throttling: o.throttling ?? false,
    clusters: ["apps"],
    taskDefinitions: Array.from({ length: services }, (_, i) => ({ family: `svc${i}`, containerDefinitions: [{ name: "app", image: "app:1", essential: true }] })),
    services: Array.from({ length: services }, (_, i) => ({ ...svcdef(`svc${i}`, o), taskDefinition: `svc${i}:1` })),
    faults: { images: o.faults ?? [] },
  });
}

/** Object `apps/svcI/svcI` deploying `image`, as loading its files would give it. */
export function fleetObject(i: number, image: string, o: FleetOptions & { depdef?: Record<string, unknown> } = {}): LoadedObject {
  const name = `svc${i}`;
  return {
    name: `apps/${name}/${name}`,
    files: { name: `apps/${name}/${name}`, svcdef: `apps/${name}/${name}_svcdef.json`, taskdef: `apps/${name}/${name}_taskdef.json` },
    svcdef: svcdef(name, o),
    taskdef: { family: name, containerDefinitions: [{ name: "app", image, essential: true }] },
    depdef: depdefSchema.parse({ stabilityCheck: { pollInterval: 15 }, ...o.depdef }),
    identity: { region: "us-east-1", cluster: "apps", service: name },
    strategy: "rolling",
    sensitive: [],
    problems: [],
    valid: true,
  };
}
