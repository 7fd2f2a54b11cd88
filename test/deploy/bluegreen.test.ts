/**
 * The blue/green machine (src/deploy/bluegreen.ts), called directly: for every step, each kind of
 * answer and what the machine does next, on the simulated clock (each input is fed at its instant).
 *
 * The scenario unless a row says otherwise: service web (EXTERNAL) in apps, 4 tasks, blue on
 * web-blue running revision 1, green on web-green gets revision 2; a listener with weights and a
 * path rule forwarding to blue; CANARY 20% then 100%, 60 s apart; alarm web-5xx; poll 10 s,
 * stability timeout 300 s, breaker at 5 failed tasks, no health checks (dwell 30 s), no bake.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { blueGreen, startBlueGreen, type BlueGreenState, type OverrideName } from "../../src/deploy/bluegreen.ts";
import type { Input } from "../../src/deploy/machine.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import type { TaskSet } from "../../src/aws/ports.ts";
import { BLUE_TG, GREEN_TG, I, LISTENER, NEW_TD, OLD_TD, RULE, T0, alarm, bgSpec, blueSet, drive, effectOf, everyStepVisited, next, routes, s, service, table, taskDefinition, taskSet, type Row } from "./harness.ts";

const STEPS = [
  "inspect",
  "waitDraining",
  "checkAlarms",
  "register",
  "resolveTaskDefinition",
  "createService",
  "confirmService",
  "scaleService",
  "readTaskSets",
  "discover",
  "createGreen",
  "confirmGreen",
  "waitGreen",
  "shift",
  "wait",
  "promotePrimary",
  "confirmPrimary",
  "deleteBlue",
  "confirmBlueGone",
  "restoreBlue",
  "deleteGreen",
  "confirmGreenGone",
  "done",
] as const satisfies readonly BlueGreenState["step"][];
// A step added to the machine must be added here (and get rows): this fails to compile otherwise.
const _allSteps: Exclude<BlueGreenState["step"], (typeof STEPS)[number]> extends never ? true : never = true;
void _allSteps;

const visited = new Set<string>();
const TOKEN = "token-1";
const GREEN = "ecs-svc/green";
const BLUE = "ecs-svc/blue";

const live = (over = {}) => service({ deploymentController: { type: "EXTERNAL" }, deployments: [], ...over });
/** Green as ECS shows it; steady when `running` reaches 4 and ECS says STEADY_STATE. */
const green = (over: Partial<TaskSet> = {}) => taskSet({ externalId: TOKEN, ...over });
const steadyGreen = (over: Partial<TaskSet> = {}) => green({ runningCount: 4, stabilityStatus: "STEADY_STATE", ...over });
/** One watch round: green as given, the routes at `weight` (as Flotilla set them), alarms OK unless given. */
function observed(o: { green?: TaskSet | null; weight?: number; routes?: ReturnType<typeof routes>; alarms?: ReturnType<typeof alarm>[]; failures?: { count: number; lastReason?: string } } = {}): Input {
  const sets = o.green === null ? [blueSet()] : [blueSet(), o.green ?? steadyGreen()];
  const w = o.weight ?? 0;
  return I.observed({ alarms: o.alarms ?? [alarm("web-5xx")], routes: o.routes ?? routes(w, w), taskSets: sets, ...(o.failures ? { failures: o.failures } : {}) });
}

function run(spec: DeploySpec, script: [Input, number][], overrides: OverrideName[] = []): BlueGreenState {
  return drive(blueGreen, startBlueGreen(spec, TOKEN, overrides), script).last.state;
}
const from = (state: BlueGreenState, script: [Input, number][]) => drive(blueGreen, state, script).last.state;

const noTaskdef = (): DeploySpec => {
  const { taskdef: _none, ...spec } = bgSpec({ svcdef: { taskDefinition: "web:7" } });
  return spec;
};
const firing = (reason = "5xx > 10") => alarm("web-5xx", "ALARM", reason);

/** States the rows start from, reached by driving the machine from its start (an update unless named otherwise). */
const at = {
  start: (spec = bgSpec(), overrides: OverrideName[] = []) => startBlueGreen(spec, TOKEN, overrides),
  inspect: (spec = bgSpec(), overrides: OverrideName[] = []) => run(spec, [[I.start, T0]], overrides),
  draining: () => from(at.inspect(), [[I.service(live({ status: "DRAINING" })), T0]]),
  checkAlarms: (mode: "update" | "create" = "update") => from(at.inspect(), [[I.service(mode === "update" ? live() : undefined), T0]]),
  register: (spec = bgSpec()) => from(at.inspect(spec), [[I.service(live()), T0], [I.alarms(alarm("web-5xx")), T0]]),
  createService: () => from(at.checkAlarms("create"), [[I.alarms(alarm("web-5xx")), T0], [I.taskDefinition(), T0]]),
  confirmService: () => next(blueGreen, at.createService(), I.resume, T0 + s(1)).state,
  scaleService: (spec = bgSpec()) => from(at.register(spec), [[I.taskDefinition(), T0]]),
  readTaskSets: (spec = bgSpec()) => from(at.scaleService(spec), [[I.service(live()), T0]]),
  discover: (spec = bgSpec()) => from(at.readTaskSets(spec), [[I.taskSets(blueSet()), T0]]),
  createGreen: (spec = bgSpec()) => from(at.discover(spec), [[I.routes(routes(0)), T0]]),
  confirmGreen: () => next(blueGreen, at.createGreen(), I.resume, T0 + s(1)).state,
  /** Green created at T0: its deadline is T0 + 300 s. */
  waitGreen: (spec = bgSpec()) => from(at.createGreen(spec), [[I.taskSet(green()), T0]]),
  /** Green seen steady first at T0 + 10 s. */
  steadyGreen: (spec = bgSpec()) => from(at.waitGreen(spec), [[observed(), T0 + s(10)]]),
  /** Green stable at T0 + 40 s: shifting 20% (setRoutes in flight). */
  shift: (spec = bgSpec()) => from(at.steadyGreen(spec), [[observed(), T0 + s(40)]]),
  /** 20% on green since T0 + 41 s: waiting until T0 + 101 s. */
  wait: (spec = bgSpec()) => from(at.shift(spec), [[I.done, T0 + s(41)]]),
  /** 100% on green since T0 + 102 s: the last wait, until T0 + 162 s. */
  waitAt100: (spec = bgSpec()) => from(at.wait(spec), [[observed({ weight: 20 }), T0 + s(101)], [I.done, T0 + s(102)]]),
  promotePrimary: () => from(at.waitAt100(), [[observed({ weight: 100 }), T0 + s(162)]]),
  confirmPrimary: () => from(at.promotePrimary(), [[I.taskSet(steadyGreen({ status: "PRIMARY" })), T0 + s(163)]]),
  deleteBlue: () => from(at.confirmPrimary(), [[I.taskSets(blueSet({ status: "ACTIVE" }), steadyGreen({ status: "PRIMARY" })), T0 + s(163)]]),
  confirmBlueGone: () => from(at.deleteBlue(), [[I.error("ClientException", "The specified task set is in use"), T0 + s(164)]]),
  /** An alarm fired at 20% (T0 + 60 s): setRoutes back to blue in flight. */
  restoreBlue: (spec = bgSpec()) => from(at.wait(spec), [[observed({ weight: 20, alarms: [firing()] }), T0 + s(60)]]),
  deleteGreen: () => from(at.restoreBlue(), [[I.done, T0 + s(61)]]),
  confirmGreenGone: () => from(at.deleteGreen(), [[I.error("ClientException", "busy"), T0 + s(62)]]),
  done: () => from(at.deleteBlue(), [[I.done, T0 + s(164)]]),
};

const rows: Row<BlueGreenState>[] = [
  // inspect
  { name: "inspect, start → describe, Deploying, Started (with the overrides)", from: () => at.start(bgSpec(), ["skip-alarms"]), input: I.start, expect: { step: "inspect", effect: "describeService", phase: "Deploying", events: ["Started"], then: (st) => assert.match(st.record.events![0]!.message, /, overrides: skip-alarms$/) } },
  { name: "inspect, cluster missing → Failed ClusterNotFound", from: () => at.inspect(), input: I.error("ClusterNotFoundException", "Cluster not found."), expect: { step: "done", effect: null, phase: "Failed", reason: "ClusterNotFound" } },
  { name: "inspect, another error → Failed DescribeFailed", from: () => at.inspect(), input: I.error("AccessDeniedException", "no"), expect: { phase: "Failed", reason: "DescribeFailed" } },
  { name: "inspect, an unexpected answer → describe again", from: () => at.inspect(), input: I.slept, expect: { step: "inspect", effect: "describeService" } },
  { name: "inspect, DRAINING → wait a poll, WaitingForDrain", from: () => at.inspect(), input: I.service(live({ status: "DRAINING" })), expect: { step: "waitDraining", effect: "sleep", effectHas: { ms: s(10) }, events: ["WaitingForDrain"], state: { deadline: T0 } } },
  { name: "inspect, still DRAINING at the timeout → wait again, no second event", from: () => from(at.draining(), [[I.slept, T0 + s(300)]]), input: I.service(live({ status: "DRAINING" })), now: T0 + s(300), expect: { step: "waitDraining", effect: "sleep", events: [] } },
  { name: "inspect, still DRAINING past the timeout → Failed ServiceStillDraining", from: () => from(at.draining(), [[I.slept, T0 + s(301)]]), input: I.service(live({ status: "DRAINING" })), now: T0 + s(301), expect: { step: "done", effect: null, phase: "Failed", reason: "ServiceStillDraining" } },
  { name: "inspect, ACTIVE under the ECS controller → Failed NotUpdatableInPlace", from: () => at.inspect(), input: I.service(service()), expect: { step: "done", effect: null, phase: "Failed", reason: "NotUpdatableInPlace", message: /uses the ECS deployment controller/ } },
  { name: "inspect, ACTIVE EXTERNAL → update: check the alarms first", from: () => at.inspect(), input: I.service(live()), expect: { step: "checkAlarms", effect: "describeAlarms", effectHas: { alarmNames: ["web-5xx"] }, state: { mode: "update", oldTaskDefinitionArn: OLD_TD } } },
  { name: "inspect, missing → create: check the alarms", from: () => at.inspect(), input: I.service(undefined), expect: { step: "checkAlarms", effect: "describeAlarms", state: { mode: "create" } } },
  { name: "inspect, INACTIVE after DRAINING → create, the drain wait forgotten", from: () => from(at.draining(), [[I.slept, T0 + s(10)]]), input: I.service(live({ status: "INACTIVE" })), now: T0 + s(10), expect: { step: "checkAlarms", state: { mode: "create", deadline: undefined } } },
  { name: "inspect, skip-alarms → no alarm check: register", from: () => at.inspect(bgSpec(), ["skip-alarms"]), input: I.service(live()), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering" } },
  { name: "inspect, no alarms named → register", from: () => at.inspect(bgSpec({ depdef: { alarms: { alarmNames: [] } } })), input: I.service(live()), expect: { step: "register", effect: "registerTaskDefinition" } },
  // waitDraining
  { name: "waitDraining, slept → describe again", from: at.draining, input: I.slept, now: T0 + s(10), expect: { step: "inspect", effect: "describeService" } },
  // checkAlarms
  { name: "checkAlarms, all OK → register the taskdef, the old revision on the record", from: () => at.checkAlarms(), input: I.alarms(alarm("web-5xx")), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering", then: (st) => assert.equal(st.record.oldTaskDefinitionArn, OLD_TD) } },
  { name: "checkAlarms, no taskdef file → describe the svcdef's taskDefinition", from: () => from(at.inspect(noTaskdef()), [[I.service(live()), T0]]), input: I.alarms(alarm("web-5xx")), expect: { step: "resolveTaskDefinition", effect: "describeTaskDefinition", effectHas: { taskDefinition: "web:7" } } },
  { name: "checkAlarms, an alarm in ALARM before an update → Failed AlarmFiringBeforeStart, nothing changed", from: () => at.checkAlarms(), input: I.alarms(firing()), expect: { step: "done", effect: null, phase: "Failed", reason: "AlarmFiringBeforeStart", message: /^alarm web-5xx is already in ALARM/ } },
  { name: "checkAlarms, an alarm in ALARM before a first creation → no pre-check: register", from: () => at.checkAlarms("create"), input: I.alarms(firing()), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering" } },
  { name: "checkAlarms, an alarm missing → Failed AlarmNotFound", from: () => at.checkAlarms(), input: I.alarms(), expect: { step: "done", phase: "Failed", reason: "AlarmNotFound", message: /^alarm web-5xx does not exist in us-east-1; nothing was changed$/ } },
  { name: "checkAlarms, two alarms missing → named both", from: () => from(at.inspect(bgSpec({ depdef: { alarms: { alarmNames: ["a", "b"] } } })), [[I.service(live()), T0]]), input: I.alarms(), expect: { reason: "AlarmNotFound", message: /^alarms a, b do not exist/ } },
  { name: "checkAlarms, DescribeAlarms refused → Failed DescribeAlarmsFailed", from: () => at.checkAlarms(), input: I.error("AccessDenied", "no"), expect: { step: "done", phase: "Failed", reason: "DescribeAlarmsFailed" } },
  // register / resolveTaskDefinition
  { name: "register, registered (update) → UpdateService desiredCount to the svcdef's, TaskDefinitionRegistered", from: () => at.register(), input: I.taskDefinition(), expect: { step: "scaleService", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", desiredCount: 4 } }, phase: "Deploying", events: ["TaskDefinitionRegistered"], state: { newTaskDefinitionArn: NEW_TD } } },
  { name: "register, registered (update, no desiredCount in the svcdef) → read the task sets", from: () => at.register(bgSpec({ svcdef: { desiredCount: undefined } })), input: I.taskDefinition(), expect: { step: "readTaskSets", effect: "describeTaskSets" } },
  { name: "register, registered (create) → CreateService with service-level fields only and the token", from: () => from(at.checkAlarms("create"), [[I.alarms(alarm("web-5xx")), T0]]), input: I.taskDefinition(), expect: { step: "createService", effect: "createService", then: (st) => assert.deepEqual(effectOf(st, "createService").request, { clientToken: TOKEN, cluster: "apps", serviceName: "web", desiredCount: 4, deploymentController: { type: "EXTERNAL" } }) } },
  { name: "register (create) without a load balancer → CreateService leaves out the grace period (ECS refuses it there)", from: () => from(at.inspect(bgSpec({ svcdef: { loadBalancers: [], healthCheckGracePeriodSeconds: 60 } })), [[I.service(undefined), T0], [I.alarms(alarm("web-5xx")), T0]]), input: I.taskDefinition(), expect: { step: "createService", then: (st) => assert.equal(effectOf(st, "createService").request["healthCheckGracePeriodSeconds"], undefined) } },
  { name: "register (create) with a load balancer → CreateService keeps the grace period", from: () => from(at.inspect(bgSpec({ svcdef: { healthCheckGracePeriodSeconds: 60 } })), [[I.service(undefined), T0], [I.alarms(alarm("web-5xx")), T0]]), input: I.taskDefinition(), expect: { step: "createService", then: (st) => assert.equal(effectOf(st, "createService").request["healthCheckGracePeriodSeconds"], 60) } },
  { name: "register, refused → Failed TaskDefinitionRejected", from: () => at.register(), input: I.error("ClientException", "bad"), expect: { step: "done", effect: null, phase: "Failed", reason: "TaskDefinitionRejected", message: /^RegisterTaskDefinition failed/ } },
  { name: "resolveTaskDefinition, found → on, with its containers' health checks for the dwell; no TaskDefinitionRegistered", from: () => at.register(noTaskdef()), input: I.taskDefinition(taskDefinition("arn:td/web:7", { containerDefinitions: [{ name: "app", healthCheck: { interval: 45 } }] })), expect: { step: "scaleService", events: [], state: { newTaskDefinitionArn: "arn:td/web:7", healthCheckIntervals: [45] } } },
  { name: "resolveTaskDefinition, an error → Failed TaskDefinitionRejected (DescribeTaskDefinition)", from: () => at.register(noTaskdef()), input: I.error("ClientException", "no such revision"), expect: { phase: "Failed", reason: "TaskDefinitionRejected", message: /^DescribeTaskDefinition failed/ } },
  // createService / confirmService
  { name: "createService, answered → create green on the svcdef's target group", from: at.createService, input: I.service(live()), expect: { step: "createGreen", effect: "createTaskSet", events: ["ServiceCreated"], then: (st) => assert.deepEqual(effectOf(st, "createTaskSet").input.loadBalancers, [{ targetGroupArn: BLUE_TG, containerName: "app", containerPort: 8080 }]) } },
  { name: "createService, refused → Failed CreateServiceRejected", from: at.createService, input: I.error("InvalidParameterException", "bad"), expect: { step: "done", effect: null, phase: "Failed", reason: "CreateServiceRejected" } },
  { name: "restart during CreateService → confirmService: describe first", from: at.createService, input: I.resume, now: T0 + s(1), expect: { step: "confirmService", effect: "describeService", events: ["Resumed"] } },
  { name: "confirmService, it exists → read the task sets", from: at.confirmService, input: I.service(live()), now: T0 + s(2), expect: { step: "readTaskSets", effect: "describeTaskSets" } },
  { name: "confirmService, not created → CreateService again with the same token", from: at.confirmService, input: I.service(undefined), now: T0 + s(2), expect: { step: "createService", effect: "createService", then: (st) => assert.equal(effectOf(st, "createService").request["clientToken"], TOKEN) } },
  { name: "confirmService, an error → describe again", from: at.confirmService, input: I.error("ClientException", "x"), now: T0 + s(2), expect: { step: "confirmService", effect: "describeService" } },
  // scaleService
  { name: "scaleService, answered → read the task sets", from: () => at.scaleService(), input: I.service(live()), expect: { step: "readTaskSets", effect: "describeTaskSets", effectHas: { cluster: "apps", service: "web" } } },
  { name: "scaleService, refused → Failed UpdateServiceRejected", from: () => at.scaleService(), input: I.error("InvalidParameterException", "no"), expect: { step: "done", effect: null, phase: "Failed", reason: "UpdateServiceRejected" } },
  // readTaskSets
  { name: "readTaskSets, blue found → pair web-blue with web-green, discover the routes to both", from: () => at.readTaskSets(), input: I.taskSets(blueSet()), expect: { step: "discover", effect: "discoverRoutes", effectHas: { targetGroupArns: [BLUE_TG, GREEN_TG] }, state: { blue: { id: BLUE, taskDefinition: OLD_TD, targetGroups: [BLUE_TG] }, pairs: [{ blue: BLUE_TG, green: GREEN_TG }] }, then: (st) => assert.equal(st.record.oldTaskDefinitionArn, OLD_TD) } },
  { name: "readTaskSets, blue on the pair's second member → green is the first", from: () => at.readTaskSets(), input: I.taskSets(blueSet({ loadBalancers: [{ targetGroupArn: GREEN_TG }] })), expect: { state: { pairs: [{ blue: GREEN_TG, green: BLUE_TG }] } } },
  { name: "readTaskSets, DRAINING sets (an old deployment's) are not foreign", from: () => at.readTaskSets(), input: I.taskSets(blueSet(), taskSet({ id: "ecs-svc/old", status: "DRAINING" })), expect: { step: "discover" } },
  { name: "readTaskSets, a foreign active set → Failed ForeignTaskSet saying what was done so far", from: () => at.readTaskSets(), input: I.taskSets(blueSet(), taskSet({ id: "ecs-svc/other", status: "ACTIVE", externalId: "someone-else" })), expect: { step: "done", effect: null, phase: "Failed", reason: "ForeignTaskSet", message: /^task set ecs-svc\/other is active beside the primary task set ecs-svc\/blue \(.*registered task definition .*web:2 .*; UpdateService set the service's desiredCount to 4; no task set or traffic was touched — delete it or wait for it/ } },
  { name: "readTaskSets, a foreign active set and no PRIMARY set (a first deployment that failed or runs) → Failed ForeignTaskSet saying there is no primary", from: () => at.readTaskSets(), input: I.taskSets(taskSet({ id: "ecs-svc/other", status: "ACTIVE", externalId: "someone-else" })), expect: { step: "done", effect: null, phase: "Failed", reason: "ForeignTaskSet", message: /^task set ecs-svc\/other is active and the service has no PRIMARY task set \(/, then: (st) => assert.doesNotMatch(st.record.message ?? "", /beside/) } },
  { name: "readTaskSets, two foreign sets → both named, in the plural", from: () => at.readTaskSets(), input: I.taskSets(blueSet(), taskSet({ id: "ecs-svc/a", externalId: "x" }), taskSet({ id: "ecs-svc/b", externalId: "y" })), expect: { reason: "ForeignTaskSet", message: /^task sets ecs-svc\/a, ecs-svc\/b are active beside the primary task set ecs-svc\/blue .* — delete them or wait for them/ } },
  { name: "readTaskSets, blue on a target group in no pair → Failed TargetGroupNotInPairs", from: () => at.readTaskSets(), input: I.taskSets(blueSet({ loadBalancers: [{ targetGroupArn: "arn:tg/other" }] })), expect: { phase: "Failed", reason: "TargetGroupNotInPairs", message: /arn:tg\/other/ } },
  { name: "readTaskSets, our green already there (a restart) → discover the routes, keep it", from: () => at.readTaskSets(), input: I.taskSets(blueSet(), green()), expect: { step: "discover", effect: "discoverRoutes", state: { green: { id: GREEN, taskDefinition: NEW_TD, targetGroups: [GREEN_TG] } } } },
  { name: "readTaskSets, no load balancer and our green there → watch green", from: () => at.readTaskSets(bgSpec({ svcdef: { loadBalancers: [] } })), input: I.taskSets(blueSet({ loadBalancers: [] }), green({ loadBalancers: [], createdAt: T0 - s(5) })), expect: { step: "waitGreen", effect: "sleep", phase: "Stabilizing", state: { greenSince: T0 - s(5) } } },
  { name: "readTaskSets, no load balancer → create green at once", from: () => at.readTaskSets(bgSpec({ svcdef: { loadBalancers: [] } })), input: I.taskSets(blueSet({ loadBalancers: [] })), expect: { step: "createGreen", effect: "createTaskSet", then: (st) => assert.equal(effectOf(st, "createTaskSet").input.loadBalancers, undefined) } },
  { name: "readTaskSets, an error → Failed DescribeFailed", from: () => at.readTaskSets(), input: I.error("ClientException", "x"), expect: { step: "done", phase: "Failed", reason: "DescribeFailed" } },
  // discover
  { name: "discover, routes found → create green on web-green with the svcdef's task-set fields and the token", from: () => at.discover(), input: I.routes(routes(0), [15]), expect: { step: "createGreen", effect: "createTaskSet", phase: "Deploying", state: { routes: routes(0), healthCheckIntervals: [15] }, then: (st) => assert.deepEqual(effectOf(st, "createTaskSet").input, { cluster: "apps", service: "web", taskDefinition: NEW_TD, externalId: TOKEN, scale: { value: 100, unit: "PERCENT" }, loadBalancers: [{ targetGroupArn: GREEN_TG, containerName: "app", containerPort: 8080 }], launchType: "FARGATE" }) } },
  { name: "discover, an awsvpc svcdef → green gets its network configuration and platform version (they belong to task sets, not the service)", from: () => at.discover(bgSpec({ svcdef: { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } }, platformVersion: "1.4.0" } })), input: I.routes(routes(0)), expect: { step: "createGreen", then: (st) => { const input = effectOf(st, "createTaskSet").input as unknown as Record<string, unknown>; assert.deepEqual(input["networkConfiguration"], { awsvpcConfiguration: { subnets: ["subnet-1"] } }); assert.equal(input["platformVersion"], "1.4.0"); } } },
  { name: "discover, a route already sends traffic to green's target group → Failed TrafficAlreadyOnGreen", from: () => at.discover(), input: I.routes(routes(10)), expect: { step: "done", effect: null, phase: "Failed", reason: "TrafficAlreadyOnGreen", message: new RegExp(`^listener ${LISTENER} already sends traffic to ${GREEN_TG}`) } },
  { name: "discover, no routes → NoRoutes, create green", from: () => at.discover(), input: I.routes([]), expect: { step: "createGreen", effect: "createTaskSet", events: ["NoRoutes"] } },
  { name: "discover, our green exists (a restart) → traffic on it is ours: watch green", from: () => from(at.readTaskSets(), [[I.taskSets(blueSet(), green()), T0]]), input: I.routes(routes(10, 10)), expect: { step: "waitGreen", effect: "sleep", phase: "Stabilizing" } },
  { name: "discover, an error → Failed DescribeFailed (listeners)", from: () => at.discover(), input: I.error("AccessDenied", "no"), expect: { step: "done", phase: "Failed", reason: "DescribeFailed", message: /^reading the listeners failed/ } },
  // createGreen / confirmGreen
  { name: "createGreen, created → watch it: Stabilizing, GreenCreated, deadline 300 s out", from: () => at.createGreen(), input: I.taskSet(green()), expect: { step: "waitGreen", effect: "sleep", effectHas: { ms: s(10) }, phase: "Stabilizing", events: ["GreenCreated"], state: { green: { id: GREEN, taskDefinition: NEW_TD, targetGroups: [GREEN_TG] }, greenSince: T0, deadline: T0 + s(300) } } },
  { name: "createGreen, with 20 tasks at 30 s each → deadline 600 s out", from: () => at.createGreen(bgSpec({ svcdef: { desiredCount: 20 }, depdef: { stabilityCheck: { pollInterval: 10, timeout: 300, timeoutPerTask: 30 } } })), input: I.taskSet(green()), expect: { state: { deadline: T0 + s(600) } } },
  { name: "createGreen, refused → Failed CreateTaskSetRejected (no green, nothing to undo)", from: () => at.createGreen(), input: I.error("InvalidParameterException", "bad"), expect: { step: "done", effect: null, phase: "Failed", reason: "CreateTaskSetRejected" } },
  { name: "restart during CreateTaskSet → confirmGreen: read the task sets first", from: () => at.createGreen(), input: I.resume, now: T0 + s(1), expect: { step: "confirmGreen", effect: "describeTaskSets", events: ["Resumed"] } },
  { name: "confirmGreen, ours is there → adopt it", from: at.confirmGreen, input: I.taskSets(blueSet(), green()), now: T0 + s(2), expect: { step: "waitGreen", effect: "sleep", events: ["Resumed", "GreenCreated"], state: { green: { id: GREEN, taskDefinition: NEW_TD, targetGroups: [GREEN_TG] } } } },
  { name: "confirmGreen, only someone else's set of the same revision → not ours: CreateTaskSet again", from: at.confirmGreen, input: I.taskSets(blueSet(), green({ id: "ecs-svc/theirs", externalId: "another-deployment" })), now: T0 + s(2), expect: { step: "createGreen", effect: "createTaskSet", state: { green: undefined } } },
  { name: "confirmGreen, not there → CreateTaskSet again", from: at.confirmGreen, input: I.taskSets(blueSet()), now: T0 + s(2), expect: { step: "createGreen", effect: "createTaskSet", events: ["Resumed"] } },
  { name: "confirmGreen, an error → read again", from: at.confirmGreen, input: I.error("ClientException", "x"), now: T0 + s(2), expect: { step: "confirmGreen", effect: "describeTaskSets" } },
  // waitGreen
  { name: "waitGreen, slept → watch round: no alarms yet, no routes (read around shifts only), green's failed tasks since it was created", from: () => at.waitGreen(), input: I.slept, now: T0 + s(10), expect: { step: "waitGreen", effect: "observeBlueGreen", effectHas: { alarmNames: [], routes: undefined, failuresOf: { taskSet: GREEN, taskDefinition: NEW_TD, since: T0 } } } },
  { name: "waitGreen, stabilising → Progress, poll again", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 2, pendingCount: 2 }) }), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep", effectHas: { ms: s(10) }, phase: null, events: ["Progress"], counts: { desired: 4, running: 2, pending: 2, failed: 0 } } },
  { name: "waitGreen, first steady round → not stable yet: watch for the dwell", from: () => at.waitGreen(), input: observed(), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep", effectHas: { ms: s(10) }, phase: null, state: { steadySince: T0 + s(10), steadyFailed: 0 } } },
  { name: "waitGreen, steady inside the dwell → poll again", from: () => at.steadyGreen(), input: observed(), now: T0 + s(30), expect: { step: "waitGreen", effect: "sleep", effectHas: { ms: s(10) }, phase: null } },
  { name: "waitGreen, steady 1 ms before the dwell ends → sleep the 1 ms", from: () => at.steadyGreen(), input: observed(), now: T0 + s(40) - 1, expect: { step: "waitGreen", effect: "sleep", effectHas: { ms: 1 }, phase: null } },
  { name: "waitGreen, steady for the dwell → GreenStable, shift the first step (20%)", from: () => at.steadyGreen(), input: observed(), now: T0 + s(40), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(20, 20) }, phase: "Shifting", trafficWeight: 20, events: ["GreenStable", "Shifted"], state: { steps: [20, 100], stepIndex: 0, weight: 20, steadySince: undefined }, then: (st) => assert.match(st.record.events![0]!.message, /^green is stable: 4\/4 tasks running and healthy for 30s$/) } },
  { name: "waitGreen, 4/4 running but ECS still STABILIZING → not steady", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 4, stabilityStatus: "STABILIZING" }) }), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep", state: { steadySince: undefined } } },
  { name: "waitGreen, steady, then STABILIZING again → the steady run starts over", from: () => at.steadyGreen(), input: observed({ green: green({ runningCount: 4, stabilityStatus: "STABILIZING" }) }), now: T0 + s(40), expect: { step: "waitGreen", phase: null, state: { steadySince: undefined } } },
  { name: "waitGreen, STEADY_STATE at 3/4 → not steady", from: () => at.waitGreen(), input: observed({ green: steadyGreen({ runningCount: 3 }) }), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  { name: "waitGreen, STEADY_STATE at 0/0 → not steady (a set with no tasks proves nothing)", from: () => at.waitGreen(), input: observed({ green: steadyGreen({ runningCount: 0, computedDesiredCount: 0 }) }), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  { name: "waitGreen, running not reported → not steady", from: () => at.waitGreen(), input: observed({ green: steadyGreen({ runningCount: undefined }) }), now: T0 + s(10), expect: { state: { steadySince: undefined }, then: (st) => assert.match(st.record.events![0]!.message, /ECS did not report the task set's counts/) } },
  { name: "waitGreen, no computedDesiredCount → the svcdef's 4 × scale: 4 running is steady", from: () => at.waitGreen(), input: observed({ green: steadyGreen({ computedDesiredCount: undefined }) }), now: T0 + s(10), expect: { state: { steadySince: T0 + s(10) } } },
  { name: "waitGreen, no computedDesiredCount at scale 50% → ceil(4 × 50%) = 2 running is steady", from: () => at.waitGreen(), input: observed({ green: steadyGreen({ computedDesiredCount: undefined, runningCount: 2, scale: { value: 50, unit: "PERCENT" } }) }), now: T0 + s(10), expect: { state: { steadySince: T0 + s(10) }, counts: { desired: 2 } } },
  { name: "waitGreen, no computedDesiredCount, 5 tasks at scale 50% → ceil(2.5) = 3: 2 running is not steady", from: () => at.waitGreen(bgSpec({ svcdef: { desiredCount: 5 } })), input: observed({ green: steadyGreen({ computedDesiredCount: undefined, runningCount: 2, scale: { value: 50, unit: "PERCENT" } }) }), now: T0 + s(10), expect: { state: { steadySince: undefined }, counts: { desired: 3 } } },
  { name: "waitGreen, a green task failed during the dwell → the steady run starts over", from: () => at.steadyGreen(), input: observed({ failures: { count: 1 } }), now: T0 + s(40), expect: { step: "waitGreen", phase: null, state: { steadySince: undefined } } },
  { name: "waitGreen, 4 green tasks failed (threshold 5) → not yet", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 1 }), failures: { count: 4 } }), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep", counts: { failed: 4 } } },
  { name: "waitGreen, 5 green tasks failed → CircuitBreakerTripped at the threshold; green deleted (no traffic moved)", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 1 }), failures: { count: 5, lastReason: "OutOfMemory" } }), now: T0 + s(10), expect: { step: "deleteGreen", effect: "deleteTaskSet", effectHas: { taskSet: GREEN }, phase: "RollingBack", reason: "CircuitBreakerTripped", message: /^5 green tasks failed \(Flotilla's circuit breaker threshold is 5\); last: OutOfMemory$/, events: ["Progress", "Failed"], trafficWeight: 0 } },
  { name: "waitGreen, 25% of 10: 2 failed → not yet", from: () => at.waitGreen(bgSpec({ svcdef: { desiredCount: 10 }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 25 } } })), input: observed({ green: green({ computedDesiredCount: 10, runningCount: 1 }), failures: { count: 2 } }), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep" } },
  { name: "waitGreen, 25% of 10: 3 failed → trips (ceil, not floor)", from: () => at.waitGreen(bgSpec({ svcdef: { desiredCount: 10 }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 25 } } })), input: observed({ green: green({ computedDesiredCount: 10, runningCount: 1 }), failures: { count: 3 } }), now: T0 + s(10), expect: { reason: "CircuitBreakerTripped", message: /threshold is 3\)/ } },
  { name: "waitGreen, breaker off → failures recorded, never tripped", from: () => at.waitGreen(bgSpec({ depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } })), input: observed({ green: green({ runningCount: 1 }), failures: { count: 40 } }), now: T0 + s(10), expect: { step: "waitGreen", effect: "sleep", counts: { failed: 40 } } },
  { name: "waitGreen, deleteNewUponFailure false → green kept with no traffic, RolledBack", from: () => at.waitGreen(bgSpec({ depdef: { deleteNewUponFailure: false } })), input: observed({ green: green({ runningCount: 1 }), failures: { count: 5 } }), now: T0 + s(10), expect: { step: "done", effect: null, phase: "RolledBack", reason: "CircuitBreakerTripped", message: /; blue serves all traffic; the green task set ecs-svc\/green is kept with no traffic \(deleteNewUponFailure is false\)$/ } },
  { name: "waitGreen, LINEAR 25% → steps 25, 50, 75, 100", from: () => at.steadyGreen(bgSpec({ depdef: { trafficShiftingConfig: { type: "LINEAR", percent: 25, waitInterval: 30 } } })), input: observed(), now: T0 + s(40), expect: { step: "shift", trafficWeight: 25, state: { steps: [25, 50, 75, 100] } } },
  { name: "waitGreen, LINEAR 30% → steps 30, 60, 90, 100", from: () => at.steadyGreen(bgSpec({ depdef: { trafficShiftingConfig: { type: "LINEAR", percent: 30, waitInterval: 30 } } })), input: observed(), now: T0 + s(40), expect: { state: { steps: [30, 60, 90, 100] } } },
  { name: "waitGreen, all-at-once override → one step of 100%", from: () => from(at.start(bgSpec(), ["all-at-once"]), [[I.start, T0], [I.service(live()), T0], [I.alarms(alarm("web-5xx")), T0], [I.taskDefinition(), T0], [I.service(live()), T0], [I.taskSets(blueSet()), T0], [I.routes(routes(0)), T0], [I.taskSet(green()), T0], [observed(), T0 + s(10)]]), input: observed(), now: T0 + s(40), expect: { step: "shift", trafficWeight: 100, state: { steps: [100] } } },
  { name: "waitGreen, 1 ms before the deadline → poll again", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 2 }) }), now: T0 + s(300) - 1, expect: { step: "waitGreen", effect: "sleep" } },
  { name: "waitGreen, at the deadline → StabilityTimeout, green deleted", from: () => at.waitGreen(), input: observed({ green: green({ runningCount: 2 }) }), now: T0 + s(300), expect: { step: "deleteGreen", effect: "deleteTaskSet", phase: "RollingBack", reason: "StabilityTimeout", message: /^green did not stabilise in time: 2\/4 running after 300s$/ } },
  { name: "waitGreen, green gone → GreenTaskSetGone", from: () => at.waitGreen(), input: observed({ green: null }), now: T0 + s(10), expect: { phase: "RollingBack", reason: "GreenTaskSetGone" } },
  { name: "waitGreen, a watch error → DescribeFailed", from: () => at.waitGreen(), input: I.error("AccessDenied", "no"), now: T0 + s(10), expect: { phase: "RollingBack", reason: "DescribeFailed" } },
  { name: "waitGreen, an alarm in ALARM is not green's business yet → carry on", from: () => at.steadyGreen(), input: observed({ alarms: [firing()] }), now: T0 + s(20), expect: { step: "waitGreen", effect: "sleep", phase: null } },
  // shift
  { name: "shift, weights set and read back → wait the interval: until T0 + 101 s, polling every 10 s", from: () => at.shift(), input: I.done, now: T0 + s(41), expect: { step: "wait", effect: "sleep", effectHas: { ms: s(10) }, phase: null, state: { waiting: "step", waitUntil: T0 + s(101) } } },
  { name: "shift, a wait shorter than a poll → sleep the wait", from: () => at.shift(bgSpec({ depdef: { trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 4 } } })), input: I.done, now: T0 + s(41), expect: { step: "wait", effectHas: { ms: s(4) } } },
  { name: "shift, waitInterval 0 → the next step at once", from: () => at.shift(bgSpec({ depdef: { trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: 0 } } })), input: I.done, now: T0 + s(41), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(100, 100) }, trafficWeight: 100 } },
  { name: "shift, the read-back differs → TrafficNotVerified, traffic back to blue", from: () => at.shift(), input: I.error("TrafficNotVerified", "listener …/443 sends 0% to web-green"), now: T0 + s(41), expect: { step: "restoreBlue", effect: "setRoutes", effectHas: { routes: routes(0, 0) }, phase: "RollingBack", reason: "TrafficNotVerified", message: /^the listener weights were set to 20% on green, but listener/, trafficWeight: 20, events: ["Failed", "RestoringBlue"] } },
  { name: "shift, ModifyListener refused → ShiftFailed, traffic back to blue", from: () => at.shift(), input: I.error("ValidationError", "bad weights"), now: T0 + s(41), expect: { step: "restoreBlue", effect: "setRoutes", reason: "ShiftFailed" } },
  // wait
  { name: "wait, slept → watch round with the alarms, without the routes while the step lasts", from: () => at.wait(), input: I.slept, now: T0 + s(51), expect: { step: "wait", effect: "observeBlueGreen", effectHas: { alarmNames: ["web-5xx"], routes: undefined, failuresOf: { taskSet: GREEN, taskDefinition: NEW_TD, since: T0 } } } },
  { name: "wait, slept until the step ends → the round reads the routes too, before the next shift", from: () => at.wait(), input: I.slept, now: T0 + s(101), expect: { step: "wait", effect: "observeBlueGreen", effectHas: { alarmNames: ["web-5xx"], routes: [{ kind: "listener", arn: LISTENER }, { kind: "rule", arn: RULE }] } } },
  { name: "wait, all quiet before the wait ends → sleep", from: () => at.wait(), input: observed({ weight: 20 }), now: T0 + s(51), expect: { step: "wait", effect: "sleep", effectHas: { ms: s(10) }, phase: null } },
  { name: "wait, 6 s left → sleep 6 s, not a whole poll", from: () => at.wait(), input: observed({ weight: 20 }), now: T0 + s(95), expect: { step: "wait", effect: "sleep", effectHas: { ms: s(6) } } },
  { name: "wait, 1 ms left → sleep 1 s (never 0)", from: () => at.wait(), input: observed({ weight: 20 }), now: T0 + s(101) - 1, expect: { step: "wait", effect: "sleep", effectHas: { ms: s(1) } } },
  { name: "wait, the interval over → shift the next step (100%)", from: () => at.wait(), input: observed({ weight: 20 }), now: T0 + s(101), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(100, 100) }, phase: "Shifting", trafficWeight: 100, events: ["Shifted"], state: { stepIndex: 1, weight: 100 }, then: (st) => assert.match(st.record.events![0]!.message, /\(step 2 of 2\)$/) } },
  { name: "wait, the last interval over, no bake → promote green", from: () => at.waitAt100(), input: observed({ weight: 100 }), now: T0 + s(162), expect: { step: "promotePrimary", effect: "updateServicePrimaryTaskSet", effectHas: { cluster: "apps", service: "web", taskSet: GREEN }, phase: "Shifting" } },
  { name: "wait, the last interval over, bakeTime 120 s → Baking until T0 + 282 s", from: () => at.waitAt100(bgSpec({ depdef: { bakeTime: 120 } })), input: observed({ weight: 100 }), now: T0 + s(162), expect: { step: "wait", effect: "sleep", phase: "Baking", events: ["Baking"], state: { waiting: "bake", waitUntil: T0 + s(282) } } },
  { name: "wait, the bake over → promote", from: () => from(at.waitAt100(bgSpec({ depdef: { bakeTime: 120 } })), [[observed({ weight: 100 }), T0 + s(162)]]), input: observed({ weight: 100 }), now: T0 + s(282), expect: { step: "promotePrimary", effect: "updateServicePrimaryTaskSet" } },
  { name: "wait, an alarm in ALARM during the bake → AlarmFired during the bake, back to blue", from: () => from(at.waitAt100(bgSpec({ depdef: { bakeTime: 120 } })), [[observed({ weight: 100 }), T0 + s(162)]]), input: observed({ weight: 100, alarms: [firing("p99 > 2s")] }), now: T0 + s(200), expect: { step: "restoreBlue", reason: "AlarmFired", message: /^alarm web-5xx went into ALARM during the bake: p99 > 2s$/, trafficWeight: 100 } },
  { name: "wait, an alarm in ALARM at 20% → AlarmFired, back to blue", from: () => at.wait(), input: observed({ weight: 20, alarms: [firing()] }), now: T0 + s(60), expect: { step: "restoreBlue", effect: "setRoutes", effectHas: { routes: routes(0, 0) }, phase: "RollingBack", reason: "AlarmFired", message: /^alarm web-5xx went into ALARM at 20% on green: 5xx > 10$/ } },
  { name: "wait, an alarm in ALARM with skip-alarms → ignored", from: () => from(at.start(bgSpec(), ["skip-alarms"]), [[I.start, T0], [I.service(live()), T0], [I.taskDefinition(), T0], [I.service(live()), T0], [I.taskSets(blueSet()), T0], [I.routes(routes(0)), T0], [I.taskSet(green()), T0], [observed(), T0 + s(10)], [observed(), T0 + s(40)], [I.done, T0 + s(41)]]), input: observed({ weight: 20, alarms: [firing()] }), now: T0 + s(60), expect: { step: "wait", effect: "sleep", phase: null } },
  { name: "wait, 5 green tasks failed at 20% → CircuitBreakerTripped, back to blue", from: () => at.wait(), input: observed({ weight: 20, failures: { count: 5 } }), now: T0 + s(60), expect: { step: "restoreBlue", reason: "CircuitBreakerTripped", message: /^5 green tasks failed/ } },
  { name: "wait, 4 green tasks failed at 20% → carry on", from: () => at.wait(), input: observed({ weight: 20, failures: { count: 4 } }), now: T0 + s(60), expect: { step: "wait", effect: "sleep" } },
  { name: "wait, green gone → GreenTaskSetGone, back to blue", from: () => at.wait(), input: observed({ weight: 20, green: null }), now: T0 + s(60), expect: { step: "restoreBlue", reason: "GreenTaskSetGone" } },
  { name: "wait, a watch error → DescribeFailed, back to blue", from: () => at.wait(), input: I.error("AccessDenied", "no"), now: T0 + s(60), expect: { step: "restoreBlue", reason: "DescribeFailed" } },
  { name: "wait, someone set the listener to 50% → pause (ManualChange), keeping what is left of the wait", from: () => at.wait(), input: observed({ weight: 20, routes: routes(50, 20) }), now: T0 + s(61), expect: { step: "wait", effect: "sleep", phase: null, reason: "ManualChange", message: /^the weights on listener .*443 were changed outside Flotilla \(web-green now 50%, expected 20%\): the deployment is paused/, events: ["ManualChange"], state: { paused: { by: "Flotilla", reason: "the weights on listener listener/app/public/abc/443 were changed outside Flotilla (web-green now 50%, expected 20%)", remainingMs: s(40) } } } },
  { name: "wait, the rule moved by 1% (21% on green) → pause (ManualChange)", from: () => at.wait(), input: observed({ weight: 20, routes: routes(20, 21) }), now: T0 + s(61), expect: { reason: "ManualChange", message: /^the weights on rule .* \(web-green now 21%, expected 20%\)/ } },
  { name: "wait, the rule removed → pause (ManualChange: gone)", from: () => at.wait(), input: observed({ weight: 20, routes: routes(20, 20).slice(0, 1) }), now: T0 + s(61), expect: { reason: "ManualChange", message: new RegExp(`^rule ${RULE} is gone`) } },
  { name: "wait, paused past the wait's end → stay, poll", from: () => from(at.wait(), [[I.control("pause", "carol"), T0 + s(50)]]), input: observed({ weight: 20 }), now: T0 + s(200), expect: { step: "wait", effect: "sleep", effectHas: { ms: s(10) }, phase: null, events: [] } },
  { name: "wait, paused and an alarm fires → still rolls back", from: () => from(at.wait(), [[I.control("pause", "carol"), T0 + s(50)]]), input: observed({ weight: 20, alarms: [firing()] }), now: T0 + s(200), expect: { step: "restoreBlue", reason: "AlarmFired" } },
  // promotePrimary / confirmPrimary
  { name: "promotePrimary, answered → read the task sets back before touching blue", from: at.promotePrimary, input: I.taskSet(steadyGreen({ status: "PRIMARY" })), now: T0 + s(163), expect: { step: "confirmPrimary", effect: "describeTaskSets", state: { primaryChecks: 0 } } },
  { name: "promotePrimary, refused → PromoteFailed, back to blue", from: at.promotePrimary, input: I.error("InvalidParameterException", "no"), now: T0 + s(163), expect: { step: "restoreBlue", effect: "setRoutes", phase: "RollingBack", reason: "PromoteFailed", trafficWeight: 100 } },
  { name: "confirmPrimary, green PRIMARY → delete blue", from: at.confirmPrimary, input: I.taskSets(blueSet({ status: "ACTIVE" }), steadyGreen({ status: "PRIMARY" })), now: T0 + s(163), expect: { step: "deleteBlue", effect: "deleteTaskSet", effectHas: { cluster: "apps", service: "web", taskSet: BLUE }, phase: null, events: ["GreenPrimary"] } },
  { name: "confirmPrimary, not PRIMARY yet (read 1 of 3) → poll and read again", from: at.confirmPrimary, input: I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), now: T0 + s(163), expect: { step: "confirmPrimary", effect: "sleep", state: { primaryChecks: 1 } } },
  { name: "confirmPrimary, slept → read again", from: () => from(at.confirmPrimary(), [[I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), T0 + s(163)]]), input: I.slept, now: T0 + s(173), expect: { step: "confirmPrimary", effect: "describeTaskSets" } },
  { name: "confirmPrimary, not PRIMARY at the 2nd read → read again", from: () => from(at.confirmPrimary(), [[I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), T0 + s(163)]]), input: I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), now: T0 + s(173), expect: { step: "confirmPrimary", effect: "sleep", state: { primaryChecks: 2 } } },
  { name: "confirmPrimary, not PRIMARY at the 3rd read → PromoteNotConfirmed, blue kept, back to blue", from: () => from(at.confirmPrimary(), [[I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), T0 + s(163)], [I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), T0 + s(173)]]), input: I.taskSets(blueSet(), steadyGreen({ status: "ACTIVE" })), now: T0 + s(183), expect: { step: "restoreBlue", reason: "PromoteNotConfirmed", message: /as ACTIVE after 3 reads; blue was kept$/ } },
  { name: "confirmPrimary, green gone → GreenTaskSetGone", from: at.confirmPrimary, input: I.taskSets(blueSet()), now: T0 + s(163), expect: { step: "restoreBlue", reason: "GreenTaskSetGone" } },
  { name: "confirmPrimary, the read fails → PromoteFailed (read back)", from: at.confirmPrimary, input: I.error("AccessDenied", "no"), now: T0 + s(163), expect: { step: "restoreBlue", reason: "PromoteFailed", message: /^reading the task sets after UpdateServicePrimaryTaskSet failed/ } },
  { name: "confirmPrimary, a first creation (no blue) → Succeeded", from: () => from(at.createService(), [[I.service(live()), T0], [I.taskSet(green()), T0], [observed({ green: steadyGreen(), routes: [] }), T0 + s(10)], [observed({ routes: [] }), T0 + s(40)], [I.taskSet(steadyGreen({ status: "PRIMARY" })), T0 + s(41)]]), input: I.taskSets(steadyGreen({ status: "PRIMARY" })), now: T0 + s(41), expect: { step: "done", effect: null, phase: "Succeeded", events: ["GreenPrimary", "Succeeded"] } },
  // deleteBlue / confirmBlueGone
  { name: "deleteBlue, answered → Succeeded", from: at.deleteBlue, input: I.done, now: T0 + s(164), expect: { step: "done", effect: null, phase: "Succeeded", reason: null, message: new RegExp(`^the new revision ${NEW_TD} serves all traffic$`), events: ["BlueDeleted", "Succeeded"] } },
  { name: "deleteBlue, TaskSetNotFound → already gone: Succeeded", from: at.deleteBlue, input: I.error("TaskSetNotFoundException", "gone"), now: T0 + s(164), expect: { phase: "Succeeded", reason: null } },
  { name: "deleteBlue, another error → describe the task sets before calling it a failure", from: at.deleteBlue, input: I.error("ClientException", "in use"), now: T0 + s(164), expect: { step: "confirmBlueGone", effect: "describeTaskSets", state: { deleteError: "ClientException: in use" } } },
  { name: "confirmBlueGone, blue gone → Succeeded", from: at.confirmBlueGone, input: I.taskSets(steadyGreen({ status: "PRIMARY" })), now: T0 + s(165), expect: { step: "done", phase: "Succeeded", reason: null, events: ["BlueDeleted", "Succeeded"] } },
  { name: "confirmBlueGone, blue DRAINING → it is going: Succeeded", from: at.confirmBlueGone, input: I.taskSets(blueSet({ status: "DRAINING" }), steadyGreen({ status: "PRIMARY" })), now: T0 + s(165), expect: { phase: "Succeeded", reason: null } },
  { name: "confirmBlueGone, blue still ACTIVE → Succeeded with BlueNotDeleted", from: at.confirmBlueGone, input: I.taskSets(blueSet({ status: "ACTIVE" }), steadyGreen({ status: "PRIMARY" })), now: T0 + s(165), expect: { step: "done", phase: "Succeeded", reason: "BlueNotDeleted", message: /deleting the old task set failed: ClientException: The specified task set is in use; delete task set ecs-svc\/blue by hand$/ } },
  { name: "confirmBlueGone, the read fails too → BlueNotDeleted, both errors", from: at.confirmBlueGone, input: I.error("AccessDenied", "no"), now: T0 + s(165), expect: { phase: "Succeeded", reason: "BlueNotDeleted", message: /in use, and reading the task sets failed: AccessDenied: no;/ } },
  // restoreBlue / deleteGreen / confirmGreenGone
  { name: "restoreBlue, weights back → TrafficRestored, delete green (deleteNewUponTrafficShiftFailure)", from: () => at.restoreBlue(), input: I.done, now: T0 + s(61), expect: { step: "deleteGreen", effect: "deleteTaskSet", effectHas: { taskSet: GREEN }, events: ["TrafficRestored"], trafficWeight: 0, state: { weight: 0 } } },
  { name: "restoreBlue, weights back, deleteNewUponTrafficShiftFailure false → RolledBack, green kept", from: () => at.restoreBlue(bgSpec({ depdef: { deleteNewUponTrafficShiftFailure: false } })), input: I.done, now: T0 + s(61), expect: { step: "done", effect: null, phase: "RolledBack", reason: "AlarmFired", message: /green task set ecs-svc\/green is kept with no traffic \(deleteNewUponTrafficShiftFailure is false\)$/, trafficWeight: 0 } },
  { name: "restoreBlue, a shift failure ignores deleteNewUponFailure: false", from: () => at.restoreBlue(bgSpec({ depdef: { deleteNewUponFailure: false } })), input: I.done, now: T0 + s(61), expect: { step: "deleteGreen" } },
  { name: "restoreBlue, refused → Failed RestoreFailed (check the listeners by hand)", from: () => at.restoreBlue(), input: I.error("ValidationError", "no"), now: T0 + s(61), expect: { step: "done", effect: null, phase: "Failed", reason: "RestoreFailed", message: /^alarm web-5xx went into ALARM .*; then putting traffic back on blue failed: ValidationError: no — check the listeners by hand$/ } },
  { name: "deleteGreen, answered → RolledBack", from: at.deleteGreen, input: I.done, now: T0 + s(62), expect: { step: "done", effect: null, phase: "RolledBack", reason: "AlarmFired", message: /; blue serves all traffic; the green task set was deleted$/ } },
  { name: "deleteGreen, TaskSetNotFound → RolledBack", from: at.deleteGreen, input: I.error("TaskSetNotFoundException", "gone"), now: T0 + s(62), expect: { phase: "RolledBack", message: /the green task set was deleted$/ } },
  { name: "deleteGreen, another error → describe before deciding", from: at.deleteGreen, input: I.error("ClientException", "busy"), now: T0 + s(62), expect: { step: "confirmGreenGone", effect: "describeTaskSets" } },
  { name: "confirmGreenGone, gone → RolledBack, deleted", from: at.confirmGreenGone, input: I.taskSets(blueSet()), now: T0 + s(63), expect: { step: "done", phase: "RolledBack", message: /the green task set was deleted$/ } },
  { name: "confirmGreenGone, still there → RolledBack, saying the delete failed", from: at.confirmGreenGone, input: I.taskSets(blueSet(), green()), now: T0 + s(63), expect: { step: "done", phase: "RolledBack", message: /; deleting the green task set failed: ClientException: busy$/ } },
  { name: "confirmGreenGone, the read fails → RolledBack, both errors", from: at.confirmGreenGone, input: I.error("AccessDenied", "no"), now: T0 + s(63), expect: { phase: "RolledBack", message: /busy, and reading the task sets failed: AccessDenied: no$/ } },
  // a first creation that fails: no blue to go back to
  { name: "a first creation whose green fails → green deleted (it would block every later deployment as a foreign set)", from: () => from(at.createService(), [[I.service(live()), T0], [I.taskSet(green()), T0]]), input: observed({ green: green({ runningCount: 0 }), routes: [], failures: { count: 5 } }), now: T0 + s(10), expect: { step: "deleteGreen", effect: "deleteTaskSet", phase: "RollingBack", reason: "CircuitBreakerTripped" } },
  { name: "a first creation, green deleted → Failed (no blue), saying so", from: () => from(at.createService(), [[I.service(live()), T0], [I.taskSet(green()), T0], [observed({ green: green({ runningCount: 0 }), routes: [], failures: { count: 5 } }), T0 + s(10)]]), input: I.done, now: T0 + s(11), expect: { step: "done", effect: null, phase: "Failed", reason: "CircuitBreakerTripped", message: /; the green task set was deleted$/ } },
  { name: "a first creation whose green fails, deleteNewUponFailure false → Failed, green kept", from: () => from({ ...at.createService(), spec: bgSpec({ depdef: { deleteNewUponFailure: false } }) }, [[I.service(live()), T0], [I.taskSet(green()), T0]]), input: observed({ green: green({ runningCount: 0 }), routes: [], failures: { count: 5 } }), now: T0 + s(10), expect: { step: "done", effect: null, phase: "Failed", message: /; the green task set ecs-svc\/green is kept \(deleteNewUponFailure is false\)$/ } },
  // a first creation resumed after a restart: the svcdef's target group is discovered and gets all traffic
  { name: "readTaskSets, a first creation (no blue) → the svcdef's target group pairs with itself", from: () => from(at.confirmService(), [[I.service(live()), T0 + s(2)]]), input: I.taskSets(), now: T0 + s(2), expect: { step: "discover", effect: "discoverRoutes", effectHas: { targetGroupArns: [BLUE_TG] }, state: { pairs: [{ blue: BLUE_TG, green: BLUE_TG }], blue: undefined } } },
  { name: "waitGreen, a first creation with routes: green stable → 100% on it in one step", from: () => from(at.confirmService(), [[I.service(live()), T0 + s(2)], [I.taskSets(), T0 + s(2)], [I.routes(routes(0)), T0 + s(2)], [I.taskSet(green({ loadBalancers: [{ targetGroupArn: BLUE_TG }] })), T0 + s(2)], [observed(), T0 + s(12)]]), input: observed(), now: T0 + s(42), expect: { step: "shift", effect: "setRoutes", phase: "Shifting", trafficWeight: 100, state: { steps: [100], weight: 100 }, then: (st) => assert.deepEqual(effectOf(st, "setRoutes").routes[1]!.actions, [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: BLUE_TG, weight: 100 }] } }]) } },
  { name: "shift, a first creation at 100% → promote at once (no wait, no bake)", from: () => from(at.confirmService(), [[I.service(live()), T0 + s(2)], [I.taskSets(), T0 + s(2)], [I.routes(routes(0)), T0 + s(2)], [I.taskSet(green({ loadBalancers: [{ targetGroupArn: BLUE_TG }] })), T0 + s(2)], [observed(), T0 + s(12)], [observed(), T0 + s(42)]]), input: I.done, now: T0 + s(43), expect: { step: "promotePrimary", effect: "updateServicePrimaryTaskSet" } },
  // done
  { name: "done: ignores everything", from: at.done, input: I.control("abort"), now: T0 + s(200), expect: { step: "done", effect: null, phase: null, events: [] } },
];

describe("blue/green: every transition", () => {
  table(blueGreen, rows, visited);
});

describe("blue/green: operator controls", () => {
  table(
    blueGreen,
    [
      { name: "abort before green exists → Aborted, nothing to undo", from: () => at.register(), input: I.control("abort", "bob"), expect: { step: "done", effect: null, phase: "Aborted", reason: "Aborted", message: /^aborted by bob$/, events: ["Abort", "Aborted"] } },
      { name: "abort while green stabilises → delete green (always, whatever the depdef says)", from: () => at.waitGreen(bgSpec({ depdef: { deleteNewUponFailure: false } })), input: I.control("abort", "bob"), now: T0 + s(5), expect: { step: "deleteGreen", effect: "deleteTaskSet", phase: "RollingBack", reason: "Aborted", events: ["Abort", "Failed"] } },
      { name: "abort at 20% → traffic back to blue", from: () => at.wait(), input: I.control("abort", "bob"), now: T0 + s(50), expect: { step: "restoreBlue", effect: "setRoutes", effectHas: { routes: routes(0, 0) }, phase: "RollingBack", reason: "Aborted", events: ["Abort", "Failed", "RestoringBlue"], state: { aborted: { by: "bob" } } } },
      { name: "abort while promoting → AbortIgnored (finishing), the call goes on", from: at.promotePrimary, input: I.control("abort", "bob"), now: T0 + s(162), expect: { step: "promotePrimary", effect: "updateServicePrimaryTaskSet", phase: null, events: ["AbortIgnored"], then: (st) => assert.match(st.record.events![0]!.message, /already finishing$/) } },
      { name: "abort while rolling back → AbortIgnored (rolling back)", from: () => at.restoreBlue(), input: I.control("abort", "bob"), now: T0 + s(60), expect: { step: "restoreBlue", effect: "setRoutes", events: ["AbortIgnored"], then: (st) => assert.match(st.record.events![0]!.message, /already rolling back$/) } },
      { name: "promote at 20% → straight to 100%, Promote", from: () => at.wait(), input: I.control("promote", "bob"), now: T0 + s(50), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(100, 100) }, trafficWeight: 100, events: ["Promote", "Shifted"], state: { promoted: { by: "bob" }, steps: [20, 100], stepIndex: 1 } } },
      { name: "promote in the wait at 100% → promote green now", from: () => at.waitAt100(), input: I.control("promote", "bob"), now: T0 + s(110), expect: { step: "promotePrimary", effect: "updateServicePrimaryTaskSet", events: ["Promote"] } },
      { name: "promote while green stabilises → noted; the poll goes on", from: () => at.waitGreen(), input: I.control("promote", "bob"), now: T0 + s(5), expect: { step: "waitGreen", effect: "sleep", events: ["Promote"], state: { promoted: { by: "bob" } } } },
      { name: "promote while paused → the pause ends", from: () => from(at.wait(), [[I.control("pause", "carol"), T0 + s(45)]]), input: I.control("promote", "bob"), now: T0 + s(50), expect: { step: "shift", state: { paused: undefined } } },
      { name: "promote while deleting blue → PromoteIgnored", from: at.deleteBlue, input: I.control("promote", "bob"), now: T0 + s(164), expect: { step: "deleteBlue", effect: "deleteTaskSet", events: ["PromoteIgnored"] } },
      { name: "pause at 20% → Paused, the rest of the wait kept", from: () => at.wait(), input: I.control("pause", "carol"), now: T0 + s(50), expect: { step: "wait", effect: "sleep", events: ["Paused"], state: { paused: { by: "carol", reason: "paused by an operator", remainingMs: s(51) } } } },
      { name: "pause twice → PauseIgnored (already paused)", from: () => from(at.wait(), [[I.control("pause", "carol"), T0 + s(50)]]), input: I.control("pause", "dave"), now: T0 + s(55), expect: { events: ["PauseIgnored"], state: { paused: { by: "carol", reason: "paused by an operator", remainingMs: s(51) } }, then: (st) => assert.match(st.record.events![0]!.message, /already paused$/) } },
      { name: "pause while finishing → PauseIgnored", from: at.confirmPrimary, input: I.control("pause", "carol"), now: T0 + s(163), expect: { events: ["PauseIgnored"], state: { paused: undefined } } },
      { name: "resume after an operator's pause → the wait goes on with what was left", from: () => from(at.wait(), [[I.control("pause", "carol"), T0 + s(50)]]), input: I.control("resume", "carol"), now: T0 + s(500), expect: { step: "wait", effect: "sleep", events: ["Resumed"], state: { paused: undefined, waitUntil: T0 + s(551) } } },
      { name: "resume after a manual change → Flotilla's weights re-applied, the pause's reason cleared", from: () => from(at.wait(), [[observed({ weight: 20, routes: routes(50, 20) }), T0 + s(61)]]), input: I.control("resume", "carol"), now: T0 + s(300), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(20, 20) }, reason: null, events: ["Resumed"], state: { waitUntil: T0 + s(340), paused: undefined } } },
      { name: "resume when not paused → ResumeIgnored", from: () => at.wait(), input: I.control("resume", "carol"), now: T0 + s(50), expect: { step: "wait", effect: "sleep", events: ["ResumeIgnored"] } },
    ],
    visited,
  );

  it("a promote during the stabilisation skips the canary: green stable → 100% at once, no wait, promoted", () => {
    const { steps } = drive(blueGreen, at.waitGreen(), [
      [I.control("promote", "bob"), T0 + s(5)],
      [observed(), T0 + s(10)],
      [observed(), T0 + s(40)],
      [I.done, T0 + s(41)],
    ]);
    assert.deepEqual(steps[2]!.record.trafficWeight, 100);
    assert.equal(steps[3]!.effect?.type, "updateServicePrimaryTaskSet");
  });

  it("an abort at 20% ends Aborted once green is deleted", () => {
    const { last } = drive(blueGreen, at.wait(), [
      [I.control("abort", "bob"), T0 + s(50)],
      [I.done, T0 + s(51)],
      [I.done, T0 + s(52)],
    ]);
    assert.equal(last.record.phase, "Aborted");
    assert.equal(last.record.reason, "Aborted");
  });
});

describe("blue/green: restarts and transient errors", () => {
  table(
    blueGreen,
    [
      { name: "restart with nothing in flight → describe", from: () => at.start(), input: I.resume, expect: { step: "inspect", effect: "describeService" } },
      { name: "restart during a shift → set the same weights again", from: () => at.shift(), input: I.resume, now: T0 + s(40), expect: { step: "shift", effect: "setRoutes", effectHas: { routes: routes(20, 20) }, events: ["Resumed"] } },
      { name: "restart during the deletion of blue → delete again", from: at.deleteBlue, input: I.resume, now: T0 + s(170), expect: { step: "deleteBlue", effect: "deleteTaskSet", events: ["Resumed"] } },
      { name: "a throttled watch round → back off, then the same round again", from: () => from(at.wait(), [[I.slept, T0 + s(51)]]), input: I.error("ThrottlingException", "slow", true), now: T0 + s(51), expect: { step: "wait", effect: "sleep", effectHas: { ms: s(1) }, events: ["Retrying"], state: { retries: 1 }, then: (st) => assert.equal(next(blueGreen, st.state, I.slept, T0 + s(52)).effect?.type, "observeBlueGreen") } },
    ],
    visited,
  );
});

describe("blue/green: a whole canary deployment on the simulated clock", () => {
  it("green stable at T0+40 s, 20% until T0+101 s, 100% until T0+162 s, promoted, blue deleted", () => {
    const script: [Input, number][] = [
      [I.start, T0],
      [I.service(live()), T0],
      [I.alarms(alarm("web-5xx")), T0],
      [I.taskDefinition(), T0],
      [I.service(live()), T0],
      [I.taskSets(blueSet()), T0],
      [I.routes(routes(0)), T0],
      [I.taskSet(green()), T0],
    ];
    for (let t = 10; t <= 40; t += 10) script.push([I.slept, T0 + s(t)], [observed(), T0 + s(t)]);
    script.push([I.done, T0 + s(41)]);
    for (let t = 51; t <= 101; t += 10) script.push([I.slept, T0 + s(t)], [observed({ weight: 20 }), T0 + s(t)]);
    script.push([I.done, T0 + s(102)]);
    for (let t = 112; t <= 162; t += 10) script.push([I.slept, T0 + s(t)], [observed({ weight: 100 }), T0 + s(t)]);
    script.push([I.taskSet(steadyGreen({ status: "PRIMARY" })), T0 + s(163)], [I.taskSets(blueSet({ status: "ACTIVE" }), steadyGreen({ status: "PRIMARY" })), T0 + s(163)], [I.done, T0 + s(164)]);
    const { steps, last } = drive(blueGreen, at.start(), script);
    const weights = steps.flatMap((st, n) => (st.record.trafficWeight !== undefined && st.record.trafficWeight !== null ? [[script[n]![1] - T0, st.record.trafficWeight]] : []));
    assert.deepEqual(weights, [[s(40), 20], [s(101), 100]]);
    assert.equal(last.record.phase, "Succeeded");
    assert.equal(steps.filter((st) => st.record.phase === "Succeeded").length, 1);
  });
});

everyStepVisited(STEPS, visited);
