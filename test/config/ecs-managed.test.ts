/**
 * ECS-managed blue/green, linear and canary services in the repository: which engine strategy a
 * svcdef gets (the one rule in config/strategy.ts), and validation of what ECS requires of such a
 * svcdef, each with its code, file and JSON path; the depdef settings that would silently do
 * nothing are warned about.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { strategyOf } from "../../src/config/strategy.ts";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";
import { TG_BLUE, TG_GREEN, taskdef } from "../helpers/objects.ts";

after(cleanupTrees);

const RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/public/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
const TEST_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/public/50dc6c495c0c9188/f2f7dc8efc522ab2/1ab2c3d4e5f60718";
const ROLE = "arn:aws:iam::123456789012:role/ecs-infrastructure-elb";
const LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test";

function managed(over: { dc?: Record<string, unknown>; ac?: Record<string, unknown> | null; svc?: Record<string, unknown> } = {}): Record<string, unknown> {
  const ac = over.ac === null ? {} : { advancedConfiguration: { alternateTargetGroupArn: TG_GREEN, productionListenerRule: RULE, testListenerRule: TEST_RULE, roleArn: ROLE, ...over.ac } };
  return {
    cluster: "apps",
    serviceName: "web",
    desiredCount: 2,
    launchType: "EC2",
    deploymentController: { type: "ECS" },
    deploymentConfiguration: { strategy: "LINEAR", bakeTimeInMinutes: 5, linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 2 }, deploymentCircuitBreaker: { enable: true, rollback: true }, ...over.dc },
    loadBalancers: [{ targetGroupArn: TG_BLUE, containerName: "app", containerPort: 80, ...ac }],
    ...over.svc,
  };
}

async function load(svcdef: Record<string, unknown>, depdef?: Record<string, unknown>) {
  const repo = await loadTree({ "svc/web_svcdef.json": svcdef, "svc/web_taskdef.json": taskdef("web"), ...(depdef ? { "svc/web_depdef.json": depdef } : {}) });
  return repo.objects[0]!;
}

describe("ECS-managed strategy detection", () => {
  it("Given controller ECS (or none) and strategy BLUE_GREEN, LINEAR or CANARY, Then the engine strategy is ecs-managed; ROLLING or none is rolling; EXTERNAL is bluegreen", () => {
    for (const s of ["BLUE_GREEN", "LINEAR", "CANARY"]) {
      assert.equal(strategyOf({ deploymentConfiguration: { strategy: s } }), "ecs-managed", s);
      assert.equal(strategyOf({ deploymentController: { type: "ECS" }, deploymentConfiguration: { strategy: s } }), "ecs-managed", s);
    }
    assert.equal(strategyOf({ deploymentConfiguration: { strategy: "ROLLING" } }), "rolling");
    assert.equal(strategyOf({}), "rolling");
    assert.equal(strategyOf({ deploymentController: { type: "EXTERNAL" } }), "bluegreen");
    assert.equal(strategyOf({ deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: { strategy: "LINEAR" } }), "bluegreen", "EXTERNAL wins: Flotilla's task sets");
  });

  it("Given a valid LINEAR object, When loaded, Then it is valid, ecs-managed, with no warnings", async () => {
    const o = await load(managed());
    assert.equal(o.strategy, "ecs-managed");
    assert.deepEqual(o.problems.filter((p) => p.code !== "FLT-WARN-IMAGE-NO-DIGEST").map((p) => `${p.code} ${p.path} ${p.message}`), []);
  });
});

describe("ECS-managed validation", () => {
  const cases: { name: string; svcdef: Record<string, unknown>; code: string; path: string }[] = [
    { name: "unknown strategy", svcdef: managed({ dc: { strategy: "RAINBOW" } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.strategy" },
    { name: "strategy on an EXTERNAL service", svcdef: managed({ svc: { deploymentController: { type: "EXTERNAL" } } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.strategy" },
    { name: "BLUE_GREEN without bakeTimeInMinutes", svcdef: managed({ dc: { strategy: "BLUE_GREEN", bakeTimeInMinutes: undefined, linearConfiguration: undefined } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration" },
    { name: "bake time above a day", svcdef: managed({ dc: { bakeTimeInMinutes: 2000 } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.bakeTimeInMinutes" },
    { name: "linearConfiguration with CANARY", svcdef: managed({ dc: { strategy: "CANARY" } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.linearConfiguration" },
    { name: "stepPercent below 3", svcdef: managed({ dc: { linearConfiguration: { stepPercent: 2 } } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.linearConfiguration.stepPercent" },
    { name: "stepPercent not in tenths", svcdef: managed({ dc: { linearConfiguration: { stepPercent: 12.55 } } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.linearConfiguration.stepPercent" },
    { name: "canaryPercent above 100", svcdef: managed({ dc: { strategy: "CANARY", linearConfiguration: undefined, canaryConfiguration: { canaryPercent: 120 } } }), code: "FLT-SVC-STRATEGY", path: "$.deploymentConfiguration.canaryConfiguration.canaryPercent" },
    { name: "no advancedConfiguration", svcdef: managed({ ac: null }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0]" },
    { name: "no alternate target group", svcdef: managed({ ac: { alternateTargetGroupArn: undefined } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration" },
    { name: "alternate is the entry's own target group", svcdef: managed({ ac: { alternateTargetGroupArn: TG_BLUE } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn" },
    { name: "alternate is not a target group ARN", svcdef: managed({ ac: { alternateTargetGroupArn: "web-green" } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn" },
    { name: "no production rule", svcdef: managed({ ac: { productionListenerRule: undefined } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration" },
    { name: "production rule is a target group", svcdef: managed({ ac: { productionListenerRule: TG_GREEN } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration.productionListenerRule" },
    { name: "test rule is the production rule", svcdef: managed({ ac: { testListenerRule: RULE } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration.testListenerRule" },
    { name: "no role", svcdef: managed({ ac: { roleArn: undefined } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration" },
    { name: "role is not an IAM role", svcdef: managed({ ac: { roleArn: "arn:aws:iam::123456789012:user/deployer" } }), code: "FLT-SVC-ADVANCED-CONFIG", path: "$.loadBalancers[0].advancedConfiguration.roleArn" },
    { name: "alternate target group in another region", svcdef: managed({ ac: { alternateTargetGroupArn: TG_GREEN.replace("us-east-1", "eu-west-1") } }), code: "FLT-SVC-REGION-MISMATCH", path: "$.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn" },
    { name: "Lambda hook without its function", svcdef: managed({ dc: { lifecycleHooks: [{ roleArn: ROLE, lifecycleStages: ["POST_SCALE_UP"] }] } }), code: "FLT-SVC-LIFECYCLE-HOOK", path: "$.deploymentConfiguration.lifecycleHooks[0]" },
    { name: "Lambda hook without a role", svcdef: managed({ dc: { lifecycleHooks: [{ hookTargetArn: LAMBDA, lifecycleStages: ["POST_SCALE_UP"] }] } }), code: "FLT-SVC-LIFECYCLE-HOOK", path: "$.deploymentConfiguration.lifecycleHooks[0]" },
    { name: "hook at a stage hooks cannot use", svcdef: managed({ dc: { lifecycleHooks: [{ hookTargetArn: LAMBDA, roleArn: ROLE, lifecycleStages: ["BAKE_TIME"] }] } }), code: "FLT-SVC-LIFECYCLE-HOOK", path: "$.deploymentConfiguration.lifecycleHooks[0].lifecycleStages[0]" },
    { name: "PAUSE hook at PRODUCTION_TRAFFIC_SHIFT", svcdef: managed({ dc: { lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT"] }] } }), code: "FLT-SVC-LIFECYCLE-HOOK", path: "$.deploymentConfiguration.lifecycleHooks[0].lifecycleStages[1]" },
    { name: "hook timeout of 0 minutes", svcdef: managed({ dc: { lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_SCALE_UP"], timeoutConfiguration: { timeoutInMinutes: 0 } }] } }), code: "FLT-SVC-LIFECYCLE-HOOK", path: "$.deploymentConfiguration.lifecycleHooks[0].timeoutConfiguration.timeoutInMinutes" },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code} at ${c.path}, and the object is invalid`, async () => {
      const o = await load(c.svcdef);
      const found = o.problems.find((p) => p.code === c.code && p.path === c.path);
      assert.ok(found, `expected ${c.code} at ${c.path}; got:\n${o.problems.map((p) => `  ${p.code} ${p.path} ${p.message}`).join("\n")}`);
      assert.equal(found.severity, "error");
      assert.equal(found.file, "svc/web_svcdef.json");
      assert.ok(found.line !== undefined, "the line of the JSON path");
      assert.equal(o.valid, false);
    });
  }

  it("Given a depdef with trafficShiftingConfig (and other task-set settings) for an ECS-managed service, Then each is a warning that it would silently do nothing", async () => {
    const o = await load(managed(), { trafficShiftingConfig: { type: "CANARY", percent: 10, waitInterval: 60 }, targetGroupArnPairs: [[TG_BLUE, TG_GREEN]], bakeTime: 300 });
    const warned = o.problems.filter((p) => p.code === "FLT-DEPDEF-NOT-APPLICABLE");
    assert.deepEqual(warned.map((p) => p.path).sort(), ["$.bakeTime", "$.targetGroupArnPairs", "$.trafficShiftingConfig"]);
    assert.ok(warned.every((p) => p.severity === "warning" && p.file === "svc/web_depdef.json"));
    assert.match(warned.find((p) => p.path === "$.trafficShiftingConfig")!.message, /ECS runs its LINEAR deployments with the svcdef's deploymentConfiguration \(strategy, linearConfiguration, canaryConfiguration\)/);
    assert.equal(o.valid, true, "warnings only");
  });

  it("Given advancedConfiguration on a rolling service, Then a warning says it does nothing", async () => {
    const o = await load(managed({ dc: { strategy: "ROLLING", linearConfiguration: undefined, bakeTimeInMinutes: undefined } }));
    assert.equal(o.strategy, "rolling");
    const w = o.problems.find((p) => p.code === "FLT-SVC-ADVANCED-CONFIG");
    assert.equal(w?.severity, "warning");
    assert.equal(o.valid, true);
  });
});
