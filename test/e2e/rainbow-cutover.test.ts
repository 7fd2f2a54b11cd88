/**
 * Rainbow cutover and cut-back end to end on the simulator: the live route switches in one call per
 * listener, read back; the version is scaled to the live count and healthy first; alarms after the
 * switch cut back; who and when are recorded. Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { HOST, rainbowWorld, type RainbowWorldUnderTest } from "../helpers/rainbow.ts";
import { withElbv2 } from "../helpers/engine.ts";
import type { Effect } from "../../src/deploy/machine.ts";

let w: RainbowWorldUnderTest | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const LIVE = "app.example.com";

/** Count the ELB writes of the live route while running. */
function counting(world: RainbowWorldUnderTest) {
  const calls: string[] = [];
  const runner = world.newRunner({
    aws: withElbv2(world.sim.portsFactory(), (real) => ({
      modifyListener: (input) => {
        calls.push("ModifyListener");
        return real.modifyListener(input);
      },
      modifyRule: (input) => {
        calls.push("ModifyRule");
        return real.modifyRule(input);
      },
    })),
  });
  return { calls, runner };
}

describe("rainbow: cutover and cut-back", () => {
  it("Given v1 and v2 deployed and nothing live, When cut over to v1, Then every request for the live host reaches v1 and each version URL still reaches its own", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.deploy("v2");
    const { calls, runner } = counting(w);
    const d = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v1", by: "alice" } }, runner);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(d.strategy, "cutover");
    assert.deepEqual(calls, ["ModifyListener"], "one call switches the live route");
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
    assert.deepEqual(w.reach(HOST("v1")), ["web-v1"]);
    assert.deepEqual(w.reach(HOST("v2")), ["web-v2"]);
    assert.match(d.message ?? "", /version v1 is live \(was the listener's fixed response\); cut over by alice/);
    const cut = (await w.events(d)).find((e) => e.type === "CutOver")!;
    assert.deepEqual((cut.data as { version: string; by: string }).version, "v1");
    assert.equal((cut.data as { by: string }).by, "alice");
    assert.equal(typeof (cut.data as { at: number }).at, "number");
  });

  it("Given v1 live, When cut over to v2 and then back to v1, Then each switch is one call, needs no redeploy, and the live host follows", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.deploy("v2");
    await w.cutover("v1");
    const { calls, runner } = counting(w);
    const to2 = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v2", by: "bob" } }, runner);
    assert.equal(to2.phase, "Succeeded", `${to2.reason} ${to2.message}`);
    assert.deepEqual(w.reach(LIVE), ["web-v2"]);
    assert.match(to2.message ?? "", /version v2 is live \(was v1\); cut over by bob/);
    assert.deepEqual(calls, ["ModifyListener"]);
    const seen: Effect["type"][] = [];
    const back = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v1", by: "carol" } }, w.newRunner({ hooks: { beforeEffect: (e) => void seen.push(e.type) } }));
    assert.equal(back.phase, "Succeeded", `${back.reason} ${back.message}`);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
    assert.equal(seen.filter((t) => t === "setRoutes").length, 1);
    assert.ok(!seen.includes("registerTaskDefinition") && !seen.includes("createService"), `a cut-back deploys nothing: ${seen.join(", ")}`);
    assert.deepEqual(w.reach(HOST("v2")), ["web-v2"], "the version cut back from stays up");
  });

  it("Given a live version of 4 tasks and a new one of 2, When cut over, Then the new one is scaled to 4 and has 4 healthy targets before the route switches", async () => {
    w = await rainbowWorld();
    await w.deploy("v1", "web:v1", { svcdef: { desiredCount: 4 } });
    await w.cutover("v1");
    await w.deploy("v2", "web:v2", { svcdef: { desiredCount: 2 } });
    let healthyAtSwitch = -1;
    const runner = w.newRunner({
      hooks: {
        beforeEffect: (e) => {
          if (e.type === "setRoutes" && healthyAtSwitch < 0) {
            const tg = [...w!.sim.elb.targetGroups.values()].find((t) => t.name === "web-v2")!;
            healthyAtSwitch = [...tg.targets].filter((t) => t.state === "healthy").length;
          }
        },
      },
    });
    const d = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v2", by: "alice" } }, runner);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(healthyAtSwitch, 4);
    const svc = (await w.sim.ports().ecs.describeServices("apps", ["web-v2"])).services[0]!;
    assert.equal(svc.desiredCount, 4);
    assert.ok((await w.events(d)).some((e) => e.type === "Scaling" && /from 2 to 4/.test(e.message)));
  });

  it("Given scaleToLive off, Then the version keeps its own count", async () => {
    w = await rainbowWorld();
    await w.deploy("v1", "web:v1", { svcdef: { desiredCount: 4 } });
    await w.cutover("v1");
    await w.deploy("v2", "web:v2", { svcdef: { desiredCount: 2 } });
    const d = await w.cutover("v2", "alice", { rainbow: { scaleToLive: false } });
    assert.equal(d.phase, "Succeeded");
    assert.equal((await w.sim.ports().ecs.describeServices("apps", ["web-v2"])).services[0]!.desiredCount, 2);
  });

  it("Given alarms named in the depdef, When an alarm goes into ALARM after the cutover, Then the live route is cut back and the record says RolledBack with the alarm", async () => {
    w = await rainbowWorld({ alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    await w.deploy("v1");
    await w.cutover("v1");
    await w.deploy("v2");
    const alarms = { alarms: { alarmNames: ["web-5xx"] }, bakeTime: 300 };
    const runner = w.newRunner({
      onUpdate: (_d, events) => {
        if (events.some((e) => e.type === "CutOver")) w!.sim.alarms.schedule("web-5xx", w!.sim.elapsed() + 60_000, "ALARM", "5xx rate above 1%");
      },
    });
    const d = await w.run(w.spec(undefined, "web:1", { depdef: alarms }), "cutover", { rainbow: { version: "v2", by: "alice" } }, runner);
    assert.deepEqual([d.phase, d.reason], ["RolledBack", "AlarmFired"]);
    assert.match(d.message ?? "", /web-5xx went into ALARM after the cutover to v2: .*5xx rate above 1%; the live route was put back \(v1\)/);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
    assert.ok((await w.events(d)).some((e) => e.type === "CutBack"));
  });

  it("Given an alarm already in ALARM before the cutover (the reason for cutting back), Then it does not undo the cut-back", async () => {
    w = await rainbowWorld({ alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    await w.deploy("v1");
    await w.deploy("v2");
    await w.cutover("v1");
    await w.cutover("v2");
    w.sim.alarms.schedule("web-5xx", w.sim.elapsed() + 1000, "ALARM", "v2 is broken");
    await w.clock.sleep(5000);
    const d = await w.cutover("v1", "alice", { depdef: { alarms: { alarmNames: ["web-5xx"] }, bakeTime: 60 } });
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
  });

  it("Given a version that is not deployed, Then the cutover fails VersionNotFound and the live route is unchanged", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.cutover("v1");
    const d = await w.cutover("v9");
    assert.deepEqual([d.phase, d.reason], ["Failed", "VersionNotFound"]);
    assert.match(d.message ?? "", /version v9 of apps\/web\/web cannot be cut over to: nothing of it exists/);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
  });

  it("Given the live version, When cut over to it again, Then nothing is switched", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.cutover("v1");
    const { calls, runner } = counting(w);
    const d = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v1", by: "alice" } }, runner);
    assert.equal(d.phase, "Succeeded");
    assert.match(d.message ?? "", /already live/);
    assert.deepEqual(calls, []);
  });

  it("Given an endpoint that accepts the switch but does not apply it, Then the read-back fails the cutover CutoverNotVerified and the route is put back", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.deploy("v2");
    await w.cutover("v1");
    const ignoring = w.newRunner({ aws: withElbv2(w.sim.portsFactory(), (real) => ({ modifyListener: async (input) => (await real.describeListeners({ listenerArns: [input.listenerArn] }))[0]! })) });
    const d = await w.run(w.spec(undefined), "cutover", { rainbow: { version: "v2", by: "alice" } }, ignoring);
    assert.deepEqual([d.phase, d.reason], ["Failed", "CutoverNotVerified"]);
    assert.match(d.message ?? "", /the live route was set to version v2, but reading the routes back shows listener .* sends 0% to web-v2, expected 100%/);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
  });

  it("Given a live rule named in the block, Then the cutover changes that rule with one ModifyRule and leaves the listener's default action alone", async () => {
    w = await rainbowWorld({ rules: [{ priority: 40000, conditions: [{ Field: "host-header", HostHeaderConfig: { Values: [LIVE] } }], actions: [{ targetGroup: "other" }] }] });
    const liveRuleArn = [...w.sim.elb.rules.values()][0]!.arn;
    const over = { rainbow: { listeners: [{ listenerArn: w.listenerArn, liveRuleArn }] } };
    await w.deploy("v1", "web:v1", over);
    const { calls, runner } = counting(w);
    const d = await w.run(w.spec(undefined, "web:1", over), "cutover", { rainbow: { version: "v1", by: "alice" } }, runner);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.deepEqual(calls, ["ModifyRule"]);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
    assert.deepEqual(w.answer("elsewhere.example.com").status, 404, "the default action is untouched");
    assert.deepEqual(w.reach(HOST("v1")), ["web-v1"]);
  });

  it("Given cutover AUTOMATIC, When a version is deployed, Then it goes live in the same deployment once healthy", async () => {
    w = await rainbowWorld();
    const auto = { rainbow: { cutover: "AUTOMATIC" } };
    await w.deploy("v1", "web:v1", auto);
    const d = await w.deploy("v2", "web:v2", auto);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(d.strategy, "rainbow");
    assert.deepEqual(w.reach(LIVE), ["web-v2"]);
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.indexOf("VersionReady") < types.indexOf("CutOver"), types.join(", "));
  });

  it("Given an operator abort while the alarms are watched, Then the route is cut back and the cutover ends Aborted", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.cutover("v1");
    await w.deploy("v2");
    const runner = w.newRunner({
      onUpdate: (d, events) => {
        if (events.some((e) => e.type === "WatchingAlarms")) void w!.store.requestControl(d.id, "abort", "dave");
      },
    });
    const d = await w.run(w.spec(undefined, "web:1", { depdef: { alarms: { alarmNames: ["web-5xx"] }, bakeTime: 600 } }), "cutover", { rainbow: { version: "v2", by: "alice" } }, runner);
    assert.deepEqual([d.phase, d.reason], ["Aborted", "Aborted"]);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
  });

  it("Given an alarm name that does not exist, Then the cutover stops before the switch: AlarmNotFound, the live route unchanged", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.cutover("v1");
    await w.deploy("v2");
    const d = await w.cutover("v2", "alice", { depdef: { alarms: { alarmNames: ["web-5xx", "web-typo"] } } });
    assert.deepEqual([d.phase, d.reason], ["Failed", "AlarmNotFound"]);
    assert.match(d.message ?? "", /alarm web-typo does not exist in us-east-1/);
    assert.deepEqual(w.reach(LIVE), ["web-v1"]);
  });
});
