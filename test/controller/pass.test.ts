/**
 * The decision path apply and the controller share (src/controller/pass.ts): which deletes run,
 * counted in the pass's scope, and running deployments a few at a time, each contained.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { StartPacer } from "../../src/controller/pacing.ts";
import { decideDeletes, deleteJob, managedServices, runPass, type PassJob } from "../../src/controller/pass.ts";
import type { Deployment } from "../../src/store/types.ts";
import { engine, rollingSpec, type Engine } from "../helpers/engine.ts";

let e: Engine | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

/** A succeeded deployment of `service` recorded for `repository` (null: by `flotilla apply`). */
async function managed(w: Engine, service: string, repository: string | null): Promise<void> {
  const spec = rollingSpec(service, "nginx:1");
  await w.store.createDeployment({ object: spec.object, repository, strategy: "rolling", region: spec.region, cluster: spec.cluster, service, phase: "Succeeded", machineState: { spec } });
}

const policy = { allowDelete: true, maxDeleteFraction: 0.5 };

describe("which deletes of a pass run", () => {
  it("Given six managed services, When three are deleted (exactly the limit), Then they run; When four (one over), Then all wait as a mass delete", async () => {
    e = await engine();
    for (const s of ["a", "b", "c", "d", "e", "f"]) await managed(e, s, "apps");
    const scope = { store: e.store, repository: "apps", unreadable: [] };
    assert.deepEqual(await decideDeletes(3, scope, policy), { held: false });
    const over = await decideDeletes(4, scope, policy);
    assert.equal(over.held && over.reason, "mass-delete");
    assert.match(over.held ? over.message : "", /4 of 6 managed services/);
    assert.deepEqual(await decideDeletes(4, scope, { ...policy, confirmMassDelete: true }), { held: false }, "apply's --confirm-mass-delete");
  });

  it("Given services of a repository and of apply, Then each scope counts only its own: the controller a repository's, apply those with none", async () => {
    e = await engine();
    for (const s of ["a", "b", "c", "d"]) await managed(e, s, "apps");
    await managed(e, "x", null);
    await managed(e, "y", null);
    assert.equal(await managedServices(e.store, "apps"), 4);
    assert.equal(await managedServices(e.store, null), 2);
    assert.equal(await managedServices(e.store, "other"), 0);
    // Two of apply's two is all of them; two of the repository's four is half.
    const two = (repository: string | null) => decideDeletes(2, { store: e!.store, repository, unreadable: [] }, policy);
    assert.equal((await two(null)).held, true);
    assert.equal((await two("apps")).held, false);
  });

  it("Given an unreadable object, Then deletes wait as unsafe before anything else; Given deletes off, Then they wait as deletes-off before the guard", async () => {
    e = await engine();
    const scope = { store: e.store, repository: "apps", unreadable: ["apps/b/b"] };
    const unsafe = await decideDeletes(1, scope, { allowDelete: false, maxDeleteFraction: 0 });
    assert.deepEqual(unsafe, { held: true, reason: "unsafe", message: "apps/b/b cannot be read and may manage the service" });
    const off = await decideDeletes(5, { ...scope, unreadable: [] }, { allowDelete: false, maxDeleteFraction: 0 });
    assert.equal(off.held && off.reason, "deletes-off");
    assert.deepEqual(await decideDeletes(0, scope, policy), { held: false }, "nothing to delete, nothing held");
  });
});

describe("running a pass", () => {
  it("Given five deployments and concurrency 2, Then at most two run at once and all end", async () => {
    e = await engine();
    const jobs: PassJob[] = ["a", "b", "c", "d", "e"].map((s) => ({ object: `apps/${s}/${s}`, spec: rollingSpec(s, "nginx:1"), strategy: "rolling" }));
    const announced: string[] = [];
    const runs = await runPass(e.runner, jobs, { concurrency: 2, pacer: new StartPacer(e.clock), created: (job, d) => void announced.push(`${job.object} ${d.phase}`) });
    assert.deepEqual(runs.map((r) => r.deployment?.phase), ["Succeeded", "Succeeded", "Succeeded", "Succeeded", "Succeeded"]);
    assert.deepEqual(announced.sort(), jobs.map((j) => `${j.object} Pending`), "each announced once recorded, before it ran");
    const overlaps = maxOverlap(runs.map((r) => r.deployment!));
    assert.equal(overlaps, 2, "two at once, never more");
  });

  it("Given a deployment that cannot be created (its service has one running), Then it is reported as not created and the others still run", async () => {
    e = await engine();
    const busy = rollingSpec("busy", "nginx:1");
    await e.store.createDeployment({ object: busy.object, strategy: "rolling", region: busy.region, cluster: busy.cluster, service: "busy", phase: "Deploying", machineState: { spec: busy } });
    const calm = rollingSpec("calm", "nginx:1");
    const runs = await runPass(e.runner, [deleteJob(busy.object, busy), { object: calm.object, spec: calm, strategy: "rolling" }], { concurrency: 2, pacer: new StartPacer(e.clock) });
    assert.ok(runs[0]!.notCreated instanceof Error);
    assert.equal(runs[0]!.deployment, undefined);
    assert.match(runs[0]!.error ?? "", /busy/);
    assert.equal(runs[1]!.deployment?.phase, "Succeeded");
  });
});

/** The most deployments whose [createdAt, finishedAt] spans overlap at one instant. */
function maxOverlap(ds: readonly Deployment[]): number {
  const points = ds.flatMap((d) => [[d.createdAt, 1] as const, [d.finishedAt ?? d.updatedAt, -1] as const]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of points) most = Math.max(most, (now += delta));
  return most;
}
