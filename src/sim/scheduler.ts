/**
 * The ECS service scheduler, run for one service whenever something about it changes (event-driven:
 * no periodic scan of every service). Rolling deployments (controller ECS), task sets (EXTERNAL),
 * service deletion, and the deployment circuit breaker. SPEC.md §Rolling, §Circuit breaker, §Task sets.
 */
import type { SimulatorCore } from "./core.ts";
import type { SimDeployment, SimService, SimTask, SimTaskSet, TaskOwner } from "./model.ts";
import { isHealthy, launchTask, occupies, stopTask } from "./tasks.ts";
import { managedPass } from "./managed.ts";

/** ECS's failure threshold: ceil(0.5 × desired), at least 3 and at most 200. */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * desiredCount)));
}

/** [floor, ceiling] of tasks a rolling deployment keeps: ceil(desired×min%), floor(desired×max%). */
export function rollingBounds(desired: number, minimumHealthyPercent: number, maximumPercent: number): { lower: number; upper: number } {
  return { lower: Math.ceil((desired * minimumHealthyPercent) / 100), upper: Math.floor((desired * maximumPercent) / 100) };
}

export function addEvent(sim: SimulatorCore, svc: SimService, message: string): void {
  // Frozen: views share it instead of copying a service's hundred events on every DescribeServices.
  svc.events.unshift(Object.freeze({ id: sim.ids.hex(8) + "-" + sim.ids.hex(4) + "-" + sim.ids.hex(4) + "-" + sim.ids.hex(4) + "-" + sim.ids.hex(12), createdAt: sim.now, message }));
  if (svc.events.length > 100) svc.events.length = 100;
}

export function servicePass(sim: SimulatorCore, svc: SimService): void {
  if (svc.status === "INACTIVE") return;
  if (svc.status === "DRAINING") return drainService(sim, svc);
  if (svc.controller === "EXTERNAL") return taskSetPass(sim, svc);
  if (svc.managed?.active) return managedPass(sim, svc, svc.managed.active);
  rollingPass(sim, svc);
}

function liveTasks(svc: SimService): SimTask[] {
  const out: SimTask[] = [];
  for (const d of svc.deployments) for (const t of d.tasks) out.push(t);
  for (const s of svc.taskSets) for (const t of s.tasks) out.push(t);
  return out;
}

function drainService(sim: SimulatorCore, svc: SimService): void {
  const tasks = liveTasks(svc);
  for (const t of tasks) if (t.desiredStatus === "RUNNING") stopTask(sim, t, scalingReason(svc.deployments[0]?.id ?? svc.taskSets[0]?.id ?? "ecs-svc"), { stopCode: "ServiceSchedulerInitiated" });
  if (tasks.every((t) => t.lastStatus === "STOPPED")) {
    svc.status = "INACTIVE";
    svc.deployments = [];
    svc.taskSets = [];
    addEvent(sim, svc, `(service ${svc.name}) has been deleted.`);
  }
}

/** ECS's own service events for launches and scale-ins: "(service x) has started 2 tasks: (task a) (task b)." */
function reportStarted(sim: SimulatorCore, svc: SimService, tasks: SimTask[]): void {
  if (tasks.length > 0) addEvent(sim, svc, `(service ${svc.name}) has started ${tasks.length} tasks: ${tasks.map((t) => `(task ${t.id})`).join(" ")}.`);
}

function stopAndReport(sim: SimulatorCore, svc: SimService, tasks: SimTask[], reason: string): void {
  if (tasks.length === 0) return;
  const running = tasks.filter((t) => t.lastStatus === "RUNNING");
  for (const t of tasks) stopTask(sim, t, reason, { stopCode: "ServiceSchedulerInitiated" });
  if (running.length > 0) addEvent(sim, svc, `(service ${svc.name}) has stopped ${running.length} running tasks: ${running.map((t) => `(task ${t.id})`).join(" ")}.`);
}

function scalingReason(deploymentId: string): string {
  return `Scaling activity initiated by (deployment ${deploymentId})`;
}

/** Stop order when scaling in: tasks that are not (yet) healthy first, then the newest. */
function stopOrder(a: SimTask, b: SimTask): number {
  const ha = isHealthy(a) ? 1 : 0;
  const hb = isHealthy(b) ? 1 : 0;
  return ha - hb || b.createdAt - a.createdAt;
}

/** Running-desired tasks of `owner`, in stop order. */
function runningByStopOrder(owner: TaskOwner): SimTask[] {
  const out: SimTask[] = [];
  for (const t of owner.tasks) if (t.desiredStatus === "RUNNING") out.push(t);
  return out.sort(stopOrder);
}

// A pass runs at every change of a service's tasks, so it counts in loops over the owners' task
// sets and builds (and sorts) a list only when it has tasks to choose among.
function rollingPass(sim: SimulatorCore, svc: SimService): void {
  const primary = svc.deployments.find((d) => d.status === "PRIMARY");
  if (!primary) return;
  checkBreaker(sim, svc, primary);
  const current = svc.deployments.find((d) => d.status === "PRIMARY")!; // a rollback may have switched it
  const D = svc.desiredCount;
  const { minimumHealthyPercent, maximumPercent } = svc.deploymentConfiguration;
  const { lower, upper } = rollingBounds(D, minimumHealthyPercent, maximumPercent);
  const owners: TaskOwner[] = svc.taskSets.length === 0 ? svc.deployments : [...svc.deployments, ...svc.taskSets];

  // 1. Retire tasks of older deployments without going below the healthy floor. Unhealthy ones
  //    do not count toward the floor, so they can always go. A stalled (failed, not rolled
  //    back) deployment freezes the rollout: the older tasks keep serving.
  let healthy = 0;
  let old: SimTask[] | undefined;
  for (const owner of owners) {
    for (const t of owner.tasks) {
      if (t.desiredStatus !== "RUNNING") continue;
      if (isHealthy(t)) healthy++;
      if (owner !== current && !current.stalled) (old ??= []).push(t);
    }
  }
  const retire: SimTask[] = [];
  if (old) {
    for (const t of old.sort(stopOrder)) {
      if (!isHealthy(t)) retire.push(t);
      else if (healthy > lower) {
        retire.push(t);
        healthy--;
      }
    }
  }
  // 2. Scale the primary in if it has more tasks than desired.
  let mine = 0;
  for (const t of current.tasks) if (t.desiredStatus === "RUNNING") mine++;
  if (mine > D) {
    const sorted = runningByStopOrder(current);
    for (let i = 0; sorted.length - i > D; i++) retire.push(sorted[i]!);
  }
  if (retire.length > 0) stopAndReport(sim, svc, retire, scalingReason(current.id));
  // 3. Launch new tasks under the ceiling; PROVISIONING/PENDING and draining tasks count toward it.
  if (!current.stalled) {
    const need = D - Math.min(mine, D);
    if (need > 0) {
      let occupying = 0;
      for (const owner of owners) for (const t of owner.tasks) if (occupies(t)) occupying++;
      const room = upper - occupying;
      const started: SimTask[] = [];
      for (let i = 0; i < Math.min(need, room); i++) started.push(launchTask(sim, svc, current));
      reportStarted(sim, svc, started);
    }
  }
  checkCompleted(sim, svc, current);
}

function checkCompleted(sim: SimulatorCore, svc: SimService, p: SimDeployment): void {
  const D = svc.desiredCount;
  let mine = 0;
  let allHealthy = true;
  let stopping = false;
  for (const t of p.tasks) {
    if (t.desiredStatus === "RUNNING") {
      mine++;
      if (allHealthy && !isHealthy(t)) allHealthy = false;
    } else stopping = true;
  }
  let othersLeft = false;
  for (const d of svc.deployments) {
    if (d === p || othersLeft) continue;
    for (const t of d.tasks) {
      if (t.lastStatus !== "STOPPED") {
        othersLeft = true;
        break;
      }
    }
  }
  const stable = mine === D && allHealthy && !othersLeft && !stopping;
  if (!stable) {
    svc.steady = false;
    return;
  }
  if (p.rolloutState === "IN_PROGRESS") {
    p.rolloutState = "COMPLETED";
    p.rolloutStateReason = `ECS deployment ${p.id} completed.`;
    p.updatedAt = sim.now;
    svc.deployments = [p];
    addEvent(sim, svc, `(service ${svc.name}) (deployment ${p.id}) deployment completed.`);
  }
  if (svc.deployments.length > 1 && p.rolloutState !== "FAILED") svc.deployments = [p];
  if (!svc.steady) {
    svc.steady = true;
    addEvent(sim, svc, `(service ${svc.name}) has reached a steady state.`);
  }
}

/** Circuit breaker: count failed tasks; at the threshold fail the deployment and roll back if asked. */
export function checkBreaker(sim: SimulatorCore, svc: SimService, p: SimDeployment): void {
  if (svc.managed?.active) return; // an ECS-managed deployment's breaker is its own (managed.ts)
  const cb = svc.deploymentConfiguration.deploymentCircuitBreaker;
  if (!cb.enable || p.rolloutState !== "IN_PROGRESS" || !p.breaker.evaluating) return;
  if (p.failedTasks < circuitBreakerThreshold(svc.desiredCount)) return;
  // ECS gives the same reason whether tasks failed to reach RUNNING or failed health checks.
  const why = "tasks failed to start";
  p.rolloutState = "FAILED";
  p.updatedAt = sim.now;
  const target = cb.rollback
    ? svc.deployments.filter((d) => d !== p && d.rolloutState === "COMPLETED").sort((a, b) => b.createdAt - a.createdAt)[0]
    : undefined;
  if (!target) {
    p.rolloutStateReason = `ECS deployment circuit breaker: ${why}.`;
    p.stalled = true;
    addEvent(sim, svc, `(service ${svc.name}) (deployment ${p.id}) deployment failed: ${why}.`);
    return;
  }
  p.rolloutStateReason = `ECS deployment circuit breaker: ${why}. Rolling back to deployment ${target.id}.`;
  p.status = "ACTIVE";
  target.status = "PRIMARY";
  target.rolloutState = "IN_PROGRESS";
  target.rolloutStateReason = `ECS deployment circuit breaker: rolling back from deployment ${p.id}.`;
  target.updatedAt = sim.now;
  target.failedTasks = 0;
  target.breaker = { stage: 1, evaluating: true };
  target.stalled = false;
  svc.taskDef = target.taskDef;
  svc.steady = false;
  addEvent(sim, svc, `(service ${svc.name}) (deployment ${p.id}) deployment failed: ${why}.`);
  addEvent(sim, svc, `(service ${svc.name}) rolling back to deployment ${target.id}.`);
}

export function computedDesiredCount(desired: number, scalePercent: number): number {
  return Math.ceil((desired * scalePercent) / 100);
}

/** Scale one task owner to `want` tasks: the not-yet-healthy and newest go first; missing ones are launched. */
export function scaleOwner(sim: SimulatorCore, svc: SimService, owner: TaskOwner, want: number): void {
  const mine = [...owner.tasks].filter((t) => t.desiredStatus === "RUNNING").sort(stopOrder);
  stopAndReport(sim, svc, mine.slice(0, Math.max(0, mine.length - want)), scalingReason(owner.id));
  const started: SimTask[] = [];
  for (let i = mine.length; i < want; i++) started.push(launchTask(sim, svc, owner));
  reportStarted(sim, svc, started);
}

function taskSetPass(sim: SimulatorCore, svc: SimService): void {
  for (const ts of [...svc.taskSets]) {
    const target = ts.status === "DRAINING" ? 0 : computedDesiredCount(svc.desiredCount, ts.scalePercent);
    const mine = [...ts.tasks].filter((t) => t.desiredStatus === "RUNNING").sort(stopOrder);
    stopAndReport(sim, svc, mine.slice(0, Math.max(0, mine.length - target)), scalingReason(ts.id));
    const started: SimTask[] = [];
    for (let i = mine.length; i < target; i++) started.push(launchTask(sim, svc, ts));
    reportStarted(sim, svc, started);
    if (ts.status === "DRAINING" && [...ts.tasks].every((t) => t.lastStatus === "STOPPED")) {
      svc.taskSets = svc.taskSets.filter((x) => x !== ts);
      continue;
    }
    updateStability(sim, ts, target);
  }
}

function updateStability(sim: SimulatorCore, ts: SimTaskSet, target: number): void {
  const tasks = [...ts.tasks];
  const running = tasks.filter((t) => t.desiredStatus === "RUNNING");
  const steady = running.length === target && running.every(isHealthy) && tasks.every((t) => t.desiredStatus === "RUNNING");
  const next = steady ? "STEADY_STATE" : "STABILIZING";
  if (next !== ts.stabilityStatus) {
    ts.stabilityStatus = next;
    ts.stabilityStatusAt = sim.now;
  }
}
