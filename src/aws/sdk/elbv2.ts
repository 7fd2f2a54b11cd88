/** Elbv2Port over @aws-sdk/client-elastic-load-balancing-v2 (awsQuery protocol, PascalCase members). */
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type ElasticLoadBalancingV2Client,
  type Listener as SdkListener,
  type Rule as SdkRule,
  type TargetGroup as SdkTargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsError, isAwsError } from "../errors.ts";
import type { Action, CreateRuleInput, CreateTargetGroupInput, Elbv2Port, Listener, ResourceTag, Rule, TargetGroup, TargetHealth } from "../ports.ts";
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
      (p) => p.TargetGroups?.map(mapTargetGroup),
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

  async createTargetGroup(input: CreateTargetGroupInput): Promise<TargetGroup> {
    try {
      return await this.createTargetGroupOnce(input);
    } catch (e) {
      // AWS answers a second CreateTargetGroup with the same name and settings with the existing
      // group, and DuplicateTargetGroupName only when the settings differ; some endpoints (moto)
      // refuse every second call. The same group under that name is ours to reuse, as on AWS.
      if (!isAwsError(e, "DuplicateTargetGroupName")) throw e;
      const same = (await this.describeTargetGroupsRaw([input.name])).find(
        (t) => t.TargetGroupName === input.name && t.Protocol === input.protocol && t.Port === input.port && t.VpcId === input.vpcId && (t.TargetType ?? "instance") === (input.targetType ?? "instance"),
      );
      if (!same) throw e;
      return mapTargetGroup(same);
    }
  }

  private async describeTargetGroupsRaw(names: string[]): Promise<SdkTargetGroup[]> {
    const out = await this.call("DescribeTargetGroups", () => this.client.send(new DescribeTargetGroupsCommand({ Names: names })));
    return out.TargetGroups ?? [];
  }

  private async createTargetGroupOnce(input: CreateTargetGroupInput): Promise<TargetGroup> {
    const hc = input.healthCheck ?? {};
    const out = await this.call("CreateTargetGroup", () =>
      this.client.send(
        new CreateTargetGroupCommand({
          Name: input.name,
          Protocol: input.protocol as never,
          Port: input.port,
          VpcId: input.vpcId,
          TargetType: input.targetType as never,
          ProtocolVersion: input.protocolVersion,
          HealthCheckPath: hc.path,
          HealthCheckProtocol: hc.protocol as never,
          HealthCheckPort: hc.port,
          HealthCheckIntervalSeconds: hc.intervalSeconds,
          HealthCheckTimeoutSeconds: hc.timeoutSeconds,
          HealthyThresholdCount: hc.healthyThresholdCount,
          UnhealthyThresholdCount: hc.unhealthyThresholdCount,
          Matcher: hc.matcher ? { HttpCode: hc.matcher } : undefined,
          Tags: sdkTags(input.tags),
        }),
      ),
    );
    const tg = out.TargetGroups?.[0];
    if (!tg) throw new AwsError({ name: "InvalidResponse", message: "CreateTargetGroup returned no target group", service: "ELBv2", operation: "CreateTargetGroup", retryable: false });
    return mapTargetGroup(tg);
  }

  async deleteTargetGroup(targetGroupArn: string): Promise<void> {
    await this.call("DeleteTargetGroup", () => this.client.send(new DeleteTargetGroupCommand({ TargetGroupArn: targetGroupArn })));
  }

  async createRule(input: CreateRuleInput): Promise<Rule> {
    const out = await this.call("CreateRule", () =>
      this.client.send(
        new CreateRuleCommand({
          ListenerArn: input.listenerArn,
          Priority: input.priority,
          Conditions: input.conditions,
          Actions: input.actions.map(toSdkAction),
          Tags: sdkTags(input.tags),
        }),
      ),
    );
    const r = out.Rules?.[0];
    if (!r) throw new AwsError({ name: "InvalidResponse", message: "CreateRule returned no rule", service: "ELBv2", operation: "CreateRule", retryable: false });
    return mapRule(r);
  }

  async deleteRule(ruleArn: string): Promise<void> {
    await this.call("DeleteRule", () => this.client.send(new DeleteRuleCommand({ RuleArn: ruleArn })));
  }
}

function sdkTags(tags: readonly ResourceTag[] | undefined): { Key: string; Value: string }[] | undefined {
  return tags?.length ? tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined;
}

function mapTargetGroup(t: SdkTargetGroup): TargetGroup {
  return {
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
  };
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
