/**
 * Which engine strategy deploys a svcdef — the one rule apply, the controller, validate, plan and
 * status share:
 *
 * | svcdef | strategy |
 * |---|---|
 * | `deploymentController.type` EXTERNAL | `bluegreen`: Flotilla's task-set blue/green |
 * | ECS (or absent), `deploymentConfiguration.strategy` BLUE_GREEN, LINEAR or CANARY | `ecs-managed`: ECS shifts traffic, Flotilla follows its service deployment |
 * | ECS (or absent), strategy ROLLING or absent | `rolling` |
 *
 * CODE_DEPLOY services are refused by validation (config/rules.ts); they count as rolling here.
 * A depdef with a `rainbow` block makes the object a rainbow one (config/load-object.ts) whatever
 * its svcdef says.
 */
export type DeployStrategy = "rolling" | "bluegreen" | "ecs-managed";

/** The deployment strategies ECS runs itself (deploymentConfiguration.strategy). */
export const ECS_MANAGED_STRATEGIES = ["BLUE_GREEN", "LINEAR", "CANARY"] as const;
export type EcsManagedStrategy = (typeof ECS_MANAGED_STRATEGIES)[number];

const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export function controllerType(svcdef: Record<string, unknown>): string {
  const type = record(svcdef["deploymentController"])?.["type"];
  return typeof type === "string" ? type : "ECS";
}

/** BLUE_GREEN, LINEAR or CANARY when ECS runs the svcdef's deployments itself; undefined for rolling and EXTERNAL. */
export function ecsManagedStrategy(svcdef: Record<string, unknown>): EcsManagedStrategy | undefined {
  if (controllerType(svcdef) !== "ECS") return undefined;
  const s = record(svcdef["deploymentConfiguration"])?.["strategy"];
  return (ECS_MANAGED_STRATEGIES as readonly unknown[]).includes(s) ? (s as EcsManagedStrategy) : undefined;
}

export function strategyOf(svcdef: Record<string, unknown>): DeployStrategy {
  if (controllerType(svcdef) === "EXTERNAL") return "bluegreen";
  return ecsManagedStrategy(svcdef) ? "ecs-managed" : "rolling";
}

/** How people say it: "rolling", "blue/green", "ECS-managed LINEAR". */
export function strategyLabel(strategy: string | undefined, svcdef?: Record<string, unknown>): string {
  if (strategy === "bluegreen") return "blue/green";
  if (strategy === "rainbow") return "rainbow";
  if (strategy === "ecs-managed") {
    const s = svcdef ? ecsManagedStrategy(svcdef) : undefined;
    return s ? `ECS-managed ${s}` : "ECS-managed";
  }
  return strategy ?? "rolling";
}

/**
 * How ECS will roll out an ECS-managed svcdef, in words, with ECS's defaults where the svcdef
 * leaves a setting out (API reference, LinearConfiguration and CanaryConfiguration): what `plan`
 * shows beside the diff.
 */
export function rolloutSummary(svcdef: Record<string, unknown>): string | undefined {
  const strategy = ecsManagedStrategy(svcdef);
  if (!strategy) return undefined;
  const dc = record(svcdef["deploymentConfiguration"]) ?? {};
  const n = (v: unknown) => (typeof v === "number" ? v : undefined);
  const parts: string[] = [];
  if (strategy === "BLUE_GREEN") parts.push("all production traffic in one step");
  if (strategy === "LINEAR") {
    const c = record(dc["linearConfiguration"]) ?? {};
    parts.push(`production traffic in steps of ${n(c["stepPercent"]) ?? 10}%, ${n(c["stepBakeTimeInMinutes"]) ?? 6} min apart`);
  }
  if (strategy === "CANARY") {
    const c = record(dc["canaryConfiguration"]) ?? {};
    parts.push(`${n(c["canaryPercent"]) ?? 5}% of production traffic for ${n(c["canaryBakeTimeInMinutes"]) ?? 10} min, then the rest`);
  }
  const bake = n(dc["bakeTimeInMinutes"]);
  if (bake !== undefined) parts.push(`bake ${bake} min`);
  const lbs = Array.isArray(svcdef["loadBalancers"]) ? svcdef["loadBalancers"].map(record) : [];
  if (lbs.some((lb) => typeof record(lb?.["advancedConfiguration"])?.["testListenerRule"] === "string")) parts.push("test listener first");
  const hooks = Array.isArray(dc["lifecycleHooks"]) ? dc["lifecycleHooks"].map(record).filter((h): h is Record<string, unknown> => h !== undefined) : [];
  for (const h of hooks) {
    const stages = Array.isArray(h["lifecycleStages"]) ? h["lifecycleStages"].join(", ") : "?";
    const target = h["targetType"] === "PAUSE" ? "PAUSE" : typeof h["hookTargetArn"] === "string" ? `Lambda ${h["hookTargetArn"].split(":").at(-1)}` : "Lambda";
    parts.push(`${target} hook at ${stages}`);
  }
  const alarms = record(dc["alarms"]);
  if (alarms?.["enable"] === true && Array.isArray(alarms["alarmNames"]) && alarms["alarmNames"].length) parts.push(`ECS ${alarms["rollback"] === true ? "rolls back" : "stops"} on alarm ${alarms["alarmNames"].join(", ")}`);
  return `ECS-managed ${strategy}: ${parts.join("; ")}`;
}
