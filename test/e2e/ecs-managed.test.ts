/**
 * ECS-managed blue/green, linear and canary deployments end to end on the simulator, in virtual
 * time: Flotilla sends UpdateService and follows the service deployment ECS runs. Given/When/Then.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { hookInvocations } from "../../src/sim/managed.ts";
import type { Deployment } from "../../src/store/types.ts";
import { HOOK_ROLE, LAMBDA, managedSpec, eventsOf, liveWorld, managedWorld, productionWeights, type ManagedWorld } from "../helpers/managed.ts";

let w: ManagedWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** Each stage the timeline names, seen or passed between two looks, in order. */
const stages = (world: ManagedWorld) => eventsOf(world, "LifecycleStage").flatMap((e) => [...((e.data as { passed?: string[] }).passed ?? []), (e.data as { stage: string }).stage]);
const ok = (d: Deployment) => assert.equal(d.phase, "Succeeded", `${d.reason}: ${d.message}`);

describe("ECS-managed deployments", () => {
  it("Given no service, When an ECS-managed BLUE_GREEN service is deployed, Then ECS creates it, its first revision takes all traffic and the record says ecs-managed", async () => {
    w = await managedWorld();
    const d = await w.deploy(managedSpec(w, "web:1"));
    ok(d);
    assert.equal(d.strategy, "ecs-managed");
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
    assert.match(d.message ?? "", /BLUE_GREEN deployment succeeded: 3\/3 tasks/);
    assert.ok(w.timeline.some((e) => e.type === "ServiceDeploymentStarted"));
  });

  it("Given a live service, When BLUE_GREEN deploys, Then the timeline has every lifecycle stage in ECS's order, test traffic first, production 0→100 in one step, then bake and clean-up", async () => {
    w = await liveWorld();
    const d = await w.deploy(managedSpec(w, "web:2"));
    ok(d);
    assert.deepEqual(stages(w), ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]);
    assert.deepEqual(productionWeights(w), [0, 100]);
    const baking = eventsOf(w, "LifecycleStage").find((e) => (e.data as { stage: string }).stage === "BAKE_TIME")!;
    const done = w.timeline.find((e) => e.type === "Succeeded")!;
    assert.ok(done.at - baking.at >= 120, `bakeTimeInMinutes 2 is waited out (${done.at - baking.at}s)`);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 0, "web-b": 100 }, "production on the alternate target group");
    assert.deepEqual(await w.weights(w.testRule), { "web-a": 0, "web-b": 100 });
    assert.equal(d.trafficWeight, 100);
    assert.match(d.newTaskDefinitionArn ?? "", /web:2$/);
    assert.match(d.oldTaskDefinitionArn ?? "", /web:1$/);
  });

  it("Given a live service, When LINEAR 25% deploys, Then production traffic moves 25, 50, 75, 100 a step bake apart, and the record follows it", async () => {
    w = await liveWorld({ strategy: "LINEAR" });
    const d = await w.deploy(managedSpec(w, "web:2", { strategy: "LINEAR" }));
    ok(d);
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [25, 50, 75, 100]);
    const at = eventsOf(w, "ProductionTraffic").filter((e) => (e.data as { weight: number }).weight > 0).map((e) => e.at);
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 60 && at[i]! - at[i - 1]! < 80, `step ${i}: ${at[i]! - at[i - 1]!}s apart (stepBakeTimeInMinutes 1, looked at every 10s)`);
    assert.ok(stages(w).includes("PRODUCTION_TRAFFIC_SHIFT") && stages(w).indexOf("BAKE_TIME") > stages(w).indexOf("PRODUCTION_TRAFFIC_SHIFT"));
    assert.equal(d.trafficWeight, 100);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 0, "web-b": 100 });
  });

  it("Given a live service, When CANARY 10% deploys, Then 10% of production goes to the new revision for the canary bake, then the rest", async () => {
    const world = (w = await liveWorld({ strategy: "CANARY" }));
    const seen: Record<string, number>[] = [];
    const watching = (async () => {
      for (let i = 0; i < 120; i++) {
        await world.clock.sleep(5000);
        seen.push(await world.weights(world.prodRule));
      }
    })();
    const d = await w.deploy(managedSpec(w, "web:2", { strategy: "CANARY" }));
    await watching;
    ok(d);
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [10, 100]);
    const [canary = 0, all = 0] = eventsOf(w, "ProductionTraffic").filter((e) => (e.data as { weight: number }).weight > 0).map((e) => e.at);
    assert.ok(all - canary >= 180, `canaryBakeTimeInMinutes 3 (${all - canary}s)`);
    assert.ok(seen.some((s) => s["web-a"] === 90 && s["web-b"] === 10), "the production rule itself carried the 90/10 split");
  });

  it("Given ECS's alarm rollback, When the alarm fires mid-LINEAR, Then ECS rolls back, the record is RolledBack with the alarm, and production is back on the old revision", async () => {
    const alarms = { alarms: { alarmNames: ["web-5xx"], enable: true, rollback: true } };
    w = await liveWorld({ strategy: "LINEAR", deploymentConfiguration: alarms }, { alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    const started = w.sim.elapsed();
    // LINEAR 25%: the second step is live about two minutes in.
    w.sim.alarms.schedule("web-5xx", started + 150_000, "ALARM", "5xx rate above 1%");
    const d = await w.deploy(managedSpec(w, "web:2", { strategy: "LINEAR", deploymentConfiguration: alarms }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "EcsAlarmRolledBack");
    assert.match(d.message ?? "", /web-5xx/);
    assert.match(d.message ?? "", /; the service runs .*web:1 again$/);
    assert.ok(productionWeights(w).some((x) => x > 0 && x < 100), `stopped mid-way: ${productionWeights(w).join(",")}`);
    assert.ok(!productionWeights(w).includes(100));
    assert.ok(!w.timeline.some((e) => e.type === "Succeeded"), "never success after a rollback");
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
  });

  it("Given a depdef alarm, When it fires mid-LINEAR, Then Flotilla stops the ECS deployment with rollback (StopServiceDeployment) and ends RolledBack", async () => {
    w = await liveWorld({ strategy: "LINEAR", depdef: { alarms: { alarmNames: ["web-5xx"] } } }, { alarms: [{ name: "web-5xx", timeline: [{ at: "0s", state: "OK" }] }] });
    w.sim.alarms.schedule("web-5xx", w.sim.elapsed() + 150_000, "ALARM", "latency above 2s");
    const d = await w.deploy(managedSpec(w, "web:2", { strategy: "LINEAR", depdef: { alarms: { alarmNames: ["web-5xx"] } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "AlarmFired");
    assert.match(d.message ?? "", /web-5xx went into ALARM in PRODUCTION_TRAFFIC_SHIFT at \d+% of production traffic: latency above 2s/);
    assert.equal(eventsOf(w, "StopRequested").length, 1);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
  });

  it("Given a deployment baking its canary, When an operator aborts, Then StopServiceDeployment rolls it back and the record ends Aborted", async () => {
    w = await liveWorld({ strategy: "CANARY" });
    const created = await w.runner.create(managedSpec(w, "web:2", { strategy: "CANARY" }), { strategy: "ecs-managed" });
    const running = w.runner.run(created);
    while (!productionWeights(w).includes(10)) await w.clock.sleep(1000);
    await w.store.requestControl(created.id, "abort", "alice");
    const d = await running;
    assert.equal(d.phase, "Aborted", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "Aborted");
    assert.match(d.message ?? "", /aborted by alice/);
    assert.equal(eventsOf(w, "StopRequested").length, 1);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
    const sd = (await w.sim.ports().ecs.listServiceDeployments({ cluster: "apps", service: "web" }))[0]!;
    assert.equal(sd.status, "ROLLBACK_SUCCESSFUL");
  });

  it("Given a Lambda hook that fails after test traffic, When deploying, Then ECS rolls back before production moves, and the record names the hook", async () => {
    const hooks = { lifecycleHooks: [{ hookTargetArn: LAMBDA, roleArn: HOOK_ROLE, lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT"] }] };
    w = await liveWorld({ deploymentConfiguration: hooks });
    // The first deployment's hook succeeded; from now on the smoke test answers IN_PROGRESS for 40s, then FAILED.
    w.sim.faults.addHookFault({ hook: LAMBDA, outcome: "FAILED", afterMs: 40_000 });
    const d = await w.deploy(managedSpec(w, "web:2", { deploymentConfiguration: hooks }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "LifecycleHookFailed");
    assert.match(d.message ?? "", /smoke-test answered FAILED in POST_TEST_TRAFFIC_SHIFT; the service runs .*web:1 again$/);
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [], "production never moved");
    assert.ok(eventsOf(w, "LifecycleHook").some((e) => /IN_PROGRESS/.test(e.message)));
    assert.ok(hookInvocations(w.sim).length > 1);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
  });
});

describe("ECS-managed deployments: PAUSE hooks and operator controls", () => {
  const pause = { lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT"] }] };

  async function waitFor(world: ManagedWorld, type: string): Promise<void> {
    for (let i = 0; i < 600 && !eventsOf(world, type).length; i++) await world.clock.sleep(1000);
    assert.ok(eventsOf(world, type).length, `no ${type} event`);
  }

  it("Given a PAUSE hook after test traffic, When the deployment reaches it, Then it waits there; resume continues it (ContinueServiceDeployment) and it succeeds", async () => {
    w = await liveWorld();
    const created = await w.runner.create(managedSpec(w, "web:2", { deploymentConfiguration: pause }), { strategy: "ecs-managed" });
    const running = w.runner.run(created);
    await waitFor(w, "HookAwaiting");
    assert.match(eventsOf(w, "HookAwaiting")[0]!.message, /POST_TEST_TRAFFIC_SHIFT.*flotilla resume/);
    await w.clock.sleep(600_000);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 }, "ten minutes later production still waits");
    assert.deepEqual(await w.weights(w.testRule), { "web-a": 0, "web-b": 100 }, "test traffic reaches the new revision meanwhile");
    await w.store.requestControl(created.id, "pause", "bob");
    await w.store.requestControl(created.id, "resume", "carol");
    const d = await running;
    ok(d);
    assert.match(eventsOf(w, "ControlIgnored")[0]!.message, /pause \(by bob\) cannot pause an ECS-managed deployment/);
    assert.match(eventsOf(w, "HookContinued")[0]!.message, /carol/);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 0, "web-b": 100 });
  });

  it("Given PAUSE hooks at two stages, When an operator promotes at the first, Then both are continued and ECS's step waits still run", async () => {
    const two = { lifecycleHooks: [{ targetType: "PAUSE", lifecycleStages: ["POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"] }] };
    w = await liveWorld({ strategy: "LINEAR" });
    const created = await w.runner.create(managedSpec(w, "web:2", { strategy: "LINEAR", deploymentConfiguration: two }), { strategy: "ecs-managed" });
    const running = w.runner.run(created);
    await waitFor(w, "HookAwaiting");
    await w.store.requestControl(created.id, "promote", "dave");
    const d = await running;
    ok(d);
    assert.equal(eventsOf(w, "HookContinued").length, 2);
    assert.match(eventsOf(w, "Promote")[0]!.message, /cannot be skipped/);
    assert.deepEqual(productionWeights(w).filter((x) => x > 0), [25, 50, 75, 100], "promote does not skip ECS's steps");
  });

  it("Given Flotilla's breaker at 2, When new tasks crash while production shifts, Then Flotilla stops the ECS deployment with rollback", async () => {
    const noEcsBreaker = { deploymentCircuitBreaker: { enable: false, rollback: false } };
    w = await liveWorld({ strategy: "LINEAR", deploymentConfiguration: noEcsBreaker }, { faults: { images: [{ image: "web:crashy", exitAfter: "150s" }] } });
    const d = await w.deploy(managedSpec(w, "web:crashy", { strategy: "LINEAR", deploymentConfiguration: noEcsBreaker, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 2, rollback: true } } }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "CircuitBreakerTripped");
    assert.ok(d.counts.failed >= 2);
    assert.equal(eventsOf(w, "StopRequested").length, 1);
    assert.deepEqual(await w.weights(w.prodRule), { "web-a": 100, "web-b": 0 });
  });

  it("Given rules that do not reach the alternate target group, When deploying, Then Flotilla refuses before changing anything", async () => {
    w = await liveWorld({ testRule: false });
    await w.sim.ports().elbv2.modifyRule({ ruleArn: w.prodRule, actions: [{ type: "forward", targetGroupArn: w.tgA }] });
    const before = (await w.sim.ports().ecs.listServiceDeployments({ cluster: "apps", service: "web" })).length;
    const d = await w.deploy(managedSpec(w, "web:2", { testRule: false }));
    assert.equal(d.phase, "Failed");
    assert.equal(d.reason, "ListenerRulesInvalid");
    assert.match(d.message ?? "", /web-b/);
    assert.equal((await w.sim.ports().ecs.listServiceDeployments({ cluster: "apps", service: "web" })).length, before, "no deployment was started");
    assert.equal(d.newTaskDefinitionArn, null, "no task definition was registered");
  });
});
