/**
 * The routes of an ECS-managed blue/green, linear or canary service: each load balancer entry's
 * `advancedConfiguration` names the production listener rule (or, for a Network Load Balancer,
 * the listener) whose weights ECS moves, and optionally a test rule. ECS writes the weights itself;
 * Flotilla only reads the routes, through the same traffic router as task-set blue/green, to check
 * before a deployment what ECS would otherwise roll back at its start (ECS Developer Guide,
 * "Application Load Balancer resources for blue/green, linear, and canary deployments").
 */
import { forwardedGroups, type Route, type RouteRef } from "./route.ts";

interface ManagedLoadBalancer {
  index: number;
  targetGroupArn: string;
  alternateTargetGroupArn?: string;
  productionListenerRule?: string;
  testListenerRule?: string;
}

const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The svcdef's load balancer entries with a target group, with what their advanced configuration names. */
export function managedLoadBalancers(svcdef: Record<string, unknown>): ManagedLoadBalancer[] {
  const lbs = Array.isArray(svcdef["loadBalancers"]) ? (svcdef["loadBalancers"] as unknown[]) : [];
  const out: ManagedLoadBalancer[] = [];
  lbs.forEach((raw, index) => {
    const lb = record(raw);
    const targetGroupArn = text(lb?.["targetGroupArn"]);
    if (!lb || !targetGroupArn) return;
    const ac = record(lb["advancedConfiguration"]) ?? {};
    const alternate = text(ac["alternateTargetGroupArn"]);
    const production = text(ac["productionListenerRule"]);
    const test = text(ac["testListenerRule"]);
    out.push({ index, targetGroupArn, ...(alternate ? { alternateTargetGroupArn: alternate } : {}), ...(production ? { productionListenerRule: production } : {}), ...(test ? { testListenerRule: test } : {}) });
  });
  return out;
}

/** A listener rule's ARN names `listener-rule/`; a listener's (NLB production "rule") `listener/`. */
export function routeRef(arn: string): RouteRef {
  return { kind: /:listener-rule\//.test(arn) ? "rule" : "listener", arn };
}

/** The production and test routes of every load balancer entry, once each. */
export function managedRoutes(svcdef: Record<string, unknown>): RouteRef[] {
  const arns = new Set(managedLoadBalancers(svcdef).flatMap((lb) => [lb.productionListenerRule, lb.testListenerRule].filter((a): a is string => a !== undefined)));
  return [...arns].map(routeRef);
}

/** The production rules (or listeners) only: where the traffic the record reports is. */
export function productionRoutes(svcdef: Record<string, unknown>): RouteRef[] {
  return [...new Set(managedLoadBalancers(svcdef).flatMap((lb) => (lb.productionListenerRule ? [lb.productionListenerRule] : [])))].map(routeRef);
}

/** Both target groups of every entry: where the new revision's tasks will register, either way round. */
export function managedTargetGroups(svcdef: Record<string, unknown>): string[] {
  return [...new Set(managedLoadBalancers(svcdef).flatMap((lb) => [lb.targetGroupArn, ...(lb.alternateTargetGroupArn ? [lb.alternateTargetGroupArn] : [])]))];
}

/**
 * What ECS would roll back at the deployment's start, given the routes as read (`live`; a route
 * that does not exist is absent): a production or test rule that is gone, one that does more than
 * forward, or rules that between them do not forward to both the target group and the alternate.
 */
export function managedRoutingProblem(svcdef: Record<string, unknown>, live: readonly Route[]): string | undefined {
  for (const lb of managedLoadBalancers(svcdef)) {
    const where = `loadBalancers[${lb.index}]`;
    const named = [lb.productionListenerRule, lb.testListenerRule].filter((a): a is string => a !== undefined);
    const routes: Route[] = [];
    for (const arn of named) {
      const found = live.find((r) => r.arn === arn);
      const what = arn === lb.productionListenerRule ? "productionListenerRule" : "testListenerRule";
      if (!found) return `${where}.advancedConfiguration.${what} ${arn} does not exist`;
      if (found.actions.some((a) => a.type !== "forward")) return `${where}.advancedConfiguration.${what} ${arn} does more than forward (ECS moves the weights of forward actions only)`;
      routes.push(found);
    }
    if (!lb.alternateTargetGroupArn || routes.length === 0) continue;
    const reached = new Set(routes.flatMap((r) => forwardedGroups(r)));
    const missing = [lb.targetGroupArn, lb.alternateTargetGroupArn].filter((g) => !reached.has(g));
    if (missing.length) {
      return `${where}: neither the production nor the test listener rule forwards to ${missing.join(" and ")}; ECS rolls such a deployment back at once ("Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule")`;
    }
  }
  return undefined;
}
