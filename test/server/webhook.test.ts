import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildServer } from "../../src/server/index.ts";
import { registerGithubWebhook } from "../../src/server/webhook.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { VirtualClock } from "../../src/core/clock.ts";

describe("POST /webhooks/github", () => {
  it("hands the exact raw body and headers to the handler and answers with its status", async () => {
    const clock = new VirtualClock();
    const store = await openSqliteStore({ path: ":memory:", clock });
    const app = buildServer({ store, clock });
    const seen: { raw: string; sig: unknown }[] = [];
    registerGithubWebhook(app, {
      handleGithubWebhook: ({ headers, rawBody }) => {
        seen.push({ raw: rawBody, sig: headers["x-hub-signature-256"] });
        return Promise.resolve(headers["x-hub-signature-256"] === "sha256=good" ? { status: 202, outcome: "queued", message: "queued apps", repositories: ["apps"] } : { status: 401, outcome: "bad-signature", message: "bad", repositories: [] });
      },
    });
    // Whitespace and key order matter to the HMAC: the body must arrive byte for byte.
    const body = '{ "ref": "refs/heads/main",  "after": "abc" }';
    const ok = await app.inject({ method: "POST", url: "/webhooks/github", headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=good" }, payload: body });
    assert.equal(ok.statusCode, 202);
    assert.deepEqual(ok.json(), { outcome: "queued", message: "queued apps", repositories: ["apps"] });
    const bad = await app.inject({ method: "POST", url: "/webhooks/github", headers: { "content-type": "application/json" }, payload: body });
    assert.equal(bad.statusCode, 401);
    assert.equal(seen[0]!.raw, body);
    // The API's own JSON routes are unaffected by the webhook's raw parser.
    assert.equal((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    await app.close();
    await store.close();
  });
});
