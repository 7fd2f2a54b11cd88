/**
 * Flotilla's circuit breaker keeps counting green's failed tasks after green was found stable:
 * while traffic shifts and while it bakes. A green that crashes at 20% rolls back like one that
 * crashes before the first shift. End to end on the simulator, in virtual time.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A live service on web:1, and web:late whose tasks exit `exitAfterMs` after they start running. */
async function liveWithLateCrash(exitAfterMs: number): Promise<BgWorld> {
  const world = await bgWorld();
  await world.deploy(bgSpec(world, "web:1"));
  world.shifts.length = 0;
  world.sim.faults.addImageFault({ image: "web:late", exitAfterMs, exitCode: 1 });
  return world;
}

describe("blue/green: the circuit breaker while traffic shifts and bakes", () => {
  it("Given green tasks that crash a minute and a half after starting, When they fail at 20% on green, Then the breaker trips, traffic goes back to blue and green is deleted", async () => {
    w = await liveWithLateCrash(90_000);
    const breaker = { gmDeploymentCircuitBreaker: { failureThreshold: 3 } };
    const d = await w.deploy(bgSpec(w, "web:late", { depdef: { ...breaker, trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 600 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /^\d+ green tasks failed \(Flotilla's circuit breaker threshold is 3\)/);
    assert.ok(d.counts.failed >= 3, `failed ${d.counts.failed}`);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20], "it never went past the canary");
    const failed = (await w.events(d)).find((e) => e.type === "Failed")!;
    assert.deepEqual(failed.data, { reason: "CircuitBreakerTripped", weight: 20 }, "it failed while 20% was on green");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
    await w.clock.sleep(300_000);
    assert.deepEqual((await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]], "green deleted (deleteNewUponTrafficShiftFailure)");
  });

  it("Given green tasks that crash during the bake, When they fail at 100%, Then the breaker trips before blue is removed and blue takes all traffic again", async () => {
    w = await liveWithLateCrash(120_000);
    const d = await w.deploy(bgSpec(w, "web:late", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 2 }, trafficShiftingConfig: { type: "ALL_AT_ONCE", waitInterval: 10 }, bakeTime: 900 } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.deepEqual(w.shifts.map(([, p]) => p), [100]);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.indexOf("Baking") < types.indexOf("Failed"), types.join(","));
    assert.ok(!types.includes("GreenPrimary"), "green was never made primary");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given Flotilla's breaker off, When green tasks crash while shifting, Then the failures are still counted on the record", async () => {
    w = await liveWithLateCrash(90_000);
    const off = { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 }, trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 300 } };
    const d = await w.deploy(bgSpec(w, "web:late", { depdef: off }));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.ok(d.counts.failed > 0, "the record counts green's failed tasks");
  });
});
