import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Notifier } from "../../src/controller/notifications.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { engine, rollingSpec } from "../helpers/engine.ts";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A local webhook receiver; `failFirst` answers 500 that many times first. */
async function receiver(failFirst = 0) {
  const got: Received[] = [];
  let failures = failFirst;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body });
      res.statusCode = failures-- > 0 ? 500 : 200;
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { got, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

describe("notifications", () => {
  it("posts started and succeeded for a deployment: server targets with the JSON summary, depdef targets with their template and env headers", async () => {
    const r = await receiver();
    closers.push(r.close);
    const e = await engine();
    const notifier = new Notifier({ clock: e.clock, targets: [{ url: `${r.url}/all` }], env: { SLACK_TOKEN: "xoxb-secret" } });
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

  it("retries a failing target with backoff, and a dead target never blocks the deployment", async () => {
    const flaky = await receiver(2);
    closers.push(flaky.close);
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
    assert.doesNotMatch(warnings[0]!, /token=abc/, "query strings (which may hold secrets) are not logged");
    await e.close();
  });

  it("a template that fails to render sends nothing and says why", async () => {
    const r = await receiver();
    closers.push(r.close);
    const e = await engine();
    const warnings: string[] = [];
    const notifier = new Notifier({ clock: e.clock, targets: [{ url: r.url, template: "{{ nope }}" }], onWarning: (m) => warnings.push(m) });
    const runner = new Runner({ store: e.store, aws: e.sim.portsFactory(), clock: e.clock, onUpdate: (d, ev) => notifier.onUpdate(d, ev) });
    await runner.run(await runner.create(rollingSpec("web", "nginx:1"), { strategy: "rolling" }));
    await notifier.drain();
    assert.equal(r.got.length, 0);
    assert.match(warnings[0] ?? "", /'nope'/);
    await e.close();
  });
});
