import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import { circuitBreakerThreshold } from "../../src/sim/scheduler.ts";
import type { Service } from "../../src/aws/ports.ts";

describe("ECS deployment circuit breaker: threshold", () => {
  it("is ceil(0.5 × desired) clamped to [3, 200]: the AWS table 1, 25, 400, 800 → 3, 13, 200, 200", () => {
    assert.deepEqual([1, 25, 400, 800].map(circuitBreakerThreshold), [3, 13, 200, 200]);
  });
  it("around the clamps", () => {
    assert.deepEqual([0, 6, 7, 8, 399, 401].map(circuitBreakerThreshold), [3, 3, 4, 4, 200, 200]);
  });
});

type Fault = Record<string, unknown>;
function world(opts: { desired?: number; cb?: { enable: boolean; rollback: boolean }; faults?: Fault[]; lb?: boolean; existing?: boolean } = {}) {
  const clock = new VirtualClock();
  const desired = opts.desired ?? 4;
  const sim = loadScenario(
    parseScenario({
      throttling: false,
      clusters: ["prod"],
      taskDefinitions: [
        { family: "web", containerDefinitions: [{ name: "web", image: "web:good", portMappings: [{ containerPort: 80 }] }] },
        { family: "web", containerDefinitions: [{ name: "web", image: "web:bad", portMappings: [{ containerPort: 80 }] }] },
      ],
      targetGroups: [{ name: "web", healthCheck: { intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 2 }, deregistrationDelaySeconds: 10 }],
      loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "web" }] }] }],
      services:
        opts.existing === false
          ? []
          : [
              {
                cluster: "prod",
                serviceName: "web",
                taskDefinition: "web:1",
                desiredCount: desired,
                deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: opts.cb ?? { enable: true, rollback: true } },
                ...(opts.lb ? { loadBalancers: [{ targetGroup: "web", containerName: "web", containerPort: 80 }] } : {}),
              },
            ],
      faults: { images: opts.faults ?? [{ image: "web:bad", pullFails: true }] },
    }),
    clock,
  );
  const ecs = sim.ports().ecs;
  const describe = async (): Promise<Service> => (await ecs.describeServices("prod", ["web"])).services[0]!;
  const step = async (ms = 1000) => {
    await clock.advance(ms);
    sim.sync();
  };
  return { clock, sim, ecs, describe, step };
}

describe("ECS deployment circuit breaker: behaviour", () => {
  it("rolls back to the most recent COMPLETED deployment, which goes IN_PROGRESS and then COMPLETED", async () => {
    const w = world({ desired: 4 });
    const good = (await w.describe()).deployments[0]!;
    assert.equal(good.rolloutState, "COMPLETED");
    await w.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    let sawRollback = false;
    let failed;
    for (let i = 0; i < 600; i++) {
      await w.step();
      const s = await w.describe();
      const g = s.deployments.find((d) => d.id === good.id)!;
      if (g.status === "PRIMARY" && g.rolloutState === "IN_PROGRESS") sawRollback = true;
      failed ??= s.deployments.find((d) => d.rolloutState === "FAILED");
      if (sawRollback && g.rolloutState === "COMPLETED") break;
    }
    assert.ok(sawRollback, "the rollback target was IN_PROGRESS while rolling back");
    assert.ok(failed);
    assert.equal(failed.failedTasks, 3, "threshold for desired 4 is 3");
    assert.match(failed.rolloutStateReason!, /^ECS deployment circuit breaker: tasks failed to start\./);
    const s = await w.describe();
    assert.equal(s.taskDefinition?.endsWith("web:1"), true);
    assert.deepEqual(s.deployments.map((d) => [d.id, d.status, d.rolloutState]), [[good.id, "PRIMARY", "COMPLETED"]]);
    assert.equal(s.runningCount, 4);
  });

  it("with no COMPLETED deployment the deployment fails without rollback and launches nothing more", async () => {
    const w = world({ existing: false });
    await w.ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: "web:2", desiredCount: 8, deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } });
    await w.step(10 * 60_000);
    const s = await w.describe();
    assert.equal(s.deployments.length, 1);
    assert.equal(s.deployments[0]!.rolloutState, "FAILED");
    const launched = (await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" })).length + (await w.ecs.listTasks({ cluster: "prod" })).length;
    await w.step(30 * 60_000);
    const later = (await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" })).length + (await w.ecs.listTasks({ cluster: "prod" })).length;
    assert.equal(later, launched, "no task launched after the failure");
    assert.equal((await w.describe()).deployments[0]!.failedTasks, circuitBreakerThreshold(8));
  });

  it("rollback: false marks the deployment FAILED and leaves the older deployment running", async () => {
    const w = world({ cb: { enable: true, rollback: false } });
    await w.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    await w.step(10 * 60_000);
    const s = await w.describe();
    const primary = s.deployments.find((d) => d.status === "PRIMARY")!;
    assert.equal(primary.rolloutState, "FAILED");
    assert.ok(primary.taskDefinition.endsWith("web:2"));
    const old = s.deployments.find((d) => d.status === "ACTIVE")!;
    assert.equal(old.runningCount, 4);
  });

  it("disabled, it keeps replacing failed tasks and the deployment stays IN_PROGRESS", async () => {
    const w = world({ cb: { enable: false, rollback: false } });
    await w.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    await w.step(10 * 60_000);
    const primary = (await w.describe()).deployments.find((d) => d.status === "PRIMARY")!;
    assert.equal(primary.rolloutState, "IN_PROGRESS");
    assert.ok(primary.failedTasks! > 20, `failedTasks ${primary.failedTasks}`);
  });

  it("stage 2: tasks that run but fail load-balancer health checks trip it", async () => {
    const w = world({ lb: true, faults: [{ image: "web:bad", failsHealthChecks: true }] });
    await w.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    await w.step(10 * 60_000);
    const failed = (await w.describe()).deployments.find((d) => d.taskDefinition.endsWith("web:2"));
    // After the rollback completes the failed deployment leaves the list; read the events instead.
    const events = (await w.describe()).events.map((e) => e.message);
    assert.equal(failed, undefined);
    assert.ok(events.some((m) => /deployment failed: tasks failed to start\./.test(m)), events.join("\n"));
    const stopped = await w.ecs.describeTasks("prod", await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" }));
    assert.ok(stopped.tasks.some((t) => /^Task failed ELB health checks in \(target-group arn:aws:elasticloadbalancing:.*:targetgroup\/web\//.test(t.stoppedReason ?? "")));
  });

  it("the failed count resets to zero once a task runs successfully", async () => {
    // Pulls fail only for tasks launched in the first 20 s; later ones succeed.
    const w = world({ cb: { enable: false, rollback: false }, faults: [{ image: "web:bad", pullFails: true, until: "20s" }] });
    await w.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    let maxFailed = 0;
    let primary;
    for (let i = 0; i < 600; i++) {
      await w.step();
      primary = (await w.describe()).deployments.find((d) => d.status === "PRIMARY")!;
      maxFailed = Math.max(maxFailed, primary.failedTasks!);
      if (primary.rolloutState === "COMPLETED") break;
    }
    assert.ok(maxFailed >= 4, `saw ${maxFailed} failures`);
    assert.ok(primary);
    assert.equal(primary.rolloutState, "COMPLETED");
    assert.equal(primary.failedTasks, 0);
  });
});
