/**
 * Blue/green deployments (deploymentController EXTERNAL) with ECS task sets, as a pure state machine.
 *
 *   inspect → checkAlarms → register → (create: createService) → readTaskSets → discover routes
 *     → createGreen → waitGreen (stability check, circuit breaker)
 *     → shift n% → wait (alarms, manual changes) → … → 100% → wait → bake
 *     → promotePrimary → deleteBlue → Succeeded
 *   any failure once green exists: restoreBlue (weights back) → deleteGreen (per the depdef) → RolledBack
 *
 * Weights on every action always sum to 100 and go only to the pair's members. Green carries the
 * deployment's token as its externalId, so a restart adopts it instead of creating a second one.
 */
import type { Alarm, LoadBalancerRef, Service, TaskSet } from "../aws/ports.ts";
import { trafficSteps } from "../config/depdef.ts";
import type { NewEvent } from "../store/types.ts";
import type { ActiveRecord, Effect, EndPhase, Input, Machine, Record_, Route, Step, TaskFailures } from "./machine.ts";
import { alarmsBeforeStart } from "./alarms.ts";
import { because, event, type Because } from "./registry.ts";
import { errorText, finish as finishAt, go, handleCommon, isStep, pollSleep, success, withRecord, type BaseState, type Outcome } from "./steps.ts";
import { containerHealthCheckIntervals, failureThreshold, stabilityTimeoutMs, stableDwellMs, type DeploySpec } from "./spec.ts";
import { drift, refOf, routesAt as weighted, shareOf, shortArn, shortTg, type TargetGroupPair } from "./traffic/route.ts";

type BgStep =
  | "inspect"
  | "waitDraining"
  | "checkAlarms"
  | "register"
  | "resolveTaskDefinition"
  | "createService"
  | "confirmService"
  | "scaleService"
  | "readTaskSets"
  | "discover"
  | "createGreen"
  | "confirmGreen"
  | "waitGreen"
  | "shift"
  | "wait"
  | "promotePrimary"
  | "confirmPrimary"
  | "deleteBlue"
  | "confirmBlueGone"
  | "restoreBlue"
  | "deleteGreen"
  | "confirmGreenGone"
  | "done";

export type OverrideName = "skip-alarms" | "all-at-once";

interface TaskSetRef {
  id: string;
  taskDefinition: string;
  targetGroups: string[];
}

export interface BlueGreenState extends BaseState<BgStep> {
  machine: "bluegreen";
  spec: DeploySpec;
  /** Green's externalId and CreateService's client token: how a restart recognises its own work. */
  token: string;
  overrides: OverrideName[];
  mode?: "create" | "update";
  newTaskDefinitionArn?: string;
  oldTaskDefinitionArn?: string;
  blue?: TaskSetRef;
  green?: TaskSetRef;
  /** Blue target group → green target group, for this deployment. */
  pairs: TargetGroupPair[];
  /** The routes (ALB listeners and rules) that forward to the pairs, as found before the first shift. */
  routes: Route[];
  steps: number[];
  stepIndex: number;
  /** Percent of traffic on green now. */
  weight: number;
  /**
   * Seconds between watch rounds while traffic shifts and bakes: the poll interval, or how often
   * CloudWatch can change the alarms if that is rarer (alarmWatchSeconds). Absent: the poll interval.
   */
  watchEvery?: number;
  /** What the current wait is for, and when it ends. */
  waiting?: "step" | "bake";
  waitUntil?: number;
  deadline?: number;
  greenSince?: number;
  steadySince?: number;
  /** Failed green tasks counted when green was first seen steady: one more ends the steady run. */
  steadyFailed?: number;
  /** Health-check intervals (s) of green's target groups and containers: part of the dwell. */
  healthCheckIntervals?: number[];
  paused?: { by: string; reason: string; remainingMs?: number };
  promoted?: { by: string };
  aborted?: { by: string };
  failure?: Because & { weight: number; at: number };
  lastCounts?: string;
  /** Reads of the task sets after UpdateServicePrimaryTaskSet that did not yet show green PRIMARY. */
  primaryChecks?: number;
  /** DeleteTaskSet's error, kept while describing whether the set is gone anyway. */
  deleteError?: string;
}

export function startBlueGreen(spec: DeploySpec, token: string, overrides: OverrideName[] = []): BlueGreenState {
  return { machine: "bluegreen", spec, token, overrides, step: "inspect", retries: 0, pairs: [], routes: [], steps: [], stepIndex: -1, weight: 0 };
}

/** A wait of `ms` (one poll by default) before the next read, on the poll grid. */
const poll = (s: BlueGreenState, ms = s.spec.depdef.stabilityCheck.pollInterval * 1000) => pollSleep(ms, s.spec.depdef.stabilityCheck.pollInterval);
const describe = (s: BlueGreenState): Effect => ({ type: "describeService", cluster: s.spec.cluster, service: s.spec.service });
const finish = (s: BlueGreenState, phase: EndPhase, outcome: Outcome, events: NewEvent[] = []) => finishAt(s, "done", phase, outcome, events);
const alarmNames = (s: BlueGreenState) => (s.overrides.includes("skip-alarms") ? [] : s.spec.depdef.alarms.alarmNames);
const svcLoadBalancers = (s: BlueGreenState) => (Array.isArray(s.spec.svcdef["loadBalancers"]) ? (s.spec.svcdef["loadBalancers"] as LoadBalancerRef[]) : []);

export const blueGreen: Machine<BlueGreenState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, { done: "done", answers: ["service", "taskSets", "observed", "taskDefinition"], resume, control, gaveUp });
    if (isStep(common)) return common;
    state = common;
    switch (state.step) {
      case "inspect":
        return inspect(state, input, now);
      case "waitDraining":
        return go(state, "inspect", describe(state));
      case "checkAlarms":
        return checkAlarms(state, input);
      case "register":
      case "resolveTaskDefinition":
        if (input.type !== "taskDefinition") return finish(state, "Failed", because("TaskDefinitionRejected", { call: state.step === "register" ? "RegisterTaskDefinition" : "DescribeTaskDefinition", error: errorText(input) }));
        return afterTaskDefinition(
          {
            ...state,
            newTaskDefinitionArn: input.taskDefinition.taskDefinitionArn,
            healthCheckIntervals: containerHealthCheckIntervals(state.spec.taskdef ?? input.taskDefinition.definition),
          },
          state.step === "register" ? [event("TaskDefinitionRegistered", { taskDefinitionArn: input.taskDefinition.taskDefinitionArn })] : [],
        );
      case "createService":
        if (input.type !== "service" || !input.service) return finish(state, "Failed", because("CreateServiceRejected", { error: errorText(input) }));
        return createGreen(state, [event("ServiceCreated", { variant: "bluegreen", service: state.spec.service })]);
      case "confirmService":
        if (input.type !== "service") return go(state, "confirmService", describe(state));
        if (input.service?.status === "ACTIVE") return go(state, "readTaskSets", { type: "describeTaskSets", cluster: state.spec.cluster, service: state.spec.service });
        return go(state, "createService", { type: "createService", request: createRequest(state) });
      case "scaleService":
        if (input.type !== "service" || !input.service) return finish(state, "Failed", because("UpdateServiceRejected", { error: errorText(input) }));
        return go(state, "readTaskSets", { type: "describeTaskSets", cluster: state.spec.cluster, service: state.spec.service });
      case "readTaskSets":
        return readTaskSets(state, input);
      case "discover":
        return discovered(state, input);
      case "createGreen":
        if (input.type !== "taskSet") return finish(state, "Failed", because("CreateTaskSetRejected", { error: errorText(input) }));
        return greenCreated(state, input.taskSet, now);
      case "confirmGreen": {
        if (input.type !== "taskSets") return go(state, "confirmGreen", { type: "describeTaskSets", cluster: state.spec.cluster, service: state.spec.service });
        const mine = input.taskSets.find((t) => t.externalId === state.token);
        if (mine) return greenCreated(state, mine, now, [event("Resumed", { variant: "greenFound" })]);
        return go(state, "createGreen", createGreenEffect(state), { events: [event("Resumed", { variant: "greenAgain" })] });
      }
      case "waitGreen":
        return waitGreen(state, input, now);
      case "shift":
        if (input.type === "error" && input.error.name === "TrafficNotVerified") return fail(state, because("TrafficNotVerified", { weight: state.weight, readBack: input.error.message }), now);
        if (input.type !== "done") return fail(state, because("ShiftFailed", { error: errorText(input) }), now);
        return startWait(state, now, "step");
      case "wait":
        return waiting(state, input, now);
      case "promotePrimary":
        if (input.type !== "taskSet") return fail(state, because("PromoteFailed", { variant: "call", error: errorText(input) }), now);
        // The answer is not proof: read the task sets back before blue is deleted.
        return go({ ...state, primaryChecks: 0 }, "confirmPrimary", readSets(state));
      case "confirmPrimary":
        return confirmPrimary(state, input, now);
      case "deleteBlue":
      case "deleteGreen":
        if (input.type === "error" && !/TaskSetNotFound/.test(input.error.name)) {
          // Some endpoints answer a set that is already gone with another error (ClientException
          // "task set does not exist"): describe it before calling the delete a failure.
          return go({ ...state, deleteError: errorText(input) }, state.step === "deleteBlue" ? "confirmBlueGone" : "confirmGreenGone", readSets(state));
        }
        return state.step === "deleteBlue" ? blueDeleted(state) : end(state, "; the green task set was deleted");
      case "confirmBlueGone":
      case "confirmGreenGone": {
        const which = state.step === "confirmBlueGone" ? state.blue! : state.green!;
        const gone = input.type === "taskSets" && !input.taskSets.some((t) => t.id === which.id && t.status !== "DRAINING");
        const why = `${state.deleteError ?? "DeleteTaskSet failed"}${input.type === "taskSets" ? "" : `, and reading the task sets failed: ${errorText(input)}`}`;
        const next = { ...state };
        delete next.deleteError;
        if (state.step === "confirmBlueGone") {
          return gone ? blueDeleted(next) : finish(next, "Succeeded", because("BlueNotDeleted", { why, taskSet: which.id }));
        }
        return end(next, gone ? "; the green task set was deleted" : `; deleting the green task set failed: ${why}`);
      }
      case "restoreBlue":
        if (input.type !== "done") return finish(state, "Failed", because("RestoreFailed", { failure: state.failure!.message, error: errorText(input) }));
        return afterRestore({ ...state, weight: 0 }, [event("TrafficRestored", {})]);
      case "done":
        return { state, record: {} };
    }
  },
};

function inspect(state: BlueGreenState, input: Input, now: number): Step<BlueGreenState> {
  if (input.type === "start") return go(state, "inspect", describe(state), { phase: "Deploying", events: [event("Started", { variant: "bluegreen", object: state.spec.object, service: state.spec.service, cluster: state.spec.cluster, region: state.spec.region, overrides: state.overrides.length ? `, overrides: ${state.overrides.join(", ")}` : "" })] });
  if (input.type === "error") return finish(state, "Failed", input.error.name === "ClusterNotFoundException" ? because("ClusterNotFound", { error: errorText(input) }) : because("DescribeFailed", { variant: "error", error: errorText(input) }));
  if (input.type !== "service") return go(state, "inspect", describe(state));
  const live = input.service;
  if (live?.status === "DRAINING") {
    if (now - (state.deadline ?? now) > stabilityTimeoutMs(state.spec.depdef, 1)) return finish(state, "Failed", because("ServiceStillDraining", { variant: "bluegreen", service: state.spec.service }));
    return go({ ...state, deadline: state.deadline ?? now }, "waitDraining", poll(state), { events: state.deadline ? [] : [event("WaitingForDrain", { variant: "bluegreen" })] });
  }
  const next: BlueGreenState = { ...state };
  delete next.deadline;
  if (live?.status === "ACTIVE") {
    if (live.deploymentController.type !== "EXTERNAL") {
      return finish(next, "Failed", because("NotUpdatableInPlace", { variant: "bluegreen", controller: live.deploymentController.type }));
    }
    next.mode = "update";
    if (live.taskDefinition) next.oldTaskDefinitionArn = live.taskDefinition;
  } else next.mode = "create";
  const names = alarmNames(next);
  if (names.length) return go(next, "checkAlarms", { type: "describeAlarms", alarmNames: names });
  return registerStep(next);
}

/** Alarms are checked before anything changes: a missing name is a configuration error. */
function checkAlarms(state: BlueGreenState, input: Input): Step<BlueGreenState> {
  if (input.type !== "alarms") return finish(state, "Failed", because("DescribeAlarmsFailed", { error: errorText(input) }));
  const refused = alarmsBeforeStart(input.alarms, alarmNames(state), state.mode === "update", state.spec.region);
  return refused ? finish(state, "Failed", refused) : registerStep({ ...state, watchEvery: alarmWatchSeconds(input.alarms, state.spec.depdef.stabilityCheck.pollInterval) });
}

function registerStep(state: BlueGreenState): Step<BlueGreenState> {
  const record: ActiveRecord = { phase: "Registering", ...(state.oldTaskDefinitionArn ? { oldTaskDefinitionArn: state.oldTaskDefinitionArn } : {}) };
  if (state.spec.taskdef) return go(state, "register", { type: "registerTaskDefinition", request: state.spec.taskdef }, record);
  return go(state, "resolveTaskDefinition", { type: "describeTaskDefinition", taskDefinition: String(state.spec.svcdef["taskDefinition"]) }, record);
}

/** CreateService for EXTERNAL takes only service-level fields; the rest belongs to task sets. */
const SERVICE_LEVEL = ["cluster", "serviceName", "desiredCount", "deploymentController", "deploymentConfiguration", "healthCheckGracePeriodSeconds", "schedulingStrategy", "propagateTags", "enableECSManagedTags", "tags", "placementConstraints", "placementStrategy"];
const TASK_SET_LEVEL = ["networkConfiguration", "launchType", "capacityProviderStrategy", "platformVersion", "serviceRegistries"];

function createRequest(state: BlueGreenState): Record<string, unknown> {
  const request: Record<string, unknown> = { clientToken: state.token };
  for (const k of SERVICE_LEVEL) if (state.spec.svcdef[k] !== undefined) request[k] = state.spec.svcdef[k];
  if (svcLoadBalancers(state).length === 0) delete request["healthCheckGracePeriodSeconds"];
  return { ...request, cluster: state.spec.cluster, serviceName: state.spec.service };
}

function afterTaskDefinition(state: BlueGreenState, events: NewEvent[]): Step<BlueGreenState> {
  const record: ActiveRecord = { phase: "Deploying", newTaskDefinitionArn: state.newTaskDefinitionArn!, events };
  if (state.mode === "create") return go(state, "createService", { type: "createService", request: createRequest(state) }, record);
  const desired = state.spec.svcdef["desiredCount"];
  if (typeof desired === "number") {
    return go(state, "scaleService", { type: "updateService", request: { cluster: state.spec.cluster, service: state.spec.service, desiredCount: desired } }, record);
  }
  return go(state, "readTaskSets", { type: "describeTaskSets", cluster: state.spec.cluster, service: state.spec.service }, record);
}

function readTaskSets(state: BlueGreenState, input: Input): Step<BlueGreenState> {
  if (input.type !== "taskSets") return finish(state, "Failed", because("DescribeFailed", { variant: "error", error: errorText(input) }));
  const sets = input.taskSets.filter((t) => t.status !== "DRAINING");
  const mine = sets.find((t) => t.externalId === state.token);
  const primary = sets.find((t) => t.status === "PRIMARY" && t.externalId !== state.token);
  const foreign = sets.filter((t) => t !== primary && t !== mine);
  if (foreign.length) {
    const changed = changedSoFar(state);
    // Say what was found: the PRIMARY set they stand beside, or that there is none (a first deployment that failed or is under way).
    const primaryNow = sets.find((t) => t.status === "PRIMARY");
    const many = foreign.length > 1;
    const found = { taskSets: `task set${many ? "s" : ""} ${foreign.map((t) => t.id).join(", ")}`, verb: many ? "are" : "is", them: many ? "them" : "it", changed: changed.length ? `already done before it was found: ${changed.join("; ")}; no task set or traffic was touched` : "nothing was changed" };
    return finish(state, "Failed", because("ForeignTaskSet", primaryNow ? { variant: "beside", ...found, primary: primaryNow.id } : { variant: "noPrimary", ...found }));
  }
  const next: BlueGreenState = { ...state };
  if (primary) {
    next.blue = { id: primary.id, taskDefinition: primary.taskDefinition, targetGroups: primary.loadBalancers.map((l) => l.targetGroupArn).filter((x): x is string => !!x) };
    next.oldTaskDefinitionArn = primary.taskDefinition;
  }
  // Pairs: blue is what serves now; for a first task set, the svcdef's target groups.
  const current = next.blue?.targetGroups ?? svcLoadBalancers(state).map((l) => l.targetGroupArn).filter((x): x is string => !!x);
  const pairs: TargetGroupPair[] = [];
  for (const tg of current) {
    const pair = state.spec.depdef.targetGroupArnPairs.find((p) => p.includes(tg));
    if (!pair) return finish(next, "Failed", because("TargetGroupNotInPairs", { targetGroup: tg }));
    pairs.push({ blue: tg, green: next.blue ? (pair[0] === tg ? pair[1] : pair[0]) : tg });
  }
  next.pairs = pairs;
  // Blue's revision, as the task sets show it: what a later `flotilla rollback` goes back to.
  const blueRecord: ActiveRecord = next.blue ? { oldTaskDefinitionArn: next.blue.taskDefinition } : {};
  if (mine) return withRecord(greenCreatedLater(next, mine), blueRecord);
  if (pairs.length === 0) return withRecord(createGreen(next, []), blueRecord);
  return go(next, "discover", { type: "discoverRoutes", targetGroupArns: pairs.flatMap((p) => (p.blue === p.green ? [p.blue] : [p.blue, p.green])) }, blueRecord);
}

/** What this deployment has changed in AWS before it reads the task sets (for messages that stop there). */
function changedSoFar(state: BlueGreenState): string[] {
  const out: string[] = [];
  if (state.spec.taskdef && state.newTaskDefinitionArn) out.push(`registered task definition ${state.newTaskDefinitionArn} (unused; a revision ECS keeps)`);
  if (state.mode === "create") out.push(`created the service ${state.spec.service}`);
  else if (typeof state.spec.svcdef["desiredCount"] === "number") out.push(`UpdateService set the service's desiredCount to ${state.spec.svcdef["desiredCount"]}`);
  return out;
}

/** A restart found our green task set already there: carry on from it. */
function greenCreatedLater(state: BlueGreenState, green: TaskSet): Step<BlueGreenState> {
  const next = { ...state, green: { id: green.id, taskDefinition: green.taskDefinition, targetGroups: green.loadBalancers.map((l) => l.targetGroupArn!).filter(Boolean) } };
  if (state.pairs.length === 0) return go({ ...next, greenSince: green.createdAt }, "waitGreen", poll(state), { phase: "Stabilizing" });
  return go(next, "discover", { type: "discoverRoutes", targetGroupArns: state.pairs.flatMap((p) => [p.blue, p.green]) });
}

function discovered(state: BlueGreenState, input: Input): Step<BlueGreenState> {
  if (input.type !== "routes") return finish(state, "Failed", because("DescribeFailed", { variant: "listeners", error: errorText(input) }));
  const routes = input.routes;
  const events: NewEvent[] = [];
  if (state.mode === "update") {
    for (const r of routes) {
      for (const p of state.pairs) {
        if (p.blue !== p.green && shareOf(r, p.green) > 0 && state.green === undefined) {
          return finish(state, "Failed", because("TrafficAlreadyOnGreen", { route: `${r.kind} ${r.arn}`, targetGroup: p.green }));
        }
      }
    }
    if (routes.length === 0) events.push(event("NoRoutes", {}));
  }
  const next = { ...state, routes, healthCheckIntervals: [...(state.healthCheckIntervals ?? []), ...(input.healthCheckIntervals ?? [])] };
  if (state.green) return go({ ...next }, "waitGreen", poll(state), { phase: "Stabilizing", events });
  return createGreen(next, events);
}

function createGreenEffect(state: BlueGreenState): Effect {
  const map = new Map(state.pairs.map((p) => [p.blue, p.green]));
  const loadBalancers = svcLoadBalancers(state).map((lb) => ({ ...lb, ...(lb.targetGroupArn ? { targetGroupArn: map.get(lb.targetGroupArn) ?? state.pairs.find((p) => p.green === lb.targetGroupArn || p.blue === lb.targetGroupArn)?.green ?? lb.targetGroupArn } : {}) }));
  const input: Record<string, unknown> = { cluster: state.spec.cluster, service: state.spec.service, taskDefinition: state.newTaskDefinitionArn!, externalId: state.token, scale: { value: 100, unit: "PERCENT" } };
  if (loadBalancers.length) input["loadBalancers"] = loadBalancers;
  for (const k of TASK_SET_LEVEL) if (state.spec.svcdef[k] !== undefined) input[k] = state.spec.svcdef[k];
  return { type: "createTaskSet", input: input as unknown as Extract<Effect, { type: "createTaskSet" }>["input"] };
}

function createGreen(state: BlueGreenState, events: NewEvent[]): Step<BlueGreenState> {
  return go(state, "createGreen", createGreenEffect(state), { phase: "Deploying", events });
}

function greenCreated(state: BlueGreenState, ts: TaskSet, now: number, events: NewEvent[] = []): Step<BlueGreenState> {
  const green: TaskSetRef = { id: ts.id, taskDefinition: ts.taskDefinition, targetGroups: ts.loadBalancers.map((l) => l.targetGroupArn).filter((x): x is string => !!x) };
  const desired = typeof state.spec.svcdef["desiredCount"] === "number" ? state.spec.svcdef["desiredCount"] : (ts.computedDesiredCount ?? 1);
  const next: BlueGreenState = { ...state, green, greenSince: ts.createdAt, deadline: now + stabilityTimeoutMs(state.spec.depdef, desired) };
  delete next.steadySince;
  delete next.steadyFailed;
  return go(next, "waitGreen", poll(state), { phase: "Stabilizing", events: [...events, event("GreenCreated", { taskSet: ts.id, taskDefinitionArn: state.newTaskDefinitionArn!, targetGroups: green.targetGroups.length ? ` on ${green.targetGroups.map(shortTg).join(", ")}` : "" })] });
}

/**
 * How often a wait's watch round runs (seconds): the poll interval, unless every alarm changes less
 * often. CloudWatch evaluates a metric alarm once a minute, or every 10 s when its period is under a
 * minute (high resolution); a composite alarm changes when one of its alarms does, so it counts as
 * 10 s (its alarms are not read), as does a metric alarm whose period is not reported. Reading an
 * alarm between two evaluations gives the answer the previous read gave.
 */
export function alarmWatchSeconds(alarms: readonly Alarm[], pollInterval: number): number {
  if (alarms.length === 0) return pollInterval;
  const fastest = Math.min(...alarms.map((a) => (a.type === "metric" && a.period !== undefined && a.period >= 60 ? 60 : 10)));
  return Math.max(pollInterval, fastest);
}

/** The next watch round of a wait: every `watchEvery` on its grid, and the last exactly when the wait ends. */
function nextWatch(state: BlueGreenState, now: number): Effect {
  const every = (state.watchEvery ?? state.spec.depdef.stabilityCheck.pollInterval) * 1000;
  const left = (state.waitUntil ?? now) - now;
  if (state.paused || left > 1.5 * every) return pollSleep(every, every / 1000);
  return { type: "sleep", ms: Math.max(1000, Math.min(every, left)) };
}

/**
 * A watch round. Green's counts and failed tasks and the alarms come from the shared sweep on every
 * round; the routes are read only when a round may move traffic next (the end of a wait, before a
 * shift or the promotion), to catch a manual change before Flotilla writes over it.
 */
function observe(state: BlueGreenState, now = 0): Effect {
  const routesNext = state.step === "wait" && !state.paused && now >= (state.waitUntil ?? 0);
  return {
    type: "observeBlueGreen",
    cluster: state.spec.cluster,
    service: state.spec.service,
    alarmNames: state.step === "waitGreen" ? [] : alarmNames(state),
    ...(routesNext ? { routes: state.routes.map(refOf) } : {}),
    // Green's failed tasks are counted on every round (the breaker applies until promotion), and
    // for the record even when Flotilla's breaker is off.
    ...(state.green ? { failuresOf: { taskSet: state.green.id, taskDefinition: state.green.taskDefinition, since: state.greenSince ?? 0 } } : {}),
  };
}

/** One watch round's view of green: its counts for the record, and whether Flotilla's breaker tripped. */
interface GreenWatch {
  base: BlueGreenState;
  rec: Record_;
  desired: number | undefined;
  running: number | undefined;
  failed: number;
  unknown: string;
  tripped?: Step<BlueGreenState>;
}

/**
 * Green's counts and Flotilla's circuit breaker, on every watch round — while green stabilises and
 * while traffic shifts and bakes: a green task that fails at 20% counts as much as one that fails
 * before the first shift.
 */
function watchGreen(state: BlueGreenState, green: TaskSet, failures: TaskFailures | undefined, now: number): GreenWatch {
  const failed = failures?.count ?? 0;
  // Facts, not assumptions: counts AWS left out stay unknown (and unknown is never stable).
  const desired = greenDesiredCount(state, green);
  const running = green.runningCount;
  const counts = { ...(desired !== undefined ? { desired } : {}), ...(running !== undefined ? { running } : {}), ...(green.pendingCount !== undefined ? { pending: green.pendingCount } : {}), failed };
  const key = JSON.stringify({ ...counts, stability: green.stabilityStatus });
  const unknown = running === undefined || green.computedDesiredCount === undefined ? "; ECS did not report the task set's counts" : "";
  const events = key !== state.lastCounts ? [event("Progress", { variant: "green", running: running ?? "?", desired: desired ?? "?", pending: green.pendingCount ?? "?", failed, stability: green.stabilityStatus, unknown }, counts)] : [];
  const base: BlueGreenState = { ...state, lastCounts: key };
  const rec: Record_ = { counts, events };
  // With the size unknown, only an absolute threshold can be applied.
  const threshold = failureThreshold(state.spec.depdef, desired ?? Number.POSITIVE_INFINITY);
  const watch: GreenWatch = { base, rec, desired, running, failed, unknown };
  if (threshold > 0 && failed >= threshold) {
    watch.tripped = withRecord(fail(base, because("CircuitBreakerTripped", { failed, which: "green", threshold, last: failures?.lastReason ? `; last: ${failures.lastReason}` : "" }), now), rec);
  }
  return watch;
}

function waitGreen(state: BlueGreenState, input: Input, now: number): Step<BlueGreenState> {
  if (input.type === "slept") return go(state, "waitGreen", observe(state));
  if (input.type !== "observed") return fail(state, because("DescribeFailed", { variant: "error", error: errorText(input) }), now);
  const green = input.taskSets.find((t) => t.id === state.green!.id);
  if (!green) return fail(state, because("GreenTaskSetGone", { taskSet: state.green!.id }), now);
  const { base, rec, desired, running, failed, unknown, tripped } = watchGreen(state, green, input.failures, now);
  if (tripped) return tripped;
  const events = rec.events ?? [];
  // Stable: ECS says STEADY_STATE *and* the reported running count reaches a desired count above 0,
  // with no green task failed since it was first seen so — and it stays so for the dwell.
  const crashedSince = base.steadySince !== undefined && failed > (base.steadyFailed ?? 0);
  const steady = green.stabilityStatus === "STEADY_STATE" && desired !== undefined && desired > 0 && running !== undefined && running >= desired && !crashedSince;
  if (steady) {
    const dwell = stableDwellMs(state.spec.depdef, typeof state.spec.svcdef["healthCheckGracePeriodSeconds"] === "number" ? state.spec.svcdef["healthCheckGracePeriodSeconds"] : 0, state.healthCheckIntervals ?? []);
    const pollMs = state.spec.depdef.stabilityCheck.pollInterval * 1000;
    if (base.steadySince === undefined) return withRecord(go({ ...base, steadySince: now, steadyFailed: failed }, "waitGreen", poll(state, Math.min(dwell, pollMs))), rec);
    const left = base.steadySince + dwell - now;
    if (left > 0) return withRecord(go(base, "waitGreen", poll(state, Math.min(left, pollMs))), rec);
    const next = { ...base };
    delete next.steadySince;
    delete next.steadyFailed;
    return withRecord(greenStable(next, now), { ...rec, events: [...events, event("GreenStable", { running, desired, seconds: Math.round((now - base.steadySince) / 1000) })] });
  }
  delete base.steadySince;
  delete base.steadyFailed;
  if (now >= (state.deadline ?? Infinity)) {
    return withRecord(fail(base, because("StabilityTimeout", { variant: "green", running: running ?? "?", desired: desired ?? "?", seconds: Math.round(stabilityTimeoutMs(state.spec.depdef, desired ?? 1) / 1000), unknown }), now), rec);
  }
  return withRecord(go(base, "waitGreen", poll(state)), rec);
}

/**
 * How many tasks green must run: ECS's computedDesiredCount, else computed from the svcdef's
 * desiredCount and the set's scale; undefined when neither is known.
 */
function greenDesiredCount(state: BlueGreenState, green: TaskSet): number | undefined {
  if (green.computedDesiredCount !== undefined) return green.computedDesiredCount;
  const desired = state.spec.svcdef["desiredCount"];
  return typeof desired === "number" ? Math.ceil((desired * (green.scale.value || 100)) / 100) : undefined;
}

function greenStable(state: BlueGreenState, now: number): Step<BlueGreenState> {
  if (state.routes.length === 0 || state.mode === "create") {
    // Nothing to shift (no load balancer, or a first deployment): green simply becomes the service.
    const withTraffic = state.mode === "create" && state.routes.length ? { ...state, steps: [100], stepIndex: 0, weight: 100 } : state;
    if (state.mode === "create" && state.routes.length) return go(withTraffic, "shift", { type: "setRoutes", routes: routesAt(withTraffic, 100) }, { phase: "Shifting", trafficWeight: 100 });
    return promote(withTraffic);
  }
  const steps = state.overrides.includes("all-at-once") || state.promoted ? [100] : trafficSteps(state.spec.depdef.trafficShiftingConfig);
  return shiftTo({ ...state, steps, stepIndex: 0 }, now);
}

/** The routes with `weight`% on green and the rest on blue, for every forward action of a pair. */
function routesAt(state: BlueGreenState, weight: number): Route[] {
  return weighted(state.routes, state.pairs, weight);
}

function shiftTo(state: BlueGreenState, _now: number): Step<BlueGreenState> {
  const weight = state.steps[state.stepIndex]!;
  const next = { ...state, weight };
  delete next.waiting;
  delete next.waitUntil;
  return go(next, "shift", { type: "setRoutes", routes: routesAt(next, weight) }, {
    phase: "Shifting",
    trafficWeight: weight,
    events: [event("Shifted", { weight, step: state.stepIndex + 1, steps: state.steps.length }, { weight })],
  });
}

function startWait(state: BlueGreenState, now: number, kind: "step" | "bake"): Step<BlueGreenState> {
  const seconds = kind === "bake" ? state.spec.depdef.bakeTime : state.spec.depdef.trafficShiftingConfig.waitInterval;
  if (state.mode === "create") return promote(state);
  if (state.promoted || seconds === 0) return afterWait({ ...state, waiting: kind }, now);
  const next: BlueGreenState = { ...state, waiting: kind, waitUntil: now + seconds * 1000 };
  return go(next, "wait", nextWatch(next, now), kind === "bake" ? { phase: "Baking", events: [event("Baking", { seconds })] } : {});
}

function waiting(state: BlueGreenState, input: Input, now: number): Step<BlueGreenState> {
  if (input.type === "slept") return go(state, "wait", observe(state, now));
  if (input.type !== "observed") return fail(state, because("DescribeFailed", { variant: "error", error: errorText(input) }), now);
  const firing = input.alarms.filter((a: Alarm) => a.stateValue === "ALARM");
  if (firing.length && !state.overrides.includes("skip-alarms")) {
    return fail(state, because("AlarmFired", { alarms: firing.map((a) => a.alarmName).join(", "), when: state.waiting === "bake" ? "during the bake" : `at ${state.weight}% on green`, stateReason: firing[0]!.stateReason }), now);
  }
  const green = input.taskSets.find((t) => t.id === state.green!.id);
  if (!green) return fail(state, because("GreenTaskSetGone", { taskSet: state.green!.id }), now);
  // Green's tasks still count against the breaker while traffic shifts and bakes (also while paused).
  const { base, rec, tripped } = watchGreen(state, green, input.failures, now);
  if (tripped) return tripped;
  return withRecord(afterWatch(base, input.routes, now), rec);
}

/**
 * A wait's round once alarms, green and its failed tasks passed: a manual change (when the round read
 * the routes), pause, or the wait's end — which moves traffic only after a round that read the routes.
 */
function afterWatch(state: BlueGreenState, routes: Route[] | undefined, now: number): Step<BlueGreenState> {
  const changed = routes && manualChange(state, routes);
  if (changed && !state.paused) {
    const paused: BlueGreenState = { ...state, paused: { by: "Flotilla", reason: changed, ...(state.waitUntil ? { remainingMs: Math.max(0, state.waitUntil - now) } : {}) } };
    return go(paused, "wait", nextWatch(paused, now), {
      ...because("ManualChange", { change: changed }),
      events: [event("ManualChange", { change: changed })],
    });
  }
  if (state.paused) return go(state, "wait", nextWatch(state, now));
  if (now >= (state.waitUntil ?? 0)) return routes ? afterWait(state, now) : go(state, "wait", observe(state, now));
  return go(state, "wait", nextWatch(state, now));
}

function afterWait(state: BlueGreenState, now: number): Step<BlueGreenState> {
  if (state.waiting === "step" && state.stepIndex + 1 < state.steps.length && !state.promoted) return shiftTo({ ...state, stepIndex: state.stepIndex + 1 }, now);
  if (state.waiting === "step" && state.weight < 100) return shiftTo({ ...state, steps: [...state.steps.slice(0, state.stepIndex + 1), 100], stepIndex: state.stepIndex + 1 }, now);
  if (state.waiting === "step" && state.spec.depdef.bakeTime > 0 && !state.promoted) return startWait(state, now, "bake");
  return promote(state);
}

/** A description of a weight change nobody in this deployment made, or undefined. */
function manualChange(state: BlueGreenState, routes: Route[]): string | undefined {
  const found = drift(routesAt(state, state.weight), routes, state.pairs.flatMap((p) => [p.green, p.blue]));
  if (!found) return undefined;
  if (found.gone) return `${found.route.kind} ${found.route.arn} is gone`;
  return `the weights on ${found.route.kind} ${shortArn(found.route.arn)} were changed outside Flotilla (${shortTg(found.targetGroupArn)} now ${round(found.share)}%, expected ${round(found.expected)}%)`;
}

const round = (n: number) => Math.round(n * 10) / 10;

function promote(state: BlueGreenState): Step<BlueGreenState> {
  return go(state, "promotePrimary", { type: "updateServicePrimaryTaskSet", cluster: state.spec.cluster, service: state.spec.service, taskSet: state.green!.id }, { phase: state.routes.length ? "Shifting" : "Deploying" });
}

const readSets = (s: BlueGreenState): Effect => ({ type: "describeTaskSets", cluster: s.spec.cluster, service: s.spec.service });
/** How many times the task sets are read back (a poll apart) for green to show PRIMARY. */
const PRIMARY_CHECKS = 3;

/** After UpdateServicePrimaryTaskSet: blue is deleted only once ECS shows green PRIMARY. */
function confirmPrimary(state: BlueGreenState, input: Input, now: number): Step<BlueGreenState> {
  if (input.type === "slept") return go(state, "confirmPrimary", readSets(state));
  const green = state.green!;
  if (input.type !== "taskSets") return fail(state, because("PromoteFailed", { variant: "readBack", error: errorText(input) }), now);
  const live = input.taskSets.find((t) => t.id === green.id);
  if (!live) return fail(state, because("GreenTaskSetGone", { taskSet: green.id }), now);
  const next = { ...state };
  delete next.primaryChecks;
  if (live.status === "PRIMARY") {
    return state.blue && state.blue.id !== green.id
      ? go(next, "deleteBlue", { type: "deleteTaskSet", cluster: state.spec.cluster, service: state.spec.service, taskSet: state.blue.id }, { events: [event("GreenPrimary", { variant: "deleting", taskSet: green.id })] })
      : succeed(next, [event("GreenPrimary", { variant: "only", taskSet: green.id })]);
  }
  const checks = (state.primaryChecks ?? 0) + 1;
  if (checks < PRIMARY_CHECKS) return go({ ...state, primaryChecks: checks }, "confirmPrimary", poll(state));
  return fail(next, because("PromoteNotConfirmed", { taskSet: green.id, status: live.status, checks }), now);
}

function blueDeleted(state: BlueGreenState): Step<BlueGreenState> {
  return succeed(state, [event("BlueDeleted", { taskSet: state.blue!.id })]);
}

function succeed(state: BlueGreenState, events: NewEvent[]): Step<BlueGreenState> {
  return finish({ ...state }, "Succeeded", success(`the new revision ${state.newTaskDefinitionArn} serves all traffic`), events);
}

/** Something went wrong. Before green exists there is nothing to undo; after, traffic goes back to blue first. */
function fail(state: BlueGreenState, why: Because, now: number): Step<BlueGreenState> {
  const { reason, message } = why;
  const failure = { reason, message, weight: state.weight, at: now };
  if (!state.green) return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", why);
  const next = { ...state, failure };
  delete next.paused;
  const events = [event("Failed", { message }, { reason, weight: state.weight })];
  if (state.weight > 0 && state.routes.length) {
    return go(next, "restoreBlue", { type: "setRoutes", routes: routesAt(next, 0) }, { phase: "RollingBack", reason, message, trafficWeight: state.weight, events: [...events, event("RestoringBlue", { weight: state.weight })] });
  }
  return afterRestore(next, events, { phase: "RollingBack", reason, message });
}

/**
 * AWS kept failing (retries ran out) while green exists and before the promotion: undo as for any
 * other failure (traffic back to blue, green deleted per the depdef) rather than leave a half-shifted
 * service behind. Those calls get retries of their own; once rolling back or promoting, it ends as it stands.
 */
function gaveUp(state: BlueGreenState, why: Because, now: number): Step<BlueGreenState> | undefined {
  const undoable = state.green && !state.failure && (state.step === "waitGreen" || state.step === "shift" || state.step === "wait");
  return undoable ? fail(state, why, now) : undefined;
}

function afterRestore(state: BlueGreenState, events: NewEvent[], record: ActiveRecord = {}): Step<BlueGreenState> {
  const shifting = state.failure!.weight > 0;
  const remove = state.aborted || (shifting ? state.spec.depdef.deleteNewUponTrafficShiftFailure : state.spec.depdef.deleteNewUponFailure);
  // A first deployment (no blue) deletes its failed green too, as a rolling one scales its new
  // service to 0: left behind, that set would stop every later deployment as a foreign task set.
  if (remove && state.green) {
    return go(state, "deleteGreen", { type: "deleteTaskSet", cluster: state.spec.cluster, service: state.spec.service, taskSet: state.green.id }, { ...record, trafficWeight: 0, events });
  }
  const kept = state.blue ? `; the green task set ${state.green?.id ?? ""} is kept with no traffic` : `; the green task set ${state.green?.id ?? ""} is kept`;
  return withRecord(end(state, state.green ? `${kept} (${shifting ? "deleteNewUponTrafficShiftFailure" : "deleteNewUponFailure"} is false)` : ""), { ...record, trafficWeight: 0, events });
}

function end(state: BlueGreenState, suffix: string): Step<BlueGreenState> {
  const f = state.failure!;
  const phase: EndPhase = state.aborted ? "Aborted" : state.blue ? "RolledBack" : "Failed";
  return finish(state, phase, { reason: f.reason, message: `${f.message}${state.blue ? "; blue serves all traffic" : ""}${suffix}` });
}

function control(state: BlueGreenState, input: Extract<Input, { type: "control" }>, now: number): Step<BlueGreenState> {
  const same = (events: NewEvent[], next: BlueGreenState = state): Step<BlueGreenState> => ({ state: next, ...(next.inFlight ? { effect: next.inFlight } : {}), record: { events } });
  const terminalish = ["restoreBlue", "deleteGreen", "confirmGreenGone", "promotePrimary", "confirmPrimary", "deleteBlue", "confirmBlueGone"].includes(state.step);
  switch (input.action) {
    case "abort": {
      if (terminalish) return same([event("AbortIgnored", { by: input.by, doing: state.step === "restoreBlue" || state.step === "deleteGreen" || state.step === "confirmGreenGone" ? "rolling back" : "finishing" })]);
      const aborted = { ...state, aborted: { by: input.by } };
      return withRecord(fail(aborted, because("Aborted", { by: input.by, when: "" }), now), { events: [event("Abort", { by: input.by })] });
    }
    case "promote": {
      if (terminalish) return same([event("PromoteIgnored", { by: input.by })]);
      const promoted: BlueGreenState = { ...state, promoted: { by: input.by } };
      delete promoted.paused;
      const events = [event("Promote", { variant: "bluegreen", by: input.by })];
      if (state.step === "wait") return withRecord(state.weight < 100 ? shiftTo({ ...promoted, steps: [...state.steps.slice(0, state.stepIndex + 1), 100], stepIndex: state.stepIndex + 1 }, now) : promote(promoted), { events });
      return same(events, promoted);
    }
    case "pause": {
      if (state.paused || terminalish) return same([event("PauseIgnored", { by: input.by, why: state.paused ? "already paused" : "the deployment is finishing" })]);
      return same([event("Paused", { by: input.by, weight: state.weight })], { ...state, paused: { by: input.by, reason: "paused by an operator", ...(state.waitUntil ? { remainingMs: Math.max(0, state.waitUntil - now) } : {}) } });
    }
    case "resume": {
      if (!state.paused) return same([event("ResumeIgnored", { variant: "bluegreen", by: input.by })]);
      const next: BlueGreenState = { ...state, ...(state.paused.remainingMs !== undefined ? { waitUntil: now + state.paused.remainingMs } : {}) };
      delete next.paused;
      const events = [event("Resumed", { variant: "operator", by: input.by })];
      // After a manual change, resuming re-applies Flotilla's weights.
      if (state.paused.by === "Flotilla" && state.step === "wait") return go(next, "shift", { type: "setRoutes", routes: routesAt(next, next.weight) }, { reason: null, message: null, events });
      return same(events, next);
    }
  }
}

function resume(state: BlueGreenState): Step<BlueGreenState> {
  const e = state.inFlight;
  const resumed = [event("Resumed", { variant: "restart", step: state.step })];
  if (!e) return go(state, "inspect", describe(state));
  if (e.type === "createService") return { state: { ...state, step: "confirmService", inFlight: describe(state) }, effect: describe(state), record: { events: resumed } };
  if (e.type === "createTaskSet") {
    const read: Effect = { type: "describeTaskSets", cluster: state.spec.cluster, service: state.spec.service };
    return { state: { ...state, step: "confirmGreen", inFlight: read }, effect: read, record: { events: resumed } };
  }
  // Everything else is safe to repeat: reads, waits, weights (the same weights again), primary and deletes.
  return { state, effect: e, record: { events: resumed } };
}

export function isBlueGreenService(s: Service | undefined): boolean {
  return s?.deploymentController.type === "EXTERNAL";
}
