/**
 * Crash safety of blue/green: the process dies before or after every effect of a LINEAR deployment
 * (good image, and one whose alarm fires mid-way); a new runner resumes. Each time:
 *   - the deployment ends Succeeded (good) or RolledBack (bad), never stuck;
 *   - exactly one task set is left, PRIMARY (no orphan green, no two sets with split traffic);
 *   - every listener sends 100% to that task set's target group, which has running tasks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Runner } from "../../src/deploy/runner.ts";
import { DEFAULT_LEASE_TTL_MS } from "../../src/deploy/ownership.ts";
import type { Effect } from "../../src/deploy/machine.ts";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";

class Crash extends Error {}
const LINEAR = { trafficShiftingConfig: { type: "LINEAR", percent: 34, waitInterval: 30 } };
const BAD_ALARM = [{ name: "web-5xx", when: { imageServing: "web:bad", minTrafficPercent: 60, for: "10s" } }];

async function world(alarms?: unknown[]): Promise<BgWorld> {
  const w = await bgWorld(alarms ? { alarms } : {});
  await w.deploy(bgSpec(w, "web:1"));
  return w;
}

async function effectsOf(image: string, alarms?: unknown[]): Promise<Effect["type"][]> {
  const w = await world(alarms);
  const seen: Effect["type"][] = [];
  const runner = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, hooks: { beforeEffect: (e) => void seen.push(e.type) } });
  await runner.run(await runner.create(bgSpec(w, image, { depdef: LINEAR }), { strategy: "bluegreen" }));
  await w.close();
  return seen;
}

async function crashThenResume(image: string, at: number, when: "before" | "after", alarms?: unknown[]) {
  const w = await world(alarms);
  let n = 0;
  const crash = () => {
    if (++n === at) throw new Crash();
  };
  const dying = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, hooks: when === "before" ? { beforeEffect: crash } : { afterEffect: crash } });
  await assert.rejects(dying.run(await dying.create(bgSpec(w, image, { depdef: LINEAR }), { strategy: "bluegreen" })), Crash);
  await w.clock.sleep(DEFAULT_LEASE_TTL_MS); // the dead process's lease runs out
  const [settled, ...more] = await new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock }).resumeAll();
  assert.equal(more.length, 0);
  assert.equal(settled!.error, undefined, "the resumed deployment runs to its end without an exception");
  const d = settled!.deployment;
  await w.clock.sleep(600_000); // let drained task sets go
  const sets = await w.taskSets();
  const weights = await w.weights();
  const running = (await w.sim.ports().ecs.describeTaskSets({ cluster: "apps", service: "web" })).map((t) => t.runningCount);
  await w.close();
  return { d, sets, weights, running };
}

describe("blue/green deployments survive a crash at any instant", async () => {
  const good = await effectsOf("web:2");
  const bad = await effectsOf("web:bad", BAD_ALARM);

  it(`a LINEAR run has the effects we crash at (${good.length} good, ${bad.length} bad)`, () => {
    for (const t of ["createTaskSet", "setRoutes", "updateServicePrimaryTaskSet", "deleteTaskSet"] as const) assert.ok(good.includes(t), t);
    assert.ok(bad.includes("setRoutes") && bad.includes("deleteTaskSet"));
  });

  for (const when of ["before", "after"] as const) {
    it(`good image, crash ${when} each effect: Succeeded, one PRIMARY task set on green with all traffic`, async () => {
      for (let at = 1; at <= good.length; at++) {
        const { d, sets, weights, running } = await crashThenResume("web:2", at, when);
        const label = `crash ${when} effect ${at} (${good[at - 1]})`;
        assert.equal(d.phase, "Succeeded", `${label}: ${d.reason} ${d.message}`);
        assert.deepEqual(sets.map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-green"]]], label);
        assert.equal(sets[0]!.taskDefinition, d.newTaskDefinitionArn, `${label}: green runs the revision the record names`);
        assert.deepEqual(weights["443"], { "web-blue": 0, "web-green": 100 }, label);
        assert.ok(running[0]! > 0, `${label}: the target group with traffic has tasks`);
      }
    });
    it(`bad image, crash ${when} each effect: RolledBack, one PRIMARY task set on blue with all traffic`, async () => {
      for (let at = 1; at <= bad.length; at++) {
        const { d, sets, weights, running } = await crashThenResume("web:bad", at, when, BAD_ALARM);
        const label = `crash ${when} effect ${at} (${bad[at - 1]})`;
        assert.equal(d.phase, "RolledBack", `${label}: ${d.reason} ${d.message}`);
        assert.deepEqual(sets.map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]], label);
        assert.deepEqual(weights["443"], { "web-blue": 100, "web-green": 0 }, label);
        assert.ok(running[0]! > 0, label);
      }
    });
  }
});

describe("a blue/green service created across a crash", () => {
  it("keeps both groups of its pair on its listeners at every crash point, so the next deployment creates green and succeeds", async () => {
    const probe = await bgWorld();
    const seen: Effect["type"][] = [];
    const counting = new Runner({ store: probe.store, aws: probe.sim.portsFactory(), clock: probe.clock, hooks: { beforeEffect: (e) => void seen.push(e.type) } });
    await counting.run(await counting.create(bgSpec(probe, "web:1"), { strategy: "bluegreen" }));
    await probe.close();
    for (const when of ["before", "after"] as const) {
      for (let at = 1; at <= seen.length; at++) {
        const w = await bgWorld();
        let n = 0;
        const crash = () => {
          if (++n === at) throw new Crash();
        };
        const dying = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, hooks: when === "before" ? { beforeEffect: crash } : { afterEffect: crash } });
        await assert.rejects(dying.run(await dying.create(bgSpec(w, "web:1"), { strategy: "bluegreen" })), Crash);
        await w.clock.sleep(DEFAULT_LEASE_TTL_MS);
        const [created] = await new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock }).resumeAll();
        const label = `crash ${when} effect ${at} (${seen[at - 1]})`;
        assert.equal(created!.deployment.phase, "Succeeded", `${label}: ${created!.deployment.reason} ${created!.deployment.message}`);
        assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 }, `${label}: web-green is still on the listener`);
        const next = await w.deploy(bgSpec(w, "web:2"));
        assert.equal(next.phase, "Succeeded", `${label}, then web:2: ${next.reason} ${next.message}`);
        await w.close();
      }
    }
  });
});
