/**
 * Scenario files: the initial cloud state (clusters, task definitions, load balancers, target
 * groups, services, alarms), faults, and an optional script of API calls. Format in
 * docs/simulator.md; validated with zod, errors reported with their JSON path.
 */
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import type { Action, AwsPorts } from "../aws/ports.ts";
import { AwsError } from "../aws/errors.ts";
import { jsonPath } from "../core/problems.ts";
import { Faults } from "./faults.ts";
import { parseDuration } from "./ids.ts";
import { createService, createTaskSet, registerTaskDefinition, startDeployment } from "./ecs-api.ts";
import { seedRunningTask } from "./tasks.ts";
import { adoptProduction } from "./managed.ts";
import { parseAlarmRule } from "./alarms.ts";
import { Simulator } from "./simulator.ts";

/** arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID, as ELB names target groups. */
const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):(\d{12}):targetgroup\/([A-Za-z0-9-]{1,32})\/([0-9a-f]{16})$/;

const duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, "a duration such as 30, \"30s\", \"5m\" or \"1h\"")]);
const alarmState = z.enum(["OK", "ALARM", "INSUFFICIENT_DATA"]);

const targetGroupRef = z.object({ targetGroup: z.string().optional(), targetGroupArn: z.string().optional(), weight: z.number().optional() }).strict();
const scenarioAction = z
  .object({
    type: z.string().default("forward"),
    targetGroup: z.string().optional(),
    targetGroupArn: z.string().optional(),
    targetGroups: z.array(targetGroupRef).optional(),
    /** `type: "fixed-response"`: what the load balancer answers itself (e.g. a 404 before any version is live). */
    fixedResponse: z.object({ statusCode: z.string().regex(/^[245]\d\d$/, "an HTTP status such as 404"), contentType: z.string().optional(), messageBody: z.string().max(1024).optional() }).strict().optional(),
  })
  .strict();

const imageFault = z
  .object({
    image: z.string().min(1),
    pullFails: z.boolean().optional(),
    exitAfter: duration.optional(),
    exitCode: z.number().int().optional(),
    failsHealthChecks: z.boolean().optional(),
    startDelay: duration.optional(),
    from: duration.optional(),
    until: duration.optional(),
  })
  .strict();

const apiFault = z
  .object({
    operation: z.string().min(1),
    errorRate: z.number().min(0).max(1).optional(),
    error: z.string().optional(),
    message: z.string().optional(),
    latency: duration.optional(),
    from: duration.optional(),
    until: duration.optional(),
  })
  .strict();

const hookFault = z
  .object({
    hook: z.string().min(1),
    stage: z.string().optional(),
    outcome: z.enum(["SUCCEEDED", "FAILED"]).default("SUCCEEDED"),
    after: duration.optional(),
    callBackDelay: duration.optional(),
    from: duration.optional(),
    until: duration.optional(),
  })
  .strict();

const alarmFault = z.object({ alarm: z.string(), at: duration, state: alarmState.default("ALARM"), until: duration.optional(), reason: z.string().optional() }).strict();

const alarmSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(["metric", "composite"]).default("metric"),
    initialState: alarmState.optional(),
    timeline: z.array(z.object({ at: duration, state: alarmState, reason: z.string().optional() }).strict()).optional(),
    when: z
      .union([
        z.object({ imageServing: z.string(), minTrafficPercent: z.number().min(0).max(100).default(1), for: duration.default(0) }).strict(),
        z.object({ unhealthyTargets: z.string(), threshold: z.number().int().min(1).default(1), for: duration.default(0) }).strict(),
      ])
      .optional(),
    alarmRule: z.string().optional(),
    metricName: z.string().optional(),
    namespace: z.string().optional(),
    /** Metric alarms: the period in seconds (10, 20, 30 or a multiple of 60; default 60). */
    period: z.number().int().positive().optional(),
  })
  .strict();

const serviceSchema = z
  .object({
    cluster: z.string().default("default"),
    serviceName: z.string().min(1),
    taskDefinition: z.string().optional(),
    desiredCount: z.number().int().min(0).default(1),
    deploymentController: z.object({ type: z.enum(["ECS", "EXTERNAL"]) }).strict().optional(),
    deploymentConfiguration: z
      .object({
        minimumHealthyPercent: z.number().int().min(0).max(100).optional(),
        maximumPercent: z.number().int().min(0).optional(),
        deploymentCircuitBreaker: z.object({ enable: z.boolean(), rollback: z.boolean() }).strict().optional(),
        // ECS-managed blue/green, linear and canary services, as a svcdef writes them.
        strategy: z.enum(["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"]).optional(),
        bakeTimeInMinutes: z.number().int().min(0).max(1440).optional(),
        linearConfiguration: z.object({ stepPercent: z.number().optional(), stepBakeTimeInMinutes: z.number().int().optional() }).strict().optional(),
        canaryConfiguration: z.object({ canaryPercent: z.number().optional(), canaryBakeTimeInMinutes: z.number().int().optional() }).strict().optional(),
        lifecycleHooks: z.array(z.record(z.string(), z.unknown())).optional(),
        alarms: z.object({ alarmNames: z.array(z.string()), enable: z.boolean(), rollback: z.boolean() }).strict().optional(),
      })
      .strict()
      .optional(),
    loadBalancers: z
      .array(
        z
          .object({
            targetGroup: z.string().optional(),
            targetGroupArn: z.string().optional(),
            containerName: z.string().optional(),
            containerPort: z.number().int().optional(),
            advancedConfiguration: z
              .object({
                alternateTargetGroup: z.string().optional(),
                alternateTargetGroupArn: z.string().optional(),
                // A rule ARN, or "LOAD_BALANCER:PORT:PRIORITY" (a listener: "LOAD_BALANCER:PORT").
                productionListenerRule: z.string().optional(),
                testListenerRule: z.string().optional(),
                roleArn: z.string().optional(),
              })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .optional(),
    healthCheckGracePeriodSeconds: z.number().int().min(0).optional(),
    launchType: z.string().optional(),
    // The rest of CreateService as a svcdef has it, so a svcdef's fields can be copied in as they are.
    capacityProviderStrategy: z.array(z.object({ capacityProvider: z.string(), weight: z.number().int().min(0).optional(), base: z.number().int().min(0).optional() }).strict()).optional(),
    platformVersion: z.string().optional(),
    networkConfiguration: z.object({ awsvpcConfiguration: z.object({ subnets: z.array(z.string()), securityGroups: z.array(z.string()).optional(), assignPublicIp: z.enum(["ENABLED", "DISABLED"]).optional() }).strict() }).strict().optional(),
    schedulingStrategy: z.enum(["REPLICA", "DAEMON"]).optional(),
    placementConstraints: z.array(z.record(z.string(), z.unknown())).optional(),
    placementStrategy: z.array(z.record(z.string(), z.unknown())).optional(),
    propagateTags: z.enum(["TASK_DEFINITION", "SERVICE", "NONE"]).optional(),
    enableECSManagedTags: z.boolean().optional(),
    tags: z.array(z.object({ key: z.string(), value: z.string().optional() }).strict()).optional(),
  })
  .strict();

const scriptStep = z
  .object({
    at: duration,
    call: z.enum([
      "ecs.registerTaskDefinition",
      "ecs.createService",
      "ecs.updateService",
      "ecs.deleteService",
      "ecs.createTaskSet",
      "ecs.updateTaskSet",
      "ecs.deleteTaskSet",
      "ecs.updateServicePrimaryTaskSet",
      "elbv2.modifyListener",
      "elbv2.modifyRule",
    ]),
    input: z.record(z.string(), z.unknown()),
  })
  .strict();

export const scenarioSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    region: z.string().default("us-east-1"),
    account: z.string().regex(/^\d{12}$/, "a 12-digit account id").default("123456789012"),
    seed: z.number().int().default(1),
    start: z.string().datetime({ offset: true }).optional(),
    throttling: z.boolean().default(true),
    timing: z.object({ provisioning: duration.optional(), pull: duration.optional(), stop: duration.optional() }).strict().optional(),
    clusters: z.array(z.union([z.string(), z.object({ name: z.string() }).strict()])).default([]),
    taskDefinitions: z.array(z.record(z.string(), z.unknown())).default([]),
    targetGroups: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9-]{1,32}$/, "1–32 letters, digits and hyphens").optional(),
            arn: z.string().regex(TARGET_GROUP_ARN, "a target group ARN, arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex digits>").optional(),
            port: z.number().int().optional(),
            protocol: z.string().optional(),
            targetType: z.string().optional(),
            healthCheck: z.object({ intervalSeconds: z.number().int().min(5).max(300).optional(), healthyThreshold: z.number().int().min(2).max(10).optional(), unhealthyThreshold: z.number().int().min(2).max(10).optional(), path: z.string().optional() }).strict().optional(),
            deregistrationDelaySeconds: z.number().int().min(0).max(3600).optional(),
          })
          .strict()
          .refine((tg) => tg.name !== undefined || tg.arn !== undefined, "give name, or the arn your svcdefs use (the name is then read from it)"),
      )
      .default([]),
    loadBalancers: z
      .array(
        z
          .object({
            name: z.string().min(1),
            listeners: z
              .array(
                z
                  .object({
                    port: z.number().int(),
                    protocol: z.string().default("HTTP"),
                    defaultActions: z.array(scenarioAction).min(1),
                    rules: z.array(z.object({ priority: z.number().int().min(1).max(50000), conditions: z.array(z.record(z.string(), z.unknown())).default([]), actions: z.array(scenarioAction).min(1) }).strict()).default([]),
                  })
                  .strict(),
              )
              .default([]),
          })
          .strict(),
      )
      .default([]),
    services: z.array(serviceSchema).default([]),
    alarms: z.array(alarmSchema).default([]),
    faults: z
      .object({ images: z.array(imageFault).default([]), apis: z.array(apiFault).default([]), alarms: z.array(alarmFault).default([]), hooks: z.array(hookFault).default([]) })
      .strict()
      .default({ images: [], apis: [], alarms: [], hooks: [] }),
    script: z.array(scriptStep).default([]),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScriptStep = z.infer<typeof scriptStep>;

export class ScenarioError extends Error {
  /** The file as the user named it. */
  readonly file: string;
  readonly issues: { path: string; message: string }[];
  constructor(file: string, issues: { path: string; message: string }[]) {
    super(`${file}: invalid scenario\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join("\n"));
    this.name = "ScenarioError";
    this.file = file;
    this.issues = issues;
  }
}

export function parseScenario(data: unknown, file = "scenario"): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (!r.success) throw new ScenarioError(file, r.error.issues.map((i) => ({ path: jsonPath(i.path.filter((p) => typeof p !== "symbol")), message: i.message })));
  return r.data;
}

const ms = (d: number | string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

/** Build a simulator in the scenario's initial state. Pre-existing services start steady. */
export function loadScenario(scenario: Scenario, clock: Clock, file = "scenario"): Simulator {
  const faults = new Faults(
    scenario.faults.images.map((f) => ({
      image: f.image,
      ...(f.pullFails !== undefined ? { pullFails: f.pullFails } : {}),
      ...(f.exitAfter !== undefined ? { exitAfterMs: ms(f.exitAfter)! } : {}),
      ...(f.exitCode !== undefined ? { exitCode: f.exitCode } : {}),
      ...(f.failsHealthChecks !== undefined ? { failsHealthChecks: f.failsHealthChecks } : {}),
      ...(f.startDelay !== undefined ? { startDelayMs: ms(f.startDelay)! } : {}),
      ...(f.from !== undefined ? { fromMs: ms(f.from)! } : {}),
      ...(f.until !== undefined ? { untilMs: ms(f.until)! } : {}),
    })),
    scenario.faults.apis.map((f) => ({
      operation: f.operation,
      ...(f.errorRate !== undefined ? { errorRate: f.errorRate } : {}),
      ...(f.error !== undefined ? { error: f.error } : {}),
      ...(f.message !== undefined ? { message: f.message } : {}),
      ...(f.latency !== undefined ? { latencyMs: ms(f.latency)! } : {}),
      ...(f.from !== undefined ? { fromMs: ms(f.from)! } : {}),
      ...(f.until !== undefined ? { untilMs: ms(f.until)! } : {}),
    })),
    scenario.faults.hooks.map((f) => ({
      hook: f.hook,
      outcome: f.outcome,
      ...(f.stage !== undefined ? { stage: f.stage } : {}),
      ...(f.after !== undefined ? { afterMs: ms(f.after)! } : {}),
      ...(f.callBackDelay !== undefined ? { callBackDelayMs: ms(f.callBackDelay)! } : {}),
      ...(f.from !== undefined ? { fromMs: ms(f.from)! } : {}),
      ...(f.until !== undefined ? { untilMs: ms(f.until)! } : {}),
    })),
  );
  const timing = scenario.timing;
  const sim = new Simulator({
    clock,
    region: scenario.region,
    account: scenario.account,
    seed: scenario.seed,
    throttling: scenario.throttling,
    faults,
    timing: {
      ...(timing?.provisioning !== undefined ? { provisioningMs: ms(timing.provisioning)! } : {}),
      ...(timing?.pull !== undefined ? { pullMs: ms(timing.pull)! } : {}),
      ...(timing?.stop !== undefined ? { stopMs: ms(timing.stop)! } : {}),
    },
  });
  const fail = (path: (string | number)[], message: string): never => {
    throw new ScenarioError(file, [{ path: jsonPath(path), message }]);
  };
  const guard = <T>(path: (string | number)[], f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ScenarioError) throw e;
      return fail(path, e instanceof AwsError ? e.toString() : e instanceof Error ? e.message : String(e));
    }
  };

  const clusterNames = new Set(scenario.clusters.map((c) => (typeof c === "string" ? c : c.name)));
  for (const s of scenario.services) clusterNames.add(s.cluster);
  for (const name of clusterNames) sim.addCluster(name);
  scenario.taskDefinitions.forEach((td, i) => guard(["taskDefinitions", i], () => registerTaskDefinition(sim, td)));
  scenario.targetGroups.forEach((tg, i) => {
    const name = targetGroupName(scenario, tg, (message) => fail(["targetGroups", i, "arn"], message));
    if ([...sim.elb.targetGroups.values()].some((t) => t.name === name)) fail(["targetGroups", i], `a second target group named ${name}: names are unique in a Region`);
    sim.elb.addTargetGroup({
      name,
      ...(tg.arn !== undefined ? { arn: tg.arn } : {}),
      ...(tg.port !== undefined ? { port: tg.port } : {}),
      ...(tg.protocol !== undefined ? { protocol: tg.protocol } : {}),
      ...(tg.targetType !== undefined ? { targetType: tg.targetType } : {}),
      ...(tg.healthCheck?.intervalSeconds !== undefined ? { healthCheckIntervalSeconds: tg.healthCheck.intervalSeconds } : {}),
      ...(tg.healthCheck?.healthyThreshold !== undefined ? { healthyThresholdCount: tg.healthCheck.healthyThreshold } : {}),
      ...(tg.healthCheck?.unhealthyThreshold !== undefined ? { unhealthyThresholdCount: tg.healthCheck.unhealthyThreshold } : {}),
      ...(tg.healthCheck?.path !== undefined ? { healthCheckPath: tg.healthCheck.path } : {}),
      ...(tg.deregistrationDelaySeconds !== undefined ? { deregistrationDelaySeconds: tg.deregistrationDelaySeconds } : {}),
    });
  });
  const tgArn = (path: (string | number)[], ref: { targetGroup?: string | undefined; targetGroupArn?: string | undefined }): string => {
    const arn = ref.targetGroupArn ?? (ref.targetGroup !== undefined ? sim.elb.targetGroupArn(ref.targetGroup) : undefined);
    if (arn === undefined) return fail(path, "give targetGroup (a name from targetGroups) or targetGroupArn");
    if (!sim.elb.targetGroups.has(arn)) return fail(path, `no target group ${ref.targetGroup ?? arn} in targetGroups`);
    return arn;
  };
  const toActions = (path: (string | number)[], acts: z.infer<typeof scenarioAction>[]): Action[] =>
    acts.map((a, i) => {
      if (a.type === "fixed-response") {
        const f = a.fixedResponse ?? { statusCode: "404" };
        return { type: a.type, other: { FixedResponseConfig: { StatusCode: f.statusCode, ...(f.contentType ? { ContentType: f.contentType } : {}), ...(f.messageBody !== undefined ? { MessageBody: f.messageBody } : {}) } } };
      }
      if (a.type !== "forward") return { type: a.type };
      if (a.targetGroups) {
        return { type: "forward", forwardConfig: { targetGroups: a.targetGroups.map((g, j) => ({ targetGroupArn: tgArn([...path, i, "targetGroups", j], g), weight: g.weight ?? 1 })) } };
      }
      return { type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: tgArn([...path, i], a), weight: 1 }] } };
    });
  scenario.loadBalancers.forEach((lbDef, i) => {
    const lb = sim.elb.addLoadBalancer(lbDef.name);
    lbDef.listeners.forEach((l, j) => {
      const p = ["loadBalancers", i, "listeners", j];
      const listener = guard(p, () => sim.elb.addListener(lb, l.port, l.protocol, toActions([...p, "defaultActions"], l.defaultActions)));
      l.rules.forEach((r, k) => guard([...p, "rules", k], () => sim.elb.addRule(listener, r.priority, r.conditions, toActions([...p, "rules", k, "actions"], r.actions))));
    });
  });
  scenario.services.forEach((s, i) => {
    const p = ["services", i];
    const loadBalancers = s.loadBalancers?.map((lb, j) => {
      const ac = lb.advancedConfiguration;
      const at = [...p, "loadBalancers", j, "advancedConfiguration"];
      const route = (key: "productionListenerRule" | "testListenerRule") => {
        const ref = ac?.[key];
        if (ref === undefined) return {};
        const arn = ref.startsWith("arn:") ? ref : routeByName(sim, ref);
        return arn ? { [key]: arn } : fail([...at, key], `no listener rule ${ref} (write LOAD_BALANCER:PORT:PRIORITY, LOAD_BALANCER:PORT or an ARN)`);
      };
      const advancedConfiguration = ac
        ? {
            ...(ac.alternateTargetGroup !== undefined || ac.alternateTargetGroupArn !== undefined ? { alternateTargetGroupArn: tgArn(at, { targetGroup: ac.alternateTargetGroup, targetGroupArn: ac.alternateTargetGroupArn }) } : {}),
            ...route("productionListenerRule"),
            ...route("testListenerRule"),
            ...(ac.roleArn !== undefined ? { roleArn: ac.roleArn } : {}),
          }
        : undefined;
      return {
        targetGroupArn: tgArn([...p, "loadBalancers", j], lb),
        ...(lb.containerName !== undefined ? { containerName: lb.containerName } : {}),
        ...(lb.containerPort !== undefined ? { containerPort: lb.containerPort } : {}),
        ...(advancedConfiguration ? { advancedConfiguration } : {}),
      };
    });
    const request = { ...s, ...(loadBalancers ? { loadBalancers } : {}) };
    const svc = guard(p, () => createService(sim, request, "CreateService"));
    // Existing services start in steady state: tasks RUNNING and healthy, deployment COMPLETED.
    if (svc.controller === "ECS") {
      svc.deployments = [];
      const managed = svc.managed !== undefined;
      delete svc.managed;
      const d = startDeployment(sim, svc, svc.taskDef!, { completed: true });
      // An ECS-managed service runs its revision on the load balancers' primary target groups.
      if (managed) {
        adoptProduction(sim, svc, d);
        svc.events = [];
      }
      for (let n = 0; n < svc.desiredCount; n++) seedRunningTask(sim, svc, d);
    } else if (s.taskDefinition !== undefined) {
      // The service's task-set-level settings (capacity, network) describe its PRIMARY task set.
      const settings = Object.fromEntries((["launchType", "capacityProviderStrategy", "platformVersion", "networkConfiguration"] as const).filter((k) => s[k] !== undefined).map((k) => [k, structuredClone(s[k])]));
      const ts = createTaskSet(sim, svc, svc.taskDef!, 100, structuredClone(svc.loadBalancers), undefined, settings);
      ts.status = "PRIMARY";
      ts.stabilityStatus = "STEADY_STATE";
      for (let n = 0; n < svc.desiredCount; n++) seedRunningTask(sim, svc, ts);
    }
    svc.steady = true;
  });
  scenario.alarms.forEach((a, i) => {
    const p = ["alarms", i];
    if (a.type === "composite") {
      if (!a.alarmRule) fail(p, "a composite alarm needs alarmRule");
      guard([...p, "alarmRule"], () => parseAlarmRule(a.alarmRule!));
    }
    const w = a.when;
    const rule = w
      ? "imageServing" in w
        ? { condition: { kind: "imageServing" as const, image: w.imageServing, minTrafficPercent: w.minTrafficPercent }, forMs: ms(w.for)! }
        : { condition: { kind: "unhealthyTargets" as const, targetGroupArn: tgArn([...p, "when"], { targetGroup: w.unhealthyTargets }), threshold: w.threshold }, forMs: ms(w.for)! }
      : undefined;
    sim.alarms.add({
      name: a.name,
      type: a.type,
      ...(a.initialState ? { initialState: a.initialState } : {}),
      ...(a.timeline ? { timeline: a.timeline.map((e) => ({ atMs: ms(e.at)!, state: e.state, ...(e.reason ? { reason: e.reason } : {}) })) } : {}),
      ...(rule ? { rule } : {}),
      ...(a.alarmRule ? { alarmRule: a.alarmRule } : {}),
      ...(a.metricName ? { metricName: a.metricName } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
      ...(a.period !== undefined ? { period: a.period } : {}),
    });
  });
  scenario.faults.alarms.forEach((f, i) => {
    const names = sim.alarms.names();
    if (!names.includes(f.alarm)) fail(["faults", "alarms", i, "alarm"], `no alarm named ${f.alarm} in alarms`);
    sim.alarms.schedule(f.alarm, ms(f.at)!, f.state, f.reason);
    if (f.until !== undefined) sim.alarms.schedule(f.alarm, ms(f.until)!, "OK", "Fault window ended");
  });
  return sim;
}

/**
 * A target group's name: given, or read from its ARN. An ARN must be in the scenario's Region and
 * account (ECS uses target groups of its own Region), and agree with a given name.
 */
function targetGroupName(scenario: Scenario, tg: Scenario["targetGroups"][number], fail: (message: string) => never): string {
  if (tg.arn === undefined) return tg.name!;
  const [, region, account, name] = TARGET_GROUP_ARN.exec(tg.arn)!;
  if (region !== scenario.region) fail(`the ARN is in Region ${region}, the scenario models ${scenario.region}: set "region": "${region}" (one scenario per Region)`);
  if (account !== scenario.account) fail(`the ARN is in account ${account}, the scenario models ${scenario.account}: set "account": "${account}"`);
  if (tg.name !== undefined && tg.name !== name) fail(`the ARN names target group ${name!}, not ${tg.name}`);
  return name!;
}

/** Task set ids are generated, so scripts name task sets by the externalId they created them with. */
function taskSetByExternalId(sim: Simulator, ref: string): string | undefined {
  for (const c of sim.clusters.values()) for (const svc of c.services.values()) for (const ts of svc.taskSets) if (ts.externalId === ref) return ts.id;
  return undefined;
}

/** `"shop:443"` → the ARN of load balancer shop's listener on port 443. */
function listenerByName(sim: Simulator, ref: string): string | undefined {
  const [lb, port] = ref.split(":");
  for (const l of sim.elb.listeners.values()) if (sim.elb.loadBalancers.get(l.lbArn)?.name === lb && String(l.port) === port) return l.arn;
  return undefined;
}

/** `"shop:443:10"` → the ARN of the rule of priority 10 on shop's listener on 443; `"shop:443"` → the listener. */
function routeByName(sim: Simulator, ref: string): string | undefined {
  const [lb, port, priority] = ref.split(":");
  const listener = listenerByName(sim, `${lb}:${port}`);
  if (priority === undefined) return listener;
  return [...sim.elb.rules.values()].find((r) => r.listenerArn === listener && r.priority === priority)?.arn;
}

/** Resolve `targetGroup` names inside script inputs to ARNs, so scripts can stay readable. */
function resolveNames(sim: Simulator, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveNames(sim, x));
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "targetGroup" && typeof x === "string") out["targetGroupArn"] = sim.elb.targetGroupArn(x);
    else if (k === "listener" && typeof x === "string") out["listenerArn"] = listenerByName(sim, x) ?? x;
    else if ((k === "taskSet" || k === "primaryTaskSet") && typeof x === "string") out[k] = taskSetByExternalId(sim, x) ?? x;
    else out[k] = resolveNames(sim, x);
  }
  return out;
}

export interface ScriptResult {
  /** Seconds since the scenario start. */
  atSeconds: number;
  call: string;
  ok: boolean;
  detail: string;
}

/** Perform a script step through the ports, as a client would. */
export async function runScriptStep(sim: Simulator, ports: AwsPorts, step: ScriptStep): Promise<ScriptResult> {
  const input = resolveNames(sim, step.input) as Record<string, unknown>;
  const atSeconds = (sim.clock.now() - sim.startedAt) / 1000;
  const anyInput = input as never;
  try {
    let detail = "";
    switch (step.call) {
      case "ecs.registerTaskDefinition":
        detail = (await ports.ecs.registerTaskDefinition(input)).taskDefinitionArn;
        break;
      case "ecs.createService":
        detail = (await ports.ecs.createService(input)).serviceArn;
        break;
      case "ecs.updateService": {
        const s = await ports.ecs.updateService(input);
        detail = `${s.serviceName}: primary ${s.deployments.find((d) => d.status === "PRIMARY")?.id ?? "-"}`;
        break;
      }
      case "ecs.deleteService":
        detail = (await ports.ecs.deleteService(anyInput)).status;
        break;
      case "ecs.createTaskSet":
        detail = (await ports.ecs.createTaskSet(anyInput)).id;
        break;
      case "ecs.updateTaskSet":
        detail = `scale ${(await ports.ecs.updateTaskSet(anyInput)).scale.value}%`;
        break;
      case "ecs.deleteTaskSet":
        detail = (await ports.ecs.deleteTaskSet(anyInput)).status;
        break;
      case "ecs.updateServicePrimaryTaskSet":
        detail = (await ports.ecs.updateServicePrimaryTaskSet(anyInput)).id;
        break;
      case "elbv2.modifyListener":
        detail = (await ports.elbv2.modifyListener(anyInput)).listenerArn;
        break;
      case "elbv2.modifyRule":
        detail = (await ports.elbv2.modifyRule(anyInput)).ruleArn;
        break;
    }
    return { atSeconds, call: step.call, ok: true, detail };
  } catch (e) {
    return { atSeconds, call: step.call, ok: false, detail: e instanceof AwsError ? e.toString() : String(e) };
  }
}
