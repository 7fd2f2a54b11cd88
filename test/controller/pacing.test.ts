/**
 * A pass (apply, a commit) runs as a stream paced by ECS's request rates (src/controller/pacing.ts):
 * on a simulator that throttles like ECS, a 60-service update at the default concurrency never
 * hears a ThrottlingException, keeps RegisterTaskDefinition at its bucket's rate, and registers
 * its first task definition before the last object is even described; a number still caps the
 * deployments in flight. All in virtual time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AwsPorts } from "../../src/aws/ports.ts";
import { resilientPorts } from "../../src/aws/resilient.ts";
import { apply } from "../../src/controller/apply.ts";
import { DEFAULT_CONCURRENCY, parseConcurrency, StartPacer, type Concurrency } from "../../src/controller/pacing.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Deployment } from "../../src/store/types.ts";
import { fleetObject, fleetScenario } from "../helpers/fleet.ts";

/** Every call in order with its virtual time, and the ThrottlingExceptions answered beneath the retries. */
function recording(ports: AwsPorts, clock: VirtualClock, log: { op: string; at: number }[], throttled: { n: number }): AwsPorts {
  const ecs = new Proxy(ports.ecs, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver) as unknown;
      if (typeof v !== "function") return v;
      return async (...args: unknown[]) => {
        log.push({ op: String(key), at: clock.now() });
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        } catch (e) {
          if (e instanceof Error && e.name === "ThrottlingException") throttled.n++;
          throw e;
        }
      };
    },
  });
  return { ...ports, ecs };
}

async function pass(services: number, concurrency: Concurrency, onUpdate?: (d: Deployment) => void) {
  const clock = new VirtualClock({ autoAdvance: true });
  const sim = loadScenario(fleetScenario(services, { throttling: true, desiredCount: 1 }), clock);
  const log: { op: string; at: number }[] = [];
  const throttled = { n: 0 };
  const ports = resilientPorts(recording(sim.ports(), clock, log, throttled), { clock });
  const store = await openSqliteStore({ path: ":memory:", clock });
  try {
    const runner = new Runner({ store, aws: () => ports, clock, ...(onUpdate ? { onUpdate } : {}) });
    const start = clock.now();
    const r = await apply(
      Array.from({ length: services }, (_, i) => fleetObject(i, "app:2", { desiredCount: 1 })),
      { store, aws: () => ports, runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency },
    );
    return { r, log, throttled: throttled.n, start, end: clock.now() };
  } finally {
    await store.close();
  }
}

describe("a pass paced by ECS's request rates", () => {
  it("Given 60 services to update at the default concurrency on a simulator that throttles like ECS, Then none fails, no ThrottlingException is answered, and RegisterTaskDefinition runs at its bucket's rate: 20 at once, then one a second", async () => {
    assert.equal(DEFAULT_CONCURRENCY, "auto");
    const { r, log, throttled, start } = await pass(60, DEFAULT_CONCURRENCY);
    assert.equal(r.errors.length, 0);
    assert.deepEqual([...new Set(r.deployments.map((d) => d.phase))], ["Succeeded"]);
    assert.equal(r.deployments.length, 60);
    assert.equal(throttled, 0, "the pacer and the client-side limiter keep every call under its bucket");
    const registers = log.filter((c) => c.op === "registerTaskDefinition").map((c) => (c.at - start) / 1000);
    assert.equal(registers.length, 60);
    // The bucket's shape, with the round that reads each service first in between: nothing waits longer.
    assert.ok(registers[19]! <= 2, `the first 20 at once (the 20th at ${registers[19]} s)`);
    assert.ok(registers[59]! <= 40 + 2, `then one a second: the 60th at ${registers[59]} s`);
    for (let i = 21; i < 60; i++) assert.ok(registers[i]! - registers[i - 1]! <= 1.5, `no gap in the stream at ${i}: ${registers[i - 1]} → ${registers[i]}`);
  });

  it("decides and deploys as a stream: the first task definition is registered before the last object is described", async () => {
    // 150 decisions read 150 task definitions: 50 at once, then 20 a second (5 s).
    const { log } = await pass(150, "auto");
    const firstRegister = log.findIndex((c) => c.op === "registerTaskDefinition");
    const lastDescribe = log.findLastIndex((c) => c.op === "describeTaskDefinition");
    assert.ok(firstRegister >= 0 && lastDescribe >= 0);
    assert.ok(firstRegister < lastDescribe, `RegisterTaskDefinition #1 at call ${firstRegister}, the last DescribeTaskDefinition of the decisions at call ${lastDescribe}`);
  });

  it("a number still caps the deployments in flight: --concurrency 3 never has a fourth running", async () => {
    const active = new Map<string, boolean>();
    let most = 0;
    const { r } = await pass(8, 3, (d) => {
      active.set(d.id, !["Succeeded", "Failed", "RolledBack", "Aborted"].includes(d.phase));
      most = Math.max(most, [...active.values()].filter(Boolean).length);
    });
    assert.equal(r.deployments.length, 8);
    assert.equal(most, 3);
  });

  it("the pacer starts deployments of one Region in the order they asked, at the bucket's rate, and Regions apart", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const pacer = new StartPacer(clock);
    const t0 = clock.now();
    const at: string[] = [];
    await Promise.all([
      ...Array.from({ length: 23 }, (_, i) => pacer.admit("us-east-1", "register").then(() => at.push(`e${i}@${(clock.now() - t0) / 1000}`))),
      pacer.admit("eu-west-1", "register").then(() => at.push(`w@${(clock.now() - t0) / 1000}`)),
    ]);
    assert.deepEqual(at.slice(-3), ["e20@1", "e21@2", "e22@3"]);
    assert.ok(at.includes("w@0"), "another Region has buckets of its own");
  });

  it("--concurrency takes a whole number or auto", () => {
    assert.equal(parseConcurrency("auto"), "auto");
    assert.equal(parseConcurrency(undefined), "auto");
    assert.equal(parseConcurrency("12"), 12);
  });
});
