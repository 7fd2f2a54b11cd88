/**
 * Rolling deployments end to end on the simulator with a virtual clock, written Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bgWorld, engine, rollingSpec, type Engine } from "../helpers/engine.ts";

let e: Engine;
afterEach(async () => e?.close());

describe("rolling deployments", () => {
  it("Given no service, When deploying, Then the service is created and the deployment succeeds when stable", async () => {
    e = await engine();
    const d = await e.deploy(rollingSpec("web", "nginx:1"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.equal(d.counts.running, 4);
    assert.match(d.newTaskDefinitionArn ?? "", /task-definition\/web:1$/);
    const svc = (await e.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.equal(svc.status, "ACTIVE");
    assert.equal(svc.runningCount, 4);
    const types = (await e.events(d)).map((x) => x.type);
    for (const t of ["Pending", "Started", "TaskDefinitionRegistered", "ServiceCreated", "Progress", "Succeeded"]) assert.ok(types.includes(t), `timeline has ${t}: ${types.join(",")}`);
  });

  it("Given a running service, When a new image is deployed, Then it is updated with a new revision and succeeds", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    const d = await e.deploy(rollingSpec("web", "nginx:2"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.match(d.oldTaskDefinitionArn ?? "", /web:1$/);
    assert.match(d.newTaskDefinitionArn ?? "", /web:2$/);
    const types = (await e.events(d)).map((x) => x.type);
    assert.ok(types.includes("ServiceUpdated"));
  });

  it("Given a bad image, When deployed, Then Flotilla's circuit breaker trips at min(failureThreshold, ceil(pct × desired)) and rolls back", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1", { svcdef: { desiredCount: 10 } }));
    e.sim.faults.addImageFault({ image: "nginx:broken", exitAfterMs: 2000, exitCode: 1 });
    // min(5, ceil(20% × 10) = 2) = 2
    const d = await e.deploy(rollingSpec("web", "nginx:broken", { svcdef: { desiredCount: 10 }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 5, failureThresholdPercent: 20 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /threshold is 2/);
    const svc = (await e.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.match(svc.taskDefinition ?? "", /web:1$/, "the service runs the previous revision again");
    const types = (await e.events(d)).map((x) => x.type);
    assert.ok(types.includes("RollbackStarted") && types.includes("RolledBack"));
  });

  it("Given ECS's circuit breaker with rollback, When the new tasks fail, Then the deployment is reported RolledBack, never Succeeded", async () => {
    e = await engine();
    const ecsBreaker = { deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    await e.deploy(rollingSpec("web", "nginx:1", { svcdef: ecsBreaker }));
    e.sim.faults.addImageFault({ image: "nginx:bad", pullFails: true });
    // Flotilla's own breaker off, so ECS's decides.
    const d = await e.deploy(rollingSpec("web", "nginx:bad", { svcdef: ecsBreaker, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } }));
    assert.notEqual(d.phase, "Succeeded");
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "EcsCircuitBreakerRolledBack");
    assert.ok(d.counts.failed >= 3, `the record counts the new revision's failed tasks (${d.counts.failed}), not the rollback's`);
  });

  it("Given ECS rolls back entirely between two polls, Then the deployment is RolledBack, never the old revision's success", async () => {
    e = await engine();
    const ecsBreaker = { desiredCount: 3, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    await e.deploy(rollingSpec("web", "nginx:1", { svcdef: ecsBreaker }));
    e.sim.faults.addImageFault({ image: "nginx:nopull", pullFails: true });
    // A poll interval far longer than ECS needs to fail the deployment and restore the old one.
    const d = await e.deploy(rollingSpec("web", "nginx:nopull", { svcdef: ecsBreaker, depdef: { stabilityCheck: { pollInterval: 300, timeout: 1800 }, gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "EcsCircuitBreakerRolledBack");
    assert.match(d.newTaskDefinitionArn ?? "", /web:2$/);
  });

  it("Given ECS's circuit breaker trips at desired 25 and the failed deployment has left DescribeServices by the next poll, Then the record keeps how many new tasks failed and ECS's reason", async () => {
    e = await engine();
    const ecsBreaker = { desiredCount: 25, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    await e.deploy(rollingSpec("web", "nginx:1", { svcdef: ecsBreaker }));
    e.sim.faults.addImageFault({ image: "nginx:nopull", pullFails: true });
    // Flotilla's own breaker off, and a poll long after ECS has failed the deployment and restored the old one.
    const d = await e.deploy(rollingSpec("web", "nginx:nopull", { svcdef: ecsBreaker, depdef: { stabilityCheck: { pollInterval: 600, timeout: 3600 }, gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "EcsCircuitBreakerRolledBack");
    assert.ok(d.counts.failed >= 13, `ECS's threshold at desired 25 is 13 failed tasks; the record says ${d.counts.failed}`);
    assert.match(d.message ?? "", /tasks failed to start/, "ECS's stated reason is kept");
    const progress = (await e.events(d)).filter((x) => x.type === "EcsRolledBack");
    assert.match(progress[0]?.message ?? "", /tasks failed to start/);
  });

  it("Given tasks that crash seconds after starting, Then one steady-looking poll is not a success", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1", { svcdef: { desiredCount: 3 } }));
    e.sim.faults.addImageFault({ image: "nginx:crashfast", exitAfterMs: 4000 });
    const d = await e.deploy(rollingSpec("web", "nginx:crashfast", { svcdef: { desiredCount: 3 }, depdef: { stabilityCheck: { pollInterval: 15, timeout: 300 }, gmDeploymentCircuitBreaker: { failureThreshold: 3 } } }));
    assert.notEqual(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.equal(d.phase, "RolledBack");
    assert.equal(d.reason, "CircuitBreakerTripped");
  });

  it("Given no service and an image that cannot be pulled (default depdef, deleteNewUponFailure), When deployed, Then it becomes Failed only once the scale to 0 is recorded", async () => {
    e = await engine();
    e.sim.faults.addImageFault({ image: "nginx:nopull", pullFails: true });
    const d = await e.deploy(rollingSpec("web", "nginx:nopull"));
    assert.equal(d.phase, "Failed", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /the new service was scaled to 0$/);
    assert.equal(d.counts.desired, 0, "the record shows the scaled-down service");
    const svc = (await e.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.equal(svc.desiredCount, 0, "failing tasks are no longer started");
    const types = (await e.events(d)).map((x) => x.type);
    assert.ok(types.indexOf("ScalingDown") < types.lastIndexOf("Failed"), `the terminal phase comes after the scale-down: ${types.join(",")}`);
    assert.equal(types.at(-1), "Failed");
  });

  it("Given new tasks that crash 35s after RUNNING, after ECS has marked the deployment COMPLETED, When two steady polls straddle the crash, Then it is not a success: the tasks must stay healthy for the dwell", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    e.sim.faults.addImageFault({ image: "nginx:late", exitAfterMs: 35_000 });
    const d = await e.deploy(rollingSpec("web", "nginx:late", { depdef: { stabilityCheck: { pollInterval: 15, timeout: 600 } } }));
    assert.notEqual(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.equal(d.phase, "RolledBack");
    assert.equal(d.reason, "CircuitBreakerTripped");
    const timeline = await e.events(d);
    assert.ok(timeline.some((x) => x.type === "Progress" && /^4\/4 running.*\(COMPLETED\)/.test(x.message)), "ECS did mark the deployment COMPLETED with every new task running before the crash");
    const svc = (await e.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.match(svc.taskDefinition ?? "", /web:1$/, "the service runs the previous revision again");
  });

  it("Given new tasks that crash late and Flotilla's breaker off, Then every crash restarts the dwell and the deployment times out instead of succeeding", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    e.sim.faults.addImageFault({ image: "nginx:late", exitAfterMs: 20_000 });
    const d = await e.deploy(rollingSpec("web", "nginx:late", { depdef: { stabilityCheck: { pollInterval: 15, timeout: 300 }, gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "StabilityTimeout");
    assert.ok(d.counts.failed >= 4, `the crashed tasks are counted: ${d.counts.failed}`);
  });

  it("Given a health-check grace period, a load balancer and container health checks, Then success waits grace + the longest interval after the deployment is first seen steady", async () => {
    const w = await bgWorld();
    e = w;
    const spec = rollingSpec("web", "nginx:2", {
      svcdef: { healthCheckGracePeriodSeconds: 60, loadBalancers: [{ targetGroupArn: w.tg("web-blue"), containerName: "app", containerPort: 8080 }] },
      depdef: { stabilityCheck: { pollInterval: 10, timeout: 600 } },
    });
    // The target group checks every 10s; the container every 20s: the longer one counts.
    spec.taskdef = { family: "web", containerDefinitions: [{ name: "app", image: "nginx:2", essential: true, portMappings: [{ containerPort: 8080 }], healthCheck: { command: ["CMD", "true"], interval: 20, startPeriod: 0, retries: 3 } }] };
    const d = await e.deploy(spec);
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const timeline = await e.events(d);
    const allRunning = timeline.find((x) => x.type === "Progress" && /^4\/4 running/.test(x.message))!;
    const done = timeline.at(-1)!;
    assert.ok(done.at - allRunning.at >= 80_000, `a dwell of 60s grace + 20s interval after all tasks run: ${(done.at - allRunning.at) / 1000}s`);
    assert.match(d.message ?? "", /healthy for 80s/);
  });

  it("Given tasks that never become stable, When the stability timeout passes, Then the deployment fails and rolls back", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    e.sim.faults.addImageFault({ image: "nginx:slow", startDelayMs: 3_600_000 });
    const d = await e.deploy(rollingSpec("web", "nginx:slow", { depdef: { stabilityCheck: { pollInterval: 10, timeout: 120 } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "StabilityTimeout");
  });

  it("Given rollback off in the depdef, When the new revision fails, Then it is Failed and not rolled back", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    e.sim.faults.addImageFault({ image: "nginx:crash", exitAfterMs: 1000 });
    const d = await e.deploy(rollingSpec("web", "nginx:crash", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 3, rollback: false } } }));
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.match(d.message ?? "", /rollback is off/);
  });

  it("Given a live rolling service, When the svcdef asks for blue/green, Then nothing is touched and the reason says why", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    const d = await e.deploy(rollingSpec("web", "nginx:2", { svcdef: { deploymentController: { type: "EXTERNAL" } } }));
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "NotUpdatableInPlace");
    assert.equal(d.newTaskDefinitionArn, null, "no task definition was even registered");
  });

  it("Given a removed svcdef, When deleting, Then the service is scaled to 0, deleted and waited out until INACTIVE", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    const d = await e.deploy(rollingSpec("web", "nginx:1"), "delete");
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const r = await e.sim.ports().ecs.describeServices("apps", ["web"]);
    assert.ok(r.services.length === 0 || r.services[0]!.status === "INACTIVE");
    const again = await e.deploy(rollingSpec("web", "nginx:1"), "delete");
    assert.equal(again.reason, "AlreadyDeleted");
  });

  it("Given a service still DRAINING, When it is created again, Then Flotilla waits for INACTIVE and then creates it", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    await e.sim.ports().ecs.updateService({ cluster: "apps", service: "web", desiredCount: 0 });
    await e.sim.ports().ecs.deleteService({ cluster: "apps", service: "web" });
    const d = await e.deploy(rollingSpec("web", "nginx:2"));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const types = (await e.events(d)).map((x) => x.type);
    assert.ok(types.includes("ServiceCreated"));
  });
});
