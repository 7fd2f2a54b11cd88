/**
 * Crash safety of rolling deployments: the process dies before or after every single effect of a
 * deployment; a new runner on the same store resumes it. Whatever the instant, the deployment ends
 * Succeeded (good image) or RolledBack (bad image), the service runs the right revision with its
 * desired tasks, and no second service or deployment appears.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Runner } from "../../src/deploy/runner.ts";
import { DEFAULT_LEASE_TTL_MS } from "../../src/deploy/ownership.ts";
import type { Effect } from "../../src/deploy/machine.ts";
import { engine, rollingSpec } from "../helpers/engine.ts";

class Crash extends Error {}

async function effectsOfOneRun(image: string, fault?: (e: Awaited<ReturnType<typeof engine>>) => void, create = false): Promise<Effect["type"][]> {
  const e = await engine();
  if (!create) await e.deploy(rollingSpec("web", "nginx:1"));
  fault?.(e);
  const seen: Effect["type"][] = [];
  const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, hooks: { beforeEffect: (x) => void seen.push(x.type) } });
  await runner.run(await runner.create(rollingSpec("web", image), { strategy: "rolling" }));
  await e.close();
  return seen;
}

async function crashAndResume(image: string, at: number, when: "before" | "after", fault?: (e: Awaited<ReturnType<typeof engine>>) => void, create = false) {
  const e = await engine();
  if (!create) await e.deploy(rollingSpec("web", "nginx:1"));
  fault?.(e);
  let n = 0;
  const crash = () => {
    if (++n === at) throw new Crash(`crash ${when} effect ${at}`);
  };
  const dying = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, hooks: when === "before" ? { beforeEffect: crash } : { afterEffect: crash } });
  const created = await dying.create(rollingSpec("web", image), { strategy: "rolling" });
  await assert.rejects(dying.run(created), Crash);
  // The restarted process adopts the deployment once the dead one's lease has run out (a thrown
  // exception releases it; a killed process's lease expires).
  await e.clock.sleep(DEFAULT_LEASE_TTL_MS);
  const restarted = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock });
  const [settled, ...others] = await restarted.resumeAll();
  assert.equal(others.length, 0, "exactly one unfinished deployment is found");
  assert.equal(settled!.error, undefined, "the resumed deployment runs to its end without an exception");
  const svc = (await e.sim.ports().ecs.describeServices("apps", ["web"])).services;
  const deployments = await e.store.listDeployments({ object: "apps/web/web" });
  await e.close();
  return { resumed: settled!.deployment, svc, deployments: deployments.items };
}

describe("rolling deployments survive a crash at any instant", async () => {
  const good = await effectsOfOneRun("nginx:2");
  const badFault = (e: Awaited<ReturnType<typeof engine>>) => e.sim.faults.addImageFault({ image: "nginx:bad", exitAfterMs: 1000 });
  const bad = await effectsOfOneRun("nginx:bad", badFault);
  const creation = await effectsOfOneRun("nginx:1", undefined, true);

  it(`a normal run has the steps we crash at (${good.length} good, ${bad.length} bad)`, () => {
    assert.ok(good.includes("registerTaskDefinition") && good.includes("updateService"));
    assert.ok(bad.filter((t) => t === "updateService").length === 2, "update, then the rollback update");
  });

  it("first creation: a crash before or after each effect, then a restart, creates exactly one service", async () => {
    for (const when of ["before", "after"] as const) {
      assert.ok(creation.includes("createService"));
      for (let at = 1; at <= creation.length; at++) {
        const { resumed, svc, deployments } = await crashAndResume("nginx:1", at, when, undefined, true);
        const label = `crash ${when} effect ${at}`;
        assert.equal(resumed.phase, "Succeeded", `${label}: ${resumed.reason} ${resumed.message}`);
        assert.equal(svc.length, 1, label);
        assert.equal(svc[0]!.runningCount, 4, label);
        assert.equal(deployments.length, 1, label);
      }
    }
  });

  it("Given a first creation with an image that cannot be pulled (default depdef, deleteNewUponFailure), When Flotilla crashes before or after each of its effects and restarts, Then it ends Failed once, with the new service scaled to 0", async () => {
    const nopull = (e: Awaited<ReturnType<typeof engine>>) => e.sim.faults.addImageFault({ image: "nginx:nopull", pullFails: true });
    const failing = await effectsOfOneRun("nginx:nopull", nopull, true);
    assert.deepEqual(failing.filter((t) => t === "createService" || t === "updateService"), ["createService", "updateService"], "create, then the scale to 0");
    for (const when of ["before", "after"] as const) {
      for (let at = 1; at <= failing.length; at++) {
        const { resumed, svc, deployments } = await crashAndResume("nginx:nopull", at, when, nopull, true);
        const label = `crash ${when} effect ${at} (${failing[at - 1]})`;
        assert.equal(resumed.phase, "Failed", `${label}: ${resumed.reason} ${resumed.message}`);
        assert.equal(resumed.reason, "CircuitBreakerTripped", label);
        assert.match(resumed.message ?? "", /scaled to 0/, label);
        assert.equal(svc.length, 1, label);
        assert.equal(svc[0]!.desiredCount, 0, `${label}: the new service is scaled to 0`);
        assert.equal(deployments.length, 1, label);
      }
    }
  });

  for (const when of ["before", "after"] as const) {
    it(`good image: a crash ${when} each of its effects, then a restart, ends Succeeded on the new revision`, async () => {
      for (let at = 1; at <= good.length; at++) {
        const { resumed, svc, deployments } = await crashAndResume("nginx:2", at, when);
        const label = `crash ${when} effect ${at} (${good[at - 1]})`;
        assert.equal(resumed.phase, "Succeeded", `${label}: ${resumed.reason} ${resumed.message}`);
        assert.equal(svc.length, 1, label);
        assert.match(svc[0]!.taskDefinition ?? "", /web:\d+$/, label);
        assert.equal(svc[0]!.taskDefinition, resumed.newTaskDefinitionArn, `${label}: the service runs the revision the record names`);
        assert.equal(svc[0]!.runningCount, 4, label);
        assert.equal(deployments.length, 2, `${label}: no extra deployment record`);
      }
    });
    it(`bad image: a crash ${when} each of its effects, then a restart, ends RolledBack on the old revision`, async () => {
      for (let at = 1; at <= bad.length; at++) {
        const { resumed, svc } = await crashAndResume("nginx:bad", at, when, badFault);
        const label = `crash ${when} effect ${at} (${bad[at - 1]})`;
        assert.equal(resumed.phase, "RolledBack", `${label}: ${resumed.reason} ${resumed.message}`);
        assert.match(svc[0]!.taskDefinition ?? "", /web:1$/, label);
        assert.equal(svc[0]!.runningCount, 4, label);
      }
    });
  }
});
