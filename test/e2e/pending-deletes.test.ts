/**
 * Issue 12, item 14: held-back deletes are visible and actionable. A removed object whose delete
 * waits (deletes off, the mass-delete guard, FLT-CHANGE-DELETE-UNSAFE) used to be one log line and
 * then forgotten. It is now a pending delete in the store, `flotilla status`, the API and the
 * repository record; a restart with --allow-delete carries it out, an operator can confirm one
 * (audited, through the API or the CLI), and a later commit that re-adds the object clears it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject } from "../helpers/objects.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

async function world(options: Parameters<typeof controllerWorld>[0] = {}): Promise<ControllerWorld> {
  const w = await controllerWorld(options);
  worlds.push(w);
  return w;
}

const files = (prefix: string, name: string) => Object.keys(rollingObject(prefix, name));

async function serviceStatus(w: ControllerWorld, name: string): Promise<string | undefined> {
  return (await w.sim.ports().ecs.describeServices("apps", [name])).services[0]?.status;
}

/** Two deployed services, then a commit that removes api. */
async function removedApi(w: ControllerWorld): Promise<string> {
  w.remote.push({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/web/web", "web") }, "two services");
  await w.controller.sources.queue.sync("apps", "manual");
  const sha = w.remote.pushRemoval(files("apps/api/api", "api"), "remove api");
  await w.controller.sources.queue.sync("apps", "poll");
  return sha;
}

interface PendingJson {
  repository: string;
  object: string;
  service: string;
  cluster: string;
  region: string;
  commitSha: string;
  reason: string;
  code: string | null;
  message: string;
}

describe("held-back deletes are visible and actionable", () => {
  it("Given deletes are off, When a commit removes a service's svcdef, Then it is a pending delete in the store, the API, the repository and `flotilla status`; When the controller restarts with --allow-delete, Then the delete is carried out", async () => {
    const w = await world();
    const sha = await removedApi(w);
    assert.equal(await serviceStatus(w, "api"), "ACTIVE", "kept: deletes are off");
    // The store
    const pending = await w.store.listPendingDeletes({ repository: "apps" });
    assert.deepEqual(pending.map((p) => [p.object, p.service, p.reason, p.commitSha]), [["apps/api/api", "api", "deletes-off", sha]]);
    const record = await w.store.getCommitRecord("apps", sha);
    assert.equal(record?.objects.find((o) => o.object === "apps/api/api")?.action, "delete-held");
    // The API
    const list = await w.api("GET", "/api/v1/pending-deletes?repository=apps", { token: w.reader });
    assert.equal(list.status, 200, list.body);
    const items = list.json["items"] as PendingJson[];
    assert.deepEqual(items.map((p) => [p.repository, p.object, p.service, p.cluster, p.reason]), [["apps", "apps/api/api", "api", "apps", "deletes-off"]]);
    assert.ok(!list.body.includes("svcdef") && !list.body.includes("containerDefinitions"), `the definitions stay in the store: ${list.body}`);
    const repo = await w.api("GET", "/api/v1/repositories/apps");
    assert.equal(repo.json["pendingDeletes"], 1, repo.body);
    // flotilla status, against the store
    await w.controller.stop();
    const status = await cli(["status", "--store", w.storeFile]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /pending delete/i);
    assert.match(status.stdout, /apps\/api\/api[^\n]*\n\s+deletes are off/);
    const statusJson = JSON.parse((await cli(["status", "--store", w.storeFile, "-o", "json"])).stdout) as { pendingDeletes: PendingJson[] };
    assert.deepEqual(statusJson.pendingDeletes.map((p) => [p.object, p.reason]), [["apps/api/api", "deletes-off"]]);

    // When the controller restarts with --allow-delete, Then the delete is carried out
    const restarted = await w.restart({ allowDelete: true });
    await restarted.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "api"), "INACTIVE");
    assert.equal(await serviceStatus(w, "web"), "ACTIVE");
    assert.deepEqual(await w.store.listPendingDeletes(), []);
    const del = (await w.store.listDeployments({ object: "apps/api/api" })).items[0]!;
    assert.deepEqual([del.strategy, del.phase, del.repository, del.commitSha], ["delete", "Succeeded", "apps", sha]);
  });

  it("Given a pending delete, When an operator confirms it through the API, Then a recorded delete runs and the audit log names who; a read-only token is refused; the CLI confirms another", async () => {
    const w = await world();
    w.remote.push({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/web/web", "web"), ...rollingObject("apps/db/db", "db") }, "three services");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.pushRemoval([...files("apps/api/api", "api"), ...files("apps/db/db", "db")], "remove api and db");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal((await w.store.listPendingDeletes()).length, 2);

    const refused = await w.api("POST", "/api/v1/pending-deletes/confirm", { token: w.reader, body: { repository: "apps", object: "apps/api/api" } });
    assert.equal(refused.status, 403, refused.body);
    const missing = await w.api("POST", "/api/v1/pending-deletes/confirm", { body: { repository: "apps", object: "apps/nope/nope" } });
    assert.equal(missing.status, 404, missing.body);
    const accepted = await w.api("POST", "/api/v1/pending-deletes/confirm", { body: { repository: "apps", object: "apps/api/api" } });
    assert.equal(accepted.status, 202, accepted.body);
    assert.equal(accepted.json["strategy"], "delete");
    assert.equal(accepted.json["object"], "apps/api/api");
    assert.ok(w.logs.some((l) => l.includes('"pending-delete.confirm"') && l.includes('"alice"') && l.includes("apps/api/api")), w.logs.join("\n"));
    await w.controller.sources.queue.sync("apps", "poll"); // queued behind the delete
    assert.equal(await serviceStatus(w, "api"), "INACTIVE");
    const del = (await w.store.getDeployment(accepted.json["id"] as string))!;
    assert.equal(del.phase, "Succeeded");
    assert.ok(del.overrides.some((o) => o.name === "delete-confirmed" && o.setBy === "alice"), JSON.stringify(del.overrides));

    // The CLI, through the server
    const listed = await cli(["pending-delete", "list"], w.env(w.reader));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /apps\/db\/db/);
    assert.doesNotMatch(listed.stdout, /apps\/api\/api/);
    const confirmed = await cli(["pending-delete", "confirm", "apps", "apps/db/db"], w.env());
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.match(confirmed.stdout, /delete/);
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "db"), "INACTIVE");
    assert.deepEqual(await w.store.listPendingDeletes(), []);
    assert.equal(await serviceStatus(w, "web"), "ACTIVE");
  });

  it("Given a pending delete, When a later commit re-adds the object, Then the pending delete is cleared and the service stays", async () => {
    const w = await world();
    await removedApi(w);
    assert.equal((await w.store.listPendingDeletes()).length, 1);
    w.remote.push(rollingObject("apps/api/api", "api"), "api is back");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.deepEqual(await w.store.listPendingDeletes(), []);
    assert.equal(await serviceStatus(w, "api"), "ACTIVE");
    // and a restart with deletes on deletes nothing
    await (await w.restart({ allowDelete: true })).sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "api"), "ACTIVE");
  });

  it("Given deletes on and four services, When a commit removes two (half is not more than half), Then both are deleted; When the next removes the last two (all of them), Then the mass-delete guard holds them as pending", async () => {
    const w = await world({ controller: { allowDelete: true } });
    w.remote.push({ ...rollingObject("apps/a/a", "a"), ...rollingObject("apps/b/b", "b"), ...rollingObject("apps/c/c", "c"), ...rollingObject("apps/d/d", "d") }, "four");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.pushRemoval([...files("apps/a/a", "a"), ...files("apps/b/b", "b")], "remove a and b");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "a"), "INACTIVE");
    assert.equal(await serviceStatus(w, "b"), "INACTIVE");
    w.remote.pushRemoval([...files("apps/c/c", "c"), ...files("apps/d/d", "d")], "remove c and d");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "c"), "ACTIVE");
    const held = await w.store.listPendingDeletes();
    assert.deepEqual(held.map((p) => [p.object, p.reason]), [["apps/c/c", "mass-delete"], ["apps/d/d", "mass-delete"]]);
    assert.match(held[0]!.message, /2 of 2/);
  });

  it("Given a service whose svcdef a commit broke, When the next commit removes the object, Then the delete of the service Flotilla last deployed for it is pending (FLT-CHANGE-DELETE-UNIDENTIFIED) and an operator's confirmation deletes it", async () => {
    const w = await world({ controller: { allowDelete: true } });
    w.remote.push({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/web/web", "web") }, "two");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.push({ "apps/api/api_svcdef.json": '{ "cluster": "apps", }' }, "break api");
    await w.controller.sources.queue.sync("apps", "poll");
    const sha = w.remote.pushRemoval(files("apps/api/api", "api"), "remove api");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "api"), "ACTIVE", "never deleted by itself, even with deletes on");
    const held = await w.store.listPendingDeletes();
    assert.deepEqual(held.map((p) => [p.object, p.service, p.reason, p.code, p.commitSha]), [["apps/api/api", "api", "unsafe", "FLT-CHANGE-DELETE-UNIDENTIFIED", sha]]);
    assert.match(held[0]!.message, /last deployed/);
    const record = await w.store.getCommitRecord("apps", sha);
    assert.equal(record?.objects.find((o) => o.object === "apps/api/api")?.action, "delete-held");
    const accepted = await w.api("POST", "/api/v1/pending-deletes/confirm", { body: { repository: "apps", object: "apps/api/api" } });
    assert.equal(accepted.status, 202, accepted.body);
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "api"), "INACTIVE");
    assert.equal(await serviceStatus(w, "web"), "ACTIVE");
  });

  it("Given a removed svcdef and an object that cannot be read at the same commit, When it is processed, Then the delete is pending as FLT-CHANGE-DELETE-UNSAFE", async () => {
    const w = await world({ controller: { allowDelete: true } });
    w.remote.push({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/web/web", "web") }, "two");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.work.remove(...files("apps/api/api", "api"));
    w.remote.push({ "apps/web/web_svcdef.json": "{ broken" }, "remove api, break web");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal(await serviceStatus(w, "api"), "ACTIVE");
    const held = await w.store.listPendingDeletes();
    assert.deepEqual(held.map((p) => [p.object, p.reason, p.code]), [["apps/api/api", "unsafe", "FLT-CHANGE-DELETE-UNSAFE"]]);
  });
});
