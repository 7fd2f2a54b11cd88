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
      ...(live.service ? { service: record(live.service) } : {}),
      ...(live.taskDefinition ? { taskDefinition: record(live.taskDefinition) } : {}),
    },
    sensitive: o.sensitive,
    liveIncludesTags: full,
  });
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
