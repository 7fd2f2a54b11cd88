/**
 * Blue/green deployments end to end on the simulator, in virtual time. Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";
import { rollbackObject } from "../../src/controller/rollback.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

async function live(world: BgWorld) {
  await world.deploy(bgSpec(world, "web:1"));
  world.shifts.length = 0;
}

describe("blue/green deployments", () => {
  it("Given no service, When deployed, Then the service and its first task set are created and take all traffic", async () => {
    w = await bgWorld();
    const d = await w.deploy(bgSpec(w, "web:1"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const sets = await w.taskSets();
    assert.deepEqual(sets.map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]]);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given a live service, When a CANARY deploys, Then weights go 20% then 100% a waitInterval apart, green becomes PRIMARY and blue is deleted", async () => {
    w = await bgWorld();
    await live(w);
    const d = await w.deploy(bgSpec(w, "web:2"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20, 100]);
    assert.equal(w.shifts[1]![0] - w.shifts[0]![0], 60, "waitInterval between the steps");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 0, "web-green": 100 });
    assert.deepEqual(await w.ruleWeights(), { "10": { "web-blue": 0, "web-green": 100 } }, "the listener rule moved too");
    await w.clock.sleep(300_000);
    const sets = await w.taskSets();
    assert.deepEqual(sets.map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-green"]]]);
    assert.match(sets[0]!.taskDefinition, /web:2$/);
    assert.equal(d.trafficWeight, 100);
  });

  it("LINEAR 25% moves 25, 50, 75, 100 with a wait after each; the next deployment uses the other target group", async () => {
    w = await bgWorld();
    await live(w);
    const linear = { trafficShiftingConfig: { type: "LINEAR", percent: 25, waitInterval: 30 } };
    assert.equal((await w.deploy(bgSpec(w, "web:2", { depdef: linear }))).phase, "Succeeded");
    assert.deepEqual(w.shifts.map(([, p]) => p), [25, 50, 75, 100]);
    assert.deepEqual(w.shifts.slice(1).map(([t], i) => t - w!.shifts[i]![0]), [30, 30, 30]);
    w.shifts.length = 0;
    await w.clock.sleep(300_000);
    assert.equal((await w.deploy(bgSpec(w, "web:3", { depdef: linear }))).phase, "Succeeded");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 }, "back on the first member");
    await w.clock.sleep(300_000);
    assert.deepEqual((await w.taskSets()).map((s) => s.targetGroups), [["web-blue"]]);
  });

  it("ALL_AT_ONCE and explicit steps", async () => {
    w = await bgWorld();
    await live(w);
    await w.deploy(bgSpec(w, "web:2", { depdef: { trafficShiftingConfig: { type: "ALL_AT_ONCE", waitInterval: 10 } } }));
    assert.deepEqual(w.shifts.map(([, p]) => p), [100]);
    w.shifts.length = 0;
    await w.clock.sleep(300_000);
    await w.deploy(bgSpec(w, "web:3", { depdef: { trafficShiftingConfig: { steps: [5, 50, 100], waitInterval: 10 } } }));
    assert.deepEqual(w.shifts.map(([, p]) => p), [5, 50, 100]);
  });

  it("Given an alarm that fires when the new image takes traffic, Then traffic returns to blue, green is deleted, and the record names the check and weight", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", when: { imageServing: "web:bad", minTrafficPercent: 1, for: "20s" } }] });
    await live(w);
    const d = await w.deploy(bgSpec(w, "web:bad"));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "AlarmFired");
    assert.match(d.message ?? "", /web-5xx went into ALARM at 20% on green/);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20]);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
    assert.deepEqual(await w.ruleWeights(), { "10": { "web-blue": 100, "web-green": 0 } }, "the rule is restored too");
    await w.clock.sleep(300_000);
    assert.deepEqual((await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]]);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("TrafficRestored"));
  });

  it("Given an alarm mid-LINEAR, Then it rolls back from that weight", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    await live(w);
    const start = w.clock.now();
    // Fire the alarm 75 s into the deployment: after the 50% step of a 25%/30 s LINEAR.
    w.sim.alarms.schedule("web-5xx", w.sim.elapsed() + 105_000, "ALARM", "5xx rate above 1%");
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: { trafficShiftingConfig: { type: "LINEAR", percent: 25, waitInterval: 30 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "AlarmFired");
    const last = w.shifts.at(-1)![1];
    assert.ok(last > 25 && last < 100, `rolled back mid-way (last weight ${last}, after ${(w.clock.now() - start) / 1000}s)`);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given an alarm during the bake, Then it rolls back from 100%", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", when: { imageServing: "web:bad", minTrafficPercent: 100, for: "30s" } }] });
    await live(w);
    const d = await w.deploy(bgSpec(w, "web:bad", { depdef: { trafficShiftingConfig: { type: "ALL_AT_ONCE", waitInterval: 10 }, bakeTime: 300 } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.match(d.message ?? "", /during the bake/);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given green tasks that fail to start, Then the circuit breaker stops it before any traffic moves", async () => {
    w = await bgWorld({ faults: { images: [{ image: "web:nopull", pullFails: true }] } });
    await live(w);
    const d = await w.deploy(bgSpec(w, "web:nopull", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 3 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.deepEqual(w.shifts, []);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given green tasks that crash 40s after RUNNING, after ECS reports the set STEADY_STATE, Then no traffic moves: green must stay healthy for the grace period plus one health-check interval", async () => {
    w = await bgWorld();
    await live(w);
    w.sim.faults.addImageFault({ image: "web:late", exitAfterMs: 40_000 });
    const d = await w.deploy(bgSpec(w, "web:late", { svcdef: { healthCheckGracePeriodSeconds: 30 } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.ok((await w.events(d)).some((x) => x.type === "Progress" && /STEADY_STATE/.test(x.message)), "ECS did report green STEADY_STATE before the crash");
    assert.deepEqual(w.shifts, [], "no traffic went to green");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given a missing alarm name, Then it fails before anything changes", async () => {
    w = await bgWorld();
    await live(w);
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: { alarms: { alarmNames: ["web-5xx", "nope"] } } }));
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "AlarmNotFound");
    assert.equal(d.newTaskDefinitionArn, null);
    assert.equal((await w.taskSets()).length, 1);
  });

  it("Given a service without a load balancer, Then green replaces blue with no shifting", async () => {
    w = await bgWorld();
    const spec = (image: string) => bgSpec(w!, image, { service: "jobs", svcdef: { loadBalancers: undefined }, depdef: { targetGroupArnPairs: [], alarms: { alarmNames: [] } } });
    assert.equal((await w.deploy(spec("jobs:1"))).phase, "Succeeded");
    const d = await w.deploy(spec("jobs:2"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(w.shifts, []);
    await w.clock.sleep(300_000);
    const sets = await w.taskSets("jobs");
    assert.equal(sets.length, 1);
    assert.match(sets[0]!.taskDefinition, /jobs:2$/);
  });

  it("Given two target group pairs on two listeners, Then both move together", async () => {
    w = await bgWorld();
    const two = (image: string) =>
      bgSpec(w!, image, {
        svcdef: {
          loadBalancers: [
            { targetGroupArn: w!.tg("web-blue"), containerName: "app", containerPort: 8080 },
            { targetGroupArn: w!.tg("api-blue"), containerName: "app", containerPort: 8080 },
          ],
        },
        depdef: { targetGroupArnPairs: [[w!.tg("web-blue"), w!.tg("web-green")], [w!.tg("api-blue"), w!.tg("api-green")]] },
      });
    await w.deploy(two("web:1"));
    let mid: Record<string, Record<string, number>> | undefined;
    const d = await (async () => {
      const created = await w.runner.create(two("web:2"), { strategy: "bluegreen" });
      let done = false;
      const run = w.runner.run(created).finally(() => (done = true));
      // Sample the listeners during the 20% wait (60 s long; 5 s samples cannot miss it).
      while (!mid && !done) {
        await w.clock.sleep(5_000);
        if (w.shifts.at(-1)?.[1] === 20) mid = await w.weights();
      }
      return run;
    })();
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(mid, { "443": { "web-blue": 80, "web-green": 20 }, "8443": { "api-blue": 80, "api-green": 20 } });
    assert.deepEqual(await w.weights(), { "443": { "web-blue": 0, "web-green": 100 }, "8443": { "api-blue": 0, "api-green": 100 } });
  });
  it("Given a blue/green object with two successful deployments, When rolled back, Then the previous revision is deployed blue/green with the object's depdef", async () => {
    w = await bgWorld();
    await live(w);
    await w.deploy(bgSpec(w, "web:2"));
    w.shifts.length = 0;
    const d = await rollbackObject(w.store, w.runner, "apps/web/web", "tester", w.clock);
    assert.equal(d.strategy, "bluegreen");
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.match(d.newTaskDefinitionArn ?? "", /web:1$/, "the revision before the last update, not a new registration");
    assert.match(d.oldTaskDefinitionArn ?? "", /web:2$/);
    assert.deepEqual(d.overrides.map((o) => [o.name, o.setBy]), [["rollback", "tester"]]);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20, 100], "the depdef's CANARY shifting, as for any deployment");
    await w.clock.sleep(300_000);
    const sets = await w.taskSets();
    assert.deepEqual(sets.map((s) => [s.status, s.taskDefinition.replace(/.*\//, ""), s.targetGroups]), [["PRIMARY", "web:1", ["web-blue"]]]);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });
});
