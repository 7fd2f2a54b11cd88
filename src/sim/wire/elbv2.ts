/** ELBv2 operations on the wire (awsQuery): the simulator's API layer, answered with ELBv2's records. */
import type { Action as SdkAction } from "@aws-sdk/client-elastic-load-balancing-v2";
import { fromSdkAction } from "../../aws/sdk/actions.ts";
import type { Simulator } from "../simulator.ts";
import { isRec, page, Reader, type Handler, type PageKeys, type Rec } from "./operation.ts";

const read = (sim: Simulator, operation: string, input: Rec) => new Reader(sim, "ELBv2", operation, input, "ValidationError");

const paged = (items: string, maxSize = 400): PageKeys => ({ items, tokenIn: "Marker", tokenOut: "NextMarker", size: "PageSize", defaultSize: maxSize, maxSize });

function actions(v: unknown) {
  return Array.isArray(v) ? v.filter(isRec).map((a) => fromSdkAction(a as unknown as SdkAction)) : [];
}

export const ELBV2_OPERATIONS: Record<string, Handler> = {
  async CreateLoadBalancer(sim, input) {
    return { LoadBalancers: [await sim.world().elbv2.createLoadBalancer(input)] };
  },
  async DescribeLoadBalancers(sim, input) {
    const r = read(sim, "DescribeLoadBalancers", input);
    const names = r.strings("Names");
    const arns = r.strings("LoadBalancerArns");
    const lbs = await sim.world().elbv2.describeLoadBalancers({ ...(names ? { Names: names } : {}), ...(arns ? { LoadBalancerArns: arns } : {}) });
    return page(lbs, input, paged("LoadBalancers"), (m) => r.fail(m));
  },
  async DeleteLoadBalancer(sim, input) {
    await sim.world().elbv2.deleteLoadBalancer(read(sim, "DeleteLoadBalancer", input).required("LoadBalancerArn"));
    return {};
  },
  async CreateTargetGroup(sim, input) {
    return { TargetGroups: [await sim.world().elbv2.createTargetGroup(input)] };
  },
  async DescribeTargetGroups(sim, input) {
    const r = read(sim, "DescribeTargetGroups", input);
    const arns = r.strings("TargetGroupArns");
    const names = r.strings("Names");
    const lb = r.str("LoadBalancerArn");
    const groups = await sim.ports().elbv2.describeTargetGroups({ ...(arns ? { targetGroupArns: arns } : {}), ...(names ? { names } : {}), ...(lb ? { loadBalancerArn: lb } : {}) });
    return page(sim.world().elbv2.targetGroupRecords(groups), input, paged("TargetGroups"), (m) => r.fail(m));
  },
  async DescribeTargetGroupAttributes(sim, input) {
    return { Attributes: await sim.world().elbv2.describeTargetGroupAttributes(read(sim, "DescribeTargetGroupAttributes", input).required("TargetGroupArn")) };
  },
  async ModifyTargetGroupAttributes(sim, input) {
    const r = read(sim, "ModifyTargetGroupAttributes", input);
    return { Attributes: await sim.world().elbv2.modifyTargetGroupAttributes(r.required("TargetGroupArn"), input["Attributes"]) };
  },
  async DeleteTargetGroup(sim, input) {
    await sim.world().elbv2.deleteTargetGroup(read(sim, "DeleteTargetGroup", input).required("TargetGroupArn"));
    return {};
  },
  async DescribeTargetHealth(sim, input) {
    const r = read(sim, "DescribeTargetHealth", input);
    const health = await sim.ports().elbv2.describeTargetHealth(r.required("TargetGroupArn"));
    const out = health.map((h) => ({
      Target: { Id: h.target.id, ...(h.target.port !== undefined ? { Port: h.target.port } : {}) },
      HealthCheckPort: String(h.target.port ?? "traffic-port"),
      TargetHealth: { State: h.state, ...(h.reason ? { Reason: h.reason } : {}), ...(h.description ? { Description: h.description } : {}) },
    }));
    const wanted = Array.isArray(input["Targets"]) ? input["Targets"].filter(isRec) : undefined;
    if (!wanted) return { TargetHealthDescriptions: out };
    // Asked-for targets that are not registered are reported as such, as ELBv2 does.
    return {
      TargetHealthDescriptions: wanted.map(
        (t) =>
          out.find((d) => d.Target.Id === t["Id"] && (t["Port"] === undefined || d.Target.Port === t["Port"])) ?? {
            Target: t,
            TargetHealth: { State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group" },
          },
      ),
    };
  },
  async CreateListener(sim, input) {
    return { Listeners: [await sim.world().elbv2.createListener(input)] };
  },
  async DescribeListeners(sim, input) {
    const r = read(sim, "DescribeListeners", input);
    const arns = r.strings("ListenerArns");
    const lb = r.str("LoadBalancerArn");
    const listeners = await sim.ports().elbv2.describeListeners({ ...(arns ? { listenerArns: arns } : {}), ...(lb ? { loadBalancerArn: lb } : {}) });
    return page(sim.world().elbv2.listenerRecords(listeners), input, paged("Listeners"), (m) => r.fail(m));
  },
  async ModifyListener(sim, input) {
    const r = read(sim, "ModifyListener", input);
    const arn = r.required("ListenerArn");
    const current = sim.elb.listeners.get(arn)?.defaultActions ?? [];
    const modified = await sim.ports().elbv2.modifyListener({ listenerArn: arn, defaultActions: input["DefaultActions"] !== undefined ? actions(input["DefaultActions"]) : current });
    return { Listeners: sim.world().elbv2.listenerRecords([modified]) };
  },
  async DeleteListener(sim, input) {
    await sim.world().elbv2.deleteListener(read(sim, "DeleteListener", input).required("ListenerArn"));
    return {};
  },
  async CreateRule(sim, input) {
    return { Rules: [await sim.world().elbv2.createRule(input)] };
  },
  async DescribeRules(sim, input) {
    const r = read(sim, "DescribeRules", input);
    const arns = r.strings("RuleArns");
    const listener = r.str("ListenerArn");
    const rules = await sim.ports().elbv2.describeRules({ ...(arns ? { ruleArns: arns } : {}), ...(listener ? { listenerArn: listener } : {}) });
    return page(sim.world().elbv2.ruleRecords(rules), input, paged("Rules"), (m) => r.fail(m));
  },
  async ModifyRule(sim, input) {
    const r = read(sim, "ModifyRule", input);
    const arn = r.required("RuleArn");
    const current = sim.elb.rules.get(arn);
    const rule = await sim.ports().elbv2.modifyRule({ ruleArn: arn, actions: input["Actions"] !== undefined ? actions(input["Actions"]) : (current?.actions ?? []) });
    // Conditions are data the simulator only reports; ModifyRule may replace them.
    if (current && Array.isArray(input["Conditions"])) current.conditions = structuredClone(input["Conditions"].filter(isRec));
    return { Rules: sim.world().elbv2.ruleRecords([rule]) };
  },
  async DeleteRule(sim, input) {
    await sim.world().elbv2.deleteRule(read(sim, "DeleteRule", input).required("RuleArn"));
    return {};
  },
};
