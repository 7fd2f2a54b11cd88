/**
 * ECS-managed blue/green, linear and canary deployments on the simulator (SPEC.md §ECS-managed
 * deployments): service deployments through their lifecycle stages, the production and test rules'
 * weights over time, lifecycle hooks, alarm and circuit-breaker rollbacks, StopServiceDeployment
 * and ContinueServiceDeployment, service revisions.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ServiceDeployment } from "../../src/aws/ports.ts";
import { hookInvocations } from "../../src/sim/managed.ts";
import { HOOK_ROLE, LAMBDA, managedSpec, managedWorld, type ManagedSpecOptions, type ManagedWorld } from "../helpers/managed.ts";

interface Sample {
  at: number;
  status: string;
  stage: string | undefined;
  production: number | undefined;
  test: number | undefined;
  a: number | undefined;
  b: number | undefined;
}

/** Create service `web` from the spec with the given image, through the ports; answer the service deployment's ARN. */
async function apply(w: ManagedWorld, image: string, o: ManagedSpecOptions = {}): Promise<string> {
  const spec = managedSpec(w, image, o);
  const ecs = w.sim.ports().ecs;
  const td = await ecs.registerTaskDefinition(spec.taskdef!);
  const existing = (await ecs.describeServices("apps", ["web"])).services[0];
  const svc = existing ? await ecs.updateService({ ...spec.svcdef, service: "web", serviceName: undefined, launchType: undefined, taskDefinition: td.taskDefinitionArn }) : await ecs.createService({ ...spec.svcdef, taskDefinition: td.taskDefinitionArn });
  assert.ok(svc.currentServiceDeployment, "CreateService/UpdateService name the service deployment they started");
  return svc.currentServiceDeployment;
}

async function describe1(w: ManagedWorld, arn: string): Promise<ServiceDeployment> {
  const { serviceDeployments } = await w.sim.ports().ecs.describeServiceDeployments([arn]);
  return serviceDeployments[0]!;
}

const FINISHED = new Set(["SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"]);

/** Sample the deployment every `every` seconds until it finishes; only samples that differ are kept. */
async function watch(w: ManagedWorld, arn: string, every = 5, act?: (d: ServiceDeployment, at: number) => Promise<void> | void): Promise<{ samples: Sample[]; last: ServiceDeployment }> {
  const samples: Sample[] = [];
  for (let i = 0; i < 2000; i++) {
    const d = await describe1(w, arn);
    const prod = await w.weights(w.prodRule);
    const test = await w.weights(w.testRule);
    const s: Sample = { at: w.elapsed(), status: d.status, stage: d.lifecycleStage, production: d.targetServiceRevision?.requestedProductionTrafficWeight, test: d.targetServiceRevision?.requestedTestTrafficWeight, a: prod["web-a"], b: prod["web-b"] };
    const prev = samples.at(-1);
    if (!prev || prev.status !== s.status || prev.stage !== s.stage || prev.production !== s.production || prev.test !== s.test || prev.b !== s.b) samples.push(s);
    if (act) await act(d, s.at);
    if (FINISHED.has(d.status)) return { samples, last: d };
    void test;
    await w.clock.sleep(every * 1000);
  }
  throw new Error("the deployment did not finish");
}

async function steadyWorld(o: ManagedSpecOptions = {}, extra: Parameters<typeof managedWorld>[0] = {}): Promise<ManagedWorld> {
  const w = await managedWorld(extra);
  const first = await apply(w, "web:1", o);
  const { last } = await watch(w, first);
  assert.equal(last.status, "SUCCESSFUL");
  return w;
}

describe("ECS-managed deployments on the simulator", () => {
  it("BLUE_GREEN: the stages in order; test traffic moves to green before production, all at once; bake; blue cleaned up", async () => {
    const w = await steadyWorld();
    const arn = await apply(w, "web:2");
    const pending = await describe1(w, arn);
    assert.equal(pending.status, "PENDING", "a service deployment starts PENDING");
    const t0 = w.elapsed();
    const { samples, last } = await watch(w, arn, 1);
    assert.equal(last.status, "SUCCESSFUL");
    const stages = [...new Set(samples.map((s) => s.stage))];
    assert.deepEqual(stages, ["PRE_SCALE_UP", "SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"].filter((s) => stages.includes(s)));
    assert.ok(stages.includes("SCALE_UP") && stages.includes("BAKE_TIME") && stages.includes("CLEAN_UP"), stages.join(","));
    // Production went from 0 to 100 in one step, after green was up; the bake took bakeTimeInMinutes.
    assert.deepEqual([...new Set(samples.map((s) => s.production))], [0, 100]);
    const bake = samples.filter((s) => s.stage === "BAKE_TIME");
    const cleanup = samples.find((s) => s.stage === "CLEAN_UP")!;
    assert.ok(cleanup.at - bake[0]!.at >= 119 && cleanup.at - bake[0]!.at <= 121, `bake ${cleanup.at - bake[0]!.at}s`);
    assert.ok(bake[0]!.at > t0);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 0, "web-b": 100 }, "green was registered with the alternate target group");
    assert.deepEqual(await w.weights(w.testRule), { "web-a": 0, "web-b": 100 });
    assert.equal(last.sourceServiceRevisions[0]!.runningTaskCount, 0, "CLEAN_UP scaled blue to 0");
    const svc = (await w.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.deepEqual(svc.deployments.map((d) => [d.status, d.taskDefinition.split("/")[1], d.runningCount]), [["PRIMARY", "web:2", 3]]);
    // The next deployment goes back the other way: web-a is now the alternate.
    const next = await apply(w, "web:3");
    assert.equal((await watch(w, next)).last.status, "SUCCESSFUL");
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
    await w.close();
  });

  it("LINEAR: production moves stepPercent at a time, stepBakeTime apart, test traffic first", async () => {
    const w = await steadyWorld({ strategy: "LINEAR" }, { faults: { hooks: [{ hook: LAMBDA, after: "20s", callBackDelay: "10s" }] } });
    // A smoke test on the test traffic holds the deployment at POST_TEST_TRAFFIC_SHIFT for 20 s.
    const hooks = [{ hookTargetArn: LAMBDA, roleArn: HOOK_ROLE, lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT"] }];
    const { samples, last } = await watch(w, await apply(w, "web:2", { strategy: "LINEAR", deploymentConfiguration: { lifecycleHooks: hooks } }), 1);
    assert.equal(last.status, "SUCCESSFUL");
    const shifts = samples.filter((s, i) => s.production !== samples[i - 1]?.production && s.production !== 0);
    assert.deepEqual(shifts.map((s) => s.production), [25, 50, 75, 100]);
    assert.deepEqual(shifts.map((s) => s.b), [25, 50, 75, 100], "the production rule's weights follow");
    for (let i = 1; i < 4; i++) assert.ok(Math.abs(shifts[i]!.at - shifts[i - 1]!.at - 60) <= 1, `step ${i} after ${shifts[i]!.at - shifts[i - 1]!.at}s`);
    const testFirst = samples.find((s) => s.test === 100)!;
    assert.deepEqual([testFirst.stage, testFirst.production], ["POST_TEST_TRAFFIC_SHIFT", 0], "test traffic is on green before any production traffic");
    assert.ok(shifts[0]!.at - testFirst.at >= 19, `held ${shifts[0]!.at - testFirst.at}s by the hook`);
    await w.close();
  });

  it("CANARY: canaryPercent, the canary bake time, then the rest", async () => {
    const w = await steadyWorld({ strategy: "CANARY" });
    const { samples } = await watch(w, await apply(w, "web:2", { strategy: "CANARY" }), 1);
    const shifts = samples.filter((s, i) => s.production !== samples[i - 1]?.production && s.production !== 0);
    assert.deepEqual(shifts.map((s) => [s.production, s.b]), [[10, 10], [100, 100]]);
    assert.ok(Math.abs(shifts[1]!.at - shifts[0]!.at - 180) <= 1);
    await w.close();
  });

  it("a Lambda hook that answers FAILED rolls the deployment back: traffic to blue, green scaled in, the hook runs again for the traffic stages", async () => {
    const hooks = [{ hookTargetArn: LAMBDA, roleArn: HOOK_ROLE, lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] }];
    const w = await steadyWorld({}, { faults: { hooks: [{ hook: "*:smoke-test", stage: "POST_TEST_TRAFFIC_SHIFT", outcome: "FAILED", after: "45s" }] } });
    const arn = await apply(w, "web:2", { deploymentConfiguration: { lifecycleHooks: hooks } });
    let sawWaiting = false;
    const { last } = await watch(w, arn, 5, (d) => {
      if (d.lifecycleStage === "POST_TEST_TRAFFIC_SHIFT" && d.status === "IN_PROGRESS") {
        sawWaiting ||= d.lifecycleHookDetails.some((h) => h.status === "IN_PROGRESS" && h.targetArn === LAMBDA && h.targetType === "AWS_LAMBDA");
      }
    });
    assert.ok(sawWaiting, "the hook shows IN_PROGRESS while it answers IN_PROGRESS");
    assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
    assert.match(last.statusReason ?? "", /lifecycle hook .*smoke-test returned FAILED at POST_TEST_TRAFFIC_SHIFT/);
    assert.equal(last.rollback?.serviceRevisionArn, last.sourceServiceRevisions[0]!.arn);
    assert.deepEqual(last.lifecycleHookDetails.map((h) => h.status), ["FAILED"]);
    assert.deepEqual(await w.weights(w.testRule), { "web-a": 100, "web-b": 0 });
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
    const calls = hookInvocations(w.sim).filter((i) => i.serviceDeploymentArn === arn);
    const waiting = calls.filter((c) => !c.duringRollback);
    assert.deepEqual(waiting.map((c) => c.answer), ["IN_PROGRESS", "IN_PROGRESS", "FAILED"], "invoked again every 30 s until it answered");
    assert.deepEqual(waiting.map((c) => c.at - waiting[0]!.at), [0, 30_000, 60_000]);
    assert.deepEqual(calls.filter((c) => c.duringRollback).map((c) => c.stage), ["PRODUCTION_TRAFFIC_SHIFT"]);
    const svc = (await w.sim.ports().ecs.describeServices("apps", ["web"])).services[0]!;
    assert.deepEqual(svc.deployments.map((d) => [d.status, d.taskDefinition.split("/")[1]]), [["PRIMARY", "web:1"]]);
    await w.close();
  });

  it("a PAUSE hook waits for ContinueServiceDeployment: CONTINUE goes on, ROLLBACK rolls back, and one left alone times out", async () => {
    const pause = (action: string, minutes = 30) => [{ targetType: "PAUSE", lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT"], timeoutConfiguration: { timeoutInMinutes: minutes, action } }];
    const w = await steadyWorld();
    const ecs = w.sim.ports().ecs;
    for (const action of ["CONTINUE", "ROLLBACK"] as const) {
      const arn = await apply(w, `web:${action}`, { deploymentConfiguration: { lifecycleHooks: pause("ROLLBACK") } });
      let continued = false;
      const { last } = await watch(w, arn, 5, async (d) => {
        const waiting = d.lifecycleHookDetails.find((h) => h.status === "AWAITING_ACTION");
        if (!waiting || continued) return;
        assert.equal(d.lifecycleStage, "POST_TEST_TRAFFIC_SHIFT");
        assert.equal(d.targetServiceRevision?.requestedProductionTrafficWeight, 0, "paused before any production traffic");
        await w.clock.sleep(60_000);
        assert.equal((await describe1(w, arn)).lifecycleStage, "POST_TEST_TRAFFIC_SHIFT", "it stays paused");
        await ecs.continueServiceDeployment({ serviceDeploymentArn: arn, hookId: waiting.hookId, action });
        continued = true;
        // Once acted on, the hook no longer awaits action (after CONTINUE the stage has moved on).
        await assert.rejects(ecs.continueServiceDeployment({ serviceDeploymentArn: arn, hookId: waiting.hookId, action }), (e: Error) => e.name === (action === "CONTINUE" ? "InvalidParameterException" : "ConflictException"));
      });
      assert.equal(last.status, action === "CONTINUE" ? "SUCCESSFUL" : "ROLLBACK_SUCCESSFUL");
    }
    const timedOut = await apply(w, "web:timeout", { deploymentConfiguration: { lifecycleHooks: pause("ROLLBACK", 5) } });
    const { last } = await watch(w, timedOut, 10);
    assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
    assert.deepEqual(last.lifecycleHookDetails.map((h) => [h.targetType, h.status, h.timeoutAction]), [["PAUSE", "TIMED_OUT", "ROLLBACK"]]);
    await w.close();
  });

  it("an alarm in ALARM mid-LINEAR rolls back (deploymentConfiguration.alarms with rollback); without rollback the deployment stops where it is", async () => {
    const alarms = { alarmNames: ["web-5xx"], enable: true, rollback: true };
    for (const rollback of [true, false]) {
      // The alarm fires 4 minutes in: after the world's first deployment, mid-way through the linear shift.
      const w = await steadyWorld({ strategy: "LINEAR", deploymentConfiguration: { alarms } }, { faults: { alarms: [{ alarm: "web-5xx", at: "4m" }] } });
      const { samples, last } = await watch(w, await apply(w, "web:2", { strategy: "LINEAR", deploymentConfiguration: { alarms: { ...alarms, rollback } } }), 2);
      assert.ok(samples.some((s) => (s.production ?? 0) > 0 && (s.production ?? 0) < 100), "it was mid-shift");
      assert.deepEqual(last.alarms?.triggeredAlarmNames, ["web-5xx"]);
      assert.equal(last.alarms?.status, "TRIGGERED");
      if (rollback) {
        assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
        assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
      } else {
        assert.equal(last.status, "STOPPED");
        assert.ok(last.stoppedAt !== undefined);
        const b = (await w.weights(w.prodRule))["web-b"]!;
        assert.ok(b > 0 && b < 100, "traffic stays split where it stopped");
      }
      await w.close();
    }
  });

  it("the deployment circuit breaker rolls back a new revision whose tasks cannot start", async () => {
    const w = await steadyWorld({}, { faults: { images: [{ image: "web:broken", pullFails: true }] } });
    const { last } = await watch(w, await apply(w, "web:broken"));
    assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
    assert.match(last.statusReason ?? "", /circuit breaker/);
    assert.equal(last.circuitBreaker?.status, "TRIGGERED");
    assert.equal(last.circuitBreaker?.threshold, 3);
    assert.ok((last.circuitBreaker?.failureCount ?? 0) >= 3);
    assert.equal(last.lifecycleStage, "SCALE_UP");
    await w.close();
  });

  it("StopServiceDeployment rolls back from the bake time; a finished or unknown deployment is refused", async () => {
    const w = await steadyWorld();
    const ecs = w.sim.ports().ecs;
    const arn = await apply(w, "web:2");
    let stopped = false;
    const { samples, last } = await watch(w, arn, 5, async (d) => {
      if (d.lifecycleStage !== "BAKE_TIME" || stopped) return;
      await ecs.stopServiceDeployment({ serviceDeploymentArn: arn, stopType: "ROLLBACK" });
      stopped = true;
      assert.equal((await describe1(w, arn)).status, "ROLLBACK_REQUESTED");
    });
    assert.ok(samples.some((s) => s.status === "ROLLBACK_IN_PROGRESS"));
    assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
    await assert.rejects(ecs.stopServiceDeployment({ serviceDeploymentArn: arn, stopType: "ROLLBACK" }), { name: "ConflictException" });
    await assert.rejects(ecs.stopServiceDeployment({ serviceDeploymentArn: arn.replace(/[^/]+$/, "nope"), stopType: "ROLLBACK" }), { name: "ServiceDeploymentNotFoundException" });
    const listed = await ecs.listServiceDeployments({ cluster: "apps", service: "web" });
    assert.deepEqual(listed.map((b) => b.status), ["ROLLBACK_SUCCESSFUL", "SUCCESSFUL"], "newest first");
    assert.deepEqual((await ecs.listServiceDeployments({ cluster: "apps", service: "web", status: ["SUCCESSFUL"] })).length, 1);
    await w.close();
  });

  it("rules that do not reach both target groups roll the deployment back with AWS's message", async () => {
    const w = await steadyWorld({ testRule: false });
    await w.sim.ports().elbv2.modifyRule({ ruleArn: w.prodRule, actions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: w.tgA, weight: 1 }] } }] });
    const { last } = await watch(w, await apply(w, "web:2", { testRule: false }));
    assert.equal(last.status, "ROLLBACK_SUCCESSFUL");
    assert.equal(last.statusReason, "Service deployment rolled back because of invalid networking configuration. Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule.");
    await w.close();
  });

  it("CreateService and UpdateService refuse what an ECS-managed strategy cannot run", async () => {
    const w = await managedWorld();
    const ecs = w.sim.ports().ecs;
    const td = await ecs.registerTaskDefinition(managedSpec(w, "web:1").taskdef!);
    const base = managedSpec(w, "web:1").svcdef;
    const refused = async (change: (s: Record<string, unknown>) => void, message: RegExp) => {
      const svcdef = structuredClone({ ...base, taskDefinition: td.taskDefinitionArn });
      change(svcdef);
      await assert.rejects(ecs.createService(svcdef), (e: Error) => e.name === "InvalidParameterException" && message.test(e.message));
    };
    const dc = (s: Record<string, unknown>) => s["deploymentConfiguration"] as Record<string, unknown>;
    const ac = (s: Record<string, unknown>) => ((s["loadBalancers"] as Record<string, unknown>[])[0]!["advancedConfiguration"] as Record<string, unknown>);
    await refused((s) => delete dc(s)["bakeTimeInMinutes"], /bakeTimeInMinutes is required/);
    await refused((s) => delete ac(s)["roleArn"], /roleArn is required/);
    await refused((s) => delete ac(s)["alternateTargetGroupArn"], /alternateTargetGroupArn is required/);
    await refused((s) => (dc(s)["lifecycleHooks"] = [{ targetType: "PAUSE", lifecycleStages: ["PRODUCTION_TRAFFIC_SHIFT"] }]), /PAUSE hooks cannot be configured at the PRODUCTION_TRAFFIC_SHIFT stage/);
    await refused((s) => (dc(s)["lifecycleHooks"] = [{ hookTargetArn: LAMBDA, lifecycleStages: ["PRE_SCALE_UP"] }]), /roleArn is required for an AWS_LAMBDA/);
    await refused((s) => Object.assign(dc(s), { strategy: "LINEAR", linearConfiguration: { stepPercent: 2 } }), /stepPercent must be a multiple of 0.1 from 3.0/);
    assert.equal((await ecs.describeServices("apps", ["web"])).services.length, 0, "nothing was created");
    await w.close();
  });

  it("service revisions say which target group serves them", async () => {
    const w = await steadyWorld();
    const ecs = w.sim.ports().ecs;
    await watch(w, await apply(w, "web:2"));
    const [latest, first] = await ecs.listServiceDeployments({ cluster: "apps", service: "web" });
    const { serviceRevisions, failures } = await ecs.describeServiceRevisions([latest!.targetServiceRevisionArn!, first!.targetServiceRevisionArn!, "arn:aws:ecs:us-east-1:123456789012:service-revision/apps/web/1"]);
    assert.deepEqual(serviceRevisions.map((r) => [r.taskDefinition.split("/")[1], r.resolvedLoadBalancers[0]!.targetGroupArn === w.tgB ? "web-b" : "web-a"]), [["web:2", "web-b"], ["web:1", "web-a"]]);
    assert.deepEqual(failures.map((f) => f.reason), ["MISSING"]);
    await w.close();
  });
});
