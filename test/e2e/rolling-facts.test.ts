/**
 * Rolling deployments rest on what ECS reports: a deployment whose counts an endpoint leaves out of
 * DescribeServices is never read as "0/0 running" (and so never as stable), as with task sets.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../src/aws/ports.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { engine, rollingSpec, withEcs, type Engine } from "../helpers/engine.ts";

let e: Engine | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

/** A deployment as the SDK adapter maps one whose counts AWS omitted. */
function withoutCounts(d: Deployment): Deployment {
  const { desiredCount: _d, runningCount: _r, pendingCount: _p, failedTasks: _f, ...rest } = d;
  return rest;
}

describe("rolling: ECS deployment counts, not assumptions", () => {
  it("Given an endpoint whose DescribeServices omits the deployments' counts, When the new deployment is COMPLETED, Then it is not a success on '0/0 running': it times out and says the counts were not reported", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    const aws = withEcs(e.sim.portsFactory(), (ecs) => ({
      describeServices: async (cluster, names) => {
        const out = await ecs.describeServices(cluster, names);
        return { ...out, services: out.services.map((s) => ({ ...s, deployments: s.deployments.map(withoutCounts) })) };
      },
    }));
    const runner = new Runner({ store: e.store, aws, clock: e.clock });
    const d = await runner.run(await runner.create(rollingSpec("web", "nginx:2", { depdef: { stabilityCheck: { pollInterval: 15, timeout: 120 } } }), { strategy: "rolling" }));
    assert.notEqual(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    assert.match(d.message ?? "", /did not stabilise in time: \?\/4 tasks running after 120s; ECS did not report the deployment's counts/);
    const progress = (await e.events(d)).filter((x) => x.type === "Progress").map((x) => x.message);
    assert.ok(progress.some((m) => m.startsWith("?/? running, ? pending")), progress.join(" | "));
  });

  it("Given an endpoint that reports the counts, Then the same deployment succeeds (the counts, not the endpoint, decide)", async () => {
    e = await engine();
    await e.deploy(rollingSpec("web", "nginx:1"));
    const d = await e.deploy(rollingSpec("web", "nginx:2", { depdef: { stabilityCheck: { pollInterval: 15, timeout: 120 } } }));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
  });
});
