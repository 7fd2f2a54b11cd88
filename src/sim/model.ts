/** The simulator's internal state. Ports copy out of these; nothing outside src/sim sees them. */
import type { Action, DeploymentConfiguration, LoadBalancerRef, RolloutState, ServiceEvent, TargetHealthState, TaskStatus } from "../aws/ports.ts";
import type { ImageBehaviour } from "./faults.ts";
import type { ManagedService } from "./managed-model.ts";

/** Durations of the steps ECS, Fargate and ELB take, in ms. SPEC.md §Timing. */
export interface Timing {
  /** PROVISIONING → PENDING (capacity and ENI attachment). */
  provisioningMs: number;
  /** PENDING → RUNNING (image pull and container start). */
  pullMs: number;
  /** STOPPING → DEPROVISIONING → STOPPED once containers are signalled. */
  stopMs: number;
  /** How long STOPPED tasks stay describable. */
  stoppedRetentionMs: number;
}

export const DEFAULT_TIMING: Timing = {
  provisioningMs: 5_000,
  pullMs: 10_000,
  stopMs: 5_000,
  stoppedRetentionMs: 3_600_000,
};

export interface SimContainerDef {
  name: string;
  image: string;
  essential: boolean;
  containerPort?: number;
  healthCheck?: { intervalMs: number; retries: number; startPeriodMs: number };
}

export interface SimTaskDef {
  arn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE";
  containers: SimContainerDef[];
  registeredAt: number;
  /** The RegisterTaskDefinition request as given (a copy), for DescribeTaskDefinition's full record. */
  request: Record<string, unknown>;
}

export interface SimTarget {
  tgArn: string;
  task: SimTask;
  id: string;
  port: number;
  state: TargetHealthState;
  reason?: string;
  description?: string;
}

/** Circuit-breaker bookkeeping of one deployment. */
export interface BreakerState {
  /** Stage 1 until a task reaches RUNNING, then stage 2 (health checks). */
  stage: 1 | 2;
  /** False once a task ran and passed its health checks: ECS then stops counting failures. */
  evaluating: boolean;
}

export interface SimDeployment {
  kind: "deployment";
  id: string;
  status: "PRIMARY" | "ACTIVE";
  taskDef: SimTaskDef;
  rolloutState: RolloutState;
  rolloutStateReason: string;
  failedTasks: number;
  breaker: BreakerState;
  /** FAILED with nothing to roll back to: ECS launches no more tasks for it. */
  stalled: boolean;
  loadBalancers: LoadBalancerRef[];
  createdAt: number;
  updatedAt: number;
  tasks: Set<SimTask>;
}

export interface SimTaskSet {
  kind: "taskSet";
  id: string;
  arn: string;
  status: "PRIMARY" | "ACTIVE" | "DRAINING";
  taskDef: SimTaskDef;
  externalId?: string;
  /** CreateTaskSet's launchType, capacityProviderStrategy, platformVersion, networkConfiguration, serviceRegistries: reported only (views.ts). */
  settings: Record<string, unknown>;
  scalePercent: number;
  loadBalancers: LoadBalancerRef[];
  stabilityStatus: "STEADY_STATE" | "STABILIZING";
  stabilityStatusAt: number;
  createdAt: number;
  updatedAt: number;
  tasks: Set<SimTask>;
}

export type TaskOwner = SimDeployment | SimTaskSet;

export interface SimTask {
  id: string;
  arn: string;
  service: SimService;
  owner: TaskOwner;
  taskDef: SimTaskDef;
  lastStatus: TaskStatus;
  desiredStatus: "RUNNING" | "STOPPED";
  /** Container health-check verdict (UNKNOWN when the task definition has none, or not yet). */
  containerHealth: "HEALTHY" | "UNHEALTHY" | "UNKNOWN";
  targets: SimTarget[];
  ip: string;
  createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  containerReason?: string;
  /** The scheduler, not a fault, stopped it: not a failure. */
  stoppedByScheduler: boolean;
  /** Has counted as a success for the circuit breaker. */
  succeeded: boolean;
  /** Bumped whenever a scheduled lifecycle step becomes obsolete (e.g. the task was stopped). */
  gen: number;
  /** What its image does (faults.ts), decided at launch. */
  behaviour: Readonly<ImageBehaviour>;
}

export interface SimService {
  name: string;
  arn: string;
  cluster: SimCluster;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  controller: "ECS" | "EXTERNAL";
  desiredCount: number;
  taskDef?: SimTaskDef;
  deploymentConfiguration: Required<Pick<DeploymentConfiguration, "minimumHealthyPercent" | "maximumPercent">> & {
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
  };
  loadBalancers: LoadBalancerRef[];
  healthCheckGracePeriodMs: number;
  launchType?: string;
  /** Fields that make UpdateService start a new deployment when they change. */
  deploymentShape: string;
  /**
   * The CreateService fields DescribeServices reports that the simulator does not model itself
   * (tags, networkConfiguration, placement, propagateTags, ...), as last given by CreateService or
   * UpdateService. Only for the full record (views.ts `serviceDefinition`).
   */
  request: Record<string, unknown>;
  deployments: SimDeployment[];
  taskSets: SimTaskSet[];
  /** Newest first, at most 100; each frozen, so views share them. */
  events: Readonly<ServiceEvent>[];
  createdAt: number;
  /** Reported "has reached a steady state" since the last change. */
  steady: boolean;
  passQueued: boolean;
  /** Its tasks as the cluster lists them (STOPPED ones too, until forgotten), for ListTasks by service. */
  tasks: Set<SimTask>;
  /** Service revisions and service deployments of an ECS-managed blue/green, linear or canary service (managed.ts). */
  managed?: ManagedService;
}

export interface SimCluster {
  name: string;
  arn: string;
  services: Map<string, SimService>;
  /** Every task, including STOPPED ones until they are forgotten. */
  tasks: Map<string, SimTask>;
  /** The same tasks by `startedBy` (their deployment's or task set's id), for ListTasks by it. */
  startedBy: Map<string, Set<SimTask>>;
  /** CreateCluster's tags, settings and configuration, reported as given. */
  request?: Record<string, unknown>;
}

export interface SimTargetGroup {
  arn: string;
  name: string;
  port: number;
  protocol: string;
  targetType: string;
  intervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  path: string;
  deregistrationDelayMs: number;
  targets: Set<SimTarget>;
  /** CreateTargetGroup's other members and ModifyTargetGroupAttributes' values, reported as given (records.ts). */
  request?: Record<string, unknown>;
  attributes?: Record<string, string>;
}

export interface SimListener {
  arn: string;
  lbArn: string;
  port: number;
  protocol: string;
  defaultActions: Action[];
  rules: SimRule[];
  /** CreateListener's other members (certificates, SSL policy, ...), reported as given. */
  request?: Record<string, unknown>;
}

export interface SimRule {
  arn: string;
  listenerArn: string;
  priority: string;
  conditions: Record<string, unknown>[];
  actions: Action[];
  /** CreateRule's tags, as given. */
  tags?: Record<string, unknown>[];
}

export interface SimLoadBalancer {
  arn: string;
  name: string;
  listeners: SimListener[];
  /** CreateLoadBalancer's request (scheme, subnets, security groups, tags, ...), reported as given. */
  request?: Record<string, unknown>;
  createdAt?: number;
}

export const ACTIVE_STATUSES: ReadonlySet<TaskStatus> = new Set(["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"]);
