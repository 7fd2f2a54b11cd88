/**
 * The ECS-managed machine (src/deploy/ecs-managed.ts), called directly: for every step, each kind
 * of answer and what the machine does next. Time is the `now` each transition is given.
 *
 * The scenario unless a row says otherwise: service web in apps, 4 tasks, revision 1 live with
 * service deployment sd/1; the svcdef asks ECS for LINEAR on web-blue (alternate web-green) through
 * a production rule; the object's taskdef registers revision 2; poll 10 s, stability timeout 300 s,
 * Flotilla's breaker at 5 failed tasks, the depdef watches alarm web-5xx.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ecsManaged, startEcsManaged, type EcsManagedState } from "../../src/deploy/ecs-managed.ts";
import type { Input } from "../../src/deploy/machine.ts";
import type { LifecycleHookDetail, ServiceDeployment } from "../../src/aws/ports.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { managedSpec } from "../helpers/managed.ts";
import { BLUE_TG, GREEN_TG, I, NEW_TD, OLD_TD, RULE, T0, alarm, drive, everyStepVisited, s, service, table, taskDefinition, type Row } from "./harness.ts";

const STEPS = ["inspect", "waitDraining", "checkAlarms", "checkRules", "readHealthChecks", "register", "resolveTaskDefinition", "create", "update", "locate", "follow", "stop", "continueHook", "scaleDown", "revert", "followRevert", "done"] as const satisfies readonly EcsManagedState["step"][];
// A step added to the machine must be added here (and get rows): this fails to compile otherwise.
const _allSteps: Exclude<EcsManagedState["step"], (typeof STEPS)[number]> extends never ? true : never = true;
void _allSteps;

const visited = new Set<string>();
const SD1 = "arn:aws:ecs:us-east-1:123456789012:service-deployment/apps/web/sd1";
const SD2 = "arn:aws:ecs:us-east-1:123456789012:service-deployment/apps/web/sd2";
const SD3 = "arn:aws:ecs:us-east-1:123456789012:service-deployment/apps/web/sd3";

/** The object: the e2e tests' managed service (helpers/managed.ts) on this file's ARNs, LINEAR 25%, 4 tasks, no test rule. */
function spec(over: { depdef?: Record<string, unknown>; svcdef?: Record<string, unknown>; taskdef?: Record<string, unknown> | null } = {}): DeploySpec {
  const base = managedSpec({ tgA: BLUE_TG, tgB: GREEN_TG, prodRule: RULE, testRule: RULE }, "web:2", {
    strategy: "LINEAR",
    desiredCount: 4,
    testRule: false,
    deploymentConfiguration: { bakeTimeInMinutes: 5 },
    depdef: { stabilityCheck: { pollInterval: 10, timeout: 300 }, alarms: { alarmNames: ["web-5xx"] }, ...over.depdef },
  });
  const { taskdef, ...rest } = base;
  return { ...rest, svcdef: { ...base.svcdef, ...over.svcdef }, ...(over.taskdef === null ? {} : { taskdef: over.taskdef ?? taskdef! }) };
}

/** The production rule forwarding to both target groups (blue serving). */
const rule = (green = 0) => ({ kind: "rule" as const, arn: RULE, actions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: BLUE_TG, weight: 100 - green }, { targetGroupArn: GREEN_TG, weight: green }] } }] });

function sd(status: ServiceDeployment["status"], stage: string | undefined, over: Partial<ServiceDeployment> & { running?: number; weight?: number; hooks?: LifecycleHookDetail[] } = {}): ServiceDeployment {
  const { running, weight, hooks, ...rest } = over;
  return {
    serviceDeploymentArn: SD2,
    serviceArn: "arn:aws:ecs:us-east-1:123456789012:service/apps/web",
    clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/apps",
    status,
    ...(stage ? { lifecycleStage: stage } : {}),
    strategy: "LINEAR",
    targetServiceRevision: { arn: "rev/2", requestedTaskCount: 4, runningTaskCount: running ?? 0, pendingTaskCount: 0, requestedProductionTrafficWeight: weight ?? 0, requestedTestTrafficWeight: 0 },
    sourceServiceRevisions: [{ arn: "rev/1", requestedTaskCount: 4, runningTaskCount: 4, pendingTaskCount: 0 }],
    lifecycleHookDetails: hooks ?? [],
    createdAt: T0,
    ...rest,
  };
}

const look = (d: ServiceDeployment | undefined, o: { failures?: number; alarms?: ReturnType<typeof alarm>[] } = {}): Input => ({ type: "serviceDeployment", ...(d ? { deployment: d } : {}), alarms: o.alarms ?? [alarm("web-5xx")], routes: [rule(d?.targetServiceRevision?.requestedProductionTrafficWeight ?? 0)], ...(o.failures !== undefined ? { failures: { count: o.failures, lastReason: "Essential container exited" } } : {}) });
const found = (arn?: string): Input => ({ type: "serviceDeploymentFound", ...(arn ? { arn } : {}) });
const live = service({ currentServiceDeployment: SD1 });
const pause = (status = "AWAITING_ACTION"): LifecycleHookDetail => ({ hookId: "pause-1", targetType: "PAUSE", status });

function run(sp: DeploySpec, script: [Input, number][], overrides: EcsManagedState["overrides"] = []): EcsManagedState {
  return drive(ecsManaged, startEcsManaged(sp, "token-1", overrides), script).last.state;
}

const at = {
  inspect: (sp = spec()) => run(sp, [[I.start, T0]]),
  draining: () => run(spec(), [[I.start, T0], [I.service(service({ status: "DRAINING" })), T0]]),
  checkAlarms: () => run(spec(), [[I.start, T0], [I.service(live), T0]]),
  checkRules: () => run(spec(), [[I.start, T0], [I.service(live), T0], [I.alarms(alarm("web-5xx")), T0]]),
  readHealthChecks: () => run(spec(), [[I.start, T0], [I.service(live), T0], [I.alarms(alarm("web-5xx")), T0], [I.routes([rule()]), T0]]),
  register: () => drive(ecsManaged, at.readHealthChecks(), [[I.targetGroups(10, 10), T0]]).last.state,
  resolve: () => drive(ecsManaged, run(spec({ taskdef: null, svcdef: { taskDefinition: "web:7" } }), [[I.start, T0], [I.service(live), T0], [I.alarms(alarm("web-5xx")), T0], [I.routes([rule()]), T0]]), [[I.targetGroups(10), T0]]).last.state,
  update: () => drive(ecsManaged, at.register(), [[I.taskDefinition(), T0]]).last.state,
  create: () => run(spec(), [[I.start, T0], [I.service(undefined), T0], [I.alarms(alarm("web-5xx")), T0], [I.routes([rule()]), T0], [I.targetGroups(10), T0], [I.taskDefinition(), T0]]),
  /** UpdateService answered naming sd2 at T0: the first look is in flight. */
  follow: () => drive(ecsManaged, at.update(), [[I.service(service({ taskDefinition: NEW_TD, currentServiceDeployment: SD2 })), T0]]).last.state,
  /** In SCALE_UP since T0 + 10 s (the stability deadline runs from then). */
  scalingUp: () => drive(ecsManaged, at.follow(), [[look(sd("IN_PROGRESS", "SCALE_UP")), T0 + s(10)]]).last.state,
  /** At 25% of production since T0 + 60 s, the new tasks all running. */
  shifting: () => drive(ecsManaged, at.scalingUp(), [[I.slept, T0 + s(20)], [look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 25 })), T0 + s(60)]]).last.state,
  /** Waiting at a PAUSE hook in POST_TEST_TRAFFIC_SHIFT. */
  paused: () => drive(ecsManaged, at.scalingUp(), [[I.slept, T0 + s(20)], [look(sd("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", { running: 4, hooks: [pause()] })), T0 + s(30)]]).last.state,
  /** The answer named the deployment from before: looking it up. */
  locate: () => drive(ecsManaged, at.update(), [[I.service(service({ taskDefinition: NEW_TD, currentServiceDeployment: SD1 })), T0]]).last.state,
  /** Flotilla's breaker tripped at 25%: StopServiceDeployment in flight. */
  stop: () => drive(ecsManaged, at.shifting(), [[I.slept, T0 + s(70)], [look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 3, weight: 25 }), { failures: 5 }), T0 + s(70)]]).last.state,
  /** A resume asked ContinueServiceDeployment for the PAUSE hook. */
  continueHook: () => drive(ecsManaged, at.paused(), [[I.control("resume", "carol"), T0 + s(31)]]).last.state,
  /** ECS said SUCCESSFUL at T0 + 40 s, seen steady since T0 + 30 s; the dwell (grace 120 s) runs on. */
  dwelling: () =>
    drive(ecsManaged, run(spec({ svcdef: { healthCheckGracePeriodSeconds: 120 } }), [[I.start, T0], [I.service(live), T0], [I.alarms(alarm("web-5xx")), T0], [I.routes([rule()]), T0], [I.targetGroups(10), T0], [I.taskDefinition(), T0], [I.service(service({ taskDefinition: NEW_TD, currentServiceDeployment: SD2 })), T0]]), [
      [look(sd("IN_PROGRESS", "POST_SCALE_UP", { running: 4 })), T0 + s(30)],
      [I.slept, T0 + s(40)],
      [look(sd("SUCCESSFUL", "CLEAN_UP", { running: 4, weight: 100 }), { failures: 0 }), T0 + s(40)],
    ]).last.state,
  /** The new tasks crashed within the dwell: UpdateService back to revision 1 in flight. */
  revert: () => drive(ecsManaged, at.dwelling(), [[I.slept, T0 + s(50)], [look(sd("SUCCESSFUL", "CLEAN_UP", { running: 0, weight: 100 }), { failures: 5 }), T0 + s(50)]]).last.state,
  followRevert: () => drive(ecsManaged, at.revert(), [[I.service(service({ taskDefinition: OLD_TD, currentServiceDeployment: SD3 })), T0 + s(51)]]).last.state,
  /** The first deployment (CreateService) failed Flotilla's breaker: scaling to 0 in flight. */
  scaleDown: () => drive(ecsManaged, at.create(), [[I.service(service({ taskDefinition: NEW_TD, currentServiceDeployment: SD2 })), T0], [look(sd("IN_PROGRESS", "SCALE_UP", { sourceServiceRevisions: [] }), { failures: 5 }), T0 + s(10)]]).last.state,
};

describe("ecs-managed: before the service is changed", () => {
  const rows: Row<EcsManagedState>[] = [
    { name: "start → describe the service, Deploying, Started", from: () => startEcsManaged(spec(), "t", []), input: I.start, expect: { step: "inspect", effect: "describeService", phase: "Deploying", events: ["Started"], message: undefined } },
    { name: "a live ECS service → check the depdef's alarms first", from: () => at.inspect(), input: I.service(live), expect: { step: "checkAlarms", effect: "describeAlarms", phase: "Registering", state: { mode: "update", oldTaskDefinitionArn: OLD_TD, previousServiceDeployment: SD1 } } },
    { name: "an EXTERNAL service → NotUpdatableInPlace, nothing changed", from: () => at.inspect(), input: I.service(service({ deploymentController: { type: "EXTERNAL" } })), expect: { step: "done", phase: "Failed", reason: "NotUpdatableInPlace", message: /does not switch a live service's deployment controller/ } },
    { name: "no cluster → ClusterNotFound", from: () => at.inspect(), input: I.error("ClusterNotFoundException", "Cluster not found."), expect: { phase: "Failed", reason: "ClusterNotFound" } },
    { name: "DRAINING → wait for INACTIVE", from: () => at.inspect(), input: I.service(service({ status: "DRAINING" })), expect: { step: "waitDraining", effect: "sleep", events: ["WaitingForDrain"] } },
    { name: "waited → describe again", from: at.draining, input: I.slept, now: T0 + s(10), expect: { step: "inspect", effect: "describeService" } },
    { name: "an alarm in ALARM before an update → AlarmFiringBeforeStart", from: at.checkAlarms, input: I.alarms(alarm("web-5xx", "ALARM")), expect: { phase: "Failed", reason: "AlarmFiringBeforeStart" } },
    { name: "a missing alarm → AlarmNotFound", from: at.checkAlarms, input: I.alarms(), expect: { phase: "Failed", reason: "AlarmNotFound", message: /web-5xx does not exist/ } },
    { name: "alarms fine → read the listener rules", from: at.checkAlarms, input: I.alarms(alarm("web-5xx")), expect: { step: "checkRules", effect: "readRoutes", effectHas: { routes: [{ kind: "rule", arn: RULE }] } } },
    { name: "the production rule forwards only to blue → ListenerRulesInvalid, nothing changed", from: at.checkRules, input: I.routes([{ kind: "rule", arn: RULE, actions: [{ type: "forward", targetGroupArn: BLUE_TG }] }]), expect: { phase: "Failed", reason: "ListenerRulesInvalid", message: /web-green/ } },
    { name: "the production rule is gone → ListenerRulesInvalid", from: at.checkRules, input: I.routes([]), expect: { phase: "Failed", reason: "ListenerRulesInvalid", message: /does not exist/ } },
    { name: "rules reach both groups → read the health checks of both", from: at.checkRules, input: I.routes([rule()]), expect: { step: "readHealthChecks", effect: "describeTargetGroups", effectHas: { targetGroupArns: [BLUE_TG, GREEN_TG] } } },
    { name: "health checks read → register", from: at.readHealthChecks, input: I.targetGroups(10, 10), expect: { step: "register", effect: "registerTaskDefinition" } },
    { name: "health checks unreadable → register anyway, HealthChecksUnknown", from: at.readHealthChecks, input: I.error("AccessDenied"), expect: { step: "register", events: ["HealthChecksUnknown"] } },
    { name: "registered → UpdateService with the svcdef's deployment configuration", from: at.register, input: I.taskDefinition(), expect: { step: "update", effect: "updateService", phase: "Deploying", events: ["TaskDefinitionRegistered"], then: (st) => assert.deepEqual((st.effect as { request: Record<string, unknown> }).request["deploymentConfiguration"], spec().svcdef["deploymentConfiguration"]) } },
    { name: "registration refused → TaskDefinitionRejected", from: at.register, input: I.error("ClientException"), expect: { phase: "Failed", reason: "TaskDefinitionRejected" } },
    { name: "no taskdef file: the svcdef's revision is described, then used", from: at.resolve, input: I.taskDefinition(taskDefinition("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")), expect: { step: "update", effect: "updateService", events: [] } },
    { name: "no taskdef file and the revision is unknown → TaskDefinitionNotFound", from: at.resolve, input: I.error("ClientException"), expect: { phase: "Failed", reason: "TaskDefinitionNotFound" } },
  ];
  table(ecsManaged, rows, visited);
});

describe("ecs-managed: following the service deployment", () => {
  const rows: Row<EcsManagedState>[] = [
    { name: "UpdateService names a new service deployment → follow it", from: at.update, input: I.service(service({ currentServiceDeployment: SD2 })), expect: { step: "follow", effect: "observeServiceDeployment", effectHas: { serviceDeploymentArn: SD2, alarmNames: ["web-5xx"] }, events: ["ServiceUpdated", "ServiceDeploymentStarted"] } },
    { name: "UpdateService refused → UpdateServiceRejected", from: at.update, input: I.error("InvalidParameterException"), expect: { phase: "Failed", reason: "UpdateServiceRejected" } },
    { name: "CreateService names the first service deployment → follow it", from: at.create, input: I.service(service({ currentServiceDeployment: SD2 })), expect: { step: "follow", events: ["ServiceCreated", "ServiceDeploymentStarted"] } },
    { name: "the answer names the deployment from before → look ours up by revision", from: at.update, input: I.service(service({ currentServiceDeployment: SD1 })), expect: { step: "locate", effect: "findServiceDeployment", effectHas: { taskDefinition: NEW_TD } } },
    { name: "looked up → follow it", from: at.locate, input: found(SD2), expect: { step: "follow", effect: "observeServiceDeployment", effectHas: { serviceDeploymentArn: SD2 } } },
    { name: "not found yet → look again a poll later", from: at.locate, input: found(), expect: { step: "locate", effect: "sleep", state: { lookups: 1 } } },
    { name: "not found in six looks → Failed StabilityTimeout, no service deployment", from: () => drive(ecsManaged, at.locate(), [1, 2, 3, 4, 5].flatMap((i) => [[found(), T0 + s(10 * i)], [I.slept, T0 + s(10 * i + 10)]] as [Input, number][])).last.state, input: found(), now: T0 + s(60), expect: { step: "done", effect: null, phase: "Failed", reason: "StabilityTimeout" } },
    { name: "SCALE_UP → the stage is recorded, the stability deadline starts", from: at.follow, input: look(sd("IN_PROGRESS", "SCALE_UP")), now: T0 + s(10), expect: { step: "follow", effect: "sleep", phase: "Stabilizing", trafficWeight: 0, events: ["LifecycleStage", "ProductionTraffic", "Progress"], state: { stage: "SCALE_UP", deadline: T0 + s(10) + s(300) } } },
    { name: "PRE_SCALE_UP (a hook before the new tasks start) → no stability deadline yet", from: at.follow, input: look(sd("IN_PROGRESS", "PRE_SCALE_UP")), now: T0 + s(10), expect: { step: "follow", effect: "sleep", phase: "Stabilizing", then: (st) => assert.equal(st.state.deadline, undefined) } },
    { name: "a long PRE_SCALE_UP does not eat into the stability timeout: it runs from SCALE_UP", from: () => drive(ecsManaged, at.follow(), [[look(sd("IN_PROGRESS", "PRE_SCALE_UP")), T0 + s(10)], [I.slept, T0 + s(400)]]).last.state, input: look(sd("IN_PROGRESS", "SCALE_UP")), now: T0 + s(400), expect: { step: "follow", effect: "sleep", reason: null, state: { deadline: T0 + s(400) + s(300) } } },
    { name: "stages passed between two looks are named", from: at.scalingUp, input: look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 25 })), now: T0 + s(60), expect: { phase: "Shifting", trafficWeight: 25, then: (st) => assert.match(st.record.events!.find((e) => e.type === "LifecycleStage")!.message, /PRODUCTION_TRAFFIC_SHIFT \(passed POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT since the last look\)/) } },
    { name: "BAKE_TIME → Baking", from: at.shifting, input: look(sd("IN_PROGRESS", "BAKE_TIME", { running: 4, weight: 100 })), now: T0 + s(120), expect: { effect: "sleep", phase: "Baking", trafficWeight: 100 } },
    { name: "the new tasks all running in SCALE_UP are not yet steady: the dwell starts after SCALE_UP", from: at.scalingUp, input: look(sd("IN_PROGRESS", "SCALE_UP", { running: 4 })), now: T0 + s(20), expect: { step: "follow", then: (st) => assert.equal(st.state.steadySince, undefined) } },
    { name: "a new production step → ProductionTraffic", from: at.shifting, input: look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 50 })), now: T0 + s(120), expect: { effect: "sleep", events: ["ProductionTraffic"], trafficWeight: 50 } },
    { name: "in SCALE_UP a moment before the stability deadline → keep watching", from: at.scalingUp, input: look(sd("IN_PROGRESS", "SCALE_UP", { running: 2 })), now: T0 + s(310) - 1, expect: { step: "follow", effect: "sleep", reason: null } },
    { name: "in SCALE_UP at the stability deadline → stop with rollback, StabilityTimeout", from: at.scalingUp, input: look(sd("IN_PROGRESS", "SCALE_UP", { running: 2 })), now: T0 + s(310), expect: { step: "stop", effect: "stopServiceDeployment", reason: "StabilityTimeout" } },
    { name: "still in SCALE_UP past the stability timeout → stop with rollback, StabilityTimeout", from: at.scalingUp, input: look(sd("IN_PROGRESS", "SCALE_UP", { running: 2 })), now: T0 + s(311), expect: { step: "stop", effect: "stopServiceDeployment", phase: "RollingBack", reason: "StabilityTimeout", message: /2\/4 running after 301s in SCALE_UP/ } },
    { name: "Flotilla's breaker at 5 failed tasks → stop with rollback", from: at.shifting, input: look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 3, weight: 25 }), { failures: 5 }), now: T0 + s(70), expect: { step: "stop", effect: "stopServiceDeployment", effectHas: { serviceDeploymentArn: SD2 }, phase: "RollingBack", reason: "CircuitBreakerTripped", events: ["Progress", "Failed", "StopRequested"] } },
    { name: "the depdef's alarm fires → stop with rollback, AlarmFired naming stage and weight", from: at.shifting, input: look(sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 25 }), { alarms: [alarm("web-5xx", "ALARM", "5xx above 1%")] }), now: T0 + s(70), expect: { step: "stop", reason: "AlarmFired", message: /in PRODUCTION_TRAFFIC_SHIFT at 25% of production traffic: 5xx above 1%/ } },
    { name: "ECS rolls back on its alarm → RollingBack, EcsAlarmRolledBack", from: at.shifting, input: look(sd("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 0, alarms: { status: "TRIGGERED", alarmNames: ["svc-5xx"], triggeredAlarmNames: ["svc-5xx"] } })), now: T0 + s(70), expect: { step: "follow", effect: "sleep", phase: "RollingBack", reason: "EcsAlarmRolledBack", trafficWeight: 0, events: ["ProductionTraffic", "Failed", "EcsRollingBack"] } },
    { name: "ECS's circuit breaker rolled back → EcsCircuitBreakerRolledBack", from: at.scalingUp, input: look(sd("ROLLBACK_IN_PROGRESS", "SCALE_UP", { circuitBreaker: { status: "TRIGGERED", failureCount: 3, threshold: 3 } })), now: T0 + s(20), expect: { reason: "EcsCircuitBreakerRolledBack", message: /\(3 failed tasks, threshold 3\)/ } },
    { name: "a hook failed → LifecycleHookFailed", from: at.scalingUp, input: look(sd("ROLLBACK_IN_PROGRESS", "POST_SCALE_UP", { hooks: [{ hookId: "h", targetType: "AWS_LAMBDA", targetArn: "arn:aws:lambda:us-east-1:123456789012:function:smoke", status: "FAILED" }] })), now: T0 + s(20), expect: { reason: "LifecycleHookFailed", message: /function:smoke answered FAILED in POST_SCALE_UP/ } },
    { name: "ROLLBACK_SUCCESSFUL → RolledBack, the old revision runs again; never Succeeded", from: at.shifting, input: look(sd("ROLLBACK_SUCCESSFUL", "PRODUCTION_TRAFFIC_SHIFT", { running: 0, weight: 0, rollback: { reason: "Service deployment rolled back because of invalid networking configuration." } })), now: T0 + s(70), expect: { step: "done", effect: null, phase: "RolledBack", reason: "EcsDeploymentRolledBack", message: /invalid networking configuration.*; the service runs .*web:1 again$/ } },
    { name: "STOPPED by ECS without rollback → Failed, EcsDeploymentStopped with where traffic stays", from: at.shifting, input: look(sd("STOPPED", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 25, statusReason: "Service deployment failed because CloudWatch alarm svc-5xx went into ALARM." })), now: T0 + s(70), expect: { phase: "Failed", reason: "EcsDeploymentStopped", message: /stays 25% on the new revision/ } },
    { name: "STOPPED because a newer deployment started → Superseded", from: at.shifting, input: look(sd("STOPPED", "PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 25, statusReason: "Service deployment stopped: a newer service deployment started." })), now: T0 + s(70), expect: { phase: "Failed", reason: "Superseded" } },
    { name: "ROLLBACK_FAILED on an update → RollbackFailed", from: at.shifting, input: look(sd("ROLLBACK_FAILED", "PRODUCTION_TRAFFIC_SHIFT", { weight: 25 })), now: T0 + s(70), expect: { phase: "Failed", reason: "RollbackFailed" } },
    { name: "SUCCESSFUL with the tasks steady for the dwell → Succeeded", from: at.shifting, input: look(sd("SUCCESSFUL", "CLEAN_UP", { running: 4, weight: 100 }), { failures: 0 }), now: T0 + s(500), expect: { step: "done", effect: null, phase: "Succeeded", reason: null, message: /LINEAR deployment succeeded: 4\/4 tasks of .*web:2 serve all production traffic, healthy for 440s/ } },
    { name: "DescribeServiceDeployments does not know it → stop with rollback, DescribeFailed", from: at.shifting, input: look(undefined), now: T0 + s(70), expect: { step: "stop", reason: "DescribeFailed" } },
    { name: "a PAUSE hook waits → HookAwaiting, keep looking", from: at.scalingUp, input: look(sd("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", { running: 4, hooks: [pause()] })), now: T0 + s(30), expect: { step: "follow", effect: "sleep", state: { awaiting: ["pause-1"] }, then: (st) => assert.ok(st.record.events!.some((e) => e.type === "HookAwaiting")) } },
  ];
  table(ecsManaged, rows, visited);
});

describe("ecs-managed: undoing", () => {
  const rows: Row<EcsManagedState>[] = [
    { name: "StopServiceDeployment answered → follow the rollback", from: at.stop, input: I.done, now: T0 + s(71), expect: { step: "follow", effect: "observeServiceDeployment", effectHas: { alarmNames: [] } } },
    { name: "StopServiceDeployment answers Conflict (ECS finished first) → look again", from: at.stop, input: I.error("ConflictException"), now: T0 + s(71), expect: { step: "follow", effect: "observeServiceDeployment" } },
    { name: "StopServiceDeployment refused → RollbackFailed", from: at.stop, input: I.error("AccessDeniedException"), now: T0 + s(71), expect: { phase: "Failed", reason: "RollbackFailed", message: /then StopServiceDeployment failed/ } },
    { name: "our stop came too late: ECS says SUCCESSFUL → deploy the old revision again", from: () => drive(ecsManaged, at.stop(), [[I.done, T0 + s(71)]]).last.state, input: look(sd("SUCCESSFUL", "CLEAN_UP", { running: 4, weight: 100 })), now: T0 + s(72), expect: { step: "revert", effect: "updateService", events: ["LifecycleStage", "ProductionTraffic", "Progress", "RollbackStarted"], then: (st) => assert.equal((st.effect as { request: Record<string, unknown> }).request["taskDefinition"], OLD_TD) } },
    { name: "after ECS finished, a new task failure within the dwell → deploy the old revision again", from: at.dwelling, input: look(sd("SUCCESSFUL", "CLEAN_UP", { running: 0, weight: 100 }), { failures: 5 }), now: T0 + s(50), expect: { step: "revert", effect: "updateService", phase: "RollingBack", reason: "CircuitBreakerTripped", events: ["Progress", "Failed", "RollbackStarted"] } },
    { name: "the revert's UpdateService answered → follow its service deployment", from: at.revert, input: I.service(service({ currentServiceDeployment: SD3 })), now: T0 + s(51), expect: { step: "followRevert", effect: "observeServiceDeployment", effectHas: { serviceDeploymentArn: SD3, alarmNames: [] } } },
    { name: "the revert's UpdateService refused → RollbackFailed", from: at.revert, input: I.error("InvalidParameterException"), now: T0 + s(51), expect: { phase: "Failed", reason: "RollbackFailed" } },
    { name: "the revert succeeded → RolledBack", from: at.followRevert, input: look(sd("SUCCESSFUL", "CLEAN_UP", { serviceDeploymentArn: SD3, running: 4, weight: 100 })), now: T0 + s(300), expect: { step: "done", phase: "RolledBack", reason: "CircuitBreakerTripped", message: /rolled back to .*web:1 by a new ECS deployment, which succeeded/ } },
    { name: "the revert was rolled back by ECS → RollbackFailed", from: at.followRevert, input: look(sd("ROLLBACK_SUCCESSFUL", "SCALE_UP", { serviceDeploymentArn: SD3 })), now: T0 + s(300), expect: { phase: "Failed", reason: "RollbackFailed" } },
    { name: "a first deployment that fails is scaled to 0, then Failed", from: at.scaleDown, input: I.service(service({ desiredCount: 0 })), now: T0 + s(11), expect: { step: "done", phase: "Failed", reason: "CircuitBreakerTripped", message: /the new service was scaled to 0$/ } },
    { name: "scaling to 0 refused → RollbackFailed", from: at.scaleDown, input: I.error("InvalidParameterException"), now: T0 + s(11), expect: { phase: "Failed", reason: "RollbackFailed" } },
  ];
  table(ecsManaged, rows, visited);
});

describe("ecs-managed: operator controls", () => {
  const rows: Row<EcsManagedState>[] = [
    { name: "abort before the service is changed → Aborted", from: at.checkRules, input: I.control("abort", "bob"), expect: { step: "done", phase: "Aborted", message: /^aborted by bob before the service was changed$/ } },
    { name: "abort with UpdateService about to be sent → Aborted, nothing sent", from: at.update, input: I.control("abort", "bob"), expect: { step: "done", effect: null, phase: "Aborted" } },
    { name: "abort while ECS shifts → StopServiceDeployment, reason Aborted", from: at.shifting, input: I.control("abort", "bob"), now: T0 + s(65), expect: { step: "stop", effect: "stopServiceDeployment", phase: "RollingBack", reason: "Aborted", events: ["Abort", "Failed", "StopRequested"] } },
    { name: "abort with rollback off in the depdef → still StopServiceDeployment with rollback: an abort always undoes", from: () => { const st = at.shifting(); return { ...st, spec: { ...st.spec, depdef: { ...st.spec.depdef, gmDeploymentCircuitBreaker: { ...st.spec.depdef.gmDeploymentCircuitBreaker, rollback: false } } } }; }, input: I.control("abort", "bob"), now: T0 + s(65), expect: { step: "stop", effect: "stopServiceDeployment", phase: "RollingBack", reason: "Aborted" } },
    { name: "abort while looking the deployment up → stopped once found", from: at.locate, input: I.control("abort", "bob"), expect: { step: "locate", effect: "findServiceDeployment", events: ["Abort"], state: { pendingAbort: true } } },
    { name: "abort while already stopping → noted", from: at.stop, input: I.control("abort", "bob"), now: T0 + s(71), expect: { step: "stop", effect: "stopServiceDeployment", events: ["AbortNoted"] } },
    { name: "resume at a waiting PAUSE hook → ContinueServiceDeployment CONTINUE", from: at.paused, input: I.control("resume", "carol"), now: T0 + s(31), expect: { step: "continueHook", effect: "continueServiceDeployment", effectHas: { hookId: "pause-1", action: "CONTINUE" }, events: ["Resumed"] } },
    { name: "resume with no hook waiting → ResumeIgnored, the wait goes on", from: at.shifting, input: I.control("resume", "carol"), now: T0 + s(61), expect: { step: "follow", effect: "sleep", events: ["ResumeIgnored"] } },
    { name: "promote at a waiting PAUSE hook → continue it, and every later one", from: at.paused, input: I.control("promote", "dave"), now: T0 + s(31), expect: { step: "continueHook", effect: "continueServiceDeployment", events: ["Promote"], state: { promoted: { by: "dave" } } } },
    { name: "pause → ControlIgnored: only PAUSE hooks stop ECS", from: at.shifting, input: I.control("pause", "erin"), now: T0 + s(61), expect: { step: "follow", events: ["ControlIgnored"], message: undefined, then: (st) => assert.match(st.record.events![0]!.message, /cannot pause an ECS-managed deployment/) } },
    { name: "ContinueServiceDeployment answered → HookContinued, look again", from: at.continueHook, input: I.done, now: T0 + s(32), expect: { step: "follow", effect: "observeServiceDeployment", events: ["HookContinued"], state: { awaiting: [] } } },
    { name: "ContinueServiceDeployment answers Conflict (the hook no longer waits) → carry on", from: at.continueHook, input: I.error("ConflictException"), now: T0 + s(32), expect: { step: "follow", events: ["HookContinued"] } },
    { name: "ContinueServiceDeployment refused → HookNotContinued, the hook still waits", from: at.continueHook, input: I.error("AccessDeniedException"), now: T0 + s(32), expect: { step: "follow", effect: "sleep", events: ["HookNotContinued"] } },
  ];
  table(ecsManaged, rows, visited);

  it("a promoted deployment continues the next PAUSE hook without being asked", () => {
    const promoted = drive(ecsManaged, at.paused(), [[I.control("promote", "dave"), T0 + s(31)], [I.done, T0 + s(32)]]).last.state;
    const { last } = drive(ecsManaged, promoted, [[look(sd("IN_PROGRESS", "POST_PRODUCTION_TRAFFIC_SHIFT", { running: 4, weight: 100, hooks: [{ hookId: "pause-2", targetType: "PAUSE", status: "AWAITING_ACTION" }] })), T0 + s(200)]]);
    assert.equal(last.effect?.type, "continueServiceDeployment");
    assert.equal((last.effect as { hookId: string }).hookId, "pause-2");
  });
});

describe("ecs-managed: after a restart", () => {
  const rows: Row<EcsManagedState>[] = [
    { name: "UpdateService may have been sent → look its service deployment up before repeating it", from: at.update, input: I.resume, expect: { step: "locate", effect: "findServiceDeployment", events: ["Resumed"], state: { resend: { step: "update", effect: at.update().inFlight } } } },
    { name: "found after the restart → follow it, UpdateService not repeated", from: () => drive(ecsManaged, at.update(), [[I.resume, T0 + s(5)]]).last.state, input: found(SD2), now: T0 + s(5), expect: { step: "follow", effect: "observeServiceDeployment", events: ["Resumed", "ServiceDeploymentStarted"] } },
    { name: "not found after the restart → UpdateService again", from: () => drive(ecsManaged, at.update(), [[I.resume, T0 + s(5)]]).last.state, input: found(), now: T0 + s(5), expect: { step: "update", effect: "updateService", events: ["Resumed"] } },
    { name: "a look in flight → repeat it", from: at.follow, input: I.resume, expect: { step: "follow", effect: "observeServiceDeployment", events: ["Resumed"] } },
    { name: "StopServiceDeployment in flight → send it again (a repeat answers Conflict)", from: at.stop, input: I.resume, expect: { step: "stop", effect: "stopServiceDeployment" } },
    { name: "a finished deployment takes no more input", from: () => drive(ecsManaged, at.shifting(), [[look(sd("ROLLBACK_SUCCESSFUL", "PRODUCTION_TRAFFIC_SHIFT")), T0 + s(70)]]).last.state, input: I.slept, expect: { step: "done", effect: null, phase: null } },
  ];
  table(ecsManaged, rows, visited);
  it("the all-at-once override sends a 100% step, skip-alarms turns ECS's alarms off, for this deployment only", () => {
    const sp = spec({ svcdef: { deploymentConfiguration: { strategy: "LINEAR", bakeTimeInMinutes: 5, linearConfiguration: { stepPercent: 25 }, alarms: { alarmNames: ["svc-5xx"], enable: true, rollback: true } } } });
    const st = run(sp, [[I.start, T0], [I.service(live), T0], [I.routes([rule()]), T0], [I.targetGroups(10), T0]], ["all-at-once", "skip-alarms"]);
    const { last } = drive(ecsManaged, st, [[I.taskDefinition(), T0]]);
    const dc = (last.effect as { request: Record<string, unknown> }).request["deploymentConfiguration"] as Record<string, unknown>;
    assert.deepEqual(dc["linearConfiguration"], { stepPercent: 100, stepBakeTimeInMinutes: 0 });
    assert.deepEqual(dc["alarms"], { alarmNames: ["svc-5xx"], enable: false, rollback: true });
    assert.deepEqual((sp.svcdef["deploymentConfiguration"] as Record<string, unknown>)["linearConfiguration"], { stepPercent: 25 }, "the spec itself is untouched");
  });
});

everyStepVisited(STEPS, visited);
