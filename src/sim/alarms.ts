/**
 * CloudWatch alarms: metric alarms whose state follows a scripted timeline or a rule over the
 * simulated fleet, and composite alarms evaluating an AlarmRule expression. SPEC.md §Alarms.
 */
import type { Alarm, AlarmState } from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";

export interface TimelineEntry {
  /** ms since the scenario start. */
  atMs: number;
  state: AlarmState;
  reason?: string;
}

/** Conditions on the simulated world that drive an alarm, e.g. "a bad image is taking traffic". */
export type AlarmCondition =
  | { kind: "imageServing"; image: string; minTrafficPercent: number }
  | { kind: "unhealthyTargets"; targetGroupArn: string; threshold: number };

export interface AlarmInit {
  name: string;
  type: "metric" | "composite";
  initialState?: AlarmState;
  timeline?: TimelineEntry[];
  rule?: { condition: AlarmCondition; forMs: number };
  /** Composite: `ALARM("a") OR (OK("b") AND NOT ALARM("c"))`. */
  alarmRule?: string;
  metricName?: string;
  namespace?: string;
  /** Metric alarms: the period in seconds (default: the request's Period, else 60). */
  period?: number;
  actionsEnabled?: boolean;
  /** The PutMetricAlarm / PutCompositeAlarm request, reported by DescribeAlarms as given. */
  request?: Record<string, unknown>;
}

/** DescribeAlarms' filters (at most one of `names` and `prefix`); `types` defaults to metric alarms, as CloudWatch's does. */
export interface AlarmFilter {
  names?: readonly string[];
  prefix?: string;
  types?: readonly ("MetricAlarm" | "CompositeAlarm")[];
  state?: AlarmState;
}

/** DescribeAlarms' MetricAlarms and CompositeAlarms, by name, in CloudWatch's shapes (times as ISO strings). */
export interface AlarmRecords {
  metric: Record<string, unknown>[];
  composite: Record<string, unknown>[];
}

interface SimAlarm {
  init: AlarmInit;
  arn: string;
  state: AlarmState;
  reason: string;
  reasonData?: string;
  /** When the state or its reason last changed (StateUpdatedTimestamp). */
  updatedAt: number;
  /** When the state value last changed (StateTransitionedTimestamp). */
  transitionedAt: number;
  configUpdatedAt: number;
  compiled?: Expr;
  /** When the rule's condition became true, if it is true now. */
  conditionSince?: number;
}

export class AlarmBook {
  private readonly sim: SimulatorCore;
  private readonly alarms = new Map<string, SimAlarm>();
  private pending = false;

  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  names(): string[] {
    return [...this.alarms.keys()];
  }

  /** Every alarm with its ARN, in the order they were added. */
  list(): { name: string; arn: string }[] {
    return [...this.alarms.values()].map((a) => ({ name: a.init.name, arn: a.arn }));
  }

  add(init: AlarmInit): void {
    const a: SimAlarm = {
      init,
      arn: `arn:aws:cloudwatch:${this.sim.region}:${this.sim.account}:alarm:${init.name}`,
      state: init.initialState ?? (init.type === "composite" ? "OK" : "OK"),
      reason: "Initial state of the scenario",
      updatedAt: this.sim.now,
      transitionedAt: this.sim.now,
      configUpdatedAt: this.sim.now,
    };
    if (init.type === "composite") {
      if (!init.alarmRule) throw new Error(`composite alarm ${init.name} needs an alarmRule`);
      a.compiled = parseAlarmRule(init.alarmRule);
    }
    this.alarms.set(init.name, a);
    // Timeline transitions are events, so they happen at their exact time.
    for (const e of [...(init.timeline ?? [])].sort((x, y) => x.atMs - y.atMs)) {
      this.sim.at(this.sim.startedAt + e.atMs, () => this.set(a, e.state, e.reason ?? `Scripted transition to ${e.state}`));
    }
  }

  /** A fault: force an alarm into a state from a given time. */
  schedule(name: string, atMs: number, state: AlarmState, reason?: string): void {
    const a = this.alarms.get(name);
    if (!a) throw new Error(`no alarm named ${name}`);
    this.sim.at(this.sim.startedAt + atMs, () => this.set(a, state, reason ?? `Fault injected: ${state}`));
  }

  private set(a: SimAlarm, state: AlarmState, reason: string): void {
    if (a.state === state) return;
    a.state = state;
    a.reason = reason;
    delete a.reasonData;
    a.updatedAt = this.sim.now;
    a.transitionedAt = this.sim.now;
  }

  // ---- PutMetricAlarm, PutCompositeAlarm, SetAlarmState, DeleteAlarms, DescribeAlarms (elb-api.ts) ----

  typeOf(name: string): "metric" | "composite" | undefined {
    return this.alarms.get(name)?.init.type;
  }

  /** Create (INSUFFICIENT_DATA) or replace an alarm's configuration, keeping its state. */
  put(init: AlarmInit): void {
    const a = this.alarms.get(init.name);
    if (!a) {
      this.add({ ...init, initialState: "INSUFFICIENT_DATA" });
      this.alarms.get(init.name)!.reason = "Unchecked: Initial alarm creation";
      return;
    }
    a.init = init;
    a.configUpdatedAt = this.sim.now;
    if (init.type === "composite") a.compiled = parseAlarmRule(init.alarmRule!);
  }

  setState(name: string, state: AlarmState, reason: string, reasonData?: string): void {
    const a = this.alarms.get(name);
    if (!a) return;
    if (a.state !== state) a.transitionedAt = this.sim.now;
    a.state = state;
    a.reason = reason;
    if (reasonData !== undefined) a.reasonData = reasonData;
    else delete a.reasonData;
    a.updatedAt = this.sim.now;
  }

  remove(name: string): void {
    this.alarms.delete(name);
  }

  records(filter: AlarmFilter): AlarmRecords {
    const types = filter.types?.length ? filter.types : ["MetricAlarm"];
    const out: AlarmRecords = { metric: [], composite: [] };
    const names = filter.names?.length ? [...new Set(filter.names)] : [...this.alarms.keys()];
    for (const name of names.sort()) {
      const a = this.alarms.get(name);
      if (!a || (filter.prefix !== undefined && !name.startsWith(filter.prefix))) continue;
      if (a.compiled) this.refreshComposite(a);
      if (filter.state !== undefined && a.state !== filter.state) continue;
      if (a.init.type === "metric" && types.includes("MetricAlarm")) out.metric.push(alarmRecord(a));
      if (a.init.type === "composite" && types.includes("CompositeAlarm")) out.composite.push(alarmRecord(a));
    }
    return out;
  }

  /** Re-evaluate rule-driven alarms once per simulated instant, after the world changed. */
  worldChanged(): void {
    if (this.pending || ![...this.alarms.values()].some((a) => a.init.rule)) return;
    this.pending = true;
    this.sim.after(0, () => {
      this.pending = false;
      for (const a of this.alarms.values()) if (a.init.rule) this.evaluateRule(a);
    });
  }

  private evaluateRule(a: SimAlarm): void {
    const rule = a.init.rule!;
    const holds = this.conditionHolds(rule.condition);
    if (!holds) {
      a.conditionSince = undefined;
      this.set(a, "OK", "Threshold Crossed: condition no longer holds");
      return;
    }
    if (a.conditionSince === undefined) {
      a.conditionSince = this.sim.now;
      if (rule.forMs > 0) {
        const since = a.conditionSince;
        this.sim.after(rule.forMs, () => {
          if (a.conditionSince === since) this.set(a, "ALARM", describeCondition(rule.condition, rule.forMs));
        });
        return;
      }
    }
    if (this.sim.now - a.conditionSince >= rule.forMs) this.set(a, "ALARM", describeCondition(rule.condition, rule.forMs));
  }

  private conditionHolds(c: AlarmCondition): boolean {
    const elb = this.sim.elb;
    if (c.kind === "unhealthyTargets") {
      const tg = elb.targetGroups.get(c.targetGroupArn);
      return tg ? [...tg.targets].filter((t) => t.state === "unhealthy").length >= c.threshold : false;
    }
    const re = globToRegExp(c.image);
    for (const tg of elb.targetGroups.values()) {
      if (elb.trafficShare(tg.arn) * 100 < Math.max(c.minTrafficPercent, 1e-9)) continue;
      for (const t of tg.targets) {
        if (t.state === "healthy" && t.task.taskDef.containers.some((ct) => re.test(ct.image))) return true;
      }
    }
    return false;
  }

  describe(names: readonly string[]): Alarm[] {
    const out: Alarm[] = [];
    for (const name of names) {
      const a = this.alarms.get(name);
      if (!a) continue; // CloudWatch omits unknown names
      if (a.compiled) this.refreshComposite(a);
      out.push({
        alarmName: name,
        alarmArn: a.arn,
        type: a.init.type,
        stateValue: a.state,
        stateReason: a.reason,
        stateUpdatedAt: a.updatedAt,
        actionsEnabled: a.init.actionsEnabled ?? true,
        ...(a.init.alarmRule ? { alarmRule: a.init.alarmRule } : {}),
        ...(a.init.metricName ? { metricName: a.init.metricName } : {}),
        ...(a.init.namespace ? { namespace: a.init.namespace } : {}),
        ...(a.init.type === "metric" ? { period: periodOf(a.init) } : {}),
      });
    }
    return out;
  }

  private refreshComposite(a: SimAlarm, depth = 0): void {
    if (depth > 10) return;
    const lookup = (n: string): AlarmState => {
      const child = this.alarms.get(n);
      if (!child) return "INSUFFICIENT_DATA";
      if (child.compiled) this.refreshComposite(child, depth + 1);
      return child.state;
    };
    const value = evaluate(a.compiled!, lookup);
    const state: AlarmState = value ? "ALARM" : "OK";
    this.set(a, state, value ? `arn:aws:cloudwatch: AlarmRule ${a.init.alarmRule} evaluated to TRUE` : `AlarmRule evaluated to FALSE`);
  }
}

/** A metric alarm's period: as given, else the PutMetricAlarm request's, else a minute. */
function periodOf(init: AlarmInit): number {
  const requested = init.request?.["Period"];
  return init.period ?? (typeof requested === "number" ? requested : 60);
}

/** Members PutMetricAlarm/PutCompositeAlarm take that DescribeAlarms does not return. */
const NOT_REPORTED = new Set(["Tags", "ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod"]);

function alarmRecord(a: SimAlarm): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const given = Object.fromEntries(Object.entries(a.init.request ?? {}).filter(([k]) => !NOT_REPORTED.has(k)));
  return {
    AlarmName: a.init.name,
    AlarmArn: a.arn,
    AlarmConfigurationUpdatedTimestamp: iso(a.configUpdatedAt),
    ActionsEnabled: a.init.actionsEnabled ?? true,
    OKActions: [],
    AlarmActions: [],
    InsufficientDataActions: [],
    ...(a.init.type === "metric" ? { Dimensions: [], Period: periodOf(a.init), ...(a.init.metricName ? { MetricName: a.init.metricName } : {}), ...(a.init.namespace ? { Namespace: a.init.namespace } : {}) } : { AlarmRule: a.init.alarmRule }),
    ...given,
    StateValue: a.state,
    StateReason: a.reason,
    ...(a.reasonData !== undefined ? { StateReasonData: a.reasonData } : {}),
    StateUpdatedTimestamp: iso(a.updatedAt),
    StateTransitionedTimestamp: iso(a.transitionedAt),
  };
}

function describeCondition(c: AlarmCondition, forMs: number): string {
  const d = `${Math.round(forMs / 1000)}s`;
  return c.kind === "imageServing"
    ? `Threshold Crossed: image ${c.image} served at least ${c.minTrafficPercent}% of traffic for ${d}`
    : `Threshold Crossed: ${c.threshold} or more unhealthy targets for ${d}`;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
}

// ---- Composite AlarmRule expressions ----
// Grammar (CloudWatch PutCompositeAlarm): ALARM("n") | OK("n") | INSUFFICIENT_DATA("n") | TRUE | FALSE,
// combined with NOT, AND, OR and parentheses; NOT binds tightest, then AND, then OR.

type Expr =
  | { op: "state"; state: AlarmState; name: string }
  | { op: "const"; value: boolean }
  | { op: "not"; e: Expr }
  | { op: "and" | "or"; l: Expr; r: Expr };

export function parseAlarmRule(src: string): Expr {
  const tokens = src.match(/\(|\)|"(?:[^"\\]|\\.)*"|[A-Za-z_]+/g) ?? [];
  const joined = tokens.join("");
  if (joined.replace(/\s/g, "") !== src.replace(/\s/g, "")) throw new Error(`AlarmRule has unexpected characters: ${src}`);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`AlarmRule: expected ${t} in ${src}`);
  };
  const primary = (): Expr => {
    const t = next();
    if (t === "(") {
      const e = or();
      expect(")");
      return e;
    }
    if (t === "NOT") return { op: "not", e: primary() };
    if (t === "TRUE" || t === "FALSE") return { op: "const", value: t === "TRUE" };
    if (t === "ALARM" || t === "OK" || t === "INSUFFICIENT_DATA") {
      expect("(");
      const name = next();
      if (!name?.startsWith('"')) throw new Error(`AlarmRule: expected a quoted alarm name in ${src}`);
      expect(")");
      return { op: "state", state: t, name: JSON.parse(name) as string };
    }
    throw new Error(`AlarmRule: unexpected ${t ?? "end"} in ${src}`);
  };
  const and = (): Expr => {
    let l = primary();
    while (peek() === "AND") {
      next();
      l = { op: "and", l, r: primary() };
    }
    return l;
  };
  const or = (): Expr => {
    let l = and();
    while (peek() === "OR") {
      next();
      l = { op: "or", l, r: and() };
    }
    return l;
  };
  const e = or();
  if (i !== tokens.length) throw new Error(`AlarmRule: unexpected ${tokens[i]} in ${src}`);
  return e;
}

export function evaluate(e: Expr, state: (name: string) => AlarmState): boolean {
  switch (e.op) {
    case "state":
      return state(e.name) === e.state;
    case "const":
      return e.value;
    case "not":
      return !evaluate(e.e, state);
    case "and":
      return evaluate(e.l, state) && evaluate(e.r, state);
    case "or":
      return evaluate(e.l, state) || evaluate(e.r, state);
  }
}
