/**
 * Building blocks for calling the deployment machines directly: specs, ECS/ELB answers as the ports
 * give them, and a driver that feeds a machine inputs at chosen instants (the simulated clock is
 * just the `now` each transition receives).
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { depdefSchema } from "../../src/config/depdef.ts";
import type { Alarm, Deployment, Service, TaskDefinition, TaskSet } from "../../src/aws/ports.ts";
import type { Effect, Input, Machine, Step } from "../../src/deploy/machine.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import type { Route } from "../../src/deploy/traffic/route.ts";
import type { Reason } from "../../src/deploy/registry.ts";
import type { Phase, TaskCounts } from "../../src/store/types.ts";

/** The instant every scenario starts at (ms). */
export const T0 = 1_700_000_000_000;
export const s = (seconds: number) => seconds * 1000;

export const OLD_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
export const NEW_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";
export const BLUE_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1111";
export const GREEN_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2222";
export const LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/public/abc/443";
export const RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/public/abc/443/10";

export function depdef(over: Record<string, unknown> = {}) {
  return depdefSchema.parse({ stabilityCheck: { pollInterval: 10, timeout: 300 }, ...over });
}

/** A rolling object: 4 tasks, a taskdef, the depdef given (poll 10 s, timeout 300 s by default). */
export function rollingSpec(over: { depdef?: Record<string, unknown>; svcdef?: Record<string, unknown>; taskdef?: Record<string, unknown> | null } = {}): DeploySpec {
  return {
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: { cluster: "apps", serviceName: "web", desiredCount: 4, launchType: "FARGATE", ...over.svcdef },
    ...(over.taskdef === null ? {} : { taskdef: over.taskdef ?? { family: "web", containerDefinitions: [{ name: "app", image: "web:2", essential: true }] } }),
    depdef: depdef(over.depdef),
  };
}

/** A blue/green object on the web-blue/web-green pair, CANARY 20% with a 60 s wait, alarm web-5xx. */
export function bgSpec(over: { depdef?: Record<string, unknown>; svcdef?: Record<string, unknown> } = {}): DeploySpec {
  return {
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: {
      cluster: "apps",
      serviceName: "web",
      desiredCount: 4,
      deploymentController: { type: "EXTERNAL" },
      launchType: "FARGATE",
      loadBalancers: [{ targetGroupArn: BLUE_TG, containerName: "app", containerPort: 8080 }],
      ...over.svcdef,
    },
    taskdef: { family: "web", containerDefinitions: [{ name: "app", image: "web:2", essential: true }] },
    depdef: depdef({
      trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 60 },
      targetGroupArnPairs: [[BLUE_TG, GREEN_TG]],
      alarms: { alarmNames: ["web-5xx"] },
      ...over.depdef,
    }),
  };
}

export function ecsDeployment(over: Partial<Deployment> = {}): Deployment {
  return { id: "ecs-svc/new", status: "PRIMARY", taskDefinition: NEW_TD, desiredCount: 4, pendingCount: 0, runningCount: 0, failedTasks: 0, rolloutState: "IN_PROGRESS", createdAt: T0, updatedAt: T0, ...over };
}

export function service(over: Partial<Service> = {}): Service {
  return {
    serviceName: "web",
    serviceArn: "arn:aws:ecs:us-east-1:123456789012:service/apps/web",
    clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/apps",
    status: "ACTIVE",
    taskDefinition: OLD_TD,
    desiredCount: 4,
    pendingCount: 0,
    runningCount: 4,
    launchType: "FARGATE",
    deploymentController: { type: "ECS" },
    deploymentConfiguration: {},
    deployments: [ecsDeployment({ id: "ecs-svc/old", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })],
    taskSets: [],
    loadBalancers: [],
    events: [],
    createdAt: T0 - s(3600),
    ...over,
  };
}

export function taskDefinition(arn = NEW_TD, definition?: Record<string, unknown>): TaskDefinition {
  return { taskDefinitionArn: arn, family: "web", revision: Number(arn.split(":").at(-1)), status: "ACTIVE", containerDefinitions: [{ name: "app", image: "web:2" }], ...(definition ? { definition } : {}) };
}

export function taskSet(over: Partial<TaskSet> = {}): TaskSet {
  return {
    id: "ecs-svc/green",
    taskSetArn: "arn:aws:ecs:us-east-1:123456789012:task-set/apps/web/ecs-svc/green",
    serviceArn: "arn:aws:ecs:us-east-1:123456789012:service/apps/web",
    clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/apps",
    status: "ACTIVE",
    taskDefinition: NEW_TD,
    computedDesiredCount: 4,
    pendingCount: 0,
    runningCount: 0,
    scale: { value: 100, unit: "PERCENT" },
    stabilityStatus: "STABILIZING",
    loadBalancers: [{ targetGroupArn: GREEN_TG, containerName: "app", containerPort: 8080 }],
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export const blueSet = (over: Partial<TaskSet> = {}) =>
  taskSet({ id: "ecs-svc/blue", status: "PRIMARY", taskDefinition: OLD_TD, runningCount: 4, stabilityStatus: "STEADY_STATE", loadBalancers: [{ targetGroupArn: BLUE_TG, containerName: "app", containerPort: 8080 }], createdAt: T0 - s(3600), ...over });

export function alarm(name: string, state: Alarm["stateValue"] = "OK", reason = "Threshold Crossed"): Alarm {
  return { alarmName: name, alarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`, type: "metric", stateValue: state, stateReason: reason, stateUpdatedAt: T0, actionsEnabled: true };
}

/** The listener with `green`% on web-green, and the path rule with a plain forward to blue unless given weights. */
export function routes(green = 0, ruleGreen?: number): Route[] {
  const weights = (g: number) => ({ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: BLUE_TG, weight: 100 - g }, { targetGroupArn: GREEN_TG, weight: g }] } });
  return [
    { kind: "listener", arn: LISTENER, actions: [weights(green)] },
    { kind: "rule", arn: RULE, actions: [ruleGreen === undefined ? { type: "forward", targetGroupArn: BLUE_TG } : weights(ruleGreen)] },
  ];
}

/** Inputs, briefly. */
export const I = {
  start: { type: "start" } as Input,
  resume: { type: "resume" } as Input,
  slept: { type: "slept" } as Input,
  done: { type: "done" } as Input,
  service: (svc: Service | undefined, failures?: { count: number; lastReason?: string }): Input => ({ type: "service", service: svc, ...(failures ? { failures } : {}) }),
  taskDefinition: (td = taskDefinition()): Input => ({ type: "taskDefinition", taskDefinition: td }),
  error: (name: string, message = "it failed", retryable = false): Input => ({ type: "error", error: { name, message, retryable } }),
  alarms: (...alarms: Alarm[]): Input => ({ type: "alarms", alarms }),
  taskSets: (...taskSets: TaskSet[]): Input => ({ type: "taskSets", taskSets }),
  taskSet: (ts: TaskSet): Input => ({ type: "taskSet", taskSet: ts }),
  routes: (r: Route[], healthCheckIntervals?: number[]): Input => ({ type: "routes", routes: r, ...(healthCheckIntervals ? { healthCheckIntervals } : {}) }),
  targetGroups: (...intervals: (number | undefined)[]): Input => ({ type: "targetGroups", targetGroups: intervals.map((i, n) => ({ targetGroupArn: `tg${n}`, targetGroupName: `tg${n}`, loadBalancerArns: [], ...(i !== undefined ? { healthCheckIntervalSeconds: i } : {}) })) }),
  observed: (o: { alarms?: Alarm[]; routes?: Route[]; taskSets: TaskSet[]; failures?: { count: number; lastReason?: string } }): Input => ({ type: "observed", alarms: o.alarms ?? [], ...(o.routes ? { routes: o.routes } : {}), taskSets: o.taskSets, ...(o.failures ? { failures: o.failures } : {}) }),
  control: (action: "abort" | "promote" | "pause" | "resume", by = "alice"): Input => ({ type: "control", action, by }),
};

/** Feed `input` at `now` and check the step keeps the machine contract (a terminal phase only without an effect). */
export function next<S>(machine: Machine<S>, state: S, input: Input, now: number): Step<S> {
  const step = machine.next(state, input, now);
  const terminal = ["Succeeded", "Failed", "RolledBack", "Aborted"].includes(step.record.phase ?? "");
  if (terminal && step.effect) throw new Error(`contract: terminal phase ${step.record.phase} with an effect ${step.effect.type}`);
  if (!step.effect && !terminal && JSON.stringify(step.state) !== JSON.stringify(state)) throw new Error("contract: no effect and no end phase, but the state changed");
  // Persisted state must survive JSON (a restart reads it back).
  if (JSON.stringify(JSON.parse(JSON.stringify(step.state))) !== JSON.stringify(step.state)) throw new Error("contract: the state is not JSON");
  return step;
}

/** A machine run: feed inputs in order, each at its instant; the steps taken, and the last one. */
export function drive<S>(machine: Machine<S>, state: S, script: readonly (readonly [Input, number])[]): { steps: Step<S>[]; last: Step<S> } {
  const steps: Step<S>[] = [];
  let current = state;
  for (const [input, now] of script) {
    const step = next(machine, current, input, now);
    steps.push(step);
    current = step.state;
  }
  return { steps, last: steps.at(-1)! };
}

/** Every event type a step records. */
export const eventTypes = (step: Step<unknown>) => (step.record.events ?? []).map((e) => e.type);

export function effectOf<T extends Effect["type"]>(step: Step<unknown>, type: T): Extract<Effect, { type: T }> {
  if (step.effect?.type !== type) throw new Error(`expected effect ${type}, got ${step.effect?.type ?? "none"} (phase ${step.record.phase ?? "-"}: ${step.record.reason ?? ""} ${step.record.message ?? ""})`);
  return step.effect as Extract<Effect, { type: T }>;
}

/**
 * What a transition must produce. Unset fields are not checked; `null` means "absent" (no effect,
 * no phase written, no reason written).
 */
export interface Expect<S> {
  /** The machine's step afterwards. */
  step?: string;
  effect?: Effect["type"] | null;
  /** Fields the effect must have (compared deeply, other fields ignored). */
  effectHas?: Record<string, unknown>;
  phase?: Phase | null;
  reason?: Reason | null;
  message?: RegExp;
  /** Exactly the event types the step records, in order. */
  events?: string[];
  /** Fields the new state must have (compared deeply). */
  state?: Record<string, unknown>;
  counts?: Partial<TaskCounts>;
  trafficWeight?: number | null;
  /** Anything else. */
  then?: (step: Step<S>) => void;
}

/** One row of a transition table: the state (built by driving the machine there), the input, the instant. */
export interface Row<S> {
  name: string;
  from: () => S;
  input: Input;
  now?: number;
  expect: Expect<S>;
}

function has(actual: unknown, expected: Record<string, unknown>, what: string) {
  const a = (actual ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(a[k], v, `${what}.${k}`);
}

export function expectStep<S extends { step: string }>(step: Step<S>, e: Expect<S>): void {
  const where = `(phase ${step.record.phase ?? "-"}, reason ${step.record.reason ?? "-"}: ${step.record.message ?? ""})`;
  if (e.step !== undefined) assert.equal(step.state.step, e.step, `step ${where}`);
  if (e.effect !== undefined) assert.equal(step.effect?.type ?? null, e.effect, `effect ${where}`);
  if (e.effectHas) has(step.effect, e.effectHas, "effect");
  if (e.phase !== undefined) assert.equal(step.record.phase ?? null, e.phase, `phase ${where}`);
  if (e.reason !== undefined) assert.equal(step.record.reason ?? null, e.reason, `reason ${where}`);
  if (e.message) assert.match(step.record.message ?? "", e.message);
  if (e.events) assert.deepEqual(eventTypes(step), e.events, `events ${where}`);
  if (e.state) has(step.state, e.state, "state");
  if (e.counts) has(step.record.counts, e.counts, "counts");
  if (e.trafficWeight !== undefined) assert.equal(step.record.trafficWeight ?? null, e.trafficWeight, "trafficWeight");
  e.then?.(step);
}

/**
 * One test per row. `from` records each row's starting step in `visited`, so a file can check at its
 * end that every step of its machine has rows (`everyStepVisited`).
 */
export function table<S extends { step: string }>(machine: Machine<S>, rows: readonly Row<S>[], visited: Set<string>): void {
  for (const row of rows) {
    it(row.name, () => {
      const state = row.from();
      visited.add(state.step);
      expectStep(next(machine, state, row.input, row.now ?? T0), row.expect);
    });
  }
}

/** Registers a last test: every step in `all` was the starting step of some row. */
export function everyStepVisited(all: readonly string[], visited: Set<string>): void {
  it("every step of the machine is the starting point of some row", () => {
    assert.deepEqual(all.filter((st) => !visited.has(st)), []);
  });
}
