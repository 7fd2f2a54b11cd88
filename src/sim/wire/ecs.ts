/**
 * ECS operations on the wire: each calls the simulator's API layer (the engine's port, or the
 * world-building calls) and answers with the records ECS returns.
 */
import type { TaskSet } from "../../aws/ports.ts";
import type { SimService } from "../model.ts";
import type { Simulator } from "../simulator.ts";
import { serviceDefinition, taskDefinitionRecord, taskRecord, taskSetRecord } from "../views.ts";
import { isRec, page, Reader, type Handler, type PageKeys, type Rec } from "./operation.ts";
import type { ServiceDeploymentStatus } from "../../aws/ports.ts";
import { describeServiceDeployments, describeServiceRevisions, listServiceDeployments, serviceDeploymentRecord, serviceRevisionRecord } from "../managed-api.ts";

const read = (sim: Simulator, operation: string, input: Rec) => new Reader(sim, "ECS", operation, input, "InvalidParameterException");

const listed = (items: string, defaultSize: number): PageKeys => ({ items, tokenIn: "nextToken", tokenOut: "nextToken", size: "maxResults", defaultSize, maxSize: 100 });

function serviceAt(sim: Simulator, arn: string): SimService | undefined {
  const m = /:service\/([^/]+)\/([^/]+)$/.exec(arn);
  return m ? sim.clusters.get(m[1]!)?.services.get(m[2]!) : undefined;
}

function serviceRecord(sim: Simulator, arn: string): Rec | undefined {
  const svc = serviceAt(sim, arn);
  return svc ? serviceDefinition(svc) : undefined;
}

function taskSetOut(sim: Simulator, ts: TaskSet): Rec {
  const own = serviceAt(sim, ts.serviceArn)?.taskSets.find((t) => t.id === ts.id);
  return { taskSet: taskSetRecord(ts, own?.settings ?? {}) };
}

/** DescribeTaskDefinition/RegisterTaskDefinition answer with the task definition and, beside it, its tags. */
function taskDefinitionOut(record: Rec): Rec {
  const { tags, ...taskDefinition } = record;
  return { taskDefinition, tags: tags ?? [] };
}

export const ECS_OPERATIONS: Record<string, Handler> = {
  async CreateCluster(sim, input) {
    return { cluster: await sim.world().ecs.createCluster(input) };
  },
  async DescribeClusters(sim, input) {
    return sim.world().ecs.describeClusters(read(sim, "DescribeClusters", input).strings("clusters", 100));
  },
  async ListClusters(sim, input) {
    const clusters = await sim.world().ecs.listClusters();
    return page(clusters, input, listed("clusterArns", 100), (m) => read(sim, "ListClusters", input).fail(m));
  },
  async RegisterTaskDefinition(sim, input) {
    const td = await sim.ports().ecs.registerTaskDefinition(input);
    return taskDefinitionOut(taskDefinitionRecord(sim.taskDefinition(td.taskDefinitionArn, "RegisterTaskDefinition")));
  },
  async DescribeTaskDefinition(sim, input) {
    const td = await sim.ports().ecs.describeTaskDefinition(read(sim, "DescribeTaskDefinition", input).required("taskDefinition"));
    return taskDefinitionOut(td.definition ?? {});
  },
  async DeregisterTaskDefinition(sim, input) {
    const record = await sim.world().ecs.deregisterTaskDefinition(read(sim, "DeregisterTaskDefinition", input).required("taskDefinition"));
    return { taskDefinition: taskDefinitionOut(record)["taskDefinition"] };
  },
  async ListTaskDefinitions(sim, input) {
    const r = read(sim, "ListTaskDefinitions", input);
    const arns = await sim.world().ecs.listTaskDefinitions({ ...ifSet("familyPrefix", r.str("familyPrefix")), ...ifSet("status", r.str("status")), ...ifSet("sort", r.str("sort")) });
    return page(arns, input, listed("taskDefinitionArns", 100), (m) => r.fail(m));
  },
  async CreateService(sim, input) {
    const svc = await sim.ports().ecs.createService(input);
    return { service: serviceRecord(sim, svc.serviceArn) };
  },
  async UpdateService(sim, input) {
    read(sim, "UpdateService", input).required("service");
    const svc = await sim.ports().ecs.updateService(input);
    return { service: serviceRecord(sim, svc.serviceArn) };
  },
  async DeleteService(sim, input) {
    const r = read(sim, "DeleteService", input);
    const svc = await sim.ports().ecs.deleteService({ cluster: r.str("cluster") ?? "default", service: r.required("service"), ...ifSet("force", r.bool("force")) });
    return { service: serviceRecord(sim, svc.serviceArn) };
  },
  async DescribeServices(sim, input) {
    const r = read(sim, "DescribeServices", input);
    const names = r.strings("services", 10);
    if (!names?.length) throw r.fail("services must contain between 1 and 10 names.");
    const out = await sim.ports().ecs.describeServices(r.str("cluster") ?? "default", names);
    return { services: out.services.map((s) => s.definition), failures: out.failures };
  },
  async ListServices(sim, input) {
    const r = read(sim, "ListServices", input);
    return page(await sim.world().ecs.listServices(r.str("cluster")), input, listed("serviceArns", 10), (m) => r.fail(m));
  },
  async ListTasks(sim, input) {
    const r = read(sim, "ListTasks", input);
    const desired = r.str("desiredStatus");
    if (desired !== undefined && desired !== "RUNNING" && desired !== "PENDING" && desired !== "STOPPED") throw r.fail("desiredStatus must be RUNNING, PENDING or STOPPED.");
    const status: "RUNNING" | "PENDING" | "STOPPED" | undefined = desired;
    const arns = await sim.ports().ecs.listTasks({
      cluster: r.str("cluster") ?? "default",
      ...ifSet("serviceName", r.str("serviceName")),
      ...ifSet("startedBy", r.str("startedBy")),
      ...ifSet("family", r.str("family")),
      ...ifSet("desiredStatus", status),
    });
    return page(arns, input, listed("taskArns", 100), (m) => r.fail(m));
  },
  async DescribeTasks(sim, input) {
    const r = read(sim, "DescribeTasks", input);
    const ids = r.strings("tasks", 100);
    if (!ids?.length) throw r.fail("tasks must contain between 1 and 100 ids.");
    const cluster = r.str("cluster") ?? "default";
    const out = await sim.ports().ecs.describeTasks(cluster, ids);
    const c = sim.cluster(cluster, "DescribeTasks");
    return {
      tasks: out.tasks.map((t) => c.tasks.get(t.taskArn.slice(t.taskArn.lastIndexOf("/") + 1))).filter((t) => t !== undefined).map(taskRecord),
      failures: out.failures,
    };
  },
  async CreateTaskSet(sim, input) {
    const r = read(sim, "CreateTaskSet", input);
    r.required("service");
    r.required("taskDefinition");
    return taskSetOut(sim, await sim.ports().ecs.createTaskSet({ cluster: "default", ...input } as never));
  },
  async UpdateTaskSet(sim, input) {
    const r = read(sim, "UpdateTaskSet", input);
    const scale = input["scale"];
    if (typeof scale !== "object" || scale === null || typeof (scale as Rec)["value"] !== "number") throw r.fail("scale.value is required.");
    return taskSetOut(sim, await sim.ports().ecs.updateTaskSet({ cluster: r.required("cluster"), service: r.required("service"), taskSet: r.required("taskSet"), scale: { value: (scale as Rec)["value"] as number, unit: "PERCENT" } }));
  },
  async DeleteTaskSet(sim, input) {
    const r = read(sim, "DeleteTaskSet", input);
    return taskSetOut(sim, await sim.ports().ecs.deleteTaskSet({ cluster: r.required("cluster"), service: r.required("service"), taskSet: r.required("taskSet"), ...ifSet("force", r.bool("force")) }));
  },
  async UpdateServicePrimaryTaskSet(sim, input) {
    const r = read(sim, "UpdateServicePrimaryTaskSet", input);
    return taskSetOut(sim, await sim.ports().ecs.updateServicePrimaryTaskSet({ cluster: r.required("cluster"), service: r.required("service"), primaryTaskSet: r.required("primaryTaskSet") }));
  },
  async ListServiceDeployments(sim, input) {
    const r = read(sim, "ListServiceDeployments", input);
    const service = r.required("service");
    const status = r.strings("status") as ServiceDeploymentStatus[] | undefined;
    const created = isRec(input["createdAt"]) ? input["createdAt"] : {};
    await sim.gate("ECS", "ListServiceDeployments");
    const svc = sim.service(sim.cluster(r.str("cluster"), "ListServiceDeployments"), service, "ListServiceDeployments");
    const briefs = listServiceDeployments(sim, svc, { ...ifSet("status", status), ...ifSet("createdAfter", millis(created["after"])), ...ifSet("createdBefore", millis(created["before"])) });
    return page(briefs, input, listed("serviceDeployments", 20), (m) => r.fail(m));
  },
  async DescribeServiceDeployments(sim, input) {
    const r = read(sim, "DescribeServiceDeployments", input);
    const arns = r.strings("serviceDeploymentArns", 20);
    if (!arns?.length) throw r.fail("serviceDeploymentArns must contain between 1 and 20 ARNs.");
    await sim.gate("ECS", "DescribeServiceDeployments");
    return describeServiceDeployments(sim, arns, serviceDeploymentRecord);
  },
  async DescribeServiceRevisions(sim, input) {
    const r = read(sim, "DescribeServiceRevisions", input);
    const arns = r.strings("serviceRevisionArns", 20);
    if (!arns?.length) throw r.fail("serviceRevisionArns must contain between 1 and 20 ARNs.");
    await sim.gate("ECS", "DescribeServiceRevisions");
    return describeServiceRevisions(sim, arns, serviceRevisionRecord);
  },
  async StopServiceDeployment(sim, input) {
    const r = read(sim, "StopServiceDeployment", input);
    const arn = r.required("serviceDeploymentArn");
    await sim.ports().ecs.stopServiceDeployment({ serviceDeploymentArn: arn, stopType: (r.str("stopType") ?? "ROLLBACK") as "ROLLBACK" });
    return { serviceDeploymentArn: arn };
  },
  async ContinueServiceDeployment(sim, input) {
    const r = read(sim, "ContinueServiceDeployment", input);
    const arn = r.required("serviceDeploymentArn");
    await sim.ports().ecs.continueServiceDeployment({ serviceDeploymentArn: arn, hookId: r.required("hookId"), action: (r.str("action") ?? "CONTINUE") as "CONTINUE" });
    return { serviceDeploymentArn: arn };
  },
  async DescribeTaskSets(sim, input) {
    const r = read(sim, "DescribeTaskSets", input);
    const wanted = r.strings("taskSets");
    const sets = await sim.ports().ecs.describeTaskSets({ cluster: r.required("cluster"), service: r.required("service"), ...ifSet("taskSets", wanted) });
    const found = new Set(sets.flatMap((t) => [t.id, t.taskSetArn]));
    return { taskSets: sets.map((t) => taskSetOut(sim, t)["taskSet"]), failures: (wanted ?? []).filter((w) => !found.has(w)).map((arn) => ({ arn, reason: "MISSING" })) };
  },
};

/** A JSON-protocol timestamp: epoch seconds (or an ISO string). */
function millis(v: unknown): number | undefined {
  if (typeof v === "number") return v * 1000;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function ifSet<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}
