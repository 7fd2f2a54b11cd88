import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { WEBHOOK_OUTCOMES, type WebhookOutcome } from "../../src/api/types.ts";
import { buildServer } from "../../src/server/index.ts";
import { registerGithubWebhook } from "../../src/server/webhook.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { VirtualClock } from "../../src/core/clock.ts";

describe("POST /webhooks/github", () => {
  it("hands the exact raw body and headers to the handler and answers with the status of its outcome", async () => {
    const clock = new VirtualClock();
    const store = await openSqliteStore({ path: ":memory:", clock });
    const app = buildServer({ store, clock });
    const seen: { raw: unknown; sig: unknown }[] = [];
    registerGithubWebhook(app, {
      handleGithubWebhook: ({ headers, rawBody }) => {
        seen.push({ raw: rawBody, sig: headers["x-hub-signature-256"] });
        return Promise.resolve(headers["x-hub-signature-256"] === "sha256=good" ? { outcome: "queued", message: "queued apps", repositories: ["apps"] } : { outcome: "bad-signature", message: "bad", repositories: [] });
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

  it("each outcome the controller can give has its status: a refusal fails the delivery in GitHub's log, what was taken in does not", async () => {
    const clock = new VirtualClock();
    const store = await openSqliteStore({ path: ":memory:", clock });
    const app = buildServer({ store, clock });
    registerGithubWebhook(app, { handleGithubWebhook: ({ headers }) => Promise.resolve({ outcome: headers["x-outcome"] as WebhookOutcome, message: "m", repositories: [] }) });
    const expected: Record<WebhookOutcome, number> = { queued: 202, "bad-signature": 401, invalid: 400, disabled: 404, stopping: 503, duplicate: 200, ping: 200, "not-a-push": 200, "not-a-branch": 200, "no-match": 200, "already-processed": 200 };
    assert.deepEqual(Object.keys(expected).sort(), [...WEBHOOK_OUTCOMES].sort(), "every outcome is listed here");
    for (const outcome of WEBHOOK_OUTCOMES) {
      const r = await app.inject({ method: "POST", url: "/webhooks/github", headers: { "content-type": "application/json", "x-outcome": outcome }, payload: "{}" });
      assert.equal(r.statusCode, expected[outcome], outcome);
      assert.equal(r.json<{ outcome: string }>().outcome, outcome);
    }
    await app.close();
    await store.close();
  });
});
