/**
 * The rainbow machine (src/deploy/rainbow/machine.ts) called directly, for the decisions the
 * simulator runs reach only by chance: which name a version gets, how often a taken rule priority
 * is chosen again, whose rules a recheck takes as this version's, and exactly when a version is
 * steady or tripped. Time is the `now` each transition is given.
 *
 * The scenario: object apps/web/web, one listener with a rule at priority 1 (someone else's), a
 * deploy of version v2 (2 tasks, host v2.app.example.com), breaker at 2 failed tasks, poll 10 s.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Service, TargetHealth } from "../../src/aws/ports.ts";
import type { Input } from "../../src/deploy/machine.ts";
import { rainbow, startRainbow, type RainbowState } from "../../src/deploy/rainbow/machine.ts";
import type { RainbowWorld } from "../../src/deploy/rainbow/world.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { I, T0, depdef, drive, ecsDeployment, effectOf, s, service, taskDefinition } from "./harness.ts";

const LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/public/abc/443";
const OUR_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-v2/2222";
const SHA = "0123456789abcdef0123456789abcdef01234567";

function spec(rainbowBlock: Record<string, unknown> = { version: "v2" }, over: { commitSha?: string; depdef?: Record<string, unknown> } = {}): DeploySpec {
  return {
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: { cluster: "apps", serviceName: "web", desiredCount: 2, launchType: "FARGATE", loadBalancers: [{ containerName: "app", containerPort: 8080 }] },
    taskdef: { family: "web", containerDefinitions: [{ name: "app", image: "web:2", essential: true }] },
    depdef: depdef({
      gmDeploymentCircuitBreaker: { failureThreshold: 2 },
      rainbow: { listeners: [{ listenerArn: LISTENER }], route: { hostHeader: "{version}.app.example.com" }, targetGroup: { vpcId: "vpc-0abc" }, ...rainbowBlock },
      ...over.depdef,
    }),
    ...(over.commitSha ? { commitSha: over.commitSha } : {}),
  };
}

/** The listener as discovery reads it, with its rules' priorities. */
function world(priorities: number[], versions: RainbowWorld["versions"] = []): Input {
  return { type: "rainbow", world: { listeners: [{ listenerArn: LISTENER, live: { kind: "listener", arn: LISTENER, actions: [{ type: "fixed-response" }] }, rules: priorities.map((p) => ({ ruleArn: `${LISTENER}/rule-${p}`, priority: p, conditions: [], forwardsTo: [] })) }], versions } };
}
const groupMade: Input = { type: "targetGroups", targetGroups: [{ targetGroupArn: OUR_TG, targetGroupName: "web-v2", loadBalancerArns: [] }] };
const ruleMade = (p: number): Input => ({ type: "rule", rule: { ruleArn: `${LISTENER}/ours-${p}`, priority: String(p), isDefault: false, conditions: [], actions: [] } });
const versionService = (over: Partial<Service> = {}) => service({ serviceName: "web-v2", desiredCount: 2, runningCount: 2, taskDefinition: taskDefinition().taskDefinitionArn, deployments: [ecsDeployment({ rolloutState: "COMPLETED" })], healthCheckGracePeriodSeconds: 0, createdAt: T0, ...over });
const healthy = (n: number, of = 2): TargetHealth[] => Array.from({ length: of }, (_, i) => ({ target: { id: `10.0.0.${i}` }, state: i < n ? "healthy" : "initial" }));
const observed = (o: { targets: TargetHealth[]; failed?: number; svc?: Service }): Input => ({ type: "versionObserved", service: o.svc ?? versionService(), targets: o.targets, ...(o.failed !== undefined ? { failures: { count: o.failed, lastReason: "unhealthy" } } : {}) });

/** Up to CreateRule on the listener (priority 2, the lowest free), at T0. */
function atCreateRule(sp = spec()): RainbowState {
  return drive(rainbow, startRainbow(sp, "flotilla-token", { op: "deploy", by: "commit" }), [
    [I.start, T0],
    [world([1]), T0],
    [I.taskDefinition(), T0],
    [groupMade, T0],
  ]).last.state;
}

/** The version's service created at T0: waiting for it to be steady, the first look in flight at T0 + 10 s. */
function atWaitVersion(): RainbowState {
  return drive(rainbow, atCreateRule(), [
    [ruleMade(2), T0],
    [I.service(versionService({ runningCount: 0 })), T0],
    [I.slept, T0 + s(10)],
  ]).last.state;
}

describe("rainbow machine: naming and rule priorities", () => {
  it("the block's version names the deploy, even with a commit; without one, the commit's first 8 characters", () => {
    assert.equal(startRainbow(spec({ version: "v2" }, { commitSha: SHA }), "t", { op: "deploy", by: "commit" }).version, "v2");
    assert.equal(startRainbow(spec({}, { commitSha: SHA }), "t", { op: "deploy", by: "commit" }).version, "01234567");
    assert.equal(startRainbow(spec({ version: "v2" }, { commitSha: SHA }), "t", { op: "deploy", version: "v9", by: "alice" }).version, "v9", "one asked for wins");
  });

  it("a priority taken meanwhile is chosen anew from the listener as read again, five times; the sixth taken priority fails the deploy", () => {
    let st = atCreateRule();
    assert.equal(st.inFlight?.type === "createRule" && st.inFlight.input.priority, 2, "CreateRule in flight, at the lowest free priority");
    for (let taken = 1; taken <= 5; taken++) {
      // CreateRule answers PriorityInUse: the listener is read again, with one more rule taken.
      const retry = drive(rainbow, st, [[I.error("PriorityInUse", "Priority is in use"), T0]]).last;
      assert.equal(retry.effect?.type, "discoverRainbow", `retry ${taken}`);
      const again = drive(rainbow, retry.state, [[world(Array.from({ length: taken + 1 }, (_, i) => i + 1)), T0]]).last;
      assert.equal(effectOf(again, "createRule").input.priority, taken + 2, "the lowest priority free now");
      st = again.state;
    }
    const last = drive(rainbow, st, [[I.error("PriorityInUse", "Priority is in use"), T0]]).last;
    assert.equal(last.record.reason, "CreateRuleRejected");
    assert.match(last.record.message ?? "", /after 5 new choices/);
  });

  it("after a retry, a rule of another target group under this version's name is not taken as ours: ours is created", () => {
    const st = drive(rainbow, atCreateRule(), [[I.error("PriorityInUse", "Priority is in use"), T0]]).last.state;
    const theirs = { version: "v2", serviceName: "web-v2", targetGroupName: "web-v2", targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-v2/9999", rules: [{ listenerArn: LISTENER, ruleArn: `${LISTENER}/rule-2`, priority: 2 }] };
    const step = drive(rainbow, st, [[world([1, 2], [theirs]), T0]]).last;
    assert.equal(effectOf(step, "createRule").input.priority, 3);
    assert.deepEqual(step.state.rules, []);
  });
});

describe("rainbow machine: waiting for the version", () => {
  it("steady needs every desired task behind a healthy target: 2 running with 1 healthy target is not steady", () => {
    const one = drive(rainbow, atWaitVersion(), [[observed({ targets: healthy(1) }), T0 + s(10)]]).last;
    assert.equal(one.state.steadySince, undefined);
    const both = drive(rainbow, atWaitVersion(), [[observed({ targets: healthy(2) }), T0 + s(10)]]).last;
    assert.equal(both.state.steadySince, T0 + s(10));
  });

  it("the circuit breaker trips at the threshold, not one failed task later", () => {
    const below = drive(rainbow, atWaitVersion(), [[observed({ targets: healthy(0), failed: 1, svc: versionService({ runningCount: 1 }) }), T0 + s(10)]]).last;
    assert.equal(below.record.reason, undefined);
    const at = drive(rainbow, atWaitVersion(), [[observed({ targets: healthy(0), failed: 2, svc: versionService({ runningCount: 0 }) }), T0 + s(10)]]).last;
    assert.equal(at.record.reason, "CircuitBreakerTripped");
    assert.equal(at.record.phase, "RollingBack", "what the deploy made is removed");
  });

  it("a failed deploy removes its rule, then its service, waits until the service is INACTIVE, and only then deletes its target group", () => {
    const failed = drive(rainbow, atWaitVersion(), [[observed({ targets: healthy(0), failed: 2, svc: versionService({ runningCount: 0 }) }), T0 + s(10)]]).last;
    assert.equal(effectOf(failed, "deleteRule").ruleArn, `${LISTENER}/ours-2`);
    const service = drive(rainbow, failed.state, [[I.done, T0 + s(11)]]).last;
    assert.deepEqual(effectOf(service, "deleteService"), { type: "deleteService", cluster: "apps", service: "web-v2", force: true });
    const wait = drive(rainbow, service.state, [[I.service(versionService({ status: "DRAINING" })), T0 + s(12)]]).last;
    assert.deepEqual(effectOf(wait, "describeServices").services, ["web-v2"], "the target group waits for the service to go");
    const draining = drive(rainbow, wait.state, [[{ type: "services", services: [versionService({ status: "DRAINING" })] }, T0 + s(13)]]).last;
    assert.equal(draining.effect?.type, "sleep");
    const gone = drive(rainbow, draining.state, [[I.slept, T0 + s(23)], [{ type: "services", services: [versionService({ status: "INACTIVE" })] }, T0 + s(23)]]).last;
    assert.equal(effectOf(gone, "deleteTargetGroup").targetGroupArn, OUR_TG);
  });
});
