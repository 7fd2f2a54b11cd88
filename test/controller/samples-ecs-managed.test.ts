/**
 * Samples of an ECS-managed deployment for the dashboard's chart: the production rule's weights as
 * ECS moves them, and the old and new service revisions' tasks as ECS counts them.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { DeploymentSampler } from "../../src/controller/samples.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { managedSpec, managedWorld, type ManagedWorld } from "../helpers/managed.ts";

let w: ManagedWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe("deployment samples: ECS-managed", () => {
  it("Given a CANARY 10% deployment, Then the samples show the new target group's share go 0, 10, 100 and both revisions' tasks", async () => {
    w = await managedWorld();
    assert.equal((await w.deploy(managedSpec(w, "web:1", { strategy: "CANARY" }))).phase, "Succeeded");
    const sampler = new DeploymentSampler({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock });
    const runner = new Runner({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, controlPollMs: 1000, observe: sampler.observe });
    const d = await runner.run(await runner.create(managedSpec(w, "web:2", { strategy: "CANARY" }), { strategy: "ecs-managed" }));
    await sampler.idle();
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const samples = await w.store.listSamples(d.id);
    const shares = samples.map((s) => s.data.weights[w!.tgB]).filter((x) => x !== undefined);
    assert.deepEqual(shares.filter((x, i) => i === 0 || x !== shares[i - 1]), [0, 10, 100]);
    const both = samples.find((s) => s.data.sets.length === 2)!;
    assert.deepEqual(both.data.sets.map((s) => s.role), ["old", "new"]);
    assert.ok(samples.some((s) => s.data.sets.find((x) => x.role === "new")?.running === 3), "the new revision's tasks as ECS counts them");
  });
});
