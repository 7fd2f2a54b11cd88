/**
 * The engine a command runs on, from what its user chose: the store (a SQLite file, a postgres://
 * URL, or the default file under the working directory), and AWS or a rehearsal on the simulator.
 *
 * A rehearsal runs the given scenarios, plus any cluster the objects name (created empty the first
 * time a call names it), in virtual time that starts at the wall-clock time of the run — instantly,
 * or sped up by `speed`. Its records carry real dates, in the store the caller chose for rehearsals.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AwsCallObserver } from "../aws/sdk/call.ts";
import { ScaledClock, SystemClock, VirtualClock, type Clock } from "../core/clock.ts";
import { loadScenario, type Scenario } from "../sim/scenario.ts";
import type { Simulator } from "../sim/simulator.ts";
import { DEFAULT_SQLITE_PATH, isPostgresUrl, isStoreError, openStore } from "../store/index.ts";
import type { Store } from "../store/store.ts";
import type { Deployment } from "../store/types.ts";
import { sdkAws, simulatedAws } from "./aws.ts";
import { Engine, type EngineParts } from "./engine.ts";

export interface OpenEngineOptions {
  /** The store's location (`--store`, FLOTILLA_STORE); absent: the default SQLite file under `cwd`. */
  store: string | undefined;
  cwd: string;
  /** Rehearse on the simulator: the scenarios by Region (none: an empty world), and a speed (absent: as fast as possible). */
  rehearsal?: { scenarios: Map<string, { scenario: Scenario; file: string }>; speed?: number };
  /** Sees every AWS call (the server's metrics). */
  observe?: AwsCallObserver;
}

/** The engine of one command: it records in the store; close() closes the store. */
export class CommandEngine extends Engine {
  /**
   * The store as this run's world knows it, for deciding and resuming. Against AWS, the store. On
   * the simulator, only what this run records: each rehearsal starts a new world, so what earlier
   * rehearsals recorded (a service "already deployed", an object since removed) is history, not
   * the state of this world.
   */
  readonly worldStore: Store;
  /** The same clock and AWS, deciding and resuming from `worldStore`: what apply, rollback and the demo run on. */
  readonly world: Engine;
  /** The simulators of a rehearsal, by Region (empty against AWS). */
  readonly simulators: Map<string, Simulator>;

  constructor(parts: EngineParts & { worldStore: Store; simulators: Map<string, Simulator> }) {
    super(parts);
    this.worldStore = parts.worldStore;
    this.world = parts.worldStore === parts.store ? this : new Engine({ ...parts, store: parts.worldStore });
    this.simulators = parts.simulators;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export async function openEngine(options: OpenEngineOptions): Promise<CommandEngine> {
  const wall = new SystemClock();
  let clock: Clock = wall;
  // The store stamps records with the engine's clock, chosen once the store is open (below).
  const store = await openLocalStore(options.store, options.cwd, { now: () => clock.now() });
  const simulators = new Map<string, Simulator>();
  let worldStore = store;
  const rehearsal = options.rehearsal;
  if (rehearsal) {
    try {
      const start = await rehearsalStart(store, wall.now());
      clock = rehearsal.speed ? new ScaledClock(rehearsal.speed, start) : new VirtualClock({ autoAdvance: true, start });
      await closeEndedRehearsals(store);
      worldStore = recordedSince(store, start);
      for (const [region, { scenario, file }] of rehearsal.scenarios) simulators.set(region, loadScenario(scenario, clock, file));
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const aws = rehearsal ? simulatedAws({ clock, simulators, createMissingClusters: true, ...(options.observe ? { observe: options.observe } : {}) }) : sdkAws(clock, options.observe);
  return new CommandEngine({ clock, store, aws, worldStore, simulators });
}

/**
 * Open a store named on the command line. The default files live in `.flotilla/` under the working
 * directory, which is usually a Git checkout: the folder gets a `.gitignore` of `*` when Flotilla
 * creates it, so the store is never committed by accident.
 */
export async function openLocalStore(location: string | undefined, cwd: string, clock?: { now(): number }): Promise<Store> {
  const file = location ?? DEFAULT_SQLITE_PATH;
  if (file !== ":memory:" && !isPostgresUrl(file) && path.basename(path.dirname(path.resolve(cwd, file))) === ".flotilla") {
    keepOutOfGit(path.dirname(path.resolve(cwd, file)));
  }
  return openStore({ location, cwd, ...(clock ? { clock } : {}) });
}

function keepOutOfGit(dir: string): void {
  if (existsSync(path.join(dir, ".gitignore"))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, ".gitignore"), "# Flotilla's local state (its store and Git mirrors): not for version control.\n*\n");
}

/**
 * A rehearsal runs in virtual time from the wall-clock time of the run, so its records carry real
 * dates. Virtual time runs ahead of the wall clock (a 30-minute canary takes a second), so a
 * rehearsal started soon after another begins after the other's last record (and after the leases
 * of what it left running): ids, `status` and `history` stay in the order the rehearsals ran.
 */
async function rehearsalStart(store: Store, now: number): Promise<number> {
  const latest = await store.latestPerObject();
  // Also after the leases of deployments an earlier rehearsal left running: their process is gone.
  const leases = (await store.activeDeployments()).map((d) => (d.owner?.expiresAt ?? 0) + 1000);
  return Math.max(now, ...latest.map((d) => d.updatedAt + 1000), ...leases);
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
    activeDeployments: async (options) => (await store.activeDeployments(options)).filter(recent),
  };
  return new Proxy(store, {
    get(target, prop) {
      if (typeof prop === "string" && prop in reads) return reads[prop as keyof Store];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
