/** Copy simulator state out into the port types (callers never hold live internal objects). */
import type { Deployment, Service, Task, TaskDefinition, TaskSet } from "../aws/ports.ts";
import { computedDesiredCount } from "./scheduler.ts";
import type { SimDeployment, SimService, SimTask, SimTaskDef, SimTaskSet } from "./model.ts";

const PENDING = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);

function counts(tasks: Iterable<SimTask>): { pending: number; running: number; active: number } {
  let pending = 0;
  let running = 0;
  let active = 0;
  for (const t of tasks) {
    if (t.desiredStatus !== "RUNNING") continue;
    active++;
    if (PENDING.has(t.lastStatus)) pending++;
    else if (t.lastStatus === "RUNNING") running++;
  }
  return { pending, running, active };
}

export function viewDeployment(svc: SimService, d: SimDeployment): Deployment {
  const c = counts(d.tasks);
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDef.arn,
    // The primary wants the service's count; older deployments want what they still have.
    desiredCount: d.status === "PRIMARY" ? svc.desiredCount : c.active,
    pendingCount: c.pending,
    runningCount: c.running,
    failedTasks: d.failedTasks,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function viewTaskSet(svc: SimService, ts: SimTaskSet): TaskSet {
  const c = counts(ts.tasks);
  return {
    id: ts.id,
    taskSetArn: ts.arn,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: ts.status,
    taskDefinition: ts.taskDef.arn,
    ...(ts.externalId !== undefined ? { externalId: ts.externalId } : {}),
    computedDesiredCount: ts.status === "DRAINING" ? 0 : computedDesiredCount(svc.desiredCount, ts.scalePercent),
    pendingCount: c.pending,
    runningCount: c.running,
    scale: { value: ts.scalePercent, unit: "PERCENT" },
    stabilityStatus: ts.stabilityStatus,
    stabilityStatusAt: ts.stabilityStatusAt,
    loadBalancers: structuredClone(ts.loadBalancers),
    createdAt: ts.createdAt,
    updatedAt: ts.updatedAt,
  };
}

export function viewService(svc: SimService): Service {
  let pending = 0;
  let running = 0;
  for (const owner of [...svc.deployments, ...svc.taskSets]) {
    const c = counts(owner.tasks);
    pending += c.pending;
    running += c.running;
  }
  const dc = svc.deploymentConfiguration;
  return {
    serviceName: svc.name,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: svc.status,
    ...(svc.taskDef ? { taskDefinition: svc.taskDef.arn } : {}),
    desiredCount: svc.desiredCount,
    pendingCount: pending,
    runningCount: running,
    ...(svc.launchType ? { launchType: svc.launchType } : {}),
    deploymentController: { type: svc.controller },
    deploymentConfiguration: {
      minimumHealthyPercent: dc.minimumHealthyPercent,
      maximumPercent: dc.maximumPercent,
      deploymentCircuitBreaker: { ...dc.deploymentCircuitBreaker },
    },
    deployments: svc.deployments.map((d) => viewDeployment(svc, d)),
    taskSets: svc.taskSets.map((t) => viewTaskSet(svc, t)),
    loadBalancers: structuredClone(svc.loadBalancers),
    healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodMs / 1000,
    events: svc.events.map((e) => ({ ...e })),
    createdAt: svc.createdAt,
  };
}

export function viewTask(t: SimTask): Task {
  const stopped = t.lastStatus === "STOPPED";
  return {
    taskArn: t.arn,
    clusterArn: t.service.cluster.arn,
    taskDefinitionArn: t.taskDef.arn,
    startedBy: t.owner.id,
    group: `service:${t.service.name}`,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: t.containerHealth,
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    containers: t.taskDef.containers.map((c) => ({
      name: c.name,
      image: c.image,
      lastStatus: stopped ? "STOPPED" : t.lastStatus === "RUNNING" || t.lastStatus === "DEACTIVATING" ? "RUNNING" : "PENDING",
      ...(stopped && c.essential && t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
      ...(t.containerReason ? { reason: t.containerReason } : {}),
      ...(c.healthCheck ? { healthStatus: t.containerHealth } : {}),
    })),
    createdAt: t.createdAt,
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(t.stoppingAt !== undefined ? { stoppingAt: t.stoppingAt } : {}),
    ...(t.stoppedAt !== undefined ? { stoppedAt: t.stoppedAt } : {}),
  };
}

export function viewTaskDefinition(td: SimTaskDef): TaskDefinition {
  return {
    taskDefinitionArn: td.arn,
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: td.containers.map((c) => ({
      name: c.name,
      image: c.image,
      essential: c.essential,
      ...(c.containerPort !== undefined ? { portMappings: [{ containerPort: c.containerPort }] } : {}),
    })),
    registeredAt: td.registeredAt,
  };
}
