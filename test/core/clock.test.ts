import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ScaledClock, SystemClock, VirtualClock } from "../../src/core/clock.ts";
import { Batcher } from "../../src/aws/batcher.ts";

describe("VirtualClock", () => {
  it("starts at the given time and does not move by itself", async () => {
    const c = new VirtualClock({ start: 1_000 });
    assert.equal(c.now(), 1_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.now(), 1_000);
  });

  it("advance wakes sleepers in time order, each seeing its own time", async () => {
    const c = new VirtualClock({ start: 0 });
    const seen: string[] = [];
    void c.sleep(300).then(() => seen.push(`b@${c.now()}`));
    void c.sleep(100).then(() => seen.push(`a@${c.now()}`));
    void c.sleep(100).then(() => seen.push(`a2@${c.now()}`));
    void c.sleep(900).then(() => seen.push(`late@${c.now()}`));
    await c.advance(500);
    assert.deepEqual(seen, ["a@100", "a2@100", "b@300"]);
    assert.equal(c.now(), 500);
    assert.equal(c.pending, 1);
  });

  it("runs chained sleeps that fall inside the advanced window", async () => {
    const c = new VirtualClock({ start: 0 });
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 5; i++) {
        await c.sleep(10);
        ticks.push(c.now());
      }
    })();
    await c.advance(35);
    assert.deepEqual(ticks, [10, 20, 30]);
  });

  it("auto-advance runs a 30-minute polling loop without waiting", async () => {
    const c = new VirtualClock({ start: 0, autoAdvance: true });
    let polls = 0;
    for (let t = 0; t < 30 * 60_000; t += 30_000) {
      await c.sleep(30_000);
      polls++;
    }
    assert.equal(polls, 60);
    assert.equal(c.now(), 30 * 60_000);
  });

  it("auto-advance keeps concurrent sleepers in order", async () => {
    const c = new VirtualClock({ start: 0, autoAdvance: true });
    const order: number[] = [];
    await Promise.all([5_000, 1_000, 3_000].map(async (ms) => {
      await c.sleep(ms);
      order.push(c.now());
    }));
    assert.deepEqual(order, [1_000, 3_000, 5_000]);
  });

  it("an aborted sleep rejects and no longer holds a timer", async () => {
    const c = new VirtualClock({ start: 0 });
    const ac = new AbortController();
    const p = c.sleep(1_000, ac.signal);
    assert.equal(c.pending, 1);
    ac.abort(new Error("stop"));
    await assert.rejects(p, /stop/);
    assert.equal(c.pending, 0);
    await assert.rejects(c.sleep(5, ac.signal), /stop/);
  });

  it("wakes every sleeper due at one instant in the same turn, in the order they slept", async () => {
    const c = new VirtualClock({ start: 0, autoAdvance: true });
    const woken: number[] = [];
    let seenByNextTurn = -1;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        if (i % 2 === 0) await c.sleep(1_000);
        else await c.sleep(0).then(() => c.sleep(1_000)); // asked for later, due at the same instant
        if (woken.length === 0) setImmediate(() => (seenByNextTurn = woken.length));
        woken.push(i);
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(seenByNextTurn, 50, "a setImmediate queued by the first one to wake sees all fifty awake");
    assert.deepEqual(woken.slice(0, 25), Array.from({ length: 25 }, (_, i) => 2 * i), "those that slept first wake first");
    assert.equal(c.now(), 1_000);
  });

  it("a sleep asked for by a woken sleeper waits for the next instant's turn, even of 0 ms", async () => {
    const c = new VirtualClock({ start: 0 });
    const seen: string[] = [];
    void c.sleep(10).then(async () => {
      seen.push("a");
      await c.sleep(0);
      seen.push("a-again");
    });
    void c.sleep(10).then(() => seen.push("b"));
    await c.advance(10);
    assert.deepEqual(seen, ["a", "b", "a-again"]);
  });

  it("callers polling on the same interval coalesce in the batcher as they would in real time", async () => {
    const c = new VirtualClock({ start: 0, autoAdvance: true });
    const fetches: number[] = [];
    const batcher = new Batcher<string>({ maxBatch: 10, fetch: (_k, ids) => Promise.resolve((fetches.push(ids.length), ids)), matches: (r, id) => r === id });
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await c.sleep(100 + (i % 7)); // started at different instants...
        await c.sleep(15_000 - (i % 7)); // ...polling at the same one
        assert.deepEqual(await batcher.load("cluster", [`svc-${i}`]), [`svc-${i}`]);
      }),
    );
    assert.deepEqual(fetches, Array.from({ length: 10 }, () => 10), "100 callers make 10 calls of 10");
  });

  it("advanceTo never moves time backwards", async () => {
    const c = new VirtualClock({ start: 10_000 });
    await c.advanceTo(5_000);
    assert.equal(c.now(), 10_000);
  });
});

describe("ScaledClock and SystemClock", () => {
  it("ScaledClock starts at its epoch and rejects a non-positive factor", () => {
    const c = new ScaledClock(60, 42_000);
    assert.ok(c.now() >= 42_000 && c.now() < 42_000 + 60_000);
    assert.throws(() => new ScaledClock(0), RangeError);
  });
  it("SystemClock reads the wall clock and a zero sleep resolves", async () => {
    const c = new SystemClock();
    assert.ok(Math.abs(c.now() - Date.now()) < 1_000);
    await c.sleep(0);
  });
});
