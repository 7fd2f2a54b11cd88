/**
 * What one deployment needs to know, fixed when it starts and kept in its persisted state, so that
 * a deployment resumed after a crash does not depend on the repository still being readable.
 */
import type { DepDef } from "../config/depdef.ts";
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

/**
 * DESIGN §2: min(failureThreshold, ceil(failureThresholdPercent% × desired)), counting only the
 * settings that are given (0 = not set). 0 means the circuit breaker is off.
 */
export function failureThreshold(depdef: DepDef, desired: number): number {
  const cb = depdef.gmDeploymentCircuitBreaker;
  const candidates: number[] = [];
  if (cb.failureThreshold > 0) candidates.push(cb.failureThreshold);
  if (cb.failureThresholdPercent > 0) candidates.push(Math.max(1, Math.ceil((cb.failureThresholdPercent / 100) * desired)));
  return candidates.length ? Math.min(...candidates) : 0;
}
