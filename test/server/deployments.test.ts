import { after, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../src/store/types.ts";
import { finish, harness, json, newDeployment, SHA1, SHA2, type Harness } from "./helpers.ts";

type Item = { id: string; object: string; phase: string };
const ids = (r: { json<T>(): T }) => r.json<{ items: Item[] }>().items.map((d) => d.id);

describe("API: deployments", () => {
  let h: Harness;
  let all: Deployment[];
  beforeEach(async () => {
    await h?.close();
    h = await harness();
    all = [];
    const specs = [
      newDeployment({ object: "dev/web/web", service: "web", commitSha: SHA1 }),
      newDeployment({ object: "dev/api/api", service: "api", commitSha: SHA1, region: "eu-west-1" }),
      newDeployment({ object: "dev/web/web", service: "web", commitSha: SHA2, strategy: "bluegreen" }),
      newDeployment({ object: "prod/web/web", service: "web", cluster: "prod", repository: "other", commitSha: SHA2 }),
      newDeployment({ object: "dev/worker/worker", service: "worker", commitSha: SHA2 }),
    ];
    for (const [i, spec] of specs.entries()) {
      const d = await h.store.createDeployment(spec, [{ type: "Created", message: `deployment ${i}` }]);
      await h.clock.advance(1000);
      // The first web deployment must finish before the second one on the same service starts.
      all.push(i === 0 ? await finish(h.store, d, "Failed") : i === 1 ? await finish(h.store, d) : d);
    }
  });
  after(() => h.close());

  it("lists newest first with every filter", async () => {
    const [web1, api, web2, prod, worker] = all.map((d) => d.id);
    const list = async (q: string) => {
      const r = await h.req({ method: "GET", url: `/api/v1/deployments${q}`, token: h.reader });
      assert.equal(r.statusCode, 200, `${q}: ${r.payload}`);
      return ids(r);
    };
    assert.deepEqual(await list(""), [worker, prod, web2, api, web1]);
    assert.deepEqual(await list("?repository=app"), [worker, web2, api, web1]);
    assert.deepEqual(await list(`?commit=${SHA1}`), [api, web1]);
    assert.deepEqual(await list("?region=eu-west-1"), [api]);
    assert.deepEqual(await list("?cluster=prod"), [prod]);
    assert.deepEqual(await list("?service=web"), [prod, web2, web1]);
    assert.deepEqual(await list("?object=dev/web/web"), [web2, web1]);
    assert.deepEqual(await list("?phase=Failed"), [web1]);
    assert.deepEqual(await list("?phase=Failed&phase=Succeeded"), [api, web1]);
    assert.deepEqual(await list("?status=active"), [worker, prod, web2]);
    assert.deepEqual(await list("?status=finished"), [api, web1]);
    assert.deepEqual(await list("?service=web&cluster=main&status=active"), [web2]);
  });

  it("paginates with limit and cursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await h.req({ method: "GET", url: `/api/v1/deployments?limit=2${cursor ? `&cursor=${cursor}` : ""}`, token: h.reader });
      const body = r.json<{ items: Item[]; nextCursor: string | null }>();
      assert.ok(body.items.length <= 2);
      seen.push(...body.items.map((d) => d.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, all.map((d) => d.id).reverse());
  });

  it("the record has the CLI's fields and no machine state", async () => {
    const r = await h.req({ method: "GET", url: "/api/v1/deployments?limit=1", token: h.reader });
    const item = r.json<{ items: Record<string, unknown>[] }>().items[0]!;
    for (const key of ["id", "object", "strategy", "region", "cluster", "service", "phase", "reason", "message", "failedTasks", "counts", "oldTaskDefinitionArn", "newTaskDefinitionArn", "commitSha", "createdAt", "finishedAt", "repository", "overrides"]) {
      assert.ok(key in item, key);
    }
    assert.ok(!("machineState" in item));
  });

  it("malformed queries are 400", async () => {
    for (const q of ["?limit=0", "?limit=501", "?limit=ten", "?phase=Exploded", "?status=done", "?commit=xyz", "?cursor=../../", "?colour=blue", "?region=US_EAST"]) {
      const r = await h.req({ method: "GET", url: `/api/v1/deployments${q}`, token: h.reader });
      assert.equal(r.statusCode, 400, q);
      assert.equal(json(r)["code"], "FLT-API-INVALID-REQUEST");
    }
  });

  it("gets one deployment with its timeline and controls", async () => {
    const d = all[2]!;
    await h.store.appendEvents(d.id, [{ type: "Shifting", message: "20% on green", data: { weight: 20 } }]);
    await h.store.requestControl(d.id, "pause", "alice");
    const r = await h.req({ method: "GET", url: `/api/v1/deployments/${d.id}`, token: h.reader });
    assert.equal(r.statusCode, 200);
    const body = r.json<{ id: string; strategy: string; timeline: { seq: number; type: string; data: unknown }[]; controls: { action: string; requestedBy: string }[] }>();
    assert.equal(body.id, d.id);
    assert.equal(body.strategy, "bluegreen");
    assert.deepEqual(body.timeline.map((e) => [e.seq, e.type]), [[1, "Created"], [2, "Shifting"]]);
    assert.deepEqual(body.timeline[1]!.data, { weight: 20 });
    assert.deepEqual(body.controls.map((c) => [c.action, c.requestedBy]), [["pause", "alice"]]);

    const events = await h.req({ method: "GET", url: `/api/v1/deployments/${d.id}/events?after=1`, token: h.reader });
    assert.deepEqual(events.json<{ items: { seq: number }[] }>().items.map((e) => e.seq), [2]);

    const missing = await h.req({ method: "GET", url: "/api/v1/deployments/01ZZZZZZZZZZZZZZZZZZZZZZZZ", token: h.reader });
    assert.equal(missing.statusCode, 404);
    assert.equal(json(missing)["code"], "FLT-API-NOT-FOUND");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/deployments/not-an-id!", token: h.reader })).statusCode, 400);
  });
});

describe("API: operator controls and rollback", () => {
  let h: Harness;
  let active: Deployment;
  let finished: Deployment;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
    active = await h.store.createDeployment(newDeployment({ strategy: "bluegreen" }));
    finished = await finish(h.store, await h.store.createDeployment(newDeployment()));
  });
  after(() => h.close());

  for (const action of ["promote", "abort", "pause", "resume"] as const) {
    it(`${action}: recorded with the token's name`, async () => {
      const r = await h.req({ method: "POST", url: `/api/v1/deployments/${active.id}/${action}` });
      assert.equal(r.statusCode, 202, r.payload);
      assert.equal(json(r)["action"], action);
      assert.equal(json(r)["requestedBy"], "alice");
      const pending = await h.store.pendingControls(active.id);
      assert.deepEqual(pending.map((c) => [c.action, c.requestedBy]), [[action, "alice"]]);
    });
  }

  it("a read-only token, an unknown action or a body: rejected, nothing recorded", async () => {
    const cases: [string, number, string | null, object | undefined][] = [
      [`/api/v1/deployments/${active.id}/promote`, 403, h.reader, undefined],
      [`/api/v1/deployments/${active.id}/explode`, 400, null, undefined],
      [`/api/v1/deployments/${active.id}/promote`, 400, null, { force: true }],
      [`/api/v1/deployments/bad!id/promote`, 400, null, undefined],
    ];
    for (const [url, status, token, payload] of cases) {
      const r = await h.req({ method: "POST", url, ...(token ? { token } : {}), ...(payload ? { payload } : {}) });
      assert.equal(r.statusCode, status, `${url} ${r.payload}`);
    }
    assert.deepEqual(await h.store.listControls(active.id), []);
  });

  it("a finished deployment: 409; an unknown one: 404", async () => {
    const r = await h.req({ method: "POST", url: `/api/v1/deployments/${finished.id}/abort` });
    assert.equal(r.statusCode, 409);
    assert.equal(json(r)["code"], "FLT-STORE-DEPLOYMENT-FINISHED");
    assert.equal((await h.req({ method: "POST", url: "/api/v1/deployments/01ZZZZZZZZZZZZZZZZZZZZZZZZ/abort" })).statusCode, 404);
    assert.deepEqual(await h.store.listControls(finished.id), []);
  });

  it("rollback of an object: a new deployment, requested by the token's name", async () => {
    const r = await h.req({ method: "POST", url: "/api/v1/rollback", payload: { object: "dev/web/web" } });
    assert.equal(r.statusCode, 202, r.payload);
    const body = r.json<{ id: string; object: string; overrides: { name: string; setBy: string }[] }>();
    assert.equal(body.object, "dev/web/web");
    assert.deepEqual(body.overrides.map((o) => [o.name, o.setBy]), [["rollback", "alice"]]);
    assert.deepEqual(h.controller.calls.at(-1), { method: "rollback", args: ["dev/web/web", "alice"] });
    assert.ok(await h.store.getDeployment(body.id));
  });

  it("rollback: unknown object 404, malformed body 400, read-only 403", async () => {
    const unknown = await h.req({ method: "POST", url: "/api/v1/rollback", payload: { object: "dev/nope/nope" } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(json(unknown)["code"], "FLT-OBJECT-NOT-FOUND");
    const calls = h.controller.calls.length;
    for (const payload of [{}, { object: "" }, { object: 42 }, { object: "dev/web/web", to: "v1" }]) {
      assert.equal((await h.req({ method: "POST", url: "/api/v1/rollback", payload })).statusCode, 400, JSON.stringify(payload));
    }
    assert.equal((await h.req({ method: "POST", url: "/api/v1/rollback", token: h.reader, payload: { object: "dev/web/web" } })).statusCode, 403);
    assert.equal(h.controller.calls.length, calls);
  });

  it("cutover of a rainbow object: a new deployment, requested by the token's name; a malformed version is 400, an unknown object 404, a read-only token 403", async () => {
    const r = await h.req({ method: "POST", url: "/api/v1/cutover", payload: { object: "dev/web/web", version: "v2" } });
    assert.equal(r.statusCode, 202, r.payload);
    const body = r.json<{ id: string; strategy: string; overrides: { name: string; setBy: string }[] }>();
    assert.equal(body.strategy, "cutover");
    assert.deepEqual(body.overrides.map((o) => [o.name, o.setBy]), [["cutover", "alice"]]);
    assert.deepEqual(h.controller.calls.at(-1), { method: "cutover", args: ["dev/web/web", "v2", "alice"] });
    const calls = h.controller.calls.length;
    for (const payload of [{ object: "dev/web/web" }, { object: "dev/web/web", version: "V2" }, { object: "dev/web/web", version: "v_2" }, { object: "dev/web/web", version: "x".repeat(21) }, { object: "dev/web/web", version: "v2", extra: 1 }]) {
      assert.equal((await h.req({ method: "POST", url: "/api/v1/cutover", payload })).statusCode, 400, JSON.stringify(payload));
    }
    assert.equal((await h.req({ method: "POST", url: "/api/v1/cutover", token: h.reader, payload: { object: "dev/web/web", version: "v2" } })).statusCode, 403);
    assert.equal(h.controller.calls.length, calls);
    const unknown = await h.req({ method: "POST", url: "/api/v1/cutover", payload: { object: "missing/web/web", version: "v2" } });
    assert.deepEqual([unknown.statusCode, json(unknown)["code"]], [404, "FLT-OBJECT-NOT-FOUND"]);
  });

  it("cleanup of a rainbow object: 202 and a deployment; with dryRun, 200 and what would go; versions for a read-only token", async () => {
    const r = await h.req({ method: "POST", url: "/api/v1/cleanup", payload: { object: "dev/web/web" } });
    assert.equal(r.statusCode, 202, r.payload);
    assert.equal(r.json<{ strategy: string }>().strategy, "cleanup");
    assert.deepEqual(h.controller.calls.at(-1), { method: "cleanup", args: ["dev/web/web", "alice"] });
    const dry = await h.req({ method: "POST", url: "/api/v1/cleanup", payload: { object: "dev/web/web", dryRun: true } });
    assert.equal(dry.statusCode, 200);
    assert.deepEqual(dry.json(), { object: "dev/web/web", remove: ["v1"], kept: [{ version: "v3", why: "live" }] });
    const v = await h.req({ method: "GET", url: "/api/v1/versions?object=dev/web/web", token: h.reader });
    assert.deepEqual([v.statusCode, v.json()], [200, { object: "dev/web/web", versions: [], lastCutover: null }]);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/versions" })).statusCode, 400);
  });

  it("plan of an object: live versus Git for a read-only token; unknown object 404; a query is required", async () => {
    const r = await h.req({ method: "GET", url: "/api/v1/plan?object=dev/web/web", token: h.reader });
    assert.equal(r.statusCode, 200, r.payload);
    const body = json(r) as { action: string; taskDefinition: { changed: boolean; text: string } };
    assert.equal(body.action, "update");
    assert.match(body.taskDefinition.text, /^\+ {2}"image": "web:2"$/m);
    assert.deepEqual(h.controller.calls.at(-1), { method: "planObject", args: ["dev/web/web"] });
    const unknown = await h.req({ method: "GET", url: "/api/v1/plan?object=dev/nope/nope" });
    assert.deepEqual([unknown.statusCode, json(unknown)["code"]], [404, "FLT-OBJECT-NOT-FOUND"]);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/plan" })).statusCode, 400);
  });
});
