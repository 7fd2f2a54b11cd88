/**
 * What one deployment needs to know, fixed when it starts and kept in its persisted state, so that
 * a deployment resumed after a crash does not depend on the repository still being readable.
 */
import { breakerThreshold, type DepDef } from "../config/depdef.ts";
import type { LoadedObject } from "../config/load-object.ts";

export interface DeploySpec {
  object: string;
  region: string;
  cluster: string;
  service: string;
  /** The rendered CreateService request. */
  svcdef: Record<string, unknown>;
  /** The rendered RegisterTaskDefinition request, when the object has a taskdef file. */
  taskdef?: Record<string, unknown>;
  depdef: DepDef;
  commitSha?: string;
}

export function specFromObject(o: LoadedObject, commitSha?: string): DeploySpec {
  if (!o.svcdef || !o.identity) throw new Error(`object ${o.name} is not loadable`);
  return {
    object: o.name,
    region: o.identity.region,
    cluster: o.identity.cluster,
    service: o.identity.service,
    svcdef: o.svcdef,
    ...(o.taskdef ? { taskdef: o.taskdef } : {}),
    depdef: o.depdef,
    ...(commitSha ? { commitSha } : {}),
  };
}

/** DESIGN §2: max(timeout, timeoutPerTask × desiredCount), in milliseconds. */
export function stabilityTimeoutMs(depdef: DepDef, desired: number): number {
  const s = depdef.stabilityCheck;
  return Math.max(s.timeout, s.timeoutPerTask * desired) * 1000;
}

/** DESIGN §2: Flotilla's circuit-breaker threshold at `desired` (config/depdef.ts); 0 means it is off. */
export function failureThreshold(depdef: DepDef, desired: number): number {
  return breakerThreshold(depdef, desired).threshold;
}

/** ECS's default container health-check interval, which is also ALB's: seconds. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_S = 30;

/** Health-check intervals (seconds) of a task definition's containers: `healthCheck.interval`, 30 when not given. */
export function containerHealthCheckIntervals(taskdef: Record<string, unknown> | undefined): number[] {
  const containers = Array.isArray(taskdef?.["containerDefinitions"]) ? (taskdef["containerDefinitions"] as unknown[]) : [];
  const out: number[] = [];
  for (const c of containers) {
    const hc = typeof c === "object" && c !== null ? (c as Record<string, unknown>)["healthCheck"] : undefined;
    if (typeof hc !== "object" || hc === null) continue;
    const interval = (hc as Record<string, unknown>)["interval"];
    out.push(typeof interval === "number" && interval > 0 ? interval : DEFAULT_HEALTH_CHECK_INTERVAL_S);
  }
  return out;
}

/** Target group ARNs of a svcdef's `loadBalancers`. */
export function targetGroupArns(svcdef: Record<string, unknown>): string[] {
  const lbs = Array.isArray(svcdef["loadBalancers"]) ? (svcdef["loadBalancers"] as unknown[]) : [];
  return lbs.map((lb) => (typeof lb === "object" && lb !== null ? (lb as Record<string, unknown>)["targetGroupArn"] : undefined)).filter((a): a is string => typeof a === "string");
}

/**
 * How long new tasks must stay healthy before a deployment counts as stable (ms): the health-check
 * grace period plus one health-check interval (the longest of the load balancer's and the
 * containers' checks; 30 s when the service has none), and never less than one poll, so success
 * always rests on at least two steady polls. ECS can mark a deployment COMPLETED seconds before its
 * new tasks crash, and two polls a poll interval apart can both come before the crash.
 */
export function stableDwellMs(depdef: DepDef, gracePeriodSeconds: number, healthCheckIntervals: readonly number[]): number {
  const interval = healthCheckIntervals.length ? Math.max(...healthCheckIntervals) : DEFAULT_HEALTH_CHECK_INTERVAL_S;
  return Math.max((gracePeriodSeconds + interval) * 1000, depdef.stabilityCheck.pollInterval * 1000);
}
