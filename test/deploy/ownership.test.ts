/**
 * Deployment ownership between two runners on one store and one simulated AWS, in one process on
 * the virtual clock (the real-process versions are in test/e2e/replicas*.test.ts). A "process" is a
 * runner whose store and AWS calls go through a switch: killed, its calls never answer (a dead
 * process sends nothing more); stalled, they wait until it is let go (a process paused by the OS).
 *
 * Given a blue/green canary driven by runner A:
 *  - runner B looking for orphans while A lives adopts nothing and changes nothing;
 *  - A killed: B adopts within the lease TTL plus one heartbeat and finishes it; the next
 *    deployment of the service is not stuck;
 *  - A stalled past its lease: B adopts, and A, let go, is refused by the store (FLT-STORE-FENCED)
 *    and sends no AWS mutation after B's adoption;
 *  - A stopped: it releases at once and B adopts at its next look.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Runner, type Settled } from "../../src/deploy/runner.ts";
import type { Store } from "../../src/store/store.ts";
import type { Deployment } from "../../src/store/types.ts";
import { bgSpec, bgWorld, type BgWorld } from "../helpers/engine.ts";
import { Switch } from "../helpers/switch.ts";

const TTL = 30_000;
const HEARTBEAT = 10_000;
function replica(w: BgWorld, name: string): { runner: Runner; sw: Switch } {
  const sw = new Switch(w.clock);
  const runner = new Runner({ store: sw.wrap<Store>(w.store), aws: sw.ports(w.sim.portsFactory()), clock: w.clock, owner: name, leaseTtlMs: TTL, heartbeatMs: HEARTBEAT, controlPollMs: 1000 });
  return { runner, sw };
}

/** A canary with long waits, so there is time to act mid-shift. */
const canary = (w: BgWorld, image: string) => bgSpec(w, image, { depdef: { trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 600 } } });

async function world(): Promise<BgWorld> {
  const w = await bgWorld();
  await w.deploy(bgSpec(w, "web:1"));
  return w;
}

/** Wait (in virtual time) until the deployment is shifting. */
async function untilShifting(w: BgWorld, id: string): Promise<Deployment> {
  for (let i = 0; i < 10_000; i++) {
    const d = (await w.store.getDeployment(id))!;
    if (d.phase === "Shifting" && d.trafficWeight === 20) return d;
    await w.clock.sleep(1000);
  }
  throw new Error("never reached the shift");
}

/** Runner a drives a canary to its 20 % wait; runner b is beside it. */
async function midShift(): Promise<{ w: BgWorld; a: ReturnType<typeof replica>; b: ReturnType<typeof replica>; created: Deployment; aRun: Promise<Settled> }> {
  const w = await world();
  const a = replica(w, "a#1");
  const b = replica(w, "b#1");
  const created = await a.runner.create(canary(w, "web:2"), { strategy: "bluegreen" });
  const aRun = a.runner.settle(created);
  await untilShifting(w, created.id);
  return { w, a, b, created, aRun };
}

async function oneTaskSetOnGreen(w: BgWorld): Promise<void> {
  await w.clock.sleep(600_000);
  assert.deepEqual((await w.taskSets()).map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-green"]]]);
  assert.deepEqual((await w.weights())["443"], { "web-blue": 0, "web-green": 100 });
}

describe("deployment ownership between runners", () => {
  it("a runner looking for orphans while the owner lives adopts nothing and changes nothing", async () => {
    const { w, b, created, aRun: running } = await midShift();
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await b.runner.adoptOrphans(), [], "nothing to adopt while a's lease is renewed");
      await w.clock.sleep(TTL); // several lease lifetimes: a's heartbeat keeps it
    }
    assert.deepEqual(b.sw.mutations, [], "b sent nothing to AWS");
    const done = await running;
    assert.equal(done.deployment.phase, "Succeeded", `${done.deployment.reason} ${done.deployment.message}`);
    assert.deepEqual((await w.store.listEvents(created.id)).filter((e) => ["Adopted", "Released", "OwnershipLost"].includes(e.type)), [], "one owner from start to end");
    await oneTaskSetOnGreen(w);
    await w.close();
  });

  it("the owner killed mid-shift: another adopts within the TTL plus one heartbeat, finishes, and the service deploys again", async () => {
    const { w, a, b, created } = await midShift();
    a.sw.kill();
    const killedAt = w.clock.now();
    let adopted: Awaited<ReturnType<Runner["adoptOrphans"]>> = [];
    while (adopted.length === 0) {
      await w.clock.sleep(HEARTBEAT); // b's look for orphans, every heartbeat
      adopted = await b.runner.adoptOrphans();
    }
    assert.ok(w.clock.now() - killedAt <= TTL + HEARTBEAT, `adopted ${(w.clock.now() - killedAt) / 1000} s after the kill`);
    const settled = await adopted[0]!.settled;
    assert.equal(settled.deployment.phase, "Succeeded", `${settled.deployment.reason} ${settled.deployment.message}`);
    assert.deepEqual(settled.deployment.owner?.id, "b#1");
    assert.equal(settled.deployment.owner?.token, 2);
    const adoption = (await w.store.listEvents(created.id)).find((e) => e.type === "Adopted")!;
    assert.match(adoption.message, /^adopted by b#1 \(token 2\): the lease of a#1 ended at /);
    await oneTaskSetOnGreen(w);
    const next = await b.runner.run(await b.runner.create(bgSpec(w, "web:3"), { strategy: "bluegreen" }));
    assert.equal(next.phase, "Succeeded", "the next deployment of the service is not stuck behind the orphan");
    await w.close();
  });

  it("the owner stalled past its lease: another adopts; let go, the old owner is fenced off and sends nothing more to AWS", async () => {
    const { w, a, b, created, aRun } = await midShift();
    a.sw.stall();
    await w.clock.sleep(TTL + HEARTBEAT);
    const [adopted] = await b.runner.adoptOrphans();
    assert.ok(adopted, "b adopts once a's lease has run out");
    const adoptedAt = w.clock.now();
    a.sw.letGo();
    const aEnd = await aRun;
    assert.equal(aEnd.handedOver, "lost", "a stops: the store refused its write or its renewal");
    const bEnd = await adopted.settled;
    assert.equal(bEnd.deployment.phase, "Succeeded", `${bEnd.deployment.reason} ${bEnd.deployment.message}`);
    assert.deepEqual(a.sw.mutations.filter((m) => m.at >= adoptedAt), [], "a sent no AWS mutation after b adopted");
    const types = (await w.store.listEvents(created.id)).map((e) => e.type);
    assert.ok(types.includes("Adopted") && types.includes("OwnershipLost"), types.join(","));
    await oneTaskSetOnGreen(w);
    await w.close();
  });

  it("the owner stopping mid-shift releases at once; another adopts at its next look and finishes", async () => {
    const { w, a, b, created, aRun } = await midShift();
    const before = w.clock.now();
    await a.runner.stop();
    assert.equal(w.clock.now() - before < 1000, true, "the canary's wait was not waited for");
    assert.equal((await aRun).handedOver, "stopping");
    await assert.rejects(a.runner.create(bgSpec(w, "web:9", { service: "api" }), { strategy: "bluegreen" }), /stopping/);
    const [adopted, ...more] = await b.runner.adoptOrphans();
    assert.equal(more.length, 0);
    assert.ok(adopted, "adopted at once, not after the TTL");
    const end = await adopted.settled;
    assert.equal(end.deployment.phase, "Succeeded", `${end.deployment.reason} ${end.deployment.message}`);
    const types = (await w.store.listEvents(created.id)).map((e) => e.type);
    assert.ok(types.indexOf("Released") < types.indexOf("Adopted"), types.join(","));
    await oneTaskSetOnGreen(w);
    await w.close();
  });
});
