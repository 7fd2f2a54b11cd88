/**
 * Hand-made mutants of the deployment engine: single-line bugs of the kinds that slip past tests
 * which only check where a deployment ends — a boundary off by one, a rounding the wrong way, a
 * success one poll early, a guard dropped, a wrong variable. `npm run mutation` applies each one
 * alone and runs its tests (docs/deployments.md, "Mutation testing").
 *
 * `from` is text that occurs exactly once in `file` (part of one line); `to` replaces it.
 * `tests` defaults to the direct tests in test/deploy/. A mutant that behaves exactly like the original is not listed:
 * it proves nothing (docs name the ones found so).
 */
export type Kind =
  /** A comparison off by one: >= and >, < and <=. */
  | "boundary"
  /** Rounding or min/max the wrong way. */
  | "rounding"
  /** Success (or promotion) before the new tasks have stayed healthy for the dwell. */
  | "early-success"
  /** What counts as steady or drained. */
  | "steady"
  /** A guard dropped or negated. */
  | "guard"
  /** A wrong variable, field or constant. */
  | "wrong-value"
  /** Retries: the cap, the back-off, the reset. */
  | "retry";

export interface Mutant {
  id: string;
  file: string;
  kind: Kind;
  from: string;
  to: string;
  /** Test files or globs (default: DEFAULT_TESTS). */
  tests?: string[];
  /** Named in issue 13 as a bug earlier tests missed. */
  issue?: true;
}

/**
 * The tests a mutant runs unless it names others: the direct tests of the engine. Not the sweep's
 * simulator runs (test/deploy/sweep.test.ts, half a minute), which only the sweep's mutants need.
 */
export const DEFAULT_TESTS = ["rolling", "bluegreen", "delete", "steps", "failures", "traffic", "registry"].map((name) => `test/deploy/${name}.test.ts`);
const WITH_SWEEP = [...DEFAULT_TESTS, "test/deploy/sweep.test.ts"];
/** The ECS-managed machine's direct tests and its runs on the simulator (which checks the calls' parameters as ECS does). */
const MANAGED_TESTS = ["test/deploy/ecs-managed.test.ts", "test/e2e/ecs-managed.test.ts", "test/e2e/ecs-managed-edges.test.ts"];
/** The rainbow machine's tests: naming and choices directly, deploys, cutovers and cleanups on the simulator. */
const RAINBOW_TESTS = ["test/config/rainbow.test.ts", "test/deploy/rainbow-world.test.ts", "test/deploy/rainbow-machine.test.ts", "test/e2e/rainbow.test.ts", "test/e2e/rainbow-cutover.test.ts", "test/e2e/rainbow-cleanup.test.ts"];

export const MUTANTS: Mutant[] = [
  // The bugs issue 13 names.
  { id: "rolling-breaker-late", file: "src/deploy/rolling.ts", kind: "boundary", issue: true, from: `state.step === "follow" && threshold > 0 && failed >= threshold`, to: `state.step === "follow" && threshold > 0 && failed > threshold` },
  { id: "bluegreen-breaker-late", file: "src/deploy/bluegreen.ts", kind: "boundary", issue: true, from: `if (threshold > 0 && failed >= threshold) {`, to: `if (threshold > 0 && failed > threshold) {` },
  { id: "breaker-percent-floor", file: "src/config/depdef.ts", kind: "rounding", issue: true, from: `Math.max(1, Math.ceil((cb.failureThresholdPercent * desired) / 100))`, to: `Math.max(1, Math.floor((cb.failureThresholdPercent * desired) / 100))` },
  { id: "rolling-success-first-steady-poll", file: "src/deploy/rolling.ts", kind: "early-success", issue: true, from: `return go(next, state.step, untilSteadyFor(next, dwell, now), record());`, to: `void go(next, state.step, untilSteadyFor(next, dwell, now), record());` },
  { id: "bluegreen-promote-first-steady-poll", file: "src/deploy/bluegreen.ts", kind: "early-success", issue: true, from: `if (base.steadySince === undefined) return withRecord(`, to: `if (base.steadySince === undefined) void withRecord(` },
  { id: "green-steady-not-steady-state", file: "src/deploy/bluegreen.ts", kind: "steady", issue: true, from: `const steady = green.stabilityStatus === "STEADY_STATE" && desired !== undefined`, to: `const steady = desired !== undefined` },
  { id: "bluegreen-alarm-precheck-on-create", file: "src/deploy/bluegreen.ts", kind: "guard", from: `alarmsBeforeStart(input.alarms, alarmNames(state), state.mode === "update", state.spec.region);`, to: `alarmsBeforeStart(input.alarms, alarmNames(state), true, state.spec.region);` },
  { id: "alarm-precheck-on-create", file: "src/deploy/alarms.ts", kind: "guard", issue: true, from: `if (firing.length && update) return`, to: `if (firing.length) return` },
  { id: "retry-cap-off-by-one", file: "src/deploy/steps.ts", kind: "retry", issue: true, from: `if (state.retries >= MAX_RETRIES || !state.inFlight) {`, to: `if (state.retries > MAX_RETRIES || !state.inFlight) {` },
  { id: "rolling-success-before-drained", file: "src/deploy/rolling.ts", kind: "steady", issue: true, from: `const drained = ours.rolloutState === "COMPLETED" || (ours.rolloutState === undefined && service.deployments.length === 1);`, to: `const drained = true;` },
  { id: "serve-webhook-secret-default-variable", file: "src/app/serve.ts", kind: "wrong-value", issue: true, from: `const secret = env[config.webhookSecretEnv];`, to: `const secret = env["FLOTILLA_WEBHOOK_SECRET"];`, tests: ["test/cli/serve-webhook.test.ts"] },
  { id: "serve-webhook-secret-admin-variable", file: "src/app/serve.ts", kind: "wrong-value", issue: true, from: `const secret = env[config.webhookSecretEnv];`, to: `const secret = env[config.adminTokenEnv];`, tests: ["test/cli/serve-webhook.test.ts"] },

  // Boundaries.
  { id: "rolling-deadline-late", file: "src/deploy/rolling.ts", kind: "boundary", from: `  if (now >= (state.deadline ?? Infinity)) {`, to: `  if (now > (state.deadline ?? Infinity)) {` },
  { id: "green-deadline-late", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `  if (now >= (state.deadline ?? Infinity)) {`, to: `  if (now > (state.deadline ?? Infinity)) {` },
  { id: "delete-inactive-deadline-late", file: "src/deploy/delete.ts", kind: "boundary", from: `if (now >= (state.deadline ?? Infinity)) return finish(state, "Failed", because("StillDraining"`, to: `if (now > (state.deadline ?? Infinity)) return finish(state, "Failed", because("StillDraining"` },
  { id: "rolling-drain-timeout-early", file: "src/deploy/rolling.ts", kind: "boundary", from: `if (now - since > stabilityTimeoutMs(state.spec.depdef, 1)) {`, to: `if (now - since >= stabilityTimeoutMs(state.spec.depdef, 1)) {` },
  { id: "bluegreen-drain-timeout-early", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `if (now - (state.deadline ?? now) > stabilityTimeoutMs(state.spec.depdef, 1))`, to: `if (now - (state.deadline ?? now) >= stabilityTimeoutMs(state.spec.depdef, 1))` },
  { id: "rolling-running-above-desired", file: "src/deploy/rolling.ts", kind: "boundary", from: `ours.runningCount >= desired && !crashedSince`, to: `ours.runningCount > desired && !crashedSince` },
  { id: "green-zero-desired-steady", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `desired !== undefined && desired > 0 && running !== undefined`, to: `desired !== undefined && desired >= 0 && running !== undefined` },
  { id: "rolling-crash-counted-at-steady", file: "src/deploy/rolling.ts", kind: "boundary", from: `failuresNow > (base.steadyFailed ?? 0);`, to: `failuresNow >= (base.steadyFailed ?? 0);` },
  { id: "promote-checks-one-more", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `if (checks < PRIMARY_CHECKS) return go(`, to: `if (checks <= PRIMARY_CHECKS) return go(` },
  { id: "shift-step-past-the-end", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `state.stepIndex + 1 < state.steps.length && !state.promoted)`, to: `state.stepIndex + 1 <= state.steps.length && !state.promoted)` },
  { id: "restore-at-zero-weight", file: "src/deploy/bluegreen.ts", kind: "boundary", from: `if (state.weight > 0 && state.routes.length) {`, to: `if (state.weight >= 0 && state.routes.length) {` },
  { id: "linear-steps-include-100-twice", file: "src/config/depdef.ts", kind: "boundary", from: `for (let p = cfg.percent; p < 100; p += cfg.percent) steps.push(p);`, to: `for (let p = cfg.percent; p <= 100; p += cfg.percent) steps.push(p);` },

  // The dwell and early success.
  { id: "rolling-dwell-a-second-short", file: "src/deploy/rolling.ts", kind: "early-success", from: `    if (left > 0 || now <= (base.steadySeenAt`, to: `    if (left > 1000 || now <= (base.steadySeenAt` },
  { id: "green-dwell-boundary", file: "src/deploy/bluegreen.ts", kind: "early-success", from: `if (left > 0) return withRecord(go(base, "waitGreen"`, to: `if (left >= 0) return withRecord(go(base, "waitGreen"` },
  { id: "dwell-without-grace", file: "src/deploy/spec.ts", kind: "early-success", from: `return Math.max((gracePeriodSeconds + interval) * 1000,`, to: `return Math.max(interval * 1000,` },
  { id: "dwell-shortest-interval", file: "src/deploy/spec.ts", kind: "rounding", from: `const interval = healthCheckIntervals.length ? Math.max(...healthCheckIntervals)`, to: `const interval = healthCheckIntervals.length ? Math.min(...healthCheckIntervals)` },
  { id: "green-crash-during-dwell-ignored", file: "src/deploy/bluegreen.ts", kind: "early-success", from: `running >= desired && !crashedSince;`, to: `running >= desired;` },
  { id: "wait-skipped", file: "src/deploy/bluegreen.ts", kind: "early-success", from: `if (state.promoted || seconds === 0) return afterWait(`, to: `if (state.promoted || seconds >= 0) return afterWait(` },
  { id: "bake-skipped", file: "src/deploy/bluegreen.ts", kind: "early-success", from: `state.spec.depdef.bakeTime > 0 && !state.promoted) return startWait(state, now, "bake");`, to: `state.spec.depdef.bakeTime > 0 && state.promoted) return startWait(state, now, "bake");` },

  // Rounding and min/max.
  { id: "stability-timeout-min", file: "src/deploy/spec.ts", kind: "rounding", from: `return Math.max(s.timeout, s.timeoutPerTask * desired) * 1000;`, to: `return Math.min(s.timeout, s.timeoutPerTask * desired) * 1000;` },
  { id: "green-desired-floor", file: "src/deploy/bluegreen.ts", kind: "rounding", from: `Math.ceil((desired * (green.scale.value || 100)) / 100)`, to: `Math.floor((desired * (green.scale.value || 100)) / 100)` },
  { id: "backoff-doubled", file: "src/deploy/steps.ts", kind: "retry", from: `const delay = Math.min(30_000, 1000 * 2 ** state.retries);`, to: `const delay = Math.min(30_000, 1000 * 2 ** (state.retries + 1));` },
  { id: "wait-sleeps-through-alarms", file: "src/deploy/bluegreen.ts", kind: "rounding", from: `return { type: "sleep", ms: Math.max(1000, Math.min(every, left)) };`, to: `return { type: "sleep", ms: Math.max(1000, Math.max(every, left)) };` },

  // Retries.
  { id: "retry-count-never-reset", file: "src/deploy/steps.ts", kind: "retry", from: `return h.answers.includes(input.type) && state.retries > 0 ? { ...state, retries: 0 } : state;`, to: `return state;` },
  { id: "retry-count-kept-across-steps", file: "src/deploy/steps.ts", kind: "retry", from: `retries: step === state.step ? state.retries : 0 }`, to: `retries: state.retries }` },
  { id: "retry-forgets-failed-effect", file: "src/deploy/steps.ts", kind: "retry", from: `pendingRetry: state.pendingRetry ?? state.inFlight,`, to: `pendingRetry: state.inFlight,` },

  // Guards.
  { id: "rollback-despite-depdef", file: "src/deploy/rolling.ts", kind: "guard", from: `if (cb.rollback && state.mode === "update" && state.oldTaskDefinitionArn`, to: `if (state.mode === "update" && state.oldTaskDefinitionArn` },
  { id: "breaker-while-rolling-back", file: "src/deploy/rolling.ts", kind: "guard", from: `if (state.step === "follow" && threshold > 0 && failed`, to: `if (threshold > 0 && failed` },
  { id: "ecs-rollback-taken-for-superseded", file: "src/deploy/rolling.ts", kind: "guard", from: `const rolledBack = ours?.rolloutState === "FAILED" || primary.taskDefinition === state.oldTaskDefinitionArn;`, to: `const rolledBack = ours?.rolloutState === "FAILED";` },
  { id: "skip-alarms-ignored", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (firing.length && !state.overrides.includes("skip-alarms")) {`, to: `if (firing.length) {` },
  { id: "manual-change-not-paused", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (changed && !state.paused) {`, to: `if (changed && state.paused) {` },
  { id: "abort-keeps-green", file: "src/deploy/bluegreen.ts", kind: "guard", from: `const remove = state.aborted || (shifting ?`, to: `const remove = (shifting ?` },
  { id: "traffic-on-green-not-checked", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (p.blue !== p.green && shareOf(r, p.green) > 0 && state.green === undefined) {`, to: `if (p.blue !== p.green && shareOf(r, p.blue) > 100 && state.green === undefined) {` },
  { id: "delete-scales-external", file: "src/deploy/delete.ts", kind: "guard", from: `if (s.desiredCount > 0 && !external) {`, to: `if (s.desiredCount > 0) {` },
  { id: "delete-not-active-is-failure", file: "src/deploy/delete.ts", kind: "guard", from: `/ServiceNotFound|ServiceNotActive/.test(input.error.name)`, to: `/ServiceNotFound/.test(input.error.name)` },
  { id: "abort-during-register-rolls-back", file: "src/deploy/rolling.ts", kind: "guard", from: `|| state.step === "register" || state.step === "resolveTaskDefinition") {`, to: `|| state.step === "resolveTaskDefinition") {` },
  { id: "abort-while-deleting-blue", file: "src/deploy/bluegreen.ts", kind: "guard", from: `"promotePrimary", "confirmPrimary", "deleteBlue", "confirmBlueGone"].includes(state.step);`, to: `"promotePrimary", "confirmPrimary", "confirmBlueGone"].includes(state.step);` },
  { id: "drain-event-every-poll", file: "src/deploy/rolling.ts", kind: "guard", from: `events: state.startedWaitingAt ? [] : [event("WaitingForDrain"`, to: `events: [event("WaitingForDrain"` },

  // Wrong values.
  { id: "adopt-any-green-of-the-revision", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `const mine = input.taskSets.find((t) => t.externalId === state.token);`, to: `const mine = input.taskSets.find((t) => t.taskDefinition === state.newTaskDefinitionArn);` },
  { id: "pair-green-is-blue", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `(pair[0] === tg ? pair[1] : pair[0])`, to: `(pair[0] === tg ? pair[0] : pair[1])` },
  { id: "green-without-token", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `externalId: state.token, scale:`, to: `externalId: state.spec.object, scale:` },
  { id: "delete-policy-swapped", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `(shifting ? state.spec.depdef.deleteNewUponTrafficShiftFailure : state.spec.depdef.deleteNewUponFailure)`, to: `(shifting ? state.spec.depdef.deleteNewUponFailure : state.spec.depdef.deleteNewUponTrafficShiftFailure)` },
  { id: "failures-counted-from-epoch", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `failuresOf: { taskDefinition: target, since: state.followingSince ?? 0 } }`, to: `failuresOf: { taskDefinition: target, since: 0 } }` },
  { id: "failures-counted-from-the-answer", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `followingSince: primary?.createdAt ?? now };`, to: `followingSince: now };` },
  { id: "resume-keeps-old-deadline", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `{ waitUntil: now + state.paused.remainingMs }`, to: `{ waitUntil: state.waitUntil }` },
  { id: "scaled-down-abort-reported-failed", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `finish(state, state.aborted ? "Aborted" : "Failed", andThen(f, "; the new service was scaled to 0")`, to: `finish(state, "Failed", andThen(f, "; the new service was scaled to 0")` },
  { id: "inactive-timeout-10-minutes", file: "src/deploy/delete.ts", kind: "wrong-value", from: `const INACTIVE_TIMEOUT_MS = 15 * 60 * 1000;`, to: `const INACTIVE_TIMEOUT_MS = 10 * 60 * 1000;` },
  { id: "unread-target-group-interval-zero", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `input.targetGroups.map((g) => g.healthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_S)`, to: `input.targetGroups.map((g) => g.healthCheckIntervalSeconds ?? 0)` },
  { id: "shift-weights-swapped", file: "src/deploy/traffic/route.ts", kind: "wrong-value", from: `[{ targetGroupArn: pair.blue, weight: 100 - weight }, { targetGroupArn: pair.green, weight }]`, to: `[{ targetGroupArn: pair.blue, weight }, { targetGroupArn: pair.green, weight: 100 - weight }]` },

  // More of the same kinds, added after the first full run.
  { id: "rollback-record-loses-new-failures", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `const countsRecord = ours ? { ...counts(ours), failed: state.step === "follow" ? failed : newFailed } : undefined;`, to: `const countsRecord = ours ? { ...counts(ours), failed } : undefined;` },
  { id: "deadline-from-service-desired", file: "src/deploy/rolling.ts", kind: "wrong-value", from: `const desired = primary?.desiredCount ?? service.desiredCount;`, to: `const desired = service.desiredCount;` },
  { id: "missing-deployment-deadline-late", file: "src/deploy/rolling.ts", kind: "boundary", from: `if (now < (state.deadline ?? Infinity)) return go(base, state.step, sleep(state), record());`, to: `if (now <= (state.deadline ?? Infinity)) return go(base, state.step, sleep(state), record());` },
  { id: "first-wait-sleep-whole-poll", file: "src/deploy/bluegreen.ts", kind: "rounding", from: `return go(next, "wait", nextWatch(next, now), kind === "bake"`, to: `return go(next, "wait", poll(next), kind === "bake"` },
  { id: "green-failures-from-epoch", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `taskDefinition: state.green.taskDefinition, since: state.greenSince ?? 0 } }`, to: `taskDefinition: state.green.taskDefinition, since: 0 } }` },
  { id: "first-creation-shifts-canary", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (state.routes.length === 0 || state.mode === "create") {`, to: `if (state.routes.length === 0) {` },
  { id: "first-creation-failure-keeps-green", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (remove && state.green) {`, to: `if (remove && state.green && state.blue) {` },

  { id: "update-sends-deployment-controller", file: "src/deploy/service-request.ts", kind: "guard", from: `&& key !== "cluster" && key !== "deploymentController") request[key] = value;`, to: `&& key !== "cluster") request[key] = value;` },
  { id: "grace-period-without-load-balancer", file: "src/deploy/bluegreen.ts", kind: "guard", from: `if (svcLoadBalancers(state).length === 0) delete request["healthCheckGracePeriodSeconds"];`, to: `if (svcLoadBalancers(state).length < 0) delete request["healthCheckGracePeriodSeconds"];` },
  { id: "task-set-without-network", file: "src/deploy/bluegreen.ts", kind: "wrong-value", from: `const TASK_SET_LEVEL = ["networkConfiguration", "launchType",`, to: `const TASK_SET_LEVEL = ["launchType",` },

  // Traffic: what a route sends where.
  { id: "drift-tolerates-a-percent", file: "src/deploy/traffic/route.ts", kind: "boundary", from: `if (share !== wanted) return {`, to: `if (Math.abs(share - wanted) > 1) return {` },
  { id: "default-rule-taken-as-a-rule", file: "src/deploy/traffic/alb.ts", kind: "guard", from: `if (!rule.isDefault && forwardsTo(rule.actions, wanted))`, to: `if (forwardsTo(rule.actions, wanted))` },

  // The status sweep: what it counts as a failed task, from when, whose.
  { id: "failures-strictly-after-start", file: "src/deploy/sweep.ts", kind: "boundary", from: `t.createdAt < scope.since || !isFailedTask(t)) continue;`, to: `t.createdAt <= scope.since || !isFailedTask(t)) continue;` },
  { id: "failed-to-start-not-counted", file: "src/deploy/sweep.ts", kind: "guard", from: `if (t.stopCode === "TaskFailedToStart" || t.stopCode === "EssentialContainerExited") return true;`, to: `if (t.stopCode === "EssentialContainerExited") return true;` },
  { id: "exited-not-a-failure", file: "src/deploy/sweep.ts", kind: "guard", from: `/health check|CannotPull|ResourceInitializationError|OutOfMemory|exited/i`, to: `/health check|CannotPull|ResourceInitializationError|OutOfMemory/i` },
  { id: "other-revisions-counted", file: "src/deploy/sweep.ts", kind: "guard", from: `if (t.taskDefinitionArn !== scope.taskDefinition || t.createdAt`, to: `if (t.createdAt` },
  { id: "other-services-counted", file: "src/deploy/sweep.ts", kind: "guard", from: `if (group !== undefined ? t.group !== group : t.startedBy`, to: `if (group !== undefined ? false : t.startedBy` },
  { id: "last-reason-oldest", file: "src/deploy/sweep.ts", kind: "wrong-value", from: `if (!last || (t.stoppedAt ?? 0) >= (last.stoppedAt ?? 0)) last = t;`, to: `if (!last || (t.stoppedAt ?? 0) <= (last.stoppedAt ?? 0)) last = t;` },
  { id: "describe-services-100-a-call", file: "src/deploy/sweep.ts", kind: "wrong-value", from: `chunks(names, 10).map(async (chunk) => {`, to: `chunks(names, 100).map(async (chunk) => {`, tests: WITH_SWEEP },
  // ECS-managed: production traffic and lifecycle stages, no success once a stop was sent, abort → StopServiceDeployment(ROLLBACK), PAUSE hooks.
  { id: "managed-breaker-late", file: "src/deploy/ecs-managed.ts", kind: "boundary", from: `failed >= threshold) return because("CircuitBreakerTripped"`, to: `failed > threshold) return because("CircuitBreakerTripped"`, tests: MANAGED_TESTS },
  { id: "managed-timeout-late", file: "src/deploy/ecs-managed.ts", kind: "boundary", from: `now >= state.deadline && d.lifecycleStage === "SCALE_UP"`, to: `now > state.deadline && d.lifecycleStage === "SCALE_UP"`, tests: MANAGED_TESTS },
  { id: "managed-timeout-before-scale-up", file: "src/deploy/ecs-managed.ts", kind: "guard", from: `if (d.lifecycleStage === "SCALE_UP") next.deadline ??=`, to: `if (d.lifecycleStage !== undefined) next.deadline ??=`, tests: MANAGED_TESTS },
  { id: "managed-steady-during-scale-up", file: "src/deploy/ecs-managed.ts", kind: "early-success", from: `LIFECYCLE_STAGES.slice(LIFECYCLE_STAGES.indexOf("POST_SCALE_UP"))`, to: `LIFECYCLE_STAGES.slice(LIFECYCLE_STAGES.indexOf("SCALE_UP"))`, tests: MANAGED_TESTS },
  { id: "managed-success-after-stop", file: "src/deploy/ecs-managed.ts", kind: "guard", from: `if (state.failure) return revert(state, state.failure, now, true);`, to: `if (state.failure && !state.stopSent) return revert(state, state.failure, now, true);`, tests: MANAGED_TESTS },
  { id: "managed-abort-needs-depdef-rollback", file: "src/deploy/ecs-managed.ts", kind: "guard", from: `const mayRollBack = state.aborted !== undefined || state.spec.depdef.gmDeploymentCircuitBreaker.rollback;`, to: `const mayRollBack = state.spec.depdef.gmDeploymentCircuitBreaker.rollback;`, tests: MANAGED_TESTS },
  { id: "managed-stop-type-abort", file: "src/deploy/runner.ts", kind: "wrong-value", from: `stopType: "ROLLBACK" });`, to: `stopType: "ABORT" });`, tests: MANAGED_TESTS },
  { id: "managed-hooks-continued-unpromoted", file: "src/deploy/ecs-managed.ts", kind: "guard", from: `if (waiting && next.promoted) return continueHook(next, waiting, next.promoted.by);`, to: `if (waiting && !next.promoted) return continueHook(next, waiting, "nobody");`, tests: MANAGED_TESTS },
  { id: "managed-continue-rolls-back", file: "src/deploy/ecs-managed.ts", kind: "wrong-value", from: `hookId, action: "CONTINUE" });`, to: `hookId, action: "ROLLBACK" });`, tests: MANAGED_TESTS },
  { id: "managed-lambda-hook-awaited", file: "src/deploy/ecs-managed.ts", kind: "wrong-value", from: `if (h.targetType === "PAUSE" && h.status === "AWAITING_ACTION") return event("HookAwaiting"`, to: `if (h.status === "AWAITING_ACTION" || h.status === "IN_PROGRESS") return event("HookAwaiting"`, tests: MANAGED_TESTS },
  { id: "managed-zero-weight-unrecorded", file: "src/deploy/ecs-managed.ts", kind: "boundary", from: `...(weight !== undefined && !reverting ? { trafficWeight: weight } : {})`, to: `...(weight && !reverting ? { trafficWeight: weight } : {})`, tests: MANAGED_TESTS },
  { id: "managed-stage-passed-repeats-last", file: "src/deploy/ecs-managed.ts", kind: "boundary", from: `(to > from + 1 ? LIFECYCLE_STAGES.slice(from + 1, to) : [])`, to: `(to > from + 1 ? LIFECYCLE_STAGES.slice(from, to) : [])`, tests: MANAGED_TESTS },
  { id: "managed-bake-is-shifting", file: "src/deploy/ecs-managed.ts", kind: "wrong-value", from: `  BAKE_TIME: "Baking",`, to: `  BAKE_TIME: "Shifting",`, tests: MANAGED_TESTS },
  { id: "managed-locate-one-more", file: "src/deploy/ecs-managed.ts", kind: "boundary", from: `if (tries < LOCATE_TRIES) return go(`, to: `if (tries <= LOCATE_TRIES) return go(`, tests: MANAGED_TESTS },

  // Rainbow: the version's name, the rule priority it takes, removing what a failed deploy made, the cleanup's choice.
  { id: "rainbow-commit-version-7", file: "src/config/rainbow.ts", kind: "wrong-value", from: `export const COMMIT_VERSION_LENGTH = 8;`, to: `export const COMMIT_VERSION_LENGTH = 7;`, tests: RAINBOW_TESTS },
  { id: "rainbow-commit-over-block-version", file: "src/deploy/rainbow/machine.ts", kind: "wrong-value", from: `(cfg?.version ?? (spec.commitSha ? versionFromCommit(spec.commitSha) : undefined))`, to: `(spec.commitSha ? versionFromCommit(spec.commitSha) : cfg?.version)`, tests: RAINBOW_TESTS },
  { id: "rainbow-priority-range-end-unused", file: "src/deploy/rainbow/world.ts", kind: "boundary", from: `for (let p = range.from; p <= range.to; p++)`, to: `for (let p = range.from; p < range.to; p++)`, tests: RAINBOW_TESTS },
  { id: "rainbow-priority-retaken", file: "src/deploy/rainbow/machine.ts", kind: "wrong-value", from: `taken: input.world.listeners.find((w) => w.listenerArn === l.listenerArn)?.rules.map((r) => r.priority) ?? l.taken`, to: `taken: l.taken`, tests: RAINBOW_TESTS },
  { id: "rainbow-priority-retries-one-fewer", file: "src/deploy/rainbow/machine.ts", kind: "retry", from: `if (retries > 5) return failDeploy(`, to: `if (retries >= 5) return failDeploy(`, tests: RAINBOW_TESTS },
  { id: "rainbow-foreign-rule-adopted", file: "src/deploy/rainbow/machine.ts", kind: "guard", from: `for (const r of mine?.targetGroupArn === state.targetGroupArn ? (mine?.rules ?? []) : []) {`, to: `for (const r of mine?.rules ?? []) {`, tests: RAINBOW_TESTS },
  { id: "rainbow-failed-rule-leaks-group", file: "src/deploy/rainbow/machine.ts", kind: "guard", from: `const made = state.targetGroupArn !== undefined || state.rules.length > 0 || state.serviceRequested;`, to: `const made = state.rules.length > 0 || state.serviceRequested;`, tests: RAINBOW_TESTS },
  { id: "rainbow-undo-keeps-service", file: "src/deploy/rainbow/machine.ts", kind: "wrong-value", from: `hasService: state.serviceRequested === true };`, to: `hasService: false };`, tests: RAINBOW_TESTS },
  { id: "rainbow-group-deleted-before-drained", file: "src/deploy/rainbow/machine.ts", kind: "guard", from: `const order: RbStep[] = ["removeRules", "removeServices", "waitRemoved", "removeGroups"];`, to: `const order: RbStep[] = ["removeRules", "removeServices", "removeGroups", "waitRemoved"];`, tests: RAINBOW_TESTS },
  { id: "rainbow-breaker-late", file: "src/deploy/rainbow/machine.ts", kind: "boundary", from: `if (state.step === "waitVersion" && threshold > 0 && failed >= threshold) {`, to: `if (state.step === "waitVersion" && threshold > 0 && failed > threshold) {`, tests: RAINBOW_TESTS },
  { id: "rainbow-steady-one-healthy-target", file: "src/deploy/rainbow/machine.ts", kind: "steady", from: `(desired === 0 || healthy >= desired || !subject.targetGroupArn)`, to: `(desired === 0 || healthy > 0 || !subject.targetGroupArn)`, tests: RAINBOW_TESTS },
  { id: "rainbow-cleanup-keeps-oldest", file: "src/deploy/rainbow/world.ts", kind: "wrong-value", from: `candidates.sort((a, b) => age(b) - age(a) ||`, to: `candidates.sort((a, b) => age(a) - age(b) ||`, tests: RAINBOW_TESTS },
];
