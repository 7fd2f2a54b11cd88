/**
 * Rehearsals (`--simulator`) as a user runs them in their own checkout (issue 12, items 7 and 9):
 * they keep their own store, carry the wall-clock time of the run, stay in order, and `serve
 * --simulator` creates the clusters the objects name, as `apply --simulator` does.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { cli } from "../helpers/cli.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";
import { killServes, startServe } from "../helpers/serve.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

const cleanups: (() => void)[] = [];
after(() => {
  killServes();
  cleanupTrees();
  cleanups.forEach((c) => c());
});

function checkout(): string {
  const dir = writeTree({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/worker/worker", "worker") });
  return dir;
}

interface Record_ {
  id: string;
  object: string;
  createdAt: string;
}

describe("rehearsals", () => {
  it("Given a checkout, When apply --simulator runs there (even with FLOTILLA_STORE set), Then the real status and history show nothing; --rehearsal shows the rehearsal", async () => {
    const dir = checkout();
    const real = path.join(dir, "real.db");
    const applied = await cli(["apply", ".", "--simulator"], { FLOTILLA_STORE: real }, dir);
    assert.equal(applied.code, 0, applied.stderr);

    for (const env of [{}, { FLOTILLA_STORE: real }]) {
      const status = await cli(["status", "--output", "json"], env, dir);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual((JSON.parse(status.stdout) as { objects: unknown[] }).objects, [], "no rehearsal in the real store");
      assert.equal((await cli(["history", "apps/api/api"], env, dir)).code, 2, "the object has no real history");
    }
    const rehearsed = await cli(["status", "--rehearsal", "--output", "json"], {}, dir);
    assert.deepEqual((JSON.parse(rehearsed.stdout) as { objects: Record_[] }).objects.map((d) => d.object), ["apps/api/api", "apps/worker/worker"]);
    assert.equal((await cli(["rollback", "apps/api/api"], { AWS_EC2_METADATA_DISABLED: "true" }, dir)).code, 2, "a rollback against AWS finds no update recorded by a rehearsal");
  });

  it("Given three rehearsals run one after another, Then each carries the time it ran (not a fixed date), status shows the last as latest and history lists them newest first", async () => {
    const dir = checkout();
    const before = Date.now();
    const runs: Record_[][] = [];
    for (let i = 0; i < 3; i++) {
      const r = await cli(["apply", ".", "--simulator", "--output", "json"], {}, dir);
      assert.equal(r.code, 0, r.stderr);
      runs.push((JSON.parse(r.stdout) as { deployments: Record_[] }).deployments);
    }
    for (const d of runs.flat()) assert.ok(Date.parse(d.createdAt) >= before - 1000, `${d.createdAt} is the time of the run, not an old fixed date`);

    const status = JSON.parse((await cli(["status", "--rehearsal", "--output", "json"], {}, dir)).stdout) as { objects: Record_[] };
    assert.deepEqual(status.objects.map((d) => d.id).sort(), runs[2]!.map((d) => d.id).sort(), "the latest of each object is the last rehearsal's");

    const history = JSON.parse((await cli(["history", "--rehearsal", "--output", "json"], {}, dir)).stdout) as { deployments: Record_[] };
    const runOf = (id: string) => runs.findIndex((r) => r.some((d) => d.id === id));
    assert.deepEqual(history.deployments.map((d) => runOf(d.id)), [2, 2, 1, 1, 0, 0], "newest first, in the order the rehearsals ran");
    const created = history.deployments.map((d) => Date.parse(d.createdAt));
    assert.deepEqual(created, [...created].sort((a, b) => b - a), "and their times agree");
  });

  it("Given a rehearsal interrupted mid-deployment, When the next rehearsal runs, Then the old deployment is closed (its world ended) and the service is deployed afresh", async () => {
    const dir = checkout();
    const store = await openSqliteStore({ path: path.join(dir, ".flotilla/rehearsal.db") });
    // Left by a rehearsal killed a moment ago: its owner's lease has not run out on the wall clock.
    const stale = await store.createDeployment({ object: "apps/api/api", strategy: "rolling", region: "us-east-1", cluster: "apps", service: "api", phase: "Deploying", machineState: {}, owner: { id: "killed-rehearsal#1", ttlMs: 30_000 } });
    await store.close();
    const r = await cli(["apply", ".", "--simulator", "--output", "json"], {}, dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as { decisions: { object: string; action: string }[]; resumed: unknown[] };
    assert.deepEqual(doc.resumed, [], "nothing of another world is resumed");
    assert.deepEqual(doc.decisions.map((d) => [d.object, d.action]), [["apps/api/api", "create"], ["apps/worker/worker", "create"]]);
    const history = JSON.parse((await cli(["history", "--rehearsal", "--output", "json", "--limit", "5"], {}, dir)).stdout) as { deployments: { id: string; phase: string; reason: string | null }[] };
    assert.deepEqual(history.deployments.filter((d) => d.id === stale.id).map((d) => [d.phase, d.reason]), [["Failed", "RehearsalEnded"]]);
  });

  it("Given a checkout without .flotilla, When a command creates the default store there, Then the folder ignores itself in Git", async () => {
    const dir = checkout();
    assert.equal((await cli(["apply", ".", "--simulator"], {}, dir)).code, 0);
    assert.equal((await cli(["status"], { FLOTILLA_STORE: "" }, dir)).code, 0);
    assert.ok(existsSync(path.join(dir, ".flotilla/rehearsal.db")));
    assert.ok(existsSync(path.join(dir, ".flotilla/flotilla.db")));
    assert.match(readFileSync(path.join(dir, ".flotilla/.gitignore"), "utf8"), /^\*$/m);
  });

  it("Given serve --simulator with no scenario for the objects' cluster, When a registered repository's objects are deployed, Then the cluster is created and the deployments succeed (no ClusterNotFound)", async () => {
    const remote = new TestRemote();
    const state = mkdtempSync(path.join(tmpdir(), "flotilla-serve-sim-"));
    cleanups.push(() => remote.cleanup(), () => rmSync(state, { recursive: true, force: true }));
    remote.push({ ...rollingObject("prod/worker/worker", "worker", { svc: { cluster: "prod-apps" } }) }, "initial");
    const token = "admin-token-0123456789abcdef";
    // The remote is a local repository: the server's configuration must allow its directory.
    writeFileSync(path.join(state, "flotilla.yaml"), `allowedLocalRoots: [${JSON.stringify(path.dirname(remote.bare))}]\n`);
    const server = await startServe(["--config", path.join(state, "flotilla.yaml"), "--simulator", "--speed", "60", "--store", path.join(state, "s.db"), "--data-dir", path.join(state, "data")], { cwd: state, env: { FLOTILLA_ADMIN_TOKEN: token, FLOTILLA_WEBHOOK_SECRET: "" } });
    const base = server.url;
    const api = async (method: string, url: string, body?: unknown) =>
      (await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })).json() as Promise<Record<string, unknown>>;
    await api("POST", "/api/v1/repositories", { name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 60 });

    let finished: Record<string, unknown> | undefined;
    for (let i = 0; i < 300 && !finished; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const items = (await api("GET", "/api/v1/deployments?repository=apps")).items as Record<string, unknown>[] | undefined;
      finished = items?.find((d) => d["finishedAt"] !== null);
    }
    await server.stop();
    assert.ok(finished, `a deployment finished: ${server.stderr()}`);
    assert.equal(finished["phase"], "Succeeded", JSON.stringify(finished));
    assert.doesNotMatch(server.stderr(), /ClusterNotFound/);
  });

  it("Given only docs/simulator.md's walk-through, When a new user copies its files into a fresh repository, Then plan finds nothing missing, the first rehearsal creates the service, and with the running service added the update shifts a canary and succeeds", async () => {
    const doc = readFileSync(new URL("../../docs/simulator.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("## Rehearsing your own repository"), doc.indexOf("## From code"));
    const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.equal(blocks.length, 4, "svcdef, depdef, scenario, running service");
    const [svcdef, depdef, scenario, running] = [JSON.parse(blocks[0]!), JSON.parse(blocks[1]!), JSON.parse(blocks[2]!), JSON.parse(`{${blocks[3]!}}`)] as Record<string, unknown>[];
    const taskdef = (running!["taskDefinitions"] as Record<string, unknown>[])[0]!;
    const newImage = JSON.parse(JSON.stringify(taskdef).replace("example/web:1.0", "example/web:2.0")) as Record<string, unknown>;
    const dir = writeTree({
      "shop/web/web_svcdef.json": svcdef!,
      "shop/web/web_depdef.json": depdef!,
      "shop/web/web_taskdef.json": newImage,
      "shop-eu.json": scenario!,
      "shop-eu-running.json": { ...scenario, ...running },
    });

    const plan = await cli(["plan", ".", "--simulator", "shop-eu.json", "--output", "json"], {}, dir);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.deepEqual((JSON.parse(plan.stdout) as { objects: { action: string; problems?: unknown[] }[] }).objects.map((o) => [o.action, o.problems ?? []]), [["create", []]]);
    const created = await cli(["apply", ".", "--simulator", "shop-eu.json", "--output", "json"], {}, dir);
    assert.equal(created.code, 0, created.stdout + created.stderr);

    const update = await cli(["plan", ".", "--simulator", "shop-eu-running.json", "--output", "json"], {}, dir);
    const planned = (JSON.parse(update.stdout) as { objects: { action: string; service: { changed: boolean } }[] }).objects[0]!;
    assert.deepEqual([planned.action, planned.service.changed], ["update", false], "the running service matches the svcdef; only the image differs");
    const updated = await cli(["apply", ".", "--simulator", "shop-eu-running.json", "--output", "json"], {}, dir);
    assert.equal(updated.code, 0, updated.stdout + updated.stderr);
    const history = await cli(["history", "shop/web/web", "--rehearsal", "--output", "json"], {}, dir);
    const timeline = (JSON.parse(history.stdout) as { timeline: { type: string; message: string }[] }).timeline;
    assert.ok(timeline.some((e) => e.type === "Shifted" && /^10% of traffic on green/.test(e.message)), JSON.stringify(timeline));
    assert.equal(timeline.at(-1)!.type, "Succeeded");
  });
});
