/**
 * One masker for every output. Given one repository holding a DB_PASSWORD environment value, a
 * postgres URL with a password and a Terraform output marked sensitive, Then none of the three
 * appears in render, plan, validate, changes, a dry run with rendered files, API answers, the
 * events stream, notifications or the log writer — and `render --show-sensitive` alone shows them.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Controller } from "../../src/controller/controller.ts";
import { Notifier } from "../../src/controller/notifications.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { defaultMasker, maskedWriter } from "../../src/core/mask.ts";
import { buildServer } from "../../src/server/server.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { cli } from "../helpers/cli.ts";
import { engine } from "../helpers/engine.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const DB_PASSWORD = "hunter2-db-pass";
const URL_PASSWORD = "pg-url-secret";
const TF_SENSITIVE = "tf-sensitive-value-123";
const SECRETS = [DB_PASSWORD, URL_PASSWORD, TF_SENSITIVE];
/** Not secret-looking by the built-in rules; the operator adds LICENSE (--secret-name, masking.secretNames). */
const LICENSE = "lic-8f3a9c-2041";

const FILES = {
  "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 1, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } },
  "apps/web/web_taskdef.json": `{
  "family": "web",
  "containerDefinitions": [{
    "name": "app", "image": "nginx:1.27", "memory": 128,
    "command": ["serve", "--upstream={{ upstream_token }}"],
    "environment": [
      { "name": "DB_PASSWORD", "value": "${DB_PASSWORD}" },
      { "name": "DATABASE_URL", "value": "postgres://app:${URL_PASSWORD}@db.internal:5432/app" },
      { "name": "UPSTREAM", "value": "{{ upstream_token }}" },
      { "name": "APP_LICENSE", "value": "${LICENSE}" }
    ],
    "secrets": [{ "name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf" }]
  }]
}`,
  "apps/web/web_input.json": { ref: { file: ["infra/outputs.json"], type: "TERRAFORM" } },
  "infra/outputs.json": { upstream_token: { value: TF_SENSITIVE, sensitive: true, type: "string" } },
};

const cleanups: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

function assertClean(what: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} shows ${s}:\n${text}`);
}

function remoteWithFixture(): { remote: TestRemote; sha: string } {
  const remote = new TestRemote();
  cleanups.push(() => remote.cleanup());
  return { remote, sha: remote.push(FILES, "web with secrets") };
}

describe("one masker for every output", () => {
  it("render masks all three, as text and JSON; --show-sensitive shows them", async () => {
    const { remote } = remoteWithFixture();
    for (const args of [[], ["-o", "json"]]) {
      const r = await cli(["render", remote.work.dir, "apps/web/web", ...args]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assertClean(`render ${args.join(" ")}`, r.stdout + r.stderr);
      assert.match(r.stdout, /postgres:\/\/app:\*\*\*\*@db\.internal:5432\/app/, "the URL stays readable without its password");
      assert.match(r.stdout, /arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf/, "secrets' valueFrom ARNs stay");
    }
    const plain = await cli(["render", remote.work.dir, "apps/web/web"]);
    assert.ok(plain.stdout.includes(LICENSE), "APP_LICENSE is not a built-in secret name");
    const extra = await cli(["render", remote.work.dir, "apps/web/web", "--secret-name", "LICENSE"]);
    assert.ok(!extra.stdout.includes(LICENSE), "--secret-name adds a word");
    const shown = await cli(["render", remote.work.dir, "apps/web/web", "--show-sensitive"]);
    for (const s of SECRETS) assert.ok(shown.stdout.includes(s), `--show-sensitive shows ${s}`);
  });

  it("plan, validate and changes mask them", async () => {
    const { remote } = remoteWithFixture();
    const outputs = [
      await cli(["plan", remote.work.dir, "--simulator"]),
      await cli(["plan", remote.work.dir, "--simulator", "-o", "json"]),
      await cli(["validate", remote.work.dir]),
      await cli(["validate", remote.work.dir, "-o", "json"]),
      await cli(["changes", remote.work.dir, "--initial"]),
      await cli(["changes", remote.work.dir, "--initial", "-o", "json"]),
    ];
    for (const r of outputs) assertClean("a CLI verb", r.stdout + r.stderr);
    assert.match(outputs[0]!.stdout, /"value": "\*\*\*\*"/, "the plan shows the variable, not its value");
    assert.match(outputs[2]!.stdout, /FLT-WARN-PLAINTEXT-SECRET/, "and validate still warns about the literal secret");
  });

  it("a dry run with rendered files, API answers and the events stream mask them", async () => {
    const { remote, sha } = remoteWithFixture();
    const e = await engine();
    const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await e.store.addRepository({ name: "shop", url: remote.bare, branch: "main", pollIntervalSeconds: 30 });
    const controller = new Controller({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, dataDir, holder: "t", policy: TEST_POLICY, concurrency: 1, allowDelete: false, maxDeleteFraction: 0.5, secretNames: ["LICENSE"] });
    const dry = await controller.sources.manual.dryRun("shop", sha, { render: true });
    assertClean("dryRun", JSON.stringify(dry));
    assert.ok(!JSON.stringify(dry).includes(LICENSE), "the server configuration's masking.secretNames apply to dry runs");
    assert.match(JSON.stringify(dry.objects[0]!.rendered), /postgres:\/\/app:\*\*\*\*@db\.internal/);

    const app = buildServer({ store: e.store, clock: e.clock, controller, policy: TEST_POLICY });
    cleanups.push(() => app.close());
    const { token } = await e.store.createToken("ops", "operator");
    const auth = { authorization: `Bearer ${token}` };
    const answer = await app.inject({ method: "GET", url: `/api/v1/repositories/shop/commits/${sha}/dryrun?rendered=true`, headers: auth });
    assert.equal(answer.statusCode, 200, answer.body);
    assertClean("API dry run", answer.body);
    assert.match(answer.body, /"name":"DB_PASSWORD","value":"\*\*\*\*"/);

    // A deployment whose timeline quotes the secrets (an error message from a container, say).
    await controller.sources.queue.sync("shop", "manual");
    const d = (await e.store.listDeployments({ repository: "shop" })).items[0]!;
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    await e.store.appendEvents(d.id, [{ type: "Note", message: `container said DB_PASSWORD=${DB_PASSWORD} for postgres://app:${URL_PASSWORD}@db.internal`, data: { env: [{ name: "DB_PASSWORD", value: DB_PASSWORD }] } }]);
    const count = (await e.store.listEvents(d.id)).length;
    for (const url of [`/api/v1/deployments/${d.id}`, `/api/v1/deployments/${d.id}/events`, `/api/v1/events?deployment=${d.id}&limit=${count}`]) {
      const r = await app.inject({ method: "GET", url, headers: { ...auth, "last-event-id": "0~" } });
      assert.match(r.body, /container said/, `${url} shows the event`);
      assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
      assertClean(url, r.body);
    }
    await controller.stop();
    await e.close();
  });

  it("status and history mask what a timeline or a record quotes", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-store-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "s.db");
    const store = await openSqliteStore({ path: file, clock: new VirtualClock() });
    const quoted = `essential container exited: DB_PASSWORD=${DB_PASSWORD} could not open postgres://app:${URL_PASSWORD}@db.internal:5432/app`;
    const d = await store.createDeployment({ object: "apps/web/web", strategy: "rolling", region: "us-east-1", cluster: "apps", service: "web" }, [{ type: "Started", message: quoted }]);
    await store.updateDeployment(d.id, d.version, { phase: "Failed", reason: "TasksFailed", message: quoted }, [{ type: "Failed", message: quoted }]);
    await store.close();
    for (const args of [["status"], ["status", "-o", "json"], ["history", "apps/web/web"], ["history", "apps/web/web", "-o", "json"]]) {
      const r = await cli([...args, "--store", file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /postgres:\/\/app:\*\*\*\*@db\.internal/, args.join(" "));
      assertClean(args.join(" "), r.stdout + r.stderr);
    }
  });

  it("notifications and the log writer mask them", async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const logged: string[] = [];
    const log = maskedWriter((t) => logged.push(t), defaultMasker);
    const e = await engine();
    const notifier = new Notifier({ clock: e.clock, targets: [{ url: `${url}/json` }, { url: `${url}/slack`, template: '{"text": "{{ deployment.object }}: {{ deployment.message }}"}' }], onWarning: (m) => log(m) });
    const d = await e.store.createDeployment({ object: "apps/web/web", strategy: "rolling", region: "us-east-1", cluster: "apps", service: "web" });
    const quoted = `essential container exited: DB_PASSWORD=${DB_PASSWORD} could not open postgres://app:${URL_PASSWORD}@db.internal:5432/app`;
    notifier.onUpdate({ ...d, phase: "Failed", message: quoted, finishedAt: 1 }, [{ type: "Failed", message: quoted }]);
    await notifier.drain();
    assert.equal(bodies.length, 2);
    assertClean("notifications", bodies.join("\n"));
    assert.match(bodies.join("\n"), /postgres:\/\/app:\*\*\*\*@db\.internal/);
    // What serve writes: source events as JSON, timeline lines, warnings.
    log(`source commit-processed: ${JSON.stringify({ repository: "shop", url: `https://ci:${URL_PASSWORD}@git.example.com/shop.git` })}\n`);
    log(`apps/web/web Failed: ${quoted}\n`);
    log(`warning: ${JSON.stringify({ environment: [{ name: "DB_PASSWORD", value: DB_PASSWORD }] })}\n`);
    assertClean("the log", logged.join(""));
    await e.close();
  });
});
