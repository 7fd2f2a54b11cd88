/**
 * What the AWS-facing verbs share: where the store is, which AWS (the real one through the SDK, or
 * the simulator), and the clock. `--simulator [SCENARIO]` rehearses on the built-in simulator:
 * the scenario's initial state, plus any cluster the objects name (created empty the first time a
 * call names it), in virtual time that starts at the wall-clock time of the run. Rehearsals keep
 * their own store (`.flotilla/rehearsal.db`), so they never show in the real status, history or
 * rollback; `--rehearsal` on status, history and the control verbs reads it.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { AwsPorts, AwsPortsFactory } from "../aws/ports.ts";
import { resilientPorts } from "../aws/resilient.ts";
import { sdkPortsFactory } from "../aws/sdk/index.ts";
import type { AwsCallObserver } from "../aws/sdk/call.ts";
import { ScaledClock, SystemClock, VirtualClock, type Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import { DeploymentSampler } from "../controller/samples.ts";
import { Runner } from "../deploy/runner.ts";
import { readScenarioFile } from "../sim/open.ts";
import { loadScenario, type Scenario } from "../sim/scenario.ts";
import { Simulator } from "../sim/simulator.ts";
import { DEFAULT_SQLITE_PATH, isPostgresUrl, isStoreError, openStore } from "../store/index.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, NewEvent } from "../store/types.ts";
import type { CliIO } from "./io.ts";

/** Where `--simulator` runs record their deployments unless `--store` says otherwise. */
export const REHEARSAL_STORE = ".flotilla/rehearsal.db";

export interface AwsOptions {
  store?: string;
  simulator?: string | boolean;
  speed?: string;
}

export function addAwsOptions(cmd: Command): Command {
  return cmd
    .option("--store <location>", `the store: a SQLite file path or a postgres:// URL (default: FLOTILLA_STORE, else ${DEFAULT_SQLITE_PATH}; with --simulator, ${REHEARSAL_STORE})`)
    .option("--simulator [scenarios]", "rehearse on the built-in ECS/ELB/CloudWatch simulator, optionally from scenario files (comma-separated, one per Region)")
    .option("--speed <factor>", "with --simulator: run in real time sped up by this factor instead of instantly");
}

/** `--store` and `--rehearsal` for the verbs that only read or write the store. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option("--store <location>", `SQLite path or postgres:// URL (default: FLOTILLA_STORE, else ${DEFAULT_SQLITE_PATH})`)
    .option("--rehearsal", `use the store of --simulator runs (${REHEARSAL_STORE}) instead`, false);
}

export interface Context {
  /** The store: every record, for history and rollback. */
  store: Store;
  /**
   * The store as this run's world knows it, for deciding and resuming. Against AWS, the store. On
   * the simulator, only what this run records: each rehearsal starts a new world, so what earlier
   * rehearsals recorded (a service "already deployed", an object since removed) is history, not
   * the state of this world.
   */
  worldStore: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  simulators: Map<string, Simulator>;
  runner(onUpdate?: (d: Deployment, events: readonly NewEvent[]) => void): Runner;
  close(): Promise<void>;
}

export async function openContext(io: CliIO, opts: AwsOptions, observe?: AwsCallObserver): Promise<Context> {
  const simulated = opts.simulator !== undefined && opts.simulator !== false;
  const speed = opts.speed ? Number(opts.speed) : undefined;
  if (speed !== undefined && !(speed > 0)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--speed must be a positive number, not ${opts.speed}` });
  // Scenario files are read before anything is opened: a bad one is FLT-SIM-SCENARIO (exit 2).
  const scenarios = simulated ? await readScenarios(io, opts.simulator) : new Map<string, { scenario: Scenario; file: string }>();
  const wall = new SystemClock();
  let clock: Clock = wall;
  // The store stamps records with the engine's clock, chosen once the store is open (below).
  const store = await openCliStore(io, opts.store ?? (simulated ? REHEARSAL_STORE : undefined), { now: () => clock.now() });
  const simulators = new Map<string, Simulator>();
  let aws: AwsPortsFactory;
  let worldStore = store;
  if (simulated) {
    try {
      const start = await rehearsalStart(store, wall.now());
      clock = speed ? new ScaledClock(speed, start) : new VirtualClock({ autoAdvance: true, start });
      await closeEndedRehearsals(store);
      worldStore = recordedSince(store, start);
      for (const [region, { scenario, file }] of scenarios) simulators.set(region, loadScenario(scenario, clock, file));
    } catch (e) {
      await store.close();
      throw e;
    }
    // The simulator answers ThrottlingException like ECS, so rehearsals go through the same
    // batching, rate limiting and retries as the SDK adapter.
    const bundles = new Map<string, AwsPorts>();
    aws = (region) => {
      let ports = bundles.get(region);
      if (!ports) {
        let sim = simulators.get(region);
        if (!sim) {
          sim = new Simulator({ clock, region, throttling: false });
          simulators.set(region, sim);
        }
        sim.createMissingClusters = true;
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
    worldStore,
    aws,
    clock,
    simulators,
    runner: (onUpdate) => new Runner({ store: worldStore, aws, clock, observe: new DeploymentSampler({ store: worldStore, aws, clock }).observe, ...(onUpdate ? { onUpdate } : {}) }),
    close: () => store.close(),
  };
}

/**
 * A rehearsal runs in virtual time from the wall-clock time of the run, so its records carry real
 * dates. Virtual time runs ahead of the wall clock (a 30-minute canary takes a second), so a
 * rehearsal started soon after another begins after the other's last record: ids, `status` and
 * `history` stay in the order the rehearsals ran.
 */
async function rehearsalStart(store: Store, now: number): Promise<number> {
  const latest = await store.latestPerObject();
  return Math.max(now, ...latest.map((d) => d.updatedAt + 1000));
}

/**
 * A deployment an earlier rehearsal left unfinished (interrupted) ran in a simulated world that
 * ended with its process: there is nothing to resume, so it is closed as failed, which also lets
 * this run deploy the same service.
 */
async function closeEndedRehearsals(store: Store): Promise<void> {
  for (const d of await store.activeDeployments()) {
    const message = "the rehearsal running this deployment ended before it finished; its simulated world ended with it";
    await store.updateDeployment(d.id, d.version, { phase: "Failed", reason: "RehearsalEnded", message }, [{ type: "RehearsalEnded", message }]).catch((e: unknown) => {
      if (!isStoreError(e)) throw e;
    });
  }
}

/** The store with only the deployments created from `since` on, for reading; writes go through. */
function recordedSince(store: Store, since: number): Store {
  const recent = (d: Deployment) => d.createdAt >= since;
  const reads: Partial<Store> = {
    latestDeployment: async (object, repository) => {
      const d = await store.latestDeployment(object, repository);
      return d && recent(d) ? d : undefined;
    },
    latestPerObject: async (filter) => (await store.latestPerObject(filter)).filter(recent),
    listDeployments: async (filter) => {
      const page = await store.listDeployments(filter);
      const items = page.items.filter(recent);
      return { items, nextCursor: items.length < page.items.length ? null : page.nextCursor };
    },
    activeDeployments: async () => (await store.activeDeployments()).filter(recent),
  };
  return new Proxy(store, {
    get(target, prop) {
      if (typeof prop === "string" && prop in reads) return reads[prop as keyof Store];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** `--simulator a.json,b.json`: one scenario per Region, as named on the command line. */
async function readScenarios(io: CliIO, simulator: string | boolean | undefined): Promise<Map<string, { scenario: Scenario; file: string }>> {
  const scenarios = new Map<string, { scenario: Scenario; file: string }>();
  for (const file of typeof simulator === "string" ? simulator.split(",").filter(Boolean) : []) {
    const scenario = await readScenarioFile(path.resolve(io.cwd, file), file);
    if (scenarios.has(scenario.region)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `two scenarios for Region ${scenario.region}: give one per Region` });
    scenarios.set(scenario.region, { scenario, file });
  }
  return scenarios;
}

/** `--store`, else FLOTILLA_STORE, else the default SQLite file under the working directory. */
export function storeLocation(io: CliIO, flag: string | undefined): string | undefined {
  return flag ?? (io.env["FLOTILLA_STORE"] || undefined);
}

/** The store a store-only verb reads: `--store`, else the rehearsal store with `--rehearsal`, else the usual one. */
export function chosenStore(flags: { store?: string; rehearsal?: boolean }): string | undefined {
  return flags.store ?? (flags.rehearsal ? REHEARSAL_STORE : undefined);
}

/**
 * Open a store named on the command line. The default files live in `.flotilla/` under the working
 * directory, which is usually a Git checkout: the folder gets a `.gitignore` of `*` when Flotilla
 * creates it, so the store is never committed by accident.
 */
async function openCliStore(io: CliIO, flag: string | undefined, clock?: { now(): number }): Promise<Store> {
  const location = storeLocation(io, flag);
  const file = location ?? DEFAULT_SQLITE_PATH;
  if (file !== ":memory:" && !isPostgresUrl(file) && path.basename(path.dirname(path.resolve(io.cwd, file))) === ".flotilla") {
    keepOutOfGit(path.dirname(path.resolve(io.cwd, file)));
  }
  return openStore({ location, cwd: io.cwd, ...(clock ? { clock } : {}) });
}

function keepOutOfGit(dir: string): void {
  if (existsSync(path.join(dir, ".gitignore"))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, ".gitignore"), "# Flotilla's local state (its store and Git mirrors): not for version control.\n*\n");
}

/** Open the store for one command, and close it whatever happens. */
export async function withStore(io: CliIO, location: string | undefined, fn: (s: Store) => Promise<number>): Promise<number> {
  const store = await openCliStore(io, location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
