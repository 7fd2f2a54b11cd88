import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { classifyChanges, type ChangeSet } from "../../src/config/changes.ts";
import { TestRepo } from "../helpers/git-repo.ts";
import { rollingObject, svcdef } from "../helpers/objects.ts";

const repos: TestRepo[] = [];
after(() => repos.forEach((r) => r.cleanup()));
function repo(): TestRepo {
  const r = new TestRepo();
  repos.push(r);
  return r;
}
function byObject(set: ChangeSet): Record<string, { action: string; reason: string }> {
  return Object.fromEntries(set.changes.map((c) => [c.object, { action: c.action, reason: c.reason }]));
}

describe("changes between commits (DESIGN §1)", () => {
  it("given a first commit, when classified, then every object deploys as initial", async () => {
    const r = repo().write({ ...rollingObject("dev/web/web", "web"), ...rollingObject("dev/api/api", "api"), "README.md": "x" });
    const to = r.commit();
    const set = await classifyChanges({ dir: r.dir, to });
    assert.deepEqual(byObject(set), { "dev/api/api": { action: "deploy", reason: "initial" }, "dev/web/web": { action: "deploy", reason: "initial" } });
    assert.equal(set.from, undefined);
  });

  it("given a svcdef, taskdef or input change, then the object deploys", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b"), ...rollingObject("c/c", "c"), "c/c_input.json": { x: 1 } });
    const from = r.commit();
    r.write({ "a/a_svcdef.json": svcdef("a", { desiredCount: 5 }), "b/b_taskdef.json": { family: "b", containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "b".repeat(64), memory: 256 }] }, "c/c_input.json": { x: 2 } });
    const to = r.commit();
    const set = await classifyChanges({ dir: r.dir, from, to });
    assert.deepEqual(byObject(set), {
      "a/a": { action: "deploy", reason: "changed" },
      "b/b": { action: "deploy", reason: "changed" },
      "c/c": { action: "deploy", reason: "changed" },
    });
  });

  it("given only the depdef changed, then nothing deploys", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a"), "a/a_depdef.json": { bakeTime: 0 } });
    const from = r.commit();
    r.write({ "a/a_depdef.json": { stabilityCheck: { timeout: 900 } } });
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(byObject(set), { "a/a": { action: "none", reason: "depdef-only" } });
  });

  it("given objects blocked at the previous commit, then each deploys again unless it changed, was removed or is gone: an unchanged one and one whose depdef alone changed as blocked-before", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b"), ...rollingObject("c/c", "c"), ...rollingObject("d/d", "d"), "b/b_depdef.json": { bakeTime: 0 }, ...rollingObject("e/e", "e") });
    const from = r.commit();
    r.write({ "b/b_depdef.json": { bakeTime: 5 }, "c/c_svcdef.json": svcdef("c", { desiredCount: 3 }) });
    r.remove("d/d_svcdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit(), retry: ["a/a", "b/b", "c/c", "d/d", "gone/gone"] });
    assert.deepEqual(byObject(set), {
      "a/a": { action: "deploy", reason: "blocked-before" },
      "b/b": { action: "deploy", reason: "blocked-before" },
      "c/c": { action: "deploy", reason: "changed" },
      "d/d": { action: "delete", reason: "svcdef-removed" },
    });
    assert.equal(set.changes.find((c) => c.object === "a/a")!.loaded?.identity?.service, "a", "loaded at the new commit, like any deploy");
  });

  it("given a svcdef removed, then the service is deleted, identified from the old commit", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b") });
    const from = r.commit();
    r.remove("a/a_svcdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    const change = set.changes.find((c) => c.object === "a/a")!;
    assert.equal(change.action, "delete");
    assert.deepEqual(change.identity, { region: "us-east-1", cluster: "apps", service: "a" });
    assert.deepEqual(change.problems, []);
    assert.equal(set.changes.length, 1, "b/b is untouched");
  });

  it("given a taskdef removed and the svcdef kept, then it deploys with the svcdef's taskDefinition", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a", { svc: { taskDefinition: "a:7" } }) });
    const from = r.commit();
    r.remove("a/a_taskdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(byObject(set), { "a/a": { action: "deploy", reason: "taskdef-removed" } });
    assert.equal(set.changes[0]!.loaded!.valid, true);
  });

  it("given a taskdef removed and no taskDefinition in the svcdef, then the deploy is invalid", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a") });
    const from = r.commit();
    r.remove("a/a_taskdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.equal(set.changes[0]!.action, "deploy");
    assert.ok(set.changes[0]!.problems.some((p) => p.code === "FLT-OBJECT-NO-TASKDEF"));
  });

  it("given an object's folder renamed with the same service, then it is an update, never a delete plus create", async () => {
    const r = repo().write({ ...rollingObject("dev/web/web", "web"), "dev/web/web_depdef.json": {} });
    const from = r.commit();
    for (const s of ["svcdef", "taskdef", "depdef"]) r.move(`dev/web/web_${s}.json`, `apps/frontend/frontend_${s}.json`);
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(byObject(set), {
      "apps/frontend/frontend": { action: "deploy", reason: "moved-in" },
      "dev/web/web": { action: "none", reason: "moved-out" },
    });
    assert.ok(!set.changes.some((c) => c.action === "delete"));
  });

  it("given a renamed object whose content also changed, then it is still an update", async () => {
    const r = repo().write({ ...rollingObject("old/x", "x") });
    const from = r.commit();
    r.remove("old/x_svcdef.json", "old/x_taskdef.json").write(rollingObject("new/x", "x", { svc: { desiredCount: 4 } }));
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.equal(set.changes.find((c) => c.object === "old/x")!.action, "none");
    assert.equal(set.changes.find((c) => c.object === "new/x")!.reason, "moved-in");
  });

  it("given a removed object whose service another unchanged object already manages, then nothing is deleted", async () => {
    const r = repo().write({ ...rollingObject("a/a", "shared"), ...rollingObject("b/b", "shared") });
    const from = r.commit();
    r.remove("a/a_svcdef.json", "a/a_taskdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(byObject(set), { "a/a": { action: "none", reason: "moved-out" } });
  });

  it("given a renamed object whose new svcdef fails to render, then the old service's delete is held back", async () => {
    const r = repo().write({ ...rollingObject("old/x", "x") });
    const from = r.commit();
    r.remove("old/x_svcdef.json", "old/x_taskdef.json").write({ "new/x_svcdef.json": '{"serviceName": "{{ nme }}", "cluster": "apps", "desiredCount": 1}', "new/x_taskdef.json": rollingObject("n", "x")["n_taskdef.json"]! });
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    const del = set.changes.find((c) => c.object === "old/x")!;
    assert.equal(del.action, "delete");
    assert.ok(del.problems.some((p) => p.code === "FLT-CHANGE-DELETE-UNSAFE" && p.message.includes("new/x")));
  });

  it("given a moved service into another region, then the old one is deleted and the new one created", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a") });
    const from = r.commit();
    r.remove("a/a_svcdef.json", "a/a_taskdef.json").write({ ...rollingObject("b/a", "a"), "b/a_depdef.json": { environment: { region: "eu-west-1" } } });
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(byObject(set), { "a/a": { action: "delete", reason: "svcdef-removed" }, "b/a": { action: "deploy", reason: "created" } });
  });

  it("given a removed svcdef that cannot be read at the old commit, then the delete names the problem instead of guessing", async () => {
    const r = repo().write({ "a/a_svcdef.json": "{ not json", "a/a_taskdef.json": rollingObject("a", "a")["a_taskdef.json"]! });
    const from = r.commit();
    r.remove("a/a_svcdef.json");
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.equal(set.changes[0]!.action, "delete");
    assert.equal(set.changes[0]!.problems[0]!.code, "FLT-CHANGE-DELETE-UNIDENTIFIED");
  });

  it("ignores files that are not one of the four suffixes, including samples and Lambda files", async () => {
    const r = repo().write({ ...rollingObject("a/a", "a") });
    const from = r.commit();
    r.write({ "a/a_svcdef.json.sample": "{}", "l/test_lambdainput.json": "{}", "l/test_lambdadepdef.json": "{}", "infra/main.tf": "x", "docs/README.md": "x" });
    const set = await classifyChanges({ dir: r.dir, from, to: r.commit() });
    assert.deepEqual(set.changes, []);
  });

  it("reads a sub-path of the repository as the root of the tree (object names and refs relative to it)", async () => {
    const r = repo().write({
      "deploy/ecs/a/a_svcdef.json": '{"cluster": "{{ cluster }}", "serviceName": "a", "desiredCount": 1, "launchType": "EC2", "taskDefinition": "a:1", "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}}',
      "deploy/ecs/a/a_input.json": { ref: { file: ["infra/out.json"], type: "JSON" } },
      "deploy/ecs/infra/out.json": { cluster: "apps" },
      "other/b/b_svcdef.json": svcdef("b"),
    });
    const to = r.commit();
    const set = await classifyChanges({ dir: `${r.dir}/deploy/ecs`, to });
    assert.deepEqual(byObject(set), { "a/a": { action: "deploy", reason: "initial" } });
    assert.equal(set.changes[0]!.loaded!.valid, true, JSON.stringify(set.changes[0]!.problems));
    assert.equal(set.changes[0]!.identity!.cluster, "apps");
  });

  it("rejects an unknown revision with a coded error", async () => {
    const r = repo().write(rollingObject("a/a", "a"));
    r.commit();
    await assert.rejects(classifyChanges({ dir: r.dir, to: "no-such-branch" }), (e: { code?: string }) => e.code === "FLT-GIT-UNKNOWN-REVISION");
  });
});
