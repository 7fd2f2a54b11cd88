/**
 * What the AWS-facing verbs share: where the store is, which AWS (the real one through the SDK, or
 * the simulator), and the clock. `--simulator [SCENARIO]` rehearses on the built-in simulator:
 * the scenario's initial state, plus any cluster the objects name (created empty), in virtual time.
 */
import path from "node:path";
import type { Command } from "commander";
import type { AwsPorts, AwsPortsFactory } from "../aws/ports.ts";
import { resilientPorts } from "../aws/resilient.ts";
import { sdkPortsFactory } from "../aws/sdk/index.ts";
import type { AwsCallObserver } from "../aws/sdk/call.ts";
import { ScaledClock, SystemClock, VirtualClock, type Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import { Runner } from "../deploy/runner.ts";
import { readScenarioFile } from "../sim/open.ts";
import { loadScenario, type Scenario } from "../sim/scenario.ts";
import { Simulator } from "../sim/simulator.ts";
import { openStore } from "../store/index.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, NewEvent } from "../store/types.ts";
import type { CliIO } from "./io.ts";

export interface AwsOptions {
  store?: string;
  simulator?: string | boolean;
  speed?: string;
}

export function addAwsOptions(cmd: Command): Command {
  return cmd
    .option("--store <location>", "the store: a SQLite file path or a postgres:// URL (default: FLOTILLA_STORE, else .flotilla/flotilla.db)")
    .option("--simulator [scenarios]", "rehearse on the built-in ECS/ELB/CloudWatch simulator, optionally from scenario files (comma-separated, one per Region)")
    .option("--speed <factor>", "with --simulator: run in real time sped up by this factor instead of instantly");
}

export interface Context {
  store: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  simulators: Map<string, Simulator>;
  runner(onUpdate?: (d: Deployment, events: readonly NewEvent[]) => void): Runner;
  /** Make sure the simulated Regions have these clusters (no-op against AWS). */
  ensureClusters(clusters: readonly { region: string; cluster: string }[]): void;
  close(): Promise<void>;
}

export async function openContext(io: CliIO, opts: AwsOptions, observe?: AwsCallObserver): Promise<Context> {
  const simulated = opts.simulator !== undefined && opts.simulator !== false;
  const speed = opts.speed ? Number(opts.speed) : undefined;
  if (speed !== undefined && !(speed > 0)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--speed must be a positive number, not ${opts.speed}` });
  // Scenario files are read before anything is opened: a bad one is FLT-SIM-SCENARIO (exit 2).
  const scenarios = simulated ? await readScenarios(io, opts.simulator) : new Map<string, Scenario>();
  const clock: Clock = simulated ? (speed ? new ScaledClock(speed) : new VirtualClock({ autoAdvance: true })) : new SystemClock();
  const store = await openStore({ location: storeLocation(io, opts.store), cwd: io.cwd, clock });
  const simulators = new Map<string, Simulator>();
  let aws: AwsPortsFactory;
  if (simulated) {
    // The simulator answers ThrottlingException like ECS, so rehearsals go through the same
    // batching, rate limiting and retries as the SDK adapter.
    const bundles = new Map<string, AwsPorts>();
    aws = (region) => {
      let ports = bundles.get(region);
      if (!ports) {
        const scenario = scenarios.get(region);
        const sim = scenario ? loadScenario(scenario, clock) : new Simulator({ clock, region, throttling: false });
        simulators.set(region, sim);
        ports = resilientPorts(sim.ports(), { clock, ...(observe ? { observe } : {}) });
        bundles.set(region, ports);
      }
      return ports;
    };
  } else {
    aws = sdkPortsFactory({ clock, ...(observe ? { observe } : {}) });
  }
  return {
    store,
    aws,
    clock,
    simulators,
    runner: (onUpdate) => new Runner({ store, aws, clock, ...(onUpdate ? { onUpdate } : {}) }),
    ensureClusters(clusters) {
      if (!simulated) return;
      for (const { region, cluster } of clusters) {
        aws(region);
        const sim = simulators.get(region)!;
        try {
          sim.cluster(cluster, "DescribeClusters");
        } catch {
          sim.addCluster(cluster);
        }
      }
    },
    close: () => store.close(),
  };
}

/** `--simulator a.json,b.json`: one scenario per Region, as named on the command line. */
async function readScenarios(io: CliIO, simulator: string | boolean | undefined): Promise<Map<string, Scenario>> {
  const scenarios = new Map<string, Scenario>();
  for (const name of typeof simulator === "string" ? simulator.split(",").filter(Boolean) : []) {
    const scenario = await readScenarioFile(path.resolve(io.cwd, name), name);
    if (scenarios.has(scenario.region)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `two scenarios for Region ${scenario.region}: give one per Region` });
    scenarios.set(scenario.region, scenario);
  }
  return scenarios;
}

/** `--store`, else FLOTILLA_STORE, else the default SQLite file under the working directory. */
export function storeLocation(io: CliIO, flag: string | undefined): string | undefined {
  return flag ?? io.env["FLOTILLA_STORE"] ?? undefined;
}

/** Open the store for one command, and close it whatever happens. */
export async function withStore(io: CliIO, location: string | undefined, fn: (s: Store) => Promise<number>): Promise<number> {
  const store = await openStore({ location: storeLocation(io, location), cwd: io.cwd });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
