/**
 * Replicas of `flotilla serve` inside one test process, in virtual time: each a controller (the
 * engine a replica runs) on the shared store and simulated AWS, its calls through its own switch
 * (switch.ts) so that it can be killed or stalled.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Engine } from "../../src/app/engine.ts";
import type { Controller, ControllerOptions } from "../../src/controller/controller.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import type { Store } from "../../src/store/store.ts";
import { TestRemote } from "./git-remote.ts";
import { TEST_POLICY } from "./policy.ts";
import { Switch } from "./switch.ts";

export interface VirtualReplica {
  controller: Controller;
  sw: Switch;
  /** Removes the replica's data directory (its mirrors). */
  cleanup(): void;
}

/**
 * A replica named `holder` on the world's store and simulator. `store` wraps the store it sees
 * (after its switch), to inject a crash at a given call.
 */
export function virtualReplica(world: { clock: VirtualClock; store: Store; sim: Simulator }, holder: string, options: Partial<Omit<ControllerOptions, "store" | "aws" | "clock">> & { store?: (store: Store, sw: Switch) => Store } = {}): VirtualReplica {
  const { store: wrapStore, ...controllerOptions } = options;
  const sw = new Switch(world.clock);
  const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-replica-"));
  const switched = sw.wrap<Store>(world.store);
  const engine = new Engine({ clock: world.clock, store: wrapStore ? wrapStore(switched, sw) : switched, aws: sw.ports(world.sim.portsFactory()) });
  const controller = engine.controller({ dataDir, holder, policy: TEST_POLICY, concurrency: 4, allowDelete: false, maxDeleteFraction: 0.5, ...controllerOptions });
  return { controller, sw, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Wait in virtual time (a second at a time) until `check` answers. */
export async function untilVirtual<T>(clock: VirtualClock, what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 20_000; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await clock.sleep(1000);
  }
  throw new Error(`never: ${what}`);
}

/** A Git remote registered in the store as repository `apps` (branch main, polled every 5 s unless said). */
export async function registeredRemote(store: Store, pollIntervalSeconds = 5): Promise<TestRemote> {
  const remote = new TestRemote();
  await store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds });
  return remote;
}
