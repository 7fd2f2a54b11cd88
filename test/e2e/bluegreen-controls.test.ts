/**
 * Operator controls and overrides on running blue/green deployments, through the store (as the CLI
 * and API send them), and manual changes made in the middle of a deployment.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ControlAction, Deployment, NewEvent } from "../../src/store/types.ts";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";
import { parseOverrideTrailers } from "../../src/controller/overrides.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A world that sends `action` to the running deployment as soon as it reaches `weight`% on green. */
async function worldWithControl(action: ControlAction, weight: number, extra: Parameters<typeof bgWorld>[0] = {}) {
  let sent = false;
  const world = await bgWorld({
    ...extra,
    onEvent: (d: Deployment, events: readonly NewEvent[], self: BgWorld) => {
      if (!sent && events.some((e) => e.type === "Shifted" && (e.data as { weight: number }).weight === weight)) {
        sent = true;
        void self.store.requestControl(d.id, action, "alice");
      }
    },
  });
  await world.deploy(bgSpec(world, "web:1"));
  world.shifts.length = 0;
  return world;
}
const linear = { trafficShiftingConfig: { type: "LINEAR", percent: 20, waitInterval: 300 }, bakeTime: 600 };

describe("operator controls on a blue/green deployment", () => {
  it("promote skips the remaining waits and the bake", async () => {
    w = await worldWithControl("promote", 20);
    const start = w.clock.now();
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: linear }));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20, 100]);
    assert.ok(w.clock.now() - start < 300_000, "far less than the 20 minutes of waits and bake");
    const promote = (await w.events(d)).find((e) => e.type === "Promote")!;
    assert.match(promote.message, /alice/);
  });

  it("abort rolls back now: traffic on blue, green deleted, phase Aborted", async () => {
    w = await worldWithControl("abort", 40);
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: linear }));
    assert.equal(d.phase, "Aborted", `${d.reason}: ${d.message}`);
    assert.match(d.message ?? "", /aborted by alice/);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20, 40]);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
    await w.clock.sleep(300_000);
    assert.deepEqual((await w.taskSets()).map((s) => s.targetGroups), [["web-blue"]]);
  });

  it("pause holds the weight until resume, then the wait continues", async () => {
    w = await worldWithControl("pause", 20);
    let resumedAt = 0;
    const run = (async () => {
      const created = await w.runner.create(bgSpec(w, "web:2", { depdef: { trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 60 } } }), { strategy: "bluegreen" });
      return w.runner.run(created);
    })();
    // Let it sit paused for an hour of simulated time, then resume.
    await w.clock.sleep(3_600_000);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20], "still at 20% after an hour");
    const active = (await w.store.activeDeployments())[0]!;
    resumedAt = w.clock.now();
    await w.store.requestControl(active.id, "resume", "bob");
    const d = await run;
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(w.shifts.map(([, p]) => p), [20, 100]);
    assert.ok(w.shifts[1]![0] - w.shifts[0]![0] > 3000, "100% only after the long pause and the resume (unpaused it would be 60 s)");
    assert.ok(resumedAt > 0);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("Paused") && types.includes("Resumed"));
  });

  it("the skip-alarms override lets a deployment through a firing alarm, and is recorded", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "ALARM" }] }] });
    await w.deploy(bgSpec(w, "web:1"));
    const blocked = await w.deploy(bgSpec(w, "web:2"));
    assert.equal(blocked.reason, "AlarmFiringBeforeStart");
    const created = await w.runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen", overrides: [{ name: "skip-alarms", setBy: "carol", source: "cli", at: w.clock.now() }] });
    const d = await w.runner.run(created);
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(d.overrides.map((o) => [o.name, o.setBy, o.source]), [["skip-alarms", "carol", "cli"]]);
  });

  it("the all-at-once override from a commit trailer goes straight to 100%", async () => {
    w = await bgWorld();
    await w.deploy(bgSpec(w, "web:1"));
    w.shifts.length = 0;
    const overrides = parseOverrideTrailers("Fix the outage\n\nFlotilla-Override: all-at-once\n", "abc1234", 0);
    assert.deepEqual(overrides.map((o) => [o.name, o.setBy, o.source]), [["all-at-once", "commit abc1234", "trailer"]]);
    const d = await w.runner.run(await w.runner.create(bgSpec(w, "web:2", { depdef: linear }), { strategy: "bluegreen", overrides }));
    assert.equal(d.phase, "Succeeded");
    assert.deepEqual(w.shifts.map(([, p]) => p), [100]);
  });

  it("weights moved by hand mid-deployment pause it instead of fighting; abort then restores blue", async () => {
    let tampered = false;
    w = await bgWorld({
      onEvent: (d, events, self) => {
        if (events.some((e) => e.type === "ManualChange")) void self.store.requestControl(d.id, "abort", "dave");
        if (!tampered && events.some((e) => e.type === "Shifted" && (e.data as { weight: number }).weight === 20)) {
          tampered = true;
          // An operator moves traffic by hand, a little after Flotilla's shift.
          void (async () => {
            await self.clock.sleep(15_000);
            const ports = self.sim.ports();
            const [tg] = await ports.elbv2.describeTargetGroups({ targetGroupArns: [self.tg("web-blue")] });
            const [listener] = (await ports.elbv2.describeListeners({ loadBalancerArn: tg!.loadBalancerArns[0]! })).filter((l) => l.port === 443);
            await ports.elbv2.modifyListener({ listenerArn: listener!.listenerArn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: self.tg("web-blue"), weight: 50 }, { targetGroupArn: self.tg("web-green"), weight: 50 }] } }] });
          })();
        }
      },
    });
    await w.deploy(bgSpec(w, "web:1"));
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: linear }));
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("ManualChange"), types.join(","));
    assert.equal(d.phase, "Aborted");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("a green task set deleted by hand stops the deployment with traffic back on blue", async () => {
    let deleted = false;
    w = await bgWorld({
      onEvent: (_d, events, self) => {
        if (!deleted && events.some((e) => e.type === "Shifted")) {
          deleted = true;
          void (async () => {
            await self.clock.sleep(5_000);
            const green = (await self.sim.ports().ecs.describeTaskSets({ cluster: "apps", service: "web" })).find((t) => t.status !== "PRIMARY")!;
            await self.sim.ports().ecs.deleteTaskSet({ cluster: "apps", service: "web", taskSet: green.id, force: true });
          })();
        }
      },
    });
    await w.deploy(bgSpec(w, "web:1"));
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: linear }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "GreenTaskSetGone");
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });
});
