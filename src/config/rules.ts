/**
 * Cross-file rules: what a careful reviewer would catch before it reaches AWS, and warnings for
 * risky practice. Each rule names the file and JSON path to fix. Only runs on shapes that parsed;
 * type errors are reported by the shape validator, so here values of the wrong type are skipped.
 */
import { looksSecret } from "../core/mask.ts";
import type { Problem, ProblemCode } from "../core/problems.ts";
import { breakerThreshold, type DepDef } from "./depdef.ts";
import type { ObjectFiles } from "./discover.ts";
import { MAX_VERSION_LENGTH, routeProblems, urlProblems, versionProblem, versionServiceName } from "./rainbow.ts";
import { isJsonObject, type JsonDocument, type JsonObject, type JsonValue, type PathSegment } from "./json-document.ts";
import { ECS_MANAGED_STRATEGIES, ecsManagedStrategy } from "./strategy.ts";

export interface ObjectUnderCheck {
  files: ObjectFiles;
  svcdef: JsonObject;
  svcdefDoc: JsonDocument;
  taskdef: JsonObject | undefined;
  taskdefDoc: JsonDocument | undefined;
  depdef: DepDef;
  depdefDoc: JsonDocument | undefined;
  /** The depdef as written (before defaults), to tell explicit settings from defaults. */
  depdefGiven: JsonObject | undefined;
  /** False when the depdef is broken: rules that read it would only echo that. */
  depdefValid: boolean;
  region: string | undefined;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$/;

type Rule = (o: ObjectUnderCheck, out: Reporter) => void;

class Reporter {
  readonly problems: Problem[] = [];
  error(doc: JsonDocument | undefined, file: string | undefined, path: PathSegment[], code: ProblemCode, message: string, hint?: string): void {
    this.add("error", doc, file, path, code, message, hint);
  }
  warn(doc: JsonDocument | undefined, file: string | undefined, path: PathSegment[], code: ProblemCode, message: string, hint?: string): void {
    this.add("warning", doc, file, path, code, message, hint);
  }
  private add(severity: Problem["severity"], doc: JsonDocument | undefined, file: string | undefined, path: PathSegment[], code: ProblemCode, message: string, hint?: string): void {
    const base = { code, severity, message, ...(hint ? { hint } : {}) };
    this.problems.push(doc ? doc.problemAt(path, base) : { ...base, ...(file ? { file } : {}) });
  }
}

const str = (v: JsonValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: JsonValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);
const obj = (v: JsonValue | undefined): JsonObject | undefined => (isJsonObject(v) ? v : undefined);
const arr = (v: JsonValue | undefined): JsonValue[] => (Array.isArray(v) ? v : []);

function controllerType(o: ObjectUnderCheck): string {
  return str(obj(o.svcdef["deploymentController"])?.["type"]) ?? "ECS";
}
function containers(o: ObjectUnderCheck): JsonObject[] {
  return arr(o.taskdef?.["containerDefinitions"]).filter(isJsonObject);
}
/** Whether tasks run on Fargate: launch type, capacity providers, or a Fargate-only task definition. */
function onFargate(o: ObjectUnderCheck): boolean {
  const lt = str(o.svcdef["launchType"]);
  if (lt) return lt === "FARGATE";
  const cps = arr(o.svcdef["capacityProviderStrategy"]).map((c) => str(obj(c)?.["capacityProvider"]));
  if (cps.length) return cps.every((c) => c === "FARGATE" || c === "FARGATE_SPOT");
  const compat = arr(o.taskdef?.["requiresCompatibilities"]);
  return compat.length > 0 && compat.every((c) => c === "FARGATE");
}

const taskDefinitionSource: Rule = (o, r) => {
  if (!o.files.taskdef && str(o.svcdef["taskDefinition"]) === undefined) {
    r.error(o.svcdefDoc, undefined, [], "FLT-OBJECT-NO-TASKDEF", "no task definition: add a _taskdef.json file or a \"taskDefinition\" (family:revision or ARN) to the svcdef", `create ${o.files.name}_taskdef.json`);
  }
};

const names: Rule = (o, r) => {
  const service = o.svcdef["serviceName"];
  if (service === undefined) r.error(o.svcdefDoc, undefined, [], "FLT-OBJECT-NO-SERVICE-NAME", 'the svcdef has no "serviceName"');
  else if (typeof service === "string" && !NAME.test(service)) {
    r.error(o.svcdefDoc, undefined, ["serviceName"], "FLT-CONFIG-RANGE", `serviceName "${service}" must be 1-255 letters, digits, hyphens or underscores`);
  }
  const family = str(o.taskdef?.["family"]);
  if (family !== undefined && !NAME.test(family)) {
    r.error(o.taskdefDoc, undefined, ["family"], "FLT-CONFIG-RANGE", `family "${family}" must be 1-255 letters, digits, hyphens or underscores`);
  }
};

const controller: Rule = (o, r) => {
  const type = controllerType(o);
  if (type === "CODE_DEPLOY") {
    r.error(o.svcdefDoc, undefined, ["deploymentController", "type"], "FLT-SVC-CONTROLLER-UNSUPPORTED", "CODE_DEPLOY services are deployed by CodeDeploy, not Flotilla", 'use "EXTERNAL" for Flotilla blue/green or "ECS" for rolling updates');
  }
  const scheduling = str(o.svcdef["schedulingStrategy"]) ?? "REPLICA";
  if (scheduling === "DAEMON") {
    if (type === "EXTERNAL") r.error(o.svcdefDoc, undefined, ["schedulingStrategy"], "FLT-SVC-SCHEDULING", "blue/green (EXTERNAL) services must use the REPLICA scheduling strategy: task sets do not support DAEMON");
    if (o.svcdef["desiredCount"] !== undefined) r.error(o.svcdefDoc, undefined, ["desiredCount"], "FLT-SVC-SCHEDULING", "a DAEMON service runs one task per instance: remove desiredCount");
    if (onFargate(o)) r.error(o.svcdefDoc, undefined, ["schedulingStrategy"], "FLT-SVC-SCHEDULING", "Fargate does not support the DAEMON scheduling strategy");
  } else if (o.svcdef["desiredCount"] === undefined) {
    r.error(o.svcdefDoc, undefined, [], "FLT-CONFIG-REQUIRED", 'missing required key "desiredCount" (required for REPLICA services)');
  }
  const desired = num(o.svcdef["desiredCount"]);
  if (desired !== undefined && (desired < 0 || !Number.isInteger(desired))) {
    r.error(o.svcdefDoc, undefined, ["desiredCount"], "FLT-CONFIG-RANGE", `desiredCount must be a whole number of at least 0, not ${desired}`);
  }
  if (o.svcdef["launchType"] !== undefined && o.svcdef["capacityProviderStrategy"] !== undefined) {
    r.error(o.svcdefDoc, undefined, ["capacityProviderStrategy"], "FLT-SVC-LAUNCH-CONFLICT", "launchType and capacityProviderStrategy cannot both be set", "keep one of them");
  }
};

const deploymentConfiguration: Rule = (o, r) => {
  const dc = obj(o.svcdef["deploymentConfiguration"]);
  if (!dc) return;
  const min = num(dc["minimumHealthyPercent"]);
  const max = num(dc["maximumPercent"]);
  const path = ["deploymentConfiguration"];
  if (min !== undefined && (min < 0 || min > 100)) r.error(o.svcdefDoc, undefined, [...path, "minimumHealthyPercent"], "FLT-CONFIG-RANGE", `minimumHealthyPercent must be between 0 and 100, not ${min}`);
  if (max !== undefined && max < 0) r.error(o.svcdefDoc, undefined, [...path, "maximumPercent"], "FLT-CONFIG-RANGE", `maximumPercent must be positive, not ${max}`);
  // ECS-managed deployments start the whole new revision beside the old one: the percentages do not pace them.
  if (controllerType(o) !== "ECS" || ecsManagedStrategy(o.svcdef)) return;
  const desired = num(o.svcdef["desiredCount"]);
  const lo = min ?? 100;
  const hi = max ?? 200;
  if (lo > hi) {
    r.error(o.svcdefDoc, undefined, [...path, "maximumPercent"], "FLT-SVC-DEPLOYMENT-CONFIG", `maximumPercent (${hi}) is below minimumHealthyPercent (${lo})`);
  } else if (desired !== undefined && desired > 0) {
    // ECS keeps at least ceil(desired*min%) healthy and at most floor(desired*max%) running or pending.
    const floor = Math.ceil((desired * lo) / 100);
    const ceiling = Math.floor((desired * hi) / 100);
    if (ceiling <= floor && floor >= desired) {
      r.error(
        o.svcdefDoc,
        undefined,
        [...path, "maximumPercent"],
        "FLT-SVC-DEPLOYMENT-CONFIG",
        `with desiredCount ${desired}, minimumHealthyPercent ${lo} and maximumPercent ${hi}, ECS may neither stop an old task (at least ${floor} must stay healthy) nor start a new one (at most ${ceiling} may run): the deployment cannot progress`,
        `raise maximumPercent to at least ${Math.ceil(((floor + 1) * 100) / desired)} or lower minimumHealthyPercent`,
      );
    }
  }
};

const network: Rule = (o, r) => {
  const mode = str(o.taskdef?.["networkMode"]);
  const awsvpc = obj(obj(o.svcdef["networkConfiguration"])?.["awsvpcConfiguration"]);
  const fargate = onFargate(o);
  if (fargate && o.taskdef && mode !== "awsvpc") {
    r.error(o.taskdefDoc, undefined, mode === undefined ? [] : ["networkMode"], "FLT-SVC-NETWORK", `Fargate tasks need "networkMode": "awsvpc"${mode ? `, not "${mode}"` : ""}`);
  }
  if ((mode === "awsvpc" || (fargate && !o.taskdef)) && !awsvpc) {
    r.error(o.svcdefDoc, undefined, [], "FLT-SVC-NETWORK", "awsvpc tasks need networkConfiguration.awsvpcConfiguration with subnets", 'add "networkConfiguration": {"awsvpcConfiguration": {"subnets": [...], "securityGroups": [...]}}');
  }
  if (awsvpc) {
    const subnets = awsvpc["subnets"];
    if (Array.isArray(subnets) && subnets.length === 0) {
      r.error(o.svcdefDoc, undefined, ["networkConfiguration", "awsvpcConfiguration", "subnets"], "FLT-SVC-NETWORK", "subnets must list at least one subnet");
    }
    if (Array.isArray(subnets) && subnets.length > 16) r.error(o.svcdefDoc, undefined, ["networkConfiguration", "awsvpcConfiguration", "subnets"], "FLT-SVC-NETWORK", "at most 16 subnets may be given");
    const sgs = awsvpc["securityGroups"];
    if (Array.isArray(sgs) && sgs.length > 5) r.error(o.svcdefDoc, undefined, ["networkConfiguration", "awsvpcConfiguration", "securityGroups"], "FLT-SVC-NETWORK", "at most 5 security groups may be given");
    if (mode !== undefined && mode !== "awsvpc") {
      r.error(o.svcdefDoc, undefined, ["networkConfiguration"], "FLT-SVC-NETWORK", `networkConfiguration applies only to awsvpc tasks; the task definition uses "${mode}"`);
    }
  }
};

/** Fargate's valid task sizes: CPU units → allowed memory (MiB). */
const FARGATE_SIZES: [number, number, number, number][] = [
  // cpu, min memory, max memory, step
  [256, 512, 2048, 512],
  [512, 1024, 4096, 1024],
  [1024, 2048, 8192, 1024],
  [2048, 4096, 16384, 1024],
  [4096, 8192, 30720, 1024],
  [8192, 16384, 61440, 4096],
  [16384, 32768, 122880, 8192],
];

/** "1 vCPU" → 1024, "512" → 512; "2 GB" → 2048. */
function units(v: JsonValue | undefined, unit: "vcpu" | "gb"): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  const suffix = m[2]!.toLowerCase();
  if (!suffix) return n;
  if (unit === "vcpu" && suffix === "vcpu") return n * 1024;
  if (unit === "gb" && suffix === "gb") return n * 1024;
  return NaN;
}

const resources: Rule = (o, r) => {
  if (!o.taskdef) return;
  const cpu = units(o.taskdef["cpu"], "vcpu");
  const memory = units(o.taskdef["memory"], "gb");
  if (Number.isNaN(cpu)) r.error(o.taskdefDoc, undefined, ["cpu"], "FLT-TASKDEF-RESOURCES", `cpu ${JSON.stringify(o.taskdef["cpu"])} is not a CPU amount such as "256" or "1 vCPU"`);
  if (Number.isNaN(memory)) r.error(o.taskdefDoc, undefined, ["memory"], "FLT-TASKDEF-RESOURCES", `memory ${JSON.stringify(o.taskdef["memory"])} is not an amount such as "512" or "2 GB"`);
  if (onFargate(o)) {
    if (cpu === undefined || memory === undefined) {
      r.error(o.taskdefDoc, undefined, [], "FLT-TASKDEF-RESOURCES", "Fargate task definitions need task-level cpu and memory", 'e.g. "cpu": "256", "memory": "512"');
    } else if (!Number.isNaN(cpu) && !Number.isNaN(memory)) {
      const size = FARGATE_SIZES.find(([c]) => c === cpu);
      if (!size) {
        r.error(o.taskdefDoc, undefined, ["cpu"], "FLT-TASKDEF-RESOURCES", `Fargate does not offer cpu ${cpu}; valid values: ${FARGATE_SIZES.map(([c]) => c).join(", ")}`);
      } else if (memory < size[1] || memory > size[2] || (memory - size[1]) % size[3] !== 0) {
        r.error(o.taskdefDoc, undefined, ["memory"], "FLT-TASKDEF-RESOURCES", `Fargate cpu ${cpu} takes memory from ${size[1]} to ${size[2]} MiB in steps of ${size[3]}, not ${memory}`);
      }
    }
  } else if (memory === undefined) {
    containers(o).forEach((c, i) => {
      if (c["memory"] === undefined && c["memoryReservation"] === undefined) {
        r.error(o.taskdefDoc, undefined, ["containerDefinitions", i], "FLT-TASKDEF-RESOURCES", `container "${str(c["name"]) ?? i}" needs memory or memoryReservation when the task has no memory set`);
      }
    });
  }
};

const containerRules: Rule = (o, r) => {
  if (!o.taskdef) return;
  const list = containers(o);
  const seen = new Map<string, number>();
  list.forEach((c, i) => {
    const name = str(c["name"]);
    if (name === undefined) return;
    if (seen.has(name)) r.error(o.taskdefDoc, undefined, ["containerDefinitions", i, "name"], "FLT-TASKDEF-CONTAINERS", `container name "${name}" is used twice (also at index ${seen.get(name)})`);
    seen.set(name, i);
  });
  list.forEach((c, i) => {
    if (c["name"] === undefined) r.error(o.taskdefDoc, undefined, ["containerDefinitions", i], "FLT-CONFIG-REQUIRED", 'missing required key "name" in ContainerDefinition');
    if (c["image"] === undefined) r.error(o.taskdefDoc, undefined, ["containerDefinitions", i], "FLT-CONFIG-REQUIRED", 'missing required key "image" in ContainerDefinition');
  });
  if (list.length > 0 && list.every((c) => c["essential"] === false)) {
    r.error(o.taskdefDoc, undefined, ["containerDefinitions"], "FLT-TASKDEF-CONTAINERS", "at least one container must be essential");
  }
  if (Array.isArray(o.taskdef["containerDefinitions"]) && list.length === 0) {
    r.error(o.taskdefDoc, undefined, ["containerDefinitions"], "FLT-TASKDEF-CONTAINERS", "containerDefinitions must list at least one container");
  }
  list.forEach((c, i) => {
    for (const dep of arr(c["dependsOn"]).filter(isJsonObject)) {
      const target = str(dep["containerName"]);
      if (target !== undefined && !seen.has(target)) {
        r.error(o.taskdefDoc, undefined, ["containerDefinitions", i, "dependsOn"], "FLT-TASKDEF-CONTAINERS", `dependsOn names container "${target}", which the task definition does not have`);
      }
    }
  });
};

const loadBalancers: Rule = (o, r) => {
  const lbs = arr(o.svcdef["loadBalancers"]).filter(isJsonObject);
  const byName = new Map(containers(o).map((c) => [str(c["name"]), c] as const));
  // A rainbow version's target group is created for it (the rainbow rule checks the entry); with
  // the depdef unreadable, whether this is a rainbow object is unknown, so that is not an error here.
  const rainbow = !o.depdefValid || o.depdef.rainbow !== undefined;
  lbs.forEach((lb, i) => {
    const path = ["loadBalancers", i];
    const tg = str(lb["targetGroupArn"]);
    if (tg === undefined && lb["loadBalancerName"] === undefined && !rainbow) {
      r.error(o.svcdefDoc, undefined, path, "FLT-SVC-LOAD-BALANCER", "a load balancer entry needs targetGroupArn (or loadBalancerName for a Classic Load Balancer)");
    }
    if (tg !== undefined && !/^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:targetgroup\/[^/]+\/[0-9a-f]+$/.test(tg)) {
      r.error(o.svcdefDoc, undefined, [...path, "targetGroupArn"], "FLT-SVC-LOAD-BALANCER", `"${tg}" is not a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)`);
    }
    const name = str(lb["containerName"]);
    const port = num(lb["containerPort"]);
    if (name === undefined || port === undefined) {
      r.error(o.svcdefDoc, undefined, path, "FLT-SVC-LOAD-BALANCER", "a load balancer entry needs containerName and containerPort");
      return;
    }
    if (!o.taskdef) return; // the task definition lives in AWS; it is checked at deploy time
    const container = byName.get(name);
    if (!container) {
      r.error(o.svcdefDoc, undefined, [...path, "containerName"], "FLT-SVC-LOAD-BALANCER", `container "${name}" is not in the task definition (containers: ${[...byName.keys()].join(", ")})`);
      return;
    }
    const ports = arr(container["portMappings"]).map((p) => num(obj(p)?.["containerPort"]));
    if (!ports.includes(port)) {
      r.error(o.svcdefDoc, undefined, [...path, "containerPort"], "FLT-SVC-LOAD-BALANCER", `container "${name}" does not map port ${port} (its portMappings: ${ports.join(", ") || "none"})`);
    }
  });
};

const blueGreen: Rule = (o, r) => {
  if (!o.depdefValid) return;
  const external = controllerType(o) === "EXTERNAL";
  const pairs = o.depdef.targetGroupArnPairs;
  const lbs = arr(o.svcdef["loadBalancers"]).filter(isJsonObject);
  const given = o.depdefGiven ?? {};
  if (!external) {
    const rainbow = o.depdef.rainbow !== undefined;
    const managed = rainbow ? undefined : ecsManagedStrategy(o.svcdef);
    // A rainbow cutover watches the alarms for bakeTime.
    for (const key of ["trafficShiftingConfig", "targetGroupArnPairs", ...(rainbow ? [] : ["bakeTime"]), "deleteNewUponTrafficShiftFailure"]) {
      if (given[key] !== undefined && managed) {
        // ECS-managed: ECS's own configuration applies, so the depdef's would silently do nothing.
        r.warn(o.depdefDoc, o.files.depdef, [key], "FLT-DEPDEF-NOT-APPLICABLE", `"${key}" does nothing for this service: ECS runs its ${managed} deployments with the svcdef's deploymentConfiguration (${MANAGED_EQUIVALENT[key]})`, "remove it from the depdef, or use an EXTERNAL deployment controller for Flotilla's own traffic shifting");
      } else if (given[key] !== undefined) {
        r.warn(o.depdefDoc, o.files.depdef, [key], "FLT-DEPDEF-NOT-APPLICABLE", `"${key}" only applies to blue/green (EXTERNAL) services; this service uses ${rainbow ? "rainbow deployments (a cutover switches all traffic at once)" : "rolling updates"}`);
      }
    }
    return;
  }
  const seen = new Map<string, number>();
  pairs.forEach(([a, b], i) => {
    if (a === b) r.error(o.depdefDoc, o.files.depdef, ["targetGroupArnPairs", i], "FLT-BG-TARGET-GROUPS", "a target group pair needs two different target groups");
    for (const arn of [a, b]) {
      if (seen.has(arn) && seen.get(arn) !== i) r.error(o.depdefDoc, o.files.depdef, ["targetGroupArnPairs", i], "FLT-BG-TARGET-GROUPS", `target group ${arn} is in two pairs`);
      seen.set(arn, i);
    }
  });
  if (lbs.length === 0) {
    if (given["trafficShiftingConfig"] !== undefined) {
      r.warn(o.depdefDoc, o.files.depdef, ["trafficShiftingConfig"], "FLT-DEPDEF-NOT-APPLICABLE", "this service has no load balancer, so there is no traffic to shift: green replaces blue once it is stable");
    }
    return;
  }
  if (pairs.length === 0) {
    r.error(o.depdefDoc, o.files.depdef ?? o.files.svcdef, o.depdefDoc ? [] : [], "FLT-BG-TARGET-GROUPS", "a blue/green service with a load balancer needs targetGroupArnPairs in its depdef: one [blue, green] pair per load balancer entry", `add "targetGroupArnPairs": [["<the svcdef's target group>", "<its twin>"]] to ${o.files.depdef ?? o.files.name + "_depdef.json"}`);
    return;
  }
  const used = new Set<number>();
  lbs.forEach((lb, i) => {
    const tg = str(lb["targetGroupArn"]);
    if (tg === undefined) return;
    const pair = seen.get(tg);
    if (pair === undefined) {
      r.error(o.svcdefDoc, undefined, ["loadBalancers", i, "targetGroupArn"], "FLT-BG-TARGET-GROUPS", `target group ${tg} is in no targetGroupArnPairs pair of the depdef`);
    } else if (used.has(pair)) {
      r.error(o.svcdefDoc, undefined, ["loadBalancers", i, "targetGroupArn"], "FLT-BG-TARGET-GROUPS", "two load balancer entries use the same target group pair");
    } else used.add(pair);
  });
  pairs.forEach((_, i) => {
    if (!used.has(i) && lbs.every((lb) => str(lb["targetGroupArn"]) !== undefined)) {
      r.warn(o.depdefDoc, o.files.depdef, ["targetGroupArnPairs", i], "FLT-BG-TARGET-GROUPS", "this pair matches none of the service's load balancer entries and is ignored");
    }
  });
};

/** What an ECS-managed service uses instead of a depdef's blue/green setting. */
const MANAGED_EQUIVALENT: Record<string, string> = {
  trafficShiftingConfig: "strategy, linearConfiguration, canaryConfiguration",
  targetGroupArnPairs: "loadBalancers[].advancedConfiguration.alternateTargetGroupArn",
  bakeTime: "bakeTimeInMinutes",
  deleteNewUponTrafficShiftFailure: "ECS rolls back and scales the new revision in",
};

const STRATEGIES = ["ROLLING", ...ECS_MANAGED_STRATEGIES];
/** Stages a lifecycle hook can run at; PAUSE hooks not at the two traffic shifts (API reference, DeploymentLifecycleHook). */
const HOOK_STAGES = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"];
const NO_PAUSE_AT = ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"];
const TARGET_GROUP_ARN = /^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:targetgroup\/[^/]+\/[0-9a-f]+$/;
const LISTENER_OR_RULE_ARN = /^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:(listener-rule|listener)\/(app|net)\/[^/]+\/[0-9a-f]+\/[0-9a-f]+(\/[0-9a-f]+)?$/;
const ROLE_ARN = /^arn:[^:]+:iam::\d{12}:role\/.+$/;
const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/;

const minutes = (v: JsonValue | undefined, lo: number) => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= 1440;
const tenths = (v: number) => Math.abs(v * 10 - Math.round(v * 10)) < 1e-9;

/**
 * ECS-managed blue/green, linear and canary deployments (docs/ecs-managed.md#validation): the
 * strategy and its settings as ECS accepts them, each load balancer's advancedConfiguration, and
 * the lifecycle hooks — what CreateService/UpdateService would refuse, caught with the JSON path.
 */
const ecsManagedRules: Rule = (o, r) => {
  const dc = obj(o.svcdef["deploymentConfiguration"]);
  const at = (...path: PathSegment[]) => ["deploymentConfiguration", ...path];
  const strategy = dc?.["strategy"];
  if (typeof strategy === "string" && !STRATEGIES.includes(strategy)) {
    r.error(o.svcdefDoc, undefined, at("strategy"), "FLT-SVC-STRATEGY", `strategy "${strategy}" is not one ECS knows: ${STRATEGIES.join(", ")}`);
    return;
  }
  const managed = ecsManagedStrategy(o.svcdef);
  if (typeof strategy === "string" && strategy !== "ROLLING" && !managed) {
    r.error(o.svcdefDoc, undefined, at("strategy"), "FLT-SVC-STRATEGY", `strategy ${strategy} applies only to the ECS deployment controller; this service uses ${controllerType(o)}`, controllerType(o) === "EXTERNAL" ? "Flotilla's blue/green (EXTERNAL) shifts traffic by the depdef's trafficShiftingConfig: remove strategy, or set deploymentController to ECS for ECS's own (docs/ecs-managed.md)" : undefined);
  }
  for (const [key, wants] of [["linearConfiguration", "LINEAR"], ["canaryConfiguration", "CANARY"]] as const) {
    if (dc?.[key] !== undefined && managed !== wants) r.error(o.svcdefDoc, undefined, at(key), "FLT-SVC-STRATEGY", `${key} is only valid with strategy ${wants}${managed ? `, not ${managed}` : ""}`);
  }
  const lbs = arr(o.svcdef["loadBalancers"]).filter(isJsonObject);
  if (!managed) {
    lbs.forEach((lb, i) => {
      if (lb["advancedConfiguration"] !== undefined) r.warn(o.svcdefDoc, undefined, ["loadBalancers", i, "advancedConfiguration"], "FLT-SVC-ADVANCED-CONFIG", "advancedConfiguration is used only by ECS-managed BLUE_GREEN, LINEAR and CANARY deployments; this service has none, so it does nothing");
    });
    return;
  }
  const bake = dc?.["bakeTimeInMinutes"];
  if (bake === undefined && managed === "BLUE_GREEN") r.error(o.svcdefDoc, undefined, at(), "FLT-SVC-STRATEGY", "BLUE_GREEN needs bakeTimeInMinutes: how long ECS keeps the old revision after all production traffic moved (ECS requires it)", 'e.g. "bakeTimeInMinutes": 10');
  else if (bake !== undefined && !minutes(bake, 0)) r.error(o.svcdefDoc, undefined, at("bakeTimeInMinutes"), "FLT-SVC-STRATEGY", `bakeTimeInMinutes must be a whole number of minutes from 0 to 1440, not ${JSON.stringify(bake)}`);
  const linear = obj(dc?.["linearConfiguration"]);
  const step = num(linear?.["stepPercent"]);
  if (step !== undefined && !(step >= 3 && step <= 100 && tenths(step))) r.error(o.svcdefDoc, undefined, at("linearConfiguration", "stepPercent"), "FLT-SVC-STRATEGY", `stepPercent must be 3.0 to 100.0 in steps of 0.1, not ${step}`);
  const canary = obj(dc?.["canaryConfiguration"]);
  const pct = num(canary?.["canaryPercent"]);
  if (pct !== undefined && !(pct >= 0.1 && pct <= 100 && tenths(pct))) r.error(o.svcdefDoc, undefined, at("canaryConfiguration", "canaryPercent"), "FLT-SVC-STRATEGY", `canaryPercent must be 0.1 to 100.0 in steps of 0.1, not ${pct}`);
  for (const [cfg, key, value] of [["linearConfiguration", "stepBakeTimeInMinutes", linear?.["stepBakeTimeInMinutes"]], ["canaryConfiguration", "canaryBakeTimeInMinutes", canary?.["canaryBakeTimeInMinutes"]]] as const) {
    if (value !== undefined && !minutes(value, 0)) r.error(o.svcdefDoc, undefined, at(cfg, key), "FLT-SVC-STRATEGY", `${key} must be a whole number of minutes from 0 to 1440, not ${JSON.stringify(value)}`);
  }
  arr(dc?.["lifecycleHooks"]).forEach((raw, i) => {
    const h = obj(raw);
    if (!h) return;
    const path = at("lifecycleHooks", i);
    const type = str(h["targetType"]) ?? "AWS_LAMBDA";
    const stages = arr(h["lifecycleStages"]);
    if (stages.length === 0) r.error(o.svcdefDoc, undefined, path, "FLT-SVC-LIFECYCLE-HOOK", "a lifecycle hook needs at least one stage in lifecycleStages");
    stages.forEach((s, j) => {
      if (typeof s !== "string") return;
      if (!HOOK_STAGES.includes(s)) r.error(o.svcdefDoc, undefined, [...path, "lifecycleStages", j], "FLT-SVC-LIFECYCLE-HOOK", `a hook cannot run at ${s}; the stages hooks run at are ${HOOK_STAGES.join(", ")}`);
      else if (type === "PAUSE" && NO_PAUSE_AT.includes(s)) r.error(o.svcdefDoc, undefined, [...path, "lifecycleStages", j], "FLT-SVC-LIFECYCLE-HOOK", `a PAUSE hook cannot wait at ${s}: ECS does not allow PAUSE hooks at the two traffic shifts`, "wait at POST_TEST_TRAFFIC_SHIFT (the test listener already reaches the new revision), PRE_PRODUCTION_TRAFFIC_SHIFT or POST_PRODUCTION_TRAFFIC_SHIFT instead");
    });
    if (type === "AWS_LAMBDA") {
      const target = str(h["hookTargetArn"]);
      if (target === undefined) r.error(o.svcdefDoc, undefined, path, "FLT-SVC-LIFECYCLE-HOOK", "an AWS_LAMBDA hook needs hookTargetArn: the Lambda function ECS invokes");
      else if (!LAMBDA_ARN.test(target)) r.error(o.svcdefDoc, undefined, [...path, "hookTargetArn"], "FLT-SVC-LIFECYCLE-HOOK", `"${target}" is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)`);
      const role = str(h["roleArn"]);
      if (role === undefined) r.error(o.svcdefDoc, undefined, path, "FLT-SVC-LIFECYCLE-HOOK", "an AWS_LAMBDA hook needs roleArn: the IAM role ECS invokes the function with");
      else if (!ROLE_ARN.test(role)) r.error(o.svcdefDoc, undefined, [...path, "roleArn"], "FLT-SVC-LIFECYCLE-HOOK", `"${role}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
    }
    const timeout = obj(h["timeoutConfiguration"]);
    if (timeout?.["timeoutInMinutes"] !== undefined && !minutes(timeout["timeoutInMinutes"], 1)) r.error(o.svcdefDoc, undefined, [...path, "timeoutConfiguration", "timeoutInMinutes"], "FLT-SVC-LIFECYCLE-HOOK", "timeoutInMinutes must be a whole number of minutes from 1 to 1440");
  });
  lbs.forEach((lb, i) => {
    const tg = str(lb["targetGroupArn"]);
    if (tg === undefined) return;
    const path = ["loadBalancers", i];
    const ac = obj(lb["advancedConfiguration"]);
    if (!ac) {
      r.error(o.svcdefDoc, undefined, path, "FLT-SVC-ADVANCED-CONFIG", `a ${managed} deployment needs advancedConfiguration on each load balancer: alternateTargetGroupArn, productionListenerRule, roleArn (and optionally testListenerRule)`, "docs/ecs-managed.md shows a complete svcdef");
      return;
    }
    const acPath = [...path, "advancedConfiguration"];
    const need = (key: string, re: RegExp, what: string) => {
      const v = str(ac[key]);
      if (v === undefined) r.error(o.svcdefDoc, undefined, acPath, "FLT-SVC-ADVANCED-CONFIG", `advancedConfiguration needs ${key}: ${what}`);
      else if (!re.test(v)) r.error(o.svcdefDoc, undefined, [...acPath, key], "FLT-SVC-ADVANCED-CONFIG", `"${v}" is not ${what}`);
      return v;
    };
    const alternate = need("alternateTargetGroupArn", TARGET_GROUP_ARN, "a target group ARN (the group the new revision registers with, every other deployment)");
    if (alternate !== undefined && alternate === tg) r.error(o.svcdefDoc, undefined, [...acPath, "alternateTargetGroupArn"], "FLT-SVC-ADVANCED-CONFIG", "alternateTargetGroupArn must be another target group than targetGroupArn: ECS moves traffic between the two");
    const production = need("productionListenerRule", LISTENER_OR_RULE_ARN, "a listener rule ARN (or, for a Network Load Balancer, a listener ARN) whose weights ECS moves");
    const test = str(ac["testListenerRule"]);
    if (test !== undefined && !LISTENER_OR_RULE_ARN.test(test)) r.error(o.svcdefDoc, undefined, [...acPath, "testListenerRule"], "FLT-SVC-ADVANCED-CONFIG", `"${test}" is not a listener rule or listener ARN`);
    if (test !== undefined && test === production) r.error(o.svcdefDoc, undefined, [...acPath, "testListenerRule"], "FLT-SVC-ADVANCED-CONFIG", "testListenerRule must be another rule than productionListenerRule");
    need("roleArn", ROLE_ARN, "an IAM role ARN that lets ECS change the load balancer (arn:aws:iam::ACCOUNT:role/NAME)");
  });
};

const regions: Rule = (o, r) => {
  const check = (doc: JsonDocument | undefined, file: string | undefined, path: PathSegment[], value: JsonValue | undefined, regional: boolean) => {
    const m = typeof value === "string" ? ARN.exec(value) : null;
    if (!m) return;
    const [, , , region, account] = m;
    if (regional && o.region && region && region !== o.region) {
      r.error(doc, file, path, "FLT-SVC-REGION-MISMATCH", `this ARN is in ${region}, but the object deploys to ${o.region}`, "set environment.region in the depdef, or fix the ARN");
    }
    const want = o.depdef.environment.account;
    if (want && account && account !== want) {
      r.error(doc, file, path, "FLT-SVC-REGION-MISMATCH", `this ARN belongs to account ${account}, but the depdef's environment.account is ${want}`);
    }
  };
  check(o.svcdefDoc, undefined, ["taskDefinition"], o.svcdef["taskDefinition"], true);
  check(o.svcdefDoc, undefined, ["cluster"], o.svcdef["cluster"], true);
  arr(o.svcdef["loadBalancers"]).forEach((lb, i) => {
    check(o.svcdefDoc, undefined, ["loadBalancers", i, "targetGroupArn"], obj(lb)?.["targetGroupArn"], true);
    const ac = obj(obj(lb)?.["advancedConfiguration"]);
    for (const key of ["alternateTargetGroupArn", "productionListenerRule", "testListenerRule"]) check(o.svcdefDoc, undefined, ["loadBalancers", i, "advancedConfiguration", key], ac?.[key], true);
  });
  o.depdef.targetGroupArnPairs.forEach((pair, i) => pair.forEach((arn, j) => check(o.depdefDoc, o.files.depdef, ["targetGroupArnPairs", i, j], arn, true)));
  o.depdef.rainbow?.listeners.forEach((l, i) => {
    check(o.depdefDoc, o.files.depdef, ["rainbow", "listeners", i, "listenerArn"], l.listenerArn, true);
    check(o.depdefDoc, o.files.depdef, ["rainbow", "listeners", i, "liveRuleArn"], l.liveRuleArn, true);
  });
  if (o.taskdef) {
    for (const key of ["taskRoleArn", "executionRoleArn"]) check(o.taskdefDoc, undefined, [key], o.taskdef[key], false);
  }
};

const images: Rule = (o, r) => {
  containers(o).forEach((c, i) => {
    const image = str(c["image"]);
    if (!image || image.includes("@sha256:")) return;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
    if (tag === undefined || tag === "latest") {
      r.warn(o.taskdefDoc, undefined, ["containerDefinitions", i, "image"], "FLT-WARN-IMAGE-MUTABLE", `image "${image}" ${tag ? "is tagged latest" : "has no tag"}: a task restarted later may run different code`, "pin a version tag, or better a digest (image@sha256:...)");
    } else {
      r.warn(o.taskdefDoc, undefined, ["containerDefinitions", i, "image"], "FLT-WARN-IMAGE-NO-DIGEST", `image "${image}" is pinned by tag, which can be moved`, "pin the digest (image@sha256:...) for reproducible deployments");
    }
  });
};

const plaintextSecrets: Rule = (o, r) => {
  containers(o).forEach((c, i) => {
    arr(c["environment"]).forEach((e, j) => {
      const name = str(obj(e)?.["name"]);
      const value = str(obj(e)?.["value"]);
      if (name && value && looksSecret(name) && !/^arn:/.test(value)) {
        r.warn(o.taskdefDoc, undefined, ["containerDefinitions", i, "environment", j], "FLT-WARN-PLAINTEXT-SECRET", `environment variable ${name} holds a literal value that looks like a secret`, "move it to the container's secrets (Secrets Manager or SSM Parameter Store)");
      }
    });
  });
};

const safety: Rule = (o, r) => {
  if (!o.depdefValid) return;
  const type = controllerType(o);
  if (type === "EXTERNAL" && arr(o.svcdef["loadBalancers"]).length > 0 && o.depdef.alarms.alarmNames.length === 0) {
    r.warn(o.depdefDoc, o.files.depdef ?? o.files.svcdef, o.depdefDoc ? [] : [], "FLT-WARN-BG-NO-ALARMS", "blue/green without alarms: traffic shifts on a timer with no health signal to stop it", 'name CloudWatch alarms in "alarms": {"alarmNames": [...]}');
  }
  if (type === "ECS") {
    const ecsBreaker = obj(obj(o.svcdef["deploymentConfiguration"])?.["deploymentCircuitBreaker"])?.["enable"] === true;
    const cb = o.depdef.gmDeploymentCircuitBreaker;
    const flotillaBreaker = cb.failureThreshold > 0 || cb.failureThresholdPercent > 0;
    if (!ecsBreaker) {
      r.warn(
        o.svcdefDoc,
        undefined,
        ["deploymentConfiguration"],
        "FLT-WARN-ROLLING-NO-CIRCUIT-BREAKER",
        flotillaBreaker
          ? "ECS's deployment circuit breaker is off: if Flotilla stops watching mid-deployment, ECS keeps replacing failing tasks forever"
          : "no circuit breaker at all: ECS's is off and the depdef disables Flotilla's, so failing tasks are replaced until the stability timeout",
        'set "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}',
      );
    }
  }
};

/**
 * Flotilla's circuit breaker as Gitmoxi documents it: inside the block `failureThreshold` defaults
 * to 5, so a percent given alone is capped at 5 — right for existing Gitmoxi repositories, but
 * the user should hear about it. And a percent is 0–100: 0.2 is a fifth of one percent.
 */
const circuitBreaker: Rule = (o, r) => {
  if (!o.depdefValid) return;
  const given = obj(o.depdefGiven?.["gmDeploymentCircuitBreaker"]);
  const percent = num(given?.["failureThresholdPercent"]);
  if (!given || percent === undefined || percent <= 0) return;
  const at = ["gmDeploymentCircuitBreaker", "failureThresholdPercent"];
  if (percent < 1) {
    r.warn(o.depdefDoc, o.files.depdef, at, "FLT-WARN-BREAKER-PERCENT", `failureThresholdPercent is a percent, 0–100: ${percent} means ${percent}% of the desired count; did you mean ${+(percent * 100).toFixed(6)}?`, `write ${+(percent * 100).toFixed(6)} for ${+(percent * 100).toFixed(6)}%`);
  }
  const desired = num(o.svcdef["desiredCount"]);
  if (given["failureThreshold"] !== undefined || desired === undefined) return;
  const b = breakerThreshold(o.depdef, desired);
  if (b.fromPercent !== undefined && b.absolute !== undefined && b.absolute < b.fromPercent) {
    r.warn(
      o.depdefDoc,
      o.files.depdef,
      at,
      "FLT-WARN-BREAKER-CAPPED",
      `Flotilla's circuit breaker threshold is ${b.explained}: failureThreshold defaults to ${b.absolute} inside gmDeploymentCircuitBreaker and caps the percent; set failureThreshold to raise it`,
      `"failureThreshold": ${b.fromPercent} lets the percent decide at this desired count; 0 counts the percent alone`,
    );
  }
};

const LISTENER_ARN = /^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:listener\/app\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/;
const LISTENER_RULE_ARN = /^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:listener-rule\/app\/[^/]+\/[0-9a-f]+\/[0-9a-f]+\/[0-9a-f]+$/;

/**
 * Rainbow deployments (config/rainbow.ts): every version is a service of its own with a target
 * group and listener rule made for it, so the svcdef describes one version (a rolling service
 * with one load balancer entry and no target group), and the block's names, route and URL must
 * make valid ELB and ECS names for any version.
 */
const rainbow: Rule = (o, r) => {
  const cfg = o.depdef.rainbow;
  if (!o.depdefValid || !cfg) return;
  const at = (...p: PathSegment[]) => ["rainbow", ...p];
  const version = cfg.version;
  if (version !== undefined) {
    const why = versionProblem(version);
    if (why) r.error(o.depdefDoc, o.files.depdef, at("version"), "FLT-RAINBOW-VERSION", why, 'leave "version" out to name versions by commit, or give one such as "v42" (from the inputs: "{{ version }}")');
  }
  for (const p of routeProblems(cfg)) r.error(o.depdefDoc, o.files.depdef, at("route", ...p.path), "FLT-RAINBOW-ROUTE", p.message);
  for (const p of urlProblems(cfg)) r.error(o.depdefDoc, o.files.depdef, at(...p.path), "FLT-RAINBOW-URL", p.message, p.hint);
  const seen = new Set<string>();
  cfg.listeners.forEach((l, i) => {
    if (!LISTENER_ARN.test(l.listenerArn)) {
      r.error(o.depdefDoc, o.files.depdef, at("listeners", i, "listenerArn"), "FLT-RAINBOW-LISTENER", `"${l.listenerArn}" is not an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID)`);
    } else if (seen.has(l.listenerArn)) r.error(o.depdefDoc, o.files.depdef, at("listeners", i, "listenerArn"), "FLT-RAINBOW-LISTENER", "this listener is listed twice");
    seen.add(l.listenerArn);
    if (l.liveRuleArn !== undefined) {
      if (!LISTENER_RULE_ARN.test(l.liveRuleArn)) r.error(o.depdefDoc, o.files.depdef, at("listeners", i, "liveRuleArn"), "FLT-RAINBOW-LISTENER", `"${l.liveRuleArn}" is not a listener rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/ID/ID/ID)`);
      else if (!l.liveRuleArn.startsWith(`${l.listenerArn.replace(":listener/", ":listener-rule/")}/`)) r.error(o.depdefDoc, o.files.depdef, at("listeners", i, "liveRuleArn"), "FLT-RAINBOW-LISTENER", "the live rule is not a rule of this listener");
    }
  });
  if (cfg.rulePriorities.from > cfg.rulePriorities.to) r.error(o.depdefDoc, o.files.depdef, at("rulePriorities"), "FLT-CONFIG-RANGE", `rulePriorities.from (${cfg.rulePriorities.from}) is above rulePriorities.to (${cfg.rulePriorities.to})`);
  cfg.cleanup.exclude.forEach((v, i) => {
    const why = versionProblem(v);
    if (why) r.warn(o.depdefDoc, o.files.depdef, at("cleanup", "exclude", i), "FLT-RAINBOW-VERSION", `${why}: no version can have this name, so excluding it protects nothing`);
  });
  // The svcdef is one version's service.
  if (controllerType(o) !== "ECS") {
    r.error(o.svcdefDoc, undefined, ["deploymentController", "type"], "FLT-RAINBOW-SERVICE", "a rainbow object's versions are services of their own, each created once: the deployment controller must be ECS (or left out)", 'remove "deploymentController" or the depdef\'s "rainbow" block');
  } else if (ecsManagedStrategy(o.svcdef)) {
    r.error(o.svcdefDoc, undefined, ["deploymentConfiguration", "strategy"], "FLT-RAINBOW-SERVICE", `a rainbow version is created once and never updated, so ECS's ${ecsManagedStrategy(o.svcdef)} deployments would never run: traffic moves by cutover`, 'remove "strategy" (or set ROLLING), or the depdef\'s "rainbow" block');
  }
  if ((str(o.svcdef["schedulingStrategy"]) ?? "REPLICA") === "DAEMON") {
    r.error(o.svcdefDoc, undefined, ["schedulingStrategy"], "FLT-RAINBOW-SERVICE", "a DAEMON service cannot be scaled to the live version's count before a cutover: rainbow versions must be REPLICA services");
  }
  const lbs = arr(o.svcdef["loadBalancers"]);
  if (lbs.length !== 1) {
    r.error(o.svcdefDoc, undefined, o.svcdef["loadBalancers"] !== undefined ? ["loadBalancers"] : [], "FLT-RAINBOW-SERVICE", `a rainbow service needs exactly one load balancer entry (the container and port its version's target group sends to), not ${lbs.length}`, 'e.g. "loadBalancers": [{"containerName": "app", "containerPort": 8080}]');
  } else {
    const lb = obj(lbs[0]) ?? {};
    for (const key of ["targetGroupArn", "loadBalancerName"]) {
      if (lb[key] !== undefined) r.error(o.svcdefDoc, undefined, ["loadBalancers", 0, key], "FLT-RAINBOW-SERVICE", `Flotilla creates a target group for every version: remove ${key}`);
    }
    const port = num(lb["containerPort"]);
    if (port === undefined && cfg.targetGroup.port === undefined) r.error(o.depdefDoc, o.files.depdef, at("targetGroup"), "FLT-CONFIG-REQUIRED", "the target group needs a port: give targetGroup.port or the load balancer entry's containerPort");
  }
  const service = str(o.svcdef["serviceName"]);
  const longest = version ?? "x".repeat(MAX_VERSION_LENGTH);
  if (service !== undefined && versionServiceName(service, longest).length > 255) {
    r.error(o.svcdefDoc, undefined, ["serviceName"], "FLT-RAINBOW-SERVICE", `serviceName is too long for version services: "${versionServiceName(service, version ?? "<version>")}" must be at most 255 characters`);
  }
  const awsvpc = str(o.taskdef?.["networkMode"]) === "awsvpc" || onFargate(o);
  if (awsvpc && cfg.targetGroup.targetType === "instance") {
    r.error(o.depdefDoc, o.files.depdef, at("targetGroup", "targetType"), "FLT-RAINBOW-SERVICE", 'awsvpc tasks register by IP address: targetType must be "ip"');
  }
};

const RULES: Rule[] = [taskDefinitionSource, names, controller, deploymentConfiguration, ecsManagedRules, network, resources, containerRules, loadBalancers, blueGreen, regions, rainbow, images, plaintextSecrets, safety, circuitBreaker];

export function checkObject(o: ObjectUnderCheck): Problem[] {
  const reporter = new Reporter();
  for (const rule of RULES) rule(o, reporter);
  return reporter.problems;
}
