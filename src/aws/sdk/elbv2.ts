/** Elbv2Port over @aws-sdk/client-elastic-load-balancing-v2 (awsQuery protocol, PascalCase members). */
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type ElasticLoadBalancingV2Client,
  type Listener as SdkListener,
  type Rule as SdkRule,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsError } from "../errors.ts";
import type { Action, Elbv2Port, Listener, Rule, TargetGroup, TargetHealth } from "../ports.ts";
import { fromSdkAction, toSdkAction } from "./actions.ts";
import { allPages, type Caller } from "./call.ts";

export { fromSdkAction, toSdkAction };

export class SdkElbv2 implements Elbv2Port {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly call: Caller;
  constructor(client: ElasticLoadBalancingV2Client, call: Caller) {
    this.client = client;
    this.call = call;
  }

  describeTargetGroups(input: { targetGroupArns?: readonly string[]; names?: readonly string[]; loadBalancerArn?: string }): Promise<TargetGroup[]> {
    return allPages(
      (Marker) =>
        this.call("DescribeTargetGroups", () =>
          this.client.send(
            new DescribeTargetGroupsCommand({
              TargetGroupArns: input.targetGroupArns ? [...input.targetGroupArns] : undefined,
              Names: input.names ? [...input.names] : undefined,
              LoadBalancerArn: input.loadBalancerArn,
              Marker,
            }),
          ),
        ),
      (p) =>
        p.TargetGroups?.map((t) => ({
          targetGroupArn: t.TargetGroupArn ?? "",
          targetGroupName: t.TargetGroupName ?? "",
          ...(t.Protocol ? { protocol: t.Protocol } : {}),
          ...(t.Port !== undefined ? { port: t.Port } : {}),
          ...(t.TargetType ? { targetType: t.TargetType } : {}),
          loadBalancerArns: t.LoadBalancerArns ?? [],
          ...(t.HealthCheckIntervalSeconds !== undefined ? { healthCheckIntervalSeconds: t.HealthCheckIntervalSeconds } : {}),
          ...(t.HealthyThresholdCount !== undefined ? { healthyThresholdCount: t.HealthyThresholdCount } : {}),
          ...(t.UnhealthyThresholdCount !== undefined ? { unhealthyThresholdCount: t.UnhealthyThresholdCount } : {}),
          ...(t.HealthCheckPath ? { healthCheckPath: t.HealthCheckPath } : {}),
        })),
      (p) => p.NextMarker,
    );
  }

  describeListeners(input: { loadBalancerArn?: string; listenerArns?: readonly string[] }): Promise<Listener[]> {
    return allPages(
      (Marker) =>
        this.call("DescribeListeners", () =>
          this.client.send(new DescribeListenersCommand({ LoadBalancerArn: input.loadBalancerArn, ListenerArns: input.listenerArns ? [...input.listenerArns] : undefined, Marker })),
        ),
      (p) => p.Listeners?.map(mapListener),
      (p) => p.NextMarker,
    );
  }

  describeRules(input: { listenerArn?: string; ruleArns?: readonly string[] }): Promise<Rule[]> {
    return allPages(
      (Marker) =>
        this.call("DescribeRules", () => this.client.send(new DescribeRulesCommand({ ListenerArn: input.listenerArn, RuleArns: input.ruleArns ? [...input.ruleArns] : undefined, Marker }))),
      (p) => p.Rules?.map(mapRule),
      (p) => p.NextMarker,
    );
  }

  async describeTargetHealth(targetGroupArn: string): Promise<TargetHealth[]> {
    const out = await this.call("DescribeTargetHealth", () => this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
    return (out.TargetHealthDescriptions ?? []).map((d) => ({
      target: { id: d.Target?.Id ?? "", ...(d.Target?.Port !== undefined ? { port: d.Target.Port } : {}) },
      state: (d.TargetHealth?.State ?? "unavailable"),
      ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
      ...(d.TargetHealth?.Description ? { description: d.TargetHealth.Description } : {}),
    }));
  }

  async modifyListener(input: { listenerArn: string; defaultActions: Action[] }): Promise<Listener> {
    const out = await this.call("ModifyListener", () =>
      this.client.send(new ModifyListenerCommand({ ListenerArn: input.listenerArn, DefaultActions: input.defaultActions.map(toSdkAction) })),
    );
    const l = out.Listeners?.[0];
    if (!l) throw new AwsError({ name: "InvalidResponse", message: "ModifyListener returned no listener", service: "ELBv2", operation: "ModifyListener", retryable: false });
    return mapListener(l);
  }

  async modifyRule(input: { ruleArn: string; actions: Action[] }): Promise<Rule> {
    const out = await this.call("ModifyRule", () => this.client.send(new ModifyRuleCommand({ RuleArn: input.ruleArn, Actions: input.actions.map(toSdkAction) })));
    const r = out.Rules?.[0];
    if (!r) throw new AwsError({ name: "InvalidResponse", message: "ModifyRule returned no rule", service: "ELBv2", operation: "ModifyRule", retryable: false });
    return mapRule(r);
  }
}

function mapListener(l: SdkListener): Listener {
  return {
    listenerArn: l.ListenerArn ?? "",
    loadBalancerArn: l.LoadBalancerArn ?? "",
    ...(l.Port !== undefined ? { port: l.Port } : {}),
    ...(l.Protocol ? { protocol: l.Protocol } : {}),
    defaultActions: (l.DefaultActions ?? []).map(fromSdkAction),
  };
}

function mapRule(r: SdkRule): Rule {
  return {
    ruleArn: r.RuleArn ?? "",
    priority: r.Priority ?? "default",
    isDefault: r.IsDefault ?? false,
    conditions: (r.Conditions ?? []) as Record<string, unknown>[],
    actions: (r.Actions ?? []).map(fromSdkAction),
  };
}
