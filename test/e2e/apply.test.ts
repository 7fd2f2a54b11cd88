/**
 * `apply` end to end: a tree of objects on disk, the simulator, the store. Given/When/Then.
 */
import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { apply, type ApplyOptions } from "../../src/controller/apply.ts";
import { rollbackObject } from "../../src/controller/rollback.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { engine, type Engine } from "../helpers/engine.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";
import { writeFileSync } from "node:fs";

let e: Engine;
afterEach(async () => e?.close());
after(cleanupTrees);

const svc = (name: string, over: Record<string, unknown> = {}) => ({ cluster: "apps", serviceName: name, desiredCount: 2, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }, ...over });
const task = (family: string, image: string) => ({ family, containerDefinitions: [{ name: "app", image, memory: 128 }] });

async function run(dir: string, over: Partial<ApplyOptions> = {}) {
  const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }));
  return apply(repo.objects, { store: e.store, aws: e.sim.portsFactory(), runner: e.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 4, ...over });
}
const actions = (r: Awaited<ReturnType<typeof run>>) => Object.fromEntries(r.decisions.map((d) => [d.object, d.action]));

describe("apply", () => {
  it("Given deployed objects, When applied again unchanged, Then nothing deploys (no-op)", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1") });
    const first = await run(dir);
    assert.deepEqual(actions(first), { "a/a": "create", "b/b": "create" });
    assert.deepEqual(first.deployments.map((d) => d.phase), ["Succeeded", "Succeeded"]);
    const second = await run(dir);
    assert.deepEqual(actions(second), { "a/a": "none", "b/b": "none" });
    assert.equal(second.deployments.length, 0);
  });

  it("Given a depdef-only change, When applied, Then nothing deploys", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "a/a_depdef.json": { stabilityCheck: { timeout: 300 } } });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_depdef.json"), JSON.stringify({ stabilityCheck: { timeout: 900 } }));
    const r = await run(dir);
    assert.deepEqual(actions(r), { "a/a": "none" });
  });

  it("Given a service changed outside Flotilla, When applied, Then the drift is an update, with the live diff as the reason", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1") });
    await run(dir);
    await e.sim.ports().ecs.updateService({ cluster: "apps", service: "a", desiredCount: 5 });
    const r = await run(dir);
    assert.deepEqual(actions(r), { "a/a": "update", "b/b": "none" });
    assert.match(r.decisions.find((d) => d.object === "a/a")!.why, /the service differs: \$\.desiredCount changed/);
    const live = (await e.sim.ports().ecs.describeServices("apps", ["a"])).services[0]!;
    assert.equal(live.desiredCount, 2, "put back as the svcdef says");
  });

  it("Given a svcdef change that only spells out ECS defaults, When applied, Then nothing deploys", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1") });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_svcdef.json"), JSON.stringify(svc("a", { schedulingStrategy: "REPLICA", enableExecuteCommand: false, propagateTags: "NONE" })));
    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify({ ...task("a", "nginx:1"), containerDefinitions: [{ name: "app", image: "nginx:1", memory: 128, essential: true, cpu: 0 }] }));
    const r = await run(dir);
    assert.deepEqual(actions(r), { "a/a": "none" }, r.decisions[0]!.why);
  });

  it("Given a changed image, When applied, Then only that object updates", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1") });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify(task("a", "nginx:2")));
    const r = await run(dir);
    assert.deepEqual(actions(r), { "a/a": "update", "b/b": "none" });
    assert.match(r.deployments[0]!.newTaskDefinitionArn ?? "", /a:2$/);
  });

  it("Given a removed taskdef, When applied, Then the service is deployed with the svcdef's taskDefinition", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a", { taskDefinition: "a:1" }), "a/a_taskdef.json": task("a", "nginx:1") });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify(task("a", "nginx:2")));
    await run(dir);
    rmSync(path.join(dir, "a/a_taskdef.json"));
    const r = await run(dir);
    assert.equal(r.deployments[0]!.phase, "Succeeded", `${r.deployments[0]!.reason} ${r.deployments[0]!.message}`);
    assert.match(r.deployments[0]!.newTaskDefinitionArn ?? "", /a:1$/, "the svcdef's taskDefinition, not a new registration");
  });

  it("Given a removed svcdef, Then the delete is held back without --allow-delete, and happens with it", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1"), "c/c_svcdef.json": svc("c"), "c/c_taskdef.json": task("c", "nginx:1") });
    await run(dir);
    rmSync(path.join(dir, "a/a_svcdef.json"));
    const held = await run(dir);
    const del = held.decisions.find((d) => d.object === "a/a")!;
    assert.equal(del.action, "delete");
    assert.match(del.action === "delete" ? (del.held?.message ?? "") : "", /--allow-delete/);
    assert.equal(held.deployments.length, 0);
    const done = await run(dir, { allowDelete: true });
    assert.equal(done.deployments[0]!.strategy, "delete");
    assert.equal(done.deployments[0]!.phase, "Succeeded");
    const live = await e.sim.ports().ecs.describeServices("apps", ["a", "b"]);
    assert.deepEqual(live.services.filter((s) => s.status === "ACTIVE").map((s) => s.serviceName), ["b"]);
  });

  it("Given a tree that would delete most managed services, Then the pass is refused unless confirmed", async () => {
    e = await engine();
    const files: Record<string, object> = {};
    for (const n of ["a", "b", "c", "d"]) Object.assign(files, { [`${n}/${n}_svcdef.json`]: svc(n), [`${n}/${n}_taskdef.json`]: task(n, "nginx:1") });
    const dir = writeTree(files);
    await run(dir);
    for (const n of ["a", "b", "c"]) rmSync(path.join(dir, `${n}/${n}_svcdef.json`));
    const refused = await run(dir, { allowDelete: true });
    assert.equal(refused.deployments.length, 0);
    assert.ok(refused.decisions.every((d) => d.action !== "delete" || (d.held?.reason === "mass-delete" && /3 of 4/.test(d.held.message))));
    const confirmed = await run(dir, { allowDelete: true, confirmMassDelete: true });
    assert.equal(confirmed.deployments.filter((d) => d.strategy === "delete" && d.phase === "Succeeded").length, 3);
  });

  it("--object selects by name or by path prefix", async () => {
    e = await engine();
    const dir = writeTree({ "dev/a/a_svcdef.json": svc("a"), "dev/a/a_taskdef.json": task("a", "nginx:1"), "prod/b/b_svcdef.json": svc("b"), "prod/b/b_taskdef.json": task("b", "nginx:1") });
    assert.deepEqual(actions(await run(dir, { only: ["dev/"] })), { "dev/a/a": "create" });
    assert.deepEqual(actions(await run(dir, { only: ["prod/b/b"] })), { "prod/b/b": "create" });
    assert.deepEqual(actions(await run(dir, { only: ["prod/b"] })), { "prod/b/b": "none" });
  });

  it("Given an invalid object, Then it fails alone and the others deploy", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": { ...svc("b"), desiredCont: 1 } });
    const r = await run(dir);
    assert.deepEqual(actions(r), { "a/a": "create", "b/b": "invalid" });
    assert.equal(r.deployments.length, 1);
    assert.equal(r.deployments[0]!.phase, "Succeeded");
  });

  it("Given an apply that crashed mid-deployment, When apply runs again, Then the unfinished deployment is resumed first", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1") });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify(task("a", "nginx:2")));
    let n = 0;
    const dying = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, hooks: { afterEffect: () => { if (++n === 4) throw new Error("killed"); } } });
    const stopped = await run(dir, { runner: dying });
    assert.deepEqual(stopped.errors.map((x) => [x.object, x.message]), [["a/a", "killed"]], "the stop is reported, not thrown");
    assert.equal(stopped.deployments[0]!.phase, "Stabilizing", "left unfinished, as recorded");
    const r = await run(dir);
    assert.equal(r.resumed.length, 1);
    assert.equal(r.resumed[0]!.phase, "Succeeded", `${r.resumed[0]!.reason} ${r.resumed[0]!.message}`);
    assert.deepEqual(actions(r), { "a/a": "none" }, "once resumed, nothing is left to do");
  });

  it("Given a new object whose image cannot be pulled beside a healthy one, When applied with the default depdef, Then the failure is reported with the neighbour's success", async () => {
    e = await engine();
    e.sim.faults.addImageFault({ image: "nginx:nopull", pullFails: true });
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:nopull") });
    const r = await run(dir);
    assert.deepEqual(Object.fromEntries(r.deployments.map((d) => [d.object, d.phase])), { "a/a": "Succeeded", "b/b": "Failed" });
    assert.deepEqual(r.errors, []);
    const b = r.deployments.find((d) => d.object === "b/b")!;
    assert.match(b.message ?? "", /scaled to 0/);
    assert.equal((await e.store.activeDeployments()).length, 0, "nothing is left half-finished");
  });

  it("Given one deployment that stops with an exception, When applied, Then the pass reports it beside the others' results and the next apply finishes it", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1"), "c/c_svcdef.json": svc("c"), "c/c_taskdef.json": task("c", "nginx:1") });
    const breaking = new Runner({
      store: e.store,
      aws: e.sim.portsFactory(),
      clock: e.clock,
      hooks: { beforeEffect: (effect, d) => { if (d.object === "b/b" && effect.type === "createService") throw new Error("the store went away"); } },
    });
    const r = await run(dir, { runner: breaking });
    assert.deepEqual(Object.fromEntries(r.deployments.map((d) => [d.object, d.phase])), { "a/a": "Succeeded", "b/b": "Deploying", "c/c": "Succeeded" });
    assert.deepEqual(r.errors.map((x) => [x.object, x.message]), [["b/b", "the store went away"]]);
    assert.equal(r.errors[0]!.deploymentId, r.deployments.find((d) => d.object === "b/b")!.id);
    assert.ok((await e.store.listEvents(r.errors[0]!.deploymentId ?? "")).some((x) => x.type === "Interrupted"), "the stop is on the deployment's timeline");
    const again = await run(dir);
    assert.deepEqual(again.resumed.map((d) => [d.object, d.phase]), [["b/b", "Succeeded"]]);
    assert.deepEqual(again.errors, []);
  });

  it("Given two deployed revisions, When rolled back, Then the previous revision runs, as a recorded deployment stamped by the injected clock", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1") });
    await run(dir);
    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify(task("a", "nginx:2")));
    await run(dir);
    const d = await rollbackObject(e.store, e.runner, "a/a", "tester", e.clock);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.match(d.newTaskDefinitionArn ?? "", /a:1$/);
    assert.deepEqual(d.overrides.map((o) => [o.name, o.setBy]), [["rollback", "tester"]]);
    assert.equal(d.overrides[0]!.at, d.createdAt, "the request is stamped by the injected clock, not the wall clock");
    const live = (await e.sim.ports().ecs.describeServices("apps", ["a"])).services[0]!;
    assert.match(live.taskDefinition ?? "", /a:1$/);
    const history = await e.store.listDeployments({ object: "a/a" });
    assert.equal(history.items.length, 3);
  });
});
