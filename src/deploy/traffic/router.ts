/**
 * The seam between a deployment and whatever moves its traffic. A machine decides *what* the routes
 * should say (pure, route.ts); a router finds them, reads them and writes them, and proves every
 * write by reading it back.
 *
 * Today's router is ALB listener and rule weights (alb.ts), which task-set blue/green uses. The
 * interface is shaped for the next ones: rainbow cutover points a listener's default action or a
 * host rule at one version's target group (a route whose actions forward to a single group: the
 * same `apply` and read-back), and ECS-managed strategies let ECS move the weights while Flotilla
 * only `read`s them for the record and for manual changes.
 */
import type { Route, RouteRef } from "./route.ts";
import { describeDrift, type Drift } from "./route.ts";

/** What `discover` finds. */
export interface Discovery {
  /** Every route that forwards to one of the target groups asked about (weight 0 included). */
  routes: Route[];
  /** The target groups' health-check intervals, in seconds (they set how long new tasks are watched). */
  healthCheckIntervals: number[];
}

export interface TrafficRouter {
  /** The routes that forward to any of these target groups, as they are now. */
  discover(targetGroupArns: readonly string[]): Promise<Discovery>;
  /** The routes' actions now. A route that no longer exists is absent from the answer. */
  read(routes: readonly RouteRef[]): Promise<Route[]>;
  /**
   * Make each route's actions exactly these (idempotent: repeating it sets the same weights), then
   * read them back. Throws `TrafficNotVerified` when what is read back forwards differently.
   */
  apply(routes: readonly Route[]): Promise<void>;
}

/**
 * The router accepted a change, but reading the routes back shows another split: the endpoint
 * ignored or altered the write, or someone changed the route in between. Never retried blindly: the
 * deployment stops and says which route and what it now sends.
 */
export class TrafficNotVerified extends Error {
  override readonly name = "TrafficNotVerified";
  readonly drift: Drift;
  constructor(drift: Drift) {
    super(`reading the routes back shows ${describeDrift(drift)}`);
    this.drift = drift;
  }
}
