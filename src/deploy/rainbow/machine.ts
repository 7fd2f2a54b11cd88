/**
 * Rainbow deployments (the depdef's `rainbow` block, config/rainbow.ts) as a pure state machine.
 * One machine, four operations, each a run of stages on one deployment record:
 *
 *   deploy   inspect → register → createTargetGroup → createRule (per listener) → createService
 *            → waitVersion (stable, healthy targets) → Succeeded, URL recorded   [→ cutover if AUTOMATIC]
 *            any failure: remove what this deployment made (rules, service, target group) → Failed
 *   cutover  cutoverInspect → (scale to the live count → waitScaled) → preAlarms → switch (one
 *            ModifyListener/ModifyRule per listener, read back) → watch alarms → Succeeded   [→ cleanup]
 *            not verified / alarm / abort: restore the routes as they were → Failed / RolledBack / Aborted
 *   cleanup  cleanupInspect (the policy chooses) → remove: rules → services → wait INACTIVE → target groups
 *   delete   the same removal, of every version (the object's svcdef was removed)
 *
 * Live traffic moves only in `switch` and when a cutover is undone. AWS is the record of which
 * versions exist (discover.ts); the state keeps what this deployment made or chose, so a resume
 * after a crash carries on: mutations that may or may not have happened are looked for first
 * (a rule, a service) or are safe to repeat (a target group by name, a delete, a route set).
 */
import type { Alarm, Service, TargetHealth } from "../../aws/ports.ts";
import { versionConditions, versionFromCommit, versionRequestNote, versionServiceName, versionTargetGroupName, versionUrl, type RainbowConfig } from "../../config/rainbow.ts";
import type { NewEvent } from "../../store/types.ts";
import type { ActiveRecord, Effect, EndPhase, Input, Machine, Route, Step } from "../machine.ts";
import { because, event, type Because } from "../registry.ts";
import { errorText, finish as finishAt, go, handleCommon, isStep, pollSleep, success, withRecord, type BaseState, type Outcome } from "../steps.ts";
import { containerHealthCheckIntervals, failureThreshold, stabilityTimeoutMs, stableDwellMs, type DeploySpec } from "../spec.ts";
import { drift, routesTo, shortArn } from "../traffic/route.ts";
import { chooseForCleanup, findVersion, freePriority, liveVersions, versionExists, type RainbowWorld, type VersionView } from "./world.ts";

export type RainbowOp = "deploy" | "cutover" | "cleanup" | "delete";
type Stage = "deploy" | "cutover" | "cleanup";

type RbStep =
  | "inspect"
  | "register"
  | "createTargetGroup"
  | "createRule"
  | "recheckRules"
  | "createService"
  | "confirmService"
  | "waitVersion"
  | "cutoverInspect"
  | "scale"
  | "waitScaled"
  | "preAlarms"
  | "switch"
  | "watch"
  | "restore"
  | "cleanupInspect"
  | "removeRules"
  | "removeServices"
  | "waitRemoved"
  | "removeGroups"
  | "done";

/** The part of a version the machine keeps: enough to remove it or switch to it. */
interface VersionRef {
  version: string;
  serviceName: string;
  targetGroupName: string;
  targetGroupArn?: string;
  rules: { listenerArn: string; ruleArn: string }[];
  /** Whether a service may exist to delete. */
  hasService: boolean;
}

interface Removal {
  versions: VersionRef[];
  /** What ends the removal: undoing a failed deploy, a cleanup, or deleting the object. */
  purpose: "undo" | "cleanup" | "delete";
  deadline?: number;
  removed: string[];
  problems: string[];
}

export interface RainbowState extends BaseState<RbStep> {
  machine: "rainbow";
  op: RainbowOp;
  spec: DeploySpec;
  /** Recorded on the resources this deployment makes; a clientToken for CreateService. */
  token: string;
  /** Deploy: the version made. Cutover: the version made live. */
  version?: string;
  /** Who asked: an operator, or the commit. */
  by: string;
  stage: Stage | "delete";
  /** Stages still to run after this one. */
  then: Stage[];
  // deploy
  taskDefinitionArn?: string;
  healthCheckIntervals?: number[];
  listeners?: { listenerArn: string; protocol?: string; port?: number; taken: number[] }[];
  targetGroupArn?: string;
  rules: { listenerArn: string; ruleArn: string; priority: number }[];
  /** The priority asked for by the CreateRule in flight, and how many times one was taken meanwhile. */
  priority?: number;
  priorityRetries?: number;
  serviceRequested?: boolean;
  url?: string;
  deadline?: number;
  /** When the version's service was created: its tasks from then on count for the circuit breaker. */
  followingSince?: number;
  steadySince?: number;
  lastCounts?: string;
  // cutover
  target?: VersionRef & { desired: number };
  /** The live routes as they were before the switch: what a cut-back restores. */
  previousRoutes?: Route[];
  /** What was live before (a version name, a target group, or what the routes answered). */
  from?: string;
  fromVersion?: string;
  scaleTo?: number;
  alarmsBefore?: string[];
  switchedAt?: number;
  watchUntil?: number;
  /** How a cut-back ends once the routes are restored. */
  restorePhase?: "Failed" | "RolledBack" | "Aborted";
  // cleanup, delete, undo
  removal?: Removal;
  /** Versions a cleanup keeps besides its policy (the one the cutover left). */
  keepAlso?: string[];
  /** What the stage before a cleanup did (its record message), said again when the cleanup ends. */
  summary?: string;
  failure?: Because;
  aborted?: { by: string };
}

export interface RainbowStart {
  op: RainbowOp;
  /** The version to deploy or make live; a deploy without one names it from the commit (spec.commitSha). */
  version?: string;
  by: string;
}

const cfgOf = (s: { spec: DeploySpec }): RainbowConfig => s.spec.depdef.rainbow!;

export function startRainbow(spec: DeploySpec, token: string, start: RainbowStart): RainbowState {
  const stage: RainbowState["stage"] = start.op;
  const cfg = spec.depdef.rainbow;
  // A deploy's version: the one asked for, the block's, else the commit's.
  const version = start.version ?? (start.op === "deploy" ? (cfg?.version ?? (spec.commitSha ? versionFromCommit(spec.commitSha) : undefined)) : undefined);
  const then: Stage[] = start.op === "deploy" && cfg?.cutover === "AUTOMATIC" ? ["cutover"] : [];
  if ((start.op === "deploy" && cfg?.cutover === "AUTOMATIC") || start.op === "cutover") {
    if (cfg?.cleanup.automatic) then.push("cleanup");
  }
  return { machine: "rainbow", op: start.op, spec, token, by: start.by, stage, then, step: "inspect", rules: [], retries: 0, ...(version !== undefined ? { version } : {}) };
}

const poll = (s: RainbowState, ms = s.spec.depdef.stabilityCheck.pollInterval * 1000) => pollSleep(ms, s.spec.depdef.stabilityCheck.pollInterval);
const finish = (s: RainbowState, phase: EndPhase, outcome: Outcome, events: NewEvent[] = []) => finishAt(s, "done", phase, outcome, events);
const discover = (s: RainbowState, versions: string[]): Effect => ({ type: "discoverRainbow", cluster: s.spec.cluster, service: s.spec.service, rainbow: cfgOf(s), versions });
const observe = (s: RainbowState, v: { serviceName: string; targetGroupArn?: string }, failuresSince?: number): Effect => ({
  type: "observeVersion",
  cluster: s.spec.cluster,
  service: v.serviceName,
  ...(v.targetGroupArn ? { targetGroupArn: v.targetGroupArn } : {}),
  ...(failuresSince !== undefined && s.taskDefinitionArn ? { failuresOf: { taskDefinition: s.taskDefinitionArn, since: failuresSince } } : {}),
});
const andThen = (f: Because, more: string): Because => ({ reason: f.reason, message: `${f.message}${more}` });
const tags = (s: RainbowState, version: string) => [
  { key: "flotilla:object", value: s.spec.object },
  { key: "flotilla:version", value: version },
];

function refOfView(v: VersionView): VersionRef {
  return { version: v.version, serviceName: v.serviceName, targetGroupName: v.targetGroupName, ...(v.targetGroupArn ? { targetGroupArn: v.targetGroupArn } : {}), rules: v.rules.map((r) => ({ listenerArn: r.listenerArn, ruleArn: r.ruleArn })), hasService: v.service !== undefined && v.service.status !== "INACTIVE" };
}

export const rainbow: Machine<RainbowState> = {
  next(state, input, now) {
    const common = handleCommon(state, input, now, { done: "done", answers: ["rainbow", "versionObserved", "services", "taskDefinition", "service", "alarms"], resume, control });
    if (isStep(common)) return common;
    state = common;
    switch (state.step) {
      case "inspect":
        return inspect(state, input, now);
      case "register":
        return registered(state, input);
      case "createTargetGroup":
        return targetGroupMade(state, input);
      case "createRule":
        return ruleMade(state, input);
      case "recheckRules":
        return rulesRechecked(state, input);
      case "createService":
        return serviceMade(state, input, now);
      case "confirmService":
        return serviceConfirmed(state, input, now);
      case "waitVersion":
      case "waitScaled":
        return waitVersion(state, input, now);
      case "cutoverInspect":
        return cutoverInspect(state, input, now);
      case "scale":
        return scaled(state, input, now);
      case "preAlarms":
        return alarmsRead(state, input);
      case "switch":
        return switched(state, input, now);
      case "watch":
        return watch(state, input, now);
      case "restore":
        return restored(state, input);
      case "cleanupInspect":
        return cleanupInspect(state, input, now);
      case "removeRules":
      case "removeServices":
      case "waitRemoved":
      case "removeGroups":
        return removing(state, input, now);
      case "done":
        return { state, record: {} };
    }
  },
};

// ---------------------------------------------------------------- deploy

function inspect(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type === "start") return begin(state, now);
  if (input.type === "error") return finish(state, "Failed", readFailed(input));
  if (input.type !== "rainbow") return go(state, "inspect", discover(state, [state.version!]));
  const world = input.world;
  const existing = findVersion(world, state.version!);
  if (versionExists(existing)) {
    const what = [existing!.service && existing!.service.status !== "INACTIVE" ? `service ${existing!.serviceName} is ${existing!.service.status}` : "", existing!.targetGroupArn ? `target group ${existing!.targetGroupName} exists` : "", existing!.rules.length ? "a listener rule routes to it" : ""].filter(Boolean).join(", ");
    return finish(state, "Failed", because("VersionExists", { version: state.version!, what }));
  }
  const listeners = world.listeners.map((l) => ({ listenerArn: l.listenerArn, ...(l.protocol ? { protocol: l.protocol } : {}), ...(l.port !== undefined ? { port: l.port } : {}), taken: l.rules.map((r) => r.priority) }));
  const next: RainbowState = { ...state, listeners, healthCheckIntervals: [cfgOf(state).targetGroup.healthCheck.intervalSeconds ?? 30, ...containerHealthCheckIntervals(state.spec.taskdef)] };
  if (state.spec.taskdef) return go(next, "register", { type: "registerTaskDefinition", request: state.spec.taskdef }, { phase: "Registering" });
  return go(next, "register", { type: "describeTaskDefinition", taskDefinition: String(state.spec.svcdef["taskDefinition"]) }, { phase: "Registering" });
}

/** The first step of any operation: the Started event and the first read. */
function begin(state: RainbowState, now: number): Step<RainbowState> {
  const s = state.spec;
  if (state.op === "deploy") {
    if (state.version === undefined) return finish(state, "Failed", because("VersionUnnamed", { object: s.object }));
    const started = event("Started", { variant: "rainbow", version: state.version, object: s.object, service: versionServiceName(s.service, state.version), cluster: s.cluster, region: s.region });
    return go(state, "inspect", discover(state, [state.version]), { phase: "Deploying", events: [started] });
  }
  if (state.op === "cutover") return startCutover(state, [event("Started", { variant: "cutover", object: s.object, version: state.version!, by: state.by })]);
  void now;
  const started = state.op === "delete" ? event("Started", { variant: "deleteVersions", object: s.object, cluster: s.cluster, region: s.region }) : event("Started", { variant: "cleanup", object: s.object, by: state.by });
  return go({ ...state, stage: state.op === "delete" ? "delete" : "cleanup" }, "cleanupInspect", discover(state, []), { phase: "Deploying", events: [started] });
}

function readFailed(input: Extract<Input, { type: "error" }>): Because {
  if (/ListenerNotFound|RuleNotFound|LoadBalancerNotFound/.test(input.error.name)) return because("ListenerNotFound", { error: errorText(input) });
  if (input.error.name === "ClusterNotFoundException") return because("ClusterNotFound", { error: input.error.message });
  return because("DescribeFailed", { variant: "rainbow", error: errorText(input) });
}

function registered(state: RainbowState, input: Input): Step<RainbowState> {
  if (input.type !== "taskDefinition") {
    const registering = state.spec.taskdef !== undefined;
    return finish(state, "Failed", registering ? because("TaskDefinitionRejected", { call: "RegisterTaskDefinition", error: errorText(input) }) : because("TaskDefinitionNotFound", { taskDefinition: String(state.spec.svcdef["taskDefinition"]), error: errorText(input) }));
  }
  const arn = input.taskDefinition.taskDefinitionArn;
  const intervals = state.spec.taskdef ? state.healthCheckIntervals : [...(state.healthCheckIntervals ?? []), ...containerHealthCheckIntervals(input.taskDefinition.definition)];
  const next: RainbowState = { ...state, taskDefinitionArn: arn, ...(intervals ? { healthCheckIntervals: intervals } : {}) };
  const events = state.spec.taskdef ? [event("TaskDefinitionRegistered", { taskDefinitionArn: arn }, { taskDefinitionArn: arn })] : [];
  return go(next, "createTargetGroup", { type: "createTargetGroup", input: targetGroupInput(next) }, { phase: "Deploying", newTaskDefinitionArn: arn, events });
}

function targetGroupInput(state: RainbowState) {
  const cfg = cfgOf(state);
  const tg = cfg.targetGroup;
  const lb = (Array.isArray(state.spec.svcdef["loadBalancers"]) ? (state.spec.svcdef["loadBalancers"][0] as Record<string, unknown> | undefined) : undefined) ?? {};
  const awsvpc = state.spec.taskdef?.["networkMode"] === "awsvpc" || state.spec.svcdef["networkConfiguration"] !== undefined;
  const hc = tg.healthCheck;
  return {
    name: versionTargetGroupName(cfg, state.spec.service, state.version!),
    protocol: tg.protocol,
    port: tg.port ?? (typeof lb["containerPort"] === "number" ? lb["containerPort"] : 80),
    vpcId: tg.vpcId,
    targetType: tg.targetType ?? (awsvpc ? "ip" : "instance"),
    ...(tg.protocolVersion ? { protocolVersion: tg.protocolVersion } : {}),
    healthCheck: {
      ...(hc.path !== undefined ? { path: hc.path } : {}),
      ...(hc.protocol !== undefined ? { protocol: hc.protocol } : {}),
      ...(hc.port !== undefined ? { port: hc.port } : {}),
      ...(hc.intervalSeconds !== undefined ? { intervalSeconds: hc.intervalSeconds } : {}),
      ...(hc.timeoutSeconds !== undefined ? { timeoutSeconds: hc.timeoutSeconds } : {}),
      ...(hc.healthyThresholdCount !== undefined ? { healthyThresholdCount: hc.healthyThresholdCount } : {}),
      ...(hc.unhealthyThresholdCount !== undefined ? { unhealthyThresholdCount: hc.unhealthyThresholdCount } : {}),
      ...(hc.matcher !== undefined ? { matcher: hc.matcher } : {}),
    },
    tags: tags(state, state.version!),
  };
}

function targetGroupMade(state: RainbowState, input: Input): Step<RainbowState> {
  if (input.type !== "targetGroups" || !input.targetGroups[0]) return failDeploy(state, because("TargetGroupRejected", { error: errorText(input) }));
  const tg = input.targetGroups[0];
  return nextRule({ ...state, targetGroupArn: tg.targetGroupArn }, [event("TargetGroupCreated", { name: tg.targetGroupName }, { targetGroupArn: tg.targetGroupArn })]);
}

/** Create the rule of the next listener that has none yet, or go on to the service. */
function nextRule(state: RainbowState, events: NewEvent[] = []): Step<RainbowState> {
  const cfg = cfgOf(state);
  const l = (state.listeners ?? []).find((x) => !state.rules.some((r) => r.listenerArn === x.listenerArn));
  if (!l) return createService(state, events);
  const priority = freePriority({ rules: l.taken.map((p) => ({ priority: p, ruleArn: "", conditions: [], forwardsTo: [] })) }, cfg.rulePriorities);
  if (priority === undefined) return withRecord(failDeploy(state, because("NoFreeRulePriority", { listener: shortArn(l.listenerArn), from: cfg.rulePriorities.from, to: cfg.rulePriorities.to })), { events });
  const effect: Effect = {
    type: "createRule",
    input: { listenerArn: l.listenerArn, priority, conditions: versionConditions(cfg, state.version!), actions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: state.targetGroupArn!, weight: 1 }] } }], tags: tags(state, state.version!) },
  };
  return go({ ...state, priority }, "createRule", effect, { events });
}

function ruleMade(state: RainbowState, input: Input): Step<RainbowState> {
  const listenerArn = state.inFlight?.type === "createRule" ? state.inFlight.input.listenerArn : undefined;
  if (input.type === "rule" && listenerArn) {
    const rule = { listenerArn, ruleArn: input.rule.ruleArn, priority: Number(input.rule.priority) };
    return nextRule(withoutPriority({ ...state, rules: [...state.rules, rule] }), [event("RuleCreated", { priority: rule.priority, listener: shortArn(listenerArn), conditions: describeRoute(cfgOf(state), state.version!) }, rule)]);
  }
  if (input.type === "error" && input.error.name === "PriorityInUse" && listenerArn) {
    // Another rule took the priority since the listener was read: read again and choose anew.
    const retries = (state.priorityRetries ?? 0) + 1;
    if (retries > 5) return failDeploy(state, because("CreateRuleRejected", { listener: shortArn(listenerArn), error: `${errorText(input)} (after ${retries - 1} new choices)` }));
    return go({ ...state, priorityRetries: retries }, "recheckRules", discover(state, [state.version!]), { events: [event("PriorityTaken", { priority: state.priority ?? "?", listener: shortArn(listenerArn) })] });
  }
  return failDeploy(state, because("CreateRuleRejected", { listener: listenerArn ? shortArn(listenerArn) : "?", error: errorText(input) }));
}

/**
 * The listeners as they are now, after a CreateRule that may or may not have happened (a crash, a
 * priority taken meanwhile): a rule of this version that forwards to its target group is ours.
 */
function rulesRechecked(state: RainbowState, input: Input): Step<RainbowState> {
  if (input.type === "error") return failDeploy(state, readFailed(input));
  if (input.type !== "rainbow") return go(state, "recheckRules", discover(state, [state.version!]));
  const mine = findVersion(input.world, state.version!);
  const rules = [...state.rules];
  for (const r of mine?.targetGroupArn === state.targetGroupArn ? (mine?.rules ?? []) : []) {
    if (!rules.some((x) => x.listenerArn === r.listenerArn)) rules.push(r);
  }
  const listeners = (state.listeners ?? []).map((l) => ({ ...l, taken: input.world.listeners.find((w) => w.listenerArn === l.listenerArn)?.rules.map((r) => r.priority) ?? l.taken }));
  return nextRule(withoutPriority({ ...state, rules, listeners }));
}

function withoutPriority(s: RainbowState): RainbowState {
  const next = { ...s };
  delete next.priority;
  return next;
}

function createService(state: RainbowState, events: NewEvent[]): Step<RainbowState> {
  const s = state.spec;
  const lb = ((s.svcdef["loadBalancers"] as Record<string, unknown>[] | undefined) ?? [])[0] ?? {};
  const request: Record<string, unknown> = {
    ...s.svcdef,
    cluster: s.cluster,
    serviceName: versionServiceName(s.service, state.version!),
    taskDefinition: state.taskDefinitionArn,
    loadBalancers: [{ ...lb, targetGroupArn: state.targetGroupArn }],
    tags: [...(Array.isArray(s.svcdef["tags"]) ? (s.svcdef["tags"] as { key: string; value: string }[]).filter((t) => !t.key.startsWith("flotilla:")) : []), ...tags(state, state.version!)],
    // ECS takes a client token of at most 36 characters.
    clientToken: state.token.replace(/^flotilla-/, "").slice(0, 36),
  };
  return go({ ...state, serviceRequested: true }, "createService", { type: "createService", request }, { events });
}

function serviceMade(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type !== "service" || !input.service) return failDeploy(state, because("CreateServiceRejected", { error: errorText(input) }));
  return followVersion(state, input.service, now, [event("ServiceCreated", { variant: "version", service: input.service.serviceName, taskDefinitionArn: state.taskDefinitionArn! })]);
}

/** After a restart during CreateService: the service is there (ours) or is created again. */
function serviceConfirmed(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type === "service" && input.service && input.service.status === "ACTIVE") return followVersion(state, input.service, now, [event("Resumed", { variant: "applied", effect: "createService" })]);
  if (input.type === "error") return failDeploy(state, because("DescribeFailed", { variant: "services", error: errorText(input) }));
  return createService(state, [event("Resumed", { variant: "repeating", effect: "createService" })]);
}

function followVersion(state: RainbowState, service: Service, now: number, events: NewEvent[]): Step<RainbowState> {
  const desired = service.desiredCount;
  const next: RainbowState = { ...state, deadline: now + stabilityTimeoutMs(state.spec.depdef, desired), followingSince: service.createdAt };
  delete next.steadySince;
  delete next.lastCounts;
  return go(next, "waitVersion", poll(state), { phase: "Stabilizing", events });
}

interface Observed {
  service: Service | undefined;
  targets: TargetHealth[];
  failures?: { count: number; lastReason?: string };
}

/**
 * Waiting for a version (after its creation, or after scaling it for a cutover): stable when ECS is
 * done (one deployment, COMPLETED), the desired tasks run, as many targets are healthy, and it stays
 * so for the dwell. Flotilla's circuit breaker counts the new tasks that failed meanwhile.
 */
function waitVersion(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  const subject = state.step === "waitVersion" ? { serviceName: versionServiceName(state.spec.service, state.version!), targetGroupArn: state.targetGroupArn } : { serviceName: state.target!.serviceName, targetGroupArn: state.target!.targetGroupArn };
  if (input.type === "slept") return go(state, state.step, observe(state, subject, state.step === "waitVersion" ? state.followingSince : undefined));
  if (input.type !== "versionObserved") return stopWaiting(state, because("DescribeFailed", { variant: "services", error: errorText(input) }));
  const o: Observed = input;
  const service = o.service;
  if (!service || service.status !== "ACTIVE") return stopWaiting(state, because("ServiceGone", { service: subject.serviceName, status: service ? service.status : "missing" }));
  const desired = state.step === "waitScaled" ? (state.scaleTo ?? service.desiredCount) : service.desiredCount;
  const healthy = o.targets.filter((t) => t.state === "healthy").length;
  const failed = o.failures?.count ?? 0;
  const primary = service.deployments.find((d) => d.status === "PRIMARY");
  const countsKey = `${service.runningCount}/${desired}/${healthy}/${failed}`;
  const events: NewEvent[] = countsKey === state.lastCounts ? [] : [event("Progress", { variant: "version", version: state.step === "waitVersion" ? state.version! : state.target!.version, running: service.runningCount, desired, healthy, failed })];
  const record: ActiveRecord = { counts: { desired, running: service.runningCount, pending: service.pendingCount, failed }, events };
  const base: RainbowState = { ...state, lastCounts: countsKey };
  const threshold = failureThreshold(state.spec.depdef, desired);
  if (state.step === "waitVersion" && threshold > 0 && failed >= threshold) {
    const last = o.failures?.lastReason ? `; last: ${o.failures.lastReason}` : "";
    return withRecord(failDeploy(base, because("CircuitBreakerTripped", { failed, which: "new", threshold, last })), record);
  }
  const drained = service.deployments.length === 1 && (primary?.rolloutState === undefined || primary.rolloutState === "COMPLETED");
  const steady = drained && service.runningCount >= desired && service.desiredCount >= desired && (desired === 0 || healthy >= desired || !subject.targetGroupArn);
  if (!steady) delete base.steadySince;
  if (steady) {
    const dwell = stableDwellMs(state.spec.depdef, service.healthCheckGracePeriodSeconds ?? 0, state.healthCheckIntervals ?? []);
    if (base.steadySince === undefined) return go({ ...base, steadySince: now }, state.step, poll(state, Math.min(dwell, state.spec.depdef.stabilityCheck.pollInterval * 1000)), record);
    const left = base.steadySince + dwell - now;
    if (left > 0) return go(base, state.step, poll(state, Math.min(left, state.spec.depdef.stabilityCheck.pollInterval * 1000)), record);
    return withRecord(state.step === "waitVersion" ? versionReady(base) : preAlarms(base), record);
  }
  if (primary?.rolloutState === "FAILED") return withRecord(stopWaiting(base, because("EcsDeploymentFailed", { why: primary.rolloutStateReason ?? "tasks failed to start" })), record);
  if (now >= (state.deadline ?? Infinity)) {
    const seconds = Math.round(stabilityTimeoutMs(state.spec.depdef, desired) / 1000);
    return withRecord(stopWaiting(base, because("StabilityTimeout", { variant: "version", version: state.step === "waitVersion" ? state.version! : state.target!.version, running: service.runningCount, desired, healthy, seconds })), record);
  }
  return go(base, state.step, poll(state), record);
}

/** A wait ended badly: a deploy removes what it made; a cutover has changed no route yet. */
function stopWaiting(state: RainbowState, failure: Because): Step<RainbowState> {
  if (state.step === "waitVersion") return failDeploy(state, failure);
  return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", andThen(failure, "; the live route was not changed"));
}

function versionReady(state: RainbowState): Step<RainbowState> {
  const cfg = cfgOf(state);
  const first = state.listeners?.[0];
  const url = versionUrl(cfg, state.version!, first ?? {});
  const note = versionRequestNote(cfg, state.version!);
  const next: RainbowState = { ...state, url };
  const ready = event("VersionReady", { version: state.version!, url, note: note ? ` (${note})` : "" }, { version: state.version!, url, service: versionServiceName(state.spec.service, state.version!), targetGroupArn: state.targetGroupArn });
  const message = `version ${state.version} is up at ${url}${note ? ` (${note})` : ""}; live traffic is unchanged`;
  if (state.then[0] === "cutover") {
    return withRecord(startCutover({ ...next, then: state.then.slice(1), by: `automatic cutover (${state.by})` }, [ready]), { message });
  }
  return finish(next, "Succeeded", success(message), [ready]);
}

/** A deploy failed after it made something: remove its rule(s), service and target group (deleteNewUponFailure). */
function failDeploy(state: RainbowState, failure: Because): Step<RainbowState> {
  const made = state.targetGroupArn !== undefined || state.rules.length > 0 || state.serviceRequested;
  if (!made) return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", failure);
  if (!state.spec.depdef.deleteNewUponFailure) return finish({ ...state, failure }, state.aborted ? "Aborted" : "Failed", andThen(failure, `; version ${state.version}'s service, rule and target group are left for inspection (deleteNewUponFailure is off)`));
  const v = state.version!;
  const ref: VersionRef = { version: v, serviceName: versionServiceName(state.spec.service, v), targetGroupName: versionTargetGroupName(cfgOf(state), state.spec.service, v), ...(state.targetGroupArn ? { targetGroupArn: state.targetGroupArn } : {}), rules: state.rules.map((r) => ({ listenerArn: r.listenerArn, ruleArn: r.ruleArn })), hasService: state.serviceRequested === true };
  const removal: Removal = { versions: [ref], purpose: "undo", removed: [], problems: [] };
  const events = [event("Failed", { message: failure.message }, { reason: failure.reason }), event("UndoingVersion", { version: v })];
  return startRemoval({ ...state, failure, removal }, { phase: "RollingBack", reason: failure.reason, message: failure.message, events });
}

// ---------------------------------------------------------------- cutover

function startCutover(state: RainbowState, events: NewEvent[]): Step<RainbowState> {
  const next: RainbowState = { ...state, stage: "cutover" };
  delete next.steadySince;
  delete next.lastCounts;
  return go(next, "cutoverInspect", discover(next, [next.version!]), { phase: "Deploying", events });
}

function cutoverInspect(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type === "error") return finish(state, "Failed", readFailed(input));
  if (input.type !== "rainbow") return go(state, "cutoverInspect", discover(state, [state.version!]));
  const world = input.world;
  const v = findVersion(world, state.version!);
  const cfg = cfgOf(state);
  const missing = !versionExists(v) ? "nothing of it exists" : !v ? "" : !v.service || v.service.status !== "ACTIVE" ? `its service ${v.serviceName} is ${v.service?.status ?? "missing"}` : !v.targetGroupArn ? `its target group ${v.targetGroupName} is missing` : v.rules.length < cfg.listeners.length ? "its listener rule is missing" : "";
  if (missing) return finish(state, "Failed", because("VersionNotFound", { version: state.version!, object: state.spec.object, what: missing }));
  const previousRoutes = world.listeners.map((l) => l.live);
  const live = liveVersions(world);
  const liveHere = live.filter((x) => x.version !== v!.version);
  const already = !drift(routesTo(previousRoutes, v!.targetGroupArn!), previousRoutes);
  const fromVersion = already ? v!.version : liveHere[0]?.version;
  const from = fromVersion ?? describeLive(previousRoutes);
  const target = { ...refOfView(v!), desired: v!.service!.desiredCount };
  const next: RainbowState = { ...state, target, previousRoutes, from, ...(fromVersion ? { fromVersion } : {}) };
  if (already) return withRecord(afterCutover(next, success(`version ${v!.version} is already live: nothing to switch`)), { events: [event("AlreadyLive", { version: v!.version })] });
  const liveDesired = Math.max(0, ...liveHere.map((x) => x.service?.desiredCount ?? 0));
  if (cfg.scaleToLive && liveDesired > target.desired) {
    const request = { cluster: state.spec.cluster, service: target.serviceName, desiredCount: liveDesired };
    return go({ ...next, scaleTo: liveDesired }, "scale", { type: "updateService", request }, { phase: "Deploying", events: [event("Scaling", { version: v!.version, from: target.desired, to: liveDesired })] });
  }
  // Even unscaled, the version must have healthy targets before it takes the traffic.
  return go({ ...next, scaleTo: target.desired, deadline: now + stabilityTimeoutMs(state.spec.depdef, target.desired) }, "waitScaled", observe(next, target), { phase: "Stabilizing" });
}

function describeLive(routes: readonly Route[]): string {
  const words: Record<string, string> = { forward: "a target group of no version", "fixed-response": "the listener's fixed response", redirect: "a redirect" };
  const answers = routes.flatMap((r) => r.actions.filter((a) => !a.type.startsWith("authenticate")).map((a) => words[a.type] ?? a.type));
  return [...new Set(answers)].join(", ") || "nothing";
}

function scaled(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type !== "service" || !input.service) return finish(state, "Failed", because("ScaleFailed", { version: state.target!.version, desired: state.scaleTo ?? 0, error: errorText(input) }));
  return go({ ...state, deadline: now + stabilityTimeoutMs(state.spec.depdef, state.scaleTo ?? 0) }, "waitScaled", poll(state), { phase: "Stabilizing" });
}

/** Before the switch: which alarms are already in ALARM (those do not count against the new version). */
function preAlarms(state: RainbowState): Step<RainbowState> {
  const names = state.spec.depdef.alarms.alarmNames;
  if (names.length === 0) return switchRoutes(state, []);
  return go(state, "preAlarms", { type: "describeAlarms", alarmNames: names });
}

/** The alarms as they are before the switch: all must exist, or the cutover stops before moving traffic. */
function alarmsRead(state: RainbowState, input: Input): Step<RainbowState> {
  if (input.type !== "alarms") return finish(state, "Failed", andThen(because("DescribeAlarmsFailed", { error: errorText(input) }), "; the live route was not changed"));
  const names = state.spec.depdef.alarms.alarmNames;
  const missing = names.filter((n) => !input.alarms.some((a) => a.alarmName === n));
  if (missing.length) return finish(state, "Failed", andThen(because("AlarmNotFound", { alarms: `alarm${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`, verb: missing.length > 1 ? "do" : "does", region: state.spec.region }), " (the live route was not changed)"));
  return switchRoutes(state, input.alarms);
}

function switchRoutes(state: RainbowState, alarms: readonly Alarm[]): Step<RainbowState> {
  const routes = routesTo(state.previousRoutes!, state.target!.targetGroupArn!);
  const alarmsBefore = alarms.filter((a) => a.stateValue === "ALARM").map((a) => a.alarmName);
  return go({ ...state, alarmsBefore }, "switch", { type: "setRoutes", routes }, { phase: "Shifting" });
}

function switched(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  const target = state.target!;
  if (input.type !== "done") {
    const failure =
      input.type === "error" && input.error.name === "TrafficNotVerified"
        ? because("CutoverNotVerified", { version: target.version, readBack: input.error.message })
        : because("CutoverFailed", { version: target.version, error: errorText(input) });
    return restore({ ...state, failure }, "Failed");
  }
  const cut = event("CutOver", { version: target.version, from: state.from ?? "nothing", by: state.by }, { version: target.version, from: state.fromVersion ?? null, by: state.by, at: now });
  const next: RainbowState = { ...state, switchedAt: now };
  const names = state.spec.depdef.alarms.alarmNames;
  if (names.length === 0) return withRecord(afterCutover(next, cutoverDone(next)), { trafficWeight: 100, events: [cut] });
  const seconds = state.spec.depdef.bakeTime;
  const watching = event("WatchingAlarms", { alarms: names.join(", "), seconds });
  // With no bakeTime the alarms are read once, right away.
  const first: Effect = seconds > 0 ? poll(state) : { type: "describeAlarms", alarmNames: names };
  return go({ ...next, watchUntil: now + seconds * 1000 }, "watch", first, { phase: "Baking", trafficWeight: 100, events: [cut, watching] });
}

function cutoverDone(state: RainbowState): Outcome {
  return success(`version ${state.target!.version} is live (was ${state.from ?? "nothing"}); cut over by ${state.by}`);
}

function watch(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  const names = state.spec.depdef.alarms.alarmNames;
  if (input.type === "slept") return go(state, "watch", { type: "describeAlarms", alarmNames: names });
  if (input.type === "alarms") {
    const firing = input.alarms.filter((a) => a.stateValue === "ALARM" && (!(state.alarmsBefore ?? []).includes(a.alarmName) || a.stateUpdatedAt >= (state.switchedAt ?? 0)));
    if (firing.length) {
      const failure = because("AlarmFired", { alarms: firing.map((a) => a.alarmName).join(", "), when: `after the cutover to ${state.target!.version}`, stateReason: firing[0]!.stateReason });
      return restore({ ...state, failure }, "RolledBack");
    }
    if (now >= (state.watchUntil ?? 0)) return afterCutover(state, cutoverDone(state));
    return go(state, "watch", poll(state, Math.min(state.watchUntil! - now, state.spec.depdef.stabilityCheck.pollInterval * 1000)));
  }
  // An unreadable alarm is no verdict: keep watching until the end, then say so.
  if (now >= (state.watchUntil ?? 0)) return afterCutover(state, success(`${cutoverDone(state).message}; the alarms could not be read at the end of the watch (${errorText(input)})`));
  return go(state, "watch", poll(state));
}

/** Put the live routes back as they were before the switch. */
function restore(state: RainbowState, phase: "Failed" | "RolledBack" | "Aborted"): Step<RainbowState> {
  const f = state.failure!;
  const events = [event("Failed", { message: f.message }, { reason: f.reason }), event("CutBack", { to: state.from ?? "the previous routes" })];
  return go({ ...state, restorePhase: phase }, "restore", { type: "setRoutes", routes: state.previousRoutes! }, { phase: "RollingBack", reason: f.reason, message: f.message, events });
}

function restored(state: RainbowState, input: Input): Step<RainbowState> {
  const f = state.failure!;
  if (input.type !== "done") return finish(state, "Failed", because("CutBackFailed", { failure: f.message, error: errorText(input) }));
  return withRecord(finish(state, state.restorePhase ?? "Failed", andThen(f, `; the live route was put back (${state.from ?? "as it was"})`)), { trafficWeight: 0 });
}

/** After a cutover that stands: its success, then a cleanup when the policy says so. */
function afterCutover(state: RainbowState, outcome: Outcome): Step<RainbowState> {
  if (state.then[0] === "cleanup") {
    const keepAlso = state.fromVersion ? [state.fromVersion] : [];
    const next: RainbowState = { ...state, then: state.then.slice(1), stage: "cleanup", keepAlso, summary: outcome.message };
    return go(next, "cleanupInspect", discover(next, []), { message: outcome.message, events: [event("CleanupStarted", { why: "the cleanup policy runs after every cutover" })] });
  }
  return finish(state, "Succeeded", outcome);
}

// ---------------------------------------------------------------- cleanup and delete

function cleanupInspect(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  if (input.type === "error") return finish(state, "Failed", readFailed(input));
  if (input.type !== "rainbow") return go(state, "cleanupInspect", discover(state, []));
  const world: RainbowWorld = input.world;
  const deleting = state.stage === "delete";
  const choice = deleting ? { remove: world.versions, kept: [] } : chooseForCleanup(world, cfgOf(state).cleanup, now, state.keepAlso ?? []);
  const planned = event("CleanupPlanned", { remove: choice.remove.map((v) => v.version).join(", ") || "nothing", keep: choice.kept.map((k) => `${k.version} (${k.why})`).join(", ") || "nothing" }, { remove: choice.remove.map((v) => v.version), kept: choice.kept });
  const before = state.summary ? `${state.summary}; ` : "";
  if (choice.remove.length === 0) return finish(state, "Succeeded", success(`${before}no version to ${deleting ? "delete" : "clean up"}`), [planned]);
  const removal: Removal = { versions: choice.remove.map(refOfView), purpose: deleting ? "delete" : "cleanup", removed: [], problems: [] };
  return startRemoval({ ...state, removal }, { events: [planned] });
}

type Cursor = { step: "removeRules"; effect: Effect } | { step: "removeServices"; effect: Effect } | { step: "removeGroups"; effect: Effect };

/** The next removal to make: the rules first (no request reaches the versions), then the services, then (once INACTIVE) the target groups. */
function nextRemoval(r: Removal, cluster: string, after: RbStep | undefined, done: ReadonlySet<string>): Cursor | "wait" | undefined {
  const order: RbStep[] = ["removeRules", "removeServices", "waitRemoved", "removeGroups"];
  for (const step of order.slice(after ? order.indexOf(after) : 0)) {
    if (step === "removeRules") {
      for (const v of r.versions) for (const rule of v.rules) if (!done.has(rule.ruleArn)) return { step: "removeRules", effect: { type: "deleteRule", ruleArn: rule.ruleArn } };
    } else if (step === "removeServices") {
      for (const v of r.versions) if (v.hasService && !done.has(v.serviceName)) return { step: "removeServices", effect: { type: "deleteService", cluster, service: v.serviceName, force: true } };
    } else if (step === "waitRemoved") {
      if (r.versions.some((v) => v.hasService) && !done.has("#waited")) return "wait";
    } else {
      for (const v of r.versions) if (v.targetGroupArn && !done.has(v.targetGroupArn)) return { step: "removeGroups", effect: { type: "deleteTargetGroup", targetGroupArn: v.targetGroupArn } };
    }
  }
  return undefined;
}

function startRemoval(state: RainbowState, record: ActiveRecord): Step<RainbowState> {
  return withRecord(advanceRemoval(state, undefined), record);
}

/** The removal's next effect after `from` (rules, services and groups already handled are in `removed`). */
function advanceRemoval(state: RainbowState, from: RbStep | undefined): Step<RainbowState> {
  const r = state.removal!;
  const next = nextRemoval(r, state.spec.cluster, from, new Set(r.removed));
  if (next === undefined) return endRemoval(state);
  if (next === "wait") {
    const names = r.versions.filter((v) => v.hasService).map((v) => v.serviceName);
    return go(state, "waitRemoved", { type: "describeServices", cluster: state.spec.cluster, services: names });
  }
  return go(state, next.step, next.effect);
}

const INACTIVE_TIMEOUT_MS = 15 * 60_000;

function removing(state: RainbowState, input: Input, now: number): Step<RainbowState> {
  const r = state.removal!;
  const e = state.inFlight;
  const mark = (key: string, events: NewEvent[] = [], problem?: string): Step<RainbowState> => {
    const removal: Removal = { ...r, removed: [...r.removed, key], problems: problem ? [...r.problems, problem] : r.problems };
    return withRecord(advanceRemoval({ ...state, removal }, state.step), { events });
  };
  const versionOf = (pred: (v: VersionRef) => boolean) => r.versions.find(pred)?.version ?? "?";
  switch (state.step) {
    case "removeRules": {
      if (e?.type !== "deleteRule") return advanceRemoval(state, state.step);
      const v = versionOf((x) => x.rules.some((y) => y.ruleArn === e.ruleArn));
      if (input.type === "done" || (input.type === "error" && input.error.name === "RuleNotFound")) return mark(e.ruleArn, [event("RuleDeleted", { version: v, rule: shortArn(e.ruleArn) })]);
      return mark(e.ruleArn, [], `the rule of ${v} (${shortArn(e.ruleArn)}) could not be deleted: ${errorText(input)}`);
    }
    case "removeServices": {
      if (e?.type !== "deleteService") return advanceRemoval(state, state.step);
      const gone = input.type === "service" || (input.type === "error" && /ServiceNotFound|ServiceNotActive/.test(input.error.name));
      if (gone) return mark(e.service, [event("VersionServiceDeleted", { service: e.service })]);
      return mark(e.service, [], `service ${e.service} could not be deleted: ${errorText(input)}`);
    }
    case "waitRemoved": {
      const names = r.versions.filter((v) => v.hasService).map((v) => v.serviceName);
      if (input.type === "slept") return go(state, "waitRemoved", { type: "describeServices", cluster: state.spec.cluster, services: names });
      const left = input.type === "services" ? input.services.filter((s) => s.status !== "INACTIVE").map((s) => s.serviceName) : names;
      if (input.type === "services" && left.length === 0) return mark("#waited");
      const deadline = r.deadline ?? now + INACTIVE_TIMEOUT_MS;
      if (now >= deadline) return mark("#waited", [], `${left.join(", ")} still ${input.type === "services" ? "DRAINING" : `unreadable (${errorText(input)})`} after ${INACTIVE_TIMEOUT_MS / 60000} minutes`);
      return go({ ...state, removal: { ...r, deadline } }, "waitRemoved", poll(state));
    }
    case "removeGroups": {
      if (e?.type !== "deleteTargetGroup") return advanceRemoval(state, state.step);
      const v = r.versions.find((x) => x.targetGroupArn === e.targetGroupArn);
      const name = v?.targetGroupName ?? e.targetGroupArn;
      if (input.type === "done" || (input.type === "error" && input.error.name === "TargetGroupNotFound")) return mark(e.targetGroupArn, [event("TargetGroupDeleted", { name })]);
      const why = input.type === "error" && input.error.name === "ResourceInUse" ? "a listener or rule still forwards to it" : errorText(input);
      return mark(e.targetGroupArn, [event("TargetGroupKept", { name, why })], `target group ${name} was kept: ${why}`);
    }
    default:
      return advanceRemoval(state, state.step);
  }
}

function endRemoval(state: RainbowState): Step<RainbowState> {
  const r = state.removal!;
  const names = r.versions.map((v) => v.version).join(", ");
  const problems = r.problems.length ? `; ${r.problems.join("; ")}` : "";
  if (r.purpose === "undo") {
    const f = state.failure!;
    return finish(state, state.aborted ? "Aborted" : "Failed", andThen(f, r.problems.length ? `; removing version ${names} was incomplete${problems}` : `; version ${names}'s service, rule and target group were removed`));
  }
  const before = state.summary ? `${state.summary}; ` : "";
  const what = r.purpose === "delete" ? `deleted version${r.versions.length > 1 ? "s" : ""} ${names} of ${state.spec.object}` : `${before}removed version${r.versions.length > 1 ? "s" : ""} ${names}`;
  if (r.problems.length) return finish(state, "Succeeded", because("CleanupIncomplete", { done: what, problems: r.problems.join("; ") }));
  return finish(state, "Succeeded", success(what));
}

// ---------------------------------------------------------------- controls and restarts

function control(state: RainbowState, input: Extract<Input, { type: "control" }>, now: number): Step<RainbowState> {
  const same = (events: NewEvent[], next: RainbowState = state): Step<RainbowState> => ({ state: next, ...(next.inFlight ? { effect: next.inFlight } : {}), record: { events } });
  const removingNow = ["removeRules", "removeServices", "waitRemoved", "removeGroups", "restore"].includes(state.step);
  if (input.action === "promote" && state.step === "watch") {
    return withRecord(afterCutover(state, success(`${cutoverDone(state).message}; the alarm watch was ended early by ${input.by}`)), { events: [event("Promote", { variant: "rainbow", by: input.by })] });
  }
  if (input.action !== "abort" || removingNow) {
    return same([event("ControlIgnored", { variant: "rainbow", action: input.action, by: input.by, step: state.step })]);
  }
  const aborted: RainbowState = { ...state, aborted: { by: input.by } };
  const failure = because("Aborted", { by: input.by, when: "" });
  void now;
  if (state.stage === "deploy") return withRecord(failDeploy(aborted, failure), { events: [event("Abort", { by: input.by })] });
  if (state.stage === "cutover") {
    if (state.step === "watch") return withRecord(restore({ ...aborted, failure }, "Aborted"), { events: [event("Abort", { by: input.by })] });
    if (state.step !== "switch") return finish(aborted, "Aborted", because("Aborted", { by: input.by, when: " before the live route was changed" }));
  }
  return same([event("AbortIgnored", { by: input.by, doing: state.step === "switch" ? "switching the live route" : "cleaning up" })]);
}

function resume(state: RainbowState): Step<RainbowState> {
  const e = state.inFlight;
  const resumed = [event("Resumed", { variant: "restart", step: state.step })];
  if (!e) return begin(state, 0);
  if (e.type === "createRule") {
    // It may have been made: a rule of this version forwarding to its target group is ours.
    return go(withoutPriority(state), "recheckRules", discover(state, [state.version!]), { events: resumed });
  }
  if (e.type === "createService") {
    const read: Effect = { type: "describeService", cluster: state.spec.cluster, service: versionServiceName(state.spec.service, state.version!) };
    return { state: { ...state, step: "confirmService", inFlight: read }, effect: read, record: { events: resumed } };
  }
  // Everything else is a read, or a mutation that is safe to repeat: a target group by name, a
  // scale to a count, a route set to the same actions, a delete (gone answers as done).
  return { state, effect: e, record: { events: resumed } };
}

/** The version's route in words, for the timeline. */
function describeRoute(cfg: RainbowConfig, version: string): string {
  return versionConditions(cfg, version)
    .map((c) => {
      const f = String(c["Field"]);
      const values = (Object.values(c).find((x) => typeof x === "object" && x !== null) as { Values?: string[]; HttpHeaderName?: string } | undefined) ?? {};
      return f === "http-header" ? `${values.HttpHeaderName}: ${values.Values?.join(",")}` : `${f} ${values.Values?.join(",")}`;
    })
    .join(" and ");
}

