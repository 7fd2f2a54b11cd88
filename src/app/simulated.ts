/**
 * An engine on the built-in simulator in virtual time, for the tests, the benches and checks by
 * hand: a VirtualClock (auto-advancing unless given one), a simulator, and a SQLite store in memory
 * (or in a file). An hour-long canary runs in milliseconds.
 */
import type { AwsPorts } from "../aws/ports.ts";
import { VirtualClock } from "../core/clock.ts";
import { Simulator } from "../sim/simulator.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import { simulatedAws } from "./aws.ts";
import { Engine } from "./engine.ts";

export interface SimulatedEngineOptions {
  clock?: VirtualClock;
  /** The simulator (e.g. a loaded scenario) or how to make it on the clock; default: an empty one, without ECS's throttling. */
  sim?: Simulator | ((clock: VirtualClock) => Simulator);
  /** Clusters to add to the simulator. */
  clusters?: readonly string[];
  /** The SQLite file (default: in memory). */
  storePath?: string;
  /**
   * Through the resilience layer (batching, rate limiting, retries), as the CLI and serve run (the
   * default); false: the engine calls the simulator's ports directly, every call seen as made.
   */
  resilient?: boolean;
  /** Wraps the simulator's ports, beneath the resilience layer (a bench counts the calls that reach "AWS"). */
  wrap?: (ports: AwsPorts) => AwsPorts;
}

export class SimulatedEngine extends Engine {
  declare readonly clock: VirtualClock;
  readonly sim: Simulator;

  constructor(parts: ConstructorParameters<typeof Engine>[0] & { clock: VirtualClock; sim: Simulator }) {
    super(parts);
    this.sim = parts.sim;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export async function simulatedEngine(options: SimulatedEngineOptions = {}): Promise<SimulatedEngine> {
  const clock = options.clock ?? new VirtualClock({ autoAdvance: true });
  const sim = typeof options.sim === "function" ? options.sim(clock) : (options.sim ?? new Simulator({ clock, throttling: false }));
  for (const cluster of options.clusters ?? []) sim.addCluster(cluster);
  const store = await openSqliteStore({ path: options.storePath ?? ":memory:", clock });
  const wrap = options.wrap ?? ((ports: AwsPorts) => ports);
  const direct = wrap(sim.ports());
  const aws =
    options.resilient === false
      ? (region: string) => {
          if (region !== sim.region) throw new Error(`the simulator models Region ${sim.region}, not ${region}`);
          return direct;
        }
      : simulatedAws({ clock, simulators: new Map([[sim.region, sim]]), wrap });
  return new SimulatedEngine({ clock, store, aws, sim });
}
