/** ALB listener default actions and listener rules as a traffic router (ModifyListener / ModifyRule). */
import type { Elbv2Port } from "../../aws/ports.ts";
import { DEFAULT_HEALTH_CHECK_INTERVAL_S } from "../spec.ts";
import { drift, forwardsTo, refOf, type Route, type RouteRef } from "./route.ts";
import { TrafficNotVerified, type Discovery, type TrafficRouter } from "./router.ts";

/** How many times a write is read back before it counts as not applied. */
const VERIFY_READS = 3;

export class AlbRouter implements TrafficRouter {
  private readonly elbv2: Elbv2Port;

  constructor(elbv2: Elbv2Port) {
    this.elbv2 = elbv2;
  }

  /** Listeners and rules on the target groups' load balancers whose actions forward to any of them. */
  async discover(targetGroupArns: readonly string[]): Promise<Discovery> {
    const wanted = new Set(targetGroupArns);
    const groups = await this.elbv2.describeTargetGroups({ targetGroupArns });
    const lbs = [...new Set(groups.flatMap((g) => g.loadBalancerArns))];
    const routes: Route[] = [];
    for (const lb of lbs) {
      for (const listener of await this.elbv2.describeListeners({ loadBalancerArn: lb })) {
        if (forwardsTo(listener.defaultActions, wanted)) routes.push({ kind: "listener", arn: listener.listenerArn, actions: listener.defaultActions });
        for (const rule of await this.elbv2.describeRules({ listenerArn: listener.listenerArn })) {
          // The default rule is the listener's default actions, changed with ModifyListener.
          if (!rule.isDefault && forwardsTo(rule.actions, wanted)) routes.push({ kind: "rule", arn: rule.ruleArn, actions: rule.actions });
        }
      }
    }
    return { routes, healthCheckIntervals: groups.map((g) => g.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_S) };
  }

  async read(routes: readonly RouteRef[]): Promise<Route[]> {
    const listeners = routes.filter((r) => r.kind === "listener").map((r) => r.arn);
    const rules = routes.filter((r) => r.kind === "rule").map((r) => r.arn);
    const out: Route[] = [];
    if (listeners.length) for (const l of await this.elbv2.describeListeners({ listenerArns: listeners })) out.push({ kind: "listener", arn: l.listenerArn, actions: l.defaultActions });
    if (rules.length) for (const r of await this.elbv2.describeRules({ ruleArns: rules })) out.push({ kind: "rule", arn: r.ruleArn, actions: r.actions });
    return out;
  }

  async apply(routes: readonly Route[]): Promise<void> {
    for (const r of routes) {
      if (r.kind === "listener") await this.elbv2.modifyListener({ listenerArn: r.arn, defaultActions: r.actions });
      else await this.elbv2.modifyRule({ ruleArn: r.arn, actions: r.actions });
    }
    // Read back a few times before calling it a difference, so a read that lags the write is not
    // taken for one; a write that still does not show is a fact for a person to look at.
    for (let read = 1; ; read++) {
      const found = drift(routes, await this.read(routes.map(refOf)));
      if (!found) return;
      if (read === VERIFY_READS) throw new TrafficNotVerified(found);
    }
  }
}
