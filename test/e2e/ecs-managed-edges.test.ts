/**
 * ECS-managed deployments at their edges, end to end on the simulator: failures after ECS already
 * finished (within Flotilla's stability dwell), ECS stopping without rollback, a first deployment
 * that fails, a deployment replaced by another, break-glass overrides and `flotilla rollback`.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rollbackObject } from "../../src/controller/rollback.ts";
import type { Deployment } from "../../src/store/types.ts";
import { managedSpec, eventsOf, liveWorld, managedWorld, productionWeights, type ManagedSpecOptions, type ManagedWorld } from "../helpers/managed.ts";

let w: ManagedWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const serviceDeployments = (world: ManagedWorld) => world.sim.ports().ecs.listServiceDeployments({ cluster: "apps", service: "web" });
async function runningTaskDefinition(world: ManagedWorld): Promise<string | undefined> {
  return (await world.sim.ports().ecs.describeServices("apps", ["web"])).services[0]?.taskDefinition;
}

describe("ECS-managed deployments at their edges", () => {
  it("Given ECS finishes a BLUE_GREEN before Flotilla's dwell is over, When the new tasks crash within the dwell, Then Flotilla deploys the old revision again (ECS cannot stop a finished deployment) and ends RolledBack", async () => {
    const o: ManagedSpecOptions = { deploymentConfiguration: { bakeTimeInMinutes: 0, deploymentCircuitBreaker: { enable: false, rollback: false } }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 2, rollback: true } } };
    w = await liveWorld(o, { faults: { images: [{ image: "web:late-crash", exitAfter: "100s" }] } });
    // A long grace period makes a long dwell: the tasks must stay healthy for 2 minutes and more.
    const spec = managedSpec(w, "web:late-crash", o);
    spec.svcdef["healthCheckGracePeriodSeconds"] = 150;
    const d = await w.deploy(spec);
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /rolled back to .*web:1 by a new ECS deployment, which succeeded/);
    const ours = (await serviceDeployments(w)).slice(0, 2);
    assert.deepEqual(ours.map((x) => x.status), ["SUCCESSFUL", "SUCCESSFUL"], "ECS had finished ours; the revert is a second ECS deployment");
    assert.equal(eventsOf(w, "StopRequested").length, 0, "a finished deployment is not stopped");
    assert.equal(eventsOf(w, "RollbackStarted").length, 1);
    assert.match((await runningTaskDefinition(w)) ?? "", /web:1$/);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 }, "production back on the old revision's target group");
  });

  it("Given ECS's alarms without rollback, When the alarm fires mid-CANARY, Then ECS stops where it is and the record is Failed with EcsDeploymentStopped, saying where traffic stays", async () => {
    const alarms = { alarms: { alarmNames: ["web-5xx"], enable: true, rollback: false } };
    w = await liveWorld({ strategy: "CANARY", deploymentConfiguration: alarms }, { alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    w.sim.alarms.schedule("web-5xx", w.sim.elapsed() + 90_000, "ALARM", "5xx");
    const d = await w.deploy(managedSpec(w, "web:2", { strategy: "CANARY", deploymentConfiguration: alarms }));
    assert.equal(d.phase, "Failed", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "EcsDeploymentStopped");
    assert.match(d.message ?? "", /production traffic stays 10% on the new revision/);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 90, "web-b": 10 });
  });

  it("Given no service yet, When its first ECS-managed deployment's tasks keep failing, Then Flotilla's breaker fails it and the new service is scaled to 0 (there is nothing to roll back to)", async () => {
    w = await managedWorld({ faults: { images: [{ image: "web:broken", pullFails: true }] } });
    const d = await w.deploy(managedSpec(w, "web:broken", { deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false } }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 3, rollback: true }, deleteNewUponFailure: true } }));
    assert.equal(d.phase, "Failed", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /the new service was scaled to 0/);
    assert.equal((await w.sim.ports().ecs.describeServices("apps", ["web"])).services[0]?.desiredCount, 0);
  });

  it("Given a LINEAR deployment in progress, When someone else updates the service, Then ECS replaces it and the record says Superseded, never Succeeded", async () => {
    w = await liveWorld({ strategy: "LINEAR" });
    const created = await w.runner.create(managedSpec(w, "web:2", { strategy: "LINEAR" }), { strategy: "ecs-managed" });
    const running = w.runner.run(created);
    while (!productionWeights(w).includes(25)) await w.clock.sleep(1000);
    const ecs = w.sim.ports().ecs;
    const td = await ecs.registerTaskDefinition({ family: "web", containerDefinitions: [{ name: "app", image: "web:hotfix", essential: true, portMappings: [{ containerPort: 8080 }] }] });
    await ecs.updateService({ cluster: "apps", service: "web", taskDefinition: td.taskDefinitionArn });
    const d = await running;
    assert.equal(d.phase, "Failed", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "Superseded");
    assert.ok(!eventsOf(w, "Succeeded").length);
  });

  it("Given the all-at-once override, When a LINEAR svcdef deploys, Then this deployment's step is 100%: production moves 0→100 in one step, and the next deployment steps as written", async () => {
    w = await liveWorld({ strategy: "LINEAR" });
    const created = await w.runner.create(managedSpec(w, "web:2", { strategy: "LINEAR" }), { strategy: "ecs-managed", overrides: [{ name: "all-at-once", setBy: "oncall", source: "cli", at: w.clock.now() }] });
    const d = await w.runner.run(created);
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [100]);
    assert.match(eventsOf(w, "Started")[0]!.message, /ECS-managed LINEAR deployment .*overrides: all-at-once/);
    w.timeline.length = 0;
    const next = await w.deploy(managedSpec(w, "web:3", { strategy: "LINEAR" }));
    assert.equal(next.phase, "Succeeded");
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [25, 50, 75, 100], "the next deployment sends the svcdef as written");
  });

  it("Given two successful ECS-managed deployments, When the object is rolled back, Then the previous revision is deployed again by ECS as a recorded ecs-managed deployment", async () => {
    w = await liveWorld({ strategy: "CANARY" });
    const second: Deployment = await w.deploy(managedSpec(w, "web:2", { strategy: "CANARY" }));
    assert.equal(second.phase, "Succeeded");
    const d = await rollbackObject(w.store, w.runner, "apps/web/web", "alice", w.clock);
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.equal(d.strategy, "ecs-managed");
    assert.match((await runningTaskDefinition(w)) ?? "", /web:1$/);
    assert.equal(d.newTaskDefinitionArn, second.oldTaskDefinitionArn);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
  });
});

describe("ECS-managed first deployments", () => {
  it("Given no service yet, When its first deployment's Lambda hook fails, Then ECS has nothing to roll back to: the record is Failed with the hook, not RollbackFailed, and the new service is scaled to 0", async () => {
    const hooks = { lifecycleHooks: [{ hookTargetArn: "arn:aws:lambda:us-east-1:123456789012:function:smoke-test", roleArn: "arn:aws:iam::123456789012:role/ecs-hooks", lifecycleStages: ["POST_SCALE_UP"] }] };
    w = await managedWorld({ faults: { hooks: [{ hook: "*:function:smoke-test", outcome: "FAILED" }] } });
    const d = await w.deploy(managedSpec(w, "web:1", { deploymentConfiguration: hooks, depdef: { deleteNewUponFailure: true } }));
    assert.equal(d.phase, "Failed", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "LifecycleHookFailed");
    assert.match(d.message ?? "", /smoke-test answered FAILED in POST_SCALE_UP; the new service was scaled to 0$/);
    assert.equal((await w.sim.ports().ecs.describeServices("apps", ["web"])).services[0]?.desiredCount, 0);
    assert.equal(eventsOf(w, "Failed").length, 2, "the failure when ECS reports it, and at the end");
  });
});
