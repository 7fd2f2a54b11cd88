import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld } from "./world.ts";
import { AwsError } from "../../src/aws/errors.ts";

const TD = [{ family: "app", containerDefinitions: [{ name: "app", image: "app:1" }] }];
const aws = (name: string, message?: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof AwsError, String(e));
  assert.equal(e.name, name);
  if (typeof message === "string") assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
  return true;
};

function w0() {
  return scenarioWorld({ clusters: ["prod"], taskDefinitions: TD, services: [{ cluster: "prod", serviceName: "api", taskDefinition: "app:1", desiredCount: 2 }] });
}

describe("services: lifecycle", () => {
  it("ACTIVE → DRAINING → INACTIVE on delete", async () => {
    const w = w0();
    await w.ecs.updateService({ cluster: "prod", service: "api", desiredCount: 0 });
    const d = await w.ecs.deleteService({ cluster: "prod", service: "api" });
    assert.equal(d.status, "DRAINING");
    await w.step(60_000);
    assert.equal((await w.service("api")).status, "INACTIVE");
  });

  it("force-deletes a service that still has tasks, draining them first", async () => {
    const w = w0();
    const d = await w.ecs.deleteService({ cluster: "prod", service: "api", force: true });
    assert.equal(d.status, "DRAINING");
    await w.step(1_000);
    assert.equal((await w.service("api")).status, "DRAINING");
    await w.step(60_000);
    const s = await w.service("api");
    assert.equal(s.status, "INACTIVE");
    assert.equal(s.runningCount, 0);
    assert.equal((await w.ecs.listTasks({ cluster: "prod" })).length, 0);
  });

  it("a service may be created again once INACTIVE, but not while DRAINING", async () => {
    const w = w0();
    await w.ecs.deleteService({ cluster: "prod", service: "api", force: true });
    await assert.rejects(w.ecs.createService({ cluster: "prod", serviceName: "api", taskDefinition: "app:1" }), aws("InvalidParameterException", "Unable to Start a service that is still Draining."));
    await w.step(60_000);
    const s = await w.ecs.createService({ cluster: "prod", serviceName: "api", taskDefinition: "app:1", desiredCount: 1 });
    assert.equal(s.status, "ACTIVE");
  });
});

describe("services: AWS errors", () => {
  it("names and messages as ECS returns them", async () => {
    const w = w0();
    await assert.rejects(w.ecs.updateService({ cluster: "prod", service: "nope", desiredCount: 1 }), aws("ServiceNotFoundException", "Service not found."));
    await assert.rejects(w.ecs.updateService({ cluster: "nowhere", service: "api", desiredCount: 1 }), aws("ClusterNotFoundException", "Cluster not found."));
    await assert.rejects(w.ecs.deleteService({ cluster: "prod", service: "api" }), aws("InvalidParameterException", "The service cannot be stopped while it is scaled above 0."));
    await assert.rejects(w.ecs.createService({ cluster: "prod", serviceName: "api", taskDefinition: "app:1" }), aws("InvalidParameterException", "Creation of service was not idempotent."));
    await assert.rejects(w.ecs.createService({ cluster: "prod", serviceName: "x", taskDefinition: "missing:3" }), aws("ClientException", "TaskDefinition not found."));
    await assert.rejects(w.ecs.describeTaskDefinition("missing"), aws("ClientException", "Unable to describe task definition."));
    await assert.rejects(
      w.ecs.createService({ cluster: "prod", serviceName: "y", taskDefinition: "app:1", launchType: "FARGATE", capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }] }),
      aws("InvalidParameterException", /^Specifying both a launchType and capacityProviderStrategy is not supported/),
    );
    await w.ecs.deleteService({ cluster: "prod", service: "api", force: true });
    await assert.rejects(w.ecs.updateService({ cluster: "prod", service: "api", desiredCount: 1 }), aws("ServiceNotActiveException", "Service was not ACTIVE."));
  });

  it("DescribeServices reports unknown services as MISSING failures", async () => {
    const w = w0();
    const r = await w.ecs.describeServices("prod", ["api", "ghost"]);
    assert.deepEqual(r.services.map((s) => s.serviceName), ["api"]);
    assert.deepEqual(r.failures, [{ arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/ghost", reason: "MISSING" }]);
  });

  it("a target group without a load balancer is refused, with ECS's message", async () => {
    const w = scenarioWorld({ clusters: ["prod"], taskDefinitions: TD, targetGroups: [{ name: "lonely" }] });
    const arn = w.sim.elb.targetGroupArn("lonely");
    await assert.rejects(
      w.ecs.createService({ cluster: "prod", serviceName: "x", taskDefinition: "app:1", loadBalancers: [{ targetGroupArn: arn, containerName: "app", containerPort: 80 }] }),
      aws("InvalidParameterException", `The target group with targetGroupArn ${arn} does not have an associated load balancer.`),
    );
  });
});

describe("task definitions", () => {
  it("registering a family again adds a revision; the family alone means the latest ACTIVE", async () => {
    const w = w0();
    const r2 = await w.ecs.registerTaskDefinition({ family: "app", containerDefinitions: [{ name: "app", image: "app:2" }] });
    assert.equal(r2.revision, 2);
    assert.equal(r2.taskDefinitionArn, "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2");
    assert.equal((await w.ecs.describeTaskDefinition("app")).revision, 2);
    assert.equal((await w.ecs.describeTaskDefinition("app:1")).containerDefinitions[0]!.image, "app:1");
    await assert.rejects(w.ecs.registerTaskDefinition({ family: "app", containerDefinitions: [{ name: "app" }] }), aws("ClientException", "Container.image should not be null or empty."));
  });
});

describe("service events", () => {
  it("report started and stopped tasks and steady state in ECS's words, newest first", async () => {
    const w = w0();
    await w.ecs.updateService({ cluster: "prod", service: "api", desiredCount: 3 });
    await w.step(60_000);
    await w.ecs.updateService({ cluster: "prod", service: "api", desiredCount: 1 });
    await w.step(60_000);
    const events = (await w.service("api")).events.map((e) => e.message);
    assert.match(events[0]!, /^\(service api\) has reached a steady state\.$/);
    assert.ok(events.some((m) => /^\(service api\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/.test(m)), events.join("\n"));
    assert.ok(events.some((m) => /^\(service api\) has stopped 2 running tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/.test(m)), events.join("\n"));
  });
});
