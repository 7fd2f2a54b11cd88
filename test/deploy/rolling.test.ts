/**
 * The rolling machine (src/deploy/rolling.ts), called directly: for every step, each kind of
 * answer and what the machine does next. Time is the `now` each transition is given: a poll at
 * T0 + 10 s is simply fed at that instant.
 *
 * The scenario unless a row says otherwise: service web in apps, 4 tasks, revision 1 live, the
 * object's taskdef registers revision 2; poll 10 s, stability timeout 300 s, Flotilla's breaker at
 * 5 failed tasks, no load balancer and no health checks (dwell 30 s).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rolling, startRolling, type RollingState } from "../../src/deploy/rolling.ts";
import type { Deployment, Service } from "../../src/aws/ports.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { BLUE_TG, I, NEW_TD, OLD_TD, T0, drive, ecsDeployment, effectOf, everyStepVisited, next, rollingSpec, s, service, table, taskDefinition, type Row } from "./harness.ts";

const STEPS = ["inspect", "waitDraining", "readHealthChecks", "resolveTaskDefinition", "register", "create", "update", "confirm", "follow", "rollback", "followRollback", "followEcsRollback", "scaleDown", "done"] as const satisfies readonly RollingState["step"][];
// A step added to the machine must be added here (and get rows): this fails to compile otherwise.
const _allSteps: Exclude<RollingState["step"], (typeof STEPS)[number]> extends never ? true : never = true;
void _allSteps;

const visited = new Set<string>();
const TOKEN = "token-1";

/** Our ECS deployment (revision 2) and the one it replaces. */
const ours = (over: Partial<Deployment> = {}) => ecsDeployment({ id: "ecs-svc/new", createdAt: T0 + s(1), ...over });
const previous = (over: Partial<Deployment> = {}) => ecsDeployment({ id: "ecs-svc/old", status: "ACTIVE", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED", ...over });
/** The service as DescribeServices shows it while revision 2 rolls out: our deployment with `over`, and the old one until it is drained. */
const rollingOut = (over: Partial<Deployment> = {}, svc: Partial<Service> = {}) =>
  service({ taskDefinition: NEW_TD, deployments: over.rolloutState === "COMPLETED" ? [ours(over)] : [ours(over), previous()], ...svc });
/** Revision 2 fully running, old tasks gone: steady. */
const steadyNew = (svc: Partial<Service> = {}) => rollingOut({ runningCount: 4, rolloutState: "COMPLETED" }, svc);

const withLoadBalancer = () => rollingSpec({ svcdef: { loadBalancers: [{ targetGroupArn: BLUE_TG, containerName: "app", containerPort: 8080 }] } });

function run(spec: DeploySpec, script: [Parameters<typeof rolling.next>[1], number][]): RollingState {
  return drive(rolling, startRolling(spec, TOKEN), script).last.state;
}

/** States the rows start from, reached by driving the machine from its start. */
const at = {
  inspect: (spec = rollingSpec()) => run(spec, [[I.start, T0]]),
  draining: (since = T0) => run(rollingSpec(), [[I.start, since], [I.service(service({ status: "DRAINING" })), since]]),
  readHealthChecks: () => run(withLoadBalancer(), [[I.start, T0], [I.service(service()), T0]]),
  resolve: () => run(rollingSpec({ taskdef: null, svcdef: { taskDefinition: "web:7" } }), [[I.start, T0], [I.service(service()), T0]]),
  register: (live: Service | "missing" = service()) => run(rollingSpec(), [[I.start, T0], [I.service(live === "missing" ? undefined : live), T0]]),
  update: (spec = rollingSpec()) => run(spec, [[I.start, T0], [I.service(service()), T0], [I.taskDefinition(), T0]]),
  create: (spec = rollingSpec()) => run(spec, [[I.start, T0], [I.service(undefined), T0], [I.taskDefinition(), T0]]),
  /** Following revision 2 after UpdateService answered at T0: deadline T0 + 300 s, new tasks counted from T0 + 1 s. */
  follow: (spec = rollingSpec()) => drive(rolling, at.update(spec), [[I.service(rollingOut()), T0]]).last.state,
  /** Following a created service. */
  followCreated: (spec = rollingSpec()) => drive(rolling, at.create(spec), [[I.service(rollingOut()), T0]]).last.state,
  /** Seen steady first at `since`. */
  steady: (since = T0 + s(10), failures = 0) => drive(rolling, at.follow(), [[I.service(steadyNew(), { count: failures }), since]]).last.state,
  /** The breaker tripped at T0 + 10 s: UpdateService back to revision 1 is in flight. */
  rollback: () => drive(rolling, at.follow(), [[I.service(rollingOut({ runningCount: 2 }), { count: 5, lastReason: "Essential container exited" }), T0 + s(10)]]).last.state,
  /** The rollback's UpdateService answered at T0 + 11 s. */
  followRollback: () => drive(rolling, at.rollback(), [[I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, createdAt: T0 + s(11) }), ours({ status: "ACTIVE" })] })), T0 + s(11)]]).last.state,
  /** ECS's breaker rolled back at T0 + 20 s: its rollback deployment (revision 1) is PRIMARY. */
  followEcsRollback: () => drive(rolling, at.follow(), [[I.service(ecsRolledBack()), T0 + s(20)]]).last.state,
  /** A created service failed (deleteNewUponFailure): UpdateService desiredCount 0 is in flight. */
  scaleDown: () => drive(rolling, at.create(), [[I.service(rollingOut()), T0], [I.service(rollingOut({ runningCount: 0 }), { count: 5 }), T0 + s(10)]]).last.state,
  /** Restarted while UpdateService (or, with `create`, CreateService) was in flight. */
  confirm: (from: "update" | "create" = "update") => next(rolling, from === "update" ? at.update() : at.create(), I.resume, T0 + s(5)).state,
  done: () => drive(rolling, at.steady(), [[I.service(steadyNew()), T0 + s(40)]]).last.state,
};

/** What DescribeServices shows after ECS's own breaker failed our deployment and rolled back to revision 1. */
function ecsRolledBack(reason = "tasks failed to start") {
  return service({
    taskDefinition: OLD_TD,
    deployments: [ecsDeployment({ id: "ecs-svc/rollback", taskDefinition: OLD_TD, runningCount: 2, createdAt: T0 + s(15) }), ours({ status: "ACTIVE", rolloutState: "FAILED", rolloutStateReason: reason, failedTasks: 3 })],
  });
}

const rows: Row<RollingState>[] = [
  // inspect
  { name: "inspect, start → DescribeService, Deploying, Started", from: () => startRolling(rollingSpec(), TOKEN), input: I.start, expect: { step: "inspect", effect: "describeService", phase: "Deploying", events: ["Started"], effectHas: { cluster: "apps", service: "web" } } },
  { name: "inspect, cluster missing → Failed ClusterNotFound, nothing changed", from: at.inspect, input: I.error("ClusterNotFoundException", "Cluster not found."), expect: { step: "done", effect: null, phase: "Failed", reason: "ClusterNotFound", message: /^Cluster not found\.$/ } },
  { name: "inspect, access denied → Failed AccessDenied", from: at.inspect, input: I.error("AccessDeniedException", "not authorized"), expect: { phase: "Failed", reason: "AccessDenied", effect: null } },
  { name: "inspect, another error → Failed DescribeFailed", from: at.inspect, input: I.error("InvalidParameterException", "bad"), expect: { phase: "Failed", reason: "DescribeFailed", message: /^bad$/ } },
  { name: "inspect, an unexpected answer → describe again", from: at.inspect, input: I.slept, expect: { step: "inspect", effect: "describeService", phase: null } },
  { name: "inspect, DRAINING → wait a poll, WaitingForDrain once", from: at.inspect, input: I.service(service({ status: "DRAINING" })), expect: { step: "waitDraining", effect: "sleep", effectHas: { ms: s(10) }, events: ["WaitingForDrain"], state: { startedWaitingAt: T0 } } },
  { name: "inspect, still DRAINING at the timeout → wait again, no second event", from: () => next(rolling, at.draining(), I.slept, T0 + s(300)).state, input: I.service(service({ status: "DRAINING" })), now: T0 + s(300), expect: { step: "waitDraining", effect: "sleep", events: [] } },
  { name: "inspect, still DRAINING past the timeout → Failed ServiceStillDraining", from: () => next(rolling, at.draining(), I.slept, T0 + s(301)).state, input: I.service(service({ status: "DRAINING" })), now: T0 + s(301), expect: { step: "done", phase: "Failed", reason: "ServiceStillDraining", message: /after 301s/ } },
  { name: "inspect, INACTIVE after draining → create, the wait forgotten", from: () => next(rolling, at.draining(), I.slept, T0 + s(20)).state, input: I.service(service({ status: "INACTIVE" })), now: T0 + s(20), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering", state: { mode: "create", startedWaitingAt: undefined } } },
  { name: "inspect, missing → create: register the taskdef", from: at.inspect, input: I.service(undefined), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering", state: { mode: "create", oldTaskDefinitionArn: undefined } } },
  { name: "inspect, ACTIVE → update: the old revision recorded, register", from: at.inspect, input: I.service(service()), expect: { step: "register", effect: "registerTaskDefinition", phase: "Registering", state: { mode: "update", oldTaskDefinitionArn: OLD_TD }, then: (st) => assert.equal(st.record.oldTaskDefinitionArn, OLD_TD) } },
  { name: "inspect, ACTIVE on another controller → Failed NotUpdatableInPlace, nothing changed", from: at.inspect, input: I.service(service({ deploymentController: { type: "EXTERNAL" } })), expect: { step: "done", effect: null, phase: "Failed", reason: "NotUpdatableInPlace", message: /EXTERNAL deployment controller/ } },
  { name: "inspect, ACTIVE with another launch type → Failed NotUpdatableInPlace", from: at.inspect, input: I.service(service({ launchType: "EC2" })), expect: { phase: "Failed", reason: "NotUpdatableInPlace", message: /launchType cannot change/ } },
  { name: "inspect, a svcdef with load balancers → read the target groups' health checks first", from: () => run(withLoadBalancer(), [[I.start, T0]]), input: I.service(service()), expect: { step: "readHealthChecks", effect: "describeTargetGroups", effectHas: { targetGroupArns: [BLUE_TG] }, phase: "Registering" } },
  { name: "inspect, no taskdef file → describe the svcdef's taskDefinition", from: () => run(rollingSpec({ taskdef: null, svcdef: { taskDefinition: "web:7" } }), [[I.start, T0]]), input: I.service(service()), expect: { step: "resolveTaskDefinition", effect: "describeTaskDefinition", effectHas: { taskDefinition: "web:7" } } },
  // waitDraining
  { name: "waitDraining, slept → describe again", from: () => at.draining(), input: I.slept, now: T0 + s(10), expect: { step: "inspect", effect: "describeService" } },
  // readHealthChecks
  { name: "readHealthChecks, target groups → their intervals (30 s when unset) join the dwell, register", from: at.readHealthChecks, input: I.targetGroups(15, undefined), expect: { step: "register", effect: "registerTaskDefinition", events: [], state: { healthCheckIntervals: [15, 30] } } },
  { name: "readHealthChecks, an error → HealthChecksUnknown, assume 30 s, carry on", from: at.readHealthChecks, input: I.error("AccessDenied", "no"), expect: { step: "register", effect: "registerTaskDefinition", events: ["HealthChecksUnknown"], state: { healthCheckIntervals: [30] } } },
  // resolveTaskDefinition
  { name: "resolveTaskDefinition, found → update to it; its containers' health checks join the dwell", from: at.resolve, input: I.taskDefinition(taskDefinition("arn:td/web:7", { containerDefinitions: [{ name: "app", healthCheck: { interval: 20 } }] })), expect: { step: "update", effect: "updateService", phase: "Deploying", effectHas: { request: { cluster: "apps", service: "web", desiredCount: 4, taskDefinition: "arn:td/web:7" } }, state: { newTaskDefinitionArn: "arn:td/web:7", healthCheckIntervals: [20] } } },
  { name: "resolveTaskDefinition, an error → Failed TaskDefinitionNotFound", from: at.resolve, input: I.error("ClientException", "Unable to describe task definition."), expect: { step: "done", phase: "Failed", reason: "TaskDefinitionNotFound", message: /"web:7" cannot be used: ClientException/ } },
  // register
  { name: "register, registered (update) → UpdateService to the new revision, TaskDefinitionRegistered", from: () => at.register(), input: I.taskDefinition(), expect: { step: "update", effect: "updateService", phase: "Deploying", events: ["TaskDefinitionRegistered"], effectHas: { request: { cluster: "apps", service: "web", desiredCount: 4, taskDefinition: NEW_TD } }, then: (st) => assert.equal(st.record.newTaskDefinitionArn, NEW_TD) } },
  { name: "register, registered (create) → CreateService with the client token", from: () => at.register("missing"), input: I.taskDefinition(), expect: { step: "create", effect: "createService", effectHas: { request: { cluster: "apps", serviceName: "web", desiredCount: 4, launchType: "FARGATE", taskDefinition: NEW_TD, clientToken: TOKEN } } } },
  { name: "register, refused → Failed TaskDefinitionRejected", from: () => at.register(), input: I.error("ClientException", "Invalid container"), expect: { step: "done", phase: "Failed", reason: "TaskDefinitionRejected", message: /^RegisterTaskDefinition failed: ClientException: Invalid container$/ } },
  // create / update
  { name: "register (update), a svcdef naming its deployment controller → UpdateService leaves it out (not changeable in place)", from: () => run(rollingSpec({ svcdef: { deploymentController: { type: "ECS" } } }), [[I.start, T0], [I.service(service()), T0]]), input: I.taskDefinition(), expect: { step: "update", then: (st) => assert.deepEqual(effectOf(st, "updateService").request, { cluster: "apps", service: "web", desiredCount: 4, taskDefinition: NEW_TD }) } },
  { name: "update, answered → follow our ECS deployment: sleep a poll, Stabilizing, ServiceUpdated", from: () => at.update(), input: I.service(rollingOut()), expect: { step: "follow", effect: "sleep", effectHas: { ms: s(10) }, phase: "Stabilizing", events: ["ServiceUpdated"], state: { ecsDeploymentId: "ecs-svc/new", deadline: T0 + s(300), followingSince: T0 + s(1) } } },
  { name: "update, answered with 20 tasks and timeoutPerTask 30 s → the deadline is 600 s out", from: () => at.update(rollingSpec({ depdef: { stabilityCheck: { pollInterval: 10, timeout: 300, timeoutPerTask: 30 } } })), input: I.service(rollingOut({ desiredCount: 20 })), expect: { state: { deadline: T0 + s(600) } } },
  { name: "update, refused → Failed UpdateServiceRejected (nothing to undo)", from: () => at.update(), input: I.error("InvalidParameterException", "bad"), expect: { step: "done", effect: null, phase: "Failed", reason: "UpdateServiceRejected" } },
  { name: "create, answered → follow, ServiceCreated", from: () => at.create(), input: I.service(rollingOut()), expect: { step: "follow", effect: "sleep", phase: "Stabilizing", events: ["ServiceCreated"], state: { mode: "create" } } },
  { name: "create, refused → Failed CreateServiceRejected", from: () => at.create(), input: I.error("InvalidParameterException", "bad subnet"), expect: { step: "done", phase: "Failed", reason: "CreateServiceRejected", message: /bad subnet/ } },
  { name: "create, answered with no service → Failed CreateServiceRejected", from: () => at.create(), input: I.service(undefined), expect: { phase: "Failed", reason: "CreateServiceRejected" } },
  // follow: reading
  { name: "follow, slept → describe the service and count revision 2's failed tasks since it started", from: () => at.follow(), input: I.slept, now: T0 + s(10), expect: { step: "follow", effect: "describeService", effectHas: { failuresOf: { taskDefinition: NEW_TD, since: T0 + s(1) } } } },
  { name: "follow, a describe error → Failed DescribeFailed", from: () => at.follow(), input: I.error("InvalidParameterException", "x"), now: T0 + s(10), expect: { step: "done", phase: "Failed", reason: "DescribeFailed", message: /^DescribeServices failed/ } },
  { name: "follow, service gone → ServiceGone, rolled back to revision 1", from: () => at.follow(), input: I.service(undefined), now: T0 + s(10), expect: { step: "rollback", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", taskDefinition: OLD_TD } }, phase: "RollingBack", reason: "ServiceGone", message: /is missing while being deployed/ } },
  { name: "follow, service DRAINING → ServiceGone", from: () => at.follow(), input: I.service(service({ status: "DRAINING" })), now: T0 + s(10), expect: { reason: "ServiceGone", message: /is DRAINING/ } },
  { name: "follow, in progress → Progress with the counts, poll again", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2, pendingCount: 2 })), now: T0 + s(10), expect: { step: "follow", effect: "sleep", effectHas: { ms: s(10) }, phase: null, events: ["Progress"], counts: { desired: 4, running: 2, pending: 2, failed: 0 } } },
  { name: "follow, the same counts again → no new Progress", from: () => drive(rolling, at.follow(), [[I.service(rollingOut({ runningCount: 2 })), T0 + s(10)]]).last.state, input: I.service(rollingOut({ runningCount: 2 })), now: T0 + s(20), expect: { step: "follow", effect: "sleep", events: [] } },
  { name: "follow, ECS stops listing our deployment before the deadline → poll again", from: () => at.follow(), input: I.service(service({ taskDefinition: NEW_TD, deployments: [] })), now: T0 + s(10), expect: { step: "follow", effect: "sleep" } },
  { name: "follow, ECS stops listing our deployment at the deadline → StabilityTimeout (no deployment), roll back", from: () => at.follow(), input: I.service(service({ taskDefinition: NEW_TD, deployments: [] })), now: T0 + s(300), expect: { step: "rollback", phase: "RollingBack", reason: "StabilityTimeout", message: /shows no deployment of/ } },
  // follow: Flotilla's breaker
  { name: "follow, 4 failed new tasks (threshold 5) → not yet", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2 }), { count: 4 }), now: T0 + s(10), expect: { step: "follow", effect: "sleep", counts: { failed: 4 } } },
  { name: "follow, 5 failed new tasks → CircuitBreakerTripped at exactly the threshold, roll back", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2 }), { count: 5, lastReason: "Essential container exited" }), now: T0 + s(10), expect: { step: "rollback", effect: "updateService", phase: "RollingBack", reason: "CircuitBreakerTripped", message: /^5 new tasks failed \(Flotilla's circuit breaker threshold is 5\); last: Essential container exited$/, events: ["Progress", "Failed", "RollbackStarted"], counts: { failed: 5 } } },
  { name: "follow, ECS's own failedTasks count too → trips at 5", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2, failedTasks: 5 }), { count: 1 }), now: T0 + s(10), expect: { reason: "CircuitBreakerTripped", message: /^5 new tasks failed/ } },
  { name: "follow, 25% of 10 tasks: 2 failed → not yet (the threshold is ceil(2.5) = 3)", from: () => at.follow(rollingSpec({ svcdef: { desiredCount: 10 }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 25 } } })), input: I.service(rollingOut({ desiredCount: 10, runningCount: 5 }), { count: 2 }), now: T0 + s(10), expect: { step: "follow", effect: "sleep" } },
  { name: "follow, 25% of 10 tasks: 3 failed → trips", from: () => at.follow(rollingSpec({ svcdef: { desiredCount: 10 }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 25 } } })), input: I.service(rollingOut({ desiredCount: 10, runningCount: 5 }), { count: 3 }), now: T0 + s(10), expect: { reason: "CircuitBreakerTripped", message: /threshold is 3\)/ } },
  { name: "follow, breaker off (both 0) → 50 failures never trip it", from: () => at.follow(rollingSpec({ depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 0 } } })), input: I.service(rollingOut({ runningCount: 1 }), { count: 50 }), now: T0 + s(10), expect: { step: "follow", effect: "sleep", counts: { failed: 50 } } },
  { name: "follow, desired unknown (ECS and svcdef silent) → only the absolute threshold applies", from: () => at.follow(rollingSpec({ svcdef: { desiredCount: undefined }, depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 3, failureThresholdPercent: 10 } } })), input: I.service(rollingOut({ desiredCount: undefined, runningCount: 1 }), { count: 3 }), now: T0 + s(10), expect: { reason: "CircuitBreakerTripped", message: /threshold is 3\)/ } },
  { name: "follow, the breaker before the look of success: 5 failed but 4/4 running COMPLETED → tripped", from: () => at.follow(), input: I.service(steadyNew(), { count: 5 }), now: T0 + s(10), expect: { reason: "CircuitBreakerTripped" } },
  // follow: stability and the dwell
  { name: "follow, first steady poll → not a success yet: watch for the dwell", from: () => at.follow(), input: I.service(steadyNew()), now: T0 + s(10), expect: { step: "follow", effect: "sleep", effectHas: { ms: s(10) }, phase: null, state: { steadySince: T0 + s(10), steadyFailed: 0 } } },
  { name: "follow, steady a poll later, inside the dwell → poll again", from: () => at.steady(), input: I.service(steadyNew()), now: T0 + s(20), expect: { step: "follow", effect: "sleep", effectHas: { ms: s(10) }, phase: null, state: { steadySince: T0 + s(10) } } },
  { name: "follow, steady 1 ms before the dwell ends → sleep the 1 ms left", from: () => at.steady(), input: I.service(steadyNew()), now: T0 + s(40) - 1, expect: { step: "follow", effect: "sleep", effectHas: { ms: 1 }, phase: null } },
  { name: "follow, steady for the whole dwell → Succeeded", from: () => at.steady(), input: I.service(steadyNew()), now: T0 + s(40), expect: { step: "done", effect: null, phase: "Succeeded", reason: null, message: /^4\/4 tasks of .*web:2 running and stable, healthy for 30s$/, events: ["Succeeded"] } },
  { name: "follow, the dwell is grace period + health-check interval: 90 s + 30 s", from: () => drive(rolling, at.follow(), [[I.service(steadyNew({ healthCheckGracePeriodSeconds: 90 })), T0 + s(10)]]).last.state, input: I.service(steadyNew({ healthCheckGracePeriodSeconds: 90 })), now: T0 + s(120), expect: { phase: null, effect: "sleep" } },
  { name: "follow, grace 90 s: steady for 120 s → Succeeded", from: () => drive(rolling, at.follow(), [[I.service(steadyNew({ healthCheckGracePeriodSeconds: 90 })), T0 + s(10)]]).last.state, input: I.service(steadyNew({ healthCheckGracePeriodSeconds: 90 })), now: T0 + s(130), expect: { phase: "Succeeded" } },
  { name: "follow, a new task failed during the dwell → the steady run starts over", from: () => at.steady(), input: I.service(steadyNew(), { count: 1 }), now: T0 + s(40), expect: { step: "follow", effect: "sleep", phase: null, state: { steadySince: undefined } } },
  { name: "follow, failures already counted when it became steady do not restart the dwell", from: () => at.steady(T0 + s(10), 2), input: I.service(steadyNew(), { count: 2 }), now: T0 + s(40), expect: { phase: "Succeeded" } },
  { name: "follow, not drained: 4/4 new running but rolloutState IN_PROGRESS → not steady", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 4, rolloutState: "IN_PROGRESS" })), now: T0 + s(10), expect: { step: "follow", effect: "sleep", state: { steadySince: undefined } } },
  { name: "follow, steady, then old tasks still draining → the steady run starts over", from: () => at.steady(), input: I.service(rollingOut({ runningCount: 4, rolloutState: "IN_PROGRESS" })), now: T0 + s(40), expect: { phase: null, state: { steadySince: undefined } } },
  { name: "follow, no rolloutState and the old deployment still listed → not drained", from: () => at.follow(), input: I.service(service({ taskDefinition: NEW_TD, deployments: [ours({ runningCount: 4, rolloutState: undefined }), previous()] })), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  { name: "follow, no rolloutState and ours the only deployment → drained, steady", from: () => at.follow(), input: I.service(service({ taskDefinition: NEW_TD, deployments: [ours({ runningCount: 4, rolloutState: undefined })] })), now: T0 + s(10), expect: { state: { steadySince: T0 + s(10) } } },
  { name: "follow, 3/4 running → not steady", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 3, rolloutState: "COMPLETED" })), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  { name: "follow, running count not reported → never steady", from: () => at.follow(), input: I.service(rollingOut({ runningCount: undefined, rolloutState: "COMPLETED" })), now: T0 + s(10), expect: { state: { steadySince: undefined }, then: (st) => assert.match(st.record.events?.[0]?.message ?? "", /^\?\/4 running/) } },
  { name: "follow, ECS omits the desired count → the svcdef's 4: 4 running is steady", from: () => at.follow(), input: I.service(rollingOut({ desiredCount: undefined, runningCount: 4, rolloutState: "COMPLETED" })), now: T0 + s(10), expect: { state: { steadySince: T0 + s(10) } } },
  { name: "follow, ECS omits the desired count → the svcdef's 4: 3 running is not", from: () => at.follow(), input: I.service(rollingOut({ desiredCount: undefined, runningCount: 3, rolloutState: "COMPLETED" })), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  { name: "follow, 0/0 with neither desired count known → not steady", from: () => at.follow(rollingSpec({ svcdef: { desiredCount: undefined } })), input: I.service(rollingOut({ desiredCount: undefined, runningCount: 0, rolloutState: "COMPLETED" })), now: T0 + s(10), expect: { state: { steadySince: undefined } } },
  // follow: ECS's verdicts and the deadline
  { name: "follow, ECS marks it FAILED without rolling back → EcsDeploymentFailed, Flotilla rolls back", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 1, rolloutState: "FAILED", rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." })), now: T0 + s(10), expect: { step: "rollback", effect: "updateService", reason: "EcsDeploymentFailed", message: /tasks failed to start/ } },
  { name: "follow, ECS's breaker rolled back (revision 1 PRIMARY again) → follow ECS's rollback", from: () => at.follow(), input: I.service(ecsRolledBack()), now: T0 + s(20), expect: { step: "followEcsRollback", effect: "sleep", phase: "RollingBack", reason: "EcsCircuitBreakerRolledBack", message: /\(tasks failed to start\) and is rolling back to .*web:1$/, events: ["Progress", "EcsRolledBack"], state: { ecsDeploymentId: "ecs-svc/rollback", deadline: T0 + s(320) } } },
  { name: "follow, ECS's rollback with our deployment already gone → the reason from ECS's service event", from: () => at.follow(), input: I.service(service({ taskDefinition: OLD_TD, deployments: [ecsDeployment({ id: "ecs-svc/rollback", taskDefinition: OLD_TD })], events: [{ id: "e1", createdAt: T0 + s(15), message: "(service web) (deployment ecs-svc/new) deployment failed: tasks failed to start." }] })), now: T0 + s(20), expect: { step: "followEcsRollback", reason: "EcsCircuitBreakerRolledBack", message: /\(tasks failed to start\.\)/ } },
  { name: "follow, another revision took PRIMARY (not a rollback) → Failed Superseded, nothing undone", from: () => at.follow(), input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/other", taskDefinition: "arn:td/web:3" }), ours({ status: "ACTIVE", runningCount: 2 })] })), now: T0 + s(20), expect: { step: "done", effect: null, phase: "Failed", reason: "Superseded", message: /web:3 replaced this one/ } },
  { name: "follow, 1 ms before the deadline → poll again", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2 })), now: T0 + s(300) - 1, expect: { step: "follow", effect: "sleep" } },
  { name: "follow, at the deadline → StabilityTimeout, roll back", from: () => at.follow(), input: I.service(rollingOut({ runningCount: 2 })), now: T0 + s(300), expect: { step: "rollback", phase: "RollingBack", reason: "StabilityTimeout", message: /2\/4 tasks running after 300s$/ } },
  { name: "follow, at the deadline with counts not reported → says so", from: () => at.follow(), input: I.service(rollingOut({ runningCount: undefined })), now: T0 + s(300), expect: { reason: "StabilityTimeout", message: /\?\/4 tasks running after 300s; ECS did not report the deployment's counts$/ } },
  // what a failure does (finishFailure), per mode and depdef
  { name: "failure, rollback off → Failed, revision 2 left in place", from: () => at.follow(rollingSpec({ depdef: { gmDeploymentCircuitBreaker: { rollback: false } } })), input: I.service(rollingOut({ runningCount: 2 }), { count: 5 }), now: T0 + s(10), expect: { step: "done", effect: null, phase: "Failed", reason: "CircuitBreakerTripped", message: /\(rollback is off in the depdef\)$/ } },
  { name: "failure, the live revision was already revision 2 → Failed, nothing to roll back to", from: () => drive(rolling, startRolling(rollingSpec(), TOKEN), [[I.start, T0], [I.service(service({ taskDefinition: NEW_TD })), T0], [I.taskDefinition(), T0], [I.service(rollingOut()), T0]]).last.state, input: I.service(rollingOut({ runningCount: 2 }), { count: 5 }), now: T0 + s(10), expect: { phase: "Failed", message: /\(there is no different previous revision\)$/ } },
  { name: "failure of a created service → scale it to 0 (deleteNewUponFailure)", from: () => at.followCreated(), input: I.service(rollingOut({ runningCount: 0 }), { count: 5 }), now: T0 + s(10), expect: { step: "scaleDown", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", desiredCount: 0 } }, phase: "RollingBack", reason: "CircuitBreakerTripped", events: ["Progress", "Failed", "ScalingDown"] } },
  { name: "failure of a created service, deleteNewUponFailure false → Failed, left as it is", from: () => at.followCreated(rollingSpec({ depdef: { deleteNewUponFailure: false } })), input: I.service(rollingOut({ runningCount: 0 }), { count: 5 }), now: T0 + s(10), expect: { step: "done", phase: "Failed", message: /\(there is no previous revision to roll back to\)$/ } },
  // rollback
  { name: "rollback, UpdateService answered → follow the rollback to revision 1", from: at.rollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD }), ours({ status: "ACTIVE" })] })), now: T0 + s(11), expect: { step: "followRollback", effect: "sleep", phase: "RollingBack", state: { ecsDeploymentId: "ecs-svc/back", deadline: T0 + s(311) } } },
  { name: "rollback, UpdateService refused → Failed RollbackFailed", from: at.rollback, input: I.error("InvalidParameterException", "no"), now: T0 + s(11), expect: { step: "done", effect: null, phase: "Failed", reason: "RollbackFailed", message: /^5 new tasks failed .*; then the rollback failed: InvalidParameterException: no$/ } },
  // followRollback
  { name: "followRollback, slept → describe (no failure count: it is the old revision)", from: at.followRollback, input: I.slept, now: T0 + s(21), expect: { step: "followRollback", effect: "describeService", then: (st) => assert.equal(effectOf(st, "describeService").failuresOf, undefined) } },
  { name: "followRollback, first steady poll → dwell; the record keeps the new revision's 5 failed tasks", from: at.followRollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })] })), now: T0 + s(21), expect: { step: "followRollback", effect: "sleep", phase: null, state: { steadySince: T0 + s(21) }, counts: { running: 4, failed: 5 } } },
  { name: "followRollback, steady for the dwell → RolledBack with the failure's reason, new failures still in the record", from: () => drive(rolling, at.followRollback(), [[I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })] })), T0 + s(21)]]).last.state, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })] })), now: T0 + s(51), expect: { step: "done", effect: null, phase: "RolledBack", reason: "CircuitBreakerTripped", message: /; rolled back to .*web:1, which is stable again$/, counts: { desired: 4, running: 4, failed: 5 } } },
  { name: "followRollback, many failed tasks (of the old revision) → no breaker while rolling back", from: at.followRollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 1, failedTasks: 9 })] })), now: T0 + s(21), expect: { step: "followRollback", effect: "sleep", phase: null } },
  { name: "followRollback, ECS fails the rollback → Failed RollbackFailed (failed too)", from: at.followRollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 0, rolloutState: "FAILED", rolloutStateReason: "no capacity" })] })), now: T0 + s(21), expect: { step: "done", phase: "Failed", reason: "RollbackFailed", message: /; then the rollback failed too: ECS failed the deployment: no capacity$/ } },
  { name: "followRollback, past its deadline → Failed RollbackFailed (timeout)", from: at.followRollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 1 })] })), now: T0 + s(311), expect: { step: "done", phase: "Failed", reason: "RollbackFailed", message: /did not stabilise either: 1\/4 tasks running after 300s$/ } },
  { name: "followRollback, the rollback's deployment gone at the deadline → Failed RollbackFailed (no deployment)", from: at.followRollback, input: I.service(service({ deployments: [] })), now: T0 + s(311), expect: { step: "done", phase: "Failed", reason: "RollbackFailed", message: /ECS shows no deployment of .*web:1/ } },
  { name: "followRollback, the service deleted meanwhile → Failed RollbackFailed, no second rollback of a missing service", from: at.followRollback, input: I.service(undefined), now: T0 + s(21), expect: { step: "done", effect: null, phase: "Failed", reason: "RollbackFailed", message: /^5 new tasks failed .*; service web is missing while being deployed/ } },
  { name: "followEcsRollback, the service deleted meanwhile → Failed RollbackFailed", from: at.followEcsRollback, input: I.service(service({ status: "INACTIVE" })), now: T0 + s(30), expect: { step: "done", effect: null, phase: "Failed", reason: "RollbackFailed", message: /^ECS's deployment circuit breaker failed the deployment.*; service web is INACTIVE/ } },
  // followEcsRollback
  { name: "followEcsRollback, slept → describe, still counting revision 2's failures for the record", from: at.followEcsRollback, input: I.slept, now: T0 + s(30), expect: { step: "followEcsRollback", effect: "describeService", effectHas: { failuresOf: { taskDefinition: NEW_TD, since: T0 + s(1) } } } },
  { name: "followEcsRollback, ECS's rollback steady for the dwell → RolledBack EcsCircuitBreakerRolledBack", from: () => drive(rolling, at.followEcsRollback(), [[I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/rollback", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })] })), T0 + s(30)]]).last.state, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/rollback", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" })] }), { count: 6 }), now: T0 + s(60), expect: { step: "done", phase: "RolledBack", reason: "EcsCircuitBreakerRolledBack", counts: { failed: 6 } } },
  { name: "followEcsRollback, 6 of revision 2's tasks failed → no breaker: ECS already rolls back", from: at.followEcsRollback, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/rollback", taskDefinition: OLD_TD, runningCount: 2 })] }), { count: 6 }), now: T0 + s(30), expect: { step: "followEcsRollback", effect: "sleep", phase: null } },
  // scaleDown
  { name: "scaleDown, answered → Failed, the new service scaled to 0", from: at.scaleDown, input: I.service(service({ taskDefinition: NEW_TD, desiredCount: 0, runningCount: 1, pendingCount: 0 })), now: T0 + s(11), expect: { step: "done", effect: null, phase: "Failed", reason: "CircuitBreakerTripped", message: /; the new service was scaled to 0$/, counts: { desired: 0, running: 1, pending: 0 } } },
  { name: "scaleDown, refused → Failed RollbackFailed", from: at.scaleDown, input: I.error("ClientException", "no"), now: T0 + s(11), expect: { step: "done", phase: "Failed", reason: "RollbackFailed", message: /; then scaling to 0 failed: ClientException: no$/ } },
  // confirm (after a restart with a mutation in flight)
  { name: "restart during UpdateService → confirm: describe before repeating", from: () => at.update(), input: I.resume, now: T0 + s(5), expect: { step: "confirm", effect: "describeService", state: { resumedFrom: "update" } } },
  { name: "confirm, the update had happened → follow it", from: () => at.confirm("update"), input: I.service(rollingOut()), now: T0 + s(6), expect: { step: "follow", effect: "sleep", phase: "Stabilizing", events: ["Resumed"], message: undefined, state: { ecsDeploymentId: "ecs-svc/new", resumedFrom: undefined }, then: (st) => assert.match(st.record.events![0]!.message, /updateService had been applied/) } },
  { name: "confirm, the update had not happened → UpdateService again", from: () => at.confirm("update"), input: I.service(service()), now: T0 + s(6), expect: { step: "update", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", desiredCount: 4, taskDefinition: NEW_TD } }, then: (st) => assert.match(st.record.events![0]!.message, /repeating updateService/) } },
  { name: "confirm, the desired count differs → not applied, repeat", from: () => at.confirm("update"), input: I.service(rollingOut({}, { desiredCount: 2 })), now: T0 + s(6), expect: { step: "update", effect: "updateService" } },
  { name: "confirm, the create had not happened → CreateService again with the same token", from: () => at.confirm("create"), input: I.service(undefined), now: T0 + s(6), expect: { step: "create", effect: "createService", effectHas: { request: { cluster: "apps", serviceName: "web", desiredCount: 4, launchType: "FARGATE", taskDefinition: NEW_TD, clientToken: TOKEN } } } },
  { name: "confirm, the create had happened → follow", from: () => at.confirm("create"), input: I.service(rollingOut()), now: T0 + s(6), expect: { step: "follow", effect: "sleep" } },
  { name: "confirm, an error reading → describe again", from: () => at.confirm("update"), input: I.error("InvalidParameterException", "x"), now: T0 + s(6), expect: { step: "confirm", effect: "describeService" } },
  { name: "confirm, restarted during the rollback and it had happened → follow the rollback", from: () => next(rolling, at.rollback(), I.resume, T0 + s(12)).state, input: I.service(service({ deployments: [ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD })] })), now: T0 + s(13), expect: { step: "followRollback", effect: "sleep", phase: "RollingBack" } },
  { name: "confirm, restarted during the rollback and it had not → roll back again", from: () => next(rolling, at.rollback(), I.resume, T0 + s(12)).state, input: I.service(rollingOut({ runningCount: 2 })), now: T0 + s(13), expect: { step: "rollback", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", taskDefinition: OLD_TD } } } },
  { name: "confirm, restarted during the scale-down and it had happened → Failed, scaled to 0", from: () => next(rolling, at.scaleDown(), I.resume, T0 + s(12)).state, input: I.service(rollingOut({}, { desiredCount: 0 })), now: T0 + s(13), expect: { step: "done", effect: null, phase: "Failed", reason: "CircuitBreakerTripped", message: /scaled to 0$/ } },
  // done
  { name: "done: any input is ignored", from: at.done, input: I.service(steadyNew()), now: T0 + s(50), expect: { step: "done", effect: null, phase: null, events: [] } },
  { name: "done: even a control", from: at.done, input: I.control("abort"), now: T0 + s(50), expect: { step: "done", effect: null, phase: null, events: [] } },
];

describe("rolling: every transition", () => {
  table(rolling, rows, visited);
});

describe("rolling: operator controls", () => {
  table(
    rolling,
    [
      { name: "abort while inspecting → Aborted before anything changed", from: at.inspect, input: I.control("abort", "bob"), expect: { step: "done", effect: null, phase: "Aborted", reason: "Aborted", message: /^aborted by bob before the service was changed$/ } },
      { name: "abort while registering → Aborted before anything changed", from: () => at.register(), input: I.control("abort", "bob"), expect: { phase: "Aborted", message: /before the service was changed/ } },
      { name: "abort while following → roll back, reason Aborted", from: () => at.follow(), input: I.control("abort", "bob"), now: T0 + s(5), expect: { step: "rollback", effect: "updateService", phase: "RollingBack", reason: "Aborted", state: { aborted: { by: "bob" } } } },
      { name: "abort during the UpdateService call → roll back", from: () => at.update(), input: I.control("abort", "bob"), expect: { step: "rollback", effect: "updateService", effectHas: { request: { cluster: "apps", service: "web", taskDefinition: OLD_TD } } } },
      { name: "abort of a created service while following → scale to 0", from: () => at.followCreated(), input: I.control("abort", "bob"), now: T0 + s(5), expect: { step: "scaleDown", effect: "updateService", phase: "RollingBack", reason: "Aborted" } },
      { name: "abort while already rolling back → noted, the rollback goes on", from: at.followRollback, input: I.control("abort", "bob"), now: T0 + s(15), expect: { step: "followRollback", effect: "sleep", phase: null, events: ["AbortNoted"], state: { aborted: { by: "bob" } } } },
      { name: "promote → ControlIgnored, the call in flight goes on", from: () => at.follow(), input: I.control("promote"), now: T0 + s(5), expect: { step: "follow", effect: "sleep", events: ["ControlIgnored"] } },
      { name: "pause → ControlIgnored", from: () => at.update(), input: I.control("pause"), expect: { step: "update", effect: "updateService", events: ["ControlIgnored"] } },
    ],
    visited,
  );

  it("an abort noted during the rollback ends Aborted, not RolledBack", () => {
    const back = ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" });
    const { last } = drive(rolling, at.followRollback(), [
      [I.control("abort", "bob"), T0 + s(15)],
      [I.service(service({ deployments: [back] })), T0 + s(21)],
      [I.service(service({ deployments: [back] })), T0 + s(51)],
    ]);
    assert.equal(last.record.phase, "Aborted");
  });

  it("an abort while following ends Aborted once the rollback is stable", () => {
    const back = ecsDeployment({ id: "ecs-svc/back", taskDefinition: OLD_TD, runningCount: 4, rolloutState: "COMPLETED" });
    const { last } = drive(rolling, at.follow(), [
      [I.control("abort", "bob"), T0 + s(5)],
      [I.service(service({ deployments: [back] })), T0 + s(6)],
      [I.service(service({ deployments: [back] })), T0 + s(16)],
      [I.service(service({ deployments: [back] })), T0 + s(46)],
    ]);
    assert.equal(last.record.phase, "Aborted");
    assert.equal(last.record.reason, "Aborted");
  });

  it("an aborted created service ends Aborted after the scale-down", () => {
    const { last } = drive(rolling, at.followCreated(), [
      [I.control("abort", "bob"), T0 + s(5)],
      [I.service(service({ desiredCount: 0 })), T0 + s(6)],
    ]);
    assert.equal(last.record.phase, "Aborted");
  });
});

describe("rolling: restarts (resume)", () => {
  table(
    rolling,
    [
      { name: "restart with nothing in flight → start over with a describe", from: () => startRolling(rollingSpec(), TOKEN), input: I.resume, expect: { step: "inspect", effect: "describeService" } },
      { name: "restart during a read → repeat it", from: () => at.register(), input: I.resume, expect: { step: "register", effect: "registerTaskDefinition", events: ["Resumed"] } },
      { name: "restart during a poll's sleep → sleep again", from: () => at.follow(), input: I.resume, now: T0 + s(3), expect: { step: "follow", effect: "sleep", events: ["Resumed"] } },
      { name: "restart during CreateService → confirm first", from: () => at.create(), input: I.resume, expect: { step: "confirm", effect: "describeService", state: { resumedFrom: "create" } } },
    ],
    visited,
  );
});

describe("rolling: transient errors", () => {
  it("a throttled describe while following is retried, and a real answer resets the count", () => {
    const throttled = I.error("ThrottlingException", "Rate exceeded", true);
    const a = next(rolling, at.follow(), throttled, T0 + s(10));
    assert.equal(effectOf(a, "sleep").ms, s(1));
    assert.equal(a.state.retries, 1);
    const b = next(rolling, a.state, I.slept, T0 + s(11));
    assert.equal(b.effect?.type, "sleep", "the effect in flight when it failed (the poll's sleep) goes again");
    const c = next(rolling, b.state, I.service(rollingOut({ runningCount: 1 })), T0 + s(21));
    assert.equal(c.state.retries, 0);
  });
});

describe("rolling: a whole deployment on the simulated clock", () => {
  it("succeeds at the first poll the dwell has passed, not before, with the last counts on record", () => {
    const polls = [10, 20, 30, 40, 50, 60, 70].map((t) => T0 + s(t));
    let state = at.follow();
    const phases: (string | undefined)[] = [];
    for (const [n, now] of polls.entries()) {
      const svc = n < 2 ? rollingOut({ runningCount: n * 2 }) : steadyNew();
      const step = next(rolling, next(rolling, state, I.slept, now).state, I.service(svc), now);
      phases.push(step.record.phase);
      state = step.state;
      if (!step.effect) break;
    }
    // Steady first at T0+30 s, dwell 30 s: Succeeded at T0+60 s.
    assert.deepEqual(phases, [undefined, undefined, undefined, undefined, undefined, "Succeeded"]);
  });
});

everyStepVisited(STEPS, visited);
