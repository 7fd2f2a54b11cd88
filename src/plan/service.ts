/**
 * The canonical form of a service: a svcdef (CreateService request) and a DescribeServices entry
 * for the same service normalise to the same JSON. Rules and sources: docs/plan.md.
 */
import { canonicalize, copy, dropDefault, isRecord, sortedBy, sortedStrings, stableKey } from "./json.ts";
import { SERVICE_MEMBERS_NOT_DESCRIBED, SERVICE_MEMBERS_ON_DEPLOYMENT, SERVICE_RESPONSE_ONLY } from "./shapes.ts";
import type { JsonRecord, ServiceContext } from "./types.ts";

/** The role ECS uses when a service names none; DescribeServices reports it as `roleArn`. */
const SERVICE_LINKED_ROLE = /:role\/aws-service-role\/ecs\.amazonaws\.com\//;

export function normalizeServiceDefinition(def: JsonRecord, context: ServiceContext = {}): JsonRecord {
  const s = copy(def);
  liftFromPrimaryDeployment(s);
  normalizeRole(s);
  for (const key of SERVICE_RESPONSE_ONLY) delete s[key];
  // Identity and idempotency, not content; and members ECS never describes (see notCompared).
  for (const key of ["cluster", "clientToken", ...SERVICE_MEMBERS_NOT_DESCRIBED]) delete s[key];

  if (typeof s["taskDefinition"] === "string") s["taskDefinition"] = taskDefinitionReference(s["taskDefinition"], context.taskDefinitionBy ?? "family");

  const daemon = s["schedulingStrategy"] === "DAEMON";
  dropDefault(s, "schedulingStrategy", "REPLICA");
  if (daemon) delete s["desiredCount"]; // ECS sets it to the number of matching instances

  normalizeDeploymentConfiguration(s, daemon);
  if (isRecord(s["deploymentController"])) dropDefault(s["deploymentController"], "type", "ECS");
  normalizeLaunch(s, context);
  normalizeNetwork(s);

  dropDefault(s, "propagateTags", "NONE");
  dropDefault(s, "enableECSManagedTags", false);
  dropDefault(s, "enableExecuteCommand", false);
  dropDefault(s, "healthCheckGracePeriodSeconds", 0);
  // Order carries no meaning here; placementStrategy and loadBalancers keep theirs (strategies apply in order).
  s["placementConstraints"] = sortedBy(s["placementConstraints"], "type", "expression");
  s["tags"] = sortedBy(s["tags"], "key");
  return (canonicalize(s) as JsonRecord | undefined) ?? {};
}

/** `family` or `family:revision` from an ARN, a `family:revision` or a bare family. */
export function taskDefinitionReference(ref: string, by: "family" | "revision"): string {
  const name = ref.startsWith("arn:") ? ref.slice(ref.indexOf("task-definition/") + "task-definition/".length) : ref;
  return by === "family" ? (name.split(":")[0] ?? name) : name;
}

/** Whether a taskDefinition reference names a revision (`family:3` or an ARN) rather than a family. */
export function hasRevision(ref: string): boolean {
  return /:\d+$/.test(ref);
}

/**
 * Fields that ECS chooses when the svcdef leaves them out, and that an UpdateService without them
 * leaves as they are: with no desired value there is nothing to compare (ecspresso does the same
 * for desiredCount, which autoscaling owns).
 */
export const SERVER_CHOSEN_WHEN_UNSET = ["desiredCount", "availabilityZoneRebalancing"] as const;

export function dropServerChosen(desired: JsonRecord, live: JsonRecord): void {
  for (const key of SERVER_CHOSEN_WHEN_UNSET) if (desired[key] === undefined) delete live[key];
}

function liftFromPrimaryDeployment(s: JsonRecord): void {
  const deployments = s["deployments"];
  if (!Array.isArray(deployments)) return;
  const primary = deployments.find((d): d is JsonRecord => isRecord(d) && d["status"] === "PRIMARY");
  if (!primary) return;
  for (const key of SERVICE_MEMBERS_ON_DEPLOYMENT) if (s[key] === undefined && primary[key] !== undefined) s[key] = primary[key];
}

/**
 * CreateService takes `role` (a name, a path/name or an ARN); DescribeServices answers `roleArn`,
 * which is the service-linked role when none was given. Compare by path/name.
 */
function normalizeRole(s: JsonRecord): void {
  const arn = s["roleArn"];
  if (typeof arn === "string" && !SERVICE_LINKED_ROLE.test(arn) && s["role"] === undefined) s["role"] = arn;
  delete s["roleArn"];
  const role = s["role"];
  if (typeof role === "string") {
    if (SERVICE_LINKED_ROLE.test(role)) delete s["role"];
    else if (role.startsWith("arn:")) s["role"] = role.slice(role.indexOf(":role/") + ":role/".length);
  }
}

function normalizeDeploymentConfiguration(s: JsonRecord, daemon: boolean): void {
  const dc = s["deploymentConfiguration"];
  if (!isRecord(dc)) return;
  dropDefault(dc, "maximumPercent", daemon ? 100 : 200);
  dropDefault(dc, "minimumHealthyPercent", daemon ? 0 : 100);
  dropDefault(dc, "strategy", "ROLLING");
  // ECS-managed settings ECS fills in when left out (API reference, LinearConfiguration, CanaryConfiguration, DeploymentLifecycleHook).
  for (const [key, defaults] of [["linearConfiguration", { stepPercent: 10, stepBakeTimeInMinutes: 6 }], ["canaryConfiguration", { canaryPercent: 5, canaryBakeTimeInMinutes: 10 }]] as const) {
    const c = dc[key];
    if (!isRecord(c)) continue;
    for (const [k, v] of Object.entries(defaults)) dropDefault(c, k, v);
    if (Object.keys(c).length === 0) delete dc[key];
  }
  if (Array.isArray(dc["lifecycleHooks"])) {
    for (const h of dc["lifecycleHooks"]) if (isRecord(h)) dropDefault(h, "targetType", "AWS_LAMBDA");
    if (dc["lifecycleHooks"].length === 0) delete dc["lifecycleHooks"];
  }
  const breaker = dc["deploymentCircuitBreaker"];
  if (isRecord(breaker) && breaker["enable"] === false && breaker["rollback"] !== true) delete dc["deploymentCircuitBreaker"];
  const alarms = dc["alarms"];
  if (isRecord(alarms) && alarms["enable"] === false && alarms["rollback"] !== true && !(Array.isArray(alarms["alarmNames"]) && alarms["alarmNames"].length)) delete dc["alarms"];
  if (isRecord(dc["alarms"])) dc["alarms"]["alarmNames"] = sortedStrings(dc["alarms"]["alarmNames"]);
}

/**
 * With neither launchType nor capacityProviderStrategy, ECS uses the cluster's default strategy,
 * or the EC2 launch type when the cluster has none. So a bare EC2 launch type is a default, and
 * so is a strategy equal to the cluster's default (when the caller knows it).
 */
function normalizeLaunch(s: JsonRecord, context: ServiceContext): void {
  const strategy = s["capacityProviderStrategy"];
  if (Array.isArray(strategy)) {
    const items = strategy.map((item: unknown) => {
      if (!isRecord(item)) return item;
      const i = { ...item };
      dropDefault(i, "base", 0);
      dropDefault(i, "weight", 0);
      return i;
    });
    s["capacityProviderStrategy"] = sortedBy(items, "capacityProvider");
    const clusterDefault = context.clusterDefaultCapacityProviderStrategy;
    if (clusterDefault && items.length && stableKey(s["capacityProviderStrategy"]) === stableKey(normalizedStrategy(clusterDefault))) delete s["capacityProviderStrategy"];
  }
  const hasStrategy = Array.isArray(s["capacityProviderStrategy"]) && s["capacityProviderStrategy"].length > 0;
  if (!hasStrategy) dropDefault(s, "launchType", "EC2");
  dropDefault(s, "platformVersion", "LATEST");
}

function normalizedStrategy(items: readonly JsonRecord[]): unknown {
  const s: JsonRecord = { capacityProviderStrategy: [...items] };
  normalizeLaunch(s, {});
  return s["capacityProviderStrategy"];
}

function normalizeNetwork(s: JsonRecord): void {
  const nc = s["networkConfiguration"];
  const vpc = isRecord(nc) ? nc["awsvpcConfiguration"] : undefined;
  if (!isRecord(vpc)) return;
  vpc["subnets"] = sortedStrings(vpc["subnets"]);
  vpc["securityGroups"] = sortedStrings(vpc["securityGroups"]);
  dropDefault(vpc, "assignPublicIp", "DISABLED");
}
