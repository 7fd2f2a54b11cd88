import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { isHealthy, occupies } from "../../src/sim/tasks.ts";
import { rollingBounds } from "../../src/sim/scheduler.ts";
import type { Simulator } from "../../src/sim/simulator.ts";

function steadyService(desired: number, min: number, max: number, withLb: boolean) {
  const clock = new VirtualClock();
  const sim = loadScenario(
    parseScenario({
      throttling: false,
      clusters: ["prod"],
      taskDefinitions: [
        { family: "web", containerDefinitions: [{ name: "web", image: "web:1", portMappings: [{ containerPort: 80 }] }] },
        { family: "web", containerDefinitions: [{ name: "web", image: "web:2", portMappings: [{ containerPort: 80 }] }] },
      ],
      targetGroups: [{ name: "web", healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 20 }],
      loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "web" }] }] }],
      services: [
        {
          cluster: "prod",
          serviceName: "web",
          taskDefinition: "web:1",
          desiredCount: desired,
          deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max },
          ...(withLb ? { loadBalancers: [{ targetGroup: "web", containerName: "web", containerPort: 80 }] } : {}),
        },
      ],
    }),
    clock,
  );
  return { clock, sim };
}

function tasksOf(sim: Simulator) {
  return [...sim.clusters.get("prod")!.tasks.values()].filter((t) => t.lastStatus !== "STOPPED");
}

describe("rolling replacement bounds", () => {
  it("computes the floor with ceil and the ceiling with floor", () => {
    assert.deepEqual(rollingBounds(7, 50, 150), { lower: 4, upper: 10 });
    assert.deepEqual(rollingBounds(10, 100, 200), { lower: 10, upper: 20 });
    assert.deepEqual(rollingBounds(3, 33, 133), { lower: 1, upper: 3 });
  });

  for (const [desired, min, max, lb] of [
    [7, 50, 150, true],
    [10, 100, 200, true],
    [10, 50, 100, true],
    [6, 100, 150, false],
    [5, 0, 100, false],
  ] as const) {
    it(`never leaves [ceil(${desired}×${min}%), floor(${desired}×${max}%)] during a deployment (${lb ? "with" : "without"} a load balancer)`, async () => {
      const { clock, sim } = steadyService(desired, min, max, lb);
      const { lower, upper } = rollingBounds(desired, min, max);
      await sim.ports().ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
      let minHealthy = Infinity;
      let maxOccupying = 0;
      for (let i = 0; i < 1800; i++) {
        await clock.advance(1000);
        sim.sync();
        const live = tasksOf(sim);
        const healthy = live.filter(isHealthy).length;
        const occupying = live.filter(occupies).length;
        minHealthy = Math.min(minHealthy, healthy);
        maxOccupying = Math.max(maxOccupying, occupying);
        assert.ok(healthy >= lower, `t=${i}s healthy ${healthy} < floor ${lower}`);
        assert.ok(occupying <= upper, `t=${i}s ${occupying} tasks > ceiling ${upper}`);
        const s = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!;
        if (s.deployments.length === 1 && s.deployments[0]!.rolloutState === "COMPLETED" && s.taskDefinition?.endsWith("web:2")) break;
      }
      const s = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!;
      assert.equal(s.deployments[0]!.rolloutState, "COMPLETED");
      assert.equal(s.runningCount, desired);
      // The bounds are not just respected but used: the scheduler goes as fast as they allow.
      assert.equal(maxOccupying, upper);
      assert.equal(minHealthy, Math.max(lower, 0));
    });
  }

  it("counts PROVISIONING and PENDING tasks toward the ceiling", async () => {
    const { clock, sim } = steadyService(6, 100, 150, false);
    await sim.ports().ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    await clock.advance(1000);
    sim.sync();
    const s = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!;
    const primary = s.deployments.find((d) => d.status === "PRIMARY")!;
    assert.equal(primary.pendingCount, 3, "floor(6×150%) − 6 = 3 launched, none running yet");
    assert.equal(primary.runningCount, 0);
    assert.equal(tasksOf(sim).length, 9);
  });

  it("stalls when minimumHealthyPercent and maximumPercent are both 100", async () => {
    const { clock, sim } = steadyService(4, 100, 100, false);
    await sim.ports().ecs.updateService({ cluster: "prod", service: "web", taskDefinition: "web:2" });
    await clock.advance(30 * 60_000);
    sim.sync();
    const s = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!;
    const primary = s.deployments.find((d) => d.status === "PRIMARY")!;
    assert.equal(primary.rolloutState, "IN_PROGRESS");
    assert.equal(primary.runningCount! + primary.pendingCount!, 0);
  });

  it("changing only desiredCount scales the primary without a new deployment", async () => {
    const { clock, sim } = steadyService(2, 100, 200, false);
    const before = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!.deployments[0]!.id;
    await sim.ports().ecs.updateService({ cluster: "prod", service: "web", desiredCount: 5 });
    await clock.advance(60_000);
    const s = (await sim.ports().ecs.describeServices("prod", ["web"])).services[0]!;
    assert.equal(s.deployments.length, 1);
    assert.equal(s.deployments[0]!.id, before);
    assert.equal(s.runningCount, 5);
  });

  it("forceNewDeployment starts a deployment with the same task definition", async () => {
    const { sim } = steadyService(2, 100, 200, false);
    const s = await sim.ports().ecs.updateService({ cluster: "prod", service: "web", forceNewDeployment: true });
    assert.equal(s.deployments.length, 2);
    assert.equal(s.deployments[0]!.taskDefinition, s.deployments[1]!.taskDefinition);
    assert.equal(s.deployments[0]!.rolloutState, "IN_PROGRESS");
    assert.match(s.deployments[0]!.rolloutStateReason!, /^ECS deployment ecs-svc\/\d{19} in progress\.$/);
  });
});
