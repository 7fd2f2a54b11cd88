/**
 * The service-deployment calls on the simulator (ListServiceDeployments, DescribeServiceDeployments,
 * DescribeServiceRevisions, StopServiceDeployment, ContinueServiceDeployment): requests checked and
 * refused the way ECS does, then the port views and the full records the wire answers with.
 * SPEC.md §ECS-managed deployments.
 */
import type { Failure, LifecycleHookDetail, ServiceDeployment, ServiceDeploymentBrief, ServiceDeploymentStatus, ServiceRevision, ServiceRevisionSummary } from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";
import type { SimRevision, SimServiceDeployment } from "./managed-model.ts";
import type { SimService } from "./model.ts";
import { continueHook, requestRollback } from "./managed.ts";

type Rec = Record<string, unknown>;

const ONGOING: ReadonlySet<ServiceDeploymentStatus> = new Set(["PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"]);

function counts(rev: SimRevision, requested: number): Pick<ServiceRevisionSummary, "requestedTaskCount" | "runningTaskCount" | "pendingTaskCount"> {
  let running = 0;
  let pending = 0;
  for (const t of rev.owner.tasks) {
    if (t.desiredStatus !== "RUNNING") continue;
    if (t.lastStatus === "RUNNING") running++;
    else if (t.lastStatus === "PROVISIONING" || t.lastStatus === "PENDING" || t.lastStatus === "ACTIVATING") pending++;
  }
  return { requestedTaskCount: requested, runningTaskCount: running, pendingTaskCount: pending };
}

function summaries(svc: SimService, sd: SimServiceDeployment): { target: ServiceRevisionSummary; sources: ServiceRevisionSummary[] } {
  const done = sd.status === "SUCCESSFUL";
  const failed = sd.status.startsWith("ROLLBACK") || sd.status === "STOPPED";
  const balanced = sd.loadBalancers.length > 0;
  const weights = (production: number, test: number) => (balanced ? { requestedProductionTrafficWeight: production, requestedTestTrafficWeight: test } : {});
  const target = { arn: sd.target.arn, ...counts(sd.target, failed && sd.status !== "STOPPED" ? 0 : svc.desiredCount), ...weights(sd.productionWeight, sd.testWeight) };
  const sources = sd.sources.map((rev, i) => ({
    arn: rev.arn,
    ...counts(rev, i === 0 && !done ? svc.desiredCount : 0),
    ...weights(i === 0 ? 100 - sd.productionWeight : 0, i === 0 ? 100 - sd.testWeight : 0),
  }));
  return { target, sources };
}

function hookDetails(sd: SimServiceDeployment): LifecycleHookDetail[] {
  return sd.hookRuns.map((h) => ({
    hookId: h.hookId,
    targetType: h.config.targetType,
    ...(h.config.targetType === "AWS_LAMBDA" && h.config.hookTargetArn ? { targetArn: h.config.hookTargetArn } : {}),
    status: h.status,
    expiresAt: h.expiresAt,
    timeoutAction: h.config.timeoutAction,
  }));
}

function monitorStatus(enabled: boolean, triggered: boolean, ongoing: boolean): string {
  return !enabled ? "DISABLED" : triggered ? "TRIGGERED" : ongoing ? "MONITORING" : "MONITORING_COMPLETE";
}

export function viewServiceDeployment(svc: SimService, sd: SimServiceDeployment): ServiceDeployment {
  const { target, sources } = summaries(svc, sd);
  const green = sd.target.owner;
  const ongoing = ONGOING.has(sd.status);
  const breakerTripped = sd.statusReason.includes("circuit breaker");
  return {
    serviceDeploymentArn: sd.arn,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: sd.status,
    ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
    lifecycleStage: sd.stage,
    strategy: sd.strategy,
    targetServiceRevision: target,
    sourceServiceRevisions: sources,
    lifecycleHookDetails: hookDetails(sd),
    ...(sd.rollback ? { rollback: { ...sd.rollback } } : {}),
    circuitBreaker: { status: monitorStatus(sd.breaker.enable, breakerTripped, ongoing), failureCount: green.failedTasks, threshold: sd.breaker.threshold },
    alarms: { status: monitorStatus(sd.alarms.enable, sd.alarms.triggered.length > 0, ongoing), alarmNames: [...sd.alarms.names], triggeredAlarmNames: [...sd.alarms.triggered] },
    createdAt: sd.createdAt,
    ...(sd.status !== "PENDING" ? { startedAt: sd.startedAt } : {}),
    ...(sd.finishedAt !== undefined ? { finishedAt: sd.finishedAt } : {}),
    ...(sd.stoppedAt !== undefined ? { stoppedAt: sd.stoppedAt } : {}),
    updatedAt: sd.updatedAt,
  };
}

/** DescribeServiceDeployments' record: the view, with the deployment configuration as given. */
export function serviceDeploymentRecord(svc: SimService, sd: SimServiceDeployment): Rec {
  const { strategy: _s, circuitBreaker, ...view } = viewServiceDeployment(svc, sd);
  return { ...view, deploymentConfiguration: structuredClone(sd.config), deploymentCircuitBreaker: circuitBreaker };
}

export function viewServiceRevision(svc: SimService, rev: SimRevision): ServiceRevision {
  let i = 0;
  const resolved = rev.loadBalancers.filter((lb) => lb.targetGroupArn !== undefined).map((lb) => ({ targetGroupArn: rev.targetGroups[i++] ?? lb.targetGroupArn!, ...(lb.advancedConfiguration?.productionListenerRule ? { productionListenerRule: lb.advancedConfiguration.productionListenerRule } : {}) }));
  return { serviceRevisionArn: rev.arn, serviceArn: svc.arn, clusterArn: svc.cluster.arn, taskDefinition: rev.taskDef.arn, loadBalancers: structuredClone(rev.loadBalancers), resolvedLoadBalancers: resolved, createdAt: rev.createdAt };
}

/** DescribeServiceRevisions' record. */
export function serviceRevisionRecord(svc: SimService, rev: SimRevision): Rec {
  const { resolvedLoadBalancers, ...view } = viewServiceRevision(svc, rev);
  return { ...view, ...structuredClone(rev.settings), containerImages: rev.taskDef.containers.map((c) => ({ containerName: c.name, image: c.image })), guardDutyEnabled: false, resolvedConfiguration: { loadBalancers: resolvedLoadBalancers } };
}

function briefOf(svc: SimService, sd: SimServiceDeployment): ServiceDeploymentBrief {
  return {
    serviceDeploymentArn: sd.arn,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: sd.status,
    ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
    targetServiceRevisionArn: sd.target.arn,
    createdAt: sd.createdAt,
    ...(sd.status !== "PENDING" ? { startedAt: sd.startedAt } : {}),
    ...(sd.finishedAt !== undefined ? { finishedAt: sd.finishedAt } : {}),
  };
}

/** `arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID` (or service-revision) → the service and the record. */
function parseArn(sim: SimulatorCore, arn: string, kind: "service-deployment" | "service-revision"): { svc: SimService; id: string } | undefined {
  const m = new RegExp(`^arn:aws[a-z-]*:ecs:([^:]+):(\\d+):${kind}/([^/]+)/([^/]+)/([^/]+)$`).exec(arn);
  if (!m || m[1] !== sim.region || m[2] !== sim.account) return undefined;
  const svc = sim.clusters.get(m[3]!)?.services.get(m[4]!);
  return svc ? { svc, id: m[5]! } : undefined;
}

export function findServiceDeployment(sim: SimulatorCore, arn: string): { svc: SimService; sd: SimServiceDeployment } | undefined {
  const p = parseArn(sim, arn, "service-deployment");
  const sd = p?.svc.managed?.deployments.find((d) => d.arn === arn);
  return p && sd ? { svc: p.svc, sd } : undefined;
}

function findRevision(sim: SimulatorCore, arn: string): { svc: SimService; rev: SimRevision } | undefined {
  const p = parseArn(sim, arn, "service-revision");
  const rev = p?.svc.managed?.revisions.find((r) => r.arn === arn);
  return p && rev ? { svc: p.svc, rev } : undefined;
}

/** ListServiceDeployments: the service's deployments, newest first, by status and creation time. */
export function listServiceDeployments(sim: SimulatorCore, svc: SimService, filter: { status?: readonly string[]; createdAfter?: number; createdBefore?: number }): ServiceDeploymentBrief[] {
  return (svc.managed?.deployments ?? [])
    .filter((sd) => (!filter.status?.length || filter.status.includes(sd.status)) && (filter.createdAfter === undefined || sd.createdAt >= filter.createdAfter) && (filter.createdBefore === undefined || sd.createdAt <= filter.createdBefore))
    .map((sd) => briefOf(svc, sd));
}

export function describeServiceDeployments<T>(sim: SimulatorCore, arns: readonly string[], view: (svc: SimService, sd: SimServiceDeployment) => T): { serviceDeployments: T[]; failures: Failure[] } {
  const out: T[] = [];
  const failures: Failure[] = [];
  for (const arn of arns) {
    const found = findServiceDeployment(sim, arn);
    if (found) out.push(view(found.svc, found.sd));
    else failures.push({ arn, reason: "MISSING" });
  }
  return { serviceDeployments: out, failures };
}

export function describeServiceRevisions<T>(sim: SimulatorCore, arns: readonly string[], view: (svc: SimService, rev: SimRevision) => T): { serviceRevisions: T[]; failures: Failure[] } {
  const out: T[] = [];
  const failures: Failure[] = [];
  for (const arn of arns) {
    const found = findRevision(sim, arn);
    if (found) out.push(view(found.svc, found.rev));
    else failures.push({ arn, reason: "MISSING" });
  }
  return { serviceRevisions: out, failures };
}

function deploymentOrThrow(sim: SimulatorCore, op: string, arn: string): { svc: SimService; sd: SimServiceDeployment } {
  const found = findServiceDeployment(sim, arn);
  if (!found) throw sim.error("ECS", op, "ServiceDeploymentNotFoundException", `The service deployment ${arn} does not exist.`);
  return found;
}

/**
 * StopServiceDeployment: ROLLBACK is the stop type AWS documents (ABORT is in the model's enum but
 * documented as not valid); a deployment that has finished cannot be stopped.
 */
export function stopServiceDeployment(sim: SimulatorCore, arn: string, stopType: string | undefined): void {
  const op = "StopServiceDeployment";
  if (stopType !== undefined && stopType !== "ROLLBACK") throw sim.error("ECS", op, "InvalidParameterException", `stopType ${stopType} is not supported; the valid value is ROLLBACK.`);
  const { svc, sd } = deploymentOrThrow(sim, op, arn);
  if (!ONGOING.has(sd.status)) throw sim.error("ECS", op, "ConflictException", `The service deployment is ${sd.status} and can no longer be stopped.`);
  requestRollback(sim, svc, sd);
}

/** ContinueServiceDeployment: the deployment must be IN_PROGRESS and the hook a PAUSE hook AWAITING_ACTION. */
export function continueServiceDeployment(sim: SimulatorCore, arn: string, hookId: string, action: string | undefined): void {
  const op = "ContinueServiceDeployment";
  if (action !== undefined && action !== "CONTINUE" && action !== "ROLLBACK") throw sim.error("ECS", op, "InvalidParameterException", "action must be CONTINUE or ROLLBACK.");
  const { svc, sd } = deploymentOrThrow(sim, op, arn);
  const run = sd.hookRuns.find((h) => h.hookId === hookId);
  if (!run) throw sim.error("ECS", op, "InvalidParameterException", `The lifecycle hook ${hookId} is not part of the service deployment's current stage.`);
  if (sd.status !== "IN_PROGRESS" || run.status !== "AWAITING_ACTION") throw sim.error("ECS", op, "ConflictException", `The lifecycle hook ${hookId} is ${run.status} and the service deployment ${sd.status}: only a PAUSE hook awaiting action on a deployment in progress can be continued.`);
  continueHook(sim, svc, sd, run, action === "ROLLBACK" ? "ROLLBACK" : "CONTINUE");
}
