/**
 * Rainbow cleanup end to end on the simulator: the policy (keep the newest N, excludes, older than)
 * chooses; the live version, a protected one and one another route forwards to always stay; a dry
 * run changes nothing; after a cutover the version it left is kept for a cut-back. Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { planCleanup } from "../../src/controller/rainbow.ts";
import { HOST, rainbowWorld, type RainbowWorldUnderTest } from "../helpers/rainbow.ts";

let w: RainbowWorldUnderTest | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const NO_AUTO = { rainbow: { cleanup: { automatic: false } } };

/** v1..vN deployed an hour apart, the last one live. */
async function versions(world: RainbowWorldUnderTest, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await world.deploy(`v${i}`);
    await world.clock.sleep(3_600_000);
  }
  await world.cutover(`v${n}`, "alice", NO_AUTO);
}

async function present(world: RainbowWorldUnderTest): Promise<string[]> {
  return (await world.world()).versions.map((v) => v.version);
}

/** The version is gone from AWS entirely: no rule, no target group, its service INACTIVE. */
async function gone(world: RainbowWorldUnderTest, version: string): Promise<void> {
  await world.clock.sleep(900_000);
  assert.equal([...world.sim.elb.targetGroups.values()].some((t) => t.name === `web-${version}`), false, `target group web-${version} is deleted`);
  assert.equal((await world.sim.ports().ecs.describeServices("apps", [`web-${version}`])).services[0]?.status, "INACTIVE");
  assert.ok(!world.reach(HOST(version)).includes(`web-${version}`), `${HOST(version)} no longer reaches web-${version}: its rule is gone (the live version answers)`);
}

const cleanup = (world: RainbowWorldUnderTest, policy: Record<string, unknown>) => world.cleanup({ rainbow: { cleanup: { automatic: false, ...policy } } });

describe("rainbow: cleanup", () => {
  it("Given v1..v4 with v4 live, When cleaned up keeping 2, Then v1 is removed entirely and v2, v3 and the live v4 stay", async () => {
    w = await rainbowWorld();
    await versions(w, 4);
    const d = await cleanup(w, { keep: 2 });
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(d.message, "removed version v1");
    await gone(w, "v1");
    assert.deepEqual(await present(w), ["v2", "v3", "v4"]);
    assert.deepEqual(w.reach("app.example.com"), ["web-v4"]);
    const planned = (await w.events(d)).find((e) => e.type === "CleanupPlanned")!;
    assert.match(planned.message, /removing v1; keeping v4 \(live\), v3 \(one of the 2 newest versions that are not live\), v2 \(one of the 2 newest versions that are not live\)/);
  });

  it("Given keep 0 and an excluded version, Then every version but the live and the excluded one is removed", async () => {
    w = await rainbowWorld();
    await versions(w, 4);
    const d = await cleanup(w, { keep: 0, exclude: ["v1"] });
    assert.equal(d.phase, "Succeeded");
    assert.equal(d.message, "removed versions v2, v3");
    await gone(w, "v2");
    await gone(w, "v3");
    assert.deepEqual(await present(w), ["v1", "v4"]);
  });

  it("Given versions an hour apart, When cleaned up with olderThan 90 minutes, Then only versions older than that go", async () => {
    w = await rainbowWorld();
    await versions(w, 3);
    // Now v1 is 3 h old, v2 2 h, v3 (live) 1 h.
    const d = await cleanup(w, { keep: 0, olderThan: 9000 });
    assert.equal(d.message, "removed version v1");
    assert.deepEqual(await present(w), ["v2", "v3"]);
    const kept = ((await w.events(d)).find((e) => e.type === "CleanupPlanned")!.data as { kept: { version: string; why: string }[] }).kept;
    assert.deepEqual(kept, [{ version: "v3", why: "live" }, { version: "v2", why: "younger than 9000s" }]);
  });

  it("Given a dry run, Then it says what would go and why the rest stays, and nothing changes", async () => {
    w = await rainbowWorld();
    await versions(w, 3);
    const plan = await planCleanup(w.store, w.sim.portsFactory(), "apps/web/web", w.clock.now());
    // The recorded settings are the last cutover's (automatic cleanup off, keep 1).
    assert.deepEqual(plan, { object: "apps/web/web", remove: ["v1"], kept: [{ version: "v3", why: "live" }, { version: "v2", why: "one of the 1 newest versions that are not live" }] });
    assert.deepEqual(await present(w), ["v1", "v2", "v3"]);
    assert.deepEqual(w.reach(HOST("v1")), ["web-v1"]);
  });

  it("Given a version whose service is tagged flotilla:protected, Then no cleanup removes it", async () => {
    w = await rainbowWorld();
    await versions(w, 3);
    const svc = [...w.sim.clusters.get("apps")!.services.values()].find((s) => s.name === "web-v1")!;
    svc.request["tags"] = [...((svc.request["tags"] as unknown[]) ?? []), { key: "flotilla:protected", value: "true" }];
    const d = await cleanup(w, { keep: 0 });
    assert.equal(d.message, "removed version v2");
    assert.deepEqual(await present(w), ["v1", "v3"]);
  });

  it("Given keep 0, Then the live version still stays, and so does a version a hand-written rule forwards to", async () => {
    w = await rainbowWorld();
    await versions(w, 3);
    const v2 = [...w.sim.elb.targetGroups.values()].find((t) => t.name === "web-v2")!.arn;
    await w.sim.ports().elbv2.createRule({ listenerArn: w.listenerArn, priority: 900, conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/beta/*"] } }], actions: [{ type: "forward", targetGroupArn: v2 }] });
    const d = await cleanup(w, { keep: 0 });
    assert.equal(d.message, "removed version v1");
    assert.deepEqual(await present(w), ["v2", "v3"]);
  });

  it("Given the automatic cleanup with keep 1, When a cutover from v1 to v3 ends, Then v2 goes and v1 — where a cut-back goes — stays, in the same deployment", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    await w.cutover("v1", "alice", NO_AUTO);
    await w.deploy("v2");
    await w.clock.sleep(60_000);
    await w.deploy("v3");
    const d = await w.cutover("v3", "alice", { rainbow: { cleanup: { automatic: true, keep: 1 } } });
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(d.message, "version v3 is live (was v1); cut over by alice; removed version v2");
    assert.deepEqual(await present(w), ["v1", "v3"]);
    const back = await w.cutover("v1", "alice", NO_AUTO);
    assert.equal(back.phase, "Succeeded");
    assert.deepEqual(w.reach("app.example.com"), ["web-v1"]);
  });

  it("Given nothing to remove, Then the cleanup succeeds saying so", async () => {
    w = await rainbowWorld();
    await versions(w, 1);
    const d = await cleanup(w, { keep: 0 });
    assert.deepEqual([d.phase, d.message], ["Succeeded", "no version to clean up"]);
  });
});
