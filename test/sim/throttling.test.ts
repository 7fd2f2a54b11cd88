import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld } from "./world.ts";

const TD = [{ family: "app", containerDefinitions: [{ name: "app", image: "app:1" }] }];
const services = Array.from({ length: 60 }, (_, i) => ({ cluster: "prod", serviceName: `s${i}`, taskDefinition: "app:1", desiredCount: 0 }));

describe("request-rate buckets and API faults", () => {
  it("UpdateService: a burst of 50, then ThrottlingException 'Rate exceeded' until the bucket refills at 5/s", async () => {
    const w = scenarioWorld({ throttling: true, clusters: ["prod"], taskDefinitions: TD, services });
    const results = await Promise.allSettled(services.map((s) => w.ecs.updateService({ cluster: "prod", service: s.serviceName, desiredCount: 1 })));
    const rejected = results.filter((r) => r.status === "rejected");
    assert.equal(results.length - rejected.length, 50);
    assert.equal(rejected.length, 10);
    const e = (rejected[0] as PromiseRejectedResult).reason as { name: string; message: string; throttling: boolean };
    assert.deepEqual([e.name, e.message, e.throttling], ["ThrottlingException", "Rate exceeded", true]);
    await w.clock.advance(199);
    await assert.rejects(w.ecs.updateService({ cluster: "prod", service: "s0", desiredCount: 2 }), { name: "ThrottlingException" });
    await w.clock.advance(1);
    await w.ecs.updateService({ cluster: "prod", service: "s0", desiredCount: 2 });
  });

  it("reads draw from their own bucket: a write burst does not block DescribeServices", async () => {
    const w = scenarioWorld({ throttling: true, clusters: ["prod"], taskDefinitions: TD, services });
    await Promise.allSettled(services.map((s) => w.ecs.updateService({ cluster: "prod", service: s.serviceName, desiredCount: 1 })));
    const r = await w.ecs.describeServices("prod", services.map((s) => s.serviceName));
    assert.equal(r.services.length, 60);
  });

  it("injected error rates and latency apply to the named operation only", async () => {
    const w = scenarioWorld({
      clusters: ["prod"],
      taskDefinitions: TD,
      services: services.slice(0, 1),
      faults: { apis: [{ operation: "UpdateService", errorRate: 1, error: "AccessDeniedException", message: "User is not authorized to perform: ecs:UpdateService" }, { operation: "DescribeServices", latency: "2s" }] },
    });
    await assert.rejects(w.ecs.updateService({ cluster: "prod", service: "s0", desiredCount: 1 }), { name: "AccessDeniedException", message: "User is not authorized to perform: ecs:UpdateService" });
    const before = w.clock.now();
    const p = w.ecs.describeServices("prod", ["s0"]);
    await w.clock.advance(2_000);
    assert.equal((await p).services.length, 1);
    assert.equal(w.clock.now() - before, 2_000);
  });

  it("an error rate below 1 fails a matching share of calls, reproducibly with the seed", async () => {
    const run = async () => {
      const w = scenarioWorld({ seed: 7, clusters: ["prod"], taskDefinitions: TD, services: services.slice(0, 1), faults: { apis: [{ operation: "DescribeServices", errorRate: 0.3 }] } });
      const r = await Promise.allSettled(Array.from({ length: 200 }, () => w.ecs.describeServices("prod", ["s0"])));
      return r.map((x) => x.status === "rejected");
    };
    const a = await run();
    const failures = a.filter(Boolean).length;
    assert.ok(failures > 30 && failures < 90, `${failures} of 200 failed`);
    assert.deepEqual(await run(), a);
  });
});

describe("Fargate task launch rate", () => {
  it("launches 100 tasks at once and then 20 per second; later tasks stay PROVISIONING longer", async () => {
    const w = scenarioWorld({ throttling: true, clusters: ["prod"], taskDefinitions: TD });
    await w.ecs.createService({ cluster: "prod", serviceName: "big", taskDefinition: "app:1", desiredCount: 200 });
    await w.step(0);
    const pendingAfter = async (ms: number) => {
      await w.step(ms);
      return (await w.service("big")).deployments[0]!;
    };
    // Provisioning takes 5 s; the first 100 tasks reach PENDING then, the rest at 20 per second.
    const at5 = await pendingAfter(5_000);
    const provisioning = () => [...w.sim.clusters.get("prod")!.tasks.values()].filter((t) => t.lastStatus === "PROVISIONING").length;
    assert.equal(at5.pendingCount, 200);
    assert.equal(provisioning(), 100);
    await pendingAfter(2_000);
    assert.equal(provisioning(), 60);
    await pendingAfter(3_000);
    assert.equal(provisioning(), 0);
  });

  it("is off when the scenario turns throttling off", async () => {
    const w = scenarioWorld({ throttling: false, clusters: ["prod"], taskDefinitions: TD });
    await w.ecs.createService({ cluster: "prod", serviceName: "big", taskDefinition: "app:1", desiredCount: 200 });
    await w.step(5_000);
    assert.equal([...w.sim.clusters.get("prod")!.tasks.values()].filter((t) => t.lastStatus === "PROVISIONING").length, 0);
  });
});
