/**
 * Application Load Balancers: target groups, listeners, rules with weighted forward actions,
 * target registration and health checks. SPEC.md §Load balancing.
 */
import type { Action, TargetHealthState } from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";
import { nameHash } from "./ids.ts";
import type { SimListener, SimLoadBalancer, SimRule, SimTarget, SimTargetGroup, SimTask } from "./model.ts";
import { checkSuccess, failHealthCheck, later } from "./tasks.ts";

export interface TargetGroupInit {
  name: string;
  /** The ARN to answer with (a scenario can give the one a repository's svcdefs use); derived from the name otherwise. */
  arn?: string;
  port?: number;
  protocol?: string;
  targetType?: string;
  healthCheckIntervalSeconds?: number;
  healthyThresholdCount?: number;
  unhealthyThresholdCount?: number;
  healthCheckPath?: string;
  deregistrationDelaySeconds?: number;
}

export class ElbState {
  private readonly sim: SimulatorCore;
  readonly targetGroups = new Map<string, SimTargetGroup>();
  readonly loadBalancers = new Map<string, SimLoadBalancer>();
  readonly listeners = new Map<string, SimListener>();
  readonly rules = new Map<string, SimRule>();
  /** Every rule ARN ever handed out: a rule made again at a freed priority gets a new one, as in ELBv2. */
  private readonly ruleArnsUsed = new Set<string>();
  /** Targets whose task's image fails health checks. */
  private readonly failing = new WeakMap<SimTarget, boolean>();
  /** Bumped when a target's pending health verdict becomes obsolete. */
  private readonly rounds = new WeakMap<SimTarget, number>();

  constructor(sim: SimulatorCore) {
    this.sim = sim;
  }

  private arnPrefix(): string {
    return `arn:aws:elasticloadbalancing:${this.sim.region}:${this.sim.account}`;
  }

  /**
   * The ARN of the target group with this name: the one it was given, else derived from the name
   * (the same on every run), so users can write it into svcdefs before the scenario runs.
   */
  targetGroupArn(name: string): string {
    for (const tg of this.targetGroups.values()) if (tg.name === name) return tg.arn;
    return `${this.arnPrefix()}:targetgroup/${name}/${nameHash(name)}`;
  }

  addTargetGroup(init: TargetGroupInit): SimTargetGroup {
    // ALB defaults for HTTP target groups.
    const tg: SimTargetGroup = {
      arn: init.arn ?? this.targetGroupArn(init.name),
      name: init.name,
      port: init.port ?? 80,
      protocol: init.protocol ?? "HTTP",
      targetType: init.targetType ?? "ip",
      intervalMs: (init.healthCheckIntervalSeconds ?? 30) * 1000,
      healthyThreshold: init.healthyThresholdCount ?? 5,
      unhealthyThreshold: init.unhealthyThresholdCount ?? 2,
      path: init.healthCheckPath ?? "/",
      deregistrationDelayMs: (init.deregistrationDelaySeconds ?? 300) * 1000,
      targets: new Set(),
    };
    this.targetGroups.set(tg.arn, tg);
    return tg;
  }

  addLoadBalancer(name: string): SimLoadBalancer {
    const lb: SimLoadBalancer = { arn: `${this.arnPrefix()}:loadbalancer/app/${name}/${nameHash(name)}`, name, listeners: [] };
    this.loadBalancers.set(lb.arn, lb);
    return lb;
  }

  addListener(lb: SimLoadBalancer, port: number, protocol: string, defaultActions: Action[]): SimListener {
    this.validateActions("CreateListener", defaultActions, lb.arn, "defaultActions");
    const arn = `${this.arnPrefix()}:listener/app/${lb.name}/${nameHash(lb.name)}/${nameHash(`${lb.name}:${port}`)}`;
    const l: SimListener = { arn, lbArn: lb.arn, port, protocol, defaultActions: structuredClone(defaultActions), rules: [] };
    lb.listeners.push(l);
    this.listeners.set(arn, l);
    return l;
  }

  addRule(l: SimListener, priority: number, conditions: Record<string, unknown>[], actions: Action[]): SimRule {
    this.validateActions("CreateRule", actions, l.lbArn, "actions");
    const lb = this.loadBalancers.get(l.lbArn)!;
    const base = `${this.arnPrefix()}:listener-rule/app/${lb.name}/${nameHash(lb.name)}/${nameHash(`${lb.name}:${l.port}`)}/`;
    let arn = `${base}${nameHash(`${l.arn}#${priority}`)}`;
    for (let n = 1; this.ruleArnsUsed.has(arn); n++) arn = `${base}${nameHash(`${l.arn}#${priority}#${n}`)}`;
    this.ruleArnsUsed.add(arn);
    const r: SimRule = { arn, listenerArn: l.arn, priority: String(priority), conditions: structuredClone(conditions), actions: structuredClone(actions) };
    l.rules.push(r);
    this.rules.set(arn, r);
    return r;
  }

  /** The load balancers whose listeners or rules forward to the group. */
  loadBalancerArnsOf(tgArn: string): string[] {
    const out = new Set<string>();
    for (const l of this.listeners.values()) {
      if ([l.defaultActions, ...l.rules.map((r) => r.actions)].some((acts) => forwardsTo(acts, tgArn))) out.add(l.lbArn);
    }
    return [...out];
  }

  /** Share of one listener's traffic going to the group (0–1), the largest over all listeners. */
  trafficShare(tgArn: string): number {
    let best = 0;
    for (const l of this.listeners.values()) {
      for (const acts of [l.defaultActions, ...l.rules.map((r) => r.actions)]) {
        for (const a of acts) {
          if (a.type !== "forward") continue;
          const groups = a.forwardConfig?.targetGroups ?? (a.targetGroupArn ? [{ targetGroupArn: a.targetGroupArn, weight: 1 }] : []);
          const total = groups.reduce((s, g) => s + g.weight, 0);
          const mine = groups.filter((g) => g.targetGroupArn === tgArn).reduce((s, g) => s + g.weight, 0);
          if (total > 0) best = Math.max(best, mine / total);
        }
      }
    }
    return best;
  }

  /**
   * ELBv2's checks on forward actions. Weight range errors use the AWS validation-message form;
   * see SPEC.md for which messages are verbatim.
   */
  validateActions(operation: string, actions: Action[], lbArn: string | undefined, field: string): void {
    const err = (name: string, message: string) => this.sim.error("ELBv2", operation, name, message);
    if (actions.length === 0) throw err("ValidationError", `A listener or rule must have at least one action`);
    actions.forEach((a, i) => {
      if (a.type !== "forward") return;
      const groups = a.forwardConfig?.targetGroups ?? [];
      if (!a.forwardConfig && !a.targetGroupArn) throw err("ValidationError", "A target group ARN must be specified for a forward action");
      if (a.targetGroupArn && a.forwardConfig && !(groups.length === 1 && groups[0]!.targetGroupArn === a.targetGroupArn)) {
        throw err("ValidationError", "You cannot specify a target group ARN both in the forward action and in its forward config unless they match");
      }
      if (groups.length > 5) throw err("ValidationError", `You can specify up to 5 target groups in a forward action`);
      const seen = new Set<string>();
      groups.forEach((g, j) => {
        if (!Number.isInteger(g.weight) || g.weight < 0 || g.weight > 999) {
          const bound = g.weight < 0 ? "greater than or equal to 0" : "less than or equal to 999";
          throw err("ValidationError", `1 validation error detected: Value '${g.weight}' at '${field}.${i + 1}.member.forwardConfig.targetGroups.${j + 1}.member.weight' failed to satisfy constraint: Member must have value ${bound}`);
        }
        if (seen.has(g.targetGroupArn)) throw err("ValidationError", `The target group '${g.targetGroupArn}' is specified more than once in the forward action`);
        seen.add(g.targetGroupArn);
      });
      for (const arn of [...groups.map((g) => g.targetGroupArn), ...(a.targetGroupArn ? [a.targetGroupArn] : [])]) {
        if (!this.targetGroups.has(arn)) throw err("TargetGroupNotFound", "One or more target groups not found");
        const other = this.loadBalancerArnsOf(arn).filter((x) => x !== lbArn);
        if (lbArn && other.length > 0) throw err("TargetGroupAssociationLimit", `The following target groups cannot be associated with more than one load balancer: ${arn}`);
      }
    });
  }

  modifyListener(listenerArn: string, actions: Action[]): SimListener {
    const l = this.listeners.get(listenerArn);
    if (!l) throw this.sim.error("ELBv2", "ModifyListener", "ListenerNotFound", "One or more listeners not found");
    this.validateActions("ModifyListener", actions, l.lbArn, "defaultActions");
    l.defaultActions = structuredClone(actions);
    this.refreshUsage();
    this.sim.trafficChanged();
    return l;
  }

  modifyRule(ruleArn: string, actions: Action[]): SimRule {
    const r = this.rules.get(ruleArn);
    if (!r) throw this.sim.error("ELBv2", "ModifyRule", "RuleNotFound", "One or more rules not found");
    this.validateActions("ModifyRule", actions, this.listeners.get(r.listenerArn)?.lbArn, "actions");
    r.actions = structuredClone(actions);
    this.refreshUsage();
    this.sim.trafficChanged();
    return r;
  }

  // ---- targets ----

  registerTarget(task: SimTask, tgArn: string, port: number, opts: { healthyNow: boolean; fails: boolean }): void {
    const tg = this.targetGroups.get(tgArn);
    if (!tg) return;
    const inUse = this.loadBalancerArnsOf(tgArn).length > 0;
    const t: SimTarget = { tgArn, task, id: task.ip, port, state: "initial", reason: "Elb.RegistrationInProgress", description: "Target registration is in progress" };
    tg.targets.add(t);
    task.targets.push(t);
    this.failing.set(t, opts.fails);
    if (!inUse) return this.setState(t, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer");
    if (opts.healthyNow) return this.setState(t, "healthy");
    this.checkHealth(task, t);
  }

  /** Initial health checks: healthy after HealthyThresholdCount intervals, or failing. */
  private checkHealth(task: SimTask, t: SimTarget): void {
    const tg = this.targetGroups.get(t.tgArn);
    if (!tg) return;
    if (this.failing.get(t)) return this.failTarget(task, t);
    const round = (this.rounds.get(t) ?? 0) + 1;
    this.rounds.set(t, round);
    later(this.sim, task, tg.intervalMs * tg.healthyThreshold, () => {
      if (t.state !== "initial" || this.rounds.get(t) !== round) return;
      this.setState(t, "healthy");
      checkSuccess(this.sim, task);
      this.sim.markDirty(task.service);
    });
  }

  // ---- removal (DeleteRule, DeleteListener, DeleteLoadBalancer, DeleteTargetGroup) ----

  removeRule(r: SimRule): void {
    const l = this.listeners.get(r.listenerArn);
    if (l) l.rules = l.rules.filter((x) => x !== r);
    this.rules.delete(r.arn);
    this.trafficRouted();
  }

  removeListener(l: SimListener): void {
    for (const r of l.rules) this.rules.delete(r.arn);
    this.listeners.delete(l.arn);
    const lb = this.loadBalancers.get(l.lbArn);
    if (lb) lb.listeners = lb.listeners.filter((x) => x !== l);
    this.trafficRouted();
  }

  removeLoadBalancer(lb: SimLoadBalancer): void {
    for (const l of [...lb.listeners]) this.removeListener(l);
    this.loadBalancers.delete(lb.arn);
  }

  removeTargetGroup(tg: SimTargetGroup): void {
    this.targetGroups.delete(tg.arn);
  }

  /** A listener or rule appeared or went away: groups' usage and traffic-driven alarms follow. */
  trafficRouted(): void {
    this.refreshUsage();
    this.sim.trafficChanged();
  }

  /**
   * After a listener or rule change: targets of groups no longer forwarded to become `unused`;
   * those of groups forwarded to again start over with initial health checks.
   */
  private refreshUsage(): void {
    for (const tg of this.targetGroups.values()) {
      const inUse = this.loadBalancerArnsOf(tg.arn).length > 0;
      for (const t of tg.targets) {
        if (t.task.desiredStatus !== "RUNNING" || t.state === "draining") continue;
        if (!inUse && t.state !== "unused") {
          this.setState(t, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer");
          this.rounds.set(t, (this.rounds.get(t) ?? 0) + 1);
          this.sim.markDirty(t.task.service);
        } else if (inUse && t.state === "unused") {
          this.setState(t, "initial", "Elb.InitialHealthChecking", "Initial health checks in progress");
          this.checkHealth(t.task, t);
          this.sim.markDirty(t.task.service);
        }
      }
    }
  }

  /** Health checks start failing: unhealthy after UnhealthyThresholdCount intervals. */
  failTarget(task: SimTask, t: SimTarget): void {
    const tg = this.targetGroups.get(t.tgArn);
    if (!tg || t.state === "unused") return;
    this.failing.set(t, true);
    const round = (this.rounds.get(t) ?? 0) + 1;
    this.rounds.set(t, round);
    later(this.sim, task, tg.intervalMs * tg.unhealthyThreshold, () => {
      if (this.rounds.get(t) !== round) return;
      this.setState(t, "unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]");
      failHealthCheck(this.sim, task, `Task failed ELB health checks in (target-group ${tg.arn})`);
      this.sim.markDirty(task.service);
    });
  }

  /** Start connection draining; returns the longest deregistration delay of the task's groups. */
  drainTargets(task: SimTask): number {
    let delay = 0;
    for (const t of task.targets) {
      const tg = this.targetGroups.get(t.tgArn);
      if (!tg) continue;
      this.setState(t, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress");
      delay = Math.max(delay, tg.deregistrationDelayMs);
      this.sim.after(tg.deregistrationDelayMs, () => tg.targets.delete(t));
    }
    return delay;
  }

  private setState(t: SimTarget, state: TargetHealthState, reason?: string, description?: string): void {
    t.state = state;
    if (reason) t.reason = reason;
    else delete t.reason;
    if (description) t.description = description;
    else delete t.description;
    this.sim.trafficChanged();
  }
}

function forwardsTo(actions: Action[], tgArn: string): boolean {
  return actions.some((a) => a.type === "forward" && (a.targetGroupArn === tgArn || (a.forwardConfig?.targetGroups ?? []).some((g) => g.targetGroupArn === tgArn)));
}
