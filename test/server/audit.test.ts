/** The audit log: every mutation and every refused request, with who, what, outcome and request id — and nothing secret. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerGithubWebhook } from "../../src/server/webhook.ts";
import { harness, newDeployment, SHA2, type Harness } from "./helpers.ts";

interface AuditLine {
  level: string;
  time: string;
  msg: string;
  audit: { requestId: string; action: string; by: string | null; method: string; route: string; target: Record<string, unknown>; outcome: string; status: number; code?: string; [k: string]: unknown };
}

describe("audit log", () => {
  let h: Harness;
  before(async () => {
    h = await harness({
      beforeReady: (app) =>
        registerGithubWebhook(app, {
          handleGithubWebhook: ({ headers }) =>
            Promise.resolve(headers["x-hub-signature-256"] === "sha256=good" ? { outcome: "queued", message: "queued", repositories: ["app"] } : { outcome: "bad-signature", message: "missing or invalid X-Hub-Signature-256", repositories: [] }),
        }),
    });
  });
  after(() => h.close());
  const audits = () => h.logs.map((l) => JSON.parse(l) as AuditLine).filter((l) => l.audit);
  const last = () => audits().at(-1)!.audit;

  it("every mutation: the token's name, action, route pattern, target, outcome, status and the request id the answer carries", async () => {
    const cases: { req: Parameters<Harness["req"]>[0]; expect: Partial<AuditLine["audit"]> }[] = [
      { req: { method: "POST", url: "/api/v1/repositories", payload: { name: "app", url: "https://github.com/acme/app.git", branch: "main" } }, expect: { action: "repository.add", route: "/api/v1/repositories", target: { repository: "app" }, outcome: "ok", status: 201 } },
      { req: { method: "PATCH", url: "/api/v1/repositories/app", payload: { branch: "release", pollIntervalSeconds: 30 } }, expect: { action: "repository.update", route: "/api/v1/repositories/:name", target: { repository: "app", fields: ["branch", "pollIntervalSeconds"] }, outcome: "ok", status: 200 } },
      { req: { method: "POST", url: `/api/v1/repositories/app/commits/${SHA2}/deploy`, payload: { force: true, overrides: ["skip-alarms"] } }, expect: { action: "commit.deploy", target: { repository: "app", commit: SHA2, force: true, overrides: ["skip-alarms"] }, outcome: "ok", status: 202 } },
      { req: { method: "POST", url: "/api/v1/rollback", payload: { object: "dev/web/web" } }, expect: { action: "object.rollback", target: { object: "dev/web/web" }, outcome: "ok", status: 202 } },
      { req: { method: "POST", url: "/api/v1/cutover", payload: { object: "dev/web/web", version: "v2" } }, expect: { action: "object.cutover", target: { object: "dev/web/web", version: "v2" }, outcome: "ok", status: 202 } },
      { req: { method: "POST", url: "/api/v1/cleanup", payload: { object: "dev/web/web", dryRun: true } }, expect: { action: "object.cleanup", target: { object: "dev/web/web", dryRun: true }, outcome: "ok", status: 200 } },
      { req: { method: "DELETE", url: "/api/v1/repositories/app" }, expect: { action: "repository.remove", target: { repository: "app" }, outcome: "ok", status: 204 } },
    ];
    for (const { req, expect } of cases) {
      const r = await h.req(req);
      const a = last();
      assert.equal(a.requestId, r.headers["x-request-id"], "the answer carries the audit line's request id");
      assert.match(a.requestId, /^[0-9a-f-]{36}$/);
      assert.equal(a.by, "alice");
      assert.equal(a.method, req.method);
      for (const [k, v] of Object.entries(expect)) assert.deepEqual(a[k], v, `${req.method} ${JSON.stringify(req.url)} ${k}`);
    }
    const d = await h.store.createDeployment(newDeployment(), [{ type: "Created", message: "created" }]);
    await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/promote` });
    assert.deepEqual({ action: last().action, target: last().target, outcome: last().outcome }, { action: "deployment.promote", target: { deployment: d.id }, outcome: "ok" });
    assert.equal(audits().at(-1)!.level, "info");
  });

  it("refused requests: 401 without a token (reads too), 403 for a read-only token, 400 and 404 on mutations, 413 — each a warn line with its code", async () => {
    const refused: [Parameters<Harness["req"]>[0], number, string, string | null][] = [
      [{ method: "POST", url: "/api/v1/repositories", token: null, payload: { name: "x" } }, 401, "FLT-API-UNAUTHORIZED", null],
      [{ method: "GET", url: "/api/v1/deployments", token: "flt_guessed-token-value-0123456789" }, 401, "FLT-API-UNAUTHORIZED", null],
      [{ method: "POST", url: "/api/v1/repositories", token: h.reader, payload: { name: "x", url: "https://github.com/a/b.git", branch: "main" } }, 403, "FLT-API-FORBIDDEN", "dashboard"],
      [{ method: "POST", url: "/api/v1/repositories", payload: { name: "x", url: "ext::sh -c id", branch: "main" } }, 400, "FLT-REPO-URL-FORBIDDEN", "alice"],
      [{ method: "POST", url: "/api/v1/repositories", payload: { name: "x", url: "https://github.com/a/b.git", branch: "main", credentials: { kind: "helper", helper: "!id" } } }, 400, "FLT-API-INVALID-REQUEST", "alice"],
      [{ method: "DELETE", url: "/api/v1/repositories/nope" }, 404, "FLT-API-NOT-FOUND", "alice"],
    ];
    for (const [req, status, code, by] of refused) {
      const r = await h.req(req);
      assert.equal(r.statusCode, status);
      const line = audits().at(-1)!;
      assert.equal(line.level, "warn");
      assert.deepEqual({ outcome: line.audit.outcome, status: line.audit.status, code: line.audit.code, by: line.audit.by, requestId: line.audit.requestId }, { outcome: "refused", status, code, by, requestId: r.headers["x-request-id"] });
    }
    // A GET that succeeds is not an audit line (only a debug request line).
    const before = audits().length;
    await h.req({ method: "GET", url: "/api/v1/repositories", token: h.reader });
    assert.equal(audits().length, before);
  });

  it("webhook deliveries: a bad signature is a refused line with the delivery id and outcome, a good one an ok line", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main" });
    await h.app.inject({ method: "POST", url: "/webhooks/github", headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=0123456789abcdef", "x-github-delivery": "d-1", "x-github-event": "push" }, payload: body });
    const bad = audits().at(-1)!;
    assert.equal(bad.level, "warn");
    assert.deepEqual({ ...bad.audit, requestId: undefined, remoteAddress: undefined }, { requestId: undefined, remoteAddress: undefined, action: "webhook.github", by: null, method: "POST", route: "/webhooks/github", target: {}, outcome: "refused", status: 401, webhook: { outcome: "bad-signature", event: "push", delivery: "d-1", repositories: [] } });
    await h.app.inject({ method: "POST", url: "/webhooks/github", headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=good", "x-github-delivery": "d-2" }, payload: body });
    assert.deepEqual({ outcome: last().outcome, webhook: last()["webhook"] }, { outcome: "ok", webhook: { outcome: "queued", delivery: "d-2", repositories: ["app"] } });
    assert.ok(!h.logs.join("").includes("0123456789abcdef"), "the signature is never logged");
  });

  it("no line ever holds a token, an Authorization header, a body or a query value", () => {
    const text = h.logs.join("");
    for (const secret of [h.operator, h.reader, "flt_guessed-token-value-0123456789", "Bearer ", "!id", "sha256="]) assert.ok(!text.includes(secret), secret);
  });
});
