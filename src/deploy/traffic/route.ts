/**
 * Routes and weights as data: what the deployment machines keep in their state and compute with.
 * Pure — the calls that read and change routes are a `TrafficRouter`'s (router.ts).
 */
import type { Action } from "../../aws/ports.ts";

/**
 * One place a router sends traffic from, with the actions it has. For ALB: a listener's default
 * actions (`kind: "listener"`) or a non-default rule's actions (`kind: "rule"`). Other routers add
 * their own kinds; a route's kind says which router reads and writes it.
 */
export interface Route {
  kind: "listener" | "rule";
  arn: string;
  actions: Action[];
}

/** How a route is named when only its identity is needed (watching, reading back). */
export type RouteRef = Pick<Route, "kind" | "arn">;

/** A blue/green pair: the target group serving now and the one the new revision gets. Equal for a first task set. */
export interface TargetGroupPair {
  blue: string;
  green: string;
}

export const refOf = ({ kind, arn }: RouteRef): RouteRef => ({ kind, arn });

/** Whether any forward action sends (or could send, at weight 0) traffic to one of `targetGroupArns`. */
export function forwardsTo(actions: readonly Action[], targetGroupArns: ReadonlySet<string>): boolean {
  return actions.some((a) => a.type === "forward" && ((a.targetGroupArn !== undefined && targetGroupArns.has(a.targetGroupArn)) || a.forwardConfig?.targetGroups.some((t) => targetGroupArns.has(t.targetGroupArn))));
}

/**
 * The percentage of a route's forwarded traffic that reaches `targetGroupArn`. A forward to a
 * single target group (no weights) sends it all; weights count relative to the route's total, so
 * 200/0 and 100/0 are the same split (ALB takes weights 0–999).
 */
export function shareOf(route: Pick<Route, "actions">, targetGroupArn: string): number {
  let mine = 0;
  let total = 0;
  for (const a of route.actions) {
    if (a.type !== "forward") continue;
    if (a.forwardConfig) {
      for (const t of a.forwardConfig.targetGroups) {
        total += t.weight;
        if (t.targetGroupArn === targetGroupArn) mine += t.weight;
      }
    } else if (a.targetGroupArn !== undefined) {
      total += 1;
      if (a.targetGroupArn === targetGroupArn) mine += 1;
    }
  }
  return total === 0 ? 0 : (mine * 100) / total;
}

/** Target groups that a route's forward actions name (with `sending`, only those with a weight above 0). */
export function forwardedGroups(route: Pick<Route, "actions">, sending = false): string[] {
  const out = new Set<string>();
  for (const a of route.actions) {
    if (a.type !== "forward") continue;
    if (a.forwardConfig) {
      for (const t of a.forwardConfig.targetGroups) if (!sending || t.weight > 0) out.add(t.targetGroupArn);
    } else if (a.targetGroupArn !== undefined) out.add(a.targetGroupArn);
  }
  return [...out];
}

/**
 * The routes with all their traffic on one target group: each forward action forwards to it alone
 * (keeping its order and stickiness); a route whose answer is not a forward (a fixed response or a
 * redirect before anything is live) gets a forward in its place. Authentication actions stay.
 * A rainbow cutover.
 */
export function routesTo(routes: readonly Route[], targetGroupArn: string): Route[] {
  return routes.map((r) => {
    const terminal = r.actions.find((a) => !a.type.startsWith("authenticate"));
    const actions = r.actions.map((a): Action => {
      if (a !== terminal && a.type !== "forward") return a;
      const stickiness = a.forwardConfig?.stickiness;
      return { type: "forward", ...(a.order !== undefined ? { order: a.order } : {}), forwardConfig: { targetGroups: [{ targetGroupArn, weight: 1 }], ...(stickiness ? { stickiness } : {}) } };
    });
    return { ...r, actions: terminal ? actions : [...actions, { type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn, weight: 1 }] } }] };
  });
}

/**
 * The routes with `weight`% on green and the rest on blue, on every forward action of a pair; other
 * actions (redirects, fixed responses, forwards to other groups) stay as they are. The weights of
 * every action written sum to 100.
 */
export function routesAt(routes: readonly Route[], pairs: readonly TargetGroupPair[], weight: number): Route[] {
  return routes.map((r) => ({
    ...r,
    actions: r.actions.map((a): Action => {
      if (a.type !== "forward") return a;
      const pair = pairs.find((p) => a.targetGroupArn === p.blue || a.targetGroupArn === p.green || a.forwardConfig?.targetGroups.some((t) => t.targetGroupArn === p.blue || t.targetGroupArn === p.green));
      if (!pair) return a;
      // A first task set's pair has one member: the groups the action already forwards to stay, at
      // weight 0. Dropped, a group would lose its load balancer, and ECS refuses a task set on a
      // target group without one (the next deployment's green).
      const targetGroups =
        pair.blue === pair.green
          ? [{ targetGroupArn: pair.green, weight: 100 }, ...(a.forwardConfig?.targetGroups ?? []).filter((t) => t.targetGroupArn !== pair.green).map((t) => ({ targetGroupArn: t.targetGroupArn, weight: 0 }))]
          : [{ targetGroupArn: pair.blue, weight: 100 - weight }, { targetGroupArn: pair.green, weight }];
      const { targetGroupArn: _single, ...rest } = a;
      return { ...rest, forwardConfig: { ...(a.forwardConfig?.stickiness ? { stickiness: a.forwardConfig.stickiness } : {}), targetGroups } };
    }),
  }));
}

/** A difference between the routes as expected and as they are. */
export type Drift =
  | { route: RouteRef; gone: true }
  | { route: RouteRef; gone?: false; targetGroupArn: string; share: number; expected: number };

/**
 * The first route whose forwarded split differs from what was expected (or that is gone), or
 * undefined when every route forwards as expected. `groups` limits the comparison to those target
 * groups, in that order; by default every group either side forwards to counts.
 */
export function drift(expected: readonly Route[], live: readonly Route[], groups?: readonly string[]): Drift | undefined {
  for (const want of expected) {
    const have = live.find((r) => r.kind === want.kind && r.arn === want.arn);
    if (!have) return { route: refOf(want), gone: true };
    for (const tg of groups ?? [...new Set([...forwardedGroups(want), ...forwardedGroups(have)])]) {
      const share = shareOf(have, tg);
      const wanted = shareOf(want, tg);
      if (share !== wanted) return { route: refOf(want), targetGroupArn: tg, share, expected: wanted };
    }
  }
  return undefined;
}

/** A drift in words: "listener …/443 sends 50% to web-green, expected 20%". */
export function describeDrift(d: Drift): string {
  if (d.gone) return `${d.route.kind} ${d.route.arn} is gone`;
  return `${d.route.kind} ${shortArn(d.route.arn)} sends ${round(d.share)}% to ${shortTg(d.targetGroupArn)}, expected ${round(d.expected)}%`;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function shortTg(arn: string): string {
  return /targetgroup\/([^/]+)/.exec(arn)?.[1] ?? arn;
}

export function shortArn(arn: string): string {
  return arn.split(":").at(-1) ?? arn;
}
