/**
 * Task lifecycle: PROVISIONING → PENDING → RUNNING → (DEACTIVATING) → STOPPING → DEPROVISIONING
 * → STOPPED, with image faults deciding whether a task pulls, starts, stays healthy or exits.
 * SPEC.md §Tasks.
 */
import type { SimulatorCore } from "./core.ts";
import type { ImageBehaviour } from "./faults.ts";
import { ACTIVE_STATUSES, type SimService, type SimTask, type TaskOwner } from "./model.ts";

/**
 * Run `fn` after `ms` unless the task has moved on (stopped) in the meantime. The world's own
 * steps are module-level functions of (task, sim), so a busy world makes no closure per event.
 */
export function later(sim: SimulatorCore, task: SimTask, ms: number, fn: (task: SimTask, sim: SimulatorCore) => void): void {
  sim.afterStep(ms, fn, task, task.gen);
}

export function launchTask(sim: SimulatorCore, svc: SimService, owner: TaskOwner, seeded = false): SimTask {
  const id = sim.ids.taskId();
  const td = owner.taskDef;
  const task: SimTask = {
    id,
    arn: `arn:aws:ecs:${sim.region}:${sim.account}:task/${svc.cluster.name}/${id}`,
    service: svc,
    owner,
    taskDef: td,
    lastStatus: "PROVISIONING",
    desiredStatus: "RUNNING",
    containerHealth: "UNKNOWN",
    targets: [],
    ip: sim.ids.privateIp(),
    createdAt: sim.now,
    stoppedByScheduler: false,
    succeeded: false,
    gen: 0,
    behaviour: sim.faults.behaviour(td.containers, sim.elapsed()),
  };
  listTask(svc, task);
  owner.tasks.add(task);
  if (seeded) return task;
  later(sim, task, sim.timing.provisioningMs + sim.launchDelay(), provisioned);
  return task;
}

/** The cluster lists the task (by id, by service, by startedBy) until it is forgotten. */
function listTask(svc: SimService, task: SimTask): void {
  const c = svc.cluster;
  c.tasks.set(task.id, task);
  svc.tasks.add(task);
  let byOwner = c.startedBy.get(task.owner.id);
  if (!byOwner) c.startedBy.set(task.owner.id, (byOwner = new Set()));
  byOwner.add(task);
}

/** A STOPPED task's retention is over: no call finds it any more. */
function forget(task: SimTask): void {
  const c = task.service.cluster;
  c.tasks.delete(task.id);
  task.service.tasks.delete(task);
  const byOwner = c.startedBy.get(task.owner.id);
  if (byOwner) {
    byOwner.delete(task);
    if (byOwner.size === 0) c.startedBy.delete(task.owner.id);
  }
}

/** PROVISIONING → PENDING; then the image is pulled, or fails to be. */
function provisioned(task: SimTask, sim: SimulatorCore): void {
  task.lastStatus = "PENDING";
  sim.markDirty(task.service);
  if (task.behaviour.pullFails) later(sim, task, sim.timing.pullMs, pullFailed);
  else later(sim, task, sim.timing.pullMs + task.behaviour.startDelayMs, toRunning);
}

function pullFailed(task: SimTask, sim: SimulatorCore): void {
  const td = task.taskDef;
  const image = td.containers.find((c) => c.essential)?.image ?? td.containers[0]?.image ?? "";
  task.containerReason = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${image}: not found`;
  stopTask(sim, task, task.containerReason, { stopCode: "TaskFailedToStart", failure: true });
}

/** Put a task straight into RUNNING and healthy: the state of services that exist before the scenario starts. */
export function seedRunningTask(sim: SimulatorCore, svc: SimService, owner: TaskOwner): SimTask {
  const task = launchTask(sim, svc, owner, true);
  task.lastStatus = "RUNNING";
  task.startedAt = sim.now;
  task.succeeded = true;
  if (owner.taskDef.containers.some((c) => c.healthCheck)) task.containerHealth = "HEALTHY";
  for (const lb of owner.loadBalancers) {
    if (lb.targetGroupArn) sim.elb.registerTarget(task, lb.targetGroupArn, lb.containerPort ?? 80, { healthyNow: true, fails: false });
  }
  const b = task.behaviour;
  if (b.exitAfterMs !== undefined || b.failsHealthChecks) armFaults(sim, task, b);
  return task;
}

function toRunning(task: SimTask, sim: SimulatorCore): void {
  const b = task.behaviour;
  task.lastStatus = "RUNNING";
  task.startedAt = sim.now;
  for (const lb of task.owner.loadBalancers) {
    if (lb.targetGroupArn) sim.elb.registerTarget(task, lb.targetGroupArn, lb.containerPort ?? 80, { healthyNow: false, fails: b.failsHealthChecks });
  }
  const hc = task.taskDef.containers.find((c) => c.healthCheck)?.healthCheck;
  if (hc) {
    const verdictAt = b.failsHealthChecks ? hc.startPeriodMs + hc.intervalMs * hc.retries : hc.startPeriodMs + hc.intervalMs;
    later(sim, task, verdictAt, containerVerdict);
  }
  armFaults(sim, task, b, true);
  sim.onTaskRunning(task);
  checkSuccess(sim, task);
  sim.markDirty(task.service);
}

function containerVerdict(task: SimTask, sim: SimulatorCore): void {
  const fails = task.behaviour.failsHealthChecks;
  task.containerHealth = fails ? "UNHEALTHY" : "HEALTHY";
  if (fails) failHealthCheck(sim, task, "Task failed container health checks");
  else checkSuccess(sim, task);
  sim.markDirty(task.service);
}

function armFaults(sim: SimulatorCore, task: SimTask, b: Readonly<ImageBehaviour>, skipHealth = false): void {
  if (b.exitAfterMs !== undefined) later(sim, task, b.exitAfterMs, essentialExited);
  if (!skipHealth && b.failsHealthChecks) {
    for (const t of task.targets) sim.elb.failTarget(task, t);
  }
}

function essentialExited(task: SimTask, sim: SimulatorCore): void {
  task.exitCode = task.behaviour.exitCode;
  stopTask(sim, task, "Essential container in task exited", { stopCode: "EssentialContainerExited", failure: true, crashed: true });
}

/** True when ECS counts the task as healthy: RUNNING, container health checks passed, every target healthy. */
export function isHealthy(task: SimTask): boolean {
  if (task.lastStatus !== "RUNNING" || task.desiredStatus !== "RUNNING") return false;
  if (task.taskDef.containers.some((c) => c.healthCheck) && task.containerHealth !== "HEALTHY") return false;
  return task.targets.every((t) => t.state === "healthy" || t.state === "unused");
}

/** Counts toward maximumPercent: everything launched and not yet on its way out of the cluster. */
export function occupies(task: SimTask): boolean {
  return ACTIVE_STATUSES.has(task.lastStatus) || task.lastStatus === "DEACTIVATING";
}

export function checkSuccess(sim: SimulatorCore, task: SimTask): void {
  if (!task.succeeded && isHealthy(task)) {
    task.succeeded = true;
    sim.onTaskSucceeded(task);
  }
}

/** A health check failed: ECS replaces the task, but not during the service's grace period. */
export function failHealthCheck(sim: SimulatorCore, task: SimTask, reason: string): void {
  if (task.desiredStatus !== "RUNNING") return;
  const graceEnds = (task.startedAt ?? sim.now) + task.service.healthCheckGracePeriodMs;
  if (sim.now < graceEnds) {
    later(sim, task, graceEnds - sim.now, () => failHealthCheck(sim, task, reason));
    return;
  }
  stopTask(sim, task, reason, { stopCode: "ServiceSchedulerInitiated", failure: true });
}

export interface StopOptions {
  stopCode: "ServiceSchedulerInitiated" | "TaskFailedToStart" | "EssentialContainerExited" | "UserInitiated";
  /** Counts against the deployment's circuit breaker. */
  failure?: boolean;
  /** The container already died: no connection draining. */
  crashed?: boolean;
}

export function stopTask(sim: SimulatorCore, task: SimTask, reason: string, opts: StopOptions): void {
  if (task.desiredStatus === "STOPPED") return;
  task.gen++;
  task.desiredStatus = "STOPPED";
  task.stoppingAt = sim.now;
  task.stoppedReason = reason;
  task.stopCode = opts.stopCode;
  task.stoppedByScheduler = !opts.failure;
  if (opts.failure && !task.succeeded) sim.onTaskFailed(task);
  if (task.lastStatus === "RUNNING" && task.targets.length > 0 && !opts.crashed) {
    // Connection draining: the target stays registered for the group's deregistration delay.
    task.lastStatus = "DEACTIVATING";
    const delay = sim.elb.drainTargets(task);
    later(sim, task, delay, drained);
  } else if (task.lastStatus === "RUNNING") {
    sim.elb.drainTargets(task);
    task.lastStatus = "STOPPING";
    later(sim, task, opts.crashed ? 1_000 : sim.timing.stopMs, deprovision);
  } else {
    deprovision(task, sim);
  }
  sim.markDirty(task.service);
}

/** DEACTIVATING → STOPPING once connections have drained. */
function drained(task: SimTask, sim: SimulatorCore): void {
  task.lastStatus = "STOPPING";
  sim.markDirty(task.service);
  later(sim, task, sim.timing.stopMs, deprovision);
}

function deprovision(task: SimTask, sim: SimulatorCore): void {
  task.lastStatus = "DEPROVISIONING";
  later(sim, task, Math.min(1_000, sim.timing.stopMs), finalize);
}

function finalize(task: SimTask, sim: SimulatorCore): void {
  task.lastStatus = "STOPPED";
  task.stoppedAt = sim.now;
  task.owner.tasks.delete(task);
  sim.afterStep(sim.timing.stoppedRetentionMs, forget, task);
  sim.markDirty(task.service);
}
