/**
 * Crash safety of ECS-managed deployments: the process dies before or after each kind of effect of
 * a LINEAR deployment (a good image, and one whose alarm makes Flotilla stop it mid-way); a new
 * runner resumes. Each time the deployment ends Succeeded (good) or RolledBack (bad), never stuck,
 * ECS ran exactly one service deployment of the new revision (a resumed UpdateService is looked for
 * before it is repeated), and production traffic is all on the revision the record says serves.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Runner } from "../../src/deploy/runner.ts";
import type { Effect } from "../../src/deploy/machine.ts";
import { managedSpec, managedWorld, type ManagedWorld } from "../helpers/managed.ts";

class Crash extends Error {}
const LINEAR = { strategy: "LINEAR" as const, depdef: { alarms: { alarmNames: ["web-5xx"] } } };
const BAD_ALARM = [{ name: "web-5xx", when: { imageServing: "web:bad", minTrafficPercent: 40, for: "10s" } }];

async function world(alarms?: unknown[]): Promise<ManagedWorld> {
  const w = await managedWorld({ alarms: alarms ?? [{ name: "web-5xx" }] });
  const first = await w.deploy(managedSpec(w, "web:1", LINEAR));
  assert.equal(first.phase, "Succeeded", `${first.reason}: ${first.message}`);
  return w;
}

/** The first occurrence of each kind of effect in a run, by position: where the crashes go. */
async function effectsOf(image: string, alarms?: unknown[]): Promise<{ at: number; type: Effect["type"] }[]> {
  const w = await world(alarms);
  const seen: Effect["type"][] = [];
  const runner = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, hooks: { beforeEffect: (e) => void seen.push(e.type) } });
  await runner.run(await runner.create(managedSpec(w, image, LINEAR), { strategy: "ecs-managed" }));
  await w.close();
  const first = new Map<Effect["type"], number>();
  seen.forEach((t, i) => first.has(t) || first.set(t, i + 1));
  return [...first].map(([type, at]) => ({ type, at }));
}

async function crashThenResume(image: string, at: number, when: "before" | "after", alarms?: unknown[]) {
  const w = await world(alarms);
  let n = 0;
  const crash = () => {
    if (++n === at) throw new Crash();
  };
  const dying = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, hooks: when === "before" ? { beforeEffect: crash } : { afterEffect: crash } });
  await assert.rejects(dying.run(await dying.create(managedSpec(w, image, LINEAR), { strategy: "ecs-managed" })), Crash);
  const [settled, ...more] = await new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock }).resumeAll();
  assert.equal(more.length, 0);
  assert.equal(settled!.error, undefined, "the resumed deployment runs to its end without an exception");
  const d = settled!.deployment;
  const ecs = w.sim.ports().ecs;
  const deployments = await ecs.listServiceDeployments({ cluster: "apps", service: "web" });
  const revisions = (await ecs.describeServiceRevisions(deployments.map((x) => x.targetServiceRevisionArn!))).serviceRevisions;
  const ofNew = revisions.filter((r) => r.taskDefinition === d.newTaskDefinitionArn).length;
  const prod = await w.weights(w.prodRule);
  const events = (await w.events(d)).map((e) => e.type);
  await w.close();
  return { d, ofNew, prod, events };
}

describe("ECS-managed deployments survive a crash at any kind of effect", async () => {
  const good = await effectsOf("web:2");
  const bad = await effectsOf("web:bad", BAD_ALARM);

  it(`a LINEAR run has the effects we crash at (${good.map((e) => e.type).join(", ")})`, () => {
    for (const t of ["registerTaskDefinition", "updateService", "observeServiceDeployment", "sleep"] as const) assert.ok(good.some((e) => e.type === t), t);
    assert.ok(bad.some((e) => e.type === "stopServiceDeployment"), "the bad run stops the ECS deployment");
  });

  for (const when of ["before", "after"] as const) {
    it(`good image, crash ${when} each kind of effect: Succeeded, one service deployment of the new revision, production on it`, async () => {
      for (const { at, type } of good) {
        const { d, ofNew, prod, events } = await crashThenResume("web:2", at, when);
        const label = `crash ${when} effect ${at} (${type})`;
        assert.equal(d.phase, "Succeeded", `${label}: ${d.reason} ${d.message}`);
        assert.equal(ofNew, 1, `${label}: exactly one service deployment of ${d.newTaskDefinitionArn}`);
        assert.deepEqual(prod, { "web-a": 0, "web-b": 100 }, label);
        assert.ok(events.includes("Resumed"), label);
      }
    });

    it(`bad image, crash ${when} each kind of effect: RolledBack, production back on the old revision`, async () => {
      for (const { at, type } of bad) {
        const { d, ofNew, prod } = await crashThenResume("web:bad", at, when, BAD_ALARM);
        const label = `crash ${when} effect ${at} (${type})`;
        assert.equal(d.phase, "RolledBack", `${label}: ${d.reason} ${d.message}`);
        assert.equal(d.reason, "AlarmFired", label);
        assert.equal(ofNew, 1, label);
        assert.deepEqual(prod, { "web-a": 100, "web-b": 0 }, label);
      }
    });
  }
});
