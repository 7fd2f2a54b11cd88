/**
 * What a deployment needs in AWS and does not find, checked before anything is changed: the
 * cluster, the target groups of the svcdef's load balancers (attached to a load balancer) and of a
 * blue/green depdef's pairs, an ECS-managed service's listener rules, a rainbow block's listeners,
 * the alarms a deployment watches. These are the pre-checks of the one decision path (pass.ts's
 * `precheck`): `flotilla plan` shows them, `flotilla apply` and the controller start nothing for an
 * object that fails them.
 *
 * A pass reads what its objects share once (PassLookups): every target group and alarm is described
 * once per pass, and those its objects ask for in the same turn go out together — one
 * DescribeTargetGroups per 20 ARNs, one DescribeAlarms per 100 names — so checking a commit of a
 * thousand services costs tens of calls, not thousands.
 */
import { AwsError } from "../aws/errors.ts";
import { Batcher } from "../aws/batcher.ts";
import type { Alarm, AwsPorts, AwsPortsFactory, TargetGroup } from "../aws/ports.ts";
import type { LoadedObject } from "../config/load-object.ts";
import type { Problem } from "../core/problems.ts";
import { managedLoadBalancers, managedRoutes, managedRoutingProblem } from "../deploy/traffic/managed.ts";
import { AlbRouter } from "../deploy/traffic/alb.ts";
import type { Route } from "../deploy/traffic/route.ts";
import { isRecord } from "../plan/json.ts";

/** A target group as the pre-check found it: described, absent, or not answered (the error). */
interface GroupAnswer {
  arn: string;
  found?: TargetGroup;
  error?: AwsError;
}

/** DescribeTargetGroups answers "not found" for the whole call when any ARN it names is absent or malformed. */
const absent = (e: AwsError) => e.name === "TargetGroupNotFound" || e.name === "TargetGroupNotFoundException" || e.name === "ValidationError";

/** ARNs per DescribeTargetGroups (the API documents no limit; 20 is ELB's limit for load balancers). */
const GROUPS_PER_CALL = 20;

/** The reads of one pass, shared by its objects' pre-checks. */
export class PassLookups {
  readonly aws: AwsPortsFactory;
  private readonly groups: Batcher<GroupAnswer>;
  private readonly alarms: Batcher<Alarm>;
  private readonly seenGroups = new Map<string, Promise<GroupAnswer>>();
  private readonly seenAlarms = new Map<string, Promise<Alarm | undefined>>();

  constructor(aws: AwsPortsFactory) {
    this.aws = aws;
    this.groups = new Batcher<GroupAnswer>({ maxBatch: GROUPS_PER_CALL, fetch: (region, arns) => this.describeGroups(region, arns), matches: (a, arn) => a.arn === arn });
    this.alarms = new Batcher<Alarm>({ maxBatch: 100, fetch: (region, names) => this.aws(region).cloudwatch.describeAlarms(names), matches: (a, name) => a.alarmName === name });
  }

  /** One target group, described once per pass (with the others asked for in the same turn). */
  targetGroup(region: string, arn: string): Promise<GroupAnswer> {
    return once(this.seenGroups, `${region}\n${arn}`, async () => (await this.groups.load(region, [arn]))[0] ?? { arn });
  }

  /** One alarm, or undefined when it does not exist; a refused DescribeAlarms rejects. */
  alarm(region: string, name: string): Promise<Alarm | undefined> {
    return once(this.seenAlarms, `${region}\n${name}`, async () => (await this.alarms.load(region, [name]))[0]);
  }

  /**
   * Ask now for the target groups and alarms an object's pre-check will read, so that the pass's
   * objects ask for theirs in the same turn and share batches (while their services are described).
   */
  prefetch(o: LoadedObject): void {
    const region = o.identity!.region;
    const quiet = () => undefined; // the pre-check awaits the same answers and reports their errors
    for (const arn of targetGroupsOf(o, "create").keys()) this.targetGroup(region, arn).catch(quiet);
    for (const name of alarmsOf(o)) this.alarm(region, name).catch(quiet);
  }

  /**
   * A batch of target groups. One absent group fails the whole call, so a batch that fails that way
   * is asked again one group at a time: only the absent ones answer absent.
   */
  private async describeGroups(region: string, arns: string[]): Promise<GroupAnswer[]> {
    const elbv2 = this.aws(region).elbv2;
    try {
      const found = await elbv2.describeTargetGroups({ targetGroupArns: arns });
      return arns.map((arn) => ({ arn, ...withFound(found.find((g) => g.targetGroupArn === arn)) }));
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      if (arns.length > 1 && absent(e)) return Promise.all(arns.map(async (arn) => (await this.describeGroups(region, [arn]))[0]!));
      return arns.map((arn) => ({ arn, error: e }));
    }
  }
}

const withFound = (found: TargetGroup | undefined) => (found ? { found } : {});

function once<T>(seen: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = seen.get(key);
  if (!p) seen.set(key, (p = load()));
  return p;
}

function problem(o: LoadedObject, code: Problem["code"], file: string | undefined, path: string, message: string, severity: Problem["severity"] = "error"): Problem {
  return { code, severity, object: o.name, ...(file ? { file } : {}), path, message };
}

/** The svcdef's cluster does not exist in its Region: nothing can be created or updated there. */
export function clusterMissing(o: LoadedObject): Problem {
  const { region, cluster } = o.identity!;
  return problem(o, "FLT-PLAN-CLUSTER-MISSING", o.files.svcdef, "$.cluster", `the cluster ${cluster} does not exist in ${region}: the service cannot be created or updated until it is created`);
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
export async function missingPrerequisites(o: LoadedObject, lookups: PassLookups, action: "create" | "update"): Promise<Problem[]> {
  const problems: Problem[] = [];
  const region = o.identity!.region;
  const ports = lookups.aws(region);
  const groups = targetGroupsOf(o, action);
  const later = (at: { severity: Problem["severity"] }) => (at.severity === "warning" ? " (the first deployment does not use it; the next one will)" : "");
  const answers = await Promise.all([...groups.keys()].map((arn) => lookups.targetGroup(region, arn)));
  for (const { arn, found, error } of answers) {
    const at = groups.get(arn)!;
    if (found && found.loadBalancerArns.length === 0) {
      problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-NO-LISTENER", at.file, at.path, `no listener or rule of a load balancer forwards to the target group ${arn}: ECS refuses a target group without a load balancer${later(at)}`, at.severity));
    } else if (error && error.name === "ValidationError") {
      problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-MISSING", at.file, at.path, `${arn} is not a target group ARN: ${error.message}${later(at)}`, at.severity));
    } else if (error && !absent(error)) {
      problems.push(problem(o, "FLT-PLAN-NOT-CHECKED", at.file, at.path, `could not check the target group ${arn}: ${error.toString()}`, "warning"));
    } else if (!found) {
      problems.push(problem(o, "FLT-PLAN-TARGET-GROUP-MISSING", at.file, at.path, `the target group ${arn} does not exist: ECS will answer "Unable to find target group"${later(at)}`, at.severity));
    }
  }
  if (o.strategy === "ecs-managed" && o.svcdef) problems.push(...(await listenerRuleProblems(o, ports)));
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
  const alarms = alarmsOf(o);
  if (alarms.length) {
    try {
      const found = await Promise.all(alarms.map((name) => lookups.alarm(region, name)));
      alarms.forEach((name, i) => {
        if (!found[i]) problems.push(problem(o, "FLT-PLAN-ALARM-MISSING", o.files.depdef, `$.alarms.alarmNames[${i}]`, `the alarm ${name} does not exist in ${region}: ${rainbow ? "a cutover stops before moving traffic" : "a blue/green deployment stops before changing anything"}`));
      });
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      problems.push(problem(o, "FLT-PLAN-NOT-CHECKED", o.files.depdef, "$.alarms.alarmNames", `could not check the alarms: ${e.toString()}`, "warning"));
    }
  }
  return problems;
}

/** Where an object names each target group its deployment needs, and how much a missing one matters. */
function targetGroupsOf(o: LoadedObject, action: "create" | "update"): Map<string, { file: string | undefined; path: string; severity: Problem["severity"] }> {
  const groups = new Map<string, { file: string | undefined; path: string; severity: Problem["severity"] }>();
  const lbs = o.svcdef?.["loadBalancers"];
  if (Array.isArray(lbs)) {
    lbs.forEach((lb, i) => {
      const arn = isRecord(lb) ? lb["targetGroupArn"] : undefined;
      if (typeof arn === "string" && !groups.has(arn)) groups.set(arn, { file: o.files.svcdef, path: `$.loadBalancers[${i}].targetGroupArn`, severity: "error" });
    });
  }
  if (o.strategy === "ecs-managed" && o.svcdef) {
    for (const lb of managedLoadBalancers(o.svcdef)) {
      if (lb.alternateTargetGroupArn && !groups.has(lb.alternateTargetGroupArn)) groups.set(lb.alternateTargetGroupArn, { file: o.files.svcdef, path: `$.loadBalancers[${lb.index}].advancedConfiguration.alternateTargetGroupArn`, severity: "error" });
    }
  }
  if (o.strategy === "bluegreen") {
    const severity = action === "create" ? "warning" : "error";
    o.depdef.targetGroupArnPairs.forEach((pair, i) => pair.forEach((arn, j) => groups.has(arn) || groups.set(arn, { file: o.files.depdef, path: `$.targetGroupArnPairs[${i}][${j}]`, severity })));
  }
  return groups;
}

/** The alarms a deployment watches: blue/green, ECS-managed and rainbow ones. */
const alarmsOf = (o: LoadedObject): readonly string[] => (o.strategy === "bluegreen" || o.strategy === "ecs-managed" || o.depdef.rainbow ? o.depdef.alarms.alarmNames : []);

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

/** Where a deployment of an object goes: whether it creates or updates the service, and whether the cluster exists. */
export interface Whereabouts {
  action: "create" | "update";
  clusterMissing: boolean;
  /** What could not be told (a refused DescribeServices): warnings. */
  problems?: Problem[];
}

/**
 * One DescribeServices (batched with the pass's others by the port) for an object nothing has
 * described yet. A rainbow object always creates (a new version's service); its describe only
 * tells whether the cluster exists.
 */
export async function describeWhereabouts(o: LoadedObject, aws: AwsPortsFactory): Promise<Whereabouts> {
  const { region, cluster, service } = o.identity!;
  try {
    const found = (await aws(region).ecs.describeServices(cluster, [service])).services[0];
    return { action: !o.depdef.rainbow && found?.status === "ACTIVE" ? "update" : "create", clusterMissing: false };
  } catch (e) {
    if (!(e instanceof AwsError)) throw e;
    if (e.name === "ClusterNotFoundException") return { action: "create", clusterMissing: true };
    return { action: "create", clusterMissing: false, problems: [problem(o, "FLT-PLAN-NOT-CHECKED", o.files.svcdef, "$.serviceName", `could not describe the service ${service}: ${e.toString()}`, "warning")] };
  }
}
