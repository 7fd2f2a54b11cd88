/**
 * Rainbow deployments end to end on the simulator, in virtual time: versions side by side, each
 * reached by its own URL, live traffic untouched until a cutover. Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { HOST, rainbowWorld, type RainbowWorldUnderTest } from "../helpers/rainbow.ts";
import { planObjects } from "../../src/controller/plan.ts";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";

let w: RainbowWorldUnderTest | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe("rainbow: deploying versions", () => {
  it("Given no version, When three versions are deployed, Then each URL reaches its own version and the live route still answers 404", async () => {
    w = await rainbowWorld();
    for (const v of ["v1", "v2", "v3"]) {
      const d = await w.deploy(v);
      assert.equal(d.phase, "Succeeded", `${v}: ${d.reason} ${d.message}`);
      assert.equal(d.strategy, "rainbow");
      assert.equal(d.message, `version ${v} is up at https://${v}.app.example.com/; live traffic is unchanged`);
    }
    for (const v of ["v1", "v2", "v3"]) assert.deepEqual(w.reach(HOST(v)), [`web-${v}`], `${HOST(v)} reaches web-${v}`);
    assert.deepEqual(w.answer("app.example.com"), { status: 404, services: [] }, "nothing is live before a cutover");
    const world = await w.world();
    assert.deepEqual(world.versions.map((v) => [v.version, v.targetGroupName, v.service?.status, v.rules.map((r) => r.priority)]), [
      ["v1", "web-v1", "ACTIVE", [1]],
      ["v2", "web-v2", "ACTIVE", [2]],
      ["v3", "web-v3", "ACTIVE", [3]],
    ]);
  });

  it("Given a deployed version, Then its URL and resources are recorded on the timeline, and its service, group and rule carry the object and version tags", async () => {
    w = await rainbowWorld();
    const d = await w.deploy("v1");
    const types = (await w.events(d)).map((e) => e.type);
    for (const t of ["Started", "TaskDefinitionRegistered", "TargetGroupCreated", "RuleCreated", "ServiceCreated", "VersionReady", "Succeeded"]) assert.ok(types.includes(t), `${t} in ${types.join(", ")}`);
    const ready = (await w.events(d)).find((e) => e.type === "VersionReady")!;
    assert.deepEqual((ready.data as { url: string }).url, "https://v1.app.example.com/");
    const svc = [...w.sim.clusters.get("apps")!.services.values()].find((s) => s.name === "web-v1")!;
    assert.deepEqual((svc.request["tags"] as { key: string; value: string }[]).filter((t) => t.key.startsWith("flotilla:")), [
      { key: "flotilla:object", value: "apps/web/web" },
      { key: "flotilla:version", value: "v1" },
    ]);
    const rule = [...w.sim.elb.rules.values()][0]!;
    assert.deepEqual(rule.tags?.map((t) => t["Key"]), ["flotilla:object", "flotilla:version"]);
  });

  it("Given a version that exists, When it is deployed again, Then it fails VersionExists and nothing changes", async () => {
    w = await rainbowWorld();
    await w.deploy("v1");
    const rulesBefore = w.sim.elb.rules.size;
    const d = await w.deploy("v1", "web:other");
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "VersionExists");
    assert.match(d.message ?? "", /version v1 already exists \(service web-v1 is ACTIVE, target group web-v1 exists, a listener rule routes to it\)/);
    assert.equal(w.sim.elb.rules.size, rulesBefore);
  });

  it("Given no version name and no commit, Then the deployment fails VersionUnnamed before anything is made; with a commit, the version is its first 8 characters", async () => {
    w = await rainbowWorld();
    const unnamed = await w.run(w.spec(undefined), "rainbow");
    assert.deepEqual([unnamed.phase, unnamed.reason], ["Failed", "VersionUnnamed"]);
    const byCommit = await w.run(w.spec(undefined, "web:1", { commitSha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567" }), "rainbow");
    assert.equal(byCommit.phase, "Succeeded", `${byCommit.reason} ${byCommit.message}`);
    assert.deepEqual(w.reach(HOST("0a1b2c3d")), ["web-0a1b2c3d"]);
  });

  it("Given rules written by hand at the low priorities, When versions are deployed, Then each rule takes the lowest free priority and none collides", async () => {
    w = await rainbowWorld({ rules: [1, 2, 4].map((priority) => ({ priority, conditions: [{ field: "path-pattern", values: [`/p${priority}/*`] }], actions: [{ targetGroup: "other" }] })) });
    await w.deploy("v1");
    await w.deploy("v2");
    const world = await w.world();
    assert.deepEqual(world.versions.map((v) => [v.version, v.rules[0]?.priority]), [["v1", 3], ["v2", 5]]);
  });

  it("Given a range with no free priority, Then the deploy fails NoFreeRulePriority and removes its target group", async () => {
    w = await rainbowWorld({ rules: [10, 11].map((priority) => ({ priority, conditions: [{ field: "path-pattern", values: [`/p${priority}/*`] }], actions: [{ targetGroup: "other" }] })) });
    const d = await w.deploy("v1", "web:1", { rainbow: { rulePriorities: { from: 10, to: 11 } } });
    assert.deepEqual([d.phase, d.reason], ["Failed", "NoFreeRulePriority"]);
    assert.match(d.message ?? "", /no free rule priority between 10 and 11.*service, rule and target group were removed/);
    assert.equal([...w.sim.elb.targetGroups.values()].some((t) => t.name === "web-v1"), false);
  });

  it("Given a priority taken between the read and CreateRule, Then the deploy reads the listener again and takes the next free one", async () => {
    w = await rainbowWorld();
    const { withElbv2 } = await import("../helpers/engine.ts");
    let raced = false;
    const racing = w.newRunner({
      aws: withElbv2(w.sim.portsFactory(), (real) => ({
        createRule: async (input) => {
          if (!raced) {
            raced = true;
            // Someone else's rule lands on the chosen priority first.
            await real.createRule({ ...input, conditions: [{ Field: "host-header", HostHeaderConfig: { Values: ["someone-else.example.com"] } }], actions: [{ type: "forward", targetGroupArn: w!.sim.elb.targetGroupArn("other") }] });
          }
          return real.createRule(input);
        },
      })),
    });
    const d = await w.run(w.spec("v1", "web:1"), "rainbow", {}, racing);
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.ok((await w.events(d)).some((e) => e.type === "PriorityTaken"));
    const world = await w.world();
    assert.deepEqual(world.versions.map((v) => [v.version, v.rules[0]?.priority]), [["v1", 2]]);
    assert.deepEqual(w.reach(HOST("v1")), ["web-v1"]);
  });

  it("Given an image that fails health checks, Then the circuit breaker fails the deploy and its rule, service and target group are removed; other versions are untouched", async () => {
    w = await rainbowWorld({ faults: { images: [{ image: "web:bad", failsHealthChecks: true }] } });
    await w.deploy("v1");
    const d = await w.deploy("v2", "web:bad", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 2 } } });
    assert.deepEqual([d.phase, d.reason], ["Failed", "CircuitBreakerTripped"]);
    assert.match(d.message ?? "", /version v2's service, rule and target group were removed/);
    const world = await w.world();
    assert.deepEqual(world.versions.map((v) => v.version), ["v1"]);
    assert.deepEqual(w.reach(HOST("v1")), ["web-v1"]);
    assert.deepEqual(w.answer(HOST("v2")).status, 404);
  });

  it("Given a rainbow object, When planned, Then a new version is a create (blocked while its listener is missing) and a deployed one is none", async () => {
    w = await rainbowWorld();
    const files = async (listenerArn: string) => {
      const spec = w!.spec("v1");
      const depdef = { ...spec.depdef, rainbow: { ...spec.depdef.rainbow!, listeners: [{ listenerArn }] } };
      return (await loadTree({ "apps/web/web_svcdef.json": spec.svcdef, "apps/web/web_taskdef.json": spec.taskdef!, "apps/web/web_depdef.json": depdef })).objects;
    };
    const [fresh] = await planObjects(await files(w.listenerArn), w.sim.portsFactory());
    assert.equal(fresh!.action, "create", JSON.stringify(fresh));
    assert.match(fresh!.reasons[0]!, /deploy version v1 as service web-v1, with its own target group and listener rule/);
    const missing = w.listenerArn.replace(/\/[0-9a-f]+$/, "/0000000000000000");
    const [blocked] = await planObjects(await files(missing), w.sim.portsFactory());
    assert.deepEqual([blocked!.action, blocked!.problems.map((p) => [p.code, p.path])], ["blocked", [["FLT-PLAN-LISTENER-MISSING", "$.rainbow.listeners[0].listenerArn"]]]);
    await w.deploy("v1");
    const [done] = await planObjects(await files(w.listenerArn), w.sim.portsFactory());
    assert.equal(done!.action, "none");
    cleanupTrees();
  });
});
