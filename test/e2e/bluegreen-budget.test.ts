/**
 * Blue/green's observation budget, counted on the simulator's request log: a LINEAR deployment of
 * five steps at 10 s polls reads the routes around each shift only, its alarms as often as
 * CloudWatch can change them, and green through the shared sweep — at most 120 AWS calls where
 * every poll used to read everything (about 400) — with the dashboard's samples taken beside it,
 * as `serve` takes them (the test world's runner samples). What the budget must not cost: a high-resolution
 * alarm is still read every poll, a manual weight change is still caught before Flotilla writes
 * over it, and green's failed tasks still trip the breaker during a wait. Virtual time throughout.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Alarm } from "../../src/aws/ports.ts";
import { alarmWatchSeconds } from "../../src/deploy/bluegreen.ts";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";

let w: BgWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const LINEAR = { stabilityCheck: { pollInterval: 10, timeout: 600 }, trafficShiftingConfig: { type: "LINEAR", percent: 20, waitInterval: 120 }, bakeTime: 300 };

/** Calls on the simulator's request log since `before`, by operation. */
function since(world: BgWorld, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of world.sim.calls) if (n - (before.get(op) ?? 0) > 0) out[op] = n - (before.get(op) ?? 0);
  return out;
}
const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

describe("blue/green: the observation budget", () => {
  it("Given a LINEAR deployment of 5 steps at 10 s polls with a standard alarm, Then it makes at most 120 AWS calls: routes read around each shift, the alarm once a minute, no DescribeTaskSets per poll", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", period: 60 }] });
    await w.deploy(bgSpec(w, "web:1", { depdef: LINEAR }));
    const before = new Map(w.sim.calls);
    const start = w.clock.now();
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: LINEAR }));
    assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);
    const calls = since(w, before);
    const seconds = (w.clock.now() - start) / 1000;
    assert.ok(seconds >= 900, `five 120 s steps and a 300 s bake: ${seconds} s`);
    assert.ok(total(calls) <= 120, `${total(calls)} calls: ${JSON.stringify(calls)}`);
    // Listener 443 has a rule on the pair: each read of the routes is DescribeListeners + DescribeRules.
    const routeReads = calls["DescribeListeners"] ?? 0;
    assert.ok(routeReads <= 1 + 5 + 6, `the routes: discovered once, read back after each of 5 shifts, and read at the end of each of 5 steps and the bake (${routeReads})`);
    assert.ok((calls["DescribeAlarms"] ?? 0) <= 1 + Math.ceil(900 / 60) + 6, `the alarm: checked at the start, then about once a minute (${calls["DescribeAlarms"]})`);
    assert.ok((calls["DescribeTaskSets"] ?? 0) <= 2, "task sets come with DescribeServices");
  });

  it("Given a high-resolution alarm (a 10 s period), Then it is read every poll, and a firing alarm sends traffic back within a poll or two", async () => {
    w = await bgWorld({ alarms: [{ name: "web-5xx", period: 10, when: { imageServing: "*web:bad", minTrafficPercent: 1, for: "33s" } }] });
    await w.deploy(bgSpec(w, "web:1", { depdef: LINEAR }));
    const d = await w.deploy(bgSpec(w, "web:bad", { depdef: LINEAR }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "AlarmFired");
    const events = await w.events(d);
    const shiftedAt = events.find((e) => e.type === "Shifted")!.at;
    const restoredAt = events.find((e) => e.type === "TrafficRestored")!.at;
    const reaction = (restoredAt - (shiftedAt + 33_000)) / 1000;
    assert.ok(reaction >= 0 && reaction <= 10 + 2, `traffic back on blue ${reaction} s after the alarm fired (10 s polls)`);
  });

  it("Given weights changed by hand in the middle of a step, Then Flotilla notices before its next shift and pauses instead of writing over them", async () => {
    let tampered = false;
    w = await bgWorld({
      alarms: [{ name: "web-5xx", period: 60 }],
      onEvent: (d, events, self) => {
        if (events.some((e) => e.type === "ManualChange")) void self.store.requestControl(d.id, "abort", "dave");
        if (tampered || !events.some((e) => e.type === "Shifted")) return;
        tampered = true;
        // 50 s into the first 120 s step, between two watch rounds, someone moves traffic by hand.
        void (async () => {
          await self.clock.sleep(50_000);
          const ports = self.sim.ports();
          const [tg] = await ports.elbv2.describeTargetGroups({ targetGroupArns: [self.tg("web-blue")] });
          const listener = (await ports.elbv2.describeListeners({ loadBalancerArn: tg!.loadBalancerArns[0]! })).find((l) => l.port === 443)!;
          await ports.elbv2.modifyListener({ listenerArn: listener.listenerArn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: self.tg("web-blue"), weight: 50 }, { targetGroupArn: self.tg("web-green"), weight: 50 }] } }] });
        })();
      },
    });
    await w.deploy(bgSpec(w, "web:1", { depdef: LINEAR }));
    w.shifts.length = 0;
    const d = await w.deploy(bgSpec(w, "web:2", { depdef: LINEAR }));
    const types = (await w.events(d)).map((e) => e.type);
    assert.ok(types.includes("ManualChange"), types.join(","));
    assert.deepEqual(w.shifts.map(([, p]) => p), [20], "no shift after the change wrote over it");
    assert.equal(d.phase, "Aborted");
  });

  it("watches alarms as often as CloudWatch can change them, never more often than the poll interval", () => {
    const metric = (period?: number): Alarm => ({ alarmName: "a", alarmArn: "arn", type: "metric", stateValue: "OK", stateReason: "", stateUpdatedAt: 0, actionsEnabled: true, ...(period !== undefined ? { period } : {}) });
    const composite: Alarm = { ...metric(), type: "composite", alarmRule: 'ALARM("a")' };
    assert.equal(alarmWatchSeconds([], 10), 10, "no alarms: every poll");
    assert.equal(alarmWatchSeconds([metric(60)], 10), 60, "a standard alarm is evaluated once a minute");
    assert.equal(alarmWatchSeconds([metric(300)], 10), 60);
    assert.equal(alarmWatchSeconds([metric(60), metric(10)], 5), 10, "a high-resolution alarm, every 10 s");
    assert.equal(alarmWatchSeconds([metric(60), composite], 5), 10, "a composite alarm changes when one of its alarms does");
    assert.equal(alarmWatchSeconds([metric()], 5), 10, "a period not reported: as often as any alarm can change");
    assert.equal(alarmWatchSeconds([metric(60)], 90), 90, "never more often than the poll interval");
  });
});
