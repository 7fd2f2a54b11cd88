/**
 * ECS-managed blue/green, linear and canary deployments (deploymentController ECS with
 * `deploymentConfiguration.strategy` BLUE_GREEN, LINEAR or CANARY): ECS itself starts the new
 * revision beside the old one, moves the test and production listener rules' weights, runs the
 * lifecycle hooks, watches alarms and its circuit breaker, bakes, and cleans up or rolls back.
 * Every deployment is a service deployment (DescribeServiceDeployments) of a service revision
 * (DescribeServiceRevisions). SPEC.md §ECS-managed deployments says what is modelled and from where.
 */
import type { LifecycleStage, LoadBalancerRef } from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";
import type { HookConfig, HookInvocation, ManagedLoadBalancer, ManagedService, ManagedStrategy, SimHookRun, SimRevision, SimServiceDeployment } from "./managed-model.ts";
import type { SimDeployment, SimService, SimTaskDef } from "./model.ts";
import { addEvent, circuitBreakerThreshold, scaleOwner } from "./scheduler.ts";
import { isHealthy } from "./tasks.ts";
import { startDeployment } from "./ecs-api.ts";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export const MANAGED_STRATEGIES: ReadonlySet<string> = new Set(["BLUE_GREEN", "LINEAR", "CANARY"]);
/** Stages a PAUSE hook may not be configured at (API reference, DeploymentLifecycleHook). */
const NO_PAUSE_AT = new Set(["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"]);
const HOOK_STAGES = new Set(["RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]);
/** ECS invokes an IN_PROGRESS Lambda hook again after this long unless it returns a callBackDelay. */
const DEFAULT_CALLBACK_MS = 30_000;
/** How often ECS looks at the deployment's alarms (not published; our choice). */
const ALARM_CHECK_MS = 5_000;
const MINUTE = 60_000;
/** PENDING → IN_PROGRESS and ROLLBACK_REQUESTED → ROLLBACK_IN_PROGRESS (not published; our choice). */
const START_DELAY_MS = 1_000;

/** Where the simulator keeps Lambda hook invocations (tests and rehearsals read them). */
const invocations = new WeakMap<SimulatorCore, HookInvocation[]>();
export function hookInvocations(sim: SimulatorCore): readonly HookInvocation[] {
  return invocations.get(sim) ?? [];
}

export function deploymentConfigurationOf(svc: SimService): Rec {
  const dc = svc.request["deploymentConfiguration"];
  return isRec(dc) ? dc : {};
}

/** The service's ECS-managed strategy, or undefined for a rolling (or EXTERNAL) service. */
export function managedStrategyOf(svc: SimService): ManagedStrategy | undefined {
  if (svc.controller !== "ECS") return undefined;
  const s = deploymentConfigurationOf(svc)["strategy"];
  return typeof s === "string" && MANAGED_STRATEGIES.has(s) ? (s as ManagedStrategy) : undefined;
}

/**
 * What CreateService/UpdateService refuse for an ECS-managed service, before anything changes:
 * the strategy's settings out of range, hooks without what they need, load balancers without the
 * advanced configuration ECS shifts traffic with. Messages are ours (AWS documents the rules, not
 * the texts), as InvalidParameterException.
 */
export function checkManagedRequest(dc: Rec, loadBalancers: readonly LoadBalancerRef[], targetGroupExists: (arn: string) => boolean): string | undefined {
  const strategy = dc["strategy"];
  if (strategy === undefined || strategy === "ROLLING") return undefined;
  if (typeof strategy !== "string" || !MANAGED_STRATEGIES.has(strategy)) return `deploymentConfiguration.strategy must be one of ROLLING, BLUE_GREEN, LINEAR, CANARY.`;
  const bake = dc["bakeTimeInMinutes"];
  if (bake === undefined && strategy === "BLUE_GREEN") return "bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.";
  if (bake !== undefined && !inRange(bake, 0, 1440, true)) return "bakeTimeInMinutes must be a whole number of minutes from 0 to 1440.";
  const linear = isRec(dc["linearConfiguration"]) ? dc["linearConfiguration"] : undefined;
  const canary = isRec(dc["canaryConfiguration"]) ? dc["canaryConfiguration"] : undefined;
  if (linear && strategy !== "LINEAR") return "linearConfiguration is only valid with the LINEAR deployment strategy.";
  if (canary && strategy !== "CANARY") return "canaryConfiguration is only valid with the CANARY deployment strategy.";
  if (linear?.["stepPercent"] !== undefined && !(inRange(linear["stepPercent"], 3, 100) && tenths(linear["stepPercent"]))) return "linearConfiguration.stepPercent must be a multiple of 0.1 from 3.0 to 100.0.";
  if (linear?.["stepBakeTimeInMinutes"] !== undefined && !inRange(linear["stepBakeTimeInMinutes"], 0, 1440, true)) return "linearConfiguration.stepBakeTimeInMinutes must be from 0 to 1440.";
  if (canary?.["canaryPercent"] !== undefined && !(inRange(canary["canaryPercent"], 0.1, 100) && tenths(canary["canaryPercent"]))) return "canaryConfiguration.canaryPercent must be a multiple of 0.1 from 0.1 to 100.0.";
  if (canary?.["canaryBakeTimeInMinutes"] !== undefined && !inRange(canary["canaryBakeTimeInMinutes"], 0, 1440, true)) return "canaryConfiguration.canaryBakeTimeInMinutes must be from 0 to 1440.";
  const hooks = dc["lifecycleHooks"];
  if (hooks !== undefined) {
    if (!Array.isArray(hooks)) return "lifecycleHooks must be a list.";
    for (const h of hooks) {
      if (!isRec(h)) return "lifecycleHooks entries must be objects.";
      const type = h["targetType"] ?? "AWS_LAMBDA";
      if (type !== "AWS_LAMBDA" && type !== "PAUSE") return "lifecycleHooks targetType must be AWS_LAMBDA or PAUSE.";
      const stages = h["lifecycleStages"];
      if (!Array.isArray(stages) || stages.length === 0) return "A lifecycle hook must name at least one lifecycle stage.";
      for (const s of stages) {
        if (typeof s !== "string" || !HOOK_STAGES.has(s)) return `${String(s)} is not a lifecycle stage a hook can run at.`;
        if (type === "PAUSE" && NO_PAUSE_AT.has(s)) return `PAUSE hooks cannot be configured at the ${s} stage.`;
      }
      if (type === "AWS_LAMBDA" && str(h["hookTargetArn"]) === undefined) return "hookTargetArn is required for an AWS_LAMBDA lifecycle hook.";
      if (type === "AWS_LAMBDA" && str(h["roleArn"]) === undefined) return "roleArn is required for an AWS_LAMBDA lifecycle hook.";
      const timeout = isRec(h["timeoutConfiguration"]) ? h["timeoutConfiguration"] : undefined;
      if (timeout?.["timeoutInMinutes"] !== undefined && !inRange(timeout["timeoutInMinutes"], 1, 1440, true)) return "timeoutConfiguration.timeoutInMinutes must be from 1 to 1440.";
      if (timeout?.["action"] !== undefined && timeout["action"] !== "CONTINUE" && timeout["action"] !== "ROLLBACK") return "timeoutConfiguration.action must be CONTINUE or ROLLBACK.";
    }
  }
  for (const lb of loadBalancers) {
    if (lb.targetGroupArn === undefined) continue;
    const ac = lb.advancedConfiguration;
    if (!ac) return `The load balancer with target group ${lb.targetGroupArn} needs an advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn) for ${strategy} deployments.`;
    if (!ac.alternateTargetGroupArn) return "advancedConfiguration.alternateTargetGroupArn is required.";
    if (!ac.productionListenerRule) return "advancedConfiguration.productionListenerRule is required.";
    if (!ac.roleArn) return "advancedConfiguration.roleArn is required.";
    if (ac.alternateTargetGroupArn === lb.targetGroupArn) return "advancedConfiguration.alternateTargetGroupArn must differ from targetGroupArn.";
    if (!targetGroupExists(ac.alternateTargetGroupArn)) return `Unable to find target group ${ac.alternateTargetGroupArn}.`;
  }
  return undefined;
}

function inRange(v: unknown, lo: number, hi: number, integer = false): boolean {
  return typeof v === "number" && v >= lo && v <= hi && (!integer || Number.isInteger(v));
}

function tenths(v: unknown): boolean {
  return typeof v === "number" && Math.abs(v * 10 - Math.round(v * 10)) < 1e-9;
}

function hookConfigs(dc: Rec): HookConfig[] {
  const hooks = Array.isArray(dc["lifecycleHooks"]) ? dc["lifecycleHooks"].filter(isRec) : [];
  return hooks.map((h) => {
    const timeout = isRec(h["timeoutConfiguration"]) ? h["timeoutConfiguration"] : {};
    return {
      targetType: h["targetType"] === "PAUSE" ? "PAUSE" : "AWS_LAMBDA",
      ...(str(h["hookTargetArn"]) ? { hookTargetArn: str(h["hookTargetArn"])! } : {}),
      ...(str(h["roleArn"]) ? { roleArn: str(h["roleArn"])! } : {}),
      lifecycleStages: (Array.isArray(h["lifecycleStages"]) ? h["lifecycleStages"] : []).filter((s): s is string => typeof s === "string"),
      timeoutMs: (num(timeout["timeoutInMinutes"]) ?? 1440) * MINUTE,
      timeoutAction: timeout["action"] === "CONTINUE" ? "CONTINUE" : "ROLLBACK",
    };
  });
}

/**
 * Production percentages of each shift: BLUE_GREEN all at once; LINEAR in steps of stepPercent
 * (default 10); CANARY canaryPercent (default 5) then the rest. API reference, LinearConfiguration
 * and CanaryConfiguration.
 */
export function shiftSteps(strategy: ManagedStrategy, dc: Rec): number[] {
  if (strategy === "LINEAR") {
    const step = num(isRec(dc["linearConfiguration"]) ? dc["linearConfiguration"]["stepPercent"] : undefined) ?? 10;
    const out: number[] = [];
    for (let n = 1; n * step < 100 - 1e-9; n++) out.push(Math.round(n * step * 10) / 10);
    return [...out, 100];
  }
  if (strategy === "CANARY") {
    const pct = num(isRec(dc["canaryConfiguration"]) ? dc["canaryConfiguration"]["canaryPercent"] : undefined) ?? 5;
    return pct >= 100 ? [100] : [pct, 100];
  }
  return [100];
}

/** How long ECS waits after production step `index` (not after 100%): LINEAR's step bake time (default 6 min), CANARY's canary bake time (default 10 min). */
function stepBakeMs(sd: SimServiceDeployment, index: number): number {
  if (sd.steps[index] === 100) return 0;
  const dc = sd.config;
  if (sd.strategy === "LINEAR") return (num(isRec(dc["linearConfiguration"]) ? dc["linearConfiguration"]["stepBakeTimeInMinutes"] : undefined) ?? 6) * MINUTE;
  if (sd.strategy === "CANARY") return (num(isRec(dc["canaryConfiguration"]) ? dc["canaryConfiguration"]["canaryBakeTimeInMinutes"] : undefined) ?? 10) * MINUTE;
  return 0;
}

function managedLoadBalancers(svc: SimService): ManagedLoadBalancer[] {
  return svc.loadBalancers
    .filter((lb) => lb.targetGroupArn !== undefined)
    .map((lb) => ({
      targetGroupArn: lb.targetGroupArn!,
      ...(lb.advancedConfiguration?.alternateTargetGroupArn ? { alternateTargetGroupArn: lb.advancedConfiguration.alternateTargetGroupArn } : {}),
      ...(lb.advancedConfiguration?.productionListenerRule ? { productionListenerRule: lb.advancedConfiguration.productionListenerRule } : {}),
      ...(lb.advancedConfiguration?.testListenerRule ? { testListenerRule: lb.advancedConfiguration.testListenerRule } : {}),
      ...(lb.containerName !== undefined ? { containerName: lb.containerName } : {}),
      ...(lb.containerPort !== undefined ? { containerPort: lb.containerPort } : {}),
    }));
}

function randomId(sim: SimulatorCore, n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
  let s = "";
  while (s.length < n) s += alphabet[Math.floor(sim.random() * alphabet.length)];
  return s;
}

const REVISION_SETTINGS = ["launchType", "capacityProviderStrategy", "platformVersion", "networkConfiguration", "serviceRegistries", "serviceConnectConfiguration", "volumeConfigurations"] as const;

function newRevision(sim: SimulatorCore, svc: SimService, taskDef: SimTaskDef, targetGroups: string[], owner: SimDeployment): SimRevision {
  const id = sim.ids.digits(19);
  const settings: Rec = {};
  for (const k of REVISION_SETTINGS) if (svc.request[k] !== undefined) settings[k] = structuredClone(svc.request[k]);
  return {
    id,
    arn: `arn:aws:ecs:${sim.region}:${sim.account}:service-revision/${svc.cluster.name}/${svc.name}/${id}`,
    taskDef,
    createdAt: sim.now,
    loadBalancers: structuredClone(svc.loadBalancers),
    targetGroups,
    settings,
    owner,
  };
}

/** The task owner's load balancers: the service's entries, registered with `targetGroups` instead (no advanced configuration on tasks). */
function ownerLoadBalancers(svc: SimService, targetGroups: string[]): LoadBalancerRef[] {
  let i = 0;
  return svc.loadBalancers.map((lb) => {
    const { advancedConfiguration: _ignored, ...rest } = lb;
    return lb.targetGroupArn === undefined ? rest : { ...rest, targetGroupArn: targetGroups[i++] ?? lb.targetGroupArn };
  });
}

/**
 * A revision for what runs now: a service that ran rolling updates (or was loaded from a
 * scenario) becomes ECS-managed with its PRIMARY deployment as the production revision.
 */
export function adoptProduction(sim: SimulatorCore, svc: SimService, owner: SimDeployment): SimRevision {
  const m = (svc.managed ??= { revisions: [], deployments: [] });
  const targetGroups = owner.loadBalancers.filter((lb) => lb.targetGroupArn !== undefined).map((lb) => lb.targetGroupArn!);
  const rev = newRevision(sim, svc, owner.taskDef, targetGroups, owner);
  m.revisions.push(rev);
  m.production = rev;
  return rev;
}

/** UpdateService/CreateService started a deployment of `taskDef` on an ECS-managed service. */
export function startManagedDeployment(sim: SimulatorCore, svc: SimService, taskDef: SimTaskDef, strategy: ManagedStrategy): SimServiceDeployment {
  const m: ManagedService = (svc.managed ??= { revisions: [], deployments: [] });
  const previous = svc.deployments.find((d) => d.status === "PRIMARY");
  if (!m.production && previous) adoptProduction(sim, svc, previous);
  const interrupted = m.active;
  if (interrupted) {
    // A new deployment replaces the one in progress; its revision is reconciled away (RECONCILE_SERVICE).
    interrupted.status = "STOPPED";
    interrupted.statusReason = "Service deployment stopped: a newer service deployment started.";
    interrupted.stoppedAt = sim.now;
    interrupted.updatedAt = sim.now;
    interrupted.gen++;
    interrupted.monitoring = false;
    delete m.active;
  }
  const lbs = managedLoadBalancers(svc);
  const blue = m.production?.targetGroups ?? [];
  const green = lbs.map((lb, i) => {
    const live = blue[i];
    if (live === undefined) return lb.targetGroupArn;
    return live === lb.targetGroupArn ? (lb.alternateTargetGroupArn ?? lb.targetGroupArn) : lb.targetGroupArn;
  });
  const owner = startDeployment(sim, svc, taskDef);
  owner.loadBalancers = ownerLoadBalancers(svc, green);
  const target = newRevision(sim, svc, taskDef, green, owner);
  m.revisions.push(target);
  const dc = structuredClone(deploymentConfigurationOf(svc));
  const alarms = isRec(dc["alarms"]) ? dc["alarms"] : {};
  const cb = svc.deploymentConfiguration.deploymentCircuitBreaker;
  const sources = [...(m.production ? [m.production] : []), ...(interrupted && interrupted.target !== m.production ? [interrupted.target] : [])];
  const id = randomId(sim, 21);
  const first = !m.production;
  const sd: SimServiceDeployment = {
    id,
    arn: `arn:aws:ecs:${sim.region}:${sim.account}:service-deployment/${svc.cluster.name}/${svc.name}/${id}`,
    createdAt: sim.now,
    startedAt: sim.now,
    updatedAt: sim.now,
    status: "PENDING",
    statusReason: "",
    stage: "PRE_SCALE_UP",
    strategy,
    config: dc,
    target,
    sources,
    loadBalancers: lbs,
    productionWeight: first ? 100 : 0,
    testWeight: first ? 100 : 0,
    // A first deployment has nothing to shift from: all traffic goes to it at once.
    steps: first ? [100] : shiftSteps(strategy, dc),
    stepIndex: 0,
    hooks: hookConfigs(dc),
    hookRuns: [],
    reconcile: sources.length > 1,
    alarms: { enable: alarms["enable"] === true, rollback: alarms["rollback"] === true, names: Array.isArray(alarms["alarmNames"]) ? alarms["alarmNames"].filter((n): n is string => typeof n === "string") : [], triggered: [] },
    breaker: { enable: cb.enable, rollback: cb.rollback, threshold: circuitBreakerThreshold(svc.desiredCount) },
    gen: 0,
    monitoring: false,
  };
  m.deployments.unshift(sd);
  m.active = sd;
  addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} started with ${strategy.toLowerCase().replace("_", "/")} strategy.`);
  // ECS creates the service deployment PENDING and starts it a moment later.
  sim.after(START_DELAY_MS, () => begin(sim, svc, sd));
  return sd;
}

function begin(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  if (sd.status !== "PENDING" || svc.managed?.active !== sd) return;
  sd.status = "IN_PROGRESS";
  sd.startedAt = sim.now;
  sd.updatedAt = sim.now;
  const problem = networkingProblem(sim, sd);
  if (problem) return rollBack(sim, svc, sd, problem);
  enter(sim, svc, sd, sd.reconcile ? "RECONCILE_SERVICE" : "PRE_SCALE_UP");
}

/** Forward actions that name a group, on a listener rule or (NLB style) a listener. */
function routeActions(sim: SimulatorCore, arn: string): { kind: "rule" | "listener"; groups: string[]; onlyForward: boolean } | undefined {
  const rule = sim.elb.rules.get(arn);
  const listener = rule ? undefined : sim.elb.listeners.get(arn);
  const actions = rule?.actions ?? listener?.defaultActions;
  if (!actions) return undefined;
  const groups = actions.flatMap((a) => (a.type === "forward" ? [...(a.targetGroupArn ? [a.targetGroupArn] : []), ...(a.forwardConfig?.targetGroups ?? []).map((t) => t.targetGroupArn)] : []));
  return { kind: rule ? "rule" : "listener", groups, onlyForward: actions.every((a) => a.type === "forward") };
}

/**
 * ECS rolls a deployment back when its load balancer resources cannot carry it: the rules must
 * exist, forward only, and between them reach both target groups. The wording of the last one is
 * AWS's (ECS Developer Guide, "Migrating from a CodeDeploy blue/green to an Amazon ECS blue/green
 * service deployment").
 */
function networkingProblem(sim: SimulatorCore, sd: SimServiceDeployment): string | undefined {
  for (const lb of sd.loadBalancers) {
    if (!lb.productionListenerRule) continue;
    const prod = routeActions(sim, lb.productionListenerRule);
    if (!prod) return `Service deployment rolled back because the production listener rule ${lb.productionListenerRule} was not found.`;
    const test = lb.testListenerRule ? routeActions(sim, lb.testListenerRule) : undefined;
    if (lb.testListenerRule && !test) return `Service deployment rolled back because the test listener rule ${lb.testListenerRule} was not found.`;
    if (!prod.onlyForward || (test && !test.onlyForward)) return "Service deployment rolled back because a listener rule mixes forward and non-forward actions, which ECS-managed deployments do not support.";
    const reached = new Set([...prod.groups, ...(test?.groups ?? [])]);
    const groups = [lb.targetGroupArn, ...(lb.alternateTargetGroupArn ? [lb.alternateTargetGroupArn] : [])];
    if (!groups.every((g) => reached.has(g))) {
      return "Service deployment rolled back because of invalid networking configuration. Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule.";
    }
  }
  return undefined;
}

/** The blue target group for load balancer `i`: where the production revision's tasks are. */
function blueGroup(sd: SimServiceDeployment, i: number): string | undefined {
  const green = sd.target.targetGroups[i];
  const lb = sd.loadBalancers[i]!;
  const prod = sd.sources[0]?.targetGroups[i];
  if (prod !== undefined && prod !== green) return prod;
  return [lb.targetGroupArn, lb.alternateTargetGroupArn].find((g) => g !== undefined && g !== green);
}

/**
 * Point rule or listener `arn` at `greenPercent`% green and the rest blue. The weights are whole
 * percents (ALB weights are integers 0–999); requestedProductionTrafficWeight keeps the exact figure.
 */
function setWeights(sim: SimulatorCore, sd: SimServiceDeployment, which: "productionListenerRule" | "testListenerRule", greenPercent: number): void {
  sd.loadBalancers.forEach((lb, i) => {
    const arn = lb[which];
    const green = sd.target.targetGroups[i];
    const blue = blueGroup(sd, i);
    if (!arn || !green) return;
    const route = routeActions(sim, arn);
    if (!route) return;
    const g = Math.round(greenPercent);
    const targetGroups = blue && blue !== green ? [{ targetGroupArn: blue, weight: 100 - g }, { targetGroupArn: green, weight: g }] : [{ targetGroupArn: green, weight: 100 }];
    const current = route.kind === "rule" ? sim.elb.rules.get(arn)!.actions : sim.elb.listeners.get(arn)!.defaultActions;
    const stickiness = current.find((a) => a.type === "forward")?.forwardConfig?.stickiness;
    const actions = [{ type: "forward", forwardConfig: { targetGroups, ...(stickiness ? { stickiness } : {}) } }];
    if (route.kind === "rule") sim.elb.modifyRule(arn, actions);
    else sim.elb.modifyListener(arn, actions);
  });
}

function enter(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, stage: LifecycleStage): void {
  sd.stage = stage;
  sd.gen++;
  sd.updatedAt = sim.now;
  delete sd.waitUntil;
  switch (stage) {
    case "SCALE_UP":
      if (sd.alarms.enable && sd.alarms.names.length && !sd.monitoring) {
        sd.monitoring = true;
        sim.after(ALARM_CHECK_MS, () => monitor(sim, svc, sd));
      }
      break;
    case "TEST_TRAFFIC_SHIFT":
      sd.testWeight = 100;
      setWeights(sim, sd, "testListenerRule", 100);
      break;
    case "PRODUCTION_TRAFFIC_SHIFT": {
      sd.productionWeight = sd.steps[sd.stepIndex]!;
      setWeights(sim, sd, "productionListenerRule", sd.productionWeight);
      const wait = stepBakeMs(sd, sd.stepIndex);
      if (wait > 0) sd.waitUntil = sim.now + wait;
      addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} shifted ${sd.productionWeight}% of production traffic to service revision ${sd.target.id}.`);
      break;
    }
    case "BAKE_TIME": {
      // A first deployment has no previous revision to keep or roll back to: nothing to bake.
      const bake = sd.sources.length ? (num(sd.config["bakeTimeInMinutes"]) ?? 0) * MINUTE : 0;
      if (bake > 0) sd.waitUntil = sim.now + bake;
      break;
    }
    case "CLEAN_UP":
      sd.monitoring = false;
      break;
    default:
      break;
  }
  if (sd.waitUntil !== undefined) {
    const gen = sd.gen;
    sim.at(sd.waitUntil, () => {
      if (sd.gen === gen) sim.markDirty(svc);
    });
  }
  sd.hookRuns = startHooks(sim, svc, sd, stage);
  sim.markDirty(svc);
}

function startHooks(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, stage: LifecycleStage): SimHookRun[] {
  const runs = sd.hooks
    .filter((h) => h.lifecycleStages.includes(stage))
    .map(
      (config): SimHookRun => ({
        hookId: `ecs-${config.targetType === "PAUSE" ? "pause" : "lambda"}-${randomId(sim, 43)}`,
        config,
        stage,
        status: config.targetType === "PAUSE" ? "AWAITING_ACTION" : "IN_PROGRESS",
        startedAt: sim.now,
        expiresAt: sim.now + config.timeoutMs,
        invocations: 0,
      }),
    );
  const gen = sd.gen;
  for (const run of runs) {
    if (run.config.targetType === "AWS_LAMBDA") sim.after(0, () => invoke(sim, svc, sd, run, gen));
    sim.at(run.expiresAt, () => {
      if (sd.gen !== gen || sd.status !== "IN_PROGRESS" || (run.status !== "IN_PROGRESS" && run.status !== "AWAITING_ACTION")) return;
      run.status = "TIMED_OUT";
      sd.updatedAt = sim.now;
      if (run.config.timeoutAction === "ROLLBACK") rollBack(sim, svc, sd, `Service deployment rolled back because the ${hookName(run)} lifecycle hook timed out at ${run.stage}.`);
      else sim.markDirty(svc);
    });
  }
  return runs;
}

function hookName(run: SimHookRun): string {
  return run.config.targetType === "PAUSE" ? "PAUSE" : (run.config.hookTargetArn ?? "AWS_LAMBDA");
}

/** One Lambda invocation: its answer comes from the scenario's hook faults (SUCCEEDED when none matches). */
function invoke(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, run: SimHookRun, gen: number): void {
  if (sd.gen !== gen || sd.status !== "IN_PROGRESS" || run.status !== "IN_PROGRESS") return;
  run.invocations++;
  const arn = run.config.hookTargetArn ?? "";
  const fault = sim.faults.hookFault(arn, run.stage, sim.elapsed());
  const answer = fault && sim.now - run.startedAt < (fault.afterMs ?? 0) ? "IN_PROGRESS" : (fault?.outcome ?? "SUCCEEDED");
  record(sim, { at: sim.now, serviceDeploymentArn: sd.arn, hookTargetArn: arn, stage: run.stage, answer, duringRollback: false });
  if (answer === "IN_PROGRESS") {
    sim.after(fault?.callBackDelayMs ?? DEFAULT_CALLBACK_MS, () => invoke(sim, svc, sd, run, gen));
    return;
  }
  run.status = answer;
  sd.updatedAt = sim.now;
  if (answer === "FAILED") rollBack(sim, svc, sd, `Service deployment rolled back because the lifecycle hook ${arn} returned FAILED at ${run.stage}.`);
  else sim.markDirty(svc);
}

function record(sim: SimulatorCore, i: HookInvocation): void {
  let list = invocations.get(sim);
  if (!list) invocations.set(sim, (list = []));
  list.push(i);
}

function monitor(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  if (!sd.monitoring || sd.status !== "IN_PROGRESS") return;
  if (checkAlarms(sim, svc, sd)) return;
  sim.after(ALARM_CHECK_MS, () => monitor(sim, svc, sd));
}

/** True when an alarm fired and ended the deployment. */
function checkAlarms(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): boolean {
  if (!sd.monitoring) return false;
  const firing = sim.alarms.describe(sd.alarms.names).filter((a) => a.stateValue === "ALARM");
  if (firing.length === 0) return false;
  sd.alarms.triggered = firing.map((a) => a.alarmName);
  const why = `CloudWatch alarm${firing.length > 1 ? "s" : ""} ${sd.alarms.triggered.join(", ")} went into ALARM`;
  if (sd.alarms.rollback) rollBack(sim, svc, sd, `Service deployment rolled back because ${why}.`);
  else stop(sim, svc, sd, `Service deployment failed because ${why}.`);
  return true;
}

/** The scheduler's pass for a service with a deployment in progress. */
export function managedPass(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  const green = sd.target.owner;
  const rollingBack = sd.status === "ROLLBACK_REQUESTED" || sd.status === "ROLLBACK_IN_PROGRESS";
  const stageIndex = ORDER.indexOf(sd.stage);
  const greenUp = !rollingBack && stageIndex >= ORDER.indexOf("SCALE_UP");
  const blueDown = !rollingBack && sd.stage === "CLEAN_UP";
  const production = sd.sources[0]?.owner;
  for (const d of svc.deployments) {
    if (d === green) {
      if (!green.stalled) scaleOwner(sim, svc, d, greenUp ? svc.desiredCount : 0);
    } else scaleOwner(sim, svc, d, d === production && !blueDown ? svc.desiredCount : 0);
  }
  if (rollingBack) {
    if (sd.status === "ROLLBACK_IN_PROGRESS" && green.tasks.size === 0) rolledBack(sim, svc, sd);
    return;
  }
  if (sd.status !== "IN_PROGRESS") return;
  if (sd.breaker.enable && green.breaker.evaluating && green.failedTasks >= sd.breaker.threshold) {
    const why = `the deployment circuit breaker detected ${green.failedTasks} failed tasks (threshold ${sd.breaker.threshold})`;
    if (sd.breaker.rollback) return rollBack(sim, svc, sd, `Service deployment rolled back because ${why}.`);
    return stop(sim, svc, sd, `Service deployment failed because ${why}.`);
  }
  if (checkAlarms(sim, svc, sd)) return;
  if (!stageDone(sim, svc, sd)) return;
  if (sd.hookRuns.some((h) => !(h.status === "SUCCEEDED" || (h.status === "TIMED_OUT" && h.config.timeoutAction === "CONTINUE")))) return;
  advance(sim, svc, sd);
}

const ORDER: readonly LifecycleStage[] = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"];

function stageDone(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): boolean {
  switch (sd.stage) {
    case "RECONCILE_SERVICE":
      return svc.deployments.every((d) => d === sd.target.owner || d === sd.sources[0]?.owner || d.tasks.size === 0);
    case "SCALE_UP": {
      let healthy = 0;
      for (const t of sd.target.owner.tasks) if (isHealthy(t)) healthy++;
      return healthy >= svc.desiredCount;
    }
    case "PRODUCTION_TRAFFIC_SHIFT":
    case "BAKE_TIME":
      return sd.waitUntil === undefined || sim.now >= sd.waitUntil;
    case "CLEAN_UP":
      return svc.deployments.every((d) => d === sd.target.owner || d.tasks.size === 0);
    default:
      return true;
  }
}

function advance(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  switch (sd.stage) {
    case "RECONCILE_SERVICE":
      return enter(sim, svc, sd, "PRE_SCALE_UP");
    case "PRE_SCALE_UP":
      return enter(sim, svc, sd, "SCALE_UP");
    case "SCALE_UP":
      return enter(sim, svc, sd, "POST_SCALE_UP");
    case "POST_SCALE_UP":
      return enter(sim, svc, sd, "TEST_TRAFFIC_SHIFT");
    case "TEST_TRAFFIC_SHIFT":
      return enter(sim, svc, sd, "POST_TEST_TRAFFIC_SHIFT");
    case "POST_TEST_TRAFFIC_SHIFT":
      return enter(sim, svc, sd, "PRE_PRODUCTION_TRAFFIC_SHIFT");
    case "PRE_PRODUCTION_TRAFFIC_SHIFT":
      return enter(sim, svc, sd, "PRODUCTION_TRAFFIC_SHIFT");
    case "PRODUCTION_TRAFFIC_SHIFT":
      if (sd.stepIndex + 1 < sd.steps.length) {
        sd.stepIndex++;
        return enter(sim, svc, sd, "PRE_PRODUCTION_TRAFFIC_SHIFT");
      }
      return enter(sim, svc, sd, "POST_PRODUCTION_TRAFFIC_SHIFT");
    case "POST_PRODUCTION_TRAFFIC_SHIFT":
      return enter(sim, svc, sd, "BAKE_TIME");
    case "BAKE_TIME":
      return enter(sim, svc, sd, "CLEAN_UP");
    case "CLEAN_UP":
      return succeed(sim, svc, sd);
  }
}

function succeed(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  const m = svc.managed!;
  sd.status = "SUCCESSFUL";
  sd.statusReason = "Service deployment completed successfully.";
  sd.finishedAt = sim.now;
  sd.updatedAt = sim.now;
  sd.gen++;
  m.production = sd.target;
  delete m.active;
  const green = sd.target.owner;
  green.rolloutState = "COMPLETED";
  green.rolloutStateReason = `ECS deployment ${green.id} completed.`;
  green.updatedAt = sim.now;
  svc.deployments = [green];
  addEvent(sim, svc, `(service ${svc.name}) (deployment ${green.id}) deployment completed.`);
  addEvent(sim, svc, `(service ${svc.name}) has reached a steady state.`);
  svc.steady = true;
  sim.markDirty(svc);
}

/**
 * Roll back to the production revision: production and test traffic back to it at once, the new
 * revision scaled in; ROLLBACK_SUCCESSFUL once its tasks are gone. Lambda hooks configured at
 * TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT run again (ECS Developer Guide, "Lifecycle hooks
 * for Amazon ECS service deployments"); their answers do not change the rollback (our choice).
 */
export function rollBack(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, reason: string): void {
  if (sd.status !== "IN_PROGRESS" && sd.status !== "PENDING" && sd.status !== "ROLLBACK_REQUESTED") return;
  const m = svc.managed!;
  sd.gen++;
  sd.monitoring = false;
  sd.updatedAt = sim.now;
  const production = sd.sources[0];
  const green = sd.target.owner;
  green.rolloutState = "FAILED";
  green.rolloutStateReason = reason;
  green.updatedAt = sim.now;
  if (!production) {
    sd.status = "ROLLBACK_FAILED";
    sd.statusReason = `${reason} There is no previous service revision to roll back to.`;
    sd.finishedAt = sim.now;
    green.stalled = true;
    delete m.active;
    addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} failed: ${reason}`);
    sim.markDirty(svc);
    return;
  }
  sd.status = "ROLLBACK_IN_PROGRESS";
  sd.statusReason = reason;
  sd.rollback = { reason, startedAt: sim.now, serviceRevisionArn: production.arn };
  if (sd.productionWeight > 0) setWeights(sim, sd, "productionListenerRule", 0);
  if (sd.testWeight > 0) setWeights(sim, sd, "testListenerRule", 0);
  sd.productionWeight = 0;
  sd.testWeight = 0;
  for (const h of sd.hooks) {
    if (h.targetType !== "AWS_LAMBDA") continue;
    for (const stage of ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] as const) {
      if (h.lifecycleStages.includes(stage)) record(sim, { at: sim.now, serviceDeploymentArn: sd.arn, hookTargetArn: h.hookTargetArn ?? "", stage, answer: "SUCCEEDED", duringRollback: true });
    }
  }
  green.status = "ACTIVE";
  production.owner.status = "PRIMARY";
  production.owner.stalled = false;
  svc.taskDef = production.taskDef;
  svc.steady = false;
  addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} failed: ${reason}`);
  addEvent(sim, svc, `(service ${svc.name}) rolling back to service revision ${production.id}.`);
  sim.markDirty(svc);
}

function rolledBack(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  const m = svc.managed!;
  sd.status = "ROLLBACK_SUCCESSFUL";
  sd.finishedAt = sim.now;
  sd.updatedAt = sim.now;
  delete m.active;
  const production = sd.sources[0]!;
  svc.deployments = svc.deployments.filter((d) => d === production.owner || d.tasks.size > 0);
  addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} rolled back to service revision ${production.id}.`);
  sim.markDirty(svc);
}

/** Failure detected with rollback off: the deployment stops where it is (our reading of ServiceDeployment.stoppedAt). */
function stop(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, reason: string): void {
  const m = svc.managed!;
  sd.status = "STOPPED";
  sd.statusReason = reason;
  sd.stoppedAt = sim.now;
  sd.updatedAt = sim.now;
  sd.gen++;
  sd.monitoring = false;
  const green = sd.target.owner;
  green.rolloutState = "FAILED";
  green.rolloutStateReason = reason;
  green.stalled = true;
  delete m.active;
  addEvent(sim, svc, `(service ${svc.name}) service deployment ${sd.id} failed: ${reason}`);
  sim.markDirty(svc);
}

/** StopServiceDeployment with ROLLBACK: ROLLBACK_REQUESTED now, the rollback itself at the next instant. */
export function requestRollback(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment): void {
  if (sd.status === "ROLLBACK_REQUESTED" || sd.status === "ROLLBACK_IN_PROGRESS" || sd.status === "STOP_REQUESTED") return;
  sd.status = "ROLLBACK_REQUESTED";
  sd.statusReason = "Service deployment rollback requested.";
  sd.updatedAt = sim.now;
  sd.gen++;
  sim.after(START_DELAY_MS, () => rollBack(sim, svc, sd, "Service deployment stopped and rolled back by StopServiceDeployment."));
}

/** ContinueServiceDeployment on a PAUSE hook that is AWAITING_ACTION. */
export function continueHook(sim: SimulatorCore, svc: SimService, sd: SimServiceDeployment, run: SimHookRun, action: "CONTINUE" | "ROLLBACK"): void {
  run.status = action === "CONTINUE" ? "SUCCEEDED" : "FAILED";
  sd.updatedAt = sim.now;
  if (action === "ROLLBACK") rollBack(sim, svc, sd, `Service deployment rolled back by ContinueServiceDeployment at ${run.stage}.`);
  else sim.markDirty(svc);
}
