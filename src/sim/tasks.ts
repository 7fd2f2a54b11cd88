/**
 * Task lifecycle: PROVISIONING → PENDING → RUNNING → (DEACTIVATING) → STOPPING → DEPROVISIONING
 * → STOPPED, with image faults deciding whether a task pulls, starts, stays healthy or exits.
 * SPEC.md §Tasks.
 */
import type { SimulatorCore } from "./core.ts";
import type { ImageBehaviour } from "./faults.ts";
import { ACTIVE_STATUSES, type SimService, type SimTask, type TaskOwner } from "./model.ts";

const behaviours = new WeakMap<SimTask, ImageBehaviour>();

/** Run `fn` after `ms` unless the task has moved on (stopped) in the meantime. */
export function later(sim: SimulatorCore, task: SimTask, ms: number, fn: () => void): void {
  const gen = task.gen;
  sim.after(ms, () => {
    if (task.gen === gen) fn();
  });
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
  };
  svc.cluster.tasks.set(id, task);
  owner.tasks.add(task);
  const b = sim.faults.behaviour(
    td.containers.map((c) => c.image),
    sim.elapsed(),
  );
  behaviours.set(task, b);
  if (seeded) return task;
  later(sim, task, sim.timing.provisioningMs + sim.launchDelay(), () => {
    task.lastStatus = "PENDING";
    sim.markDirty(svc);
    if (b.pullFails) {
      later(sim, task, sim.timing.pullMs, () => {
        const image = td.containers.find((c) => c.essential)?.image ?? td.containers[0]?.image ?? "";
        task.containerReason = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${image}: not found`;
        stopTask(sim, task, task.containerReason, { stopCode: "TaskFailedToStart", failure: true });
      });
    } else {
      later(sim, task, sim.timing.pullMs + b.startDelayMs, () => toRunning(sim, task, b));
    }
  });
  return task;
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
  const b = behaviours.get(task)!;
  if (b.exitAfterMs !== undefined || b.failsHealthChecks) armFaults(sim, task, b);
  return task;
}

function toRunning(sim: SimulatorCore, task: SimTask, b: ImageBehaviour): void {
  task.lastStatus = "RUNNING";
  task.startedAt = sim.now;
  for (const lb of task.owner.loadBalancers) {
    if (lb.targetGroupArn) sim.elb.registerTarget(task, lb.targetGroupArn, lb.containerPort ?? 80, { healthyNow: false, fails: b.failsHealthChecks });
  }
  const hc = task.taskDef.containers.find((c) => c.healthCheck)?.healthCheck;
  if (hc) {
    const verdictAt = b.failsHealthChecks ? hc.startPeriodMs + hc.intervalMs * hc.retries : hc.startPeriodMs + hc.intervalMs;
    later(sim, task, verdictAt, () => {
      task.containerHealth = b.failsHealthChecks ? "UNHEALTHY" : "HEALTHY";
      if (b.failsHealthChecks) failHealthCheck(sim, task, "Task failed container health checks");
      else checkSuccess(sim, task);
      sim.markDirty(task.service);
    });
  }
  armFaults(sim, task, b, true);
  sim.onTaskRunning(task);
  checkSuccess(sim, task);
  sim.markDirty(task.service);
}

function armFaults(sim: SimulatorCore, task: SimTask, b: ImageBehaviour, skipHealth = false): void {
  if (b.exitAfterMs !== undefined) {
    later(sim, task, b.exitAfterMs, () => {
      task.exitCode = b.exitCode;
      stopTask(sim, task, "Essential container in task exited", { stopCode: "EssentialContainerExited", failure: true, crashed: true });
    });
  }
  if (!skipHealth && b.failsHealthChecks) {
    for (const t of task.targets) sim.elb.failTarget(task, t);
  }
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
  const svc = task.service;
  const finish = () => {
    task.lastStatus = "DEPROVISIONING";
    later(sim, task, Math.min(1_000, sim.timing.stopMs), () => finalize(sim, task));
  };
  if (task.lastStatus === "RUNNING" && task.targets.length > 0 && !opts.crashed) {
    // Connection draining: the target stays registered for the group's deregistration delay.
    task.lastStatus = "DEACTIVATING";
    const delay = sim.elb.drainTargets(task);
    later(sim, task, delay, () => {
      task.lastStatus = "STOPPING";
      sim.markDirty(svc);
      later(sim, task, sim.timing.stopMs, finish);
    });
  } else if (task.lastStatus === "RUNNING") {
    sim.elb.drainTargets(task);
    task.lastStatus = "STOPPING";
    later(sim, task, opts.crashed ? 1_000 : sim.timing.stopMs, finish);
  } else {
    finish();
  }
  sim.markDirty(svc);
}

function finalize(sim: SimulatorCore, task: SimTask): void {
  task.lastStatus = "STOPPED";
  task.stoppedAt = sim.now;
  task.owner.tasks.delete(task);
  sim.after(sim.timing.stoppedRetentionMs, () => task.service.cluster.tasks.delete(task.id));
  sim.markDirty(task.service);
}
