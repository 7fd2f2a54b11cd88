/**
 * Which AWS the engine talks to: the real one through the SDK v3 adapter, or the built-in
 * simulator. The simulator answers ThrottlingException like ECS, so it goes through the same
 * batching, rate limiting and retries as the SDK adapter (aws/resilient.ts).
 */
import type { AwsPorts, AwsPortsFactory } from "../aws/ports.ts";
import { resilientPorts } from "../aws/resilient.ts";
import type { AwsCallObserver } from "../aws/sdk/call.ts";
import { sdkPortsFactory } from "../aws/sdk/index.ts";
import type { Clock } from "../core/clock.ts";
import { Simulator } from "../sim/simulator.ts";

/** AWS itself, through the SDK (credentials and endpoints as docs/aws.md says); `observe` sees every call. */
export function sdkAws(clock: Clock, observe?: AwsCallObserver): AwsPortsFactory {
  return sdkPortsFactory({ clock, ...(observe ? { observe } : {}) });
}

export interface SimulatedAwsOptions {
  clock: Clock;
  /** The simulators by Region; a Region asked for without one gets a new, empty simulator here. */
  simulators: Map<string, Simulator>;
  /** Clusters an object names are made on first use (rehearsals of a repository on an empty world). */
  createMissingClusters?: boolean;
  observe?: AwsCallObserver;
  /** Wraps each Region's ports before the resilience layer (a bench counts the calls that reach "AWS"). */
  wrap?: (ports: AwsPorts) => AwsPorts;
}

/** The simulator behind the AWS ports, through the same resilience layer as the SDK adapter: one simulator per Region. */
export function simulatedAws(options: SimulatedAwsOptions): AwsPortsFactory {
  const { clock, simulators, observe } = options;
  const bundles = new Map<string, AwsPorts>();
  return (region) => {
    let ports = bundles.get(region);
    if (!ports) {
      let sim = simulators.get(region);
      if (!sim) {
        sim = new Simulator({ clock, region, throttling: false });
        simulators.set(region, sim);
      }
      if (options.createMissingClusters) sim.createMissingClusters = true;
      const raw = sim.ports();
      ports = resilientPorts(options.wrap ? options.wrap(raw) : raw, { clock, ...(observe ? { observe } : {}) });
      bundles.set(region, ports);
    }
    return ports;
  };
}
