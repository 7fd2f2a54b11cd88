/**
 * Operator controls of a runner's waiting deployments are read in one store query per control poll
 * (src/deploy/control-watch.ts), not one per deployment: 20 deployments waiting for slow tasks
 * cost the store one look every 5 s. A control still reaches its deployment within a poll.
 * On the simulator, in virtual time, counting the store's calls.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { depdefSchema } from "../../src/config/depdef.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { fleetScenario } from "../helpers/fleet.ts";

const spec = (i: number): DeploySpec => ({
  object: `apps/svc${i}/svc${i}`,
  region: "us-east-1",
  cluster: "apps",
  service: `svc${i}`,
  svcdef: { cluster: "apps", serviceName: `svc${i}`, desiredCount: 2, launchType: "FARGATE", deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 } },
  taskdef: { family: `svc${i}`, containerDefinitions: [{ name: "app", image: "app:2", essential: true }] },
  depdef: depdefSchema.parse({ stabilityCheck: { pollInterval: 15, timeout: 1800 } }),
});

/** The store, counting the calls that look for controls. */
function counting(store: Store, calls: Map<string, number>): Store {
  return new Proxy(store, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (key === "pendingControls" || key === "deploymentsWithPendingControls") calls.set(key, (calls.get(key) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

describe("operator controls, one look for every waiting deployment", () => {
  it("Given 20 deployments waiting for slow tasks, Then the store is asked for controls once per control poll, and an abort still reaches its deployment within a poll", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sim = loadScenario(fleetScenario(20, { faults: [{ image: "app:2", startDelay: "10m" }] }), clock);
    const store = await openSqliteStore({ path: ":memory:", clock });
    const calls = new Map<string, number>();
    try {
      const runner = new Runner({ store: counting(store, calls), aws: () => sim.ports(), clock, controlPollMs: 5000 });
      const created = await Promise.all(Array.from({ length: 20 }, (_, i) => runner.create(spec(i), { strategy: "rolling" })));
      const runs = created.map((d) => runner.run(d));
      await clock.sleep(120_000); // updated and waiting
      calls.clear();
      await clock.sleep(60_000);
      assert.ok((calls.get("deploymentsWithPendingControls") ?? 0) <= 60 / 5 + 1, `one look per 5 s: ${calls.get("deploymentsWithPendingControls")}`);
      assert.equal(calls.get("pendingControls") ?? 0, 0, "no deployment asks for its own while nothing is pending");
      const requestedAt = clock.now();
      await store.requestControl(created[3]!.id, "abort", "alice");
      const aborted = await runs[3]!;
      assert.equal(aborted.phase, "Aborted", `${aborted.reason}: ${aborted.message}`);
      const events = await store.listEvents(aborted.id);
      const rollback = events.find((e) => e.type === "RollbackStarted" || e.type === "Aborted")!;
      assert.ok(rollback.at - requestedAt <= 5000 + 1000, `acted on ${(rollback.at - requestedAt) / 1000} s after the request`);
      const others = await Promise.all(runs.filter((_, i) => i !== 3));
      assert.deepEqual([...new Set(others.map((d) => d.phase))], ["Succeeded"]);
    } finally {
      await store.close();
    }
  });
});
