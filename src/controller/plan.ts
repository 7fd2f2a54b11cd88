/**
 * Desired vs live for loaded objects: describe what runs (read-only calls only: DescribeServices
 * and DescribeTaskDefinition), then compare with `src/plan`'s `planObject`. For what would be
 * created or updated, also run the pre-check apply and the controller run before they start a
 * deployment (pass.ts's `precheck`: the cluster, target groups attached to a load balancer,
 * listener rules, alarms), so a plan never says "create" for what they will refuse. Used by
 * `flotilla plan` and by apply's decisions (controller/apply.ts). See docs/plan.md.
 */
import { Masker } from "../core/mask.ts";
import { AwsError } from "../aws/errors.ts";
import type { AwsPorts, AwsPortsFactory, Service, TaskDefinition } from "../aws/ports.ts";
import type { LoadedObject, Strategy } from "../config/load-object.ts";
import { rolloutSummary, strategyLabel } from "../config/strategy.ts";
import type { Problem } from "../core/problems.ts";
import { mapBounded } from "../config/repository.ts";
import { planObject, TASK_SET_MEMBERS, type Diff, type JsonRecord, type Plan, type PlanAction } from "../plan/index.ts";
import { versionServiceName } from "../config/rainbow.ts";
import { blocks, precheck } from "./pass.ts";
import { PassLookups } from "./prerequisites.ts";
import { isRecord } from "../plan/json.ts";

export interface LiveDefinitions {
  /** The service as described, absent when ECS does not know it. */
  service?: Service;
  /** The task definition the live service points at, when it could be described. */
  taskDefinition?: TaskDefinition;
}

export interface ObjectPlan {
  object: string;
  /** The engine strategy apply would use (rolling, bluegreen, ecs-managed), and in words. */
  strategy?: Strategy;
  label?: string;
  /** ECS-managed: how ECS will roll the change out (steps, bake, hooks, alarms). */
  rollout?: string;
  /** `blocked`: it differs, but apply would fail because something it needs is missing (`problems`). */
  action: PlanAction | "invalid" | "blocked";
  reasons: string[];
  notCompared: string[];
  /** What apply needs and does not find (errors), or could not check. */
  problems: Problem[];
  /** For a blocked plan, what apply would do once the problems are fixed. */
  wouldBe?: "create" | "update";
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
export function planFromLive(o: LoadedObject, live: LiveDefinitions, secretNames: readonly string[] = []): Plan {
  if (!o.svcdef) throw new Error(`object ${o.name} has no rendered svcdef`);
  // Ports without full records (`definition`) still give the narrow fields under the same names.
  const full = live.service?.definition !== undefined && (live.taskDefinition === undefined || live.taskDefinition.definition !== undefined);
  const record = (x: { definition?: JsonRecord }): JsonRecord => x.definition ?? { ...x };
  const service = live.service ? record(live.service) : undefined;
  const noPrimary = service ? withoutPrimaryTaskSet(service) : undefined;
  return planObject({
    desired: { service: o.svcdef, ...(o.taskdef ? { taskDefinition: o.taskdef } : {}) },
    live: {
      ...(service ? { service: withPrimaryTaskSet(service, o) } : {}),
      ...(live.taskDefinition ? { taskDefinition: record(live.taskDefinition) } : {}),
      ...(noPrimary ? { withoutPrimaryTaskSet: noPrimary } : {}),
    },
    sensitive: o.sensitive,
    secretNames,
    liveIncludesTags: full,
  });
}

/**
 * A blue/green (EXTERNAL) service with no PRIMARY task set — its first deployment failed or has not
 * finished, or its task sets were deleted — runs no revision: the plan says so instead of showing
 * everything it keeps on task sets as added (docs/plan.md). Undefined for any other service.
 */
function withoutPrimaryTaskSet(service: JsonRecord): { taskSets: string[] } | undefined {
  const controller = isRecord(service["deploymentController"]) ? service["deploymentController"]["type"] : undefined;
  if (controller !== "EXTERNAL") return undefined;
  const sets = (Array.isArray(service["taskSets"]) ? service["taskSets"] : []).filter(isRecord);
  if (sets.some((t) => t["status"] === "PRIMARY")) return undefined;
  // Sets on their way out (DRAINING) are not worth naming.
  return { taskSets: sets.filter((t) => t["status"] !== "DRAINING").map((t) => `${String(t["id"] ?? t["taskSetArn"])} (${String(t["status"])})`) };
}

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

/**
 * What runs for a valid object: its live service and task definition, or that its cluster does not
 * exist (then nothing runs, and nothing can be created there: the pre-check says so).
 */
export async function describeObject(o: LoadedObject, aws: AwsPortsFactory): Promise<{ live: LiveDefinitions; clusterMissing: boolean }> {
  if (!o.identity) throw new Error(`object ${o.name} has no service identity`);
  const { region, cluster, service } = o.identity;
  try {
    return { live: await describeLiveDefinitions(aws(region), cluster, service), clusterMissing: false };
  } catch (e) {
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
    return { live: {}, clusterMissing: true };
  }
}

/** Plans one object: invalid objects with their first error, the others against what runs. */
export async function planLoadedObject(o: LoadedObject, aws: AwsPortsFactory, secretNames: readonly string[] = [], lookups = new PassLookups(aws)): Promise<ObjectPlan> {
  if (!o.valid || !o.identity || !o.svcdef) {
    const first = o.problems.find((p) => p.severity === "error")?.message ?? "invalid";
    return { object: o.name, action: "invalid", reasons: [new Masker({ sensitive: o.sensitive, secretNames }).text(first)], notCompared: [], problems: [], service: NO_DIFF, taskDefinition: NO_DIFF };
  }
  if (o.depdef.rainbow) return planRainbowObject(o, lookups, secretNames);
  const { live, clusterMissing } = await describeObject(o, aws);
  const plan = planFromLive(o, live, secretNames);
  // What apply checks before it starts the deployment (pass.ts): the same verdict.
  const problems = plan.action !== "none" ? await precheck(o, lookups, { action: plan.action, clusterMissing }) : [];
  const blocked = blocks(problems);
  const rollout = plan.action !== "none" ? rolloutSummary(o.svcdef) : undefined;
  const base = { object: o.name, ...(o.strategy ? { strategy: o.strategy, label: strategyLabel(o.strategy, o.svcdef) } : {}), ...(rollout ? { rollout } : {}), reasons: plan.reasons, notCompared: plan.notCompared, problems, service: plan.service, taskDefinition: plan.taskDefinition };
  return blocked && plan.action !== "none" ? { ...base, action: "blocked", wouldBe: plan.action } : { ...base, action: plan.action };
}

/**
 * A rainbow object deploys a new version beside the others and never changes one in place: the
 * plan is `create` (the whole service and task definition, as a version's) while the version's
 * service does not run, else `none`. What the deployment needs: its listeners (and live rules),
 * and the alarms a cutover watches.
 */
async function planRainbowObject(o: LoadedObject, lookups: PassLookups, secretNames: readonly string[]): Promise<ObjectPlan> {
  const cfg = o.depdef.rainbow!;
  const { region, cluster, service } = o.identity!;
  const ports = lookups.aws(region);
  const version = cfg.version;
  const versionService = version !== undefined ? versionServiceName(service, version) : undefined;
  let live: Service | undefined;
  let clusterMissing = false;
  try {
    live = versionService ? (await ports.ecs.describeServices(cluster, [versionService])).services[0] : undefined;
  } catch (e) {
    // The version does not run: the pre-check below reports the missing cluster.
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
    clusterMissing = true;
  }
  if (live && live.status !== "INACTIVE") {
    return { object: o.name, action: "none", reasons: [`version ${version} runs as service ${versionService}: a change deploys under a new version name`], notCompared: [], problems: [], service: NO_DIFF, taskDefinition: NO_DIFF };
  }
  const plan = planFromLive(o, {}, secretNames);
  const problems = await precheck(o, lookups, versionService ? { action: "create", clusterMissing } : undefined);
  const reasons = [version !== undefined ? `deploy version ${version} as service ${versionService}, with its own target group and listener rule (live traffic unchanged)` : "deploy a version named by the commit that deploys it"];
  const base = { object: o.name, reasons, notCompared: plan.notCompared, problems, service: plan.service, taskDefinition: plan.taskDefinition };
  return blocks(problems) ? { ...base, action: "blocked", wouldBe: "create" } : { ...base, action: "create" };
}

/** `only`: object names or path prefixes (`apps/web/web`, `apps/`). */
export function selectObjects(objects: readonly LoadedObject[], only: readonly string[] | undefined): LoadedObject[] {
  if (!only?.length) return [...objects];
  const prefixes = only.map((p) => p.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "").replace(/\/+$/, ""));
  return objects.filter((o) => prefixes.some((p) => o.name === p || o.name.startsWith(p + "/")));
}

export async function planObjects(objects: readonly LoadedObject[], aws: AwsPortsFactory, options: { only?: readonly string[]; concurrency?: number; secretNames?: readonly string[] } = {}): Promise<ObjectPlan[]> {
  const lookups = new PassLookups(aws);
  return mapBounded(selectObjects(objects, options.only), options.concurrency ?? 16, (o) => planLoadedObject(o, aws, options.secretNames, lookups));
}
