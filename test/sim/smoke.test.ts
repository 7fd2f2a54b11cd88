import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { taskdef, world } from "./world.ts";

describe("simulator smoke", () => {
  it("creates a service and completes its first deployment", async () => {
    const w = world();
    const ecs = w.sim.ports().ecs;
    const td = await ecs.registerTaskDefinition(taskdef("web", "repo/web:1"));
    await ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: td.taskDefinitionArn, desiredCount: 4 });
    const took = await w.until(async () => (await w.service("web")).deployments[0]?.rolloutState === "COMPLETED");
    const s = await w.service("web");
    assert.equal(s.runningCount, 4);
    assert.ok(took >= 15_000, `took ${took}`);
  });
});
