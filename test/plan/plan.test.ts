import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { planObject } from "../../src/plan/plan.ts";
import type { JsonRecord } from "../../src/plan/types.ts";
import { container, desiredService, desiredTaskDefinition, liveService, liveTaskDefinition, TASK_DEFINITION_ARN } from "./fixtures.ts";

describe("planObject", () => {
  it("given no live service, then the action is create and both diffs show everything as added", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: {} });
    assert.equal(plan.action, "create");
    assert.deepEqual(plan.reasons, ["no such service in the cluster: it will be created"]);
    assert.equal(plan.service.changed, true);
    assert.deepEqual(plan.service.changes, [{ path: "$", kind: "added", desired: plan.service.changes[0]?.desired }]);
    assert.match(plan.taskDefinition.text, /^\+\s+"family": "web",$/m);
  });

  it("given an INACTIVE service of that name, then the action is create", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service: { ...liveService(), status: "INACTIVE" } } });
    assert.equal(plan.action, "create");
    assert.match(plan.reasons[0] ?? "", /INACTIVE/);
  });

  it("given definitions that match what runs, then the action is none", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service: liveService(), taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "none", JSON.stringify(plan, null, 2));
    assert.deepEqual(plan.reasons, ["the service and its task definition match the definitions"]);
    assert.deepEqual(plan.notCompared, []);
  });

  it("given a new image, then the action is update and the reason names the path", () => {
    const taskDefinition = desiredTaskDefinition();
    container(taskDefinition, 0)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.5.0";
    const plan = planObject({ desired: { service: desiredService(), taskDefinition }, live: { service: liveService(), taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "update");
    assert.equal(plan.service.changed, false);
    assert.deepEqual(plan.taskDefinition.changes.map((c) => c.path), ["$.containerDefinitions[0].image"]);
    assert.deepEqual(plan.reasons, ["the task definition differs: $.containerDefinitions[0].image changed"]);
    assert.match(plan.taskDefinition.text, new RegExp(`^--- ${TASK_DEFINITION_ARN.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`, "m"));
  });

  it("given a taskdef of another family, then the service's taskDefinition differs", () => {
    const taskDefinition = { ...desiredTaskDefinition(), family: "web-v2" };
    const plan = planObject({ desired: { service: desiredService(), taskDefinition }, live: { service: liveService(), taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "update");
    assert.deepEqual(plan.service.changes, [{ path: "$.taskDefinition", kind: "changed", desired: "web-v2", live: "web" }]);
  });

  it("with no taskdef file, compares a pinned svcdef reference by revision and a bare family by family", () => {
    const live = { service: liveService() };
    assert.equal(planObject({ desired: { service: { ...desiredService(), taskDefinition: "web:7" } }, live }).action, "none");
    const pinned = planObject({ desired: { service: { ...desiredService(), taskDefinition: "web:8" } }, live });
    assert.equal(pinned.action, "update");
    assert.deepEqual(pinned.service.changes, [{ path: "$.taskDefinition", kind: "changed", desired: "web:8", live: "web:7" }]);
    const bare = planObject({ desired: { service: { ...desiredService(), taskDefinition: "web" } }, live });
    assert.equal(bare.action, "none");
    assert.equal(bare.taskDefinition.changed, false);
    assert.ok(bare.reasons.some((r) => r.includes('svcdef\'s taskDefinition "web"')));
  });

  it("given a desired count left to autoscaling, then the live count is not a change", () => {
    const service = desiredService();
    delete service["desiredCount"];
    const plan = planObject({ desired: { service, taskDefinition: desiredTaskDefinition() }, live: { service: { ...liveService(), desiredCount: 9 }, taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "none");
  });

  it("given live descriptions without tags, then tags are not compared and the plan says so", () => {
    const service = liveService();
    delete service["tags"];
    const td = liveTaskDefinition();
    delete td["tags"];
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service, taskDefinition: td } });
    assert.equal(plan.action, "none");
    assert.equal(plan.notCompared.length, 2);
    assert.match(plan.notCompared.join("\n"), /include: \["TAGS"\]/);
    const told = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service, taskDefinition: td }, liveIncludesTags: true });
    assert.equal(told.action, "update");
    assert.deepEqual(told.service.changes.map((c) => c.path), ["$.tags"]);
  });

  it("given a live service whose task definition was not described, then the whole task definition shows as added", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service: liveService() } });
    assert.equal(plan.action, "update");
    assert.deepEqual(plan.taskDefinition.changes.map((c) => [c.path, c.kind]), [["$", "added"]]);
  });

  it("given a blue/green service without a PRIMARY task set, then it is an update that creates the first task set: the task-set members are not compared, the task definition is shown whole, and only service-level changes are listed", () => {
    // What a failed first blue/green deployment leaves: the EXTERNAL service with its service-level fields, no task set, no revision.
    const desired: JsonRecord = { ...desiredService(), deploymentController: { type: "EXTERNAL" }, desiredCount: 3 };
    const live: JsonRecord = { ...liveService(), deploymentController: { type: "EXTERNAL" }, taskSets: [], deployments: [], loadBalancers: [], serviceRegistries: [] };
    for (const k of ["taskDefinition", "launchType", "platformVersion", "networkConfiguration"]) delete live[k];
    const plan = planObject({ desired: { service: desired, taskDefinition: desiredTaskDefinition() }, live: { service: live, withoutPrimaryTaskSet: { taskSets: ["ecs-svc/1 (ACTIVE)"] } } });
    assert.equal(plan.action, "update");
    assert.deepEqual(plan.service.changes.map((c) => [c.path, c.kind]), [["$.desiredCount", "changed"]], "only what the service itself keeps");
    assert.deepEqual(plan.taskDefinition.changes.map((c) => [c.path, c.kind]), [["$", "added"]]);
    assert.match(plan.reasons[0]!, /^the blue\/green service has no PRIMARY task set, so nothing runs to compare with \(.*task set ecs-svc\/1 \(ACTIVE\) is not primary\): the deployment creates the first task set/);
    assert.deepEqual(plan.reasons.slice(1), ["the service differs: $.desiredCount changed"]);
    assert.deepEqual(plan.notCompared, ["taskDefinition, networkConfiguration, loadBalancers, launchType: a blue/green service keeps them on its PRIMARY task set, and it has none"]);
    // The same service-level fields: still an update, with nothing listed as differing.
    const same = planObject({ desired: { service: { ...desired, desiredCount: 2 }, taskDefinition: desiredTaskDefinition() }, live: { service: live, withoutPrimaryTaskSet: { taskSets: [] } } });
    assert.deepEqual([same.action, same.service.changed, same.reasons.length], ["update", false, 1]);
    assert.doesNotMatch(same.reasons[0]!, /not primary/);
  });

  it("is reachable through the module's index", async () => {
    const index = await import("../../src/plan/index.ts");
    const plan = index.planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: { service: liveService(), taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "none");
  });

  it("lists svcdef members that DescribeServices never returns as not compared", () => {
    const service: JsonRecord = { ...desiredService(), monitoring: { enabled: true } };
    const plan = planObject({ desired: { service, taskDefinition: desiredTaskDefinition() }, live: { service: liveService(), taskDefinition: liveTaskDefinition() } });
    assert.equal(plan.action, "none");
    assert.match(plan.notCompared[0] ?? "", /^monitoring: DescribeServices does not return it/);
  });
});
