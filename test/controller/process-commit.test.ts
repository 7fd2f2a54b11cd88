import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { classifyChanges } from "../../src/config/changes.ts";
import { newCommits } from "../../src/controller/commits.ts";
import { Mirror } from "../../src/controller/mirror.ts";
import { describePlan, planCommit, processCommit, type CommitPlan } from "../../src/controller/process-commit.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { openSqliteStore } from "../../src/store/index.ts";
import type { Store } from "../../src/store/store.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject, svcdef } from "../helpers/objects.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
const clock = new VirtualClock();

async function setup(): Promise<{ r: TestRemote; m: Mirror; store: Store }> {
  const r = new TestRemote();
  const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
  const store = await openSqliteStore({ path: ":memory:", clock });
  cleanups.push(
    () => r.cleanup(),
    () => rmSync(dataDir, { recursive: true, force: true }),
    () => store.close(),
  );
  return { r, m: new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir, policy: TEST_POLICY }), store };
}

const summary = (plan: CommitPlan) => Object.fromEntries(plan.changes.map((c) => [c.object, `${c.action}:${c.reason}`]));

describe("processing one commit from a bare mirror", () => {
  it("given a bare mirror and a sub-path, when changes are classified, then object names are relative to the sub-path", async () => {
    const { r, m } = await setup();
    const from = r.push({ ...rollingObject("deploy/ecs/dev/web/web", "web"), ...rollingObject("other/x/x", "x") });
    const to = r.push({ "deploy/ecs/dev/web/web_svcdef.json": svcdef("web", { desiredCount: 4 }), "other/x/x_svcdef.json": svcdef("x", { desiredCount: 9 }) });
    await m.sync();
    const set = await classifyChanges({ gitDir: m.gitDir, subPath: "deploy/ecs/", from, to });
    assert.deepEqual(
      set.changes.map((c) => [c.object, c.action, c.reason]),
      [["dev/web/web", "deploy", "changed"]],
    );
    const first = await classifyChanges({ gitDir: m.gitDir, subPath: null, to: from });
    assert.deepEqual(first.changes.map((c) => c.reason), ["initial", "initial"]);
  });

  it("plans deploys, deletes and nothing, with the loaded objects and the commit's overrides", async () => {
    const { r, m } = await setup();
    const from = r.push({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b"), ...rollingObject("c/c", "c") });
    r.work.write({ "a/a_svcdef.json": svcdef("a", { desiredCount: 3 }), "c/c_depdef.json": { bakeTime: 0 } });
    r.work.remove("b/b_svcdef.json", "b/b_taskdef.json");
    const to = r.work.commit("change\n\nFlotilla-Override: skip-alarms");
    r.work.git("push", "-q", "origin", "HEAD:refs/heads/main");
    await m.sync();
    const found = await newCommits(m.gitDir, "main", from, { clock });
    assert.equal(found.kind, "new");
    if (found.kind !== "new") return;
    const plan = await planCommit({ repository: "apps", branch: "main", gitDir: m.gitDir, previous: from, commit: found.commits[0]!, clock });
    assert.deepEqual(summary(plan), { "a/a": "deploy:changed", "b/b": "delete:svcdef-removed", "c/c": "none:depdef-only" });
    assert.equal(plan.commit.sha, to);
    assert.equal(plan.previous, from);
    assert.equal(plan.deploy[0]!.loaded!.svcdef!["desiredCount"], 3);
    assert.deepEqual(plan.delete[0]!.identity, { region: "us-east-1", cluster: "apps", service: "b" });
    assert.deepEqual(plan.overrides.map((o) => o.name), ["skip-alarms"]);
  });

  it("given force, then every object at the commit deploys, changed or not", async () => {
    const { r, m } = await setup();
    const from = r.push({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b"), "b/b_depdef.json": {} });
    const to = r.push({ "b/b_depdef.json": { bakeTime: 5 } });
    await m.sync();
    const plan = await planCommit({ repository: "apps", branch: "main", gitDir: m.gitDir, previous: from, commit: to, clock, force: true });
    assert.deepEqual(summary(plan), { "a/a": "deploy:forced", "b/b": "deploy:forced" });
    assert.ok(plan.deploy.every((c) => c.loaded?.valid));
    assert.equal(plan.force, true);
  });

  it("process then mark processed: runs the deployments, then advances the last commit with compare-and-set", async () => {
    const { r, m, store } = await setup();
    const c1 = r.push(rollingObject("a/a", "a"));
    const c2 = r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 5 }) });
    await m.sync();
    const ran: string[] = [];
    const common = { store, repository: "apps", branch: "main", gitDir: m.gitDir, clock };
    const first = await processCommit({ ...common, commit: c1, expectedPrevious: null }, async (plan) => {
      ran.push(`${plan.commit.sha}:${plan.deploy.map((c) => c.object).join(",")}`);
      assert.equal((await store.getLastCommit("apps", "main"))?.sha, undefined, "not marked before the deployments ran");
      return "ok";
    });
    assert.equal(first.result, "ok");
    assert.equal(first.lastCommit.sha, c1);
    const second = await processCommit({ ...common, commit: c2, expectedPrevious: c1 }, (plan) => {
      ran.push(`${plan.commit.sha}:${plan.deploy.map((c) => `${c.object}/${c.reason}`).join(",")}`);
      return Promise.resolve();
    });
    assert.equal(second.lastCommit.sha, c2);
    assert.deepEqual(ran, [`${c1}:a/a`, `${c2}:a/a/changed`]);
  });

  it("refuses when another replica moved the last commit: before running anything, and at the end", async () => {
    const { r, m, store } = await setup();
    const c1 = r.push(rollingObject("a/a", "a"));
    const c2 = r.push({ "a/a_svcdef.json": svcdef("a", { desiredCount: 5 }) });
    await m.sync();
    const common = { store, repository: "apps", branch: "main", gitDir: m.gitDir, clock };
    await store.setLastCommit("apps", "main", c1, null);

    // Stale: we think nothing was processed, another replica already did c1.
    let ran = false;
    await assert.rejects(
      processCommit({ ...common, commit: c1, expectedPrevious: null }, () => {
        ran = true;
        return Promise.resolve();
      }),
      (e: { code?: string }) => e.code === "FLT-STORE-CONFLICT",
    );
    assert.equal(ran, false, "no deployment ran");

    // Raced: another replica advances while our deployments run.
    await assert.rejects(
      processCommit({ ...common, commit: c2, expectedPrevious: c1 }, async () => {
        await store.setLastCommit("apps", "main", c2, c1);
      }),
      (e: { code?: string }) => e.code === "FLT-STORE-CONFLICT",
    );
    assert.equal((await store.getLastCommit("apps", "main"))?.sha, c2);
  });

  it("a deployment callback that throws leaves the commit unprocessed", async () => {
    const { r, m, store } = await setup();
    const c1 = r.push(rollingObject("a/a", "a"));
    await m.sync();
    await assert.rejects(processCommit({ store, repository: "apps", branch: "main", gitDir: m.gitDir, clock, commit: c1, expectedPrevious: null }, () => Promise.reject(new Error("AWS down"))), /AWS down/);
    assert.equal(await store.getLastCommit("apps", "main"), undefined);
  });

  it("a dry run shows rendered files with sensitive values masked", async () => {
    const { r, m } = await setup();
    const c1 = r.push({
      ...rollingObject("a/a", "a", { task: { family: "{{ family }}" } }),
      "a/a_input.json": { family: "a", ref: { file: ["a/tf.json"], type: "TERRAFORM" } },
      "a/tf.json": { dbPassword: { value: "hunter2-very-secret", sensitive: true } },
      "a/a_taskdef.json": { family: "a", containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "a".repeat(64), memory: 256, environment: [{ name: "DB", value: "{{ dbPassword }}" }] }] },
    });
    await m.sync();
    const plan = await planCommit({ repository: "apps", branch: "main", gitDir: m.gitDir, previous: undefined, commit: c1, clock });
    const dry = describePlan(plan, { render: true, advances: true });
    const text = JSON.stringify(dry);
    assert.ok(!text.includes("hunter2-very-secret"), text);
    assert.ok(text.includes("****"), text);
    assert.equal(dry.objects[0]!.action, "deploy");
    assert.ok(dry.objects[0]!.rendered?.taskdef);
    assert.equal(describePlan(plan, { advances: true }).objects[0]!.rendered, undefined);
  });
});
