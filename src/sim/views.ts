/** Copy simulator state out into the port types (callers never hold live internal objects). */
import type { Deployment, Service, Task, TaskDefinition, TaskSet } from "../aws/ports.ts";
import { computedDesiredCount } from "./scheduler.ts";
import type { SimCluster, SimDeployment, SimService, SimTask, SimTaskDef, SimTaskSet } from "./model.ts";

const PENDING = new Set(["PROVISIONING", "PENDING", "ACTIVATING"]);

/**
 * A deep copy of request data (what structuredClone gives for it, several times faster): views are
 * made on every Describe call, and callers must never hold the simulator's own objects.
 */
export function copyData<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(copyData) as T;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const c = copyData((v as Record<string, unknown>)[k]);
    if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out as T;
}

function counts(tasks: Iterable<SimTask>): { pending: number; running: number; active: number } {
  let pending = 0;
  let running = 0;
  let active = 0;
  for (const t of tasks) {
    if (t.desiredStatus !== "RUNNING") continue;
    active++;
    if (PENDING.has(t.lastStatus)) pending++;
    else if (t.lastStatus === "RUNNING") running++;
  }
  return { pending, running, active };
}

export function viewDeployment(svc: SimService, d: SimDeployment): Deployment {
  const c = counts(d.tasks);
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDef.arn,
    // The primary wants the service's count; older deployments want what they still have.
    desiredCount: d.status === "PRIMARY" ? svc.desiredCount : c.active,
    pendingCount: c.pending,
    runningCount: c.running,
    failedTasks: d.failedTasks,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function viewTaskSet(svc: SimService, ts: SimTaskSet): TaskSet {
  const c = counts(ts.tasks);
  return {
    id: ts.id,
    taskSetArn: ts.arn,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: ts.status,
    taskDefinition: ts.taskDef.arn,
    ...(ts.externalId !== undefined ? { externalId: ts.externalId } : {}),
    computedDesiredCount: ts.status === "DRAINING" ? 0 : computedDesiredCount(svc.desiredCount, ts.scalePercent),
    pendingCount: c.pending,
    runningCount: c.running,
    scale: { value: ts.scalePercent, unit: "PERCENT" },
    stabilityStatus: ts.stabilityStatus,
    stabilityStatusAt: ts.stabilityStatusAt,
    loadBalancers: copyData(ts.loadBalancers),
    createdAt: ts.createdAt,
    updatedAt: ts.updatedAt,
  };
}

export function viewService(svc: SimService): Service {
  let pending = 0;
  let running = 0;
  for (const owner of [...svc.deployments, ...svc.taskSets]) {
    const c = counts(owner.tasks);
    pending += c.pending;
    running += c.running;
  }
  const dc = svc.deploymentConfiguration;
  return {
    serviceName: svc.name,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    status: svc.status,
    ...(svc.taskDef ? { taskDefinition: svc.taskDef.arn } : {}),
    desiredCount: svc.desiredCount,
    pendingCount: pending,
    runningCount: running,
    ...(svc.launchType ? { launchType: svc.launchType } : {}),
    deploymentController: { type: svc.controller },
    deploymentConfiguration: {
      minimumHealthyPercent: dc.minimumHealthyPercent,
      maximumPercent: dc.maximumPercent,
      deploymentCircuitBreaker: { ...dc.deploymentCircuitBreaker },
      ...managedSettings(svc),
    },
    deployments: svc.deployments.map((d) => viewDeployment(svc, d)),
    taskSets: svc.taskSets.map((t) => viewTaskSet(svc, t)),
    loadBalancers: copyData(svc.loadBalancers),
    healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodMs / 1000,
    events: svc.events.slice(), // each one frozen (scheduler.ts addEvent)
    createdAt: svc.createdAt,
    ...(svc.managed?.deployments[0] ? { currentServiceDeployment: svc.managed.deployments[0].arn } : {}),
  };
}

/** The strategy and bake time an ECS-managed service was given (absent for rolling services). */
function managedSettings(svc: SimService): { strategy?: string; bakeTimeInMinutes?: number } {
  const dc = svc.request["deploymentConfiguration"];
  if (typeof dc !== "object" || dc === null || Array.isArray(dc)) return {};
  const { strategy, bakeTimeInMinutes } = dc as Record<string, unknown>;
  return { ...(typeof strategy === "string" ? { strategy } : {}), ...(typeof bakeTimeInMinutes === "number" ? { bakeTimeInMinutes } : {}) };
}

export function viewTask(t: SimTask): Task {
  const stopped = t.lastStatus === "STOPPED";
  return {
    taskArn: t.arn,
    clusterArn: t.service.cluster.arn,
    taskDefinitionArn: t.taskDef.arn,
    startedBy: t.owner.id,
    group: `service:${t.service.name}`,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: t.containerHealth,
    ...(t.stopCode ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    containers: t.taskDef.containers.map((c) => ({
      name: c.name,
      image: c.image,
      lastStatus: stopped ? "STOPPED" : t.lastStatus === "RUNNING" || t.lastStatus === "DEACTIVATING" ? "RUNNING" : "PENDING",
      ...(stopped && c.essential && t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
      ...(t.containerReason ? { reason: t.containerReason } : {}),
      ...(c.healthCheck ? { healthStatus: t.containerHealth } : {}),
    })),
    createdAt: t.createdAt,
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(t.stoppingAt !== undefined ? { stoppingAt: t.stoppingAt } : {}),
    ...(t.stoppedAt !== undefined ? { stoppedAt: t.stoppedAt } : {}),
  };
}

export function viewTaskDefinition(td: SimTaskDef): TaskDefinition {
  return {
    taskDefinitionArn: td.arn,
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: td.containers.map((c) => ({
      name: c.name,
      image: c.image,
      essential: c.essential,
      ...(c.containerPort !== undefined ? { portMappings: [{ containerPort: c.containerPort }] } : {}),
    })),
    registeredAt: td.registeredAt,
  };
}

// ---- full records, as DescribeServices / DescribeTaskDefinition return them (port `definition`) ----

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
/** Times as ISO strings; a world's events share few distinct instants, so they are remembered. */
const isoCache = new Map<number, string>();
function iso(ms: number): string {
  let s = isoCache.get(ms);
  if (s === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    s = new Date(ms).toISOString();
    isoCache.set(ms, s);
  }
  return s;
}
const accountOf = (arn: string): string => arn.split(":")[4] ?? "";

/** CreateService members DescribeServices reports on deployments, not on the service. */
const ON_DEPLOYMENT = ["serviceConnectConfiguration", "volumeConfigurations", "vpcLatticeConfigurations"] as const;

/**
 * One element of DescribeServices' `services` (with `include: ["TAGS"]`): what CreateService and
 * UpdateService were given, the defaults ECS fills in, and the response-only fields. SPEC.md.
 */
export function serviceDefinition(svc: SimService, view: Service = viewService(svc)): Rec {
  const r = copyData(svc.request);
  const onDeployment: Rec = {};
  for (const key of ON_DEPLOYMENT) if (r[key] !== undefined) onDeployment[key] = r[key];
  const strategy = Array.isArray(r["capacityProviderStrategy"]) && r["capacityProviderStrategy"].length ? (r["capacityProviderStrategy"] as unknown[]) : undefined;
  // EC2 when neither is given (the simulator's clusters have no default strategy); an EXTERNAL
  // service's launch settings are its task sets'.
  const launchType = typeof r["launchType"] === "string" ? r["launchType"] : strategy || svc.controller === "EXTERNAL" ? undefined : "EC2";
  const fargate = launchType === "FARGATE" || (strategy ?? []).some((s) => isRec(s) && typeof s["capacityProvider"] === "string" && s["capacityProvider"].startsWith("FARGATE"));
  const network = isRec(r["networkConfiguration"]) ? r["networkConfiguration"] : undefined;
  if (network && isRec(network["awsvpcConfiguration"])) network["awsvpcConfiguration"] = { assignPublicIp: "DISABLED", ...network["awsvpcConfiguration"] };
  const role = typeof r["role"] === "string" ? r["role"] : undefined;
  const dc = view.deploymentConfiguration;
  const daemon = r["schedulingStrategy"] === "DAEMON";
  return {
    serviceArn: view.serviceArn,
    serviceName: view.serviceName,
    clusterArn: view.clusterArn,
    loadBalancers: copyData(view.loadBalancers),
    serviceRegistries: r["serviceRegistries"] ?? [],
    status: view.status,
    desiredCount: view.desiredCount,
    runningCount: view.runningCount,
    pendingCount: view.pendingCount,
    ...(launchType ? { launchType } : {}),
    ...(strategy ? { capacityProviderStrategy: strategy } : {}),
    ...(fargate ? { platformVersion: r["platformVersion"] ?? "LATEST", platformFamily: "Linux" } : r["platformVersion"] !== undefined ? { platformVersion: r["platformVersion"] } : {}),
    ...(view.taskDefinition ? { taskDefinition: view.taskDefinition } : {}),
    deploymentConfiguration: {
      ...(isRec(r["deploymentConfiguration"]) ? r["deploymentConfiguration"] : {}),
      minimumHealthyPercent: dc.minimumHealthyPercent,
      maximumPercent: dc.maximumPercent,
      deploymentCircuitBreaker: { enable: dc.deploymentCircuitBreaker?.enable ?? false, rollback: dc.deploymentCircuitBreaker?.rollback ?? false },
    },
    ...(svc.controller === "EXTERNAL" ? { taskSets: view.taskSets.map((t, i) => taskSetRecord(t, svc.taskSets[i]?.settings ?? {})) } : {}),
    deployments: view.deployments.map((d) => ({ ...d, createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt), ...(d.status === "PRIMARY" ? copyData(onDeployment) : {}) })),
    ...(role ? { roleArn: role.startsWith("arn:") ? role : `arn:aws:iam::${accountOf(svc.arn)}:role/${role}` } : {}),
    events: view.events.map((e) => ({ ...e, createdAt: iso(e.createdAt) })),
    createdAt: iso(view.createdAt),
    ...(view.currentServiceDeployment ? { currentServiceDeployment: view.currentServiceDeployment } : {}),
    placementConstraints: r["placementConstraints"] ?? [],
    placementStrategy: r["placementStrategy"] ?? [],
    ...(network ? { networkConfiguration: network } : {}),
    ...(view.healthCheckGracePeriodSeconds !== undefined ? { healthCheckGracePeriodSeconds: view.healthCheckGracePeriodSeconds } : {}),
    schedulingStrategy: r["schedulingStrategy"] ?? "REPLICA",
    deploymentController: { type: svc.controller },
    ...(Array.isArray(r["tags"]) && r["tags"].length ? { tags: r["tags"] } : {}),
    createdBy: `arn:aws:iam::${accountOf(svc.arn)}:root`,
    enableECSManagedTags: r["enableECSManagedTags"] ?? false,
    propagateTags: r["propagateTags"] ?? "NONE",
    enableExecuteCommand: r["enableExecuteCommand"] ?? false,
    availabilityZoneRebalancing: r["availabilityZoneRebalancing"] ?? (daemon ? "DISABLED" : "ENABLED"),
  };
}

/** A task set as DescribeServices reports it: the view, its CreateTaskSet settings with ECS's defaults, times as ISO strings. */
export function taskSetRecord(t: TaskSet, settings: Rec): Rec {
  const s = copyData(settings);
  const network = isRec(s["networkConfiguration"]) ? s["networkConfiguration"] : undefined;
  if (network && isRec(network["awsvpcConfiguration"])) network["awsvpcConfiguration"] = { assignPublicIp: "DISABLED", ...network["awsvpcConfiguration"] };
  if (s["launchType"] === undefined && s["capacityProviderStrategy"] === undefined) s["launchType"] = "EC2";
  if (s["launchType"] === "FARGATE" && s["platformVersion"] === undefined) s["platformVersion"] = "LATEST";
  return { ...t, ...s, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt), ...(t.stabilityStatusAt !== undefined ? { stabilityStatusAt: iso(t.stabilityStatusAt) } : {}) };
}

/**
 * DescribeTaskDefinition's `taskDefinition` (with `include: ["TAGS"]`, the output's `tags` as a
 * member): the registered request, the defaults ECS fills in, and the response-only fields. SPEC.md.
 */
export function taskDefinitionRecord(td: SimTaskDef): Rec {
  const r = copyData(td.request);
  const tags = Array.isArray(r["tags"]) && r["tags"].length ? r["tags"] : undefined;
  delete r["tags"];
  const networkMode = typeof r["networkMode"] === "string" ? r["networkMode"] : "bridge";
  const containers = (Array.isArray(r["containerDefinitions"]) ? r["containerDefinitions"] : []).map((c: unknown) => (isRec(c) ? container(c, networkMode) : c));
  const cpu = r["cpu"] !== undefined ? units(r["cpu"], /^(\d*\.?\d+)\s*vcpu$/i) : undefined;
  const memory = r["memory"] !== undefined ? units(r["memory"], /^(\d*\.?\d+)\s*gb$/i) : undefined;
  const fargate = networkMode === "awsvpc" && cpu !== undefined && memory !== undefined;
  const requires = ["com.amazonaws.ecs.capability.docker-remote-api.1.18", ...(networkMode === "awsvpc" ? ["ecs.capability.task-eni", "com.amazonaws.ecs.capability.docker-remote-api.1.29"] : [])];
  return {
    taskDefinitionArn: td.arn,
    ...r,
    containerDefinitions: containers,
    family: td.family,
    revision: td.revision,
    volumes: r["volumes"] ?? [],
    status: td.status,
    requiresAttributes: requires.map((name) => ({ name })),
    placementConstraints: r["placementConstraints"] ?? [],
    compatibilities: fargate ? ["EC2", "FARGATE"] : ["EC2"],
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    registeredAt: iso(td.registeredAt),
    registeredBy: `arn:aws:iam::${accountOf(td.arn)}:root`,
    ...(tags ? { tags } : {}),
  };
}

/** ECS stores task cpu and memory as integer strings: 256 → "256", "1 vCPU" → "1024", "2 GB" → "2048". */
function units(v: unknown, scaled: RegExp): unknown {
  const text = String(v).trim();
  const m = scaled.exec(text);
  if (m?.[1]) return String(Math.round(Number(m[1]) * 1024));
  return /^\d+$/.test(text) ? String(Number(text)) : v;
}

function container(c: Rec, networkMode: string): Rec {
  const ports = Array.isArray(c["portMappings"]) ? c["portMappings"] : [];
  return {
    ...c,
    cpu: c["cpu"] ?? 0,
    essential: c["essential"] ?? true,
    portMappings: ports.map((p: unknown) => {
      if (!isRec(p)) return p;
      const host = (networkMode === "awsvpc" || networkMode === "host") && p["hostPort"] === undefined ? { hostPort: p["containerPort"] } : {};
      return { ...p, ...host, protocol: p["protocol"] ?? "tcp" };
    }),
    environment: c["environment"] ?? [],
    mountPoints: c["mountPoints"] ?? [],
    volumesFrom: c["volumesFrom"] ?? [],
    systemControls: c["systemControls"] ?? [],
  };
}

/** One element of DescribeClusters' `clusters`: counts from the simulated fleet, CreateCluster's settings as given. */
export function clusterRecord(c: SimCluster): Rec {
  let running = 0;
  let pending = 0;
  for (const t of c.tasks.values()) {
    if (t.desiredStatus !== "RUNNING") continue;
    if (t.lastStatus === "RUNNING") running++;
    else if (PENDING.has(t.lastStatus)) pending++;
  }
  const r = c.request ?? {};
  return {
    clusterArn: c.arn,
    clusterName: c.name,
    status: "ACTIVE",
    registeredContainerInstancesCount: 0,
    runningTasksCount: running,
    pendingTasksCount: pending,
    activeServicesCount: [...c.services.values()].filter((s) => s.status === "ACTIVE").length,
    statistics: [],
    tags: r["tags"] ?? [],
    settings: r["settings"] ?? [{ name: "containerInsights", value: "disabled" }],
    capacityProviders: r["capacityProviders"] ?? [],
    defaultCapacityProviderStrategy: r["defaultCapacityProviderStrategy"] ?? [],
    ...(r["configuration"] !== undefined ? { configuration: r["configuration"] } : {}),
    ...(isRec(r["serviceConnectDefaults"]) ? { serviceConnectDefaults: r["serviceConnectDefaults"] } : {}),
  };
}

/** One element of DescribeTasks' `tasks`: the view, the launch settings of its service or task set, times as ISO strings. */
export function taskRecord(t: SimTask): Rec {
  const v = viewTask(t);
  const launch = t.owner.kind === "taskSet" ? t.owner.settings : t.service.request;
  const td = t.taskDef.request;
  return {
    ...v,
    containers: v.containers.map((c) => ({ ...c, taskArn: v.taskArn })),
    ...(typeof launch["launchType"] === "string" ? { launchType: launch["launchType"] } : {}),
    ...(Array.isArray(launch["capacityProviderStrategy"]) && isRec(launch["capacityProviderStrategy"][0]) ? { capacityProviderName: launch["capacityProviderStrategy"][0]["capacityProvider"] } : {}),
    ...(td["cpu"] !== undefined ? { cpu: String(units(td["cpu"], /^(\d*\.?\d+)\s*vcpu$/i)) } : {}),
    ...(td["memory"] !== undefined ? { memory: String(units(td["memory"], /^(\d*\.?\d+)\s*gb$/i)) } : {}),
    tags: [],
    createdAt: iso(v.createdAt),
    ...(v.startedAt !== undefined ? { startedAt: iso(v.startedAt) } : {}),
    ...(v.stoppingAt !== undefined ? { stoppingAt: iso(v.stoppingAt) } : {}),
    ...(v.stoppedAt !== undefined ? { stoppedAt: iso(v.stoppedAt) } : {}),
  };
}
