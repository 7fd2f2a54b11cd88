/**
 * `flotilla serve` as a process takes GitHub webhooks signed with the secret from the variable its
 * configuration names — and only that one: not the default variable once another is named, not
 * the admin token. A signed `ping` is enough to tell: 200 when the signature checks, 401 when not,
 * 404 when webhooks are off.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signGithubPayload } from "../../src/controller/github-webhook.ts";
import { killServes, startServe, type ServeProcess } from "../helpers/serve.ts";

const dirs: string[] = [];
after(() => {
  killServes();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const ADMIN = "admin-token-0123456789abcdef";
const payload = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });

async function ping(server: ServeProcess, secret: string, delivery: string): Promise<number> {
  const r = await fetch(`${server.url}/webhooks/github`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": delivery, "x-hub-signature-256": signGithubPayload(secret, payload) },
    body: payload,
  });
  return r.status;
}

async function serve(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-hook-"));
  dirs.push(dir);
  const files = (name: string) => path.join(dir, name);
  writeFileSync(files("flotilla.yaml"), "webhookSecretEnv: HOOK_FROM_CONFIG\n");
  const withConfig = args.map((a) => (a === "CONFIG" ? files("flotilla.yaml") : a));
  return startServe(["--simulator", "--store", files("s.db"), "--data-dir", files("data"), ...withConfig], { cwd: dir, env: { FLOTILLA_ADMIN_TOKEN: ADMIN, FLOTILLA_WEBHOOK_SECRET: "", ...env } });
}

describe("flotilla serve: the webhook secret's variable (process)", () => {
  it("by default the secret is FLOTILLA_WEBHOOK_SECRET's", async () => {
    const server = await serve([], { FLOTILLA_WEBHOOK_SECRET: "default-secret-1" });
    assert.equal(await ping(server, "default-secret-1", "d-1"), 200, server.stderr());
    assert.equal(await ping(server, "another-secret", "d-2"), 401);
    assert.equal(await ping(server, ADMIN, "d-3"), 401, "the admin token is not the webhook secret");
    assert.equal(await server.stop(), 0);
  });

  it("--webhook-secret-env names another variable: its secret is taken, the default variable's is not", async () => {
    const server = await serve(["--webhook-secret-env", "MY_HOOK_SECRET"], { MY_HOOK_SECRET: "named-secret-2", FLOTILLA_WEBHOOK_SECRET: "default-secret-2" });
    assert.equal(await ping(server, "named-secret-2", "d-1"), 200, server.stderr());
    assert.equal(await ping(server, "default-secret-2", "d-2"), 401);
    assert.match(server.stderr(), /GitHub webhooks on \/webhooks\/github/);
    assert.equal(await server.stop(), 0);
  });

  it("the configuration file's webhookSecretEnv works the same", async () => {
    const server = await serve(["--config", "CONFIG"], { HOOK_FROM_CONFIG: "config-secret-3", FLOTILLA_WEBHOOK_SECRET: "default-secret-3" });
    assert.equal(await ping(server, "config-secret-3", "d-1"), 200, server.stderr());
    assert.equal(await ping(server, "default-secret-3", "d-2"), 401);
    assert.equal(await server.stop(), 0);
  });

  it("with the named variable empty, webhooks are off (404), even when the default one is set", async () => {
    const server = await serve(["--webhook-secret-env", "MY_HOOK_SECRET"], { MY_HOOK_SECRET: "", FLOTILLA_WEBHOOK_SECRET: "default-secret-4" });
    assert.equal(await ping(server, "default-secret-4", "d-1"), 404);
    assert.match(server.stderr(), /webhooks off \(set MY_HOOK_SECRET\)/);
    assert.equal(await server.stop(), 0);
  });
});
