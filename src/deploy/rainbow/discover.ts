/**
 * Read a rainbow object's world from AWS: its listeners and their rules, the live routes (through
 * the traffic router), the versions recognised on the rules, their target groups and services.
 * AWS is the record of which versions exist — as a CloudFormation stack per version is for
 * ecs-utils — so a cleanup or a cutover sees versions deployed by any Flotilla, or left half-made.
 *
 * A rule counts as a version's only when its conditions are this object's route for that version
 * and it forwards to one target group bearing the version's target group name: a rule written by
 * hand that happens to look alike is left alone.
 */
import { AwsError, isAwsError } from "../../aws/errors.ts";
import type { AwsPorts, Service } from "../../aws/ports.ts";
import { versionOfConditions, versionServiceName, versionTargetGroupName, type RainbowConfig } from "../../config/rainbow.ts";
import type { TrafficRouter } from "../traffic/router.ts";
import { forwardedGroups, type RouteRef } from "../traffic/route.ts";
import { PROTECTED_TAG, type ListenerView, type RainbowWorld, type VersionService, type VersionView } from "./world.ts";

export interface DiscoverInput {
  cluster: string;
  /** The object's serviceName; versions run as `<service>-<version>`. */
  service: string;
  rainbow: Pick<RainbowConfig, "listeners" | "route" | "targetGroup">;
  /** Versions to look for by name even when no rule names them (the one being deployed or cut over to). */
  versions: readonly string[];
}

/** The live route a cutover switches on a listener. */
export function liveRef(l: RainbowConfig["listeners"][number]): RouteRef {
  return l.liveRuleArn !== undefined ? { kind: "rule", arn: l.liveRuleArn } : { kind: "listener", arn: l.listenerArn };
}

export async function discoverRainbow(ports: AwsPorts, router: TrafficRouter, input: DiscoverInput): Promise<RainbowWorld> {
  const cfg = input.rainbow;
  const listeners = await ports.elbv2.describeListeners({ listenerArns: cfg.listeners.map((l) => l.listenerArn) });
  const liveRoutes = await router.read(cfg.listeners.map(liveRef));
  const views: ListenerView[] = [];
  for (const l of cfg.listeners) {
    const found = listeners.find((x) => x.listenerArn === l.listenerArn)!;
    const ref = liveRef(l);
    const live = liveRoutes.find((r) => r.kind === ref.kind && r.arn === ref.arn);
    if (!live) throw new AwsError({ name: "RuleNotFound", message: `the live rule ${ref.arn} of listener ${l.listenerArn} does not exist`, service: "ELBv2", operation: "DescribeRules", retryable: false });
    const rules = (await ports.elbv2.describeRules({ listenerArn: l.listenerArn }))
      .filter((r) => !r.isDefault)
      .map((r) => ({ ruleArn: r.ruleArn, priority: Number(r.priority), conditions: r.conditions, forwardsTo: forwardedGroups(r) }));
    views.push({ listenerArn: l.listenerArn, ...(found.protocol ? { protocol: found.protocol } : {}), ...(found.port !== undefined ? { port: found.port } : {}), live, rules });
  }

  // Versions named by a rule, with the target group each rule forwards to.
  const byVersion = new Map<string, VersionView>();
  const version = (v: string): VersionView => {
    let view = byVersion.get(v);
    if (!view) byVersion.set(v, (view = { version: v, serviceName: versionServiceName(input.service, v), targetGroupName: versionTargetGroupName(cfg, input.service, v), rules: [] }));
    return view;
  };
  const claimed: { view: VersionView; listenerArn: string; rule: ListenerView["rules"][number] }[] = [];
  for (const l of views) {
    for (const r of l.rules) {
      const v = versionOfConditions(cfg, r.conditions);
      if (v !== undefined && r.forwardsTo.length === 1) claimed.push({ view: version(v), listenerArn: l.listenerArn, rule: r });
    }
  }
  for (const v of input.versions) version(v);

  // Target groups: those the rules forward to (checked by name), and by name those of versions without a rule.
  const ruleGroups = [...new Set(claimed.map((c) => c.rule.forwardsTo[0]!))];
  const groups = ruleGroups.length ? await describeGroupsTolerant(ports, ruleGroups) : [];
  for (const c of claimed) {
    const tg = groups.find((g) => g.targetGroupArn === c.rule.forwardsTo[0]);
    if (!tg || tg.targetGroupName !== c.view.targetGroupName) continue;
    c.view.targetGroupArn = tg.targetGroupArn;
    c.view.rules.push({ listenerArn: c.listenerArn, ruleArn: c.rule.ruleArn, priority: c.rule.priority });
  }
  for (const view of byVersion.values()) {
    if (view.targetGroupArn !== undefined || !input.versions.includes(view.version)) continue;
    const [tg] = await describeGroupsTolerant(ports, undefined, [view.targetGroupName]);
    if (tg) view.targetGroupArn = tg.targetGroupArn;
  }

  // Services, for every version that has a part (or was asked for).
  const wanted = [...byVersion.values()].filter((v) => v.targetGroupArn !== undefined || input.versions.includes(v.version));
  const { services } = wanted.length ? await ports.ecs.describeServices(input.cluster, wanted.map((v) => v.serviceName)) : { services: [] as Service[] };
  for (const v of wanted) {
    const s = services.find((x) => x.serviceName === v.serviceName);
    if (s) v.service = serviceView(s);
  }
  const versions = wanted.filter((v) => v.targetGroupArn !== undefined || v.rules.length > 0 || v.service !== undefined || input.versions.includes(v.version));
  return { listeners: views, versions: versions.sort((a, b) => a.version.localeCompare(b.version)) };
}

function serviceView(s: Service): VersionService {
  const tags = Array.isArray(s.definition?.["tags"]) ? (s.definition["tags"] as { key?: unknown; value?: unknown }[]) : [];
  return {
    serviceName: s.serviceName,
    status: s.status,
    desiredCount: s.desiredCount,
    runningCount: s.runningCount,
    createdAt: s.createdAt,
    protected: tags.some((t) => t.key === PROTECTED_TAG && String(t.value).toLowerCase() === "true"),
    ...(s.taskDefinition ? { taskDefinition: s.taskDefinition } : {}),
  };
}

/** DescribeTargetGroups fails as a whole when one is missing: ask again one by one, keeping those found. */
async function describeGroupsTolerant(ports: AwsPorts, arns?: readonly string[], names?: readonly string[]) {
  const ask = (one: { targetGroupArns?: readonly string[]; names?: readonly string[] }) => ports.elbv2.describeTargetGroups(one);
  try {
    return await ask(arns ? { targetGroupArns: arns } : { names: names ?? [] });
  } catch (e) {
    if (!isAwsError(e) || e.name !== "TargetGroupNotFound") throw e;
  }
  const out = [];
  for (const one of arns ?? names ?? []) {
    try {
      out.push(...(await ask(arns ? { targetGroupArns: [one] } : { names: [one] })));
    } catch (e) {
      if (!isAwsError(e) || e.name !== "TargetGroupNotFound") throw e;
    }
  }
  return out;
}
