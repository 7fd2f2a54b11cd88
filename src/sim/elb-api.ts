/** Elbv2Port and CloudWatchPort on the simulator, and the ELBv2 and CloudWatch calls for building a world by API. */
import type { Action, Alarm, CloudWatchPort, CreateRuleInput, CreateTargetGroupInput, Elbv2Port, Listener, ResourceTag, Rule, TargetGroup, TargetHealth } from "../aws/ports.ts";
import type { Action as SdkAction } from "@aws-sdk/client-elastic-load-balancing-v2";
import { fromSdkAction, toSdkAction } from "../aws/sdk/actions.ts";
import { conditionField, conditionValues } from "../core/rule-conditions.ts";
import type { SimulatorCore } from "./core.ts";
import { defaultRuleArn, listenerRecord, loadBalancerRecord, ruleRecord, targetGroupAttributes, targetGroupRecord } from "./elb-records.ts";
import type { SimListener, SimRule, SimTargetGroup } from "./model.ts";
import { parseAlarmRule, type AlarmFilter, type AlarmRecords } from "./alarms.ts";

export class SimElbv2 implements Elbv2Port {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  private viewTargetGroup(tg: SimTargetGroup): TargetGroup {
    return {
      targetGroupArn: tg.arn,
      targetGroupName: tg.name,
      protocol: tg.protocol,
      port: tg.port,
      targetType: tg.targetType,
      loadBalancerArns: this.sim.elb.loadBalancerArnsOf(tg.arn),
      healthCheckIntervalSeconds: tg.intervalMs / 1000,
      healthyThresholdCount: tg.healthyThreshold,
      unhealthyThresholdCount: tg.unhealthyThreshold,
      healthCheckPath: tg.path,
    };
  }

  async describeTargetGroups(input: { targetGroupArns?: readonly string[]; names?: readonly string[]; loadBalancerArn?: string }): Promise<TargetGroup[]> {
    await this.sim.gate("ELBv2", "DescribeTargetGroups");
    const elb = this.sim.elb;
    const all = [...elb.targetGroups.values()];
    let picked: SimTargetGroup[];
    if (input.targetGroupArns) picked = input.targetGroupArns.map((a) => elb.targetGroups.get(a)).filter((x) => x !== undefined);
    else if (input.names) picked = all.filter((t) => input.names!.includes(t.name));
    else if (input.loadBalancerArn) {
      if (!elb.loadBalancers.has(input.loadBalancerArn)) throw this.sim.error("ELBv2", "DescribeTargetGroups", "LoadBalancerNotFound", "One or more load balancers not found");
      picked = all.filter((t) => elb.loadBalancerArnsOf(t.arn).includes(input.loadBalancerArn!));
    }
    else picked = all;
    const asked = input.targetGroupArns?.length ?? input.names?.length;
    if (asked !== undefined && picked.length < asked) throw this.sim.error("ELBv2", "DescribeTargetGroups", "TargetGroupNotFound", "One or more target groups not found");
    return picked.map((t) => this.viewTargetGroup(t));
  }

  async describeListeners(input: { loadBalancerArn?: string; listenerArns?: readonly string[] }): Promise<Listener[]> {
    await this.sim.gate("ELBv2", "DescribeListeners");
    const elb = this.sim.elb;
    if (input.listenerArns) {
      const found = input.listenerArns.map((a) => elb.listeners.get(a));
      if (found.some((l) => !l)) throw this.sim.error("ELBv2", "DescribeListeners", "ListenerNotFound", "One or more listeners not found");
      return found.map((l) => viewListener(l!));
    }
    if (!input.loadBalancerArn) throw this.sim.error("ELBv2", "DescribeListeners", "ValidationError", "You must specify either listener ARNs or a load balancer ARN");
    const lb = elb.loadBalancers.get(input.loadBalancerArn);
    if (!lb) throw this.sim.error("ELBv2", "DescribeListeners", "LoadBalancerNotFound", "One or more load balancers not found");
    return lb.listeners.map(viewListener);
  }

  async describeRules(input: { listenerArn?: string; ruleArns?: readonly string[] }): Promise<Rule[]> {
    await this.sim.gate("ELBv2", "DescribeRules");
    const elb = this.sim.elb;
    if (input.ruleArns) {
      const out: Rule[] = [];
      for (const arn of input.ruleArns) {
        const r = elb.rules.get(arn);
        if (r) out.push(viewRule(r));
        else {
          const l = [...elb.listeners.values()].find((x) => defaultRuleArn(x) === arn);
          if (!l) throw this.sim.error("ELBv2", "DescribeRules", "RuleNotFound", "One or more rules not found");
          out.push(viewDefaultRule(l));
        }
      }
      return out;
    }
    const l = input.listenerArn ? elb.listeners.get(input.listenerArn) : undefined;
    if (!l) throw this.sim.error("ELBv2", "DescribeRules", "ListenerNotFound", "One or more listeners not found");
    return [...[...l.rules].sort((a, b) => Number(a.priority) - Number(b.priority)).map(viewRule), viewDefaultRule(l)];
  }

  async describeTargetHealth(targetGroupArn: string): Promise<TargetHealth[]> {
    await this.sim.gate("ELBv2", "DescribeTargetHealth");
    const tg = this.sim.elb.targetGroups.get(targetGroupArn);
    if (!tg) throw this.sim.error("ELBv2", "DescribeTargetHealth", "TargetGroupNotFound", "One or more target groups not found");
    return [...tg.targets].map((t) => ({
      target: { id: t.id, port: t.port },
      state: t.state,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.description ? { description: t.description } : {}),
    }));
  }

  async modifyListener(input: { listenerArn: string; defaultActions: Action[] }): Promise<Listener> {
    await this.sim.gate("ELBv2", "ModifyListener");
    return viewListener(this.sim.elb.modifyListener(input.listenerArn, input.defaultActions));
  }

  async modifyRule(input: { ruleArn: string; actions: Action[] }): Promise<Rule> {
    await this.sim.gate("ELBv2", "ModifyRule");
    const elb = this.sim.elb;
    if (!elb.rules.has(input.ruleArn) && [...elb.listeners.values()].some((l) => defaultRuleArn(l) === input.ruleArn)) {
      throw this.sim.error("ELBv2", "ModifyRule", "OperationNotPermitted", "Default rule cannot be modified with ModifyRule; use ModifyListener to change the default actions");
    }
    return viewRule(elb.modifyRule(input.ruleArn, input.actions));
  }

  // The port's create and delete calls go through the same API layer as the wire's (SimElbv2World).

  async createTargetGroup(input: CreateTargetGroupInput): Promise<TargetGroup> {
    const hc = input.healthCheck ?? {};
    const record = await new SimElbv2World(this.sim).createTargetGroup({
      Name: input.name,
      Protocol: input.protocol,
      Port: input.port,
      VpcId: input.vpcId,
      TargetType: input.targetType,
      ...defined({
        ProtocolVersion: input.protocolVersion,
        HealthCheckPath: hc.path,
        HealthCheckProtocol: hc.protocol,
        HealthCheckPort: hc.port,
        HealthCheckIntervalSeconds: hc.intervalSeconds,
        HealthCheckTimeoutSeconds: hc.timeoutSeconds,
        HealthyThresholdCount: hc.healthyThresholdCount,
        UnhealthyThresholdCount: hc.unhealthyThresholdCount,
        Matcher: hc.matcher ? { HttpCode: hc.matcher } : undefined,
        Tags: sdkTags(input.tags),
      }),
    });
    return this.viewTargetGroup(this.sim.elb.targetGroups.get(String(record["TargetGroupArn"]))!);
  }

  async deleteTargetGroup(targetGroupArn: string): Promise<void> {
    await new SimElbv2World(this.sim).deleteTargetGroup(targetGroupArn);
  }

  async createRule(input: CreateRuleInput): Promise<Rule> {
    const record = await new SimElbv2World(this.sim).createRule({
      ListenerArn: input.listenerArn,
      Priority: input.priority,
      Conditions: structuredClone(input.conditions),
      Actions: input.actions.map(toSdkAction),
      ...defined({ Tags: sdkTags(input.tags) }),
    });
    return viewRule(this.sim.elb.rules.get(String(record["RuleArn"]))!);
  }

  async deleteRule(ruleArn: string): Promise<void> {
    await new SimElbv2World(this.sim).deleteRule(ruleArn);
  }
}

function defined(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
}

function sdkTags(tags: readonly ResourceTag[] | undefined): { Key: string; Value: string }[] | undefined {
  return tags?.length ? tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined;
}

function viewListener(l: SimListener): Listener {
  return { listenerArn: l.arn, loadBalancerArn: l.lbArn, port: l.port, protocol: l.protocol, defaultActions: structuredClone(l.defaultActions) };
}

function viewRule(r: SimRule): Rule {
  return { ruleArn: r.arn, priority: r.priority, isDefault: false, conditions: structuredClone(r.conditions), actions: structuredClone(r.actions) };
}

function viewDefaultRule(l: SimListener): Rule {
  return { ruleArn: defaultRuleArn(l), priority: "default", isDefault: true, conditions: [], actions: structuredClone(l.defaultActions) };
}

export class SimCloudWatch implements CloudWatchPort {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }
  async describeAlarms(alarmNames: readonly string[]): Promise<Alarm[]> {
    const out: Alarm[] = [];
    // AlarmNames takes at most 100 names per request.
    for (let i = 0; i < alarmNames.length; i += 100) {
      await this.sim.gate("CloudWatch", "DescribeAlarms");
      out.push(...this.sim.alarms.describe(alarmNames.slice(i, i + 100)));
    }
    return out;
  }
}

// ---- calls beyond the ports, for building a world by API (the wire front door, src/sim/wire) ----
// Requests and results are in the ELBv2/CloudWatch APIs' own shapes (PascalCase), records from elb-records.ts.

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
/** ELB's default quota of rules per Application Load Balancer (default rules not counted). */
const RULES_PER_LOAD_BALANCER = 100;
const CONDITION_FIELDS = new Set(["host-header", "path-pattern", "http-header", "http-request-method", "query-string", "source-ip"]);

/** A condition ELBv2 would take: a known field, with values (at most 128 characters each). */
function checkCondition(c: Rec, fail: (message: string) => Error): void {
  const field = conditionField(c);
  if (!field || !CONDITION_FIELDS.has(field)) throw fail(`Condition field '${String(field)}' is not supported`);
  if (field === "query-string") return;
  const values = conditionValues(c);
  if (values.length === 0) throw fail(`A condition of field '${field}' must have at least one value`);
  const long = values.find((v) => v.length > 128);
  if (long !== undefined) throw fail(`Condition value '${long}' is longer than 128 characters`);
}

function sdkActions(v: unknown): Action[] {
  return Array.isArray(v) ? v.filter(isRec).map((a) => fromSdkAction(a as unknown as SdkAction)) : [];
}

export class SimElbv2World {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  private fail(operation: string, name: string, message: string): Error {
    return this.sim.error("ELBv2", operation, name, message);
  }

  private inRange(op: string, request: Rec, key: string, min: number, max: number): number | undefined {
    const v = request[key];
    if (v === undefined) return undefined;
    const n = int(v);
    if (n === undefined || n < min || n > max) throw this.fail(op, "ValidationError", `1 validation error detected: Value '${typeof v === "string" ? v : JSON.stringify(v)}' at '${key[0]!.toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`);
    return n;
  }

  /** Application Load Balancers only. The same name with the same settings returns the existing one, as ELBv2 does. */
  async createLoadBalancer(request: Rec): Promise<Rec> {
    const op = "CreateLoadBalancer";
    await this.sim.gate("ELBv2", op);
    const name = str(request["Name"]) ?? "";
    if (!NAME.test(name) || name.startsWith("internal-")) {
      throw this.fail(op, "ValidationError", `Load balancer name '${name}' must have 1–32 letters, digits and hyphens, must not begin or end with a hyphen, and must not begin with 'internal-'`);
    }
    const type = str(request["Type"]) ?? "application";
    if (type !== "application") throw this.fail(op, "ValidationError", `The simulator models Application Load Balancers only, not type '${type}'`);
    const scheme = str(request["Scheme"]) ?? "internet-facing";
    const existing = [...this.sim.elb.loadBalancers.values()].find((lb) => lb.name === name);
    if (existing) {
      if ((str(existing.request?.["Scheme"]) ?? "internet-facing") !== scheme) throw this.fail(op, "DuplicateLoadBalancerName", `A load balancer with the same name '${name}' exists, but with different settings`);
      return loadBalancerRecord(this.sim, existing);
    }
    const lb = this.sim.elb.addLoadBalancer(name);
    lb.request = structuredClone(request);
    lb.createdAt = this.sim.now;
    return loadBalancerRecord(this.sim, lb);
  }

  async describeLoadBalancers(input: { LoadBalancerArns?: string[]; Names?: string[] }): Promise<Rec[]> {
    await this.sim.gate("ELBv2", "DescribeLoadBalancers");
    const all = [...this.sim.elb.loadBalancers.values()];
    const picked = input.LoadBalancerArns?.length
      ? input.LoadBalancerArns.map((a) => this.sim.elb.loadBalancers.get(a))
      : input.Names?.length
        ? input.Names.map((n) => all.find((lb) => lb.name === n))
        : all;
    if (picked.some((lb) => !lb)) throw this.fail("DescribeLoadBalancers", "LoadBalancerNotFound", "One or more load balancers not found");
    return picked.map((lb) => loadBalancerRecord(this.sim, lb!));
  }

  /** The same name with the same protocol, port and target type returns the existing group, as ELBv2 does. */
  async createTargetGroup(request: Rec): Promise<Rec> {
    const op = "CreateTargetGroup";
    await this.sim.gate("ELBv2", op);
    const name = str(request["Name"]) ?? "";
    if (!NAME.test(name)) throw this.fail(op, "ValidationError", `Target group name '${name}' must have 1–32 letters, digits and hyphens and must not begin or end with a hyphen`);
    const targetType = str(request["TargetType"]) ?? "instance";
    const protocol = str(request["Protocol"]);
    const port = this.inRange(op, request, "Port", 1, 65535);
    if (targetType !== "lambda" && protocol === undefined) throw this.fail(op, "ValidationError", "A protocol must be specified");
    if (targetType !== "lambda" && port === undefined) throw this.fail(op, "ValidationError", "A port must be specified");
    const interval = this.inRange(op, request, "HealthCheckIntervalSeconds", 5, 300);
    this.inRange(op, request, "HealthCheckTimeoutSeconds", 2, 120);
    const healthy = this.inRange(op, request, "HealthyThresholdCount", 2, 10);
    const unhealthy = this.inRange(op, request, "UnhealthyThresholdCount", 2, 10);
    const existing = [...this.sim.elb.targetGroups.values()].find((tg) => tg.name === name);
    if (existing) {
      if (existing.protocol !== (protocol ?? existing.protocol) || existing.port !== (port ?? existing.port) || existing.targetType !== targetType) {
        throw this.fail(op, "DuplicateTargetGroupName", `A target group with the same name '${name}' exists, but with different settings`);
      }
      return targetGroupRecord(this.sim, existing);
    }
    const { Name: _n, Protocol: _p, Port: _o, TargetType: _t, HealthCheckIntervalSeconds: _i, HealthyThresholdCount: _h, UnhealthyThresholdCount: _u, HealthCheckPath: path, ...rest } = request;
    const tg = this.sim.elb.addTargetGroup({
      name,
      targetType,
      ...(protocol !== undefined ? { protocol } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(interval !== undefined ? { healthCheckIntervalSeconds: interval } : {}),
      ...(healthy !== undefined ? { healthyThresholdCount: healthy } : {}),
      ...(unhealthy !== undefined ? { unhealthyThresholdCount: unhealthy } : {}),
      ...(typeof path === "string" ? { healthCheckPath: path } : {}),
    });
    tg.request = structuredClone(rest);
    return targetGroupRecord(this.sim, tg);
  }

  private targetGroup(op: string, arn: unknown): SimTargetGroup {
    const tg = typeof arn === "string" ? this.sim.elb.targetGroups.get(arn) : undefined;
    if (!tg) throw this.fail(op, "TargetGroupNotFound", "One or more target groups not found");
    return tg;
  }

  async describeTargetGroupAttributes(targetGroupArn: unknown): Promise<{ Key: string; Value: string }[]> {
    const op = "DescribeTargetGroupAttributes";
    await this.sim.gate("ELBv2", op);
    return targetGroupAttributes(this.targetGroup(op, targetGroupArn));
  }

  /** `deregistration_delay.timeout_seconds` changes how long draining targets hold their task; other known keys are kept and reported. */
  async modifyTargetGroupAttributes(targetGroupArn: unknown, attributes: unknown): Promise<{ Key: string; Value: string }[]> {
    const op = "ModifyTargetGroupAttributes";
    await this.sim.gate("ELBv2", op);
    const tg = this.targetGroup(op, targetGroupArn);
    const known = new Set(targetGroupAttributes(tg).map((a) => a.Key));
    const changes = (Array.isArray(attributes) ? attributes : []).filter(isRec).map((a) => ({ key: str(a["Key"]) ?? "", value: str(a["Value"]) ?? "" }));
    for (const { key, value } of changes) {
      if (!known.has(key)) throw this.fail(op, "ValidationError", `Target group attribute key '${key}' is not recognized`);
      if (key === "deregistration_delay.timeout_seconds" && !(/^\d+$/.test(value) && Number(value) <= 3600)) {
        throw this.fail(op, "ValidationError", `'${value}' must be an integer between 0 and 3600 for deregistration_delay.timeout_seconds`);
      }
    }
    for (const { key, value } of changes) {
      if (key === "deregistration_delay.timeout_seconds") tg.deregistrationDelayMs = Number(value) * 1000;
      else tg.attributes = { ...tg.attributes, [key]: value };
    }
    return targetGroupAttributes(tg);
  }

  async createListener(request: Rec): Promise<Rec> {
    const op = "CreateListener";
    await this.sim.gate("ELBv2", op);
    const lb = this.sim.elb.loadBalancers.get(str(request["LoadBalancerArn"]) ?? "");
    if (!lb) throw this.fail(op, "LoadBalancerNotFound", "One or more load balancers not found");
    const port = this.inRange(op, request, "Port", 1, 65535);
    if (port === undefined) throw this.fail(op, "ValidationError", "A listener port must be specified");
    const protocol = str(request["Protocol"]) ?? "HTTP";
    if (protocol !== "HTTP" && protocol !== "HTTPS") throw this.fail(op, "ValidationError", `Protocol '${protocol}' is not supported by Application Load Balancers`);
    if (protocol === "HTTPS" && !(Array.isArray(request["Certificates"]) && request["Certificates"].length > 0)) throw this.fail(op, "ValidationError", "A certificate must be specified for HTTPS listeners");
    if (lb.listeners.some((l) => l.port === port)) throw this.fail(op, "DuplicateListener", `A listener already exists on this port for this load balancer '${lb.arn}'`);
    const l = this.sim.elb.addListener(lb, port, protocol, sdkActions(request["DefaultActions"]));
    const { LoadBalancerArn: _a, Port: _p, Protocol: _r, DefaultActions: _d, ...rest } = request;
    l.request = structuredClone(rest);
    this.sim.elb.trafficRouted();
    return listenerRecord(l);
  }

  async createRule(request: Rec): Promise<Rec> {
    const op = "CreateRule";
    await this.sim.gate("ELBv2", op);
    const l = this.sim.elb.listeners.get(str(request["ListenerArn"]) ?? "");
    if (!l) throw this.fail(op, "ListenerNotFound", "One or more listeners not found");
    const priority = this.inRange(op, request, "Priority", 1, 50000);
    if (priority === undefined) throw this.fail(op, "ValidationError", "A rule priority must be specified");
    const conditions = Array.isArray(request["Conditions"]) ? request["Conditions"].filter(isRec) : [];
    if (conditions.length === 0) throw this.fail(op, "ValidationError", "A rule must have at least one condition");
    if (l.rules.some((r) => r.priority === String(priority))) throw this.fail(op, "PriorityInUse", `Priority '${priority}' is currently in use`);
    const lb = this.sim.elb.loadBalancers.get(l.lbArn)!;
    if (lb.listeners.reduce((n, x) => n + x.rules.length, 0) >= RULES_PER_LOAD_BALANCER) throw this.fail(op, "TooManyRules", "You've reached the limit on the number of rules per load balancer");
    for (const c of conditions) checkCondition(c, (m) => this.fail(op, "ValidationError", m));
    const r = this.sim.elb.addRule(l, priority, conditions, sdkActions(request["Actions"]));
    if (Array.isArray(request["Tags"])) r.tags = structuredClone(request["Tags"].filter(isRec));
    this.sim.elb.trafficRouted();
    return ruleRecord(r);
  }

  async deleteRule(ruleArn: unknown): Promise<void> {
    const op = "DeleteRule";
    await this.sim.gate("ELBv2", op);
    const elb = this.sim.elb;
    const r = typeof ruleArn === "string" ? elb.rules.get(ruleArn) : undefined;
    if (!r) {
      if ([...elb.listeners.values()].some((l) => defaultRuleArn(l) === ruleArn)) throw this.fail(op, "OperationNotPermitted", "Default rule cannot be deleted");
      throw this.fail(op, "RuleNotFound", "One or more rules not found");
    }
    elb.removeRule(r);
  }

  async deleteListener(listenerArn: unknown): Promise<void> {
    const op = "DeleteListener";
    await this.sim.gate("ELBv2", op);
    const l = typeof listenerArn === "string" ? this.sim.elb.listeners.get(listenerArn) : undefined;
    if (!l) throw this.fail(op, "ListenerNotFound", "One or more listeners not found");
    this.sim.elb.removeListener(l);
  }

  /** Deleting a load balancer that does not exist succeeds, as ELBv2's does. */
  async deleteLoadBalancer(loadBalancerArn: unknown): Promise<void> {
    await this.sim.gate("ELBv2", "DeleteLoadBalancer");
    const lb = typeof loadBalancerArn === "string" ? this.sim.elb.loadBalancers.get(loadBalancerArn) : undefined;
    if (lb) this.sim.elb.removeLoadBalancer(lb);
  }

  async deleteTargetGroup(targetGroupArn: unknown): Promise<void> {
    const op = "DeleteTargetGroup";
    await this.sim.gate("ELBv2", op);
    const tg = this.targetGroup(op, targetGroupArn);
    if (this.sim.elb.loadBalancerArnsOf(tg.arn).length > 0) throw this.fail(op, "ResourceInUse", `Target group '${tg.arn}' is currently in use by a listener or a rule`);
    this.sim.elb.removeTargetGroup(tg);
  }

  /** Full records for the port's listener and rule results (which carry only what the engine reads). */
  listenerRecords(listeners: readonly Listener[]): Rec[] {
    return listeners.map((l) => this.sim.elb.listeners.get(l.listenerArn)).filter((l) => l !== undefined).map(listenerRecord);
  }

  targetGroupRecords(groups: readonly TargetGroup[]): Rec[] {
    return groups.map((g) => this.sim.elb.targetGroups.get(g.targetGroupArn)).filter((g) => g !== undefined).map((g) => targetGroupRecord(this.sim, g));
  }

  ruleRecords(rules: readonly Rule[]): Rec[] {
    return rules.map((r) => {
      const own = this.sim.elb.rules.get(r.ruleArn);
      return own ? ruleRecord(own) : { RuleArn: r.ruleArn, Priority: r.priority, Conditions: r.conditions, Actions: r.actions.map(toSdkAction), IsDefault: r.isDefault };
    });
  }
}

export class SimCloudWatchWorld {
  private readonly sim: SimulatorCore;
  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  private fail(operation: string, name: string, message: string): Error {
    return this.sim.error("CloudWatch", operation, name, message);
  }

  private alarmName(op: string, request: Rec): string {
    const name = str(request["AlarmName"]);
    if (!name) throw this.fail(op, "MissingParameter", "The parameter AlarmName is required.");
    if (name.length > 255) throw this.fail(op, "InvalidParameterValue", "AlarmName must be at most 255 characters long.");
    return name;
  }

  /**
   * A new alarm starts INSUFFICIENT_DATA; updating one keeps its state and replaces its
   * configuration (CloudWatch PutMetricAlarm). The simulator has no metric data, so the state
   * then changes only by SetAlarmState.
   */
  async putMetricAlarm(request: Rec): Promise<void> {
    const op = "PutMetricAlarm";
    await this.sim.gate("CloudWatch", op);
    const name = this.alarmName(op, request);
    if (request["MetricName"] === undefined && request["Metrics"] === undefined) throw this.fail(op, "ValidationError", "Either MetricName or Metrics must be specified.");
    for (const key of ["EvaluationPeriods", "ComparisonOperator"]) if (request[key] === undefined) throw this.fail(op, "MissingParameter", `The parameter ${key} is required.`);
    if (this.sim.alarms.typeOf(name) === "composite") throw this.fail(op, "InvalidParameterValue", `An alarm named ${name} already exists as a composite alarm.`);
    this.sim.alarms.put({
      name,
      type: "metric",
      ...(typeof request["MetricName"] === "string" ? { metricName: request["MetricName"] } : {}),
      ...(typeof request["Namespace"] === "string" ? { namespace: request["Namespace"] } : {}),
      actionsEnabled: request["ActionsEnabled"] !== false,
      request: structuredClone(request),
    });
  }

  async putCompositeAlarm(request: Rec): Promise<void> {
    const op = "PutCompositeAlarm";
    await this.sim.gate("CloudWatch", op);
    const name = this.alarmName(op, request);
    const rule = str(request["AlarmRule"]);
    if (!rule) throw this.fail(op, "MissingParameter", "The parameter AlarmRule is required.");
    try {
      parseAlarmRule(rule);
    } catch (e) {
      throw this.fail(op, "InvalidParameterValue", `Error in AlarmRule: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.sim.alarms.typeOf(name) === "metric") throw this.fail(op, "InvalidParameterValue", `An alarm named ${name} already exists as a metric alarm.`);
    this.sim.alarms.put({ name, type: "composite", alarmRule: rule, actionsEnabled: request["ActionsEnabled"] !== false, request: structuredClone(request) });
  }

  /** Until the alarm is next evaluated: rule-driven alarms re-evaluate when the world changes; others keep the state. */
  async setAlarmState(request: Rec): Promise<void> {
    const op = "SetAlarmState";
    await this.sim.gate("CloudWatch", op);
    const name = this.alarmName(op, request);
    const state = str(request["StateValue"]);
    if (state !== "OK" && state !== "ALARM" && state !== "INSUFFICIENT_DATA") throw this.fail(op, "InvalidParameterValue", `StateValue must be one of OK, ALARM, INSUFFICIENT_DATA.`);
    const reason = str(request["StateReason"]);
    if (reason === undefined) throw this.fail(op, "MissingParameter", "The parameter StateReason is required.");
    const data = str(request["StateReasonData"]);
    if (data !== undefined) {
      try {
        JSON.parse(data);
      } catch {
        throw this.fail(op, "InvalidFormat", "Unable to parse StateReasonData as JSON.");
      }
    }
    if (!this.sim.alarms.typeOf(name)) throw this.fail(op, "ResourceNotFound", `Alarm ${name} not found`);
    this.sim.alarms.setState(name, state, reason, data);
  }

  /** All or nothing: one unknown name and no alarm is deleted. */
  async deleteAlarms(names: readonly string[]): Promise<void> {
    const op = "DeleteAlarms";
    await this.sim.gate("CloudWatch", op);
    const missing = names.find((n) => !this.sim.alarms.typeOf(n));
    if (missing !== undefined) throw this.fail(op, "ResourceNotFound", `Alarm ${missing} not found`);
    for (const n of names) this.sim.alarms.remove(n);
  }

  /** DescribeAlarms with its filters, every match (the caller pages). */
  async describeAlarms(filter: AlarmFilter): Promise<AlarmRecords> {
    await this.sim.gate("CloudWatch", "DescribeAlarms");
    return this.sim.alarms.records(filter);
  }
}
