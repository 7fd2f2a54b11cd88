/** EcsPort over @aws-sdk/client-ecs. */
import {
  ContinueServiceDeploymentCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  DescribeTaskSetsCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type CreateServiceCommandInput,
  type CreateTaskSetCommandInput,
  type ECSClient,
  type Failure as SdkFailure,
  type RegisterTaskDefinitionCommandInput,
  type Service as SdkService,
  type ServiceDeployment as SdkServiceDeployment,
  type ServiceDeploymentBrief as SdkServiceDeploymentBrief,
  type ServiceRevision as SdkServiceRevision,
  type ServiceRevisionSummary as SdkRevisionSummary,
  type Task as SdkTask,
  type TaskDefinition as SdkTaskDefinition,
  type TaskSet as SdkTaskSet,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import type { Clock } from "../../core/clock.ts";
import { AwsError } from "../errors.ts";
import { Batcher } from "../batcher.ts";
import type {
  CreateTaskSetInput,
  Deployment,
  DeploymentStatus,
  EcsPort,
  EcsRequest,
  Failure,
  ListTasksInput,
  LoadBalancerRef,
  Service,
  ServiceDeployment,
  ServiceDeploymentBrief,
  ServiceDeploymentStatus,
  ServiceRevision,
  ServiceRevisionSummary,
  ServiceStatus,
  Task,
  TaskDefinition,
  TaskSet,
  TaskStatus,
} from "../ports.ts";
import { allPages, type Caller } from "./call.ts";

type Found<T> = { kind: "found"; value: T } | { kind: "missing"; failure: Failure };

const ms = (d: Date | undefined): number => (d ? d.getTime() : 0);

/** The name part of a service/task ARN, or the input itself when it is a name or id. */
export function lastSegment(nameOrArn: string): string {
  return nameOrArn.slice(nameOrArn.lastIndexOf("/") + 1);
}

export class SdkEcs implements EcsPort {
  private readonly client: ECSClient;
  private readonly call: Caller;
  private readonly services: Batcher<Found<Service>>;
  private readonly tasks: Batcher<Found<Task>>;

  constructor(client: ECSClient, call: Caller, batching: { clock?: Clock; windowMs?: number } = {}) {
    this.client = client;
    this.call = call;
    this.services = new Batcher<Found<Service>>({
      ...batching,
      maxBatch: 10,
      fetch: async (cluster, ids) => {
        const out = await this.call("DescribeServices", () => this.client.send(new DescribeServicesCommand({ cluster, services: ids, include: ["TAGS"] })));
        return [...(out.services ?? []).map((s) => ({ kind: "found" as const, value: { ...mapService(s), definition: jsonSafe(s) } })), ...(out.failures ?? []).map(missing)];
      },
      matches: (r, id) => (r.kind === "found" ? r.value.serviceName === id || r.value.serviceArn === id : r.failure.arn === id || lastSegment(r.failure.arn) === lastSegment(id)),
    });
    this.tasks = new Batcher<Found<Task>>({
      ...batching,
      maxBatch: 100,
      fetch: async (cluster, ids) => {
        const out = await this.call("DescribeTasks", () => this.client.send(new DescribeTasksCommand({ cluster, tasks: ids })));
        return [...(out.tasks ?? []).map((t) => ({ kind: "found" as const, value: mapTask(t) })), ...(out.failures ?? []).map(missing)];
      },
      matches: (r, id) => (r.kind === "found" ? r.value.taskArn === id || lastSegment(r.value.taskArn) === id : r.failure.arn === id || lastSegment(r.failure.arn) === lastSegment(id)),
    });
  }

  async registerTaskDefinition(request: EcsRequest): Promise<TaskDefinition> {
    const out = await this.call("RegisterTaskDefinition", () => this.client.send(new RegisterTaskDefinitionCommand(request as unknown as RegisterTaskDefinitionCommandInput)));
    return mapTaskDefinition(required(out.taskDefinition, "RegisterTaskDefinition", "taskDefinition"));
  }

  async describeTaskDefinition(taskDefinition: string): Promise<TaskDefinition> {
    const out = await this.call("DescribeTaskDefinition", () => this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ["TAGS"] })));
    const td = required(out.taskDefinition, "DescribeTaskDefinition", "taskDefinition");
    return { ...mapTaskDefinition(td), definition: jsonSafe({ ...td, ...(out.tags ? { tags: out.tags } : {}) }) };
  }

  async createService(request: EcsRequest): Promise<Service> {
    const out = await this.call("CreateService", () => this.client.send(new CreateServiceCommand(request as unknown as CreateServiceCommandInput)));
    return mapService(required(out.service, "CreateService", "service"));
  }

  async updateService(request: EcsRequest): Promise<Service> {
    const out = await this.call("UpdateService", () => this.client.send(new UpdateServiceCommand(request as unknown as UpdateServiceCommandInput)));
    return mapService(required(out.service, "UpdateService", "service"));
  }

  async deleteService(input: { cluster: string; service: string; force?: boolean }): Promise<Service> {
    const out = await this.call("DeleteService", () => this.client.send(new DeleteServiceCommand(input)));
    return mapService(required(out.service, "DeleteService", "service"));
  }

  async describeServices(cluster: string, services: readonly string[]): Promise<{ services: Service[]; failures: Failure[] }> {
    return split(await this.services.load(cluster, services));
  }

  async listTasks(input: ListTasksInput): Promise<string[]> {
    return allPages(
      (nextToken) => this.call("ListTasks", () => this.client.send(new ListTasksCommand({ ...input, nextToken }))),
      (p) => p.taskArns,
      (p) => p.nextToken,
    );
  }

  async describeTasks(cluster: string, tasks: readonly string[]): Promise<{ tasks: Task[]; failures: Failure[] }> {
    const r = split(await this.tasks.load(cluster, tasks));
    return { tasks: r.services, failures: r.failures };
  }

  async createTaskSet(input: CreateTaskSetInput): Promise<TaskSet> {
    const out = await this.call("CreateTaskSet", () => this.client.send(new CreateTaskSetCommand(input as unknown as CreateTaskSetCommandInput)));
    return mapTaskSet(required(out.taskSet, "CreateTaskSet", "taskSet"));
  }

  async updateTaskSet(input: { cluster: string; service: string; taskSet: string; scale: { value: number; unit: "PERCENT" } }): Promise<TaskSet> {
    const out = await this.call("UpdateTaskSet", () => this.client.send(new UpdateTaskSetCommand(input)));
    return mapTaskSet(required(out.taskSet, "UpdateTaskSet", "taskSet"));
  }

  async deleteTaskSet(input: { cluster: string; service: string; taskSet: string; force?: boolean }): Promise<TaskSet> {
    const out = await this.call("DeleteTaskSet", () => this.client.send(new DeleteTaskSetCommand(input)));
    return mapTaskSet(required(out.taskSet, "DeleteTaskSet", "taskSet"));
  }

  async describeTaskSets(input: { cluster: string; service: string; taskSets?: readonly string[] }): Promise<TaskSet[]> {
    const out = await this.call("DescribeTaskSets", () =>
      this.client.send(new DescribeTaskSetsCommand({ cluster: input.cluster, service: input.service, taskSets: input.taskSets ? [...input.taskSets] : undefined })),
    );
    return (out.taskSets ?? []).map(mapTaskSet);
  }

  async updateServicePrimaryTaskSet(input: { cluster: string; service: string; primaryTaskSet: string }): Promise<TaskSet> {
    const out = await this.call("UpdateServicePrimaryTaskSet", () => this.client.send(new UpdateServicePrimaryTaskSetCommand(input)));
    return mapTaskSet(required(out.taskSet, "UpdateServicePrimaryTaskSet", "taskSet"));
  }

  async listServiceDeployments(input: { cluster: string; service: string; status?: readonly ServiceDeploymentStatus[]; createdAfter?: number }): Promise<ServiceDeploymentBrief[]> {
    const briefs = await allPages(
      (nextToken) =>
        this.call("ListServiceDeployments", () =>
          this.client.send(
            new ListServiceDeploymentsCommand({
              cluster: input.cluster,
              service: input.service,
              ...(input.status ? { status: [...input.status] } : {}),
              ...(input.createdAfter !== undefined ? { createdAt: { after: new Date(input.createdAfter) } } : {}),
              maxResults: 100,
              nextToken,
            }),
          ),
        ),
      (p) => p.serviceDeployments,
      (p) => p.nextToken,
    );
    return briefs.map(mapServiceDeploymentBrief).sort((a, b) => b.createdAt - a.createdAt);
  }

  async describeServiceDeployments(arns: readonly string[]): Promise<{ serviceDeployments: ServiceDeployment[]; failures: Failure[] }> {
    const out: ServiceDeployment[] = [];
    const failures: Failure[] = [];
    for (let i = 0; i < arns.length; i += 20) {
      const r = await this.call("DescribeServiceDeployments", () => this.client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns.slice(i, i + 20) })));
      out.push(...(r.serviceDeployments ?? []).map(mapServiceDeployment));
      failures.push(...(r.failures ?? []).map((f) => missing(f).failure));
    }
    return { serviceDeployments: out, failures };
  }

  async describeServiceRevisions(arns: readonly string[]): Promise<{ serviceRevisions: ServiceRevision[]; failures: Failure[] }> {
    const out: ServiceRevision[] = [];
    const failures: Failure[] = [];
    for (let i = 0; i < arns.length; i += 20) {
      const r = await this.call("DescribeServiceRevisions", () => this.client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: arns.slice(i, i + 20) })));
      out.push(...(r.serviceRevisions ?? []).map(mapServiceRevision));
      failures.push(...(r.failures ?? []).map((f) => missing(f).failure));
    }
    return { serviceRevisions: out, failures };
  }

  async stopServiceDeployment(input: { serviceDeploymentArn: string; stopType: "ROLLBACK" }): Promise<void> {
    await this.call("StopServiceDeployment", () => this.client.send(new StopServiceDeploymentCommand(input)));
  }

  async continueServiceDeployment(input: { serviceDeploymentArn: string; hookId: string; action: "CONTINUE" | "ROLLBACK" }): Promise<void> {
    await this.call("ContinueServiceDeployment", () => this.client.send(new ContinueServiceDeploymentCommand(input)));
  }
}

function mapRevisionSummary(r: SdkRevisionSummary): ServiceRevisionSummary {
  return {
    arn: r.arn ?? "",
    ...(r.requestedTaskCount !== undefined ? { requestedTaskCount: r.requestedTaskCount } : {}),
    ...(r.runningTaskCount !== undefined ? { runningTaskCount: r.runningTaskCount } : {}),
    ...(r.pendingTaskCount !== undefined ? { pendingTaskCount: r.pendingTaskCount } : {}),
    ...(r.requestedTestTrafficWeight !== undefined ? { requestedTestTrafficWeight: r.requestedTestTrafficWeight } : {}),
    ...(r.requestedProductionTrafficWeight !== undefined ? { requestedProductionTrafficWeight: r.requestedProductionTrafficWeight } : {}),
  };
}

const optionalMs = (key: string, d: Date | undefined): Record<string, number> => (d ? { [key]: d.getTime() } : {});

export function mapServiceDeployment(d: SdkServiceDeployment): ServiceDeployment {
  const rb = d.rollback;
  const cb = d.deploymentCircuitBreaker;
  const al = d.alarms;
  return {
    serviceDeploymentArn: d.serviceDeploymentArn ?? "",
    serviceArn: d.serviceArn ?? "",
    clusterArn: d.clusterArn ?? "",
    status: (d.status ?? "PENDING"),
    ...(d.statusReason ? { statusReason: d.statusReason } : {}),
    ...(d.lifecycleStage ? { lifecycleStage: d.lifecycleStage } : {}),
    strategy: d.deploymentConfiguration?.strategy ?? "ROLLING",
    ...(d.targetServiceRevision ? { targetServiceRevision: mapRevisionSummary(d.targetServiceRevision) } : {}),
    sourceServiceRevisions: (d.sourceServiceRevisions ?? []).map(mapRevisionSummary),
    lifecycleHookDetails: (d.lifecycleHookDetails ?? []).map((h) => ({
      hookId: h.hookId ?? "",
      targetType: h.targetType ?? "AWS_LAMBDA",
      ...(h.targetArn ? { targetArn: h.targetArn } : {}),
      status: h.status ?? "IN_PROGRESS",
      ...optionalMs("expiresAt", h.expiresAt),
      ...(h.timeoutAction ? { timeoutAction: h.timeoutAction } : {}),
    })),
    ...(rb ? { rollback: { ...(rb.reason ? { reason: rb.reason } : {}), ...optionalMs("startedAt", rb.startedAt), ...(rb.serviceRevisionArn ? { serviceRevisionArn: rb.serviceRevisionArn } : {}) } } : {}),
    ...(cb ? { circuitBreaker: { ...(cb.status ? { status: cb.status } : {}), ...(cb.failureCount !== undefined ? { failureCount: cb.failureCount } : {}), ...(cb.threshold !== undefined ? { threshold: cb.threshold } : {}) } } : {}),
    ...(al ? { alarms: { ...(al.status ? { status: al.status } : {}), alarmNames: al.alarmNames ?? [], triggeredAlarmNames: al.triggeredAlarmNames ?? [] } } : {}),
    createdAt: ms(d.createdAt),
    ...optionalMs("startedAt", d.startedAt),
    ...optionalMs("finishedAt", d.finishedAt),
    ...optionalMs("stoppedAt", d.stoppedAt),
    ...optionalMs("updatedAt", d.updatedAt),
  };
}

export function mapServiceDeploymentBrief(b: SdkServiceDeploymentBrief): ServiceDeploymentBrief {
  return {
    serviceDeploymentArn: b.serviceDeploymentArn ?? "",
    serviceArn: b.serviceArn ?? "",
    clusterArn: b.clusterArn ?? "",
    status: (b.status ?? "PENDING"),
    ...(b.statusReason ? { statusReason: b.statusReason } : {}),
    ...(b.targetServiceRevisionArn ? { targetServiceRevisionArn: b.targetServiceRevisionArn } : {}),
    createdAt: ms(b.createdAt),
    ...optionalMs("startedAt", b.startedAt),
    ...optionalMs("finishedAt", b.finishedAt),
  };
}

export function mapServiceRevision(r: SdkServiceRevision): ServiceRevision {
  return {
    serviceRevisionArn: r.serviceRevisionArn ?? "",
    serviceArn: r.serviceArn ?? "",
    clusterArn: r.clusterArn ?? "",
    taskDefinition: r.taskDefinition ?? "",
    loadBalancers: mapLoadBalancers(r.loadBalancers),
    resolvedLoadBalancers: (r.resolvedConfiguration?.loadBalancers ?? []).map((lb) => ({ ...(lb.targetGroupArn ? { targetGroupArn: lb.targetGroupArn } : {}), ...(lb.productionListenerRule ? { productionListenerRule: lb.productionListenerRule } : {}) })),
    createdAt: ms(r.createdAt),
  };
}

/** A copy of an SDK output record that JSON can carry: Dates as ISO strings, undefined members dropped. */
export function jsonSafe(v: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
}

function required<T>(v: T | undefined, operation: string, field: string): T {
  if (v === undefined) throw new AwsError({ name: "InvalidResponse", message: `${operation} returned no ${field}`, service: "ECS", operation, retryable: false });
  return v;
}

function missing(f: SdkFailure): { kind: "missing"; failure: Failure } {
  return { kind: "missing", failure: { arn: f.arn ?? "", reason: f.reason ?? "MISSING", ...(f.detail ? { detail: f.detail } : {}) } };
}

function split<T>(found: Found<T>[]): { services: T[]; failures: Failure[] } {
  const services: T[] = [];
  const failures: Failure[] = [];
  for (const f of found) {
    if (f.kind === "found") services.push(f.value);
    else failures.push(f.failure);
  }
  return { services, failures };
}

function mapLoadBalancers(lbs: LoadBalancerRef[] | undefined): LoadBalancerRef[] {
  return (lbs ?? []).map((lb) => ({ ...lb, ...(lb.advancedConfiguration ? { advancedConfiguration: { ...lb.advancedConfiguration } } : {}) }));
}

export function mapService(s: SdkService): Service {
  const dc = s.deploymentConfiguration;
  return {
    serviceName: s.serviceName ?? "",
    serviceArn: s.serviceArn ?? "",
    clusterArn: s.clusterArn ?? "",
    status: (s.status ?? "ACTIVE") as ServiceStatus,
    ...(s.taskDefinition ? { taskDefinition: s.taskDefinition } : {}),
    desiredCount: s.desiredCount ?? 0,
    pendingCount: s.pendingCount ?? 0,
    runningCount: s.runningCount ?? 0,
    ...(s.launchType ? { launchType: s.launchType } : {}),
    deploymentController: { type: (s.deploymentController?.type ?? "ECS") },
    deploymentConfiguration: {
      ...(dc?.minimumHealthyPercent !== undefined ? { minimumHealthyPercent: dc.minimumHealthyPercent } : {}),
      ...(dc?.maximumPercent !== undefined ? { maximumPercent: dc.maximumPercent } : {}),
      ...(dc?.deploymentCircuitBreaker ? { deploymentCircuitBreaker: { enable: dc.deploymentCircuitBreaker.enable ?? false, rollback: dc.deploymentCircuitBreaker.rollback ?? false } } : {}),
      ...(dc?.alarms ? { alarms: { alarmNames: dc.alarms.alarmNames ?? [], enable: dc.alarms.enable ?? false, rollback: dc.alarms.rollback ?? false } } : {}),
      ...(dc?.strategy ? { strategy: dc.strategy } : {}),
      ...(dc?.bakeTimeInMinutes !== undefined ? { bakeTimeInMinutes: dc.bakeTimeInMinutes } : {}),
    },
    deployments: (s.deployments ?? []).map(
      (d): Deployment => ({
        id: d.id ?? "",
        status: (d.status ?? "ACTIVE") as DeploymentStatus,
        taskDefinition: d.taskDefinition ?? "",
        // Counts AWS left out stay unknown: a deployment reported without them must not look like "0/0 running".
        ...(d.desiredCount !== undefined ? { desiredCount: d.desiredCount } : {}),
        ...(d.pendingCount !== undefined ? { pendingCount: d.pendingCount } : {}),
        ...(d.runningCount !== undefined ? { runningCount: d.runningCount } : {}),
        ...(d.failedTasks !== undefined ? { failedTasks: d.failedTasks } : {}),
        ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
        ...(d.rolloutStateReason ? { rolloutStateReason: d.rolloutStateReason } : {}),
        createdAt: ms(d.createdAt),
        updatedAt: ms(d.updatedAt),
      }),
    ),
    taskSets: (s.taskSets ?? []).map(mapTaskSet),
    loadBalancers: mapLoadBalancers(s.loadBalancers),
    ...(s.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds } : {}),
    events: (s.events ?? []).map((e) => ({ id: e.id ?? "", createdAt: ms(e.createdAt), message: e.message ?? "" })),
    createdAt: ms(s.createdAt),
    ...(s.currentServiceDeployment ? { currentServiceDeployment: s.currentServiceDeployment } : {}),
  };
}

export function mapTaskSet(t: SdkTaskSet): TaskSet {
  return {
    id: t.id ?? "",
    taskSetArn: t.taskSetArn ?? "",
    serviceArn: t.serviceArn ?? "",
    clusterArn: t.clusterArn ?? "",
    status: t.status ?? "ACTIVE",
    taskDefinition: t.taskDefinition ?? "",
    ...(t.externalId ? { externalId: t.externalId } : {}),
    // Counts AWS left out stay unknown: a set reported without them must not look like "0/0 running".
    ...(t.computedDesiredCount !== undefined ? { computedDesiredCount: t.computedDesiredCount } : {}),
    ...(t.pendingCount !== undefined ? { pendingCount: t.pendingCount } : {}),
    ...(t.runningCount !== undefined ? { runningCount: t.runningCount } : {}),
    scale: { value: t.scale?.value ?? 0, unit: "PERCENT" },
    stabilityStatus: t.stabilityStatus === "STEADY_STATE" ? "STEADY_STATE" : "STABILIZING",
    ...(t.stabilityStatusAt ? { stabilityStatusAt: ms(t.stabilityStatusAt) } : {}),
    loadBalancers: mapLoadBalancers(t.loadBalancers),
    createdAt: ms(t.createdAt),
    updatedAt: ms(t.updatedAt),
  };
}

export function mapTask(t: SdkTask): Task {
  return {
    taskArn: t.taskArn ?? "",
    clusterArn: t.clusterArn ?? "",
    taskDefinitionArn: t.taskDefinitionArn ?? "",
    ...(t.startedBy ? { startedBy: t.startedBy } : {}),
    ...(t.group ? { group: t.group } : {}),
    lastStatus: (t.lastStatus ?? "PROVISIONING") as TaskStatus,
    desiredStatus: t.desiredStatus === "STOPPED" ? "STOPPED" : "RUNNING",
    healthStatus: t.healthStatus === "HEALTHY" || t.healthStatus === "UNHEALTHY" ? t.healthStatus : "UNKNOWN",
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    containers: (t.containers ?? []).map((c) => ({
      name: c.name ?? "",
      image: c.image ?? "",
      lastStatus: c.lastStatus ?? "",
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.healthStatus === "HEALTHY" || c.healthStatus === "UNHEALTHY" ? { healthStatus: c.healthStatus } : {}),
    })),
    createdAt: ms(t.createdAt),
    ...(t.startedAt ? { startedAt: ms(t.startedAt) } : {}),
    ...(t.stoppingAt ? { stoppingAt: ms(t.stoppingAt) } : {}),
    ...(t.stoppedAt ? { stoppedAt: ms(t.stoppedAt) } : {}),
  };
}

export function mapTaskDefinition(t: SdkTaskDefinition): TaskDefinition {
  return {
    taskDefinitionArn: t.taskDefinitionArn ?? "",
    family: t.family ?? "",
    revision: t.revision ?? 0,
    status: (t.status ?? "ACTIVE"),
    containerDefinitions: (t.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? "",
      image: c.image ?? "",
      ...(c.essential !== undefined ? { essential: c.essential } : {}),
      ...(c.portMappings ? { portMappings: c.portMappings.map((p) => ({ ...(p.containerPort !== undefined ? { containerPort: p.containerPort } : {}) })) } : {}),
    })),
    ...(t.registeredAt ? { registeredAt: ms(t.registeredAt) } : {}),
  };
}
