/**
 * The CLI as a client of `flotilla serve`: the real API listening on 127.0.0.1 (in-memory store, a
 * fake controller), the CLI run in-process with FLOTILLA_SERVER and FLOTILLA_TOKEN.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { SystemClock } from "../../src/core/clock.ts";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { buildServer } from "../../src/server/index.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { cli } from "../helpers/cli.ts";
import { API_POLICY, FakeController, SHA1, finish, newDeployment } from "../server/helpers.ts";

let store: Store;
let app: ReturnType<typeof buildServer>;
let controller: FakeController;
let server: string;
let operator: string;
let reader: string;
/** Requests to the repository routes (to prove a refused form never left the CLI). */
let repositoryRequests = 0;
/** `Last-Event-ID` of every event stream request, in order. */
const streamRequests: (string | undefined)[] = [];

before(async () => {
  const clock = new SystemClock();
  store = await openSqliteStore({ path: ":memory:", clock });
  operator = (await store.createToken("alice", "operator")).token;
  reader = (await store.createToken("dashboard", "read-only")).token;
  controller = new FakeController(store);
  app = buildServer({ store, clock, controller, policy: API_POLICY, options: { pollIntervalMs: 20, heartbeatMs: 5000 } });
  app.addHook("onRequest", (request, _reply, done) => {
    repositoryRequests += request.url.startsWith("/api/v1/repositories") ? 1 : 0;
    if (request.url.startsWith("/api/v1/events")) streamRequests.push(request.headers["last-event-id"] as string | undefined);
    done();
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  server = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
  await store.close();
});

const as = (token: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ FLOTILLA_SERVER: server, FLOTILLA_TOKEN: token, ...extra });

/** Wait (bounded) until `check` holds, polling every few milliseconds. */
async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The CLI in-process with output readable while it runs (for `deployment watch`). */
function live(args: string[], env: NodeJS.ProcessEnv) {
  const out = { stdout: "", stderr: "" };
  const io: CliIO = {
    out: (t) => (out.stdout += t),
    err: (t) => (out.stderr += t),
    color: false,
    interactive: false,
    env: { ...process.env, ...env },
    cwd: process.cwd(),
  };
  return { out, done: main(args, io) };
}

describe("flotilla repo", () => {
  it("adds, lists and removes a repository through the API", async () => {
    const add = await cli(["repo", "add", "web-app", "https://github.com/acme/web-app.git", "--branch", "release", "--path", "deploy", "--poll", "30", "--credentials", "github"], as(operator));
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added web-app: https:\/\/github.com\/acme\/web-app.git release \(deploy\), polled every 30s/);

    const text = await cli(["repo", "list"], as(reader));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^NAME\s+BRANCH\s+PATH\s+POLL\s+CREDENTIALS/);
    assert.match(text.stdout, /web-app\s+release\s+deploy\s+30s\s+github/);

    const json = await cli(["repo", "list", "--output", "json"], as(reader));
    const items = (JSON.parse(json.stdout) as { items: { name: string; branch: string; path: string; pollIntervalSeconds: number; credentials: unknown }[] }).items;
    const repo = items.find((r) => r.name === "web-app");
    assert.deepEqual(repo && { branch: repo.branch, path: repo.path, poll: repo.pollIntervalSeconds, credentials: repo.credentials }, { branch: "release", path: "deploy", poll: 30, credentials: "github" });

    const updated = await cli(["repo", "update", "web-app", "--branch", "main", "--root", "--no-credentials"], as(operator));
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /updated web-app: https:\/\/github.com\/acme\/web-app.git main, credentials -/);
    assert.equal((await store.getRepository("web-app"))?.path, null);

    const rm = await cli(["repo", "remove", "web-app"], as(operator));
    assert.equal(rm.code, 0, rm.stderr);
    const afterRm = await cli(["repo", "list", "--output", "json"], as(reader));
    assert.equal((JSON.parse(afterRm.stdout) as { items: { name: string }[] }).items.some((r) => r.name === "web-app"), false);

    const again = await cli(["repo", "remove", "web-app"], as(operator));
    assert.equal(again.code, 2);
    assert.match(again.stderr, /FLT-API-NOT-FOUND/);
  });

  it("refuses credentials that are not a credential's name, and forbidden URLs, branches and paths, before calling the server", async () => {
    const before = repositoryRequests;
    const cases: [string[], RegExp][] = [
      [["repo", "add", "x", "https://example.com/x.git", "--credentials", "env:GHP_SECRET"], /FLT-CLI-USAGE/],
      [["repo", "add", "x", "https://example.com/x.git", "--credentials", "!touch /tmp/MARKER; echo"], /FLT-CLI-USAGE/],
      [["repo", "add", "x", "ext::sh -c touch% /tmp/MARKER"], /FLT-REPO-URL-FORBIDDEN/],
      [["repo", "add", "x", "fd::7"], /FLT-REPO-URL-FORBIDDEN/],
      [["repo", "add", "x", "--", "--upload-pack=touch /tmp/MARKER"], /FLT-REPO-URL-FORBIDDEN/],
      [["repo", "add", "x", "https://example.com/x.git", "--branch=--upload-pack=x"], /FLT-REPO-BRANCH-INVALID/],
      [["repo", "add", "x", "https://example.com/x.git", "--path", "../etc"], /FLT-REPO-PATH-INVALID/],
      [["repo", "update", "x", "--url", "ext::sh"], /FLT-REPO-URL-FORBIDDEN/],
    ];
    for (const [args, code] of cases) {
      const r = await cli(args, as(operator));
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, code, args.join(" "));
      assert.doesNotMatch(r.stderr, /GHP_SECRET|MARKER/);
    }
    assert.equal(repositoryRequests, before, "nothing reached the server");
    // A well-formed name the server does not define: its answer does not echo it.
    const unknown = await cli(["repo", "add", "x", "https://example.com/x.git", "--credentials", "ghp_secret"], as(operator));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /FLT-CREDENTIAL-UNKNOWN/);
    assert.doesNotMatch(unknown.stderr, /ghp_secret/);
  });

  it("sends a relative local path as an absolute one", async () => {
    const r = await cli(["repo", "add", "local", "repos/app.git", "--output", "json"], { ...as(operator) }, tmpdir());
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { url: string }).url, path.join(tmpdir(), "repos/app.git"));
    await cli(["repo", "remove", "local"], as(operator));
  });
});

describe("flotilla commit", () => {
  before(async () => {
    const r = await cli(["repo", "add", "app", "https://github.com/acme/app.git"], as(operator));
    assert.equal(r.code, 0, r.stderr);
  });

  it("lists commits and a commit's files", async () => {
    const list = await cli(["commit", "list", "app", "--limit", "1", "--output", "json"], as(reader));
    assert.equal(list.code, 0, list.stderr);
    assert.equal((JSON.parse(list.stdout) as { items: unknown[] }).items.length, 1);
    const text = await cli(["commit", "list", "app"], as(reader));
    assert.match(text.stdout, /222222222222\s+2026-11-23T10:00:00.000Z\s+no\s+-\s+Dev <dev@example.com>\s+web: new image/);
    const files = await cli(["commit", "files", "app", SHA1.slice(0, 7)], as(reader));
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /modified\s+taskdef\s+dev\/web\/web\s+dev\/web\/web_taskdef.json/);
  });

  it("deploys a commit through the controller and prints what will happen", async () => {
    const r = await cli(["commit", "deploy", "app", SHA1, "--force", "--override", "skip-alarms"], as(operator));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /queued app@111111111111 \(next in the queue\), requested by alice; will:/);
    assert.match(r.stdout, /update\s+dev\/web\/web: taskdef changed/);
    const call = controller.calls.filter((c) => c.method === "deployCommit").at(-1);
    assert.deepEqual(call?.args, ["app", SHA1, { force: true, requestedBy: "alice", overrides: ["skip-alarms"] }]);
  });

  it("dry-runs a commit, with rendered definitions on request", async () => {
    const text = await cli(["commit", "dryrun", "app", SHA1], as(reader));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /dry run of app@111111111111 \(nothing changed\):\n\s+update\s+dev\/web\/web: taskdef changed/);
    const json = await cli(["commit", "dryrun", "app", SHA1, "--rendered", "--output", "json"], as(reader));
    assert.deepEqual((JSON.parse(json.stdout) as { rendered: unknown }).rendered, { "dev/web/web": { taskdef: { family: "web" } } });
  });

  it("reports an unknown commit with the API's code", async () => {
    const r = await cli(["commit", "deploy", "app", "abcdef0"], as(operator));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-GIT-UNKNOWN-REVISION/);
  });
});

describe("flotilla deployment list|get", () => {
  it("filters and shows a deployment with its timeline", async () => {
    const eu = await store.createDeployment(newDeployment({ repository: "filters", region: "eu-west-1", cluster: "blue", owner: { id: "web-1#3fa9c2", ttlMs: 30_000 } }), [{ type: "Created", message: "deployment created" }]);
    await store.appendEvents(eu.id, [{ type: "Progress", message: "2/4 tasks running" }]);
    const us = await store.createDeployment(newDeployment({ repository: "filters" }));
    await finish(store, us, "Failed");

    const byRegion = await cli(["deployment", "list", "--repository", "filters", "--region", "eu-west-1", "--output", "json"], as(reader));
    assert.equal(byRegion.code, 0, byRegion.stderr);
    assert.deepEqual((JSON.parse(byRegion.stdout) as { items: { id: string }[] }).items.map((d) => d.id), [eu.id]);
    const failed = await cli(["deployment", "list", "--repository", "filters", "--phase", "Failed", "RolledBack", "--output", "json"], as(reader));
    assert.deepEqual((JSON.parse(failed.stdout) as { items: { id: string }[] }).items.map((d) => d.id), [us.id]);
    const active = await cli(["deployment", "list", "--repository", "filters", "--active"], as(reader));
    assert.match(active.stdout, /^ID\s+PHASE\s+OBJECT/);
    assert.ok(active.stdout.includes(eu.id) && !active.stdout.includes(us.id), active.stdout);

    const get = await cli(["deployment", "get", eu.id], as(reader));
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, new RegExp(`deployment ${eu.id}\\n`));
    assert.match(get.stdout, /service\s+eu-west-1\/blue\//);
    assert.match(get.stdout, /owner\s+web-1#3fa9c2 \(token 1, lease until \d{4}-/, "the replica that drives it, and its lease");
    assert.match(get.stdout, /timeline\n.*Created\s+deployment created\n.*Progress\s+2\/4 tasks running/);
    const json = await cli(["deployment", "get", eu.id, "--output", "json"], as(reader));
    assert.deepEqual((JSON.parse(json.stdout) as { timeline: { type: string }[] }).timeline.map((e) => e.type), ["Created", "Progress"]);

    const missing = await cli(["deployment", "get", "nope"], as(reader));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /FLT-API-NOT-FOUND/);
  });
});

describe("flotilla deployment watch", () => {
  it("follows events appended after it starts and exits 0 when the deployment succeeds", async () => {
    const d = await store.createDeployment(newDeployment(), [{ type: "Created", message: "deployment created" }]);
    const w = live(["deployment", "watch", d.id], as(reader));
    await until("the watch to connect", () => w.out.stderr.includes("watching"));
    await store.appendEvents(d.id, [{ type: "Progress", message: "1/2 tasks running" }]);
    await until("the streamed event", () => w.out.stdout.includes("1/2 tasks running"));
    const current = (await store.getDeployment(d.id))!;
    await finish(store, current, "Succeeded");
    assert.equal(await w.done, 0, w.out.stderr);
    const lines = w.out.stdout.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.replace(/^\d\d:\d\d:\d\d /, "").replace(/\s+/g, " ")),
      ["Created deployment created", "Progress 1/2 tasks running", "Succeeded deployment succeeded", `Succeeded ${d.object} 0/0 running`],
    );
  });

  it("exits 1 when the deployment ends otherwise, and at once when it has already ended", async () => {
    const d = await store.createDeployment(newDeployment());
    const before = streamRequests.length;
    const w = live(["deployment", "watch", d.id, "--output", "json"], as(reader));
    await until("the watch to connect", () => streamRequests.length > before);
    await finish(store, d, "RolledBack");
    assert.equal(await w.done, 1);
    const events = w.out.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { type: string });
    assert.deepEqual(events.map((e) => e.type), ["RolledBack"]);

    const again = await cli(["deployment", "watch", d.id], as(reader));
    assert.equal(again.code, 1);
    assert.match(again.stdout, /RolledBack/);
  });

  it("reconnects with Last-Event-ID when the connection drops", async () => {
    // A TCP proxy in front of the API whose connections the test can cut.
    const sockets = new Set<net.Socket>();
    let streamed = "";
    const port = (app.server.address() as AddressInfo).port;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(port, "127.0.0.1");
      upstream.on("data", (chunk: Buffer) => (streamed += chunk.toString("utf8")));
      sockets.add(client);
      client.on("close", () => sockets.delete(client));
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const d = await store.createDeployment(newDeployment());
      const before = streamRequests.length;
      const w = live(["deployment", "watch", d.id, "--server", via], { FLOTILLA_SERVER: "", FLOTILLA_TOKEN: reader });
      await until("the watch to connect", () => w.out.stderr.includes("watching"));
      await store.appendEvents(d.id, [{ type: "Progress", message: "first" }]);
      // On the stream itself (the watch may also have read it from the record while connecting).
      await until("the first event", () => w.out.stdout.includes("first") && /event: deployment\ndata: [^\n]*"message":"first"/.test(streamed));
      for (const s of sockets) s.destroy();
      await until("the reconnection", () => streamRequests.length >= before + 2);
      await store.appendEvents(d.id, [{ type: "Progress", message: "second" }]);
      await until("the second event", () => w.out.stdout.includes("second"));
      await finish(store, (await store.getDeployment(d.id))!, "Succeeded");
      assert.equal(await w.done, 0, w.out.stderr);
      assert.match(w.out.stderr, /connection to .* lost; reconnecting/);
      assert.equal(streamRequests[before], undefined);
      assert.ok(streamRequests[before + 1], "the reconnection carries Last-Event-ID");
      const types = w.out.stdout.split("\n").filter((l) => /first|second|deployment succeeded/.test(l));
      assert.equal(types.length, 3, w.out.stdout);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe("errors", () => {
  it("a read-only token on a change: exit 2 with the 403's code and what to do", async () => {
    const r = await cli(["repo", "add", "ro", "https://github.com/acme/ro.git"], as(reader));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-API-FORBIDDEN/);
    assert.match(r.stderr, /set FLOTILLA_TOKEN to an operator token/);
    assert.ok(!r.stderr.includes(reader) && !r.stdout.includes(reader), "the token is never printed");
  });

  it("no token: exit 2 with the 401's code", async () => {
    const r = await cli(["repo", "list"], as(""));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-API-UNAUTHORIZED/);
    assert.match(r.stderr, /set FLOTILLA_TOKEN/);
  });

  it("a server that is down: a clear error naming the URL", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await cli(["deployment", "list", "--server", `http://127.0.0.1:${port}`], { FLOTILLA_TOKEN: operator });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-CLI-SERVER-UNREACHABLE/);
    assert.ok(r.stderr.includes(`http://127.0.0.1:${port}`), r.stderr);
    assert.match(r.stderr, /ECONNREFUSED/);
    const watch = await cli(["deployment", "watch", "x", "--server", `http://127.0.0.1:${port}`], { FLOTILLA_TOKEN: operator });
    assert.equal(watch.code, 2);
    assert.match(watch.stderr, /FLT-CLI-SERVER-UNREACHABLE/);
  });
});

describe("control verbs through the API", () => {
  it("promote and pause the object's active deployment, recorded with the token's name", async () => {
    const d = await store.createDeployment(newDeployment({ object: "dev/ctl/ctl", service: "ctl" }));
    const promote = await cli(["promote", "dev/ctl/ctl"], as(operator));
    assert.equal(promote.code, 0, promote.stderr);
    assert.match(promote.stdout, new RegExp(`promote requested for deployment ${d.id} of dev/ctl/ctl \\(Pending\\) by alice`));
    const pause = await cli(["pause", "dev/ctl/ctl", "--output", "json"], as(operator));
    assert.equal(pause.code, 0, pause.stderr);
    assert.equal((JSON.parse(pause.stdout) as { requestedBy: string }).requestedBy, "alice");
    assert.deepEqual((await store.listControls(d.id)).map((c) => [c.action, c.requestedBy]), [["promote", "alice"], ["pause", "alice"]]);

    const ro = await cli(["abort", "dev/ctl/ctl"], as(reader));
    assert.equal(ro.code, 2);
    assert.match(ro.stderr, /FLT-API-FORBIDDEN/);
    const none = await cli(["resume", "dev/nothing/here"], as(operator));
    assert.equal(none.code, 2);
    assert.match(none.stderr, /FLT-STORE-NOT-FOUND/);
  });

  it("rollback goes to POST /api/v1/rollback", async () => {
    const r = await cli(["rollback", "dev/web/web"], as(operator));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rollback of dev\/web\/web started on http:\/\/127.0.0.1:\d+: deployment \S+/);
    assert.deepEqual(controller.calls.filter((c) => c.method === "rollback").at(-1)?.args, ["dev/web/web", "alice"]);
  });
});
