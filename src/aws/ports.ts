/**
 * The narrow AWS interfaces the deployment engine uses, with our own types holding only what the
 * engine reads. Two implementations: `src/aws/sdk/` (AWS SDK v3) and `src/sim/` (the simulator).
 * Both throw `AwsError` (src/aws/errors.ts) with AWS's error names.
 *
 * Request bodies for CreateService, UpdateService and RegisterTaskDefinition are the user's
 * rendered JSON (native ECS request shapes), so they are typed as records and passed through.
 * Times are epoch milliseconds.
 */

// ---------- ECS ----------

export type ServiceStatus = "ACTIVE" | "DRAINING" | "INACTIVE";
export type DeploymentStatus = "PRIMARY" | "ACTIVE" | "INACTIVE";
export type RolloutState = "IN_PROGRESS" | "COMPLETED" | "FAILED";
export type DeploymentControllerType = "ECS" | "EXTERNAL" | "CODE_DEPLOY";

/**
 * What an ECS-managed blue/green, linear or canary deployment needs per load balancer: the
 * alternate target group the new revision is registered with, the listener rule (or, for NLB,
 * listener) whose weights ECS moves, an optional test rule, and the role ECS uses for ELB.
 */
export interface AdvancedConfiguration {
  alternateTargetGroupArn?: string;
  productionListenerRule?: string;
  testListenerRule?: string;
  roleArn?: string;
}

export interface LoadBalancerRef {
  targetGroupArn?: string;
  loadBalancerName?: string;
  containerName?: string;
  containerPort?: number;
  advancedConfiguration?: AdvancedConfiguration;
}

/** ROLLING (ECS's rolling update, also when absent), or ECS-managed BLUE_GREEN, LINEAR, CANARY. */
export type DeploymentStrategy = "ROLLING" | "BLUE_GREEN" | "LINEAR" | "CANARY";

export interface DeploymentConfiguration {
  minimumHealthyPercent?: number;
  maximumPercent?: number;
  deploymentCircuitBreaker?: { enable: boolean; rollback: boolean };
  alarms?: { alarmNames: string[]; enable: boolean; rollback: boolean };
  strategy?: string;
  bakeTimeInMinutes?: number;
}

export interface Deployment {
  id: string;
  status: DeploymentStatus;
  taskDefinition: string;
  /** Absent when AWS's answer omitted it: unknown, never read as 0 (as with task sets). */
  desiredCount?: number;
  pendingCount?: number;
  runningCount?: number;
  failedTasks?: number;
  rolloutState?: RolloutState;
  rolloutStateReason?: string;
  createdAt: number;
  updatedAt: number;
}

export interface TaskSet {
  id: string;
  taskSetArn: string;
  serviceArn: string;
  clusterArn: string;
  /** PRIMARY, ACTIVE or DRAINING. */
  status: string;
  taskDefinition: string;
  externalId?: string;
  /** Absent when AWS's answer omitted it: unknown, never read as 0. */
  computedDesiredCount?: number;
  pendingCount?: number;
  runningCount?: number;
  scale: { value: number; unit: "PERCENT" };
  stabilityStatus: "STEADY_STATE" | "STABILIZING";
  stabilityStatusAt?: number;
  loadBalancers: LoadBalancerRef[];
  createdAt: number;
  updatedAt: number;
}

export interface ServiceEvent {
  id: string;
  createdAt: number;
  message: string;
}

export interface Service {
  serviceName: string;
  serviceArn: string;
  clusterArn: string;
  status: ServiceStatus;
  taskDefinition?: string;
  desiredCount: number;
  pendingCount: number;
  runningCount: number;
  launchType?: string;
  deploymentController: { type: DeploymentControllerType };
  deploymentConfiguration: DeploymentConfiguration;
  deployments: Deployment[];
  taskSets: TaskSet[];
  loadBalancers: LoadBalancerRef[];
  healthCheckGracePeriodSeconds?: number;
  /** Newest first, as ECS returns them. */
  events: ServiceEvent[];
  createdAt: number;
  /** The ARN of the service's newest service deployment (what CreateService/UpdateService just started). */
  currentServiceDeployment?: string;
  /**
   * The whole service as DescribeServices returns it (one element of `services`), JSON-safe (Dates
   * as ISO strings), including `tags` (described with `include: ["TAGS"]`). Set by
   * `describeServices`; what `src/plan` compares with the svcdef. Absent from other calls' results.
   */
  definition?: Record<string, unknown>;
}

/** A name or ARN that DescribeServices/DescribeTasks could not find, with AWS's reason (`MISSING`). */
export interface Failure {
  arn: string;
  reason: string;
  detail?: string;
}

export type TaskStatus =
  | "PROVISIONING"
  | "PENDING"
  | "ACTIVATING"
  | "RUNNING"
  | "DEACTIVATING"
  | "STOPPING"
  | "DEPROVISIONING"
  | "STOPPED";

export interface Container {
  name: string;
  image: string;
  lastStatus: string;
  exitCode?: number;
  reason?: string;
  healthStatus?: "HEALTHY" | "UNHEALTHY" | "UNKNOWN";
}

export interface Task {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  /** `ecs-svc/<id>` for a service deployment, or the task set's id. */
  startedBy?: string;
  group?: string;
  lastStatus: TaskStatus;
  desiredStatus: "RUNNING" | "STOPPED";
  healthStatus: "HEALTHY" | "UNHEALTHY" | "UNKNOWN";
  stopCode?: string;
  stoppedReason?: string;
  containers: Container[];
  createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
}

export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE" | "DELETE_IN_PROGRESS";
  containerDefinitions: { name: string; image: string; essential?: boolean; portMappings?: { containerPort?: number }[] }[];
  registeredAt?: number;
  /**
   * DescribeTaskDefinition's `taskDefinition` member, JSON-safe (Dates as ISO strings), plus the
   * output's `tags` (described with `include: ["TAGS"]`) as its `tags` member. Set by
   * `describeTaskDefinition`; what `src/plan` compares with the taskdef.
   */
  definition?: Record<string, unknown>;
}

/** Body of a CreateService / UpdateService / RegisterTaskDefinition request: the rendered user JSON. */
export type EcsRequest = Record<string, unknown>;

export interface CreateTaskSetInput {
  cluster: string;
  service: string;
  taskDefinition: string;
  externalId?: string;
  scale?: { value: number; unit: "PERCENT" };
  loadBalancers?: LoadBalancerRef[];
  launchType?: string;
  networkConfiguration?: Record<string, unknown>;
  capacityProviderStrategy?: Record<string, unknown>[];
  platformVersion?: string;
}

// ---------- ECS service deployments (ListServiceDeployments, DescribeServiceDeployments, ...) ----------

export type ServiceDeploymentStatus =
  | "PENDING"
  | "IN_PROGRESS"
  | "SUCCESSFUL"
  | "STOPPED"
  | "STOP_REQUESTED"
  | "ROLLBACK_REQUESTED"
  | "ROLLBACK_IN_PROGRESS"
  | "ROLLBACK_SUCCESSFUL"
  | "ROLLBACK_FAILED";

/**
 * A service deployment's lifecycle stages, in the order ECS runs them (ECS Developer Guide, "Amazon
 * ECS blue/green service deployments workflow"). PRE_PRODUCTION_TRAFFIC_SHIFT comes before each
 * production shift step.
 */
export const LIFECYCLE_STAGES = [
  "RECONCILE_SERVICE",
  "PRE_SCALE_UP",
  "SCALE_UP",
  "POST_SCALE_UP",
  "TEST_TRAFFIC_SHIFT",
  "POST_TEST_TRAFFIC_SHIFT",
  "PRE_PRODUCTION_TRAFFIC_SHIFT",
  "PRODUCTION_TRAFFIC_SHIFT",
  "POST_PRODUCTION_TRAFFIC_SHIFT",
  "BAKE_TIME",
  "CLEAN_UP",
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** A service revision's tasks and traffic within a service deployment. Weights are percents; absent when AWS leaves them out. */
export interface ServiceRevisionSummary {
  arn: string;
  requestedTaskCount?: number;
  runningTaskCount?: number;
  pendingTaskCount?: number;
  requestedTestTrafficWeight?: number;
  requestedProductionTrafficWeight?: number;
}

export interface LifecycleHookDetail {
  hookId: string;
  /** AWS_LAMBDA or PAUSE. */
  targetType: string;
  targetArn?: string;
  /** AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED or TIMED_OUT. */
  status: string;
  expiresAt?: number;
  /** CONTINUE or ROLLBACK. */
  timeoutAction?: string;
}

export interface ServiceDeployment {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  /** Absent for a rolling deployment. */
  lifecycleStage?: string;
  /** The deployment configuration's strategy (ROLLING when ECS leaves it out). */
  strategy: string;
  targetServiceRevision?: ServiceRevisionSummary;
  sourceServiceRevisions: ServiceRevisionSummary[];
  lifecycleHookDetails: LifecycleHookDetail[];
  rollback?: { reason?: string; startedAt?: number; serviceRevisionArn?: string };
  circuitBreaker?: { status?: string; failureCount?: number; threshold?: number };
  alarms?: { status?: string; alarmNames: string[]; triggeredAlarmNames: string[] };
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  stoppedAt?: number;
  updatedAt?: number;
}

export interface ServiceDeploymentBrief {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  targetServiceRevisionArn?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface ServiceRevision {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterArn: string;
  taskDefinition: string;
  loadBalancers: LoadBalancerRef[];
  /** Which target group (and production rule) serves this revision: DescribeServiceRevisions' `resolvedConfiguration.loadBalancers`. */
  resolvedLoadBalancers: { targetGroupArn?: string; productionListenerRule?: string }[];
  createdAt: number;
}

export interface ListTasksInput {
  cluster: string;
  serviceName?: string;
  startedBy?: string;
  family?: string;
  desiredStatus?: "RUNNING" | "PENDING" | "STOPPED";
}

export interface EcsPort {
  registerTaskDefinition(request: EcsRequest): Promise<TaskDefinition>;
  describeTaskDefinition(taskDefinition: string): Promise<TaskDefinition>;
  createService(request: EcsRequest): Promise<Service>;
  /** `request` holds `cluster` and `service` plus the fields to change (UpdateService shape). */
  updateService(request: EcsRequest): Promise<Service>;
  deleteService(input: { cluster: string; service: string; force?: boolean }): Promise<Service>;
  /**
   * Any number of names or ARNs; implementations split into AWS's batches of 10 and may coalesce
   * concurrent callers. Unknown services come back in `failures` with reason `MISSING`.
   */
  describeServices(cluster: string, services: readonly string[]): Promise<{ services: Service[]; failures: Failure[] }>;
  /** Every page. */
  listTasks(input: ListTasksInput): Promise<string[]>;
  /** Any number of task ARNs/ids; batched by 100. */
  describeTasks(cluster: string, tasks: readonly string[]): Promise<{ tasks: Task[]; failures: Failure[] }>;
  createTaskSet(input: CreateTaskSetInput): Promise<TaskSet>;
  updateTaskSet(input: { cluster: string; service: string; taskSet: string; scale: { value: number; unit: "PERCENT" } }): Promise<TaskSet>;
  deleteTaskSet(input: { cluster: string; service: string; taskSet: string; force?: boolean }): Promise<TaskSet>;
  describeTaskSets(input: { cluster: string; service: string; taskSets?: readonly string[] }): Promise<TaskSet[]>;
  updateServicePrimaryTaskSet(input: { cluster: string; service: string; primaryTaskSet: string }): Promise<TaskSet>;
  /** Every page, newest first. `createdAfter`: only those created at or after that instant (ms). */
  listServiceDeployments(input: { cluster: string; service: string; status?: readonly ServiceDeploymentStatus[]; createdAfter?: number }): Promise<ServiceDeploymentBrief[]>;
  /** Any number of ARNs; batched by 20. Unknown ARNs come back in `failures`. */
  describeServiceDeployments(arns: readonly string[]): Promise<{ serviceDeployments: ServiceDeployment[]; failures: Failure[] }>;
  /** Any number of ARNs; batched by 20. */
  describeServiceRevisions(arns: readonly string[]): Promise<{ serviceRevisions: ServiceRevision[]; failures: Failure[] }>;
  /** Stop a service deployment; ROLLBACK (the only stop type AWS documents) returns the service to its previous revision. */
  stopServiceDeployment(input: { serviceDeploymentArn: string; stopType: "ROLLBACK" }): Promise<void>;
  /** Act on a PAUSE lifecycle hook that is AWAITING_ACTION. */
  continueServiceDeployment(input: { serviceDeploymentArn: string; hookId: string; action: "CONTINUE" | "ROLLBACK" }): Promise<void>;
}

// ---------- ELBv2 ----------

export interface TargetGroupWeight {
  targetGroupArn: string;
  weight: number;
}

/** A listener or rule action. Forward actions carry weights; other types are passed through untouched. */
export interface Action {
  type: string;
  order?: number;
  targetGroupArn?: string;
  forwardConfig?: { targetGroups: TargetGroupWeight[]; stickiness?: { enabled: boolean; durationSeconds?: number } };
  /** Fields of non-forward actions (redirect, fixed-response, ...), as AWS returned them. */
  other?: Record<string, unknown>;
}

export interface TargetGroup {
  targetGroupArn: string;
  targetGroupName: string;
  protocol?: string;
  port?: number;
  targetType?: string;
  loadBalancerArns: string[];
  healthCheckIntervalSeconds?: number;
  healthyThresholdCount?: number;
  unhealthyThresholdCount?: number;
  healthCheckPath?: string;
}

export interface Listener {
  listenerArn: string;
  loadBalancerArn: string;
  port?: number;
  protocol?: string;
  defaultActions: Action[];
}

export interface Rule {
  ruleArn: string;
  priority: string;
  isDefault: boolean;
  conditions: Record<string, unknown>[];
  actions: Action[];
}

export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused" | "draining" | "unavailable" | "unhealthy.draining";

export interface TargetHealth {
  target: { id: string; port?: number };
  state: TargetHealthState;
  reason?: string;
  description?: string;
}

/** A tag on an ELB or ECS resource, as ELBv2 takes it. */
export interface ResourceTag {
  key: string;
  value: string;
}

/** CreateTargetGroup's members the engine sets (health-check settings left out take ALB's defaults). */
export interface CreateTargetGroupInput {
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: string;
  protocolVersion?: string;
  healthCheck?: {
    path?: string;
    protocol?: string;
    port?: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    healthyThresholdCount?: number;
    unhealthyThresholdCount?: number;
    /** HTTP codes, e.g. "200-299". */
    matcher?: string;
  };
  tags?: ResourceTag[];
}

export interface CreateRuleInput {
  listenerArn: string;
  priority: number;
  /** Rule conditions in ELBv2's own member names (`Field`, `HostHeaderConfig`, ...), as `Rule.conditions` reports them. */
  conditions: Record<string, unknown>[];
  actions: Action[];
  tags?: ResourceTag[];
}

export interface Elbv2Port {
  describeTargetGroups(input: { targetGroupArns?: readonly string[]; names?: readonly string[]; loadBalancerArn?: string }): Promise<TargetGroup[]>;
  describeListeners(input: { loadBalancerArn?: string; listenerArns?: readonly string[] }): Promise<Listener[]>;
  describeRules(input: { listenerArn?: string; ruleArns?: readonly string[] }): Promise<Rule[]>;
  describeTargetHealth(targetGroupArn: string): Promise<TargetHealth[]>;
  /** Replace the listener's default actions (weights 0–999 per target group). */
  modifyListener(input: { listenerArn: string; defaultActions: Action[] }): Promise<Listener>;
  modifyRule(input: { ruleArn: string; actions: Action[] }): Promise<Rule>;
  /** Idempotent by name: the same name and settings answer the existing group (`DuplicateTargetGroupName` otherwise). */
  createTargetGroup(input: CreateTargetGroupInput): Promise<TargetGroup>;
  /** Refused (`ResourceInUse`) while a listener or rule forwards to the group. */
  deleteTargetGroup(targetGroupArn: string): Promise<void>;
  /** `PriorityInUse` when the listener has a rule at that priority. */
  createRule(input: CreateRuleInput): Promise<Rule>;
  deleteRule(ruleArn: string): Promise<void>;
}

// ---------- CloudWatch ----------

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export interface Alarm {
  alarmName: string;
  alarmArn: string;
  type: "metric" | "composite";
  stateValue: AlarmState;
  stateReason: string;
  stateUpdatedAt: number;
  actionsEnabled: boolean;
  /** Composite alarms only: the rule expression, e.g. `ALARM("a") OR ALARM("b")`. */
  alarmRule?: string;
  metricName?: string;
  namespace?: string;
  /**
   * Metric alarms: the period evaluated, in seconds (for a metric math alarm, its shortest metric's).
   * Under 60 is a high-resolution alarm, which CloudWatch evaluates every 10 s; others once a minute.
   */
  period?: number;
}

export interface CloudWatchPort {
  /** Names missing from the account are simply absent from the result, as with AWS. Batched by 100. */
  describeAlarms(alarmNames: readonly string[]): Promise<Alarm[]>;
}

// ---------- Bundle ----------

export interface AwsPorts {
  region: string;
  ecs: EcsPort;
  elbv2: Elbv2Port;
  cloudwatch: CloudWatchPort;
}

/** One port bundle per region; implementations cache so a region's clients are shared. */
export type AwsPortsFactory = (region: string) => AwsPorts;
