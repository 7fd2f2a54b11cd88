/**
 * Crash safety of rainbow deployments: the process dies before or after every effect of a deploy
 * (a good version, and one whose failure is undone), of a cutover (one that stands, and one an
 * alarm cuts back) and of a cleanup; a new runner resumes. Each time the operation ends where it
 * would have without the crash, and AWS holds exactly what it should: one rule per version, no
 * orphan target group or service, the live route on the right version.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Effect } from "../../src/deploy/machine.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import type { Strategy } from "../../src/store/types.ts";
import { HOST, rainbowWorld, type RainbowWorldUnderTest } from "../helpers/rainbow.ts";

class Crash extends Error {}

interface Case {
  /** Build the world the operation starts from. */
  given(w: RainbowWorldUnderTest): Promise<void>;
  spec(w: RainbowWorldUnderTest): DeploySpec;
  strategy: Strategy;
  options?: { rainbow: { version?: string; by: string } };
  world?: Parameters<typeof rainbowWorld>[0];
}

async function effectsOf(c: Case): Promise<Effect["type"][]> {
  const w = await rainbowWorld(c.world);
  await c.given(w);
  const seen: Effect["type"][] = [];
  await w.run(c.spec(w), c.strategy, c.options ?? {}, w.newRunner({ hooks: { beforeEffect: (e) => void seen.push(e.type) } }));
  await w.close();
  return seen;
}

async function crashThenResume(c: Case, at: number, when: "before" | "after") {
  const w = await rainbowWorld(c.world);
  await c.given(w);
  let n = 0;
  const crash = () => {
    if (++n === at) throw new Crash();
  };
  const dying = w.newRunner({ hooks: when === "before" ? { beforeEffect: crash } : { afterEffect: crash } });
  await assert.rejects(w.run(c.spec(w), c.strategy, c.options ?? {}, dying), Crash);
  const [settled, ...more] = await w.newRunner().resumeAll();
  assert.equal(more.length, 0);
  assert.equal(settled!.error, undefined, "the resumed deployment runs to its end without an exception");
  await w.clock.sleep(900_000); // let deleted services drain
  return { w, d: settled!.deployment };
}

/** What AWS holds: versions with their parts, the rules on the listener, the target groups, ACTIVE services. */
async function inventory(w: RainbowWorldUnderTest) {
  const world = await w.world();
  const services = [...w.sim.clusters.get("apps")!.services.values()].filter((s) => s.status !== "INACTIVE").map((s) => s.name).sort();
  const groups = [...w.sim.elb.targetGroups.values()].map((t) => t.name).filter((n) => n !== "other").sort();
  return { versions: world.versions.map((v) => [v.version, v.rules.length, v.service?.status ?? "none"]), rules: w.sim.elb.rules.size, groups, services };
}

const deployGood: Case = { given: async () => {}, spec: (w) => w.spec("v1", "web:1"), strategy: "rainbow" };
const deployBad: Case = {
  world: { faults: { images: [{ image: "web:bad", failsHealthChecks: true }] } },
  given: async () => {},
  spec: (w) => w.spec("v1", "web:bad", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 2 } } }),
  strategy: "rainbow",
};

describe("rainbow deploys survive a crash at any effect", async () => {
  const good = await effectsOf(deployGood);
  const bad = await effectsOf(deployBad);

  it(`a deploy has the effects we crash at (${good.length} good, ${bad.length} undone)`, () => {
    for (const t of ["discoverRainbow", "registerTaskDefinition", "createTargetGroup", "createRule", "createService", "observeVersion"] as const) assert.ok(good.includes(t), t);
    for (const t of ["deleteRule", "deleteService", "deleteTargetGroup"] as const) assert.ok(bad.includes(t), t);
  });

  for (const when of ["before", "after"] as const) {
    it(`good version, crash ${when} each effect: Succeeded, one rule, one target group, one service, and its URL reaches it`, async () => {
      for (let at = 1; at <= good.length; at++) {
        const { w, d } = await crashThenResume(deployGood, at, when);
        const label = `crash ${when} effect ${at} (${good[at - 1]})`;
        assert.equal(d.phase, "Succeeded", `${label}: ${d.reason} ${d.message}`);
        assert.deepEqual(await inventory(w), { versions: [["v1", 1, "ACTIVE"]], rules: 1, groups: ["web-v1"], services: ["web-v1"] }, label);
        assert.deepEqual(w.reach(HOST("v1")), ["web-v1"], label);
        await w.close();
      }
    });
    it(`failing version, crash ${when} each effect: Failed, and nothing of it is left`, async () => {
      for (let at = 1; at <= bad.length; at++) {
        const { w, d } = await crashThenResume(deployBad, at, when);
        const label = `crash ${when} effect ${at} (${bad[at - 1]})`;
        assert.equal(d.phase, "Failed", `${label}: ${d.reason} ${d.message}`);
        assert.equal(d.reason, "CircuitBreakerTripped", label);
        assert.deepEqual(await inventory(w), { versions: [], rules: 0, groups: [], services: [] }, label);
        await w.close();
      }
    });
  }
});

const ALARMS = { alarms: { alarmNames: ["web-5xx"] }, bakeTime: 60 };
const cutoverGood: Case = {
  world: { alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] },
  given: async (w) => {
    await w.deploy("v1", "web:v1", { svcdef: { desiredCount: 4 } });
    await w.cutover("v1");
    await w.deploy("v2", "web:v2", { svcdef: { desiredCount: 2 } });
  },
  // Scaled to 4, switched, watched, then the cleanup (keep 0) removes v1.
  spec: (w) => w.spec(undefined, "web:1", { depdef: ALARMS, rainbow: { cleanup: { keep: 0 } } }),
  strategy: "cutover",
  options: { rainbow: { version: "v2", by: "alice" } },
};
const cutoverAlarm: Case = {
  ...cutoverGood,
  spec: (w) => w.spec(undefined, "web:1", { depdef: { ...ALARMS, bakeTime: 900 }, rainbow: { cleanup: { keep: 0 } } }),
  given: async (w) => {
    await w.deploy("v1");
    await w.cutover("v1");
    await w.deploy("v2");
    // Well after the switch, while the alarms are watched.
    w.sim.alarms.schedule("web-5xx", w.sim.elapsed() + 300_000, "ALARM", "5xx rate above 1%");
  },
};
const cleanup: Case = {
  given: async (w) => {
    for (const v of ["v1", "v2", "v3", "v4"]) await w.deploy(v);
    await w.cutover("v4", "alice", { rainbow: { cleanup: { automatic: false } } });
  },
  spec: (w) => w.spec(undefined, "web:1", { rainbow: { cleanup: { keep: 1 } } }),
  strategy: "cleanup",
  options: { rainbow: { by: "alice" } },
};

describe("rainbow cutovers and cleanups survive a crash at any effect", async () => {
  const good = await effectsOf(cutoverGood);
  const alarm = await effectsOf(cutoverAlarm);
  const clean = await effectsOf(cleanup);

  it(`they have the effects we crash at (cutover ${good.length}, cut back ${alarm.length}, cleanup ${clean.length})`, () => {
    for (const t of ["updateService", "setRoutes", "describeAlarms", "deleteRule", "deleteService", "deleteTargetGroup"] as const) assert.ok(good.includes(t), t);
    assert.equal(alarm.filter((t) => t === "setRoutes").length, 2, "switch and cut back");
    for (const t of ["deleteRule", "deleteService", "describeServices", "deleteTargetGroup"] as const) assert.ok(clean.includes(t), t);
  });

  for (const when of ["before", "after"] as const) {
    it(`cutover, crash ${when} each effect: Succeeded, v2 live at the live count, v1 cleaned up`, async () => {
      for (let at = 1; at <= good.length; at++) {
        const { w, d } = await crashThenResume(cutoverGood, at, when);
        const label = `crash ${when} effect ${at} (${good[at - 1]})`;
        assert.equal(d.phase, "Succeeded", `${label}: ${d.reason} ${d.message}`);
        assert.deepEqual(w.reach("app.example.com"), ["web-v2"], label);
        assert.deepEqual(await inventory(w), { versions: [["v2", 1, "ACTIVE"]], rules: 1, groups: ["web-v2"], services: ["web-v2"] }, label);
        assert.equal((await w.sim.ports().ecs.describeServices("apps", ["web-v2"])).services[0]!.desiredCount, 4, label);
        await w.close();
      }
    });
    it(`cutover cut back by an alarm, crash ${when} each effect: RolledBack, v1 live again, both versions kept`, async () => {
      for (let at = 1; at <= alarm.length; at++) {
        const { w, d } = await crashThenResume(cutoverAlarm, at, when);
        const label = `crash ${when} effect ${at} (${alarm[at - 1]})`;
        assert.deepEqual([d.phase, d.reason], ["RolledBack", "AlarmFired"], `${label}: ${d.message}`);
        assert.deepEqual(w.reach("app.example.com"), ["web-v1"], label);
        assert.deepEqual((await inventory(w)).versions, [["v1", 1, "ACTIVE"], ["v2", 1, "ACTIVE"]], label);
        await w.close();
      }
    });
    it(`cleanup, crash ${when} each effect: Succeeded, v1 and v2 gone entirely, v3 and the live v4 untouched`, async () => {
      for (let at = 1; at <= clean.length; at++) {
        const { w, d } = await crashThenResume(cleanup, at, when);
        const label = `crash ${when} effect ${at} (${clean[at - 1]})`;
        assert.equal(d.phase, "Succeeded", `${label}: ${d.reason} ${d.message}`);
        assert.deepEqual(await inventory(w), { versions: [["v3", 1, "ACTIVE"], ["v4", 1, "ACTIVE"]], rules: 2, groups: ["web-v3", "web-v4"], services: ["web-v3", "web-v4"] }, label);
        assert.deepEqual(w.reach("app.example.com"), ["web-v4"], label);
        await w.close();
      }
    });
  }
});
