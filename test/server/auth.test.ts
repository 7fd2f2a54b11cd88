import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerGithubWebhook } from "../../src/server/webhook.ts";
import { harness, json, newDeployment, SHA1, SHA2, type Harness } from "./helpers.ts";

describe("API: health, auth and errors", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  it("/healthz and /readyz answer without a token", async () => {
    const health = await h.req({ method: "GET", url: "/healthz", token: null });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { status: "ok" });
    const ready = await h.req({ method: "GET", url: "/readyz", token: null });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: "ready", store: "sqlite" });
  });

  it("no token: 401 with a JSON error and a WWW-Authenticate challenge", async () => {
    const r = await h.req({ method: "GET", url: "/api/v1/repositories", token: null });
    assert.equal(r.statusCode, 401);
    assert.equal(r.headers["www-authenticate"], "Bearer");
    assert.equal(json(r)["code"], "FLT-API-UNAUTHORIZED");
    assert.match(String(json(r)["message"]), /bearer token is required/);
  });

  it("a malformed Authorization header or an unknown token: 401", async () => {
    for (const authorization of ["Basic YWxpY2U6cHc=", "Bearer", "Bearer a b", `Bearer ${h.operator}x`]) {
      const r = await h.req({ method: "GET", url: "/api/v1/deployments", token: null, headers: { authorization } });
      assert.equal(r.statusCode, 401, authorization);
      assert.equal(json(r)["code"], "FLT-API-UNAUTHORIZED");
    }
  });

  it("a revoked token: 401", async () => {
    const { token } = await h.store.createToken("temp", "operator");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/deployments", token })).statusCode, 200);
    await h.store.revokeToken("temp");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/deployments", token })).statusCode, 401);
  });

  it("a read-only token may read but not change: 403 and nothing changed", async () => {
    assert.equal((await h.req({ method: "GET", url: "/api/v1/repositories", token: h.reader })).statusCode, 200);
    const r = await h.req({ method: "POST", url: "/api/v1/repositories", token: h.reader, payload: { name: "app", url: "https://example.com/app.git", branch: "main" } });
    assert.equal(r.statusCode, 403);
    assert.deepEqual(json(r), { code: "FLT-API-FORBIDDEN", message: 'token "dashboard" is read-only; this request needs an operator token' });
    assert.deepEqual(await h.store.listRepositories(), []);
  });

  it("auth is checked before the body: an unauthenticated malformed request is a 401", async () => {
    const r = await h.req({ method: "POST", url: "/api/v1/repositories", token: null, headers: { "content-type": "application/json" }, payload: "{not json" });
    assert.equal(r.statusCode, 401);
  });

  it("unknown routes: 404 with a code", async () => {
    const r = await h.req({ method: "GET", url: "/api/v1/nope" });
    assert.equal(r.statusCode, 404);
    assert.equal(json(r)["code"], "FLT-API-NOT-FOUND");
  });

  it("never logs a token or the Authorization header", async () => {
    await h.req({ method: "GET", url: "/api/v1/repositories" });
    await h.req({ method: "GET", url: "/api/v1/repositories", token: "flt_not-a-real-token-but-secret" });
    await h.req({ method: "POST", url: "/api/v1/deployments/01ABC/promote", token: h.reader });
    h.app.log.info({ headers: { authorization: `Bearer ${h.operator}` } }, "a careless log line");
    const text = h.logs.join("");
    assert.ok(h.logs.length > 3, "the server logs requests");
    assert.ok(!text.includes(h.operator), "operator token logged");
    assert.ok(!text.includes(h.reader), "read-only token logged");
    assert.ok(!text.includes("flt_not-a-real-token-but-secret"), "presented token logged");
    assert.match(text, /"msg":"a careless log line"/);
    assert.match(text, /"authorization":"(\[redacted\]|\*\*\*\*)"/);
  });
});

describe("API: readiness when the store is gone", () => {
  it("/readyz is 503 when the store is unreachable; /healthz stays 200", async () => {
    const h = await harness();
    await h.store.close();
    const ready = await h.req({ method: "GET", url: "/readyz", token: null });
    assert.equal(ready.statusCode, 503);
    assert.equal(json(ready)["code"], "FLT-API-UNAVAILABLE");
    assert.equal((await h.req({ method: "GET", url: "/healthz", token: null })).statusCode, 200);
    await h.app.close();
  });
});

describe("API: body limits", () => {
  it("every route with a body refuses one over the limit with 413 FLT-API-BODY-TOO-LARGE, before anything changes", async () => {
    const h = await harness({ server: { bodyLimit: 2048 }, beforeReady: (app) => registerGithubWebhook(app, { handleGithubWebhook: () => Promise.reject(new Error("never called")) }, { bodyLimit: 4096 }) });
    const big = JSON.stringify({ name: "app", url: "https://github.com/acme/app.git", branch: "main", pad: "x".repeat(5000) });
    const routes: [string, string][] = [
      ["POST", "/api/v1/repositories"],
      ["PATCH", "/api/v1/repositories/app"],
      ["DELETE", "/api/v1/repositories/app"],
      ["POST", `/api/v1/repositories/app/commits/${SHA2}/deploy`],
      ["POST", "/api/v1/deployments/01ABC/promote"],
      ["POST", "/api/v1/rollback"],
      ["POST", "/api/v1/cutover"],
      ["POST", "/api/v1/cleanup"],
      ["POST", "/webhooks/github"],
    ];
    for (const [method, url] of routes) {
      const r = await h.req({ method: method, url, headers: { "content-type": "application/json" }, payload: big });
      assert.equal(r.statusCode, 413, `${method} ${url}: ${r.payload}`);
      assert.equal(json(r)["code"], "FLT-API-BODY-TOO-LARGE");
    }
    assert.deepEqual(await h.store.listRepositories(), []);
    assert.equal(h.controller.calls.length, 0);
    // Under the limit the same routes answer normally.
    const ok = await h.req({ method: "POST", url: "/api/v1/repositories", payload: { name: "app", url: "https://github.com/acme/app.git", branch: "main" } });
    assert.equal(ok.statusCode, 201);
    await h.close();
  });
});

describe("API: a read-only token changes nothing", () => {
  it("every route that changes something answers 403 to a read-only token, before the body is read, and nothing changes", async () => {
    const changing = new Set<string>();
    const open = new Set<string>();
    const h = await harness({
      beforeReady: (app) =>
        app.addHook("onRoute", (r) => {
          for (const m of [r.method].flat()) if (!["GET", "HEAD", "OPTIONS"].includes(m)) (r.config?.public ? open : changing).add(`${m} ${r.url}`);
        }),
    });
    await h.store.addRepository({ name: "app", url: "https://github.com/acme/app.git", branch: "main" });
    const d = await h.store.createDeployment(newDeployment(), [{ type: "Created", message: "created" }]);
    await h.store.holdDelete({ repository: "app", object: "dev/web/web", branch: "main", commitSha: SHA1, region: "us-east-1", cluster: "main", service: "web", reason: "deletes-off", code: null, message: "held", spec: {} });
    await h.store.holdCommit({ repository: "app", branch: "main", sha: SHA2, windows: [{ name: "freeze", kind: "deny" }], objects: ["dev/web/web"], message: "held", until: null });
    const snapshot = async () => JSON.stringify([await h.store.listRepositories(), await h.store.getDeployment(d.id), await h.store.pendingControls(d.id), (await h.store.listTokens()).map((t) => [t.name, t.role]), await h.store.listPendingDeletes(), await h.store.listWaitingCommits()]);
    const before = await snapshot();
    const mutations: [string, string, object | undefined][] = [
      ["POST", "/api/v1/repositories", { name: "x", url: "https://github.com/acme/x.git", branch: "main" }],
      ["PATCH", "/api/v1/repositories/app", { branch: "evil" }],
      ["DELETE", "/api/v1/repositories/app", undefined],
      ["POST", `/api/v1/repositories/app/commits/${SHA2}/deploy`, { force: true }],
      ...["promote", "abort", "pause", "resume"].map((a): [string, string, object] => ["POST", `/api/v1/deployments/${d.id}/${a}`, {}]),
      ["POST", "/api/v1/rollback", { object: d.object }],
      ["POST", "/api/v1/cutover", { object: d.object, version: "v2" }],
      ["POST", "/api/v1/cleanup", { object: d.object }],
      ["POST", "/api/v1/cleanup", { object: d.object, dryRun: true }],
      ["POST", "/api/v1/pending-deletes/confirm", { repository: "app", object: "dev/web/web" }],
      ["POST", "/api/v1/pending-deletes/dismiss", { repository: "app", object: "dev/web/web" }],
      ["POST", "/api/v1/waiting-commits/release", { repository: "app" }],
      ["POST", "/api/v1/drift/check", { repository: "app" }],
    ];
    for (const [method, url, payload] of mutations) {
      const r = await h.req({ method: method, url, token: h.reader, ...(payload ? { payload } : {}) });
      assert.equal(r.statusCode, 403, `${method} ${url}`);
      assert.equal(json(r)["code"], "FLT-API-FORBIDDEN");
    }
    assert.equal(await snapshot(), before);
    assert.deepEqual(h.controller.calls, []);
    // Every route that is not a read is in the list above (a new one must be added there).
    assert.deepEqual([...changing].sort(), ["DELETE /api/v1/repositories/:name", "PATCH /api/v1/repositories/:name", "POST /api/v1/cleanup", "POST /api/v1/cutover", "POST /api/v1/deployments/:id/:action", "POST /api/v1/drift/check", "POST /api/v1/pending-deletes/confirm", "POST /api/v1/pending-deletes/dismiss", "POST /api/v1/repositories", "POST /api/v1/repositories/:name/commits/:sha/deploy", "POST /api/v1/rollback", "POST /api/v1/waiting-commits/release"]);
    // Only signing in and out need no token (test/server/session.test.ts).
    assert.deepEqual([...open].sort(), ["DELETE /api/v1/session", "POST /api/v1/session"]);
    await h.close();
  });
});
