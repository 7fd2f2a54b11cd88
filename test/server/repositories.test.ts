import { after, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { API_POLICY, harness, json, SHA1, SHA2, type Harness } from "./helpers.ts";

const APP = { name: "app", url: "https://github.com/acme/app.git", branch: "main", path: "ecs", pollIntervalSeconds: 60, credentials: "github" };

describe("API: repositories", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
  });
  after(() => h.close());

  it("add, get, list, update, remove", async () => {
    const added = await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    assert.equal(added.statusCode, 201);
    assert.deepEqual(
      { ...json(added), createdAt: undefined, updatedAt: undefined },
      { ...APP, lastCommit: null, pendingDeletes: 0, createdAt: undefined, updatedAt: undefined },
    );
    await h.store.setLastCommit("app", "main", SHA1);
    const got = await h.req({ method: "GET", url: "/api/v1/repositories/app", token: h.reader });
    assert.equal(got.statusCode, 200);
    assert.deepEqual(json(got)["lastCommit"], { sha: SHA1, processedAt: "2026-11-23T12:00:00.000Z" });
    const list = await h.req({ method: "GET", url: "/api/v1/repositories", token: h.reader });
    assert.deepEqual((json(list)["items"] as { name: string }[]).map((r) => r.name), ["app"]);

    const patched = await h.req({ method: "PATCH", url: "/api/v1/repositories/app", payload: { branch: "release", credentials: null, pollIntervalSeconds: 30 } });
    assert.equal(patched.statusCode, 200);
    assert.equal(json(patched)["branch"], "release");
    assert.equal(json(patched)["credentials"], null);
    assert.equal((await h.store.getRepository("app"))?.pollIntervalSeconds, 30);

    const removed = await h.req({ method: "DELETE", url: "/api/v1/repositories/app" });
    assert.equal(removed.statusCode, 204);
    assert.equal(await h.store.getRepository("app"), undefined);
    assert.equal((await h.req({ method: "DELETE", url: "/api/v1/repositories/app" })).statusCode, 404);
  });

  it("records who changed a repository in the audit log", async () => {
    await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    const line = h.logs.map((l) => JSON.parse(l) as { audit?: Record<string, unknown> }).find((l) => l.audit);
    assert.deepEqual({ ...line?.audit, requestId: undefined }, { requestId: undefined, action: "repository.add", by: "alice", method: "POST", route: "/api/v1/repositories", target: { repository: "app" }, outcome: "ok", status: 201, remoteAddress: "127.0.0.1" });
  });

  it("refuses a URL carrying credentials, without echoing it and without storing anything", async () => {
    for (const url of ["https://ghp_secret123@github.com/acme/app.git", "https://user:ghp_secret123@github.com/acme/app.git", "ssh://git:ghp_secret123@host/app.git"]) {
      const r = await h.req({ method: "POST", url: "/api/v1/repositories", payload: { ...APP, url } });
      assert.equal(r.statusCode, 400, url);
      assert.equal(json(r)["code"], "FLT-REPO-URL-FORBIDDEN");
      assert.ok(!r.payload.includes("ghp_secret123"));
    }
    await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    const r = await h.req({ method: "PATCH", url: "/api/v1/repositories/app", payload: { url: "https://x:ghp_secret123@github.com/acme/app.git" } });
    assert.equal(r.statusCode, 400);
    assert.ok(!r.payload.includes("ghp_secret123"));
    assert.equal((await h.store.getRepository("app"))?.url, APP.url);
    assert.ok(!h.logs.join("").includes("ghp_secret123"));
  });

  it("malformed input: 400 with a code and a message naming the field; nothing stored", async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: APP.url, branch: "main" }, /must have required property 'name'/],
      [{ ...APP, extra: 1 }, /must NOT have additional properties/],
      [{ ...APP, name: "../etc" }, /body\/name must match pattern/],
      [{ ...APP, pollIntervalSeconds: 0 }, /pollIntervalSeconds must be >= 1/],
      [{ ...APP, pollIntervalSeconds: "often" }, /pollIntervalSeconds must be integer/],
      [{ ...APP, credentials: { kind: "env", name: "GIT_TOKEN" } }, /credentials/],
      [{ ...APP, credentials: { kind: "helper", helper: "!touch MARKER; echo" } }, /credentials/],
      [{ ...APP, credentials: "!touch MARKER; echo" }, /credentials/],
      [{ ...APP, credentials: "env:FLOTILLA_ADMIN_TOKEN" }, /credentials/],
      [{ ...APP, credentials: "file:/etc/shadow" }, /credentials/],
      [{ ...APP, branch: "bad branch" }, /branch must match pattern/],
      [[APP], /body must be object/],
    ];
    for (const [payload, message] of cases) {
      const r = await h.req({ method: "POST", url: "/api/v1/repositories", payload: payload as object });
      assert.equal(r.statusCode, 400, JSON.stringify(payload));
      assert.equal(json(r)["code"], "FLT-API-INVALID-REQUEST");
      assert.match(String(json(r)["message"]), message);
    }
    const badJson = await h.req({ method: "POST", url: "/api/v1/repositories", headers: { "content-type": "application/json" }, payload: '{"name": "app",' });
    assert.equal(badJson.statusCode, 400);
    assert.equal(json(badJson)["code"], "FLT-API-INVALID-REQUEST");
    const text = await h.req({ method: "POST", url: "/api/v1/repositories", headers: { "content-type": "text/plain" }, payload: "name=app" });
    assert.equal(text.statusCode, 415);
    assert.equal(json(text)["code"], "FLT-API-INVALID-REQUEST");
    assert.deepEqual(await h.store.listRepositories(), []);

    await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    for (const payload of [{}, { name: "other" }, { branch: "" }]) {
      const r = await h.req({ method: "PATCH", url: "/api/v1/repositories/app", payload });
      assert.equal(r.statusCode, 400, JSON.stringify(payload));
    }
    assert.equal((await h.store.getRepository("app"))?.branch, "main");
    assert.equal((await h.req({ method: "GET", url: "/api/v1/repositories/bad%20name" })).statusCode, 400);
    assert.equal((await h.req({ method: "GET", url: "/api/v1/repositories?x=1" })).statusCode, 400);
  });

  it("404 for an unknown repository, 409 for a duplicate", async () => {
    const missing = await h.req({ method: "GET", url: "/api/v1/repositories/nope" });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(json(missing), { code: "FLT-API-NOT-FOUND", message: 'repository "nope" not found' });
    assert.equal((await h.req({ method: "PATCH", url: "/api/v1/repositories/nope", payload: { branch: "x" } })).statusCode, 404);
    await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    const dup = await h.req({ method: "POST", url: "/api/v1/repositories", payload: APP });
    assert.equal(dup.statusCode, 409);
    assert.equal(json(dup)["code"], "FLT-STORE-DUPLICATE");
  });
});

describe("API: commits", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
    await h.store.addRepository({ name: "app", url: "https://github.com/acme/app.git", branch: "main" });
  });
  after(() => h.close());

  it("lists commits (newest first, limited)", async () => {
    const r = await h.req({ method: "GET", url: "/api/v1/repositories/app/commits?limit=1", token: h.reader });
    assert.equal(r.statusCode, 200);
    assert.deepEqual((json(r)["items"] as { sha: string }[]).map((c) => c.sha), [SHA2]);
    assert.deepEqual(h.controller.calls.at(-1), { method: "listCommits", args: ["app", { limit: 1 }] });
    const all = await h.req({ method: "GET", url: "/api/v1/repositories/app/commits", token: h.reader });
    assert.equal((json(all)["items"] as unknown[]).length, 2);
    assert.deepEqual(h.controller.calls.at(-1)?.args[1], { limit: 20 });
  });

  it("lists a commit's files", async () => {
    const r = await h.req({ method: "GET", url: `/api/v1/repositories/app/commits/${SHA2.slice(0, 7)}/files`, token: h.reader });
    assert.equal(r.statusCode, 200);
    assert.equal((json(r)["items"] as unknown[]).length, 2);
    const unknown = await h.req({ method: "GET", url: "/api/v1/repositories/app/commits/abcdef0/files", token: h.reader });
    assert.equal(unknown.statusCode, 404);
    assert.equal(json(unknown)["code"], "FLT-GIT-UNKNOWN-REVISION");
  });

  it("dry run: a read-only token may ask; rendered files on request", async () => {
    const plain = await h.req({ method: "GET", url: `/api/v1/repositories/app/commits/${SHA2}/dryrun`, token: h.reader });
    assert.equal(plain.statusCode, 200);
    assert.equal(json(plain)["rendered"], undefined);
    const rendered = await h.req({ method: "GET", url: `/api/v1/repositories/app/commits/${SHA2}/dryrun?rendered=true`, token: h.reader });
    assert.deepEqual(json(rendered)["rendered"], { "dev/web/web": { taskdef: { family: "web" } } });
  });

  it("deploy queues the commit with the token's name, force and overrides", async () => {
    const r = await h.req({ method: "POST", url: `/api/v1/repositories/app/commits/${SHA2}/deploy`, payload: { force: true, overrides: ["skip-alarms"] } });
    assert.equal(r.statusCode, 202);
    assert.equal(json(r)["requestedBy"], "alice");
    assert.equal(json(r)["queuePosition"], 0);
    assert.deepEqual(h.controller.calls.at(-1), { method: "deployCommit", args: ["app", SHA2, { force: true, requestedBy: "alice", overrides: ["skip-alarms"] }] });
    const bare = await h.req({ method: "POST", url: `/api/v1/repositories/app/commits/${SHA2}/deploy` });
    assert.equal(bare.statusCode, 202);
    assert.deepEqual(h.controller.calls.at(-1)?.args[2], { force: false, requestedBy: "alice", overrides: [] });
  });

  it("deploy: malformed requests are 400 and never reach the controller; read-only is 403", async () => {
    const before = h.controller.calls.length;
    const bad: [string, unknown][] = [
      [`/api/v1/repositories/app/commits/not-a-sha/deploy`, {}],
      [`/api/v1/repositories/app/commits/${SHA2}/deploy`, { force: "yes please" }],
      [`/api/v1/repositories/app/commits/${SHA2}/deploy`, { overrides: ["skip-everything"] }],
      [`/api/v1/repositories/app/commits/${SHA2}/deploy`, { forse: true }],
    ];
    for (const [url, payload] of bad) {
      const r = await h.req({ method: "POST", url, payload: payload as object });
      assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(payload)}`);
      assert.equal(json(r)["code"], "FLT-API-INVALID-REQUEST");
    }
    assert.equal((await h.req({ method: "POST", url: `/api/v1/repositories/app/commits/${SHA2}/deploy`, token: h.reader, payload: {} })).statusCode, 403);
    assert.equal((await h.req({ method: "POST", url: `/api/v1/repositories/nope/commits/${SHA2}/deploy`, payload: {} })).statusCode, 404);
    assert.equal(h.controller.calls.length, before);
  });

  it("without a controller the commit routes answer 503", async () => {
    const bare = await harness({ controller: false });
    await bare.store.addRepository({ name: "app", url: "/srv/app", branch: "main" });
    const r = await bare.req({ method: "GET", url: "/api/v1/repositories/app/commits" });
    assert.equal(r.statusCode, 503);
    assert.equal(json(r)["code"], "FLT-API-UNAVAILABLE");
    assert.equal((await bare.req({ method: "POST", url: "/api/v1/rollback", payload: { object: "dev/web/web" } })).statusCode, 503);
    await bare.close();
  });
});

describe("API: what an operator token may register is what the server configuration allows", () => {
  let h: Harness;
  beforeEach(async () => {
    await h?.close();
    h = await harness();
  });
  after(() => h.close());

  const refused = async (payload: Record<string, unknown>, code: string) => {
    const r = await h.req({ method: "POST", url: "/api/v1/repositories", payload: { ...APP, credentials: null, path: null, ...payload } });
    assert.equal(r.statusCode, 400, `${JSON.stringify(payload)}: ${r.payload}`);
    assert.equal(json(r)["code"], code, JSON.stringify(payload));
    return r;
  };

  it("refuses remote helpers, other transports, option injection, control characters and local paths outside the allowed roots (400 FLT-REPO-URL-FORBIDDEN, nothing stored)", async () => {
    const urls = [
      "ext::sh -c touch% /tmp/flotilla-MARKER",
      "ext::sh -c 'touch /tmp/flotilla-MARKER'",
      "fd::17",
      "fd::0,1/repo",
      "--upload-pack=touch /tmp/flotilla-MARKER",
      "-uhelp",
      "git://github.com/acme/app.git",
      "ftp://github.com/acme/app.git",
      "http://github.com/acme/app.git",
      "https://github.com/acme/app.git?x=1",
      "https://github.com\\@evil.example/acme/app.git",
      "https://github.com/acme/app.git\nhost: evil",
      "https://github.com/acme/app .git",
      "https://-oProxyCommand=x/app",
      "ssh://-oProxyCommand=touch%20x/app",
      "ssh://git@-oProxyCommand=x/app",
      "-oProxyCommand=x:app",
      "git@github.com:-oProxyCommand=x",
      "git@github.com:--upload-pack=touch x",
      "/etc",
      "/etc/../tmp/../etc/shadow",
      "file:///etc/passwd",
      "file://evil.example/etc/passwd",
      "relative/path.git",
      "../escape.git",
    ];
    for (const url of urls) await refused({ url }, "FLT-REPO-URL-FORBIDDEN");
    assert.deepEqual(await h.store.listRepositories(), []);
  });

  it("accepts https, ssh, scp-like and local paths under an allowed root", async () => {
    const ok = ["https://github.com/acme/app.git", "ssh://git@gitlab.com:2222/acme/app.git", "git@gitlab.com:acme/app.git", `${tmpdir()}/repos/app.git`, `file://${tmpdir()}/repos/app.git`];
    for (const [i, url] of ok.entries()) {
      const r = await h.req({ method: "POST", url: "/api/v1/repositories", payload: { name: `r${i}`, url, branch: "main" } });
      assert.equal(r.statusCode, 201, `${url}: ${r.payload}`);
    }
  });

  it("http only when the configuration allows it", async () => {
    await h.close();
    h = await harness({ policy: { ...API_POLICY, allowHttp: true } });
    const r = await h.req({ method: "POST", url: "/api/v1/repositories", payload: { name: "plain", url: "http://git.internal.example/acme/app.git", branch: "main" } });
    assert.equal(r.statusCode, 201);
  });

  it("refuses branches and sub-paths that git could read as options, refspecs or paths outside the repository", async () => {
    for (const branch of ["-f", "--upload-pack=x", "+refs/heads/main:refs/heads/x", "main..evil", "main@{1}", "refs/remotes/origin/main", "HEAD", ".hidden", "a.lock", "a//b"]) {
      await refused({ branch }, branch.includes(" ") || /[~^:?*[\\]/.test(branch) ? "FLT-API-INVALID-REQUEST" : "FLT-REPO-BRANCH-INVALID");
    }
    for (const p of ["/etc", "../up", "a/../../up", "-x", "a\\b"]) await refused({ path: p }, "FLT-REPO-PATH-INVALID");
    assert.deepEqual(await h.store.listRepositories(), []);
  });

  it("credentials are names of configured credentials, bound to hosts and fitting the transport", async () => {
    await refused({ credentials: "nope" }, "FLT-CREDENTIAL-UNKNOWN");
    await refused({ url: "https://gitlab.com/acme/app.git", credentials: "github" }, "FLT-CREDENTIAL-HOST");
    await refused({ url: "https://evil.example/acme/app.git", credentials: "github" }, "FLT-CREDENTIAL-HOST");
    await refused({ url: "https://github.com.evil.example/acme/app.git", credentials: "github" }, "FLT-CREDENTIAL-HOST");
    await refused({ url: "git@github.com:acme/app.git", credentials: "github" }, "FLT-CREDENTIAL-TRANSPORT");
    await refused({ url: "https://gitlab.com/acme/app.git", credentials: "gitlab-key" }, "FLT-CREDENTIAL-TRANSPORT");
    await refused({ url: `${tmpdir()}/app.git`, credentials: "github" }, "FLT-CREDENTIAL-TRANSPORT");
    assert.equal((await h.req({ method: "POST", url: "/api/v1/repositories", payload: { ...APP } })).statusCode, 201);
    // A change is checked as the repository it would make.
    const moved = await h.req({ method: "PATCH", url: "/api/v1/repositories/app", payload: { url: "https://evil.example/acme/app.git" } });
    assert.equal(moved.statusCode, 400);
    assert.equal(json(moved)["code"], "FLT-CREDENTIAL-HOST");
    assert.equal((await h.store.getRepository("app"))?.url, APP.url);
  });
});
