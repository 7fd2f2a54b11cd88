import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { pinnedConnector, type Connector, type EgressRequest, type NotificationPolicy, type Resolver } from "../../src/controller/egress.ts";
import { Notifier, type NotificationTarget, type NotifierOptions } from "../../src/controller/notifications.ts";
import { Runner } from "../../src/deploy/runner.ts";
import type { Deployment, NewEvent } from "../../src/store/types.ts";
import { depdef, engine, rollingSpec } from "../helpers/engine.ts";
import { receiver as listen } from "../helpers/receiver.ts";

/** A local webhook receiver; `answer` decides the response (default 200). */
async function receiver(answer?: Parameters<typeof listen>[0]) {
  const r = await listen(answer);
  closers.push(() => r.close());
  return r;
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

/** A connector that records every connection and never opens one. */
function spyConnector(status = 200): { connect: Connector; calls: EgressRequest[] } {
  const calls: EgressRequest[] = [];
  return { calls, connect: (r) => (calls.push(r), Promise.resolve({ status })) };
}

/** A resolver from a table; records what it was asked. */
function fakeResolver(table: Record<string, string[] | (() => string[])>): { resolve: Resolver; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: (host) => {
      asked.push(host);
      const entry = table[host];
      const list = typeof entry === "function" ? entry() : entry;
      if (!list) return Promise.reject(new Error(`getaddrinfo ENOTFOUND ${host}`));
      return Promise.resolve(list.map((address) => ({ address, family: address.includes(":") ? (6 as const) : (4 as const) })));
    },
  };
}

/** A finished deployment whose depdef names these targets, as the runner hands it to onUpdate. */
function deployment(notifications: NotificationTarget[]): Deployment {
  return {
    id: "d-1",
    object: "apps/web/web",
    repository: "shop",
    branch: "main",
    commitSha: "abc",
    strategy: "rolling",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    phase: "Succeeded",
    reason: null,
    message: null,
    trafficWeight: null,
    oldTaskDefinitionArn: null,
    newTaskDefinitionArn: null,
    counts: { desired: 1, running: 1, pending: 0, failed: 0 },
    overrides: [],
    machineState: { spec: { depdef: depdef({ notifications }) } },
    createdAt: 0,
    updatedAt: 0,
    finishedAt: 1,
    version: 1,
    owner: null,
  };
}

/** Notify one "succeeded" through a Notifier with injected resolver and connector; returns what happened. */
async function notifyOnce(targets: NotificationTarget[], options: Partial<NotifierOptions> & { table?: Parameters<typeof fakeResolver>[0]; status?: number } = {}) {
  const spy = spyConnector(options.status);
  const dns = fakeResolver(options.table ?? {});
  const warnings: string[] = [];
  const timeline: NewEvent[] = [];
  const notifier = new Notifier({
    clock: new VirtualClock({ autoAdvance: true }),
    resolve: dns.resolve,
    connect: spy.connect,
    onWarning: (m) => warnings.push(m),
    record: (_id, e) => Promise.resolve(timeline.push(e)),
    ...options,
  });
  notifier.onUpdate(deployment(targets), [{ type: "Succeeded", message: "done" }]);
  await notifier.drain();
  return { calls: spy.calls, asked: dns.asked, warnings, timeline, codes: timeline.map((e) => (e.data as { code: string }).code) };
}

describe("notifications", () => {
  it("an allowed target receives started and succeeded: server targets with the JSON summary, depdef targets with their template and allowed env headers", async () => {
    const r = await receiver();
    const e = await engine();
    const notifier = new Notifier({
      clock: e.clock,
      targets: [{ url: `${r.url}/all` }],
      env: { SLACK_TOKEN: "xoxb-secret" },
      policy: { allowedTargets: [`${r.url}/slack`], allowedEnv: ["SLACK_TOKEN"], allowPrivateAddresses: ["127.0.0.1"] },
    });
    const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, onUpdate: (d, ev) => notifier.onUpdate(d, ev) });
    const spec = rollingSpec("web", "nginx:1", {
      depdef: { notifications: [{ url: `${r.url}/slack`, events: ["succeeded", "failed"], headers: { Authorization: "Bearer ${SLACK_TOKEN}" }, template: '{"text": "{{ deployment.object }} {{ event }}: {{ deployment.phase }}"}' }] },
    });
    const d = await runner.run(await runner.create(spec, { strategy: "rolling" }));
    await notifier.drain();
    assert.equal(d.phase, "Succeeded");
    const all = r.got.filter((x) => x.path === "/all").map((x) => JSON.parse(x.body) as { event: string; deployment: { object: string; phase: string } });
    assert.deepEqual(all.map((x) => [x.event, x.deployment.object]), [["started", "apps/web/web"], ["succeeded", "apps/web/web"]]);
    assert.ok(!r.got.some((x) => x.body.includes("machineState")), "no internal state in payloads");
    const slack = r.got.filter((x) => x.path === "/slack");
    assert.deepEqual(slack.map((x) => JSON.parse(x.body) as unknown), [{ text: "apps/web/web succeeded: Succeeded" }], "only the events it asked for, rendered");
    assert.equal(slack[0]!.headers.authorization, "Bearer xoxb-secret");
    await e.close();
  });

  it("by default a depdef notifies no one: the refusal is on the deployment's timeline with its code, and the deployment succeeds", async () => {
    const r = await receiver();
    const e = await engine();
    const warnings: string[] = [];
    const notifier = new Notifier({ clock: e.clock, onWarning: (m) => warnings.push(m), record: (id, ev) => e.store.appendEvents(id, [ev]) });
    const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, onUpdate: (d, ev) => notifier.onUpdate(d, ev) });
    const d = await runner.run(await runner.create(rollingSpec("web", "nginx:1", { depdef: { notifications: [{ url: `${r.url}/hook?token=abc` }] } }), { strategy: "rolling" }));
    await notifier.drain();
    assert.equal(d.phase, "Succeeded");
    assert.equal(r.got.length, 0, "nothing reached the receiver");
    const refused = (await e.store.listEvents(d.id)).filter((x) => x.type === "NotificationRefused");
    assert.deepEqual(refused.map((x) => (x.data as { code: string; event: string }).event), ["started", "succeeded"]);
    assert.ok(refused.every((x) => (x.data as { code: string }).code === "FLT-NOTIFY-TARGET-NOT-ALLOWED"));
    assert.match(refused[0]!.message, /allowedTargets/);
    assert.ok(![...warnings, ...refused.map((x) => x.message)].some((m) => m.includes("token=abc")), "query strings (which may hold secrets) are not shown");
    await e.close();
  });

  const metadataAndPrivate: [string, string][] = [
    ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local"],
    ["http://[fd00:ec2::254]/latest/meta-data/", "link-local"],
    ["http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"],
    ["http://[::ffff:a9fe:a9fe]/", "link-local"],
    ["http://2852039166/latest/meta-data/", "link-local"],
    ["http://0251.0376.0251.0376/latest/meta-data/", "link-local"],
    ["http://0xA9FEA9FE/", "link-local"],
    ["http://169.254.169.254./", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://127.0.0.1:8080/api/v1/repositories", "loopback"],
    ["http://127.1/", "loopback"],
    ["http://2130706433/", "loopback"],
    ["http://[::1]:8080/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://0.0.0.0:8080/", "unspecified"],
    ["http://10.0.0.1/", "private"],
    ["http://172.16.5.4/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://[fc00::1]/", "private"],
    ["http://[fd12:3456::1]/", "private"],
    ["http://100.64.0.1/", "shared address space"],
    ["http://[64:ff9b::a9fe:a9fe]/", "IPv4 embedded"],
  ];
  for (const [url, range] of metadataAndPrivate) {
    it(`refuses ${url} (${range}) before any connection opens, even when allowedTargets lists it`, async () => {
      const r = await notifyOnce([{ url }], { policy: { allowedTargets: [url] } });
      assert.deepEqual(r.codes, ["FLT-NOTIFY-ADDRESS-FORBIDDEN"], r.warnings.join("\n"));
      assert.equal(r.calls.length, 0, "the connector was never called");
      assert.deepEqual(r.asked, [], "an address literal is not even resolved");
      assert.match(r.timeline[0]!.message, new RegExp(range));
    });
  }

  it("refuses a host name that resolves to loopback, metadata or a private address, and one that resolves to a public and a private address", async () => {
    const table = { localhost: ["127.0.0.1", "::1"], "metadata.example.com": ["169.254.169.254"], "inside.example.com": ["10.1.2.3"], "both.example.com": ["93.184.216.34", "192.168.0.10"], "mapped.example.com": ["::ffff:10.0.0.1"] };
    for (const host of Object.keys(table)) {
      const url = `https://${host}/hook`;
      const r = await notifyOnce([{ url }], { table, policy: { allowedTargets: [host] } });
      assert.deepEqual(r.codes, ["FLT-NOTIFY-ADDRESS-FORBIDDEN"], host);
      assert.equal(r.calls.length, 0, `${host}: the connector was never called`);
      assert.deepEqual(r.asked, [host], "resolved once");
    }
  });

  it("refuses the server's own address (its listen address and interfaces) unless explicitly allowed", async () => {
    const table = { "self.example.com": ["93.184.216.34"] };
    const refused = await notifyOnce([{ url: "https://self.example.com/hook" }], { table, ownAddresses: ["93.184.216.34"], policy: { allowedTargets: ["self.example.com"] } });
    assert.deepEqual(refused.codes, ["FLT-NOTIFY-ADDRESS-FORBIDDEN"]);
    assert.match(refused.timeline[0]!.message, /the server itself/);
    assert.equal(refused.calls.length, 0);
    const allowed = await notifyOnce([{ url: "https://self.example.com/hook" }], { table, ownAddresses: ["93.184.216.34"], policy: { allowedTargets: ["self.example.com"], allowPrivateAddresses: ["93.184.216.34/32"] } });
    assert.deepEqual(allowed.codes, []);
    assert.equal(allowed.calls.length, 1);
  });

  it("refuses depdef URLs the policy does not list, matching whole hosts and path segments", async () => {
    const policy: Partial<NotificationPolicy> = { allowedTargets: ["https://hooks.slack.com/services/", "ops.example.com"] };
    const table = { "hooks.slack.com": ["34.1.2.3"], "hooks.slack.com.evil.net": ["34.1.2.4"], "evil.net": ["34.1.2.5"], "ops.example.com": ["34.1.2.6"], "x.ops.example.com": ["34.1.2.7"], "opsxexample.com": ["34.1.2.8"] };
    const refusedUrls = [
      "https://hooks.slack.com.evil.net/services/T0",
      "https://evil.net/https://hooks.slack.com/services/T0",
      "https://hooks.slack.com/servicesX/T0",
      "https://hooks.slack.com/services/../admin",
      "http://hooks.slack.com/services/T0",
      "https://hooks.slack.com:8443/services/T0",
      "http://ops.example.com/hook",
      "https://x.ops.example.com/hook",
      "https://opsxexample.com/hook",
    ];
    for (const url of refusedUrls) {
      const r = await notifyOnce([{ url }], { table, policy });
      assert.deepEqual(r.codes, ["FLT-NOTIFY-TARGET-NOT-ALLOWED"], url);
      assert.equal(r.calls.length + r.asked.length, 0, `${url}: neither resolved nor connected`);
    }
    for (const url of ["https://hooks.slack.com/services/T0/B0/XX", "https://ops.example.com/hook"]) {
      const r = await notifyOnce([{ url }], { table, policy });
      assert.deepEqual(r.codes, [], url);
      assert.equal(r.calls.length, 1, url);
      assert.equal(r.calls[0]!.address.address, table[new URL(url).hostname as keyof typeof table][0]);
    }
  });

  it("re-checks the address on every attempt and connects only to the address it checked (no DNS rebinding)", async () => {
    let n = 0;
    const table = { "rebind.example.com": () => (n++ === 0 ? ["93.184.216.34"] : ["169.254.169.254"]) };
    const calls: EgressRequest[] = [];
    const failing: Connector = (req) => {
      calls.push(req);
      return Promise.reject(new Error("connect ECONNRESET"));
    };
    const r = await notifyOnce([{ url: "https://rebind.example.com/hook" }], { table, connect: failing, policy: { allowedTargets: ["rebind.example.com"] } });
    assert.deepEqual(calls.map((c) => c.address.address), ["93.184.216.34"], "the one connection went to the vetted public address");
    assert.deepEqual(r.codes, ["FLT-NOTIFY-ADDRESS-FORBIDDEN"], "the retry saw metadata and stopped");
  });

  it("the real connector connects to the vetted address, whatever the system resolver would say, and sends the host name", async () => {
    const rec = await receiver();
    // `.test` never resolves in DNS: the request can only arrive through the vetted address.
    const r = await notifyOnce([{ url: `http://notify.test:${rec.port}/hook` }], {
      connect: pinnedConnector,
      table: { "notify.test": ["127.0.0.1"] },
      policy: { allowedTargets: [`http://notify.test:${rec.port}/`], allowPrivateAddresses: ["127.0.0.1"] },
    });
    assert.deepEqual(r.codes, [], r.warnings.join("\n"));
    assert.equal(rec.got.length, 1);
    assert.equal(rec.got[0]!.headers.host, `notify.test:${rec.port}`);
  });

  it("does not follow a redirect to metadata, does not retry it, and never reads or logs an answer's body", async () => {
    const rec = await receiver((_req, res) => {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/iam/security-credentials/" });
      res.end("REDIRECT-BODY-SECRET");
    });
    const calls: EgressRequest[] = [];
    const spy: Connector = (req) => (calls.push(req), pinnedConnector(req));
    const r = await notifyOnce([{ url: `${rec.url}/hook` }], { connect: spy, policy: { allowedTargets: [`${rec.url}/`], allowPrivateAddresses: ["127.0.0.1"] } });
    assert.deepEqual(r.codes, ["FLT-NOTIFY-REDIRECT"]);
    assert.equal(calls.length, 1, "one request, to the target only");
    assert.equal(rec.got.length, 1);
    assert.ok(!JSON.stringify(r).includes("REDIRECT-BODY-SECRET") && !JSON.stringify(r).includes("169.254.169.254"));
  });

  it("an error answer's body stays out of warnings and the timeline", async () => {
    const rec = await receiver((_req, res) => {
      res.statusCode = 403;
      res.end("upstream said: password=hunter2 RESPONSE-BODY");
    });
    const r = await notifyOnce([{ url: `${rec.url}/hook` }], { connect: pinnedConnector, policy: { allowedTargets: [`${rec.url}/`], allowPrivateAddresses: ["127.0.0.1"] } });
    assert.deepEqual(r.codes, ["FLT-NOTIFY-FAILED"]);
    assert.equal(rec.got.length, 1, "a 403 is not retried");
    assert.match(r.timeline[0]!.message, /HTTP 403/);
    assert.ok(!JSON.stringify(r).includes("RESPONSE-BODY"));
  });

  it("an unlisted ${VAR} is refused and never leaks; an allowed but unset one is refused too; server targets follow the same rule", async () => {
    const env = { AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-secret", FLOTILLA_ADMIN_TOKEN: "admin-token-value", OPS_TOKEN: "ops-token-value" };
    const table = { "hooks.example.com": ["93.184.216.34"] };
    const policy = { allowedTargets: ["hooks.example.com"], allowedEnv: ["OPS_TOKEN", "UNSET_TOKEN"] };
    const unlisted = await notifyOnce([{ url: "https://hooks.example.com/a", headers: { "X-Leak": "${AWS_SECRET_ACCESS_KEY}", Authorization: "Bearer ${OPS_TOKEN}" } }], { env, table, policy });
    assert.deepEqual(unlisted.codes, ["FLT-NOTIFY-ENV-NOT-ALLOWED"]);
    assert.equal(unlisted.calls.length, 0, "nothing sent, not even the allowed header");
    const server = await notifyOnce([], { env, table, policy, targets: [{ url: "https://hooks.example.com/b", headers: { "X-Leak": "${FLOTILLA_ADMIN_TOKEN}" } }] });
    assert.deepEqual(server.codes, ["FLT-NOTIFY-ENV-NOT-ALLOWED"]);
    assert.equal(server.calls.length, 0);
    const unset = await notifyOnce([{ url: "https://hooks.example.com/c", headers: { Authorization: "Bearer ${UNSET_TOKEN}" } }], { env, table, policy });
    assert.deepEqual(unset.codes, ["FLT-NOTIFY-ENV-UNSET"]);
    assert.equal(unset.calls.length, 0);
    const allowed = await notifyOnce([{ url: "https://hooks.example.com/d", headers: { Authorization: "Bearer ${OPS_TOKEN}", "X-Plain": "$OPS_TOKEN is not a reference" } }], { env, table, policy });
    assert.deepEqual(allowed.codes, []);
    assert.equal(allowed.calls[0]!.headers["authorization"], "Bearer ops-token-value", "an allowed variable is substituted");
    assert.equal(allowed.calls[0]!.headers["x-plain"], "$OPS_TOKEN is not a reference", "only ${NAME} is a reference");
    assert.ok(!allowed.calls[0]!.body.includes("ops-token-value"));
    for (const r of [unlisted, server, unset, allowed]) {
      const seen = JSON.stringify(r);
      assert.ok(!seen.includes(env.AWS_SECRET_ACCESS_KEY) && !seen.includes(env.FLOTILLA_ADMIN_TOKEN), "no other variable anywhere");
    }
    assert.ok(!JSON.stringify([unlisted, server, unset]).includes(env.OPS_TOKEN), "a refused notification sends nothing, the allowed variable included");
  });

  it("server targets are trusted: no allowedTargets entry needed and private addresses allowed, still through the checked sender", async () => {
    const rec = await receiver();
    const r = await notifyOnce([], { connect: pinnedConnector, targets: [{ url: `${rec.url}/ops` }] });
    assert.deepEqual(r.codes, []);
    assert.equal(rec.got.length, 1);
  });

  it("refuses a depdef header Flotilla sets itself, a URL with user info, and a body over the size cap — before connecting", async () => {
    const table = { "hooks.example.com": ["93.184.216.34"] };
    const policy = { allowedTargets: ["hooks.example.com"] };
    const host = await notifyOnce([{ url: "https://hooks.example.com/a", headers: { Host: "169.254.169.254" } }], { table, policy });
    assert.deepEqual(host.codes, ["FLT-NOTIFY-HEADER-INVALID"]);
    const userinfo = await notifyOnce([{ url: "https://hooks.example.com@169.254.169.254/a" }], { table, policy: { allowedTargets: ["169.254.169.254"] } });
    assert.deepEqual(userinfo.codes, ["FLT-NOTIFY-URL-INVALID"]);
    const big = await notifyOnce([{ url: "https://hooks.example.com/a", template: "{% for i in range(70000) %}x{% endfor %}" }], { table, policy });
    assert.deepEqual(big.codes, ["FLT-NOTIFY-TOO-LARGE"]);
    assert.equal(host.calls.length + userinfo.calls.length + big.calls.length, 0);
  });

  it("retries a failing target with backoff, and a dead target never blocks the deployment", async () => {
    const flaky = await receiver((_req, res, n) => {
      res.statusCode = n <= 2 ? 500 : 200;
      res.end();
    });
    const e = await engine();
    const warnings: string[] = [];
    const notifier = new Notifier({ clock: e.clock, targets: [{ url: `${flaky.url}/flaky`, events: ["succeeded"] }, { url: "http://127.0.0.1:1/dead?token=abc", events: ["succeeded"] }], onWarning: (m) => warnings.push(m) });
    const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, onUpdate: (d, ev) => notifier.onUpdate(d, ev) });
    const d = await runner.run(await runner.create(rollingSpec("web", "nginx:1"), { strategy: "rolling" }));
    assert.equal(d.phase, "Succeeded", "the deployment finished without waiting for notifications");
    await notifier.drain();
    assert.equal(flaky.got.length, 3, "two 500s, then delivered");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /http:\/\/127\.0\.0\.1:1\/dead failed/);
    assert.match(warnings[0]!, /FLT-NOTIFY-FAILED/);
    assert.doesNotMatch(warnings[0]!, /token=abc/, "query strings (which may hold secrets) are not logged");
    await e.close();
  });

  it("gives up on a target that does not answer within the timeout", async () => {
    const silent = await receiver(() => undefined);
    const r = await notifyOnce([], { connect: pinnedConnector, attempts: 1, timeoutMs: 200, targets: [{ url: `${silent.url}/slow` }] });
    assert.deepEqual(r.codes, ["FLT-NOTIFY-FAILED"]);
  });

  it("a template that fails to render sends nothing and says why", async () => {
    const r = await notifyOnce([], { targets: [{ url: "https://hooks.example.com/x", template: "{{ nope }}" }] });
    assert.equal(r.calls.length, 0);
    assert.match(r.warnings[0] ?? "", /'nope'/);
    assert.deepEqual(r.codes, ["FLT-TEMPLATE-UNDEFINED"]);
  });

  it("a malformed policy entry is a coded error at start", () => {
    for (const policy of [{ allowedTargets: ["ftp://x/"] }, { allowedTargets: ["https://x/?a=1"] }, { allowedTargets: ["host/path"] }, { allowPrivateAddresses: ["10.0.0.0/40"] }, { allowPrivateAddresses: ["not a host"] }]) {
      assert.throws(() => new Notifier({ clock: new VirtualClock(), policy }), (e: Error & { code?: string }) => e.code === "FLT-NOTIFY-POLICY-INVALID", JSON.stringify(policy));
    }
  });
});
