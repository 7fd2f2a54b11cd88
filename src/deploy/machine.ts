/**
 * The contract between a deployment state machine and the runner that drives it.
 *
 * A machine is pure: `next(state, input, now)` returns the new state, at most one effect (an AWS
 * call or a wait) for the runner to perform, and what to record. The runner performs the effect and
 * feeds its outcome back as the next input. Everything a machine needs to resume after a crash is
 * in its (JSON-serialisable) state, which the runner persists before and after every mutation.
 */
import type { NewEvent, Phase, TaskCounts } from "../store/types.ts";
import type { Alarm, CreateRuleInput, CreateTargetGroupInput, CreateTaskSetInput, Rule, Service, ServiceDeployment, TargetGroup, TargetHealth, TaskDefinition, TaskSet } from "../aws/ports.ts";
import type { RainbowConfig } from "../config/rainbow.ts";
import type { RainbowWorld } from "./rainbow/world.ts";
import type { Route, RouteRef } from "./traffic/route.ts";
import type { Reason } from "./registry.ts";

export type { Route, RouteRef } from "./traffic/route.ts";

/** Calls a machine asks for. Mutations are marked so the runner persists intent before them. */
export type Effect =
  | { type: "registerTaskDefinition"; request: Record<string, unknown> }
  | { type: "describeTaskDefinition"; taskDefinition: string }
  /**
   * `stoppedSince`: also count tasks of `taskDefinition` started at or after `since` that stopped
   * by failing (DESIGN §2: new tasks that stop before becoming stable count as failures).
   */
  | { type: "describeService"; cluster: string; service: string; failuresOf?: { taskDefinition: string; since: number } }
  | { type: "createService"; request: Record<string, unknown> }
  | { type: "updateService"; request: Record<string, unknown> }
  | { type: "deleteService"; cluster: string; service: string; force: boolean }
  /**
   * Wait `ms`. With `grid` (a poll interval, ms), a wait between two status reads: the runner ends
   * it on a multiple of `grid`, so deployments polling on one interval read in the same round of
   * the shared sweep (sweep.ts) — never earlier than `ms` when `ms` is below `grid`.
   */
  | { type: "sleep"; ms: number; grid?: number }
  | { type: "describeAlarms"; alarmNames: string[] }
  /** Every route (ALB: listener or rule) whose actions forward to one of these target groups: the traffic router's `discover`. */
  | { type: "discoverRoutes"; targetGroupArns: string[] }
  /** The target groups' health-check settings (how long a new task must be watched). */
  | { type: "describeTargetGroups"; targetGroupArns: string[] }
  | { type: "describeTaskSets"; cluster: string; service: string }
  | { type: "createTaskSet"; input: CreateTaskSetInput }
  | { type: "deleteTaskSet"; cluster: string; service: string; taskSet: string }
  | { type: "updateServicePrimaryTaskSet"; cluster: string; service: string; taskSet: string }
  /**
   * Replace the actions of each route (idempotent: repeating it sets the same weights), then read
   * them back: the traffic router's `apply`. A read-back that differs answers an error named
   * `TrafficNotVerified`.
   */
  | { type: "setRoutes"; routes: Route[] }
  /**
   * One watch round during a wait: alarms, the task sets, failed green tasks — and, when `routes` is
   * given, the routes' current actions (read around each shift, not on every round).
   */
  | { type: "observeBlueGreen"; cluster: string; service: string; alarmNames: string[]; routes?: RouteRef[]; failuresOf?: { taskSet: string; taskDefinition: string; since: number } }
  /** The routes' actions now, as the traffic router reads them (a route that does not exist is left out): answers `routes`. */
  | { type: "readRoutes"; routes: RouteRef[] }
  /** ECS-managed: the newest service deployment, created at or after `createdAfter`, whose target revision runs `taskDefinition`. */
  | { type: "findServiceDeployment"; cluster: string; service: string; taskDefinition: string; createdAfter: number }
  /**
   * ECS-managed: one look at a service deployment, the depdef's alarms, the production routes'
   * weights, and (with `failuresOf`) the new revision's tasks that stopped by failing.
   */
  | { type: "observeServiceDeployment"; cluster: string; service: string; serviceDeploymentArn: string; alarmNames: string[]; routes: RouteRef[]; failuresOf?: { taskDefinition: string; since: number } }
  /** StopServiceDeployment with rollback. */
  | { type: "stopServiceDeployment"; serviceDeploymentArn: string }
  /** ContinueServiceDeployment for a PAUSE lifecycle hook waiting for action. */
  | { type: "continueServiceDeployment"; serviceDeploymentArn: string; hookId: string; action: "CONTINUE" | "ROLLBACK" }
  /** Rainbow: the listeners, their rules and live routes, and the versions on them (deploy/rainbow/discover.ts). */
  | { type: "discoverRainbow"; cluster: string; service: string; rainbow: RainbowConfig; versions: string[] }
  | { type: "createTargetGroup"; input: CreateTargetGroupInput }
  | { type: "createRule"; input: CreateRuleInput }
  | { type: "deleteRule"; ruleArn: string }
  | { type: "deleteTargetGroup"; targetGroupArn: string }
  /** Rainbow: one version's service, its target group's health, and (with failuresOf) its failed new tasks. */
  | { type: "observeVersion"; cluster: string; service: string; targetGroupArn?: string; failuresOf?: { taskDefinition: string; since: number } }
  | { type: "describeServices"; cluster: string; services: string[] };

export const MUTATIONS: ReadonlySet<Effect["type"]> = new Set([
  "registerTaskDefinition",
  "createService",
  "updateService",
  "deleteService",
  "createTaskSet",
  "deleteTaskSet",
  "updateServicePrimaryTaskSet",
  "setRoutes",
  "stopServiceDeployment",
  "continueServiceDeployment",
  "createTargetGroup",
  "createRule",
  "deleteRule",
  "deleteTargetGroup",
]);

/** What the runner hands back. */
export type Input =
  | { type: "start" }
  /** The process restarted while `state.inFlight` was being performed: it may or may not have happened. */
  | { type: "resume" }
  | { type: "taskDefinition"; taskDefinition: TaskDefinition }
  /** `service` is undefined when DescribeServices reports it MISSING. */
  | { type: "service"; service: Service | undefined; failures?: TaskFailures }
  | { type: "slept" }
  | { type: "alarms"; alarms: Alarm[] }
  /** `healthCheckIntervals`: the target groups' health-check intervals, in seconds. */
  | { type: "routes"; routes: Route[]; healthCheckIntervals?: number[] }
  | { type: "targetGroups"; targetGroups: TargetGroup[] }
  | { type: "taskSets"; taskSets: TaskSet[] }
  | { type: "taskSet"; taskSet: TaskSet }
  /** A mutation with nothing to read back (setRoutes, deleteTaskSet). */
  | { type: "done" }
  /** `routes` is absent when the round did not read them. */
  | { type: "observed"; alarms: Alarm[]; routes?: Route[]; taskSets: TaskSet[]; failures?: TaskFailures }
  /** `arn` is undefined when no such service deployment was found. */
  | { type: "serviceDeploymentFound"; arn?: string }
  /** `deployment` is undefined when DescribeServiceDeployments does not know it. */
  | { type: "serviceDeployment"; deployment?: ServiceDeployment; alarms: Alarm[]; routes: Route[]; failures?: TaskFailures }
  | { type: "rainbow"; world: RainbowWorld }
  | { type: "rule"; rule: Rule }
  | { type: "versionObserved"; service: Service | undefined; targets: TargetHealth[]; failures?: TaskFailures }
  /** Services that exist (DescribeServices' MISSING ones are left out). */
  | { type: "services"; services: Service[] }
  /** `operation`: the AWS call that failed (an effect may make several), for the messages. */
  | { type: "error"; error: { name: string; message: string; retryable: boolean; operation?: string } }
  | { type: "control"; action: "abort" | "promote" | "pause" | "resume"; by: string };

/** New tasks that stopped by failing, with the last reason seen. */
export interface TaskFailures {
  count: number;
  lastReason?: string;
  /** When the last of them stopped. */
  lastStoppedAt?: number;
}

/** What to write to the deployment record on this step. */
export interface Record_ {
  phase?: Phase;
  reason?: Reason | null;
  message?: string | null;
  counts?: Partial<TaskCounts>;
  oldTaskDefinitionArn?: string | null;
  newTaskDefinitionArn?: string | null;
  trafficWeight?: number | null;
  events?: NewEvent[];
}

/** Phases a deployment ends in. */
export type EndPhase = Extract<Phase, "Succeeded" | "Failed" | "RolledBack" | "Aborted">;

/** Phases a deployment is in while it still has work to do. */
export type ActivePhase = Exclude<Phase, EndPhase>;

/**
 * What a step that hands the runner an effect may record: never a terminal phase. A terminal phase
 * is written only with the step that has no effect left, after the last effect's outcome is
 * recorded (the store refuses any change to a finished deployment).
 */
export type ActiveRecord = Omit<Record_, "phase"> & { phase?: ActivePhase };

export interface Step<S> {
  state: S;
  /** Undefined exactly when the deployment has reached a terminal phase. */
  effect?: Effect;
  record: Record_;
}

export interface Machine<S> {
  next(state: S, input: Input, now: number): Step<S>;
}

