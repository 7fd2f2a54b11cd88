/** DescribeServices / DescribeTaskDefinition full records (`definition`): shaped like AWS's, so a plan of what was just deployed is empty. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { world } from "./world.ts";
import { planObject } from "../../src/plan/index.ts";

const taskdef = {
  family: "web",
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "0.25 vCPU",
  memory: 512,
  containerDefinitions: [{ name: "app", image: "web:1", portMappings: [{ containerPort: 8080 }], environment: [{ name: "B", value: "2" }, { name: "A", value: "1" }] }],
  tags: [{ key: "team", value: "payments" }],
};
const svcdef = {
  cluster: "prod",
  serviceName: "web",
  desiredCount: 2,
  launchType: "FARGATE",
  taskDefinition: "web",
  networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-b", "subnet-a"], securityGroups: ["sg-1"] } },
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  propagateTags: "SERVICE",
  tags: [{ key: "team", value: "payments" }],
};

describe("simulator: full describe records", () => {
  it("reports the registered task definition with ECS's defaults and response-only fields", async () => {
    const w = world();
    const ecs = w.sim.ports().ecs;
    await ecs.registerTaskDefinition(taskdef);
    const td = await ecs.describeTaskDefinition("web:1");
    const def = td.definition!;
    assert.equal(def["taskDefinitionArn"], td.taskDefinitionArn);
    assert.deepEqual([def["revision"], def["status"], def["cpu"], def["memory"]], [1, "ACTIVE", "256", "512"]);
    assert.deepEqual(def["compatibilities"], ["EC2", "FARGATE"]);
    assert.equal(typeof def["registeredAt"], "string");
    const c = (def["containerDefinitions"] as Record<string, unknown>[])[0]!;
    assert.deepEqual([c["cpu"], c["essential"], c["portMappings"]], [0, true, [{ containerPort: 8080, hostPort: 8080, protocol: "tcp" }]]);
    assert.deepEqual(def["tags"], [{ key: "team", value: "payments" }]);
    assert.deepEqual(JSON.parse(JSON.stringify(def)), def, "JSON-safe");
  });

  it("reports the service as created and updated, with ECS's defaults, and a plan of it is empty", async () => {
    const w = world();
    const ecs = w.sim.ports().ecs;
    await ecs.registerTaskDefinition(taskdef);
    await ecs.createService(svcdef);
    await w.run(120_000);
    await ecs.updateService({ cluster: "prod", service: "web", enableExecuteCommand: true, desiredCount: 3 });
    const live = await w.service("web");
    const def = live.definition!;
    assert.equal(def["serviceName"], "web");
    assert.equal(def["clusterArn"], live.clusterArn);
    assert.equal(def["taskDefinition"], live.taskDefinition);
    assert.deepEqual([def["desiredCount"], def["launchType"], def["platformVersion"], def["schedulingStrategy"], def["propagateTags"], def["enableExecuteCommand"]], [3, "FARGATE", "LATEST", "REPLICA", "SERVICE", true]);
    assert.deepEqual(def["deploymentConfiguration"], { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 100, maximumPercent: 200 });
    assert.deepEqual(def["networkConfiguration"], { awsvpcConfiguration: { subnets: ["subnet-b", "subnet-a"], securityGroups: ["sg-1"], assignPublicIp: "DISABLED" } });
    assert.deepEqual(def["tags"], svcdef.tags);
    assert.equal(typeof def["createdAt"], "string");
    assert.equal((def["deployments"] as { status: string }[])[0]!.status, "PRIMARY");

    const td = await ecs.describeTaskDefinition(live.taskDefinition!);
    const plan = planObject({ desired: { service: { ...svcdef, desiredCount: 3, enableExecuteCommand: true }, taskDefinition: taskdef }, live: { service: def, taskDefinition: td.definition! }, liveIncludesTags: true });
    assert.equal(plan.action, "none", plan.service.text + plan.taskDefinition.text);
    const changed = planObject({ desired: { service: svcdef, taskDefinition: taskdef }, live: { service: def, taskDefinition: td.definition! }, liveIncludesTags: true });
    assert.deepEqual(changed.service.changes.map((c) => c.path).sort(), ["$.desiredCount", "$.enableExecuteCommand"]);
  });

  it("other calls keep their narrow results", async () => {
    const w = world();
    const ecs = w.sim.ports().ecs;
    assert.equal((await ecs.registerTaskDefinition(taskdef)).definition, undefined);
    assert.equal((await ecs.createService(svcdef)).definition, undefined);
  });
});
