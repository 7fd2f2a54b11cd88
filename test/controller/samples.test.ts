/**
 * Samples for the dashboard's chart, recorded from what the engine observes while a deployment runs
 * on the simulator (virtual time): weights per target group, tasks per task set, alarm states.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DeploymentSampler, weightsOf } from "../../src/controller/samples.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { bgSpec, bgWorld, engine, rollingSpec, type BgWorld } from "../helpers/engine.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe("deployment samples", () => {
  it("weights are each target group's share of its forward action, averaged over the routes", () => {
    const forward = (a: number, b: number) => [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: "blue", weight: a }, { targetGroupArn: "green", weight: b }] } }];
    assert.deepEqual(
      weightsOf([
        { kind: "listener", arn: "l1", actions: forward(90, 10) },
        { kind: "rule", arn: "r1", actions: forward(9, 1) },
        { kind: "rule", arn: "r2", actions: [{ type: "forward", targetGroupArn: "blue" }, { type: "fixed-response" }] },
      ]),
      { blue: 93.3, green: 10 },
    );
    assert.deepEqual(weightsOf([{ kind: "listener", arn: "l1", actions: forward(0, 0) }]), { blue: 0, green: 0 });
  });

  it("Given a canary whose alarm fires at 20%, Then the samples show green's weight rise and fall back, the alarm change, and both sets' tasks", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", when: { imageServing: "*web:2", minTrafficPercent: 1, for: "30s" } }] });
    await w.deploy(bgSpec(w, "web:1"));
    const sampler = new DeploymentSampler({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock });
    const runner = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, controlPollMs: 1000, observe: sampler.observe });
    const d = await runner.run(await runner.create(bgSpec(w, "web:2", { depdef: { alarms: { alarmNames: ["web-5xx"] } } }), { strategy: "bluegreen" }));
    await sampler.idle();
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "AlarmFired");

    const samples = await w.store.listSamples(d.id);
    const green = w.tg("web-green");
    const blue = w.tg("web-blue");
    const greenWeights = samples.map((s) => s.data.weights[green]).filter((x) => x !== undefined);
    // Collapse repeats: the series of distinct weights over time.
    const steps = greenWeights.filter((x, i) => i === 0 || x !== greenWeights[i - 1]);
    assert.deepEqual(steps, [0, 20, 0]);
    assert.ok(samples.every((s) => Object.keys(s.data.weights).length === 0 || (s.data.weights[blue] ?? 0) + (s.data.weights[green] ?? 0) === 100));
    const alarmStates = samples.flatMap((s) => s.data.alarms.filter((a) => a.name === "web-5xx").map((a) => a.state));
    assert.ok(alarmStates.includes("OK") && alarmStates.at(-1) === "ALARM", `alarm states ${alarmStates.join(",")}`);

    const last = samples.findLast((s) => s.data.sets.length === 2)!;
    const byRole = Object.fromEntries(last.data.sets.map((s) => [s.role, s]));
    assert.ok(byRole["blue"]!.desired! > 0);
    assert.equal(byRole["blue"]!.running, byRole["blue"]!.desired);
    assert.equal(byRole["blue"]!.healthy, byRole["blue"]!.running, "healthy targets in blue's target group");
    assert.ok(samples.some((s) => (s.data.sets.find((x) => x.role === "green")?.healthy ?? 0) > 0), "green's targets become healthy");
    assert.deepEqual(byRole["blue"]!.targetGroups, [blue]);
    assert.deepEqual(byRole["green"]!.targetGroups, [green]);
    assert.equal(byRole["green"]!.failed, 0);
    // Samples are stored only when something changed (or a minute passed), not at every poll.
    const keys = samples.map((s) => JSON.stringify(s.data));
    assert.ok(keys.every((k, i) => i === 0 || k !== keys[i - 1] || samples[i]!.at - samples[i - 1]!.at >= 60_000));
  });

  it("Given a rolling update, Then the samples show the old and new ECS deployments' tasks", async () => {
    const e = await engine();
    try {
      const sampler = new DeploymentSampler({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock });
      const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, observe: sampler.observe });
      await runner.run(await runner.create(rollingSpec("api", "api:1"), { strategy: "rolling" }));
      const d = await runner.run(await runner.create(rollingSpec("api", "api:2"), { strategy: "rolling" }));
      await sampler.idle();
      assert.equal(d.phase, "Succeeded");
      const samples = await e.store.listSamples(d.id);
      const roles = new Set(samples.flatMap((s) => s.data.sets.map((x) => x.role)));
      assert.deepEqual([...roles].sort(), ["new", "old"]);
      const newRunning = samples.map((s) => s.data.sets.find((x) => x.role === "new")?.running ?? 0);
      assert.equal(Math.max(...newRunning), d.counts.desired, "the new deployment reaches its desired count");
      assert.ok(samples.every((s) => s.data.sets.every((x) => x.healthy === null)), "no health per ECS deployment");
    } finally {
      await e.close();
    }
  });
});
