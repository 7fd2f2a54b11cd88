/**
 * State of ECS-managed blue/green, linear and canary deployments (deploymentController ECS with a
 * `deploymentConfiguration.strategy` other than ROLLING): service revisions, service deployments
 * and their lifecycle hooks. The behaviour is in managed.ts; SPEC.md §ECS-managed deployments.
 */
import type { LifecycleStage, LoadBalancerRef, ServiceDeploymentStatus } from "../aws/ports.ts";
import type { SimDeployment, SimTaskDef } from "./model.ts";

export type ManagedStrategy = "BLUE_GREEN" | "LINEAR" | "CANARY";

/** One load balancer entry of a service, with what ECS needs to move its traffic. */
export interface ManagedLoadBalancer {
  targetGroupArn: string;
  alternateTargetGroupArn?: string;
  productionListenerRule?: string;
  testListenerRule?: string;
  containerName?: string;
  containerPort?: number;
}

/** A service revision: the configuration one deployment rolled out, and where its tasks are registered. */
export interface SimRevision {
  id: string;
  arn: string;
  taskDef: SimTaskDef;
  createdAt: number;
  /** The service's load balancers as configured when the revision was made. */
  loadBalancers: LoadBalancerRef[];
  /** The target group each load balancer entry of this revision registers its tasks with (index-aligned). */
  targetGroups: string[];
  /** CreateService/UpdateService settings DescribeServiceRevisions reports (launch type, network, ...). */
  settings: Record<string, unknown>;
  /** The ECS deployment (`ecs-svc/…`) whose tasks run this revision. */
  owner: SimDeployment;
}

export interface HookConfig {
  targetType: "AWS_LAMBDA" | "PAUSE";
  hookTargetArn?: string;
  roleArn?: string;
  lifecycleStages: string[];
  timeoutMs: number;
  timeoutAction: "CONTINUE" | "ROLLBACK";
}

export type HookStatus = "AWAITING_ACTION" | "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "TIMED_OUT";

/** One hook run at one stage (a stage that runs at every production step runs its hooks each time). */
export interface SimHookRun {
  hookId: string;
  config: HookConfig;
  stage: LifecycleStage;
  status: HookStatus;
  startedAt: number;
  expiresAt: number;
  /** Lambda invocations so far (IN_PROGRESS answers make ECS call again after callBackDelay). */
  invocations: number;
}

/** A Lambda invocation, kept for tests and rehearsals to see which hooks ran when. */
export interface HookInvocation {
  at: number;
  serviceDeploymentArn: string;
  hookTargetArn: string;
  stage: LifecycleStage;
  answer: "SUCCEEDED" | "FAILED" | "IN_PROGRESS";
  /** Invoked while rolling back: ECS ignores the answer. */
  duringRollback: boolean;
}

export interface SimServiceDeployment {
  id: string;
  arn: string;
  createdAt: number;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  stoppedAt?: number;
  status: ServiceDeploymentStatus;
  statusReason: string;
  stage: LifecycleStage;
  strategy: ManagedStrategy;
  /** The deployment configuration as given when the deployment started (reported as is). */
  config: Record<string, unknown>;
  target: SimRevision;
  /** What ran before: the production revision first, then any interrupted one. */
  sources: SimRevision[];
  loadBalancers: ManagedLoadBalancer[];
  /** The target revision's share of production and test traffic, in percent. */
  productionWeight: number;
  testWeight: number;
  /** Production percentages of the traffic shift steps, ending at 100. */
  steps: number[];
  stepIndex: number;
  /** When the current wait (step bake or deployment bake time) ends. */
  waitUntil?: number;
  hooks: HookConfig[];
  /** Hook runs of the current stage (DescribeServiceDeployments' lifecycleHookDetails). */
  hookRuns: SimHookRun[];
  reconcile: boolean;
  rollback?: { reason: string; startedAt: number; serviceRevisionArn: string };
  alarms: { enable: boolean; rollback: boolean; names: string[]; triggered: string[] };
  breaker: { enable: boolean; rollback: boolean; threshold: number };
  /** Bumped at every stage change: timers of an earlier stage are ignored. */
  gen: number;
  monitoring: boolean;
}

export interface ManagedService {
  revisions: SimRevision[];
  /** Newest first. */
  deployments: SimServiceDeployment[];
  /** The deployment in progress (IN_PROGRESS or rolling back), if any. */
  active?: SimServiceDeployment;
  /** The revision serving production traffic. */
  production?: SimRevision;
}
