/**
 * The simulator's public face: build one (empty, or from a scenario), get its ports, drive time.
 *
 *   const clock = new VirtualClock({ autoAdvance: true });
 *   const sim = new Simulator({ clock });
 *   const ports = sim.ports();            // AwsPorts, same interface as the SDK adapter
 */
import type { AwsPorts, AwsPortsFactory } from "../aws/ports.ts";
import { SimulatorCore } from "./core.ts";
import { SimEcs, SimEcsWorld } from "./ecs-api.ts";
import { SimCloudWatch, SimCloudWatchWorld, SimElbv2, SimElbv2World } from "./elb-api.ts";
import { routeRequest, type RouteAnswer, type SimRequest } from "./routing.ts";

/** The calls beyond the engine's ports that build a world by API (CreateCluster, CreateTargetGroup, PutMetricAlarm, ...). */
export interface WorldApi {
  ecs: SimEcsWorld;
  elbv2: SimElbv2World;
  cloudwatch: SimCloudWatchWorld;
}

export class Simulator extends SimulatorCore {
  private bundle: AwsPorts | undefined;
  private worldApi: WorldApi | undefined;

  ports(): AwsPorts {
    this.bundle ??= { region: this.region, ecs: new SimEcs(this), elbv2: new SimElbv2(this), cloudwatch: new SimCloudWatch(this) };
    return this.bundle;
  }

  world(): WorldApi {
    this.worldApi ??= { ecs: new SimEcsWorld(this), elbv2: new SimElbv2World(this), cloudwatch: new SimCloudWatchWorld(this) };
    return this.worldApi;
  }

  /** A factory for the engine: the simulator plays one Region; asking for another is a mistake. */
  portsFactory(): AwsPortsFactory {
    return (region) => {
      if (region !== this.region) throw new Error(`the simulator models Region ${this.region}, not ${region}`);
      return this.ports();
    };
  }

  /**
   * Where a request for this host, path and headers goes now: the listener rule (or default action)
   * that decides, the target groups and the services whose tasks answer (routing.ts).
   */
  route(request: SimRequest): RouteAnswer {
    this.sync();
    return routeRequest(this, request);
  }

  /** Run the world to `t` (epoch ms) without a caller: for printing state over time. */
  advanceTo(t: number): void {
    this.runUntil(t);
  }
}
