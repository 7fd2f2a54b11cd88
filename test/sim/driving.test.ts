/**
 * How a deployment engine drives the simulator: an auto-advancing virtual clock, the resilient
 * ports, and plain `await clock.sleep()` waits. Half an hour of polling runs in milliseconds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { openSimulator } from "../../src/sim/open.ts";
import { parseScenario } from "../../src/sim/scenario.ts";
import { WEB_TG } from "./world.ts";

describe("driving the simulator like a deployment engine", () => {
  it("a rolling update polled every 15 s until the PRIMARY deployment completes", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const { ports } = openSimulator(
      parseScenario({
        clusters: ["prod"],
        taskDefinitions: [{ family: "api", containerDefinitions: [{ name: "api", image: "api:1" }] }],
        services: Array.from({ length: 30 }, (_, i) => ({ cluster: "prod", serviceName: `api-${i}`, taskDefinition: "api:1", desiredCount: 4 })),
      }),
      clock,
    );
    const t0 = clock.now();
    // 30 concurrent "deployments", each registering, updating and polling on its own.
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const td = await ports.ecs.registerTaskDefinition({ family: "api", containerDefinitions: [{ name: "api", image: "api:2" }] });
        await ports.ecs.updateService({ cluster: "prod", service: `api-${i}`, taskDefinition: td.taskDefinitionArn });
        for (;;) {
          const s = (await ports.ecs.describeServices("prod", [`api-${i}`])).services[0]!;
          const primary = s.deployments.find((d) => d.status === "PRIMARY")!;
          if (primary.rolloutState !== "IN_PROGRESS") return primary.rolloutState;
          await clock.sleep(15_000);
        }
      }),
    );
    assert.deepEqual(new Set(outcomes), new Set(["COMPLETED"]));
    const minutes = (clock.now() - t0) / 60_000;
    // 20 RegisterTaskDefinition burst, then 1 per second: the last of 30 registers ~10 s late.
    assert.ok(minutes > 0.5 && minutes < 5, `${minutes} simulated minutes`);
  });

  it("a blue/green canary whose alarm fires: the engine sees ALARM during the wait and shifts back", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const { ports, sim } = openSimulator(
      parseScenario({
        clusters: ["prod"],
        taskDefinitions: [
          { family: "web", containerDefinitions: [{ name: "web", image: "web:1", portMappings: [{ containerPort: 80 }] }] },
          { family: "web", containerDefinitions: [{ name: "web", image: "web:2-broken", portMappings: [{ containerPort: 80 }] }] },
        ],
        targetGroups: [WEB_TG, { ...WEB_TG, name: "green" }],
        loadBalancers: [{ name: "lb", listeners: [{ port: 443, defaultActions: [{ targetGroups: [{ targetGroup: "web", weight: 100 }, { targetGroup: "green", weight: 0 }] }] }] }],
        services: [{ cluster: "prod", serviceName: "web", taskDefinition: "web:1", desiredCount: 4, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroup: "web", containerName: "web", containerPort: 80 }] }],
        alarms: [{ name: "web-5xx", when: { imageServing: "*-broken", minTrafficPercent: 1, for: "2m" } }],
      }),
      clock,
    );
    const blue = sim.elb.targetGroupArn("web");
    const green = sim.elb.targetGroupArn("green");
    const [listener] = await ports.elbv2.describeListeners({ loadBalancerArn: [...sim.elb.loadBalancers.keys()][0]! });
    const weights = (b: number, g: number) => ports.elbv2.modifyListener({ listenerArn: listener!.listenerArn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: blue, weight: b }, { targetGroupArn: green, weight: g }] } }] });

    const ts = await ports.ecs.createTaskSet({ cluster: "prod", service: "web", taskDefinition: "web:2", scale: { value: 100, unit: "PERCENT" }, loadBalancers: [{ targetGroupArn: green, containerName: "web", containerPort: 80 }] });
    while ((await ports.ecs.describeTaskSets({ cluster: "prod", service: "web", taskSets: [ts.id] }))[0]!.stabilityStatus !== "STEADY_STATE") await clock.sleep(10_000);
    const shiftedAt = clock.now();
    await weights(80, 20);
    let outcome = "promoted";
    for (let waited = 0; waited < 10 * 60_000; waited += 30_000) {
      const [alarm] = await ports.cloudwatch.describeAlarms(["web-5xx"]);
      if (alarm!.stateValue === "ALARM") {
        await weights(100, 0);
        await ports.ecs.deleteTaskSet({ cluster: "prod", service: "web", taskSet: ts.id });
        outcome = `rolled back after ${(clock.now() - shiftedAt) / 1000}s`;
        break;
      }
      await clock.sleep(30_000);
    }
    assert.equal(outcome, "rolled back after 120s");
    await clock.sleep(5 * 60_000);
    assert.deepEqual((await ports.ecs.describeTaskSets({ cluster: "prod", service: "web" })).map((t) => t.status), ["PRIMARY"]);
    assert.equal((await ports.cloudwatch.describeAlarms(["web-5xx"]))[0]!.stateValue, "OK");
  });
});
