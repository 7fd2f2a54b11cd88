/**
 * Rolling deployments (deploymentController ECS or absent), as a pure state machine.
 *
 *   inspect ─┬─ DRAINING ─► waitDraining ─► inspect
 *            ├─ not updatable in place ─► Failed (nothing touched)
 *            └─► (readHealthChecks) ─► register | resolveTaskDefinition ─► create | update ─► follow ─┬─► Succeeded
 *                                                                               ├─ ECS rolled back ─► followEcsRollback ─► RolledBack
 *                                                                               └─ failed ─► rollback ─► followRollback ─► RolledBack
 *
 * `follow` applies Flotilla's stability check and circuit breaker and reads ECS's rolloutState and
 * its circuit breaker: a deployment that ECS rolled back is never reported as a success, and one
 * that looks steady counts only once its new tasks have stayed healthy for the dwell (spec.ts
 * `stableDwellMs`).
 */
import type { Deployment as EcsDeployment, Service } from "../aws/ports.ts";
import type { NewEvent, TaskCounts } from "../store/types.ts";
import { type ActiveRecord, type Effect, type EndPhase, type Input, type Machine, type Step } from "./machine.ts";
import { because, event, type Because } from "./registry.ts";
import { describeRefused, errorText, finish as finishAt, go, handleCommon, isStep, pollSleep, success, withRecord as record2, type BaseState, type Outcome } from "./steps.ts";
import { createServiceRequest, inPlaceBlockers, updateServiceRequest } from "./service-request.ts";
import { containerHealthCheckIntervals, DEFAULT_HEALTH_CHECK_INTERVAL_S, failureThreshold, stabilityTimeoutMs, stableDwellMs, targetGroupArns, type DeploySpec } from "./spec.ts";

type RollingStep =
  | "inspect"
  | "waitDraining"
  | "readHealthChecks"
  | "resolveTaskDefinition"
  | "register"
  | "create"
  | "update"
  | "confirm"
  | "follow"
  | "rollback"
  | "followRollback"
  | "followEcsRollback"
  | "scaleDown"
  | "done";

export interface RollingState extends BaseState<RollingStep> {
  machine: "rolling";
  spec: DeploySpec;
  /** CreateService's idempotency token: a create repeated after a crash makes no second service. */
  clientToken: string;
  mode?: "create" | "update";
  oldTaskDefinitionArn?: string;
  newTaskDefinitionArn?: string;
  /** The ECS deployment being followed (ours, then the rollback's). */
  ecsDeploymentId?: string;
  deadline?: number;
  /** The most new-revision tasks seen failed: what the record reports, even after a rollback. */
  newFailed?: number;
  /** ECS's rolloutStateReason for our deployment, kept for when the deployment leaves DescribeServices. */
  ecsReason?: string;
  /**
   * Since when the deployment has been steady — when ECS marked it COMPLETED (its updatedAt), else
   * when it was first seen so; success needs it to stay steady for the dwell from then.
   */
  steadySince?: number;
  /** When it was first seen steady: success needs a later steady read as well. */
  steadySeenAt?: number;
  /** Failed new tasks counted when it was first seen steady: one more failure ends the steady run. */
  steadyFailed?: number;
  /** Health-check intervals (s) of the service's target groups and containers: part of the dwell. */
  healthCheckIntervals?: number[];
  /** When the ECS deployment being followed started: new tasks from then on are counted. */
  followingSince?: number;
  startedWaitingAt?: number;
  failure?: Because;
  aborted?: { by: string };
  lastCounts?: string;
  /** While confirming a mutation after a restart: the step that issued it. */
  resumedFrom?: RollingStep;
}

export function startRolling(spec: DeploySpec, clientToken: string): RollingState {
  return { machine: "rolling", spec, step: "inspect", clientToken, retries: 0 };
}

const describe = (s: RollingState): Extract<Effect, { type: "describeService" }> => ({ type: "describeService", cluster: s.spec.cluster, service: s.spec.service });
/** A wait before the next status read, on the poll grid. */
const sleep = (s: RollingState, ms = s.spec.depdef.stabilityCheck.pollInterval * 1000): Effect => pollSleep(ms, s.spec.depdef.stabilityCheck.pollInterval);
const finish = (state: RollingState, phase: EndPhase, outcome: Outcome, events: NewEvent[] = []) => finishAt(state, "done", phase, outcome, events);
/** The failure's message with more said after it (what the undoing did). */
const andThen = (f: Because, more: string): Because => ({ reason: f.reason, message: `${f.message}${more}` });

export const rolling: Machine<RollingState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, { done: "done", answers: ["service", "taskDefinition", "targetGroups"], resume, control });
    if (isStep(common)) return common;
    state = common;
    switch (state.step) {
      case "inspect":
        return inspect(state, input, now);
      case "waitDraining":
        return go(state, "inspect", describe(state));
      case "readHealthChecks":
        return healthChecksRead(state, input);
      case "resolveTaskDefinition":
        if (input.type === "taskDefinition") {
          const intervals = [...(state.healthCheckIntervals ?? []), ...containerHealthCheckIntervals(input.taskDefinition.definition)];
          return deploy({ ...state, newTaskDefinitionArn: input.taskDefinition.taskDefinitionArn, healthCheckIntervals: intervals });
        }
        return fail(state, because("TaskDefinitionNotFound", { taskDefinition: String(state.spec.svcdef["taskDefinition"]), error: errorText(input) }));
      case "register":
        if (input.type === "taskDefinition") {
          const arn = input.taskDefinition.taskDefinitionArn;
          return deploy({ ...state, newTaskDefinitionArn: arn }, [event("TaskDefinitionRegistered", { taskDefinitionArn: arn }, { taskDefinitionArn: arn })]);
        }
        return fail(state, because("TaskDefinitionRejected", { call: "RegisterTaskDefinition", error: errorText(input) }));
      case "create":
      case "update":
        return applied(state, input, now);
      case "confirm":
        return confirm(state, input, now);
      case "follow":
      case "followRollback":
      case "followEcsRollback":
        return follow(state, input, now);
      case "rollback":
      case "scaleDown":
        return afterRecovery(state, input, now);
      case "done":
        return { state, record: {} };
    }
  },
};

function inspect(state: RollingState, input: Input, now: number): Step<RollingState> {
  if (input.type === "start") {
    return go(state, "inspect", describe(state), { phase: "Deploying", events: [event("Started", { variant: "rolling", object: state.spec.object, service: state.spec.service, cluster: state.spec.cluster, region: state.spec.region })] });
  }
  if (input.type === "error") return fail(state, describeRefused(input.error));
  if (input.type !== "service") return go(state, "inspect", describe(state));
  const live = input.service;
  if (live?.status === "DRAINING") {
    const since = state.startedWaitingAt ?? now;
    if (now - since > stabilityTimeoutMs(state.spec.depdef, 1)) {
      return fail(state, because("ServiceStillDraining", { variant: "rolling", service: state.spec.service, seconds: Math.round((now - since) / 1000) }));
    }
    return go({ ...state, startedWaitingAt: since }, "waitDraining", sleep(state), {
      events: state.startedWaitingAt ? [] : [event("WaitingForDrain", { variant: "rolling", service: state.spec.service })],
    });
  }
  const next: RollingState = { ...state };
  delete next.startedWaitingAt;
  if (live && live.status === "ACTIVE") {
    const blockers = inPlaceBlockers(state.spec, live);
    if (blockers.length) {
      return finish(next, "Failed", because("NotUpdatableInPlace", { variant: "rolling", blockers: blockers.map((b) => `${b.message} (${b.hint})`).join("; ") }));
    }
    next.mode = "update";
    if (live.taskDefinition) next.oldTaskDefinitionArn = live.taskDefinition;
  } else {
    next.mode = "create";
  }
  const record: ActiveRecord = { phase: "Registering", ...(next.oldTaskDefinitionArn ? { oldTaskDefinitionArn: next.oldTaskDefinitionArn } : {}) };
  next.healthCheckIntervals = containerHealthCheckIntervals(state.spec.taskdef);
  const groups = targetGroupArns(state.spec.svcdef);
  if (groups.length) return go(next, "readHealthChecks", { type: "describeTargetGroups", targetGroupArns: groups }, record);
  return taskDefinitionStep(next, record);
}

function taskDefinitionStep(state: RollingState, record: ActiveRecord = {}): Step<RollingState> {
  if (state.spec.taskdef) return go(state, "register", { type: "registerTaskDefinition", request: state.spec.taskdef }, record);
  return go(state, "resolveTaskDefinition", { type: "describeTaskDefinition", taskDefinition: String(state.spec.svcdef["taskDefinition"]) }, record);
}

/** The target groups' health checks, for the dwell. Unreadable ones count with ALB's default interval. */
function healthChecksRead(state: RollingState, input: Input): Step<RollingState> {
  const groups = input.type === "targetGroups" ? input.targetGroups.map((g) => g.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_S) : [DEFAULT_HEALTH_CHECK_INTERVAL_S];
  const events = input.type === "targetGroups" ? [] : [event("HealthChecksUnknown", { error: errorText(input), seconds: DEFAULT_HEALTH_CHECK_INTERVAL_S })];
  return taskDefinitionStep({ ...state, healthCheckIntervals: [...(state.healthCheckIntervals ?? []), ...groups] }, { events });
}

function deploy(state: RollingState, events: NewEvent[] = []): Step<RollingState> {
  const arn = state.newTaskDefinitionArn!;
  const record: ActiveRecord = { phase: "Deploying", newTaskDefinitionArn: arn, events };
  if (state.mode === "create") return go(state, "create", { type: "createService", request: createServiceRequest(state.spec, arn, state.clientToken) }, record);
  return go(state, "update", { type: "updateService", request: updateServiceRequest(state.spec, arn) }, record);
}

/** The create or update call answered. */
function applied(state: RollingState, input: Input, now: number): Step<RollingState> {
  if (input.type !== "service" || !input.service) {
    return fail(state, because(state.step === "create" ? "CreateServiceRejected" : "UpdateServiceRejected", { error: errorText(input) }));
  }
  const args = { service: state.spec.service, taskDefinitionArn: state.newTaskDefinitionArn! };
  return startFollowing(state, input.service, "follow", now, [state.step === "create" ? event("ServiceCreated", { variant: "rolling", ...args }) : event("ServiceUpdated", args)]);
}

function startFollowing(state: RollingState, service: Service, step: RollingStep, now: number, events: NewEvent[]): Step<RollingState> {
  const target = step === "followRollback" ? state.oldTaskDefinitionArn : state.newTaskDefinitionArn;
  const primary = service.deployments.find((d) => d.status === "PRIMARY" && d.taskDefinition === target) ?? service.deployments.find((d) => d.status === "PRIMARY");
  const desired = primary?.desiredCount ?? service.desiredCount;
  const next: RollingState = { ...state, deadline: now + stabilityTimeoutMs(state.spec.depdef, desired), followingSince: primary?.createdAt ?? now };
  if (primary) next.ecsDeploymentId = primary.id;
  delete next.lastCounts;
  delete next.steadySince;
  delete next.steadySeenAt;
  delete next.steadyFailed;
  return go(next, step, sleep(state), { phase: step === "followRollback" ? "RollingBack" : "Stabilizing", events });
}

/** After a restart in the middle of a create/update: did it happen? Look before repeating it. */
function confirm(state: RollingState, input: Input, now: number): Step<RollingState> {
  if (input.type !== "service") return go(state, "confirm", describe(state));
  const intended = state.inFlight;
  const service = input.service;
  const wantArn = intended?.type === "updateService" ? (intended.request["taskDefinition"] as string | undefined) : state.newTaskDefinitionArn;
  const wantDesired = intended?.type === "updateService" ? (intended.request["desiredCount"] as number | undefined) : undefined;
  const happened =
    !!service &&
    service.status === "ACTIVE" &&
    (wantArn === undefined || service.deployments.some((d) => d.status === "PRIMARY" && d.taskDefinition === wantArn)) &&
    (wantDesired === undefined || service.desiredCount === wantDesired);
  const resumedStep = state.resumedFrom ?? "create";
  const base: RollingState = { ...state, step: resumedStep };
  delete base.resumedFrom;
  if (!happened || !service) {
    // Not applied: perform it again (CreateService's client token makes a repeat safe).
    return go(base, resumedStep, intended!, { events: [event("Resumed", { variant: "repeating", effect: intended!.type })] });
  }
  const resumed = [event("Resumed", { variant: "applied", effect: intended!.type })];
  if (resumedStep === "rollback") return startFollowing(base, service, "followRollback", now, resumed);
  if (resumedStep === "scaleDown") return finish(base, "Failed", andThen(state.failure!, "; the new service was scaled to 0"), resumed);
  return startFollowing(base, service, "follow", now, resumed);
}

/**
 * Status read while following: the service, plus the new revision's failed tasks (stopped tasks of
 * its task definition). Counted whether or not Flotilla's breaker is on: the record reports them,
 * also after ECS's own breaker rolled back and ECS no longer shows the failed deployment.
 */
function observe(state: RollingState): Effect {
  const target = state.step === "follow" || state.step === "followEcsRollback" ? state.newTaskDefinitionArn : undefined;
  return target ? { ...describe(state), failuresOf: { taskDefinition: target, since: state.followingSince ?? 0 } } : describe(state);
}

/**
 * Why ECS failed deployment `id`: its rolloutStateReason while DescribeServices still lists it,
 * else the service event ECS wrote when it failed it ("(deployment <id>) deployment failed: …").
 */
function ecsFailureReason(service: Service, id: string | undefined, seen: string | undefined): string | undefined {
  if (seen) return seen;
  if (!id) return undefined;
  const event = service.events.find((e) => e.message.includes(id) && /fail/i.test(e.message));
  if (!event) return undefined;
  return /deployment failed:\s*(.+)$/i.exec(event.message)?.[1]?.trim() ?? event.message;
}

function follow(state: RollingState, input: Input, now: number): Step<RollingState> {
  if (input.type === "slept") return go(state, state.step, observe(state));
  if (input.type !== "service") return fail(state, because("DescribeFailed", { variant: "services", error: errorText(input) }));
  const service = input.service;
  if (!service || service.status !== "ACTIVE") {
    const gone = because("ServiceGone", { service: state.spec.service, status: service ? service.status : "missing" });
    // While rolling back there is nothing left to roll back: a second rollback would only fail.
    if (state.step !== "follow") return finish(state, "Failed", because("RollbackFailed", { variant: "noDeployment", failure: state.failure?.message ?? "", why: gone.message }));
    return finishFailure(state, gone);
  }
  // Only our own ECS deployment (by id) counts. Falling back to "whatever is PRIMARY" would report
  // the old revision's steady state as our success after ECS rolled back between two polls.
  const target = state.step === "follow" ? state.newTaskDefinitionArn : state.step === "followRollback" ? state.oldTaskDefinitionArn : undefined;
  const primary = service.deployments.find((d) => d.status === "PRIMARY");
  const ours = state.ecsDeploymentId ? service.deployments.find((d) => d.id === state.ecsDeploymentId) : primary && (target === undefined || primary.taskDefinition === target) ? primary : undefined;
  const failed = Math.max(ours?.failedTasks ?? 0, input.failures?.count ?? 0);
  // The record's failed count is about the new revision, also while following a rollback.
  const newFailed = Math.max(state.newFailed ?? 0, state.step === "follow" ? failed : 0, input.failures?.count ?? 0);
  const countsRecord = ours ? { ...counts(ours), failed: state.step === "follow" ? failed : newFailed } : undefined;
  const countsKey = countsRecord ? JSON.stringify({ ...countsRecord, rolloutState: ours?.rolloutState }) : undefined;
  const events: NewEvent[] = [];
  if (ours && countsKey !== state.lastCounts) {
    events.push(event("Progress", { variant: "rolling", running: ours.runningCount ?? "?", desired: ours.desiredCount ?? "?", pending: ours.pendingCount ?? "?", failed, rollout: ours.rolloutState ? ` (${ours.rolloutState})` : "" }, countsRecord));
  }
  const ecsReason = ours?.rolloutState === "FAILED" && ours.rolloutStateReason ? ours.rolloutStateReason : state.ecsReason;
  const base: RollingState = { ...state, ...(countsKey ? { lastCounts: countsKey } : {}), ...(newFailed ? { newFailed } : {}), ...(ecsReason ? { ecsReason } : {}) };
  const record = (extra: ActiveRecord = {}): ActiveRecord => ({ ...(countsRecord ? { counts: countsRecord } : extra.phase === "RollingBack" && newFailed ? { counts: { failed: newFailed } } : {}), ...extra, events: [...events, ...(extra.events ?? [])] });

  // Our deployment lost PRIMARY (or is gone): ECS's circuit breaker rolled back, or someone else deployed.
  if (state.step === "follow" && state.ecsDeploymentId && (!ours || ours.status !== "PRIMARY") && primary && primary.id !== state.ecsDeploymentId) {
    const rolledBack = ours?.rolloutState === "FAILED" || primary.taskDefinition === state.oldTaskDefinitionArn;
    if (!rolledBack) {
      return record2(finish(base, "Failed", because("Superseded", { taskDefinition: primary.taskDefinition })), record());
    }
    const why = ecsFailureReason(service, state.ecsDeploymentId, ours?.rolloutStateReason ?? ecsReason);
    const failure = because("EcsCircuitBreakerRolledBack", { why: why ? ` (${why})` : "" });
    const next: RollingState = { ...base, failure, ecsDeploymentId: primary.id, deadline: now + stabilityTimeoutMs(state.spec.depdef, primary.desiredCount ?? service.desiredCount) };
    delete next.steadySince;
    delete next.steadySeenAt;
    delete next.steadyFailed;
    const rollingBack = event("EcsRolledBack", { failure: failure.message, taskDefinition: primary.taskDefinition });
    return go(next, "followEcsRollback", sleep(state), record({ phase: "RollingBack", reason: failure.reason, message: rollingBack.message, events: [rollingBack] }));
  }
  if (!ours) {
    if (now < (state.deadline ?? Infinity)) return go(base, state.step, sleep(state), record());
    const missing = because("StabilityTimeout", { variant: "noDeployment", taskDefinition: target ?? "the expected revision" });
    return state.step === "follow" ? record2(finishFailure(base, missing), record()) : record2(finish(base, "Failed", because("RollbackFailed", { variant: "noDeployment", failure: state.failure?.message ?? "", why: missing.message })), record());
  }

  // Counts ECS left out of its answer stay unknown (never 0): the desired count falls back to the
  // svcdef's, a running count nobody reported is never stable.
  const desired = ours.desiredCount ?? svcdefDesired(state);
  // Flotilla's breaker first: a deployment whose new tasks failed often enough has failed, even if
  // it looks steady at this instant. With the size unknown, only an absolute threshold applies.
  const threshold = failureThreshold(state.spec.depdef, desired ?? Number.POSITIVE_INFINITY);
  if (state.step === "follow" && threshold > 0 && failed >= threshold) {
    const last = input.failures?.lastReason ? `; last: ${input.failures.lastReason}` : "";
    return record2(finishFailure(base, because("CircuitBreakerTripped", { failed, which: "new", threshold, last })), record());
  }
  // Stable (DESIGN §2): the desired number of new tasks RUNNING, ECS done replacing the old ones,
  // and no new task failed since it was first seen so.
  const drained = ours.rolloutState === "COMPLETED" || (ours.rolloutState === undefined && service.deployments.length === 1);
  const failuresNow = input.failures?.count ?? 0;
  const lastFailure = input.failures?.lastStoppedAt ?? Number.NEGATIVE_INFINITY;
  const crashedSince = state.step === "follow" && base.steadySince !== undefined && failuresNow > (base.steadyFailed ?? 0);
  const steady = ours.status === "PRIMARY" && (target === undefined || ours.taskDefinition === target) && drained && desired !== undefined && ours.runningCount !== undefined && ours.runningCount >= desired && !crashedSince;
  if (!steady) {
    delete base.steadySince;
    delete base.steadySeenAt;
    delete base.steadyFailed;
  }
  if (steady) {
    // One steady sample is not enough, nor two a poll apart: ECS marks a deployment COMPLETED
    // before new tasks that crash seconds later have crashed. The tasks must stay so for the dwell,
    // counted from when ECS marked it COMPLETED (no later than now, no earlier than our deployment,
    // and only if no new task failed since), and seen steady on two reads.
    const dwell = stableDwellMs(state.spec.depdef, service.healthCheckGracePeriodSeconds ?? 0, state.healthCheckIntervals ?? []);
    if (base.steadySince === undefined) {
      const completedAt = ours.rolloutState === "COMPLETED" && ours.updatedAt >= (state.followingSince ?? now) && ours.updatedAt <= now && lastFailure < ours.updatedAt ? ours.updatedAt : now;
      const next = { ...base, steadySince: completedAt, steadySeenAt: now, steadyFailed: failuresNow };
      return go(next, state.step, untilSteadyFor(next, dwell, now), record());
    }
    const left = base.steadySince + dwell - now;
    if (left > 0 || now <= (base.steadySeenAt ?? base.steadySince)) return go(base, state.step, untilSteadyFor(base, dwell, now), record());
    const held = `, healthy for ${Math.round((now - base.steadySince) / 1000)}s`;
    if (state.step === "follow") return record2(finish(base, "Succeeded", success(`${ours.runningCount}/${desired} tasks of ${ours.taskDefinition} running and stable${held}`)), record());
    return record2(finish(base, state.aborted ? "Aborted" : "RolledBack", andThen(state.failure!, `; rolled back to ${ours.taskDefinition}, which is stable again`)), record());
  }
  if (ours.rolloutState === "FAILED") {
    const failed = because("EcsDeploymentFailed", { why: ours.rolloutStateReason ?? "tasks failed to start" });
    if (state.step === "follow") return record2(finishFailure(base, failed), record());
    return record2(finish(base, "Failed", because("RollbackFailed", { variant: "failedToo", failure: state.failure?.message ?? "", why: failed.message })), record());
  }
  if (now >= (state.deadline ?? Infinity)) {
    const secs = Math.round(stabilityTimeoutMs(state.spec.depdef, desired ?? service.desiredCount) / 1000);
    const unknown = ours.runningCount === undefined || ours.desiredCount === undefined ? "; ECS did not report the deployment's counts" : "";
    const what = `${ours.runningCount ?? "?"}/${desired ?? "?"} tasks running after ${secs}s${unknown}`;
    if (state.step === "follow") return record2(finishFailure(base, because("StabilityTimeout", { variant: "rolling", counts: what })), record());
    return record2(finish(base, "Failed", because("RollbackFailed", { variant: "timeout", failure: state.failure?.message ?? "", counts: what })), record());
  }
  return go(base, state.step, sleep(state), record());
}

/**
 * The wait before the next read of a steady deployment: the rest of its dwell exactly when that is
 * under a poll (success is decided the moment it has held), else a poll on the grid.
 */
function untilSteadyFor(state: RollingState, dwell: number, now: number): Effect {
  const left = state.steadySince! + dwell - now;
  const poll = state.spec.depdef.stabilityCheck.pollInterval * 1000;
  return left > 0 && left < poll ? { type: "sleep", ms: left } : sleep(state);
}

/** The counts ECS reported (an omitted one is left out, not 0). */
function counts(d: EcsDeployment): Partial<TaskCounts> {
  return {
    ...(d.desiredCount !== undefined ? { desired: d.desiredCount } : {}),
    ...(d.runningCount !== undefined ? { running: d.runningCount } : {}),
    ...(d.pendingCount !== undefined ? { pending: d.pendingCount } : {}),
    ...(d.failedTasks !== undefined ? { failed: d.failedTasks } : {}),
  };
}

/** The svcdef's desiredCount, when it sets one. */
function svcdefDesired(state: RollingState): number | undefined {
  const d = state.spec.svcdef["desiredCount"];
  return typeof d === "number" ? d : undefined;
}

/** The new revision failed: roll back to the previous one when allowed, else stop (scaling a broken new service to 0). */
function finishFailure(state: RollingState, failure: Because): Step<RollingState> {
  const { reason, message } = failure;
  const cb = state.spec.depdef.gmDeploymentCircuitBreaker;
  if (cb.rollback && state.mode === "update" && state.oldTaskDefinitionArn && state.oldTaskDefinitionArn !== state.newTaskDefinitionArn) {
    const request = { cluster: state.spec.cluster, service: state.spec.service, taskDefinition: state.oldTaskDefinitionArn };
    return go({ ...state, failure }, "rollback", { type: "updateService", request }, {
      phase: "RollingBack",
      reason,
      message,
      events: [event("Failed", { message }, { reason }), event("RollbackStarted", { taskDefinition: state.oldTaskDefinitionArn })],
    });
  }
  if (state.mode === "create" && state.spec.depdef.deleteNewUponFailure) {
    const request = { cluster: state.spec.cluster, service: state.spec.service, desiredCount: 0 };
    // Still in progress: the deployment becomes Failed only once the scale-down's outcome is recorded.
    return go({ ...state, failure }, "scaleDown", { type: "updateService", request }, { phase: "RollingBack", reason, message, events: [event("Failed", { message }, { reason }), event("ScalingDown", {})] });
  }
  const why = state.mode === "create" ? "there is no previous revision to roll back to" : !cb.rollback ? "rollback is off in the depdef" : "there is no different previous revision";
  return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", andThen(failure, ` (${why})`));
}

/** The rollback or scale-down call answered. */
function afterRecovery(state: RollingState, input: Input, now: number): Step<RollingState> {
  const f = state.failure!;
  if (input.type !== "service" || !input.service) return finish(state, "Failed", because("RollbackFailed", { variant: "call", failure: f.message, what: state.step === "rollback" ? "the rollback" : "scaling to 0", error: errorText(input) }));
  if (state.step === "scaleDown") {
    const scaled = input.service;
    return record2(finish(state, state.aborted ? "Aborted" : "Failed", andThen(f, "; the new service was scaled to 0")), { counts: { desired: scaled.desiredCount, running: scaled.runningCount, pending: scaled.pendingCount } });
  }
  return startFollowing(state, input.service, "followRollback", now, []);
}

function fail(state: RollingState, failure: Because): Step<RollingState> {
  // Nothing was changed in AWS yet, or the change itself failed: there is nothing to roll back.
  return finish({ ...state, failure }, "Failed", failure);
}

function control(state: RollingState, input: Extract<Input, { type: "control" }>, now: number): Step<RollingState> {
  if (input.action !== "abort") {
    // Rolling updates have no waits to skip or pause: ECS paces them. Record and carry on.
    const step = state.inFlight ? { state, effect: state.inFlight, record: {} } : go(state, "inspect", describe(state));
    return { ...step, record: { events: [event("ControlIgnored", { variant: "rolling", action: input.action, by: input.by })] } };
  }
  const aborted = { by: input.by };
  const failure = because("Aborted", { by: input.by, when: "" });
  if (state.step === "inspect" || state.step === "waitDraining" || state.step === "readHealthChecks" || state.step === "register" || state.step === "resolveTaskDefinition") {
    return finish({ ...state, aborted, failure }, "Aborted", because("Aborted", { by: input.by, when: " before the service was changed" }));
  }
  if (state.step === "follow" || state.step === "create" || state.step === "update" || state.step === "confirm") {
    return finishFailure({ ...state, aborted }, failure);
  }
  // Already rolling back or recovering: let that finish, but remember who asked.
  void now;
  return { state: { ...state, aborted }, ...(state.inFlight ? { effect: state.inFlight } : {}), record: { events: [event("AbortNoted", { by: input.by })] } };
}

function resume(state: RollingState): Step<RollingState> {
  const e = state.inFlight;
  if (!e) return go(state, "inspect", describe(state));
  if (e.type === "createService" || e.type === "updateService") {
    return { state: { ...state, resumedFrom: state.step, step: "confirm", inFlight: e }, effect: describe(state), record: {} };
  }
  return { state, effect: e, record: { events: [event("Resumed", { variant: "restart", step: state.step })] } };
}

