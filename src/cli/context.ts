/**
 * The options the AWS-facing verbs share, and the engine they run on (built by src/app/open.ts):
 * where the store is, and AWS or `--simulator [SCENARIO]`, a rehearsal on the built-in simulator.
 * Rehearsals keep their own store (`.flotilla/rehearsal.db`), so they never show in the real status,
 * history or rollback; `--rehearsal` on status, history and the control verbs reads it.
 */
import path from "node:path";
import type { Command } from "commander";
import { openEngine, openLocalStore, type CommandEngine } from "../app/open.ts";
import type { AwsCallObserver } from "../aws/sdk/call.ts";
import { FlotillaError } from "../core/problems.ts";
import { readScenarioFile } from "../sim/open.ts";
import type { Scenario } from "../sim/scenario.ts";
import { DEFAULT_SQLITE_PATH } from "../store/index.ts";
import type { Store } from "../store/store.ts";
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

/** The engine a verb runs on (src/app/open.ts): `world` decides and resumes, `store` has every record. */
export type Context = CommandEngine;

export async function openContext(io: CliIO, opts: AwsOptions, observe?: AwsCallObserver): Promise<Context> {
  const simulated = opts.simulator !== undefined && opts.simulator !== false;
  const speed = opts.speed ? Number(opts.speed) : undefined;
  if (speed !== undefined && !(speed > 0)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--speed must be a positive number, not ${opts.speed}` });
  // Scenario files are read before anything is opened: a bad one is FLT-SIM-SCENARIO (exit 2).
  const rehearsal = simulated ? { scenarios: await readScenarios(io, opts.simulator), ...(speed ? { speed } : {}) } : undefined;
  return openEngine({ store: storeLocation(io, opts.store ?? (simulated ? REHEARSAL_STORE : undefined)), cwd: io.cwd, ...(rehearsal ? { rehearsal } : {}), ...(observe ? { observe } : {}) });
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

/** Open the store for one command, and close it whatever happens. */
export async function withStore(io: CliIO, location: string | undefined, fn: (s: Store) => Promise<number>): Promise<number> {
  const store = await openLocalStore(storeLocation(io, location), io.cwd);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
