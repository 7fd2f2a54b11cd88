/**
 * Desired vs live for loaded objects: describe what runs (read-only calls only: DescribeServices
 * and DescribeTaskDefinition), then compare with `src/plan`'s `planObject`. For what would be
 * created or updated, also check what apply needs to exist (the cluster, target groups attached to
 * a load balancer, alarms; DescribeTargetGroups and DescribeAlarms), so a plan never says "create"
 * for what apply will refuse. Used by `flotilla plan` and by apply's decisions
 * (controller/apply.ts), which block the same objects. See docs/plan.md.
 */
import { Masker } from "../core/mask.ts";
import { AwsError } from "../aws/errors.ts";
import type { AwsPorts, AwsPortsFactory, Service, TaskDefinition } from "../aws/ports.ts";
import type { LoadedObject, Strategy } from "../config/load-object.ts";
import { rolloutSummary, strategyLabel } from "../config/strategy.ts";
import { managedLoadBalancers, managedRoutes, managedRoutingProblem } from "../deploy/traffic/managed.ts";
import { AlbRouter } from "../deploy/traffic/alb.ts";
import type { Route } from "../deploy/traffic/route.ts";
import type { Problem } from "../core/problems.ts";
import { mapBounded } from "../config/repository.ts";
import { planObject, type Diff, type JsonRecord, type Plan, type PlanAction } from "../plan/index.ts";
import { versionServiceName } from "../config/rainbow.ts";

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
  return planObject({
    desired: { service: o.svcdef, ...(o.taskdef ? { taskDefinition: o.taskdef } : {}) },
    live: {
      ...(live.service ? { service: withPrimaryTaskSet(record(live.service), o) } : {}),
      ...(live.taskDefinition ? { taskDefinition: record(live.taskDefinition) } : {}),
    },
    sensitive: o.sensitive,
    secretNames,
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

/**
 * What runs for a valid object: its live service and task definition, or the problem that its
 * cluster does not exist (then nothing runs, and nothing can be created there).
 */
export async function describeObject(o: LoadedObject, aws: AwsPortsFactory): Promise<{ ports: AwsPorts; live: LiveDefinitions; problems: Problem[] }> {
  if (!o.identity) throw new Error(`object ${o.name} has no service identity`);
  const { region, cluster, service } = o.identity;
  const ports = aws(region);
  try {
    return { ports, live: await describeLiveDefinitions(ports, cluster, service), problems: [] };
  } catch (e) {
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
    return { ports, live: {}, problems: [problem(o, "FLT-PLAN-CLUSTER-MISSING", o.files.svcdef, "$.cluster", `the cluster ${cluster} does not exist in ${region}: apply cannot create or update the service until it is created`)] };
  }
}

/** Plans one object: invalid objects with their first error, the others against what runs. */
export async function planLoadedObject(o: LoadedObject, aws: AwsPortsFactory, secretNames: readonly string[] = []): Promise<ObjectPlan> {
  if (!o.valid || !o.identity || !o.svcdef) {
    const first = o.problems.find((p) => p.severity === "error")?.message ?? "invalid";
    return { object: o.name, action: "invalid", reasons: [new Masker({ sensitive: o.sensitive, secretNames }).text(first)], notCompared: [], problems: [], service: NO_DIFF, taskDefinition: NO_DIFF };
  }
  if (o.depdef.rainbow) return planRainbowObject(o, aws, secretNames);
  const { ports, live, problems } = await describeObject(o, aws);
  const plan = planFromLive(o, live, secretNames);
  if (plan.action !== "none") problems.push(...(await missingPrerequisites(o, ports, plan.action)));
  const blocked = problems.some((p) => p.severity === "error");
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
async function planRainbowObject(o: LoadedObject, aws: AwsPortsFactory, secretNames: readonly string[]): Promise<ObjectPlan> {
  const cfg = o.depdef.rainbow!;
  const { region, cluster, service } = o.identity!;
  const ports = aws(region);
  const version = cfg.version;
  const versionService = version !== undefined ? versionServiceName(service, version) : undefined;
  let live: Service | undefined;
  try {
    live = versionService ? (await ports.ecs.describeServices(cluster, [versionService])).services[0] : undefined;
  } catch (e) {
    // A missing cluster is reported by the prerequisites below; the version does not run.
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
  }
  if (live && live.status !== "INACTIVE") {
    return { object: o.name, action: "none", reasons: [`version ${version} runs as service ${versionService}: a change deploys under a new version name`], notCompared: [], problems: [], service: NO_DIFF, taskDefinition: NO_DIFF };
  }
  const plan = planFromLive(o, {}, secretNames);
  const problems = await missingPrerequisites(o, ports, "create");
  const reasons = [version !== undefined ? `deploy version ${version} as service ${versionService}, with its own target group and listener rule (live traffic unchanged)` : "deploy a version named by the commit that deploys it"];
  const base = { object: o.name, reasons, notCompared: plan.notCompared, problems, service: plan.service, taskDefinition: plan.taskDefinition };
  return problems.some((p) => p.severity === "error") ? { ...base, action: "blocked", wouldBe: "create" } : { ...base, action: "create" };
}

function problem(o: LoadedObject, code: Problem["code"], file: string | undefined, path: string, message: string, severity: Problem["severity"] = "error"): Problem {
  return { code, severity, object: o.name, ...(file ? { file } : {}), path, message };
}

/**
 * What ECS and ELB refuse, and the blue/green engine stops on, checked before anything is changed:
 * every target group of the svcdef's load balancers and (blue/green) of the depdef's pairs exists
 * and is attached to a load balancer by a listener or rule (CreateService and CreateTaskSet refuse
 * one that is not; the listeners that forward to a pair are the ones a blue/green deployment
 * shifts), and every alarm a blue/green depdef names exists. A blue/green service's first
 * deployment uses only the svcdef's target groups; the other member of each pair is needed from
 * the next one on, so for a create its absence is a warning. A check AWS will not answer (no
 * permission) is a warning, not a verdict.
 */
export async function missingPrerequisites(o: LoadedObject, ports: AwsPorts, action: "create" | "update"): Promise<Problem[]> {
  const problems: Problem[] = [];
  const bluegreen = o.strategy === "bluegreen";
  const managed = o.strategy === "ecs-managed";
  const groups = new Map<string, { file: string | undefined; path: string; severity: Problem["severity"] }>();
  const lbs = o.svcdef?.["loadBalancers"];
  if (Array.isArray(lbs)) {
    lbs.forEach((lb, i) => {
      const arn = isRecord(lb) ? lb["targetGroupArn"] : undefined;
      if (typeof arn === "string" && !groups.has(arn)) groups.set(arn, { file: o.files.svcdef, path: `$.loadBalancers[${i}].targetGroupArn`, severity: "error" });
    });
  }
  if (managed && o.svcdef) {
    for (const lb of managedLoadBalancers(o.svcdef)) {
      if (lb.alternateTargetGroupArn && !groups.has(lb.alternateTargetGroupArn)) groups.set(lb.alternateTargetGroupArn, { file: o.files.svcdef, path: `$.loadBalancers[${lb.index}].advancedConfiguration.alternateTargetGroupArn`, severity: "error" });
    }
  }
  if (bluegreen) {
    const severity = action === "create" ? "warning" : "error";
    o.depdef.targetGroupArnPairs.forEach((pair, i) => pair.forEach((arn, j) => groups.has(arn) || groups.set(arn, { file: o.files.depdef, path: `$.targetGroupArnPairs[${i}][${j}]`, severity })));
  }
  const later = (at: { severity: Problem["severity"] }) => (at.severity === "warning" ? " (the first deployment does not use it; the next one will)" : "");
  for (const [arn, at] of groups) {
    try {
      const [found] = await ports.elbv2.describeTargetGroups({ targetGroupArns: [arn] });
      if (found && found.loadBalancerArns.length === 0) {
        problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-NO-LISTENER", at.file, at.path, `no listener or rule of a load balancer forwards to the target group ${arn}: ECS refuses a target group without a load balancer${later(at)}`, at.severity));
      }
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      if (e.name === "TargetGroupNotFound" || e.name === "TargetGroupNotFoundException") problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-MISSING", at.file, at.path, `the target group ${arn} does not exist: ECS will answer "Unable to find target group"${later(at)}`, at.severity));
      else if (e.name === "ValidationError") problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-MISSING", at.file, at.path, `${arn} is not a target group ARN: ${e.message}${later(at)}`, at.severity));
      else problems.push(problem(o, "FLT-PLAN-NOT-CHECKED", at.file, at.path, `could not check the target group ${arn}: ${e.toString()}`, "warning"));
    }
  }
  if (managed && o.svcdef) problems.push(...(await listenerRuleProblems(o, ports)));
  const rainbow = o.depdef.rainbow;
  for (const [i, l] of (rainbow?.listeners ?? []).entries()) {
    try {
      await ports.elbv2.describeListeners({ listenerArns: [l.listenerArn] });
      if (l.liveRuleArn) await ports.elbv2.describeRules({ ruleArns: [l.liveRuleArn] });
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      const which = /Rule/.test(e.name) ? "liveRuleArn" : "listenerArn";
      if (/NotFound|ValidationError/.test(e.name)) problems.push(problem(o, "FLT-PLAN-LISTENER-MISSING", o.files.depdef, `$.rainbow.listeners[${i}].${which}`, `the ${which === "liveRuleArn" ? "live rule" : "listener"} ${which === "liveRuleArn" ? l.liveRuleArn : l.listenerArn} does not exist: a rainbow deployment stops before changing anything`));
      else problems.push(problem(o, "FLT-PLAN-NOT-CHECKED", o.files.depdef, `$.rainbow.listeners[${i}]`, `could not check the listener: ${e.toString()}`, "warning"));
    }
  }
  const alarms = bluegreen || managed || rainbow ? o.depdef.alarms.alarmNames : [];
  if (alarms.length) {
    try {
      const found = new Set((await ports.cloudwatch.describeAlarms(alarms)).map((a) => a.alarmName));
      alarms.forEach((name, i) => {
        if (!found.has(name)) problems.push(problem(o, "FLT-PLAN-ALARM-MISSING", o.files.depdef, `$.alarms.alarmNames[${i}]`, `the alarm ${name} does not exist in ${ports.region}: ${rainbow ? "a cutover stops before moving traffic" : "a blue/green deployment stops before changing anything"}`));
      });
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      problems.push(problem(o, "FLT-PLAN-NOT-CHECKED", o.files.depdef, "$.alarms.alarmNames", `could not check the alarms: ${e.toString()}`, "warning"));
    }
  }
  return problems;
}

/**
 * ECS-managed: the production and test listener rules, read as the deployment will read them
 * (deploy/traffic/managed.ts): they exist, forward only, and between them reach both target groups.
 */
async function listenerRuleProblems(o: LoadedObject, ports: AwsPorts): Promise<Problem[]> {
  const router = new AlbRouter(ports.elbv2);
  const live: Route[] = [];
  for (const ref of managedRoutes(o.svcdef!)) {
    try {
      live.push(...(await router.read([ref])));
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      if (/NotFound/.test(e.name)) continue; // absent: managedRoutingProblem names it
      return [problem(o, "FLT-PLAN-NOT-CHECKED", o.files.svcdef, "$.loadBalancers", `could not read the listener rule ${ref.arn}: ${e.toString()}`, "warning")];
    }
  }
  const found = managedRoutingProblem(o.svcdef!, live);
  if (!found) return [];
  const index = /^loadBalancers\[(\d+)\]/.exec(found)?.[1] ?? "0";
  return [problem(o, "FLT-PLAN-LISTENER-RULES", o.files.svcdef, `$.loadBalancers[${index}].advancedConfiguration`, found)];
}

/** `only`: object names or path prefixes (`apps/web/web`, `apps/`). */
export function selectObjects(objects: readonly LoadedObject[], only: readonly string[] | undefined): LoadedObject[] {
  if (!only?.length) return [...objects];
  const prefixes = only.map((p) => p.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "").replace(/\/+$/, ""));
  return objects.filter((o) => prefixes.some((p) => o.name === p || o.name.startsWith(p + "/")));
}

export async function planObjects(objects: readonly LoadedObject[], aws: AwsPortsFactory, options: { only?: readonly string[]; concurrency?: number; secretNames?: readonly string[] } = {}): Promise<ObjectPlan[]> {
  return mapBounded(selectObjects(objects, options.only), options.concurrency ?? 16, (o) => planLoadedObject(o, aws, options.secretNames));
}
