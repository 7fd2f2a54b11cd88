/**
 * Live progress on stderr. A deployment an endpoint never progresses (moto keeps a new service's
 * tasks PENDING forever) records no new event until its stability timeout: the printer must still
 * say, about once a minute, that Flotilla is waiting and for how long, not go silent.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { progressPrinter, QUIET_MS } from "../../src/cli/progress.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type { Deployment, NewEvent } from "../../src/store/types.ts";
import { stabilizingRecord } from "../helpers/deployment-record.ts";

const T0 = Date.UTC(2026, 10, 30, 3, 32, 13);

const record = (over: Partial<Deployment> = {}) => stabilizingRecord(T0 + 300_000, over);

function world() {
  const clock = new VirtualClock({ start: T0 });
  const lines: string[] = [];
  const io: CliIO = { out: () => undefined, err: (t) => void lines.push(t), color: false, interactive: false, env: {}, cwd: "/" };
  return { clock, lines, printer: progressPrinter(io, clock) };
}

const progress: NewEvent = { type: "Progress", message: "0/2 running, 2 pending, 0 failed (IN_PROGRESS)" };

describe("progress on stderr", () => {
  it("a deployment quiet for a minute gets a Waiting line with its counts and the time left, once a minute", async () => {
    const { clock, lines, printer } = world();
    printer(record(), [progress]);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /Progress +0\/2 running, 2 pending, 0 failed \(IN_PROGRESS\) — 5m00s left of the stability window/);
    await clock.advance(QUIET_MS - 1);
    printer(record(), []); // a poll with nothing new
    printer.waiting();
    assert.equal(lines.length, 1, "not before a quiet minute");
    await clock.advance(1);
    printer.waiting();
    assert.equal(lines.length, 2);
    assert.equal(lines[1], "03:33:13 shop/api/api             Waiting            still Stabilizing: 0/2 running, 2 pending — 4m00s left of the stability window\n");
    await clock.advance(30_000);
    printer.waiting();
    assert.equal(lines.length, 2, "a minute between Waiting lines");
    await clock.advance(30_000);
    printer.waiting();
    assert.match(lines[2]!, /Waiting +still Stabilizing: 0\/2 running, 2 pending — 3m00s left/);
  });

  it("a blue/green wait says when the next step comes; a finished deployment says nothing more", async () => {
    const { clock, lines, printer } = world();
    printer(record({ id: "bg", object: "shop/web/web", phase: "Shifting", strategy: "bluegreen", trafficWeight: 20, counts: { desired: 2, running: 2, pending: 0, failed: 0 }, machineState: { waitUntil: T0 + 600_000 } }), [{ type: "Shifted", message: "20% on green" }]);
    printer(record(), [progress]);
    await clock.advance(QUIET_MS);
    printer(record({ phase: "Failed", finishedAt: clock.now() }), [{ type: "Failed", message: "the deployment did not stabilise in time" }]);
    printer.waiting();
    const waiting = lines.filter((l) => / Waiting /.test(l));
    assert.deepEqual(waiting.map((l) => l.slice(9, 21)), ["shop/web/web"]);
    assert.match(waiting[0]!, /still Shifting: 2\/2 running, 20% on green — next step in 9m00s$/m);
  });
});
