/**
 * Deployments that wait quietly (src/controller/quiet.ts), on the virtual clock: a report once per
 * quiet minute each, from the records the runner persisted; a single summary a minute when more
 * than SUMMARY_ABOVE wait at once; nothing for a finished deployment or one this process no longer drives.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { QUIET_MS, QuietWatch, reportLine, SUMMARY_ABOVE, type QuietReport } from "../../src/controller/quiet.ts";
import type { Deployment } from "../../src/store/types.ts";
import { stabilizingRecord } from "../helpers/deployment-record.ts";

const T0 = Date.UTC(2026, 10, 30, 3, 0, 0);

const record = (id: string, over: Partial<Deployment> = {}) => stabilizingRecord(T0 + 300_000, { id, object: `shop/${id}/${id}`, ...over });

const ids = (rs: QuietReport[]) => rs.map((r) => (r.kind === "deployment" ? r.waiting.deployment.id : "summary"));

describe("quiet deployments", () => {
  it("a deployment quiet for a minute is reported with what it waits for, its counts and the time left before its timeout; then once a minute, and never after it ends", async () => {
    const clock = new VirtualClock({ start: T0 });
    const watch = new QuietWatch({ clock });
    watch.seen(record("a"), [{ type: "Progress", message: "0/2 running" }]);
    await clock.advance(QUIET_MS - 1);
    watch.seen(record("a"), []); // a poll that recorded nothing new
    assert.deepEqual(watch.look(), [], "not before a quiet minute");
    await clock.advance(1);
    const [first] = watch.look();
    assert.equal(first?.kind, "deployment");
    const { fields, message } = reportLine(first);
    assert.deepEqual(fields, { deployment: "a", object: "shop/a/a", waiting: { phase: "Stabilizing", for: "the new tasks to run and stay healthy", counts: { desired: 2, running: 0, pending: 2, failed: 0 }, timeoutInSeconds: 240 } });
    assert.equal(message, "shop/a/a Waiting: still Stabilizing: 0/2 running, 2 pending — 4m00s left of the stability window; waiting for the new tasks to run and stay healthy");
    await clock.advance(QUIET_MS - 1);
    assert.deepEqual(watch.look(), [], "a minute between reports");
    await clock.advance(1);
    assert.deepEqual(ids(watch.look()), ["a"]);
    // An event restarts the quiet minute; the end forgets the deployment.
    await clock.advance(30_000);
    watch.seen(record("a"), [{ type: "Progress", message: "1/2 running" }]);
    await clock.advance(QUIET_MS - 1);
    assert.deepEqual(watch.look(), []);
    watch.seen(record("a", { phase: "Failed", finishedAt: clock.now() }), [{ type: "Failed", message: "timed out" }]);
    await clock.advance(QUIET_MS);
    assert.deepEqual(watch.look(), []);
  });

  it("says what a blue/green wait, an operator's pause and an ECS-managed PAUSE hook wait for", async () => {
    const clock = new VirtualClock({ start: T0 });
    const watch = new QuietWatch({ clock });
    watch.seen(record("bg", { phase: "Shifting", strategy: "bluegreen", trafficWeight: 20, counts: { desired: 2, running: 2, pending: 0, failed: 0 }, machineState: { waiting: "step", waitUntil: T0 + 600_000 } }), [{ type: "Shifted", message: "20%" }]);
    watch.seen(record("paused", { phase: "Shifting", strategy: "bluegreen", trafficWeight: 50, machineState: { paused: { by: "ops", reason: "look" } } }), [{ type: "Paused", message: "by ops" }]);
    watch.seen(record("hook", { phase: "Shifting", strategy: "ecs-managed", trafficWeight: 0, machineState: { awaiting: ["h-1"], stage: "POST_TEST_TRAFFIC_SHIFT" } }), [{ type: "HookAwaiting", message: "h-1" }]);
    await clock.advance(QUIET_MS);
    const lines = new Map(watch.look().map((r) => reportLine(r)).map((l) => [String(l.fields["deployment"]), l]));
    assert.deepEqual(lines.get("bg")!.fields["waiting"], { phase: "Shifting", for: "the next traffic step", counts: { desired: 2, running: 2, pending: 0, failed: 0 }, trafficWeight: 20, nextStepInSeconds: 540 });
    assert.match(lines.get("bg")!.message, /still Shifting: 2\/2 running, 20% on green — next step in 9m00s; waiting for the next traffic step$/);
    assert.match(lines.get("paused")!.message, /waiting for an operator to resume it \(paused by ops\)$/);
    assert.match(lines.get("hook")!.message, /0% of production on the new revision; waiting for ContinueServiceDeployment on PAUSE hook h-1 \(resume or promote\)$/);
  });

  it(`a fleet: with more than ${SUMMARY_ABOVE} quiet at once, one summary a minute with the counts by phase and the five nearest their timeout; a line each again once few wait`, async () => {
    const clock = new VirtualClock({ start: T0 });
    const watch = new QuietWatch({ clock });
    const fleet = Array.from({ length: 1000 }, (_, i) => record(`d${String(i).padStart(4, "0")}`, i % 4 === 0 ? { phase: "Shifting", strategy: "bluegreen", machineState: { waitUntil: T0 + 900_000 } } : { machineState: { deadline: T0 + 300_000 + i * 1000 } }));
    for (const d of fleet) watch.seen(d, [{ type: "Started", message: "" }]);
    await clock.advance(QUIET_MS);
    const reports = watch.look();
    assert.deepEqual(ids(reports), ["summary"], "one line for a thousand");
    const { fields, message } = reportLine(reports[0]!);
    const waiting = fields["waiting"] as { deployments: number; phases: Record<string, number>; soonest: { deployment: string; timeoutInSeconds: number }[] };
    assert.equal(waiting.deployments, 1000);
    assert.deepEqual(waiting.phases, { Shifting: 250, Stabilizing: 750 });
    assert.deepEqual(waiting.soonest.map((s) => [s.deployment, s.timeoutInSeconds]), [["d0001", 241], ["d0002", 242], ["d0003", 243], ["d0005", 245], ["d0006", 246]]);
    assert.match(message, /^1000 deployments waiting without news \(750 Stabilizing, 250 Shifting\); nearest their timeout: shop\/d0001\/d0001 in 4m01s, .* — with more than 20 waiting, one line for all instead of a line each$/);
    // Within the minute nothing more, whatever the looks; the next minute one summary again.
    for (let i = 0; i < 11; i++) {
      await clock.advance(5_000);
      assert.deepEqual(watch.look(), []);
    }
    await clock.advance(5_000);
    assert.deepEqual(ids(watch.look()), ["summary"]);
    // All but three end: those three get a line each, a minute after the summary that last named them.
    for (const d of fleet.slice(3)) watch.seen({ ...d, phase: "Succeeded", finishedAt: clock.now() }, [{ type: "Succeeded", message: "" }]);
    await clock.advance(QUIET_MS - 1);
    assert.deepEqual(watch.look(), []);
    await clock.advance(1);
    assert.deepEqual(ids(watch.look()).sort(), ["d0000", "d0001", "d0002"]);
  });

  it("a deployment this process no longer drives (handed over, adopted elsewhere) is not reported", async () => {
    const clock = new VirtualClock({ start: T0 });
    const driven = new Set(["a", "b"]);
    const watch = new QuietWatch({ clock, drives: (id) => driven.has(id) });
    watch.seen(record("a"), [{ type: "Started", message: "" }]);
    watch.seen(record("b"), [{ type: "Started", message: "" }]);
    driven.delete("b");
    await clock.advance(QUIET_MS);
    assert.deepEqual(ids(watch.look()), ["a"]);
  });

  it("start() looks on the clock's time and hands each report over; stop() ends the loop", async () => {
    const clock = new VirtualClock({ start: T0 });
    const watch = new QuietWatch({ clock });
    const got: string[] = [];
    watch.start(5_000, (r) => got.push(reportLine(r).message));
    watch.seen(record("a"), [{ type: "Started", message: "" }]);
    await clock.advance(55_000);
    assert.deepEqual(got, []);
    await clock.advance(5_000);
    assert.equal(got.length, 1);
    await watch.stop();
    await clock.advance(10 * QUIET_MS);
    assert.equal(got.length, 1);
    assert.equal(clock.pending, 0, "no sleeper left behind");
  });
});
