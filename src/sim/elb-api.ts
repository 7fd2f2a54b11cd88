/** Elbv2Port and CloudWatchPort on the simulator. */
import type { Action, Alarm, CloudWatchPort, Elbv2Port, Listener, Rule, TargetGroup, TargetHealth } from "../aws/ports.ts";
import type { SimulatorCore } from "./core.ts";
import type { SimListener, SimRule, SimTargetGroup } from "./model.ts";

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
    else if (input.loadBalancerArn) picked = all.filter((t) => elb.loadBalancerArnsOf(t.arn).includes(input.loadBalancerArn!));
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
}

function viewListener(l: SimListener): Listener {
  return { listenerArn: l.arn, loadBalancerArn: l.lbArn, port: l.port, protocol: l.protocol, defaultActions: structuredClone(l.defaultActions) };
}

function viewRule(r: SimRule): Rule {
  return { ruleArn: r.arn, priority: r.priority, isDefault: false, conditions: structuredClone(r.conditions), actions: structuredClone(r.actions) };
}

function defaultRuleArn(l: SimListener): string {
  return l.arn.replace(":listener/", ":listener-rule/") + "/default";
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
