import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld, WEB_TG } from "./world.ts";
import { computedDesiredCount } from "../../src/sim/scheduler.ts";

function bg() {
  return scenarioWorld({
    clusters: ["prod"],
    taskDefinitions: [
      { family: "app", containerDefinitions: [{ name: "app", image: "app:1", portMappings: [{ containerPort: 80 }] }] },
      { family: "app", containerDefinitions: [{ name: "app", image: "app:2", portMappings: [{ containerPort: 80 }] }] },
    ],
    targetGroups: [WEB_TG, { ...WEB_TG, name: "web-green" }],
    loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroups: [{ targetGroup: "web", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }] }] }],
    services: [
      { cluster: "prod", serviceName: "app", taskDefinition: "app:1", desiredCount: 5, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroup: "web", containerName: "app", containerPort: 80 }] },
    ],
  });
}

describe("task sets", () => {
  it("computedDesiredCount rounds up", () => {
    assert.deepEqual([computedDesiredCount(5, 50), computedDesiredCount(5, 10), computedDesiredCount(3, 100), computedDesiredCount(4, 0)], [3, 1, 3, 0]);
  });

  it("a new task set scales to its share, goes STABILIZING → STEADY_STATE, and can become PRIMARY", async () => {
    const w = bg();
    const [blue] = await w.ecs.describeTaskSets({ cluster: "prod", service: "app" });
    assert.equal(blue!.status, "PRIMARY");
    assert.equal(blue!.stabilityStatus, "STEADY_STATE");
    const green = await w.ecs.createTaskSet({
      cluster: "prod",
      service: "app",
      taskDefinition: "app:2",
      externalId: "green",
      scale: { value: 50, unit: "PERCENT" },
      loadBalancers: [{ targetGroupArn: w.sim.elb.targetGroupArn("web-green"), containerName: "app", containerPort: 80 }],
    });
    assert.equal(green.status, "ACTIVE");
    assert.equal(green.computedDesiredCount, 3);
    await w.step(1_000);
    assert.equal((await w.ecs.describeTaskSets({ cluster: "prod", service: "app", taskSets: [green.id] }))[0]!.stabilityStatus, "STABILIZING");
    await w.step(60_000);
    const g = (await w.ecs.describeTaskSets({ cluster: "prod", service: "app", taskSets: [green.taskSetArn] }))[0]!;
    assert.equal(g.runningCount, 3);
    assert.equal(g.stabilityStatus, "STEADY_STATE");
    await w.ecs.updateTaskSet({ cluster: "prod", service: "app", taskSet: green.id, scale: { value: 100, unit: "PERCENT" } });
    await w.step(60_000);
    assert.equal((await w.ecs.describeTaskSets({ cluster: "prod", service: "app", taskSets: [green.id] }))[0]!.runningCount, 5);
    const p = await w.ecs.updateServicePrimaryTaskSet({ cluster: "prod", service: "app", primaryTaskSet: green.id });
    assert.equal(p.status, "PRIMARY");
    const all = await w.ecs.describeTaskSets({ cluster: "prod", service: "app" });
    assert.equal(all.find((t) => t.id === blue!.id)!.status, "ACTIVE");
    assert.ok((await w.service("app")).taskDefinition!.endsWith("app:2"));
  });

  it("a deleted task set drains and disappears; the primary needs force", async () => {
    const w = bg();
    const [blue] = await w.ecs.describeTaskSets({ cluster: "prod", service: "app" });
    await assert.rejects(w.ecs.deleteTaskSet({ cluster: "prod", service: "app", taskSet: blue!.id }), { name: "InvalidParameterException" });
    const green = await w.ecs.createTaskSet({ cluster: "prod", service: "app", taskDefinition: "app:2", scale: { value: 100, unit: "PERCENT" } });
    await w.step(60_000);
    const d = await w.ecs.deleteTaskSet({ cluster: "prod", service: "app", taskSet: green.id });
    assert.equal(d.status, "DRAINING");
    await w.step(120_000);
    assert.deepEqual((await w.ecs.describeTaskSets({ cluster: "prod", service: "app" })).map((t) => t.id), [blue!.id]);
    await assert.rejects(w.ecs.updateTaskSet({ cluster: "prod", service: "app", taskSet: green.id, scale: { value: 1, unit: "PERCENT" } }), { name: "TaskSetNotFoundException" });
  });

  it("task set calls on a service with the ECS controller are refused", async () => {
    const w = scenarioWorld({ clusters: ["prod"], taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "a" }] }], services: [{ cluster: "prod", serviceName: "r", taskDefinition: "app:1" }] });
    await assert.rejects(w.ecs.createTaskSet({ cluster: "prod", service: "r", taskDefinition: "app:1" }), {
      name: "InvalidParameterException",
      message: "Amazon ECS only supports task set management on services configured to use external deployment controllers.",
    });
  });
});
