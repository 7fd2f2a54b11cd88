/**
 * Blue/green decisions rest on what ECS reports, read back, not on what a call's answer implies:
 * task-set counts AWS left out, a promotion that did not take, a task set already gone behind an
 * unexpected error name, a foreign task set found after changes were made. End to end on the
 * simulator, with some ECS answers changed the way other AWS-compatible endpoints give them.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AwsError } from "../../src/aws/errors.ts";
import type { TaskSet } from "../../src/aws/ports.ts";
import { mapTaskSet } from "../../src/aws/sdk/ecs.ts";
import { Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { bgSpec, bgWorld, withEcs, type BgWorld } from "../helpers/engine.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A running blue/green service on web:1, then a runner whose ECS answers are changed by `override`. */
async function liveWith(override: Parameters<typeof withEcs>[1]): Promise<{ world: BgWorld; deploy: (spec: DeploySpec) => ReturnType<Runner["run"]> }> {
  const world = await bgWorld();
  await world.deploy(bgSpec(world, "web:1"));
  const runner = new Runner({ store: world.store, aws: withEcs(world.sim.portsFactory(), override), clock: world.clock });
  return { world, deploy: async (spec) => runner.run(await runner.create(spec, { strategy: "bluegreen" })) };
}

/** What the SDK adapter makes of a DescribeTaskSets answer that carries no counts. */
function withoutCounts(t: TaskSet): TaskSet {
  return mapTaskSet({
    id: t.id,
    taskSetArn: t.taskSetArn,
    serviceArn: t.serviceArn,
    clusterArn: t.clusterArn,
    status: t.status,
    taskDefinition: t.taskDefinition,
    ...(t.externalId ? { externalId: t.externalId } : {}),
    scale: t.scale,
    stabilityStatus: t.stabilityStatus,
    loadBalancers: t.loadBalancers,
    createdAt: new Date(t.createdAt),
    updatedAt: new Date(t.updatedAt),
  });
}

/** An endpoint that reports task sets changed by `change`, wherever it reports them: DescribeTaskSets and DescribeServices. */
function taskSetsAs(change: (t: TaskSet) => TaskSet): Parameters<typeof withEcs>[1] {
  return (ecs) => ({
    describeTaskSets: async (input) => (await ecs.describeTaskSets(input)).map(change),
    describeServices: async (cluster, names) => {
      const out = await ecs.describeServices(cluster, names);
      return { ...out, services: out.services.map((s) => ({ ...s, taskSets: s.taskSets.map(change) })) };
    },
  });
}

/** An endpoint whose DeleteTaskSet deletes the set, then answers as if it had not found it. */
const deletesThenSaysGone: Parameters<typeof withEcs>[1] = (ecs) => ({
  deleteTaskSet: async (input) => {
    await ecs.deleteTaskSet(input);
    throw new AwsError({ name: "ClientException", message: "The specified task set does not exist.", service: "ECS", operation: "DeleteTaskSet" });
  },
});

describe("blue/green: task-set facts, not assumptions", () => {
  it("Given an endpoint whose task sets come without counts, When green reports STEADY_STATE, Then it is not promoted on '0/0 running': the deployment times out and blue keeps all traffic", async () => {
    const { world, deploy } = await liveWith(taskSetsAs(withoutCounts));
    w = world;
    const d = await deploy(bgSpec(world, "web:2", { depdef: { stabilityCheck: { pollInterval: 10, timeout: 120 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "StabilityTimeout");
    assert.match(d.message ?? "", /\?\/4 running/);
    assert.equal(world.shifts.length, 0, "no traffic went to green");
    assert.deepEqual((await world.weights())["443"], { "web-blue": 100, "web-green": 0 });
    const sets = await world.taskSets();
    assert.ok(sets.some((s) => s.status === "PRIMARY" && /web:1$/.test(s.taskDefinition)), "blue is still the primary");
  });

  it("Given an endpoint that reports a computed desired count of 0, When green is STEADY_STATE, Then that is not stable either", async () => {
    const { world, deploy } = await liveWith(taskSetsAs((t) => ({ ...t, computedDesiredCount: 0, runningCount: 0, pendingCount: 0 })));
    w = world;
    const d = await deploy(bgSpec(world, "web:2", { depdef: { stabilityCheck: { pollInterval: 10, timeout: 120 } } }));
    assert.equal(d.reason, "StabilityTimeout", `${d.phase}: ${d.message}`);
    assert.deepEqual((await world.weights())["443"], { "web-blue": 100, "web-green": 0 });
  });

  it("Given UpdateServicePrimaryTaskSet answers without making green PRIMARY, When the deployment promotes, Then blue is not deleted: it reads the task sets back and rolls back", async () => {
    const { world, deploy } = await liveWith((ecs) => ({
      updateServicePrimaryTaskSet: async (input) => (await ecs.describeTaskSets({ cluster: input.cluster, service: input.service })).find((t) => t.id === input.primaryTaskSet)!,
    }));
    w = world;
    const d = await deploy(bgSpec(world, "web:2"));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "PromoteNotConfirmed");
    assert.deepEqual((await world.weights())["443"], { "web-blue": 100, "web-green": 0 }, "traffic is back on blue");
    await world.clock.sleep(600_000);
    const sets = await world.taskSets();
    assert.deepEqual(sets.map((s) => [s.status, s.taskDefinition.replace(/.*\//, "")]), [["PRIMARY", "web:1"]], "blue is kept and green removed");
  });

  it("Given an endpoint that answers ClientException 'task set does not exist' for a set it deleted, When blue is deleted, Then the deployment sees by describing it that blue is gone", async () => {
    const { world, deploy } = await liveWith(deletesThenSaysGone);
    w = world;
    const d = await deploy(bgSpec(world, "web:2"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, null, "not BlueNotDeleted");
    assert.ok((await world.events(d)).some((x) => x.type === "BlueDeleted"));
  });

  it("Given the same endpoint, When a failed green is deleted, Then the record says it was deleted", async () => {
    const { world, deploy } = await liveWith(deletesThenSaysGone);
    w = world;
    world.sim.faults.addImageFault({ image: "web:bad", pullFails: true });
    const d = await deploy(bgSpec(world, "web:bad"));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.match(d.message ?? "", /the green task set was deleted$/);
  });

  it("Given a delete that really fails, When blue is deleted, Then the deployment says so and names the set to delete by hand", async () => {
    const { world, deploy } = await liveWith(() => ({
      deleteTaskSet: () => Promise.reject(new AwsError({ name: "AccessDeniedException", message: "not allowed", service: "ECS", operation: "DeleteTaskSet" })),
    }));
    w = world;
    const d = await deploy(bgSpec(world, "web:2"));
    assert.equal(d.phase, "Succeeded");
    assert.equal(d.reason, "BlueNotDeleted");
    assert.match(d.message ?? "", /AccessDeniedException: not allowed; delete task set \S+ by hand/);
  });

  it("Given a foreign task set beside the primary, When a deployment finds it, Then the message says what was already changed instead of 'nothing was changed'", async () => {
    w = await bgWorld();
    await w.deploy(bgSpec(w, "web:1"));
    const ecs = w.sim.ports().ecs;
    const td = await ecs.registerTaskDefinition({ family: "web", containerDefinitions: [{ name: "app", image: "web:hand", essential: true }] });
    await ecs.createTaskSet({ cluster: "apps", service: "web", taskDefinition: td.taskDefinitionArn, externalId: "by-hand", scale: { value: 10, unit: "PERCENT" } });
    const d = await w.deploy(bgSpec(w, "web:2"));
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "ForeignTaskSet");
    assert.doesNotMatch(d.message ?? "", /nothing was changed/);
    assert.match(d.message ?? "", /registered task definition \S+web:3/);
    assert.match(d.message ?? "", /UpdateService set the service's desiredCount to 4/);
  });
});
