import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { resilientPorts } from "../../src/aws/resilient.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";

describe("resilientPorts over the simulator", () => {
  it("pushes 120 UpdateService calls through ECS's throttling without a single failure, at the bucket's pace", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const services = Array.from({ length: 120 }, (_, i) => ({ cluster: "prod", serviceName: `s${i}`, taskDefinition: "app:1", desiredCount: 0 }));
    const sim = loadScenario(parseScenario({ throttling: true, clusters: ["prod"], taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "a" }] }], services }), clock);
    const ports = resilientPorts(sim.ports(), { clock });
    const t0 = clock.now();
    const results = await Promise.allSettled(services.map((s) => ports.ecs.updateService({ cluster: "prod", service: s.serviceName, desiredCount: 1 })));
    assert.equal(results.filter((r) => r.status === "rejected").length, 0);
    // 50 at once, then 5 per second: (120 − 50) / 5 = 14 s.
    assert.equal(clock.now() - t0, 14_000);
    assert.equal(sim.calls.get("UpdateService"), 120, "no request was throttled, so none was retried");
  });

  it("retries injected server errors", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sim = loadScenario(parseScenario({ seed: 3, clusters: ["prod"], faults: { apis: [{ operation: "DescribeServices", errorRate: 0.5 }] } }), clock);
    const ports = resilientPorts(sim.ports(), { clock, retry: { maxAttempts: 12 } });
    for (let i = 0; i < 20; i++) assert.equal((await ports.ecs.describeServices("prod", ["x"])).failures.length, 1);
    assert.ok((sim.calls.get("DescribeServices") ?? 0) > 20);
  });
});

describe("resilientPorts batching", () => {
  it("coalesces 100 concurrent status polls in one cluster into 10 DescribeServices requests", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const services = Array.from({ length: 100 }, (_, i) => ({ cluster: "prod", serviceName: `s${i}`, taskDefinition: "app:1", desiredCount: 0 }));
    const sim = loadScenario(parseScenario({ clusters: ["prod"], taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "a" }] }], services }), clock);
    const ports = resilientPorts(sim.ports(), { clock });
    const results = await Promise.all([...services.map((s) => ports.ecs.describeServices("prod", [s.serviceName])), ports.ecs.describeServices("prod", ["ghost"])]);
    assert.equal(sim.calls.get("DescribeServices"), 11);
    assert.equal(results[42]!.services[0]!.serviceName, "s42");
    assert.equal(results[42]!.services.length, 1);
    assert.equal(results[100]!.failures[0]!.reason, "MISSING");
  });
});
