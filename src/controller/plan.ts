/**
 * Desired vs live for loaded objects: describe what runs (read-only calls only: DescribeServices
 * and DescribeTaskDefinition), then compare with `src/plan`'s `planObject`. Used by `flotilla plan`
 * and by apply's decisions (controller/apply.ts). See docs/plan.md.
 */
import { AwsError } from "../aws/errors.ts";
import type { AwsPorts, AwsPortsFactory, Service, TaskDefinition } from "../aws/ports.ts";
import type { LoadedObject } from "../config/load-object.ts";
import { mapBounded } from "../config/repository.ts";
import { planObject, type Diff, type JsonRecord, type Plan, type PlanAction } from "../plan/index.ts";

export interface LiveDefinitions {
  /** The service as described, absent when ECS does not know it. */
  service?: Service;
  /** The task definition the live service points at, when it could be described. */
  taskDefinition?: TaskDefinition;
}

export interface ObjectPlan {
  object: string;
  action: PlanAction | "invalid";
  reasons: string[];
  notCompared: string[];
  service: Diff;
  taskDefinition: Diff;
}

const NO_DIFF: Diff = { changed: false, changes: [], text: "" };

/** DescribeServices for one service and, when it exists, DescribeTaskDefinition of the revision it runs. */
export async function describeLiveDefinitions(ports: AwsPorts, cluster: string, service: string): Promise<LiveDefinitions> {
  const found = (await ports.ecs.describeServices(cluster, [service])).services[0];
  if (!found) return {};
  if (found.status !== "ACTIVE" || !found.taskDefinition) return { service: found };
  try {
    return { service: found, taskDefinition: await ports.ecs.describeTaskDefinition(found.taskDefinition) };
  } catch (e) {
    // A revision deleted since: the plan then shows the whole task definition as added.
    if (e instanceof AwsError && e.name === "ClientException") return { service: found };
    throw e;
  }
}

/** The plan of a valid object against what was described. */
export function planFromLive(o: LoadedObject, live: LiveDefinitions): Plan {
  if (!o.svcdef) throw new Error(`object ${o.name} has no rendered svcdef`);
  // Ports without full records (`definition`) still give the narrow fields under the same names.
  const full = live.service?.definition !== undefined && (live.taskDefinition === undefined || live.taskDefinition.definition !== undefined);
  const record = (x: { definition?: JsonRecord }): JsonRecord => x.definition ?? { ...x };
  return planObject({
    desired: { service: o.svcdef, ...(o.taskdef ? { taskDefinition: o.taskdef } : {}) },
    live: {
      ...(live.service ? { service: withPrimaryTaskSet(record(live.service), o) } : {}),
      ...(live.taskDefinition ? { taskDefinition: record(live.taskDefinition) } : {}),
    },
    sensitive: o.sensitive,
    liveIncludesTags: full,
  });
}

const isRecord = (v: unknown): v is JsonRecord => typeof v === "object" && v !== null && !Array.isArray(v);

/** What a blue/green service keeps on its task sets rather than on the service record. */
const TASK_SET_MEMBERS = ["taskDefinition", "loadBalancers", "serviceRegistries", "launchType", "capacityProviderStrategy", "platformVersion", "networkConfiguration"] as const;

/**
 * Blue/green (EXTERNAL) services keep their load balancers, network and capacity settings on task
 * sets. The PRIMARY task set's stand in for the service's where the service has none, and each
 * target group is mapped back to the svcdef's member of its depdef pair (the live one alternates
 * between blue and green from one deployment to the next).
 */
export function withPrimaryTaskSet(service: JsonRecord, o: Pick<LoadedObject, "svcdef" | "depdef">): JsonRecord {
  const controller = isRecord(service["deploymentController"]) ? service["deploymentController"]["type"] : undefined;
  const sets = service["taskSets"];
  if (controller !== "EXTERNAL" || !Array.isArray(sets)) return service;
  const primary = sets.find((t): t is JsonRecord => isRecord(t) && t["status"] === "PRIMARY");
  if (!primary) return service;
  const out: JsonRecord = { ...service };
  for (const key of TASK_SET_MEMBERS) {
    const current = out[key];
    const empty = current === undefined || current === null || (Array.isArray(current) && current.length === 0);
    if (empty && primary[key] !== undefined) out[key] = primary[key];
  }
  const wanted = new Set((Array.isArray(o.svcdef?.["loadBalancers"]) ? o.svcdef["loadBalancers"] : []).map((lb: unknown) => (isRecord(lb) ? lb["targetGroupArn"] : undefined)));
  const partner = new Map<string, string>();
  for (const [a, b] of o.depdef?.targetGroupArnPairs ?? []) {
    if (wanted.has(a) && !wanted.has(b)) partner.set(b, a);
    if (wanted.has(b) && !wanted.has(a)) partner.set(a, b);
  }
  if (Array.isArray(out["loadBalancers"]) && partner.size) {
    out["loadBalancers"] = out["loadBalancers"].map((lb: unknown) => {
      const arn = isRecord(lb) ? lb["targetGroupArn"] : undefined;
      return isRecord(lb) && typeof arn === "string" && partner.has(arn) ? { ...lb, targetGroupArn: partner.get(arn) } : lb;
    });
  }
  return out;
}

/** Plans one object: invalid objects with their first error, the others against what runs. */
export async function planLoadedObject(o: LoadedObject, aws: AwsPortsFactory): Promise<ObjectPlan> {
  if (!o.valid || !o.identity || !o.svcdef) {
    const first = o.problems.find((p) => p.severity === "error")?.message ?? "invalid";
    return { object: o.name, action: "invalid", reasons: [first], notCompared: [], service: NO_DIFF, taskDefinition: NO_DIFF };
  }
  const { region, cluster, service } = o.identity;
  let live: LiveDefinitions;
  let note: string | undefined;
  try {
    live = await describeLiveDefinitions(aws(region), cluster, service);
  } catch (e) {
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
    live = {};
    note = `the cluster ${cluster} does not exist in ${region}: apply will fail until it is created`;
  }
  const plan = planFromLive(o, live);
  return { object: o.name, action: plan.action, reasons: note ? [...plan.reasons, note] : plan.reasons, notCompared: plan.notCompared, service: plan.service, taskDefinition: plan.taskDefinition };
}

/** `only`: object names or path prefixes (`apps/web/web`, `apps/`). */
export function selectObjects(objects: readonly LoadedObject[], only: readonly string[] | undefined): LoadedObject[] {
  if (!only?.length) return [...objects];
  const prefixes = only.map((p) => p.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "").replace(/\/+$/, ""));
  return objects.filter((o) => prefixes.some((p) => o.name === p || o.name.startsWith(p + "/")));
}

export async function planObjects(objects: readonly LoadedObject[], aws: AwsPortsFactory, options: { only?: readonly string[]; concurrency?: number } = {}): Promise<ObjectPlan[]> {
  return mapBounded(selectObjects(objects, options.only), options.concurrency ?? 16, (o) => planLoadedObject(o, aws));
}
