/**
 * ECS-managed blue/green, linear and canary deployments (deploymentController ECS, or absent, with
 * `deploymentConfiguration.strategy` BLUE_GREEN, LINEAR or CANARY), as a pure state machine.
 *
 * ECS itself starts the new revision beside the old one, moves the production and test listener
 * rules' weights, runs the lifecycle hooks, bakes and cleans up or rolls back. Flotilla registers
 * the task definition, sends CreateService/UpdateService and follows the *service deployment*
 * (DescribeServiceDeployments), not the service's `deployments` array:
 *
 *   inspect ─► (checkAlarms) ─► checkRules ─► (readHealthChecks) ─► register | resolve ─► create | update
 *     ─► (locate) ─► follow ─┬─ SUCCESSFUL, new tasks stable for the dwell ─► Succeeded
 *                            ├─ ECS rolls back (alarm, its circuit breaker, a hook) ─► … ─► RolledBack
 *                            ├─ Flotilla's breaker / alarms / stability timeout / abort ─► stop ─► follow ─► RolledBack
 *                            └─ failure after ECS finished (within the dwell) ─► revert ─► locate ─► followRevert ─► RolledBack
 *
 * Each lifecycle stage ECS reports is on the timeline, with the production traffic percentage on
 * the new revision. A deployment ECS rolled back never ends Succeeded: only SUCCESSFUL counts, and
 * ROLLBACK_SUCCESSFUL is a failure that was undone.
 *
 * Operator controls map onto what ECS offers (docs/deployments.md): abort is StopServiceDeployment
 * with rollback; resume continues a PAUSE lifecycle hook that waits for action
 * (ContinueServiceDeployment); promote does that for every PAUSE hook of the deployment, now and as
 * they come; pause has no ECS counterpart (only PAUSE hooks written in the svcdef stop ECS).
 */
import type { Alarm, LifecycleHookDetail, Service, ServiceDeployment } from "../aws/ports.ts";
import { LIFECYCLE_STAGES } from "../aws/ports.ts";
import type { NewEvent, TaskCounts } from "../store/types.ts";
import type { ActiveRecord, Effect, EndPhase, Input, Machine, Record_, Step, TaskFailures } from "./machine.ts";
import { because, event, type Because } from "./registry.ts";
import { alarmsBeforeStart } from "./alarms.ts";
import { describeRefused, errorText, finish as finishAt, go, handleCommon, isStep, pollSleep, success, withRecord, type BaseState, type Outcome } from "./steps.ts";
import { createServiceRequest, inPlaceBlockers, updateServiceRequest } from "./service-request.ts";
import { containerHealthCheckIntervals, DEFAULT_HEALTH_CHECK_INTERVAL_S, failureThreshold, stabilityTimeoutMs, stableDwellMs, type DeploySpec } from "./spec.ts";
import { ecsManagedStrategy } from "../config/strategy.ts";
import { managedRoutes, managedRoutingProblem, managedTargetGroups, productionRoutes } from "./traffic/managed.ts";

type ManagedStep =
  | "inspect"
  | "waitDraining"
  | "checkAlarms"
  | "checkRules"
  | "readHealthChecks"
  | "register"
  | "resolveTaskDefinition"
  | "create"
  | "update"
  | "locate"
  | "follow"
  | "stop"
  | "continueHook"
  | "scaleDown"
  | "revert"
  | "followRevert"
  | "done";

export type ManagedOverride = "skip-alarms" | "all-at-once";

export interface EcsManagedState extends BaseState<ManagedStep> {
  machine: "ecs-managed";
  spec: DeploySpec;
  /** CreateService's idempotency token: a create repeated after a crash makes no second service. */
  clientToken: string;
  overrides: ManagedOverride[];
  mode?: "create" | "update";
  oldTaskDefinitionArn?: string;
  newTaskDefinitionArn?: string;
  /** The service's current service deployment before ours: an answer naming it started nothing new. */
  previousServiceDeployment?: string;
  /** When CreateService/UpdateService (or the revert) was sent: service deployments from then on are candidates. */
  sentAt?: number;
  /** The service deployment being followed (ours, then the revert's). */
  serviceDeploymentArn?: string;
  /** Last status, lifecycle stage and production weight seen: the timeline records each change. */
  status?: string;
  stage?: string;
  weight?: number;
  /** Lifecycle hook id → last status seen. */
  hooks: Record<string, string>;
  /** PAUSE hooks that wait for ContinueServiceDeployment now. */
  awaiting: string[];
  /** While SCALE_UP: the new revision's tasks must all run by then. */
  deadline?: number;
  /** When the new revision was first seen fully running with no new failure since: the dwell's start. */
  steadySince?: number;
  steadyFailed?: number;
  /** The most failed new tasks seen (the record's count, also after a rollback). */
  newFailed?: number;
  healthCheckIntervals?: number[];
  /** ECS said SUCCESSFUL; Flotilla still watches the new tasks for the rest of the dwell. */
  ecsSucceeded?: boolean;
  /** StopServiceDeployment was sent (Flotilla's failure, or an abort). */
  stopSent?: boolean;
  failure?: Because;
  aborted?: { by: string };
  promoted?: { by: string };
  /** Who asked for the ContinueServiceDeployment in flight. */
  continuing?: { hookId: string; by: string };
  /** An abort that came before the service deployment was known: it is stopped as soon as it is. */
  pendingAbort?: boolean;
  /** While looking up a service deployment: which step follows it, and how many looks found none. */
  locating?: "follow" | "followRevert";
  lookups?: number;
  /** After a restart: the create/update that may not have been sent, repeated when no deployment of it is found. */
  resend?: { step: "create" | "update" | "revert"; effect: Effect };
  lastCounts?: string;
}

export function startEcsManaged(spec: DeploySpec, clientToken: string, overrides: ManagedOverride[] = []): EcsManagedState {
  return { machine: "ecs-managed", spec, clientToken, overrides, step: "inspect", retries: 0, hooks: {}, awaiting: [] };
}

const describe = (s: EcsManagedState): Effect => ({ type: "describeService", cluster: s.spec.cluster, service: s.spec.service });
const poll = (s: EcsManagedState, ms = s.spec.depdef.stabilityCheck.pollInterval * 1000) => pollSleep(ms, s.spec.depdef.stabilityCheck.pollInterval);
const finish = (s: EcsManagedState, phase: EndPhase, outcome: Outcome, events: NewEvent[] = []) => finishAt(s, "done", phase, outcome, events);
const andThen = (f: Because, more: string): Because => ({ reason: f.reason, message: `${f.message}${more}` });
const alarmNames = (s: EcsManagedState) => (s.overrides.includes("skip-alarms") ? [] : s.spec.depdef.alarms.alarmNames);
const strategyOf = (s: EcsManagedState) => ecsManagedStrategy(s.spec.svcdef) ?? "BLUE_GREEN";
const shortId = (arn: string) => arn.split("/").at(-1) ?? arn;

export const ecsManaged: Machine<EcsManagedState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, { done: "done", answers: ["service", "taskDefinition", "targetGroups", "serviceDeployment", "serviceDeploymentFound", "routes", "alarms", "done"], resume, control });
    if (isStep(common)) return common;
    state = common;
    switch (state.step) {
      case "inspect":
        return inspect(state, input, now);
      case "waitDraining":
        return go(state, "inspect", describe(state));
      case "checkAlarms": {
        if (input.type !== "alarms") return finish(state, "Failed", because("DescribeAlarmsFailed", { error: errorText(input) }));
        const refused = alarmsBeforeStart(input.alarms, alarmNames(state), state.mode === "update", state.spec.region);
        return refused ? finish(state, "Failed", refused) : checkRules(state);
      }
      case "checkRules": {
        if (input.type !== "routes") return finish(state, "Failed", because("DescribeFailed", { variant: "listeners", error: errorText(input) }));
        const problem = managedRoutingProblem(state.spec.svcdef, input.routes);
        return problem ? finish(state, "Failed", because("ListenerRulesInvalid", { problem })) : healthChecks(state);
      }
      case "readHealthChecks": {
        const groups = input.type === "targetGroups" ? input.targetGroups.map((g) => g.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_S) : [DEFAULT_HEALTH_CHECK_INTERVAL_S];
        const events = input.type === "targetGroups" ? [] : [event("HealthChecksUnknown", { error: errorText(input), seconds: DEFAULT_HEALTH_CHECK_INTERVAL_S })];
        return taskDefinitionStep({ ...state, healthCheckIntervals: [...(state.healthCheckIntervals ?? []), ...groups] }, { events });
      }
      case "register":
      case "resolveTaskDefinition": {
        if (input.type !== "taskDefinition") {
          if (state.step === "register") return finish(state, "Failed", because("TaskDefinitionRejected", { call: "RegisterTaskDefinition", error: errorText(input) }));
          return finish(state, "Failed", because("TaskDefinitionNotFound", { taskDefinition: String(state.spec.svcdef["taskDefinition"]), error: errorText(input) }));
        }
        const arn = input.taskDefinition.taskDefinitionArn;
        const next = { ...state, newTaskDefinitionArn: arn, healthCheckIntervals: [...(state.healthCheckIntervals ?? []), ...(state.spec.taskdef ? [] : containerHealthCheckIntervals(input.taskDefinition.definition))] };
        return send(next, now, state.step === "register" ? [event("TaskDefinitionRegistered", { taskDefinitionArn: arn }, { taskDefinitionArn: arn })] : []);
      }
      case "create":
      case "update":
        return sent(state, input, now);
      case "locate":
        return located(state, input, now);
      case "follow":
      case "followRevert":
        return follow(state, input, now);
      case "stop":
        return stopAnswered(state, input, now);
      case "continueHook":
        return continued(state, input);
      case "scaleDown":
        if (input.type !== "service" || !input.service) return finish(state, "Failed", because("RollbackFailed", { variant: "call", failure: state.failure!.message, what: "scaling to 0", error: errorText(input) }));
        return finish(state, state.aborted ? "Aborted" : "Failed", andThen(state.failure!, "; the new service was scaled to 0"));
      case "revert":
        if (input.type !== "service" || !input.service) return finish(state, "Failed", because("RollbackFailed", { variant: "call", failure: state.failure!.message, what: "the rollback", error: errorText(input) }));
        return following({ ...state, step: "followRevert" }, input.service, now);
      case "done":
        return { state, record: {} };
    }
  },
};

function inspect(state: EcsManagedState, input: Input, now: number): Step<EcsManagedState> {
  if (input.type === "start") {
    const overrides = state.overrides.length ? `, overrides: ${state.overrides.join(", ")}` : "";
    return go(state, "inspect", describe(state), { phase: "Deploying", events: [event("Started", { variant: "managed", strategy: strategyOf(state), object: state.spec.object, service: state.spec.service, cluster: state.spec.cluster, region: state.spec.region, overrides })] });
  }
  if (input.type === "error") return finish(state, "Failed", describeRefused(input.error));
  if (input.type !== "service") return go(state, "inspect", describe(state));
  const live = input.service;
  if (live?.status === "DRAINING") {
    const since = state.deadline ?? now;
    if (now - since > stabilityTimeoutMs(state.spec.depdef, 1)) return finish(state, "Failed", because("ServiceStillDraining", { variant: "rolling", service: state.spec.service, seconds: Math.round((now - since) / 1000) }));
    return go({ ...state, deadline: since }, "waitDraining", poll(state), { events: state.deadline ? [] : [event("WaitingForDrain", { variant: "rolling", service: state.spec.service })] });
  }
  const next: EcsManagedState = { ...state };
  delete next.deadline;
  if (live?.status === "ACTIVE") {
    const blockers = inPlaceBlockers(state.spec, live);
    if (blockers.length) return finish(next, "Failed", because("NotUpdatableInPlace", { variant: "rolling", blockers: blockers.map((b) => `${b.message} (${b.hint})`).join("; ") }));
    next.mode = "update";
    if (live.taskDefinition) next.oldTaskDefinitionArn = live.taskDefinition;
    if (live.currentServiceDeployment) next.previousServiceDeployment = live.currentServiceDeployment;
  } else next.mode = "create";
  const record: ActiveRecord = { phase: "Registering", ...(next.oldTaskDefinitionArn ? { oldTaskDefinitionArn: next.oldTaskDefinitionArn } : {}) };
  const names = alarmNames(next);
  if (names.length) return go(next, "checkAlarms", { type: "describeAlarms", alarmNames: names }, record);
  return withRecord(checkRules(next), record);
}

/** The production and test listener rules must exist and reach both target groups, or ECS rolls back at once: look first. */
function checkRules(state: EcsManagedState): Step<EcsManagedState> {
  const routes = managedRoutes(state.spec.svcdef);
  if (routes.length) return go(state, "checkRules", { type: "readRoutes", routes });
  return healthChecks(state);
}

function healthChecks(state: EcsManagedState): Step<EcsManagedState> {
  const next = { ...state, healthCheckIntervals: containerHealthCheckIntervals(state.spec.taskdef) };
  const groups = managedTargetGroups(state.spec.svcdef);
  if (groups.length) return go(next, "readHealthChecks", { type: "describeTargetGroups", targetGroupArns: groups });
  return taskDefinitionStep(next);
}

function taskDefinitionStep(state: EcsManagedState, record: ActiveRecord = {}): Step<EcsManagedState> {
  if (state.spec.taskdef) return go(state, "register", { type: "registerTaskDefinition", request: state.spec.taskdef }, record);
  return go(state, "resolveTaskDefinition", { type: "describeTaskDefinition", taskDefinition: String(state.spec.svcdef["taskDefinition"]) }, record);
}

/**
 * The request for this deployment: the svcdef's, with break-glass overrides applied to this
 * deployment's configuration (skip-alarms: ECS's own alarm rollback off; all-at-once: a LINEAR or
 * CANARY step of 100%, so all production traffic moves in one step, with no step bake). The next
 * deployment sends the svcdef as written again.
 */
function withOverrides(state: EcsManagedState, request: Record<string, unknown>): Record<string, unknown> {
  if (!state.overrides.length) return request;
  const dc = { ...((request["deploymentConfiguration"] as Record<string, unknown> | undefined) ?? {}) };
  if (state.overrides.includes("skip-alarms") && typeof dc["alarms"] === "object" && dc["alarms"] !== null) dc["alarms"] = { ...(dc["alarms"] as Record<string, unknown>), enable: false };
  const strategy = ecsManagedStrategy(state.spec.svcdef);
  if (state.overrides.includes("all-at-once") && strategy === "LINEAR") dc["linearConfiguration"] = { stepPercent: 100, stepBakeTimeInMinutes: 0 };
  if (state.overrides.includes("all-at-once") && strategy === "CANARY") dc["canaryConfiguration"] = { canaryPercent: 100, canaryBakeTimeInMinutes: 0 };
  return { ...request, deploymentConfiguration: dc };
}

function send(state: EcsManagedState, now: number, events: NewEvent[]): Step<EcsManagedState> {
  const arn = state.newTaskDefinitionArn!;
  const next = { ...state, sentAt: now };
  const record: ActiveRecord = { phase: "Deploying", newTaskDefinitionArn: arn, events };
  if (state.mode === "create") return go(next, "create", { type: "createService", request: withOverrides(state, createServiceRequest(state.spec, arn, state.clientToken)) }, record);
  return go(next, "update", { type: "updateService", request: withOverrides(state, updateServiceRequest(state.spec, arn)) }, record);
}

/** CreateService/UpdateService answered: follow the service deployment it started. */
function sent(state: EcsManagedState, input: Input, now: number): Step<EcsManagedState> {
  if (input.type !== "service" || !input.service) return finish(state, "Failed", because(state.step === "create" ? "CreateServiceRejected" : "UpdateServiceRejected", { error: errorText(input) }));
  const args = { service: state.spec.service, taskDefinitionArn: state.newTaskDefinitionArn! };
  const events = [state.step === "create" ? event("ServiceCreated", { variant: "rolling", ...args }) : event("ServiceUpdated", args)];
  return withRecord(following({ ...state, step: "follow" }, input.service, now), { events });
}

/** Start following the service deployment the answer names, or look it up when it names none (or the one from before). */
function following(state: EcsManagedState, service: Service, now: number): Step<EcsManagedState> {
  const target = state.step === "followRevert" ? "followRevert" : "follow";
  const arn = service.currentServiceDeployment;
  if (arn !== undefined && arn !== state.previousServiceDeployment) return startFollowing(state, target, arn, now);
  return locate(state, target, target === "followRevert" ? "RollingBack" : "Stabilizing");
}

/** Clocks differ: a service deployment ECS timestamps a little before we sent the request is still ours. */
const LOOKBACK_MS = 5 * 60 * 1000;
/** How many times a missing service deployment is looked for (a poll apart) before giving up. */
const LOCATE_TRIES = 6;

function findEffect(state: EcsManagedState, target: "follow" | "followRevert"): Effect {
  const taskDefinition = target === "followRevert" ? state.oldTaskDefinitionArn! : state.newTaskDefinitionArn!;
  return { type: "findServiceDeployment", cluster: state.spec.cluster, service: state.spec.service, taskDefinition, createdAfter: (state.sentAt ?? 0) - LOOKBACK_MS };
}

/** Find the newest service deployment of the revision being deployed (after a restart, or when the answer did not name one). */
function locate(state: EcsManagedState, target: "follow" | "followRevert", phase?: ActiveRecord["phase"]): Step<EcsManagedState> {
  return go({ ...state, locating: target }, "locate", findEffect(state, target), phase ? { phase } : {});
}

function located(state: EcsManagedState, input: Input, now: number): Step<EcsManagedState> {
  const target = state.locating ?? "follow";
  if (input.type === "slept") return go(state, "locate", findEffect(state, target));
  const base: EcsManagedState = { ...state };
  delete base.locating;
  if (input.type !== "serviceDeploymentFound") return failed({ ...base, step: target }, because("DescribeFailed", { variant: "error", error: errorText(input) }), now);
  // (It may be the deployment from before ours when the update asked ECS for nothing new: the service already runs this revision.)
  if (input.arn) {
    delete base.lookups;
    delete base.resend;
    return startFollowing({ ...base, step: target }, target, input.arn, now, state.resend ? [event("Resumed", { variant: "applied", effect: state.resend.effect.type })] : []);
  }
  if (state.resend) {
    // After a restart: no service deployment of ours, so the create/update never reached ECS. Send it again.
    const { step, effect } = state.resend;
    delete base.resend;
    delete base.lookups;
    return go({ ...base, sentAt: now }, step, effect, { events: [event("Resumed", { variant: "repeating", effect: effect.type })] });
  }
  const tries = (state.lookups ?? 0) + 1;
  if (tries < LOCATE_TRIES) return go({ ...state, lookups: tries }, "locate", poll(state));
  delete base.lookups;
  const taskDefinition = target === "followRevert" ? state.oldTaskDefinitionArn! : state.newTaskDefinitionArn!;
  const missing = because("StabilityTimeout", { variant: "noServiceDeployment", taskDefinition });
  if (target === "followRevert") return finish(base, "Failed", because("RollbackFailed", { variant: "noDeployment", failure: state.failure?.message ?? "", why: missing.message }));
  return finish(base, "Failed", missing);
}

function startFollowing(state: EcsManagedState, step: "follow" | "followRevert", arn: string, now: number, events: NewEvent[] = []): Step<EcsManagedState> {
  const next: EcsManagedState = { ...state, step, serviceDeploymentArn: arn, hooks: {}, awaiting: [] };
  for (const k of ["status", "stage", "weight", "deadline", "steadySince", "steadyFailed", "ecsSucceeded", "lastCounts"] as const) delete next[k];
  void now;
  const started = step === "follow" ? [event("ServiceDeploymentStarted", { id: shortId(arn), strategy: strategyOf(state) }, { serviceDeploymentArn: arn })] : [event("ServiceDeploymentStarted", { id: shortId(arn), strategy: `${strategyOf(state)} rollback` }, { serviceDeploymentArn: arn })];
  return go(next, step, observe(next), { phase: step === "followRevert" ? "RollingBack" : "Stabilizing", events: [...events, ...started] });
}

function observe(state: EcsManagedState): Effect {
  const newTaskDefinition = state.step === "follow" ? state.newTaskDefinitionArn : undefined;
  return {
    type: "observeServiceDeployment",
    cluster: state.spec.cluster,
    service: state.spec.service,
    serviceDeploymentArn: state.serviceDeploymentArn!,
    alarmNames: state.step === "follow" && !state.stopSent && !state.failure ? alarmNames(state) : [],
    routes: productionRoutes(state.spec.svcdef),
    ...(newTaskDefinition && state.sentAt !== undefined ? { failuresOf: { taskDefinition: newTaskDefinition, since: state.sentAt } } : {}),
  };
}

const STAGE_PHASE: Record<string, ActiveRecord["phase"]> = {
  RECONCILE_SERVICE: "Stabilizing",
  PRE_SCALE_UP: "Stabilizing",
  SCALE_UP: "Stabilizing",
  POST_SCALE_UP: "Stabilizing",
  TEST_TRAFFIC_SHIFT: "Shifting",
  POST_TEST_TRAFFIC_SHIFT: "Shifting",
  PRE_PRODUCTION_TRAFFIC_SHIFT: "Shifting",
  PRODUCTION_TRAFFIC_SHIFT: "Shifting",
  POST_PRODUCTION_TRAFFIC_SHIFT: "Shifting",
  BAKE_TIME: "Baking",
  CLEAN_UP: "Baking",
};

const ROLLING_BACK = new Set(["STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"]);
const AFTER_SCALE_UP = new Set(LIFECYCLE_STAGES.slice(LIFECYCLE_STAGES.indexOf("POST_SCALE_UP")));

/** One look at the service deployment: record what changed, then decide. */
function follow(state: EcsManagedState, input: Input, now: number): Step<EcsManagedState> {
  if (input.type === "slept") return go(state, state.step, observe(state));
  if (input.type !== "serviceDeployment") return failed(state, because("DescribeFailed", { variant: "error", error: errorText(input) }), now);
  const d = input.deployment;
  if (!d) return failed(state, because("DescribeFailed", { variant: "error", error: `DescribeServiceDeployments does not know ${state.serviceDeploymentArn}` }), now);
  const { next, record } = noted(state, d, input.failures);
  const step = decide(next, d, input.alarms, input.failures, now);
  return withRecord(step, record);
}

/** What the look shows that the record does not have yet: stages, traffic, hooks, task counts. */
function noted(state: EcsManagedState, d: ServiceDeployment, failures: TaskFailures | undefined): { next: EcsManagedState; record: Record_ } {
  const events: NewEvent[] = [];
  const next: EcsManagedState = { ...state, status: d.status, hooks: { ...state.hooks } };
  const reverting = state.step === "followRevert";
  if (d.lifecycleStage && d.lifecycleStage !== state.stage) {
    const from = state.stage ? LIFECYCLE_STAGES.indexOf(state.stage as never) : -1;
    const to = LIFECYCLE_STAGES.indexOf(d.lifecycleStage as never);
    // Stages ECS passed between two looks (in the order ECS runs them), so the timeline has each.
    // On the first look, those from PRE_SCALE_UP on (RECONCILE_SERVICE runs only when a deployment is replaced).
    const passed = from >= 0 ? (to > from + 1 ? LIFECYCLE_STAGES.slice(from + 1, to) : []) : to > 1 ? LIFECYCLE_STAGES.slice(1, to) : [];
    events.push(event("LifecycleStage", { stage: d.lifecycleStage, revision: reverting ? "the rollback" : "the new revision", passed: passed.length ? ` (passed ${passed.join(", ")} since the last look)` : "" }, { stage: d.lifecycleStage, ...(passed.length ? { passed } : {}) }));
    next.stage = d.lifecycleStage;
  }
  const target = d.targetServiceRevision;
  const weight = target?.requestedProductionTrafficWeight;
  if (weight !== undefined && weight !== state.weight) {
    const test = target?.requestedTestTrafficWeight;
    events.push(event("ProductionTraffic", { weight, revision: reverting ? "the rollback's revision" : "the new revision", test: test !== undefined ? ` (test traffic: ${test}%)` : "" }, { weight, ...(test !== undefined ? { test } : {}) }));
    next.weight = weight;
  }
  const awaiting: string[] = [];
  for (const h of d.lifecycleHookDetails) {
    if (h.targetType === "PAUSE" && h.status === "AWAITING_ACTION") awaiting.push(h.hookId);
    if (next.hooks[h.hookId] === h.status) continue;
    next.hooks[h.hookId] = h.status;
    events.push(hookEvent(h, d.lifecycleStage ?? "?"));
  }
  next.awaiting = awaiting;
  const failedNow = failures?.count ?? 0;
  const newFailed = Math.max(state.newFailed ?? 0, failedNow);
  if (newFailed) next.newFailed = newFailed;
  const counts: Partial<TaskCounts> = {
    ...(target?.requestedTaskCount !== undefined ? { desired: target.requestedTaskCount } : {}),
    ...(target?.runningTaskCount !== undefined ? { running: target.runningTaskCount } : {}),
    ...(target?.pendingTaskCount !== undefined ? { pending: target.pendingTaskCount } : {}),
    failed: reverting ? (state.newFailed ?? 0) : newFailed,
  };
  const key = JSON.stringify(counts);
  if (key !== state.lastCounts) {
    next.lastCounts = key;
    events.push(event("Progress", { variant: "managed", which: reverting ? "rollback" : "new revision", running: target?.runningTaskCount ?? "?", desired: target?.requestedTaskCount ?? "?", pending: target?.pendingTaskCount ?? "?", failed: counts.failed ?? 0 }, counts));
  }
  const phase = ROLLING_BACK.has(d.status) || reverting ? "RollingBack" : d.lifecycleStage ? STAGE_PHASE[d.lifecycleStage] : undefined;
  return { next, record: { counts, events, ...(weight !== undefined && !reverting ? { trafficWeight: weight } : {}), ...(phase && !state.failure ? { phase } : {}) } };
}

function hookEvent(h: LifecycleHookDetail, stage: string): NewEvent {
  const hook = h.targetType === "PAUSE" ? `PAUSE hook ${h.hookId}` : `hook ${h.targetArn ?? h.hookId}`;
  if (h.targetType === "PAUSE" && h.status === "AWAITING_ACTION") return event("HookAwaiting", { hookId: h.hookId, stage }, { hookId: h.hookId, stage });
  return event("LifecycleHook", { hook, stage, status: h.status }, { hookId: h.hookId, targetType: h.targetType, stage, status: h.status });
}

/** After the record is up to date: where the deployment goes from this look. */
function decide(state: EcsManagedState, d: ServiceDeployment, alarms: Alarm[], failures: TaskFailures | undefined, now: number): Step<EcsManagedState> {
  const reverting = state.step === "followRevert";
  switch (d.status) {
    case "SUCCESSFUL":
      if (state.pendingAbort && state.aborted && !reverting) return revert({ ...state, pendingAbort: false }, because("Aborted", { by: state.aborted.by, when: " after ECS had finished" }), now, false);
      if (reverting) return finish(state, state.aborted ? "Aborted" : "RolledBack", andThen(state.failure!, `; rolled back to ${state.oldTaskDefinitionArn} by a new ECS deployment, which succeeded`));
      if (state.failure) return revert(state, state.failure, now, true); // our stop came too late: ECS had finished
      return succeeded({ ...state, ecsSucceeded: true }, d, failures, now);
    case "ROLLBACK_SUCCESSFUL": {
      if (reverting) return finish(state, "Failed", because("RollbackFailed", { variant: "failedToo", failure: state.failure?.message ?? "", why: ecsFailure(d, alarms).message }));
      const failure = state.failure ?? ecsFailure(d, alarms);
      const again = state.oldTaskDefinitionArn ? `; the service runs ${state.oldTaskDefinitionArn} again` : "; ECS rolled the service back";
      return finish({ ...state, failure }, state.aborted ? "Aborted" : "RolledBack", andThen(failure, again), state.failure ? [] : [event("Failed", { message: failure.message }, { reason: failure.reason, ...(state.weight !== undefined ? { weight: state.weight } : {}) })]);
    }
    case "ROLLBACK_FAILED": {
      const failure = state.failure ?? ecsFailure(d, alarms);
      // A first deployment has nothing to roll back to: that is expected, not a second failure.
      if (state.mode === "create") return firstDeploymentFailed(state, failure, state.failure === undefined);
      return finish({ ...state, failure }, "Failed", because("RollbackFailed", { variant: "failedToo", failure: failure.message, why: `ECS's rollback failed${d.statusReason ? `: ${d.statusReason}` : ""}` }));
    }
    case "STOPPED": {
      if (reverting) return finish(state, "Failed", because("RollbackFailed", { variant: "failedToo", failure: state.failure?.message ?? "", why: `ECS stopped the rollback's deployment: ${d.statusReason ?? "no reason given"}` }));
      if (/newer|another|superseded|replaced/i.test(d.statusReason ?? "")) return finish(state, state.aborted ? "Aborted" : "Failed", state.failure ?? because("Superseded", { taskDefinition: "the service" }));
      const failure = state.failure ?? because("EcsDeploymentStopped", { why: ecsFailure(d, alarms).message, weight: state.weight ?? 0 });
      return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", failure);
    }
    case "STOP_REQUESTED":
    case "ROLLBACK_REQUESTED":
    case "ROLLBACK_IN_PROGRESS": {
      if (reverting || state.failure) return go(state, state.step, poll(state));
      // ECS decided to roll back (its alarms, its circuit breaker, a hook), or someone stopped it.
      const failure = ecsFailure(d, alarms);
      const to = state.oldTaskDefinitionArn ?? "the previous revision";
      return go({ ...state, failure }, state.step, poll(state), { phase: "RollingBack", reason: failure.reason, message: failure.message, events: [event("Failed", { message: failure.message }, { reason: failure.reason, ...(state.weight !== undefined ? { weight: state.weight } : {}) }), event("EcsRollingBack", { failure: failure.message, taskDefinition: to })] });
    }
    case "PENDING":
    case "IN_PROGRESS":
      if (reverting || state.stopSent) return go(state, state.step, poll(state));
      return inProgress(state, d, alarms, failures, now);
  }
}

/** Flotilla's own checks on top of ECS's: its circuit breaker, the depdef's alarms, the stability timeout; then PAUSE hooks. */
function inProgress(state: EcsManagedState, d: ServiceDeployment, alarms: Alarm[], failures: TaskFailures | undefined, now: number): Step<EcsManagedState> {
  if (state.pendingAbort && state.aborted) return failed({ ...state, pendingAbort: false }, because("Aborted", { by: state.aborted.by, when: "" }), now);
  const tripped = flotillaChecks(state, d, alarms, failures, now);
  if (tripped) return failed(state, tripped, now);
  const next = steadiness(state, d, failures, now);
  // The stability timeout runs while ECS scales the new revision up (hooks and bakes are ECS's to pace).
  if (d.lifecycleStage === "SCALE_UP") next.deadline ??= now + stabilityTimeoutMs(state.spec.depdef, d.targetServiceRevision?.requestedTaskCount ?? desiredOf(state) ?? 1);
  else delete next.deadline;
  // A PAUSE hook waits: promote continues every one of this deployment's as it comes.
  const waiting = next.awaiting.find((id) => next.hooks[id] === "AWAITING_ACTION");
  if (waiting && next.promoted) return continueHook(next, waiting, next.promoted.by);
  return go(next, "follow", poll(state));
}

function flotillaChecks(state: EcsManagedState, d: ServiceDeployment, alarms: Alarm[], failures: TaskFailures | undefined, now: number): Because | undefined {
  const target = d.targetServiceRevision;
  const desired = target?.requestedTaskCount ?? desiredOf(state);
  const threshold = failureThreshold(state.spec.depdef, desired ?? Number.POSITIVE_INFINITY);
  const failed = failures?.count ?? 0;
  if (threshold > 0 && failed >= threshold) return because("CircuitBreakerTripped", { failed, which: "new", threshold, last: failures?.lastReason ? `; last: ${failures.lastReason}` : "" });
  const firing = alarms.filter((a) => a.stateValue === "ALARM");
  if (firing.length && !state.ecsSucceeded) {
    const where = d.lifecycleStage ? `in ${d.lifecycleStage}${state.weight !== undefined ? ` at ${state.weight}% of production traffic` : ""}` : "while the deployment started";
    return because("AlarmFired", { alarms: firing.map((a) => a.alarmName).join(", "), when: where, stateReason: firing[0]!.stateReason });
  }
  if (state.deadline !== undefined && now >= state.deadline && d.lifecycleStage === "SCALE_UP" && !fullyRunning(d)) {
    const secs = Math.round((now - state.deadline) / 1000 + stabilityTimeoutMs(state.spec.depdef, desired ?? 1) / 1000);
    return because("StabilityTimeout", { variant: "managed", running: target?.runningTaskCount ?? "?", desired: desired ?? "?", seconds: secs });
  }
  return undefined;
}

const fullyRunning = (d: ServiceDeployment) => {
  const t = d.targetServiceRevision;
  return t?.runningTaskCount !== undefined && t.requestedTaskCount !== undefined && t.runningTaskCount >= t.requestedTaskCount;
};

function desiredOf(state: EcsManagedState): number | undefined {
  const n = state.spec.svcdef["desiredCount"];
  return typeof n === "number" ? n : undefined;
}

/**
 * The dwell (spec.ts `stableDwellMs`) starts once ECS has the new revision fully running past
 * SCALE_UP; a new task failure starts it over.
 */
function steadiness(state: EcsManagedState, d: ServiceDeployment, failures: TaskFailures | undefined, now: number): EcsManagedState {
  const next = { ...state };
  const failed = failures?.count ?? 0;
  const up = (d.status === "SUCCESSFUL" || (d.lifecycleStage !== undefined && AFTER_SCALE_UP.has(d.lifecycleStage as never))) && (fullyRunning(d) || d.status === "SUCCESSFUL");
  if (!up) {
    delete next.steadySince;
    delete next.steadyFailed;
  } else if (next.steadySince === undefined || failed > (next.steadyFailed ?? 0)) {
    next.steadySince = now;
    next.steadyFailed = failed;
  }
  return next;
}

/** ECS says SUCCESSFUL. Success once the new tasks have also stayed healthy for the dwell. */
function succeeded(state: EcsManagedState, d: ServiceDeployment, failures: TaskFailures | undefined, now: number): Step<EcsManagedState> {
  const tripped = flotillaChecks(state, d, [], failures, now);
  if (tripped) return failed(state, tripped, now);
  const next = steadiness(state, d, failures, now);
  const dwell = stableDwellMs(state.spec.depdef, typeof state.spec.svcdef["healthCheckGracePeriodSeconds"] === "number" ? state.spec.svcdef["healthCheckGracePeriodSeconds"] : 0, state.healthCheckIntervals ?? []);
  const left = next.steadySince! + dwell - now;
  if (left > 0) return go(next, "follow", poll(state, Math.min(state.spec.depdef.stabilityCheck.pollInterval * 1000, Math.max(1000, left))));
  const running = d.targetServiceRevision?.runningTaskCount;
  const desired = d.targetServiceRevision?.requestedTaskCount ?? desiredOf(state);
  return finish(next, "Succeeded", success(`ECS's ${strategyOf(state)} deployment succeeded: ${running ?? "?"}/${desired ?? "?"} tasks of ${state.newTaskDefinitionArn} serve all production traffic, healthy for ${Math.round((now - next.steadySince!) / 1000)}s`));
}

/** Why ECS rolled back or stopped, from what the service deployment reports. */
function ecsFailure(d: ServiceDeployment, alarms: Alarm[]): Because {
  const triggered = d.alarms?.triggeredAlarmNames ?? [];
  if (triggered.length || d.alarms?.status === "TRIGGERED") {
    const reason = alarms.find((a) => triggered.includes(a.alarmName))?.stateReason;
    return because("EcsAlarmRolledBack", { alarms: triggered.join(", ") || "of the deployment", stage: d.lifecycleStage ? ` in ${d.lifecycleStage}` : "", why: reason ? `: ${reason}` : "" });
  }
  if (d.circuitBreaker?.status === "TRIGGERED") {
    const cb = d.circuitBreaker;
    return because("EcsCircuitBreakerRolledBack", { why: ` (${cb.failureCount ?? "?"} failed tasks, threshold ${cb.threshold ?? "?"})` });
  }
  const hook = d.lifecycleHookDetails.find((h) => h.status === "FAILED" || h.status === "TIMED_OUT");
  if (hook) return because("LifecycleHookFailed", { hook: hook.targetType === "PAUSE" ? `PAUSE hook ${hook.hookId}` : (hook.targetArn ?? hook.hookId), status: hook.status, stage: d.lifecycleStage ?? "?" });
  return because("EcsDeploymentRolledBack", { why: d.rollback?.reason ?? d.statusReason ?? d.status });
}

/**
 * Flotilla's checks failed (or an operator aborted). While ECS's deployment runs, StopServiceDeployment
 * rolls it back; after ECS finished, a new deployment of the previous revision does. A first
 * deployment has nothing to roll back to: the new service is scaled to 0 (deleteNewUponFailure).
 */
function failed(state: EcsManagedState, why: Because, now: number): Step<EcsManagedState> {
  const failure = why;
  const head = (extra: NewEvent[]): ActiveRecord => ({ phase: "RollingBack", reason: failure.reason, message: failure.message, events: [event("Failed", { message: failure.message }, { reason: failure.reason, ...(state.weight !== undefined ? { weight: state.weight } : {}) }), ...extra] });
  if (!state.serviceDeploymentArn || state.step === "followRevert") return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", failure);
  const mayRollBack = state.aborted !== undefined || state.spec.depdef.gmDeploymentCircuitBreaker.rollback;
  if (state.mode === "create") return firstDeploymentFailed(state, failure, true);
  if (!mayRollBack) return finish({ ...state, failure }, "Failed", andThen(failure, "; rollback is off in the depdef, so ECS carries on with the deployment"));
  if (state.ecsSucceeded) return revert({ ...state, failure }, failure, now, false);
  const arn = state.serviceDeploymentArn;
  return go({ ...state, failure, stopSent: true }, "stop", { type: "stopServiceDeployment", serviceDeploymentArn: arn }, head([event("StopRequested", { id: shortId(arn), taskDefinition: state.oldTaskDefinitionArn ?? "the previous revision" })]));
}

/**
 * A new service's first deployment failed: nothing to roll back to, so scale it to 0
 * (deleteNewUponFailure, or an abort) and end. `announce`: the failure is not on the timeline yet.
 */
function firstDeploymentFailed(state: EcsManagedState, failure: Because, announce: boolean): Step<EcsManagedState> {
  if (state.spec.depdef.deleteNewUponFailure || state.aborted) {
    const events = [...(announce ? [event("Failed", { message: failure.message }, { reason: failure.reason })] : []), event("ScalingDown", {})];
    return go({ ...state, failure }, "scaleDown", { type: "updateService", request: { cluster: state.spec.cluster, service: state.spec.service, desiredCount: 0 } }, { phase: "RollingBack", reason: failure.reason, message: failure.message, events });
  }
  return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", andThen(failure, " (a first deployment has no previous revision to roll back to)"));
}

/** ECS had already finished: deploy the previous revision again (ECS runs it with the same strategy). */
function revert(state: EcsManagedState, failure: Because, now: number, recorded: boolean): Step<EcsManagedState> {
  const old = state.oldTaskDefinitionArn;
  if (!old || old === state.newTaskDefinitionArn || state.mode === "create") return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", andThen(failure, " (there is no different previous revision to roll back to)"));
  const next: EcsManagedState = { ...state, failure, previousServiceDeployment: state.serviceDeploymentArn!, sentAt: now };
  return go(next, "revert", { type: "updateService", request: updateServiceRequest(state.spec, old) }, {
    phase: "RollingBack",
    reason: failure.reason,
    message: failure.message,
    events: [...(recorded ? [] : [event("Failed", { message: failure.message }, { reason: failure.reason, ...(state.weight !== undefined ? { weight: state.weight } : {}) })]), event("RollbackStarted", { taskDefinition: old })],
  });
}

function stopAnswered(state: EcsManagedState, input: Input, now: number): Step<EcsManagedState> {
  // A deployment that had already finished (or was already rolling back) answers ConflictException: look again.
  if (input.type === "done" || (input.type === "error" && /Conflict/.test(input.error.name))) return go({ ...state, step: "follow" }, "follow", observe({ ...state, step: "follow" }));
  return finish(state, "Failed", because("RollbackFailed", { variant: "call", failure: state.failure!.message, what: "StopServiceDeployment", error: errorText(input) }));
  void now;
}

function continueHook(state: EcsManagedState, hookId: string, by: string): Step<EcsManagedState> {
  return go({ ...state, continuing: { hookId, by } }, "continueHook", { type: "continueServiceDeployment", serviceDeploymentArn: state.serviceDeploymentArn!, hookId, action: "CONTINUE" });
}

function continued(state: EcsManagedState, input: Input): Step<EcsManagedState> {
  const c = state.continuing!;
  const next: EcsManagedState = { ...state, awaiting: state.awaiting.filter((h) => h !== c.hookId) };
  delete next.continuing;
  // Conflict: the hook no longer waits (it timed out, or someone continued it): nothing left to do.
  if (input.type === "done" || (input.type === "error" && /Conflict/.test(input.error.name))) {
    return go(next, "follow", observe({ ...next, step: "follow" }), { events: [event("HookContinued", { hookId: c.hookId, by: c.by })] });
  }
  return go(next, "follow", poll(state), { events: [event("HookNotContinued", { hookId: c.hookId, by: c.by, error: errorText(input) })] });
}

function control(state: EcsManagedState, input: Extract<Input, { type: "control" }>, now: number): Step<EcsManagedState> {
  const same = (events: NewEvent[], next: EcsManagedState = state): Step<EcsManagedState> => ({ state: next, ...(next.inFlight ? { effect: next.inFlight } : {}), record: { events } });
  const before = ["inspect", "waitDraining", "checkAlarms", "checkRules", "readHealthChecks", "register", "resolveTaskDefinition"].includes(state.step);
  const undoing = state.failure !== undefined || ["stop", "scaleDown", "revert", "followRevert"].includes(state.step);
  switch (input.action) {
    case "abort": {
      // A control is handled before the effect in flight is performed: at create/update nothing was sent yet.
      if (before || state.step === "create" || state.step === "update") return finish({ ...state, aborted: { by: input.by } }, "Aborted", because("Aborted", { by: input.by, when: " before the service was changed" }));
      if (undoing) return same([event("AbortNoted", { by: input.by })], { ...state, aborted: { by: input.by } });
      const aborted: EcsManagedState = { ...state, aborted: { by: input.by } };
      // The service deployment is not known yet: stop it as soon as it is.
      if (state.step === "locate") return same([event("Abort", { by: input.by })], { ...aborted, pendingAbort: true });
      return withRecord(failed({ ...aborted, step: "follow" }, because("Aborted", { by: input.by, when: "" }), now), { events: [event("Abort", { by: input.by })] });
    }
    case "promote": {
      if (undoing) return same([event("PromoteIgnored", { by: input.by })]);
      const promoted = { ...state, promoted: { by: input.by } };
      const events = [event("Promote", { variant: "managed", by: input.by })];
      const waiting = state.awaiting.find((id) => state.hooks[id] === "AWAITING_ACTION");
      if (waiting && state.step === "follow") return withRecord(continueHook(promoted, waiting, input.by), { events });
      return same(events, promoted);
    }
    case "resume": {
      const waiting = state.awaiting.find((id) => state.hooks[id] === "AWAITING_ACTION");
      if (!waiting || state.step !== "follow" || undoing) return same([event("ResumeIgnored", { variant: "managed", by: input.by })]);
      return withRecord(continueHook(state, waiting, input.by), { events: [event("Resumed", { variant: "operator", by: input.by })] });
    }
    case "pause":
      return same([event("ControlIgnored", { variant: "managed", action: "pause", by: input.by })]);
  }
}

function resume(state: EcsManagedState): Step<EcsManagedState> {
  const e = state.inFlight;
  const resumed = [event("Resumed", { variant: "restart", step: state.step })];
  if (!e) return go(state, "inspect", describe(state));
  // A create, update or revert may or may not have reached ECS: look for its service deployment before repeating it.
  if ((e.type === "createService" || e.type === "updateService") && (state.step === "create" || state.step === "update" || state.step === "revert")) {
    const target = state.step === "revert" ? "followRevert" : "follow";
    const found = findEffect(state, target);
    return { state: { ...state, step: "locate", locating: target, resend: { step: state.step, effect: e }, inFlight: found }, effect: found, record: { events: resumed } };
  }
  // Reads, waits, StopServiceDeployment and ContinueServiceDeployment are safe to repeat (a repeat answers Conflict).
  return { state, effect: e, record: { events: resumed } };
}
