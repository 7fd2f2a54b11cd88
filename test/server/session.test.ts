/**
 * Dashboard sign-in: a token is exchanged for an httpOnly SameSite=Strict session cookie; changes made
 * with the cookie need the session's CSRF token and the server's own origin; sign-out, rotation and
 * revocation end the session; every sign-in and sign-out is audited without the token.
 */
import assert from "node:assert/strict";
import { after, beforeEach, describe, it } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { CSRF_HEADER, SESSION_COOKIE, SESSION_TTL_MS } from "../../src/server/session.ts";
import { harness, json, newDeployment, parseSse, untilSleeping, type Harness } from "./helpers.ts";

function cookieOf(r: LightMyRequestResponse): string {
  const header = ([] as string[]).concat(r.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(header, "a session cookie is set");
  return header;
}
const valueOf = (setCookie: string) => setCookie.split(";")[0]!.slice(SESSION_COOKIE.length + 1);

describe("API: dashboard sessions", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
  });
  after(() => h.close());

  async function signIn(token: string): Promise<{ cookie: string; csrf: string; body: Record<string, unknown> }> {
    const r = await h.req({ method: "POST", url: "/api/v1/session", token: null, payload: { token } });
    assert.equal(r.statusCode, 201, r.payload);
    const body = json(r);
    return { cookie: `${SESSION_COOKIE}=${valueOf(cookieOf(r))}`, csrf: String(body["csrfToken"]), body };
  }
  const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({ token: null, headers: { cookie, ...extra } });

  it("exchanges a token for an httpOnly, SameSite=Strict cookie that is not the token, and never answers the token", async () => {
    const r = await h.req({ method: "POST", url: "/api/v1/session", token: null, payload: { token: h.operator } });
    assert.equal(r.statusCode, 201);
    const setCookie = cookieOf(r);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.match(setCookie, new RegExp(`; Max-Age=${SESSION_TTL_MS / 1000}`));
    assert.doesNotMatch(setCookie, /; Secure/, "plain HTTP: a Secure cookie would never come back");
    assert.ok(!setCookie.includes(h.operator));
    assert.ok(!r.payload.includes(h.operator));
    assert.equal(r.headers["cache-control"], "no-store");
    const body = json(r);
    assert.equal(body["name"], "alice");
    assert.equal(body["role"], "operator");
    assert.equal(body["via"], "session");
    assert.match(String(body["csrfToken"]), /^[A-Za-z0-9_-]{43}$/);

    const me = await h.req({ method: "GET", url: "/api/v1/session", ...withCookie(`${SESSION_COOKIE}=${valueOf(setCookie)}`) });
    assert.equal(me.statusCode, 200);
    assert.equal(json(me)["csrfToken"], body["csrfToken"]);
    const bearer = json(await h.req({ method: "GET", url: "/api/v1/session", token: h.reader }));
    assert.deepEqual([bearer["name"], bearer["role"], bearer["via"], bearer["csrfToken"]], ["dashboard", "read-only", "bearer", null]);
  });

  it("refuses a wrong token with 401, and a sign-in posted from another origin", async () => {
    const bad = await h.req({ method: "POST", url: "/api/v1/session", token: null, payload: { token: "flt_not-a-real-token-value-at-all" } });
    assert.equal(bad.statusCode, 401);
    assert.equal(json(bad)["code"], "FLT-API-UNAUTHORIZED");
    assert.equal(bad.headers["set-cookie"], undefined);
    const cross = await h.req({ method: "POST", url: "/api/v1/session", token: null, headers: { origin: "https://evil.example" }, payload: { token: h.operator } });
    assert.equal(cross.statusCode, 403);
    assert.equal(json(cross)["code"], "FLT-API-CSRF");
    // A form post cannot sign anyone in: only JSON bodies are read.
    const form = await h.req({ method: "POST", url: "/api/v1/session", token: null, headers: { "content-type": "application/x-www-form-urlencoded" }, payload: `token=${h.operator}` });
    assert.equal(form.statusCode, 415);
  });

  it("reads with the cookie alone; changes need the CSRF header and the server's own origin", async () => {
    const { cookie, csrf } = await signIn(h.operator);
    const d = await h.store.createDeployment(newDeployment({ strategy: "bluegreen" }));
    assert.equal((await h.req({ method: "GET", url: "/api/v1/deployments", ...withCookie(cookie) })).statusCode, 200);

    const noCsrf = await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/pause`, ...withCookie(cookie) });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(json(noCsrf)["code"], "FLT-API-CSRF");
    const wrongCsrf = await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/pause`, ...withCookie(cookie, { [CSRF_HEADER]: csrf.slice(1) + "x" }) });
    assert.equal(json(wrongCsrf)["code"], "FLT-API-CSRF");
    const otherOrigin = await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/pause`, ...withCookie(cookie, { [CSRF_HEADER]: csrf, origin: "https://evil.example" }) });
    assert.equal(json(otherOrigin)["code"], "FLT-API-CSRF");
    assert.deepEqual(await h.store.listControls(d.id), [], "nothing refused was recorded");

    const ok = await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/pause`, ...withCookie(cookie, { [CSRF_HEADER]: csrf, origin: "http://localhost:80" }) });
    assert.equal(ok.statusCode, 202, ok.payload);
    assert.equal(json(ok)["requestedBy"], "alice", "the control is recorded under the token's name");
  });

  it("a read-only session reads but gets 403 on a change, even with a valid CSRF token", async () => {
    const { cookie, csrf, body } = await signIn(h.reader);
    assert.equal(body["role"], "read-only");
    const d = await h.store.createDeployment(newDeployment({ strategy: "bluegreen" }));
    const r = await h.req({ method: "POST", url: `/api/v1/deployments/${d.id}/abort`, ...withCookie(cookie, { [CSRF_HEADER]: csrf }) });
    assert.equal(r.statusCode, 403);
    assert.equal(json(r)["code"], "FLT-API-FORBIDDEN");
    assert.deepEqual(await h.store.listControls(d.id), []);
  });

  it("rotating or revoking the token ends its sessions; sign-out clears the cookie and ends the session", async () => {
    const a = await signIn(h.operator);
    await h.store.rotateToken("alice");
    const rotated = await h.req({ method: "GET", url: "/api/v1/deployments", ...withCookie(a.cookie) });
    assert.equal(rotated.statusCode, 401);
    assert.match(String(json(rotated)["message"]), /session has ended/);

    const b = await signIn(h.reader);
    await h.store.revokeToken("dashboard");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/session", ...withCookie(b.cookie) })).statusCode, 401);

    const { token } = await h.store.createToken("carol", "operator");
    const c = await signIn(token);
    const out = await h.req({ method: "DELETE", url: "/api/v1/session", ...withCookie(c.cookie) });
    assert.equal(out.statusCode, 204);
    assert.match(cookieOf(out), /^flotilla_session=;.*Max-Age=0/);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/deployments", ...withCookie(c.cookie) })).statusCode, 401);
    // Signing out without a session is harmless.
    assert.equal((await h.req({ method: "DELETE", url: "/api/v1/session", token: null })).statusCode, 204);
  });

  it("a session expires after its lifetime", async () => {
    const { cookie } = await signIn(h.operator);
    await h.clock.advance(SESSION_TTL_MS - 1);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/repositories", ...withCookie(cookie) })).statusCode, 200);
    await h.clock.advance(1);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/repositories", ...withCookie(cookie) })).statusCode, 401);
  });

  it("an event stream opened with a session ends when the session's token is revoked", async () => {
    const { cookie } = await signIn(h.reader);
    const d = await h.store.createDeployment(newDeployment());
    const stream = h.req({ method: "GET", url: "/api/v1/events", ...withCookie(cookie) });
    await untilSleeping(h.clock);
    await h.store.appendEvents(d.id, [{ type: "Deploying", message: "before" }]);
    await h.clock.advance(1000);
    await h.store.revokeToken("dashboard");
    await h.store.appendEvents(d.id, [{ type: "Stabilizing", message: "after" }]);
    await h.clock.advance(5000);
    const messages = parseSse((await stream).payload);
    assert.deepEqual(messages.filter((m) => m.event === "deployment").map((m) => (m.data as { type: string }).type), ["Deploying"]);
    assert.deepEqual(messages.find((m) => m.event === "error")?.data, { code: "FLT-API-UNAUTHORIZED", message: "the token or session of this stream is no longer valid" });
  });

  it("audits sign-in and sign-out with the token's name, never the token or the cookie", async () => {
    await h.req({ method: "POST", url: "/api/v1/session", token: null, payload: { token: "flt_wrong-token-value-for-audit" } });
    const { cookie } = await signIn(h.operator);
    await h.req({ method: "DELETE", url: "/api/v1/session", ...withCookie(cookie) });
    await new Promise((r) => setImmediate(r));
    const audits = h.logs.map((l) => JSON.parse(l) as { audit?: { action: string; outcome: string; by: string | null; status: number } }).flatMap((l) => (l.audit ? [l.audit] : []));
    assert.deepEqual(
      audits.map((a) => [a.action, a.outcome, a.by, a.status]),
      [
        ["session.create", "refused", null, 401],
        ["session.create", "ok", "alice", 201],
        ["session.delete", "ok", "alice", 204],
      ],
    );
    const all = h.logs.join("\n");
    assert.ok(!all.includes(h.operator));
    assert.ok(!all.includes("flt_wrong-token-value-for-audit"));
    assert.ok(!all.includes(valueOf(cookie.replace(`${SESSION_COOKIE}=`, `${SESSION_COOKIE}=`))));
  });
});
