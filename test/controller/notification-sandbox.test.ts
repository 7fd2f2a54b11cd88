/**
 * Notification bodies render in the template sandbox too: a depdef's hostile template sends
 * nothing, runs nothing and says why with the sandbox's code.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { VirtualClock } from "../../src/core/clock.ts";
import type { Connector, EgressRequest } from "../../src/controller/egress.ts";
import { Notifier, type NotificationTarget } from "../../src/controller/notifications.ts";
import type { Deployment, NewEvent } from "../../src/store/types.ts";
import { depdef } from "../helpers/engine.ts";

const dir = mkdtempSync(path.join(tmpdir(), "flotilla-notify-sandbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const marker = path.join(dir, "MARKER");

function finished(notifications: NotificationTarget[]): Deployment {
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

async function notify(template: string) {
  const sent: EgressRequest[] = [];
  const connect: Connector = (r) => (sent.push(r), Promise.resolve({ status: 200 }));
  const timeline: NewEvent[] = [];
  const notifier = new Notifier({
    clock: new VirtualClock({ autoAdvance: true }),
    policy: { allowedTargets: ["hooks.example.com"] },
    resolve: () => Promise.resolve([{ address: "93.184.216.34", family: 4 as const }]),
    connect,
    onWarning: () => undefined,
    record: (_id, e) => Promise.resolve(void timeline.push(e)),
  });
  notifier.onUpdate(finished([{ url: "https://hooks.example.com/x", template }]), [{ type: "Succeeded", message: "done" }]);
  await notifier.drain();
  return { sent, codes: timeline.map((e) => (e.data as { code?: string } | null)?.code) };
}

describe("notification templates: the sandbox", () => {
  it("a template reaching the constructor sends nothing and runs nothing (FLT-TEMPLATE-FORBIDDEN)", async () => {
    const js = `process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(marker)}, "x"); return "x"`;
    const r = await notify(`{"text": "{{ deployment.object }} {{ deployment['constr' ~ 'uctor']['constructor']('${js}')() }}"}`);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(r.sent, []);
    assert.deepEqual(r.codes, ["FLT-TEMPLATE-FORBIDDEN"]);
  });

  it("a template that would loop a billion times stops at its budget (FLT-TEMPLATE-LIMIT)", async () => {
    const r = await notify('{"text": "{% for i in range(10**9) %}{% endfor %}"}');
    assert.deepEqual(r.sent, []);
    assert.deepEqual(r.codes, ["FLT-TEMPLATE-LIMIT"]);
  });

  it("an ordinary template still renders with event and deployment", async () => {
    const r = await notify('{"text": "{{ deployment.object }} {{ event }}: {{ deployment.phase }} ({{ deployment.counts.running }}/{{ deployment.counts.desired }})"}');
    assert.equal(r.sent.length, 1);
    assert.match(String(r.sent[0]!.body), /apps\/web\/web succeeded: Succeeded \(1\/1\)/);
  });
});
