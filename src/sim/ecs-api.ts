/** EcsPort on the simulator: request validation and AWS's errors, then state changes. SPEC.md §ECS API. */
import type {
  CreateTaskSetInput,
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
  Task,
  TaskDefinition,
  TaskSet,
} from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";
import type { SimContainerDef, SimDeployment, SimService, SimTask, SimTaskDef, SimTaskSet } from "./model.ts";
import { addEvent } from "./scheduler.ts";
import { checkManagedRequest, managedStrategyOf, startManagedDeployment } from "./managed.ts";
import { continueServiceDeployment, describeServiceDeployments, describeServiceRevisions, listServiceDeployments, stopServiceDeployment, viewServiceDeployment, viewServiceRevision } from "./managed-api.ts";
import { clusterRecord, serviceDefinition, taskDefinitionRecord, viewService, viewTask, viewTaskDefinition, viewTaskSet } from "./views.ts";

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export class SimEcs implements EcsPort {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  private invalid(operation: string, message: string): Error {
    return this.sim.error("ECS", operation, "InvalidParameterException", message);
  }

  async registerTaskDefinition(request: EcsRequest): Promise<TaskDefinition> {
    await this.sim.gate("ECS", "RegisterTaskDefinition");
    return viewTaskDefinition(registerTaskDefinition(this.sim, request));
  }

  async describeTaskDefinition(taskDefinition: string): Promise<TaskDefinition> {
    await this.sim.gate("ECS", "DescribeTaskDefinition");
    const td = this.sim.taskDefinition(taskDefinition, "DescribeTaskDefinition");
    return { ...viewTaskDefinition(td), definition: taskDefinitionRecord(td) };
  }

  async createService(request: EcsRequest): Promise<Service> {
    await this.sim.gate("ECS", "CreateService");
    return viewService(createService(this.sim, request, "CreateService"));
  }

  async updateService(request: EcsRequest): Promise<Service> {
    const op = "UpdateService";
    await this.sim.gate("ECS", op);
    const sim = this.sim;
    const c = sim.cluster(str(request["cluster"]), op);
    const svc = sim.service(c, str(request["service"]), op);
    if (svc.status !== "ACTIVE") throw sim.error("ECS", op, "ServiceNotActiveException", "Service was not ACTIVE.");
    const desired = request["desiredCount"];
    if (desired !== undefined && (typeof desired !== "number" || !Number.isInteger(desired) || desired < 0)) throw this.invalid(op, "desiredCount must be a non-negative integer.");
    const tdRef = str(request["taskDefinition"]);
    if (tdRef !== undefined && svc.controller === "EXTERNAL") {
      throw this.invalid(op, "Unable to update task definition on services with a deployment controller type of EXTERNAL. Use a task set instead.");
    }
    const td = tdRef !== undefined ? sim.taskDefinition(tdRef, op) : undefined;
    if (td && td.status !== "ACTIVE") throw sim.error("ECS", op, "ClientException", "TaskDefinition is inactive");
    const lbs = request["loadBalancers"] !== undefined ? parseLoadBalancers(sim, request["loadBalancers"], op) : undefined;
    const reportedDc = isRec(svc.request["deploymentConfiguration"]) ? svc.request["deploymentConfiguration"] : {};
    const managedProblem = svc.controller === "ECS" ? checkManagedRequest({ ...reportedDc, ...(isRec(request["deploymentConfiguration"]) ? request["deploymentConfiguration"] : {}) }, lbs ?? svc.loadBalancers, (arn) => sim.elb.targetGroups.has(arn)) : undefined;
    if (managedProblem) throw this.invalid(op, managedProblem);
    if (isRec(request["deploymentConfiguration"])) svc.deploymentConfiguration = mergeDeploymentConfiguration(svc.deploymentConfiguration, request["deploymentConfiguration"], (m) => this.invalid(op, m));
    if (typeof request["healthCheckGracePeriodSeconds"] === "number") svc.healthCheckGracePeriodMs = request["healthCheckGracePeriodSeconds"] * 1000;
    if (lbs) svc.loadBalancers = lbs;
    if (typeof desired === "number" && desired !== svc.desiredCount) {
      svc.desiredCount = desired;
      svc.steady = false;
    }
    const shape = deploymentShape({ ...shapeFields(svc), ...pick(request, SHAPE_KEYS) });
    const primary = svc.deployments.find((d) => d.status === "PRIMARY");
    const newDeployment = svc.controller === "ECS" && (request["forceNewDeployment"] === true || (td !== undefined && td !== primary?.taskDef) || shape !== svc.deploymentShape);
    svc.deploymentShape = shape;
    rememberReported(svc, request);
    if (newDeployment) {
      const next = td ?? primary?.taskDef ?? svc.taskDef!;
      const strategy = managedStrategyOf(svc);
      if (strategy) startManagedDeployment(sim, svc, next, strategy);
      else startDeployment(sim, svc, next);
    }
    sim.markDirty(svc);
    return viewService(svc);
  }

  async deleteService(input: { cluster: string; service: string; force?: boolean }): Promise<Service> {
    const op = "DeleteService";
    await this.sim.gate("ECS", op);
    const c = this.sim.cluster(input.cluster, op);
    const svc = this.sim.service(c, input.service, op);
    if (svc.status === "INACTIVE") throw this.sim.error("ECS", op, "ServiceNotActiveException", "Service was not ACTIVE.");
    if (svc.status === "ACTIVE") {
      if (svc.desiredCount > 0 && !input.force && svc.controller === "ECS") throw this.invalid(op, "The service cannot be stopped while it is scaled above 0.");
      svc.status = "DRAINING";
      svc.desiredCount = 0;
      addEvent(this.sim, svc, `(service ${svc.name}) is being deleted.`);
    }
    this.sim.markDirty(svc);
    return viewService(svc);
  }

  async describeServices(cluster: string, services: readonly string[]): Promise<{ services: Service[]; failures: Failure[] }> {
    const out: Service[] = [];
    const failures: Failure[] = [];
    for (const batch of chunk(services, 10)) {
      await this.sim.gate("ECS", "DescribeServices");
      const c = this.sim.cluster(cluster, "DescribeServices");
      for (const ref of batch) {
        const svc = this.sim.findService(c, ref);
        if (svc) {
          const view = viewService(svc);
          out.push({ ...view, definition: serviceDefinition(svc, view) });
        }
        else failures.push({ arn: ref.startsWith("arn:") ? ref : `arn:aws:ecs:${this.sim.region}:${this.sim.account}:service/${c.name}/${ref}`, reason: "MISSING" });
      }
    }
    return { services: out, failures };
  }

  async listTasks(input: ListTasksInput): Promise<string[]> {
    const op = "ListTasks";
    await this.sim.gate("ECS", op);
    const c = this.sim.cluster(input.cluster, op);
    const svc = input.serviceName !== undefined ? this.sim.service(c, input.serviceName, op) : undefined;
    const want = input.desiredStatus === "STOPPED" ? "STOPPED" : "RUNNING";
    const arns: string[] = [];
    // The service's or the deployment's own index when one is named: never a scan of the cluster.
    const from: Iterable<SimTask> = svc ? svc.tasks : input.startedBy !== undefined ? (c.startedBy.get(input.startedBy) ?? []) : c.tasks.values();
    for (const t of from) {
      if (input.startedBy !== undefined && t.owner.id !== input.startedBy) continue;
      if (input.family !== undefined && t.taskDef.family !== input.family) continue;
      if (input.desiredStatus === "PENDING" ? t.lastStatus !== "PENDING" : t.desiredStatus !== want) continue;
      arns.push(t.arn);
    }
    // ListTasks pages hold 100 ARNs; every further page is another request.
    for (let page = 1; page < Math.ceil(arns.length / 100); page++) await this.sim.gate("ECS", op);
    return arns;
  }

  async describeTasks(cluster: string, tasks: readonly string[]): Promise<{ tasks: Task[]; failures: Failure[] }> {
    const out: Task[] = [];
    const failures: Failure[] = [];
    for (const batch of chunk(tasks, 100)) {
      await this.sim.gate("ECS", "DescribeTasks");
      const c = this.sim.cluster(cluster, "DescribeTasks");
      for (const ref of batch) {
        const t = c.tasks.get(ref.slice(ref.lastIndexOf("/") + 1));
        if (t) out.push(viewTask(t));
        else failures.push({ arn: ref, reason: "MISSING" });
      }
    }
    return { tasks: out, failures };
  }

  private externalService(op: string, cluster: string, service: string): SimService {
    const c = this.sim.cluster(cluster, op);
    const svc = this.sim.service(c, service, op);
    if (svc.status !== "ACTIVE") throw this.sim.error("ECS", op, "ServiceNotActiveException", "Service was not ACTIVE.");
    if (svc.controller !== "EXTERNAL") throw this.invalid(op, "Amazon ECS only supports task set management on services configured to use external deployment controllers.");
    return svc;
  }

  private taskSet(op: string, svc: SimService, ref: string): SimTaskSet {
    const ts = svc.taskSets.find((t) => t.id === ref || t.arn === ref);
    if (!ts) throw this.sim.error("ECS", op, "TaskSetNotFoundException", "The specified task set does not exist.");
    return ts;
  }

  async createTaskSet(input: CreateTaskSetInput): Promise<TaskSet> {
    const op = "CreateTaskSet";
    await this.sim.gate("ECS", op);
    const sim = this.sim;
    const svc = this.externalService(op, input.cluster, input.service);
    const td = sim.taskDefinition(input.taskDefinition, op);
    const scale = input.scale?.value ?? 100;
    if (scale < 0 || scale > 100) throw this.invalid(op, "Scale value must be between 0 and 100.");
    const settings = pick(structuredClone(input as unknown as Rec), TASK_SET_SETTINGS);
    const ts = createTaskSet(sim, svc, td, scale, input.loadBalancers ? parseLoadBalancers(sim, input.loadBalancers, op) : structuredClone(svc.loadBalancers), input.externalId, settings);
    return viewTaskSet(svc, ts);
  }

  async updateTaskSet(input: { cluster: string; service: string; taskSet: string; scale: { value: number; unit: "PERCENT" } }): Promise<TaskSet> {
    const op = "UpdateTaskSet";
    await this.sim.gate("ECS", op);
    const svc = this.externalService(op, input.cluster, input.service);
    const ts = this.taskSet(op, svc, input.taskSet);
    if (input.scale.value < 0 || input.scale.value > 100) throw this.invalid(op, "Scale value must be between 0 and 100.");
    ts.scalePercent = input.scale.value;
    ts.updatedAt = this.sim.now;
    this.sim.markDirty(svc);
    return viewTaskSet(svc, ts);
  }

  async deleteTaskSet(input: { cluster: string; service: string; taskSet: string; force?: boolean }): Promise<TaskSet> {
    const op = "DeleteTaskSet";
    await this.sim.gate("ECS", op);
    const svc = this.externalService(op, input.cluster, input.service);
    const ts = this.taskSet(op, svc, input.taskSet);
    if (ts.status === "PRIMARY" && !input.force) throw this.invalid(op, "The primary task set cannot be deleted unless force is set.");
    ts.status = "DRAINING";
    ts.updatedAt = this.sim.now;
    this.sim.markDirty(svc);
    return viewTaskSet(svc, ts);
  }

  async describeTaskSets(input: { cluster: string; service: string; taskSets?: readonly string[] }): Promise<TaskSet[]> {
    const op = "DescribeTaskSets";
    await this.sim.gate("ECS", op);
    const svc = this.externalService(op, input.cluster, input.service);
    const wanted = input.taskSets;
    return svc.taskSets.filter((t) => !wanted || wanted.includes(t.id) || wanted.includes(t.arn)).map((t) => viewTaskSet(svc, t));
  }

  async updateServicePrimaryTaskSet(input: { cluster: string; service: string; primaryTaskSet: string }): Promise<TaskSet> {
    const op = "UpdateServicePrimaryTaskSet";
    await this.sim.gate("ECS", op);
    const svc = this.externalService(op, input.cluster, input.service);
    const ts = this.taskSet(op, svc, input.primaryTaskSet);
    if (ts.status === "DRAINING") throw this.invalid(op, "The specified task set is draining and cannot be made primary.");
    for (const other of svc.taskSets) if (other.status === "PRIMARY" && other !== ts) other.status = "ACTIVE";
    ts.status = "PRIMARY";
    ts.updatedAt = this.sim.now;
    svc.taskDef = ts.taskDef;
    this.sim.markDirty(svc);
    return viewTaskSet(svc, ts);
  }

  async listServiceDeployments(input: { cluster: string; service: string; status?: readonly ServiceDeploymentStatus[]; createdAfter?: number }): Promise<ServiceDeploymentBrief[]> {
    const op = "ListServiceDeployments";
    await this.sim.gate("ECS", op);
    const svc = this.sim.service(this.sim.cluster(input.cluster, op), input.service, op);
    const all = listServiceDeployments(this.sim, svc, { ...(input.status ? { status: input.status } : {}), ...(input.createdAfter !== undefined ? { createdAfter: input.createdAfter } : {}) });
    // Pages of 100: every further page is another request.
    for (let page = 1; page < Math.ceil(all.length / 100); page++) await this.sim.gate("ECS", op);
    return all;
  }

  async describeServiceDeployments(arns: readonly string[]): Promise<{ serviceDeployments: ServiceDeployment[]; failures: Failure[] }> {
    const out: { serviceDeployments: ServiceDeployment[]; failures: Failure[] } = { serviceDeployments: [], failures: [] };
    for (const batch of chunk(arns, 20)) {
      await this.sim.gate("ECS", "DescribeServiceDeployments");
      const r = describeServiceDeployments(this.sim, batch, viewServiceDeployment);
      out.serviceDeployments.push(...r.serviceDeployments);
      out.failures.push(...r.failures);
    }
    return out;
  }

  async describeServiceRevisions(arns: readonly string[]): Promise<{ serviceRevisions: ServiceRevision[]; failures: Failure[] }> {
    const out: { serviceRevisions: ServiceRevision[]; failures: Failure[] } = { serviceRevisions: [], failures: [] };
    for (const batch of chunk(arns, 20)) {
      await this.sim.gate("ECS", "DescribeServiceRevisions");
      const r = describeServiceRevisions(this.sim, batch, viewServiceRevision);
      out.serviceRevisions.push(...r.serviceRevisions);
      out.failures.push(...r.failures);
    }
    return out;
  }

  async stopServiceDeployment(input: { serviceDeploymentArn: string; stopType: "ROLLBACK" }): Promise<void> {
    await this.sim.gate("ECS", "StopServiceDeployment");
    stopServiceDeployment(this.sim, input.serviceDeploymentArn, input.stopType);
  }

  async continueServiceDeployment(input: { serviceDeploymentArn: string; hookId: string; action: "CONTINUE" | "ROLLBACK" }): Promise<void> {
    await this.sim.gate("ECS", "ContinueServiceDeployment");
    continueServiceDeployment(this.sim, input.serviceDeploymentArn, input.hookId, input.action);
  }
}

// ---- calls beyond the port, for building a world by API (the wire front door, src/sim/wire) ----
// They return AWS's records (views.ts), as DescribeServices' `definition` does.

export interface ListTaskDefinitionsInput {
  familyPrefix?: string;
  status?: string;
  sort?: string;
}

/** CreateCluster members DescribeClusters reports as given. */
const CLUSTER_REPORTED = ["tags", "settings", "configuration", "capacityProviders", "defaultCapacityProviderStrategy", "serviceConnectDefaults"] as const;

export class SimEcsWorld {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  /** CreateCluster: an existing cluster of that name is returned unchanged, as ECS does. */
  async createCluster(request: EcsRequest): Promise<Rec> {
    const op = "CreateCluster";
    await this.sim.gate("ECS", op);
    const name = str(request["clusterName"]) ?? "default";
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw this.sim.error("ECS", op, "InvalidParameterException", "Cluster name may contain up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.");
    let c = this.sim.clusters.get(name);
    if (!c) {
      c = this.sim.addCluster(name);
      c.request = pick(structuredClone(request), CLUSTER_REPORTED);
    }
    return clusterRecord(c);
  }

  /** No names: the `default` cluster. Unknown names come back in `failures` with reason MISSING. */
  async describeClusters(clusters: readonly string[] | undefined): Promise<{ clusters: Rec[]; failures: Failure[] }> {
    await this.sim.gate("ECS", "DescribeClusters");
    const out: Rec[] = [];
    const failures: Failure[] = [];
    for (const ref of clusters && clusters.length > 0 ? clusters : ["default"]) {
      const c = this.sim.clusters.get(ref.slice(ref.lastIndexOf("/") + 1));
      if (c) out.push(clusterRecord(c));
      else failures.push({ arn: ref.startsWith("arn:") ? ref : `arn:aws:ecs:${this.sim.region}:${this.sim.account}:cluster/${ref}`, reason: "MISSING" });
    }
    return { clusters: out, failures };
  }

  async listClusters(): Promise<string[]> {
    await this.sim.gate("ECS", "ListClusters");
    return [...this.sim.clusters.values()].map((c) => c.arn);
  }

  /** ACTIVE and DRAINING services; INACTIVE ones are no longer listed. */
  async listServices(cluster: string | undefined): Promise<string[]> {
    const op = "ListServices";
    await this.sim.gate("ECS", op);
    const c = this.sim.cluster(cluster, op);
    return [...c.services.values()].filter((s) => s.status !== "INACTIVE").map((s) => s.arn);
  }

  /** `familyPrefix` is a whole family name (as ECS reads it); ACTIVE revisions unless `status` says otherwise; by family and revision. */
  async listTaskDefinitions(input: ListTaskDefinitionsInput): Promise<string[]> {
    await this.sim.gate("ECS", "ListTaskDefinitions");
    const status = input.status ?? "ACTIVE";
    const families = [...this.sim.taskDefs.keys()].filter((f) => input.familyPrefix === undefined || f === input.familyPrefix).sort();
    const arns = families.flatMap((f) => (this.sim.taskDefs.get(f) ?? []).filter((td) => status === "ALL" || td.status === status).map((td) => td.arn));
    return input.sort === "DESC" ? arns.reverse() : arns;
  }

  /** The revision becomes INACTIVE: still describable, no longer used for new services or by `family` alone. */
  async deregisterTaskDefinition(ref: string | undefined): Promise<Rec> {
    const op = "DeregisterTaskDefinition";
    await this.sim.gate("ECS", op);
    const short = ref?.slice(ref.lastIndexOf("/") + 1) ?? "";
    if (!/:\d+$/.test(short)) throw this.sim.error("ECS", op, "ClientException", "The task definition must be given as family:revision or as a full ARN.");
    const td = this.sim.taskDefinition(short, op);
    td.status = "INACTIVE";
    return taskDefinitionRecord(td);
  }
}

// ---- shared with scenario loading ----

const SHAPE_KEYS = ["loadBalancers", "networkConfiguration", "platformVersion", "capacityProviderStrategy", "launchType", "serviceConnectConfiguration", "volumeConfigurations"] as const;

/**
 * CreateService/UpdateService members that DescribeServices reports and that the simulator keeps
 * only to report them (views.ts `serviceDefinition`); the modelled ones (desiredCount, task
 * definition, load balancers, deployment configuration, grace period) come from its own state.
 */
const REPORTED_KEYS = [
  "launchType",
  "capacityProviderStrategy",
  "platformVersion",
  "deploymentConfiguration",
  "networkConfiguration",
  "serviceRegistries",
  "placementConstraints",
  "placementStrategy",
  "schedulingStrategy",
  "enableECSManagedTags",
  "propagateTags",
  "enableExecuteCommand",
  "availabilityZoneRebalancing",
  "role",
  "tags",
  "serviceConnectConfiguration",
  "volumeConfigurations",
  "vpcLatticeConfigurations",
] as const;

/** UpdateService: what it sets replaces what was there (a deployment configuration merges, as the simulator's own fields do). */
function rememberReported(svc: SimService, request: Rec): void {
  for (const key of REPORTED_KEYS) {
    const v = request[key];
    if (v === undefined || key === "role" || key === "tags" || key === "schedulingStrategy") continue; // not UpdateService members
    svc.request[key] = key === "deploymentConfiguration" && isRec(v) && isRec(svc.request[key]) ? { ...svc.request[key], ...structuredClone(v) } : structuredClone(v);
  }
  // A capacity provider strategy replaces the launch type (the only switch UpdateService allows).
  if (request["capacityProviderStrategy"] !== undefined) delete svc.request["launchType"];
}

function pick(r: Rec, keys: readonly string[]): Rec {
  const out: Rec = {};
  for (const k of keys) if (r[k] !== undefined) out[k] = r[k];
  return out;
}

function shapeFields(svc: SimService): Rec {
  return JSON.parse(svc.deploymentShape) as Rec;
}

function deploymentShape(r: Rec): string {
  return JSON.stringify(pick(r, SHAPE_KEYS));
}

export function registerTaskDefinition(sim: SimulatorCore, request: EcsRequest): SimTaskDef {
  const op = "RegisterTaskDefinition";
  const client = (m: string) => sim.error("ECS", op, "ClientException", m);
  const family = str(request["family"]);
  if (!family || !/^[A-Za-z0-9_-]{1,255}$/.test(family)) throw client("Family contains invalid characters or is missing.");
  const defs = request["containerDefinitions"];
  if (!Array.isArray(defs) || defs.length === 0) throw client("Container definitions are required.");
  const containers: SimContainerDef[] = defs.map((d: unknown) => {
    if (!isRec(d)) throw client("Container definitions must be objects.");
    const name = str(d["name"]);
    const image = str(d["image"]);
    if (!name) throw client("Container.name should not be null or empty.");
    if (!image) throw client("Container.image should not be null or empty.");
    const port = Array.isArray(d["portMappings"]) && isRec(d["portMappings"][0]) ? num(d["portMappings"][0]["containerPort"]) : undefined;
    const hc = isRec(d["healthCheck"]) ? d["healthCheck"] : undefined;
    return {
      name,
      image,
      essential: d["essential"] !== false,
      ...(port !== undefined ? { containerPort: port } : {}),
      ...(hc ? { healthCheck: { intervalMs: (num(hc["interval"]) ?? 30) * 1000, retries: num(hc["retries"]) ?? 3, startPeriodMs: (num(hc["startPeriod"]) ?? 0) * 1000 } } : {}),
    };
  });
  if (!containers.some((c) => c.essential)) throw client("A task definition must have at least one essential container.");
  const revisions = sim.taskDefs.get(family) ?? [];
  sim.taskDefs.set(family, revisions);
  const revision = (revisions.at(-1)?.revision ?? 0) + 1;
  const td: SimTaskDef = { arn: `arn:aws:ecs:${sim.region}:${sim.account}:task-definition/${family}:${revision}`, family, revision, status: "ACTIVE", containers, registeredAt: sim.now, request: structuredClone(request) };
  revisions.push(td);
  return td;
}

export function parseLoadBalancers(sim: SimulatorCore, v: unknown, op: string): LoadBalancerRef[] {
  if (!Array.isArray(v)) throw sim.error("ECS", op, "InvalidParameterException", "loadBalancers must be a list.");
  return v.map((x: unknown) => {
    if (!isRec(x)) throw sim.error("ECS", op, "InvalidParameterException", "loadBalancers entries must be objects.");
    const arn = str(x["targetGroupArn"]);
    if (arn !== undefined) {
      if (!sim.elb.targetGroups.has(arn)) throw sim.error("ECS", op, "InvalidParameterException", `Unable to find target group ${arn}.`);
      if (sim.elb.loadBalancerArnsOf(arn).length === 0) throw sim.error("ECS", op, "InvalidParameterException", `The target group with targetGroupArn ${arn} does not have an associated load balancer.`);
    }
    const ac = x["advancedConfiguration"];
    if (ac !== undefined && !isRec(ac)) throw sim.error("ECS", op, "InvalidParameterException", "advancedConfiguration must be an object.");
    const advanced = ac ? pick(ac, ["alternateTargetGroupArn", "productionListenerRule", "testListenerRule", "roleArn"]) : undefined;
    return {
      ...(arn !== undefined ? { targetGroupArn: arn } : {}),
      ...(str(x["loadBalancerName"]) !== undefined ? { loadBalancerName: str(x["loadBalancerName"])! } : {}),
      ...(str(x["containerName"]) !== undefined ? { containerName: str(x["containerName"])! } : {}),
      ...(num(x["containerPort"]) !== undefined ? { containerPort: num(x["containerPort"])! } : {}),
      ...(advanced ? { advancedConfiguration: advanced } : {}),
    };
  });
}

function mergeDeploymentConfiguration(cur: SimService["deploymentConfiguration"], dc: Rec, invalid: (m: string) => Error): SimService["deploymentConfiguration"] {
  const min = num(dc["minimumHealthyPercent"]) ?? cur.minimumHealthyPercent;
  const max = num(dc["maximumPercent"]) ?? cur.maximumPercent;
  if (min < 0 || min > 100) throw invalid("minimumHealthyPercent must be between 0 and 100.");
  if (max < 100 && max < min) throw invalid("maximumPercent must be greater than or equal to minimumHealthyPercent.");
  const cb = isRec(dc["deploymentCircuitBreaker"]) ? dc["deploymentCircuitBreaker"] : undefined;
  return {
    minimumHealthyPercent: min,
    maximumPercent: max,
    deploymentCircuitBreaker: cb ? { enable: cb["enable"] === true, rollback: cb["rollback"] === true } : cur.deploymentCircuitBreaker,
  };
}

export function startDeployment(sim: SimulatorCore, svc: SimService, td: SimTaskDef, opts: { completed?: boolean } = {}): SimDeployment {
  for (const d of svc.deployments) if (d.status === "PRIMARY") d.status = "ACTIVE";
  const d: SimDeployment = {
    kind: "deployment",
    id: sim.ids.deploymentId(),
    status: "PRIMARY",
    taskDef: td,
    rolloutState: opts.completed ? "COMPLETED" : "IN_PROGRESS",
    rolloutStateReason: "",
    failedTasks: 0,
    breaker: { stage: 1, evaluating: !opts.completed },
    stalled: false,
    loadBalancers: structuredClone(svc.loadBalancers),
    createdAt: sim.now,
    updatedAt: sim.now,
    tasks: new Set(),
  };
  d.rolloutStateReason = opts.completed ? `ECS deployment ${d.id} completed.` : `ECS deployment ${d.id} in progress.`;
  svc.deployments.unshift(d);
  svc.taskDef = td;
  svc.steady = false;
  return d;
}

/** CreateTaskSet members DescribeServices/DescribeTaskSets report as given (the simulator does not model them). */
const TASK_SET_SETTINGS = ["launchType", "capacityProviderStrategy", "platformVersion", "networkConfiguration", "serviceRegistries"] as const;

export function createTaskSet(sim: SimulatorCore, svc: SimService, td: SimTaskDef, scalePercent: number, loadBalancers: LoadBalancerRef[], externalId?: string, settings: Record<string, unknown> = {}): SimTaskSet {
  const id = sim.ids.deploymentId();
  const ts: SimTaskSet = {
    kind: "taskSet",
    id,
    arn: `arn:aws:ecs:${sim.region}:${sim.account}:task-set/${svc.cluster.name}/${svc.name}/${id}`,
    status: "ACTIVE",
    taskDef: td,
    ...(externalId !== undefined ? { externalId } : {}),
    settings,
    scalePercent,
    loadBalancers,
    stabilityStatus: "STABILIZING",
    stabilityStatusAt: sim.now,
    createdAt: sim.now,
    updatedAt: sim.now,
    tasks: new Set(),
  };
  svc.taskSets.push(ts);
  sim.markDirty(svc);
  return ts;
}

export function createService(sim: SimulatorCore, request: EcsRequest, op: string): SimService {
  const invalid = (m: string) => sim.error("ECS", op, "InvalidParameterException", m);
  const c = sim.cluster(str(request["cluster"]), op);
  const name = str(request["serviceName"]);
  if (!name || !/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw invalid("serviceName is required and may contain only letters, numbers, hyphens and underscores.");
  const existing = c.services.get(name);
  if (existing?.status === "ACTIVE") throw invalid("Creation of service was not idempotent.");
  if (existing?.status === "DRAINING") throw invalid("Unable to Start a service that is still Draining.");
  const controllerType = isRec(request["deploymentController"]) ? str(request["deploymentController"]["type"]) : undefined;
  if (controllerType !== undefined && controllerType !== "ECS" && controllerType !== "EXTERNAL") throw invalid(`The simulator does not model deployment controller ${controllerType}.`);
  const controller = controllerType === "EXTERNAL" ? "EXTERNAL" : "ECS";
  const tdRef = str(request["taskDefinition"]);
  if (controller === "ECS" && tdRef === undefined) throw invalid("TaskDefinition is required for services using the ECS deployment controller.");
  const td = tdRef !== undefined ? sim.taskDefinition(tdRef, op) : undefined;
  if (request["launchType"] !== undefined && request["capacityProviderStrategy"] !== undefined) {
    throw invalid("Specifying both a launchType and capacityProviderStrategy is not supported. Remove one and try again.");
  }
  const desired = request["desiredCount"] ?? 1;
  if (typeof desired !== "number" || !Number.isInteger(desired) || desired < 0) throw invalid("desiredCount must be a non-negative integer.");
  const lbs = request["loadBalancers"] !== undefined ? parseLoadBalancers(sim, request["loadBalancers"], op) : [];
  const managedProblem = controller === "ECS" && isRec(request["deploymentConfiguration"]) ? checkManagedRequest(request["deploymentConfiguration"], lbs, (arn) => sim.elb.targetGroups.has(arn)) : undefined;
  if (managedProblem) throw invalid(managedProblem);
  const grace = num(request["healthCheckGracePeriodSeconds"]);
  // EXTERNAL services carry their load balancers on task sets, so the grace period is accepted without them.
  if (grace !== undefined && lbs.length === 0 && controller !== "EXTERNAL") throw invalid("Health check grace period is only valid for services configured to use load balancers");
  const base = { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } };
  const svc: SimService = {
    name,
    arn: `arn:aws:ecs:${sim.region}:${sim.account}:service/${c.name}/${name}`,
    cluster: c,
    status: "ACTIVE",
    controller,
    desiredCount: desired,
    ...(td ? { taskDef: td } : {}),
    deploymentConfiguration: isRec(request["deploymentConfiguration"]) ? mergeDeploymentConfiguration(base, request["deploymentConfiguration"], invalid) : base,
    loadBalancers: lbs,
    healthCheckGracePeriodMs: (grace ?? 0) * 1000,
    ...(str(request["launchType"]) ? { launchType: str(request["launchType"])! } : {}),
    deploymentShape: deploymentShape(request),
    request: pick(structuredClone(request), REPORTED_KEYS),
    deployments: [],
    taskSets: [],
    events: [],
    createdAt: sim.now,
    steady: false,
    passQueued: false,
    tasks: new Set(),
  };
  c.services.set(name, svc);
  const strategy = managedStrategyOf(svc);
  if (controller === "ECS" && td) {
    if (strategy) startManagedDeployment(sim, svc, td, strategy);
    else startDeployment(sim, svc, td);
  }
  sim.markDirty(svc);
  return svc;
}
