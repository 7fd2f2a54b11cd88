/**
 * ELBv2 resources as the ELBv2 API reports them (PascalCase members, times as ISO strings): what
 * the Create calls were given, ALB's defaults, and the simulator's own state. Used by the
 * world-building calls (elb-api.ts) and the wire front door (src/sim/wire).
 */
import { toSdkAction } from "../aws/sdk/actions.ts";
import type { SimulatorCore } from "./core.ts";
import { nameHash } from "./ids.ts";
import type { SimListener, SimLoadBalancer, SimRule, SimTargetGroup } from "./model.ts";
import { defaultVpc } from "./vpc.ts";

type Rec = Record<string, unknown>;
const iso = (ms: number): string => new Date(ms).toISOString();

/** ALB's hosted zone in us-east-1; other Regions have their own, which the simulator does not list. */
const ALB_HOSTED_ZONE = "Z35SXDOTRQ7X7K";

export function loadBalancerRecord(sim: SimulatorCore, lb: SimLoadBalancer): Rec {
  const r = lb.request ?? {};
  const vpc = defaultVpc(sim.region, sim.account);
  const scheme = typeof r["Scheme"] === "string" ? r["Scheme"] : "internet-facing";
  const subnetIds = Array.isArray(r["Subnets"]) ? (r["Subnets"] as string[]) : vpc.subnets.map((s) => s.subnetId);
  const dnsId = String(parseInt(nameHash(lb.name).slice(0, 8), 16)).padStart(10, "0");
  return {
    LoadBalancerArn: lb.arn,
    DNSName: `${scheme === "internal" ? "internal-" : ""}${lb.name}-${dnsId}.${sim.region}.elb.amazonaws.com`,
    CanonicalHostedZoneId: ALB_HOSTED_ZONE,
    CreatedTime: iso(lb.createdAt ?? sim.startedAt),
    LoadBalancerName: lb.name,
    Scheme: scheme,
    VpcId: vpc.vpcId,
    State: { Code: "active" },
    Type: "application",
    AvailabilityZones: subnetIds.map((id, i) => ({ SubnetId: id, ZoneName: vpc.subnets.find((s) => s.subnetId === id)?.availabilityZone ?? `${sim.region}${"abcdef"[i % 6]}`, LoadBalancerAddresses: [] })),
    SecurityGroups: Array.isArray(r["SecurityGroups"]) ? r["SecurityGroups"] : [vpc.securityGroupId],
    IpAddressType: typeof r["IpAddressType"] === "string" ? r["IpAddressType"] : "ipv4",
  };
}

export function targetGroupRecord(sim: SimulatorCore, tg: SimTargetGroup): Rec {
  const r = tg.request ?? {};
  const http = tg.protocol === "HTTP" || tg.protocol === "HTTPS";
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: typeof r["VpcId"] === "string" ? r["VpcId"] : defaultVpc(sim.region, sim.account).vpcId,
    HealthCheckProtocol: r["HealthCheckProtocol"] ?? tg.protocol,
    HealthCheckPort: r["HealthCheckPort"] ?? "traffic-port",
    HealthCheckEnabled: r["HealthCheckEnabled"] ?? true,
    HealthCheckIntervalSeconds: tg.intervalMs / 1000,
    HealthCheckTimeoutSeconds: r["HealthCheckTimeoutSeconds"] ?? 5,
    HealthyThresholdCount: tg.healthyThreshold,
    UnhealthyThresholdCount: tg.unhealthyThreshold,
    ...(http ? { HealthCheckPath: tg.path, Matcher: r["Matcher"] ?? { HttpCode: "200" }, ProtocolVersion: r["ProtocolVersion"] ?? "HTTP1" } : {}),
    LoadBalancerArns: sim.elb.loadBalancerArnsOf(tg.arn),
    TargetType: tg.targetType,
    IpAddressType: r["IpAddressType"] ?? "ipv4",
  };
}

/** ALB's target group attributes with their defaults; the deregistration delay is the simulator's own. */
export function targetGroupAttributes(tg: SimTargetGroup): { Key: string; Value: string }[] {
  const values: Record<string, string> = {
    "deregistration_delay.timeout_seconds": String(tg.deregistrationDelayMs / 1000),
    "stickiness.enabled": "false",
    "stickiness.type": "lb_cookie",
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
    "slow_start.duration_seconds": "0",
    "load_balancing.algorithm.type": "round_robin",
    "load_balancing.algorithm.anomaly_mitigation": "off",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
    ...tg.attributes,
  };
  values["deregistration_delay.timeout_seconds"] = String(tg.deregistrationDelayMs / 1000);
  return Object.entries(values).map(([Key, Value]) => ({ Key, Value }));
}

export function listenerRecord(l: SimListener): Rec {
  const r = l.request ?? {};
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.lbArn,
    Port: l.port,
    Protocol: l.protocol,
    DefaultActions: l.defaultActions.map(toSdkAction),
    ...(Array.isArray(r["Certificates"]) ? { Certificates: r["Certificates"] } : {}),
    ...(l.protocol === "HTTPS" ? { SslPolicy: r["SslPolicy"] ?? "ELBSecurityPolicy-2016-08" } : {}),
    ...(Array.isArray(r["AlpnPolicy"]) ? { AlpnPolicy: r["AlpnPolicy"] } : {}),
  };
}

export function ruleRecord(r: SimRule): Rec {
  return { RuleArn: r.arn, Priority: r.priority, Conditions: r.conditions, Actions: r.actions.map(toSdkAction), IsDefault: false };
}

/** The listener's default rule, as DescribeRules lists it last. */
export function defaultRuleArn(l: SimListener): string {
  return l.arn.replace(":listener/", ":listener-rule/") + "/default";
}

export function defaultRuleRecord(l: SimListener): Rec {
  return { RuleArn: defaultRuleArn(l), Priority: "default", Conditions: [], Actions: l.defaultActions.map(toSdkAction), IsDefault: true };
}
