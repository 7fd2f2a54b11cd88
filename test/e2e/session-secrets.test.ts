/**
 * A whole `flotilla serve` session as a process, with every kind of secret the server holds: an admin
 * token, a webhook secret, a Git token bound to its host, a notification header token, an unrelated
 * secret in the environment, and API tokens created and rotated while it runs. The session registers a
 * repository over authenticated HTTP, refuses attacks, takes a badly signed and a signed webhook,
 * deploys on the simulator and notifies. Then: none of those secrets appears anywhere in what the
 * server logged, every line is JSON, and the audit lines say who did what with which outcome. A restart
 * with a new FLOTILLA_ADMIN_TOKEN makes the old one stop working at once.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signGithubPayload } from "../../src/controller/github-webhook.ts";
import { cli } from "../helpers/cli.ts";
import { GitHttpServer, RecordingServer, TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";
import { killServes, startServe } from "../helpers/serve.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  killServes();
  for (const c of cleanups.reverse()) await c();
});

const SECRETS = {
  admin: "admin-secret-AAAA-0123456789abcdef",
  newAdmin: "admin-secret-ZZZZ-after-the-restart",
  webhook: "webhook-secret-BBBB-0123456789",
  git: "ghp_gitSecretCCCC0123456789abcdef",
  hook: "hook-secret-DDDD-0123456789",
  db: "db-password-EEEE-0123456789",
};

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a whole serve session keeps every secret out of its log", () => {
  it("registers, refuses, takes webhooks, deploys and notifies; the log holds no secret and audits who did what; a new admin token replaces the old at restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-session-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    const git = new GitHttpServer(path.dirname(remote.bare), SECRETS.git);
    const gitBase = await git.start();
    cleanups.push(() => git.stop());
    const hook = new RecordingServer({ status: 200 });
    const hookBase = await hook.start();
    cleanups.push(() => hook.stop());
    const marker = path.join(dir, "MARKER");
    const store = path.join(dir, "s.db");
    writeFileSync(
      path.join(dir, "flotilla.yaml"),
      [
        "logLevel: debug",
        "allowHttp: true",
        "credentials:",
        `  git: { type: token-env, env: GIT_TOKEN, hosts: ["${new URL(gitBase).host}"] }`,
        "notifications:",
        `  targets: [{ url: "${hookBase}/hook", headers: { Authorization: "Bearer \${HOOK_TOKEN}" } }]`,
        "  allowedEnv: [HOOK_TOKEN]",
        "",
      ].join("\n"),
    );
    const env = { FLOTILLA_ADMIN_TOKEN: SECRETS.admin, FLOTILLA_WEBHOOK_SECRET: SECRETS.webhook, GIT_TOKEN: SECRETS.git, HOOK_TOKEN: SECRETS.hook, DB_PASSWORD: SECRETS.db, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
    const args = ["--config", path.join(dir, "flotilla.yaml"), "--simulator", "--speed", "60", "--store", store, "--data-dir", path.join(dir, "data")];
    const server = await startServe(args, { env, cwd: dir });
    const api = (method: string, url: string, token: string | null, body?: unknown) =>
      fetch(`${server.url}${url}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });

    // API tokens made beside the running server, in its store.
    const viewer = (JSON.parse((await cli(["token", "create", "viewer", "--store", store, "--output", "json"])).stdout) as { token: string }).token;
    const ops = (JSON.parse((await cli(["token", "create", "ops", "--role", "operator", "--store", store, "--output", "json"])).stdout) as { token: string }).token;

    const url = `${gitBase}/origin.git`;
    assert.equal((await api("POST", "/api/v1/repositories", SECRETS.admin, { name: "apps", url, branch: "main", credentials: "git", pollIntervalSeconds: 3600 })).status, 201);
    // The attacks of the issue, by an operator token: each a 400 with its code, nothing run, nothing sent.
    const attacks: [unknown, string][] = [
      [{ name: "a1", url, branch: "main", credentials: { kind: "helper", helper: `!touch ${marker}; echo` } }, "FLT-API-INVALID-REQUEST"],
      [{ name: "a2", url, branch: "main", credentials: "env:FLOTILLA_ADMIN_TOKEN" }, "FLT-API-INVALID-REQUEST"],
      [{ name: "a3", url: `ext::sh -c touch% ${marker}`, branch: "main" }, "FLT-REPO-URL-FORBIDDEN"],
      [{ name: "a4", url: `--upload-pack=touch ${marker}`, branch: "main" }, "FLT-REPO-URL-FORBIDDEN"],
      [{ name: "a5", url: url.replace("127.0.0.1", "localhost"), branch: "main", credentials: "git" }, "FLT-CREDENTIAL-HOST"],
      [{ name: "a6", url: "/etc", branch: "main" }, "FLT-REPO-URL-FORBIDDEN"],
    ];
    for (const [body, code] of attacks) {
      const r = await api("POST", "/api/v1/repositories", ops, body);
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as { code: string }).code, code);
    }
    assert.equal((await api("POST", "/api/v1/repositories", viewer, { name: "v", url, branch: "main" })).status, 403);
    assert.equal((await api("GET", "/api/v1/repositories", viewer)).status, 200);
    assert.equal((await api("DELETE", "/api/v1/repositories/apps", "flt_guessed-token-0123456789abcdef")).status, 401);

    // A push, a badly signed and a signed webhook.
    const sha = remote.push(rollingObject("dev/worker/worker", "worker"), "initial");
    const payload = JSON.stringify({ ref: "refs/heads/main", after: sha, repository: { clone_url: url, full_name: "acme/apps" } });
    const wrongSignature = signGithubPayload("not-the-secret", payload);
    const bad = await fetch(`${server.url}/webhooks/github`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "delivery-bad", "x-hub-signature-256": wrongSignature }, body: payload });
    assert.equal(bad.status, 401);
    const goodSignature = signGithubPayload(SECRETS.webhook, payload);
    const good = await fetch(`${server.url}/webhooks/github`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "delivery-good", "x-hub-signature-256": goodSignature }, body: payload });
    assert.equal(good.status, 202);

    const finished = await until("the deployment to finish", async () => {
      const items = ((await (await api("GET", "/api/v1/deployments?repository=apps", viewer)).json()) as { items: { phase: string; finishedAt: string | null }[] }).items;
      return items.find((d) => d.finishedAt !== null);
    });
    assert.equal(finished.phase, "Succeeded");
    assert.ok(git.seen.includes(`Basic ${Buffer.from(`x-access-token:${SECRETS.git}`).toString("base64")}`), "the bound host got the token");
    await until("the notification", () => Promise.resolve(hook.requests.some((r) => r.headers["authorization"] === `Bearer ${SECRETS.hook}`) ? true : undefined));

    // Whatever an operator token reads, no answer holds a secret of the server.
    const detail = ((await (await api("GET", "/api/v1/deployments?repository=apps", ops)).json()) as { items: { id: string }[] }).items[0]!.id;
    const answers: string[] = [];
    for (const read of ["/api/v1/repositories", "/api/v1/repositories/apps", "/api/v1/deployments", `/api/v1/deployments/${detail}`, `/api/v1/deployments/${detail}/events`, "/api/v1/repositories/apps/commits", `/api/v1/repositories/apps/commits/${sha}/files`, `/api/v1/repositories/apps/commits/${sha}/dryrun?rendered=true`, "/metrics"]) {
      const r = await api("GET", read, ops);
      assert.equal(r.status, 200, read);
      answers.push(await r.text());
    }
    for (const secret of Object.values(SECRETS)) assert.ok(!answers.join("").includes(secret), "no API answer holds a server secret");

    // Rotating a token while the server runs: the old value stops working at once.
    const rotated = await cli(["token", "rotate", "ops", "--store", store, "--output", "json"]);
    const newOps = (JSON.parse(rotated.stdout) as { token: string }).token;
    assert.equal((await api("GET", "/api/v1/repositories", ops)).status, 401);
    assert.equal((await api("GET", "/api/v1/repositories", newOps)).status, 200);
    assert.equal(await server.stop(), 0);

    // Restart with a new admin token: it replaces the stored one.
    const again = await startServe(args, { env: { ...env, FLOTILLA_ADMIN_TOKEN: SECRETS.newAdmin }, cwd: dir });
    const status = async (token: string) => (await fetch(`${again.url}/api/v1/repositories`, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.equal(await status(SECRETS.admin), 401, "the old admin token stopped working");
    assert.equal(await status(SECRETS.newAdmin), 200, "the new admin token works");
    assert.equal(await again.stop(), 0);

    assert.equal(existsSync(marker), false, "no attack ran a command");
    const log = server.stderr() + again.stderr();
    const lines = log.split("\n").filter((l) => l.trim() !== "");
    const records = lines.map((l) => JSON.parse(l) as { level: string; msg: string; audit?: Record<string, unknown> });
    assert.ok(records.length > 20, "the session was logged");
    const forbidden = [
      ...Object.values(SECRETS),
      viewer,
      ops,
      newOps,
      Buffer.from(`x-access-token:${SECRETS.git}`).toString("base64"),
      wrongSignature.slice("sha256=".length),
      goodSignature.slice("sha256=".length),
      "flt_guessed-token-0123456789abcdef",
    ];
    for (const secret of forbidden) assert.ok(!log.includes(secret), `the log holds a secret: ${secret.slice(0, 8)}…`);

    const audits = records.filter((r) => r.audit).map((r): Record<string, unknown> => ({ level: r.level, ...r.audit }));
    const find = (pred: (a: Record<string, unknown>) => boolean, what: string) => {
      const found = audits.find(pred);
      assert.ok(found, `an audit line for ${what}`);
      assert.match(String(found["requestId"]), /^[0-9a-f-]{36}$/);
      return found;
    };
    find((a) => a["action"] === "repository.add" && a["by"] === "admin" && a["outcome"] === "ok" && (a["target"] as { repository?: string }).repository === "apps", "the registration");
    for (const [, code] of attacks) find((a) => a["by"] === "ops" && a["outcome"] === "refused" && a["code"] === code && a["level"] === "warn", `the refused ${code}`);
    find((a) => a["by"] === "viewer" && a["status"] === 403 && a["code"] === "FLT-API-FORBIDDEN", "the read-only token's attempt");
    find((a) => a["by"] === null && a["status"] === 401 && a["action"] === "repository.remove", "the unknown token");
    find((a) => a["action"] === "webhook.github" && a["outcome"] === "refused" && (a["webhook"] as { outcome: string; delivery: string }).outcome === "bad-signature" && (a["webhook"] as { delivery: string }).delivery === "delivery-bad", "the badly signed webhook");
    find((a) => a["action"] === "webhook.github" && a["outcome"] === "ok" && (a["webhook"] as { outcome: string }).outcome === "queued", "the signed webhook");
    find((a) => a["by"] === null && a["status"] === 401 && a["method"] === "GET" && a["route"] === "/api/v1/repositories", "the rotated token's old value");
    assert.ok(records.some((r) => r.level === "info" && /dev\/worker\/worker Succeeded/.test(r.msg)), "deployment progress is in the log");
  });
});
