/**
 * Every reason a deployment record can give and every event type on its timeline: one table each,
 * with the message template and the line docs/deployments.md shows (a test checks the page lists
 * them all). The machines build reasons and events only through `because` and `event`, so a
 * misspelt name or a missing template value is a type error.
 *
 * A template's `{slot}`s are filled from the arguments; an entry whose message has several shapes
 * lists them as named variants, and the caller names the variant.
 */
import type { NewEvent, Phase } from "../store/types.ts";

type Slots<T> = T extends `${string}{${infer Slot}}${infer Rest}` ? Slot | Slots<Rest> : never;
type Values<T> = { [K in Slots<T>]: string | number };
type Template = string | Readonly<Record<string, string>>;
/** What a caller passes for a template: its slots' values, and `variant` when it has variants. */
export type ArgsOf<M extends Template> = M extends string ? Values<M> : { [V in keyof M]: { variant: V } & Values<M[V]> }[keyof M];

interface Entry {
  message: Template;
  doc: string;
}

/**
 * Why a deployment is where it is. A reason is set when something stops the deployment (or, for
 * `ManualChange`, pauses it) and stays on the record once it ends.
 */
export const REASONS = {
  // Before anything is changed
  ClusterNotFound: { message: "{error}", doc: "The cluster does not exist in the region; nothing was changed." },
  AccessDenied: { message: "{error}", doc: "AWS refused to describe the service with the credentials in use; nothing was changed." },
  DescribeFailed: {
    message: { error: "{error}", services: "DescribeServices failed: {error}", listeners: "reading the listeners failed: {error}", rainbow: "reading the listeners, rules and versions failed: {error}" },
    doc: "Reading the service, its task sets, its listeners or (rainbow) its versions failed with an error that is not retried (retried errors end in `AwsUnavailable`).",
  },
  ServiceStillDraining: {
    message: { rolling: "service {service} is still DRAINING after {seconds}s; it must be INACTIVE before it can be created again", bluegreen: "service {service} is still DRAINING" },
    doc: "A previous service of that name stayed DRAINING past the stability timeout, so it could not be created again.",
  },
  NotUpdatableInPlace: {
    message: { rolling: "{blockers}", bluegreen: "the live service uses the {controller} deployment controller and the svcdef asks for EXTERNAL; Flotilla does not switch a live service between rolling and blue/green (deploy it as a new service instead)" },
    doc: "The svcdef changes something ECS cannot change on a live service (the deployment controller, the launch type); nothing was changed.",
  },
  TaskDefinitionNotFound: { message: 'the svcdef\'s taskDefinition "{taskDefinition}" cannot be used: {error}', doc: "The object has no taskdef file and the svcdef's `taskDefinition` cannot be described." },
  TaskDefinitionRejected: { message: "{call} failed: {error}", doc: "RegisterTaskDefinition (or DescribeTaskDefinition) refused the task definition." },
  DescribeAlarmsFailed: { message: "{error}", doc: "Blue/green and ECS-managed: the depdef's alarms could not be read before the start; nothing was changed. Rainbow cutover: before the switch; the live route was not changed." },
  AlarmNotFound: { message: "{alarms} {verb} not exist in {region}; nothing was changed", doc: "Blue/green and ECS-managed: an alarm the depdef names does not exist; nothing was changed. Rainbow cutover: the same, checked just before the switch; the live route was not changed." },
  AlarmFiringBeforeStart: {
    message: "alarm {alarms} is already in ALARM, so a shift could not be judged; nothing was changed (to deploy a fix anyway, use the skip-alarms override)",
    doc: "Blue/green and ECS-managed update: an alarm of the depdef was already in ALARM before the start (not checked when the service is first created); the `skip-alarms` override deploys anyway.",
  },
  ForeignTaskSet: {
    message: {
      beside: "{taskSets} {verb} active beside the primary task set {primary} (another deployment, or a change made by hand); {changed} — delete {them} or wait for {them}, then deploy again",
      noPrimary: "{taskSets} {verb} active and the service has no PRIMARY task set (another deployment's first task set, or a change made by hand); {changed} — delete {them} or wait for {them}, then deploy again",
    },
    doc: "Blue/green: a task set that is neither blue nor this deployment's green is active (beside the PRIMARY one, or on a service that has none); no task set or traffic was touched.",
  },
  TargetGroupNotInPairs: { message: "the live task set uses target group {targetGroup}, which is in no targetGroupArnPairs pair of the depdef; nothing was changed", doc: "Blue/green: blue's target group is in no pair of `targetGroupArnPairs`." },
  ListenerRulesInvalid: {
    message: "{problem}; nothing was changed",
    doc: "ECS-managed: a production or test listener rule of `advancedConfiguration` does not exist, does more than forward, or the rules do not forward to both target groups, so ECS would roll the deployment back as it starts; nothing was changed.",
  },
  TrafficAlreadyOnGreen: { message: "{route} already sends traffic to {targetGroup}, the target group this deployment would use for the new revision; nothing was changed", doc: "Blue/green: a listener or rule already sends traffic to the target group green would use." },
  // Rainbow: before a version is made or cut over to
  VersionUnnamed: { message: "{object} has no version name: its rainbow block gives no version and the deployment has no commit", doc: "Rainbow: the version could not be named (no `rainbow.version`, no commit); nothing was changed." },
  VersionExists: { message: "version {version} already exists ({what}): give the new deployment another version name, or clean that version up first", doc: "Rainbow: a version of that name already exists; versions are never changed in place, so nothing was changed." },
  ListenerNotFound: { message: "{error}", doc: "Rainbow: a listener or live rule of the rainbow block does not exist; nothing was changed." },
  VersionNotFound: { message: "version {version} of {object} cannot be cut over to: {what}", doc: "Rainbow cutover: the version is not (fully) deployed; nothing was changed." },
  // Changing the service
  CreateServiceRejected: { message: "CreateService failed: {error}", doc: "CreateService refused the svcdef." },
  UpdateServiceRejected: { message: "UpdateService failed: {error}", doc: "UpdateService refused the change." },
  CreateTaskSetRejected: { message: "CreateTaskSet failed: {error}", doc: "Blue/green: CreateTaskSet refused the green task set." },
  TargetGroupRejected: { message: "CreateTargetGroup failed: {error}", doc: "Rainbow: CreateTargetGroup refused the version's target group." },
  CreateRuleRejected: { message: "CreateRule on listener {listener} failed: {error}", doc: "Rainbow: CreateRule refused the version's listener rule (or its priority was taken again and again)." },
  NoFreeRulePriority: { message: "listener {listener} has no free rule priority between {from} and {to}", doc: "Rainbow: every priority of `rulePriorities` is taken on a listener." },
  ScaleFailed: { message: "scaling version {version} to {desired} tasks failed: {error}", doc: "Rainbow cutover: UpdateService refused to scale the version to the live count; the live route was not changed." },
  // While the new revision is watched
  CircuitBreakerTripped: { message: "{failed} {which} tasks failed (Flotilla's circuit breaker threshold is {threshold}){last}", doc: "Flotilla's circuit breaker: as many new (green) tasks failed as the threshold `min(failureThreshold, ceil(failureThresholdPercent% × desired))`." },
  EcsCircuitBreakerRolledBack: { message: "ECS's deployment circuit breaker failed the deployment{why}", doc: "Rolling and ECS-managed: ECS's own circuit breaker failed the deployment and rolled the service back; Flotilla followed the rollback." },
  EcsDeploymentFailed: { message: "ECS failed the deployment: {why}", doc: "Rolling: ECS marked the deployment FAILED without rolling it back." },
  EcsAlarmRolledBack: { message: "ECS rolled the deployment back: alarm {alarms} went into ALARM{stage}{why}", doc: "ECS-managed: an alarm of the svcdef's `deploymentConfiguration.alarms` went into ALARM and ECS rolled the deployment back." },
  LifecycleHookFailed: { message: "lifecycle hook {hook} answered {status} in {stage}", doc: "ECS-managed: a lifecycle hook failed or timed out (or a PAUSE hook was continued with ROLLBACK) and ECS rolled the deployment back." },
  EcsDeploymentRolledBack: { message: "ECS rolled the deployment back: {why}", doc: "ECS-managed: ECS rolled the deployment back for another reason, in its words (invalid networking, a stop made outside Flotilla)." },
  EcsDeploymentStopped: { message: "ECS stopped the deployment without rolling back ({why}); production traffic stays {weight}% on the new revision", doc: "ECS-managed: ECS detected a failure with rollback off in the svcdef and stopped the deployment where it was." },
  StabilityTimeout: {
    message: {
      rolling: "the deployment did not stabilise in time: {counts}",
      noDeployment: "ECS shows no deployment of {taskDefinition} for this service",
      green: "green did not stabilise in time: {running}/{desired} running after {seconds}s{unknown}",
      managed: "the new revision did not stabilise in time: {running}/{desired} running after {seconds}s in SCALE_UP",
      noServiceDeployment: "ECS shows no service deployment of {taskDefinition} for this service",
      version: "version {version} did not become stable with healthy targets in time: {running}/{desired} running, {healthy} healthy after {seconds}s",
    },
    doc: "The new tasks were not stable within `max(timeout, timeoutPerTask × desired)`.",
  },
  ServiceGone: { message: "service {service} is {status} while being deployed: it was deleted outside Flotilla", doc: "Rolling: the service was deleted while it was being deployed." },
  Superseded: { message: "another deployment of {taskDefinition} replaced this one while it was in progress (a change made outside this deployment)", doc: "Rolling and ECS-managed: another deployment of the service (made outside this one) replaced it while it ran." },
  GreenTaskSetGone: { message: "the green task set {taskSet} disappeared (deleted outside Flotilla)", doc: "Blue/green: the green task set was deleted outside Flotilla." },
  // Traffic
  ShiftFailed: { message: "changing listener weights failed: {error}", doc: "Blue/green: ModifyListener or ModifyRule failed." },
  TrafficNotVerified: { message: "the listener weights were set to {weight}% on green, but {readBack}", doc: "Blue/green: a weight change was accepted, but reading the listeners and rules back shows another split." },
  CutoverFailed: { message: "switching the live route to version {version} failed: {error}", doc: "Rainbow cutover: ModifyListener or ModifyRule failed; the live route is put back." },
  CutoverNotVerified: { message: "the live route was set to version {version}, but {readBack}", doc: "Rainbow cutover: the switch was accepted, but reading the live route back shows another target; it is put back." },
  AlarmFired: { message: "alarm {alarms} went into ALARM {when}: {stateReason}", doc: "Blue/green and ECS-managed: an alarm of the depdef went into ALARM while the deployment ran (ECS-managed: Flotilla then stops ECS's deployment with rollback). Rainbow: after a cutover, while the alarms are watched; the live route is cut back." },
  ManualChange: {
    message: "{change}: the deployment is paused rather than fighting the change — `flotilla resume` re-applies Flotilla's weights and continues, `flotilla abort` rolls back, `flotilla promote` finishes",
    doc: "Blue/green: the weights were changed outside Flotilla during a wait; the deployment pauses (it is not a failure) until resumed, aborted or promoted.",
  },
  // Finishing
  PromoteFailed: { message: { call: "UpdateServicePrimaryTaskSet failed: {error}", readBack: "reading the task sets after UpdateServicePrimaryTaskSet failed: {error}" }, doc: "Blue/green: making green the primary task set, or reading it back, failed." },
  PromoteNotConfirmed: { message: "UpdateServicePrimaryTaskSet answered, but ECS still shows the green task set {taskSet} as {status} after {checks} reads; blue was kept", doc: "Blue/green: green never showed PRIMARY after UpdateServicePrimaryTaskSet; blue was kept." },
  BlueNotDeleted: { message: "the new revision is live, but deleting the old task set failed: {why}; delete task set {taskSet} by hand", doc: "Blue/green, Succeeded: green serves all traffic, but the old task set could not be deleted." },
  // Undoing
  RollbackFailed: {
    message: {
      call: "{failure}; then {what} failed: {error}",
      failedToo: "{failure}; then the rollback failed too: {why}",
      timeout: "{failure}; then the rollback did not stabilise either: {counts}",
      noDeployment: "{failure}; {why}",
    },
    doc: "Rolling and ECS-managed: the rollback (StopServiceDeployment, ECS's own rollback, or scaling a new service to 0) failed, or the previous revision did not become stable again.",
  },
  RestoreFailed: { message: "{failure}; then putting traffic back on blue failed: {error} — check the listeners by hand", doc: "Blue/green: moving traffic back to blue failed; check the listeners by hand." },
  CutBackFailed: { message: "{failure}; then putting the live route back failed: {error} — check the listeners by hand", doc: "Rainbow cutover: putting the live route back as it was failed; check the listeners by hand." },
  Aborted: { message: "aborted by {by}{when}", doc: "An operator aborted the deployment (`flotilla abort`, the API)." },
  AwsUnavailable: { message: "{error} (gave up after {retries} retries)", doc: "An AWS call kept failing with retryable errors (throttling, 5xx) and Flotilla gave up." },
  // Deleting a service
  AlreadyDeleted: { message: "service {service} does not exist or is already INACTIVE: nothing to delete", doc: "Delete, Succeeded: the service was already gone." },
  ScaleDownFailed: { message: "UpdateService desiredCount 0 failed: {error}", doc: "Delete: scaling the service to 0 failed." },
  DeleteFailed: { message: "DeleteService failed: {error}", doc: "Delete: DeleteService failed." },
  StillDraining: { message: "service {service} is still DRAINING after {minutes} minutes", doc: "Delete: the service did not become INACTIVE within 15 minutes." },
  CleanupIncomplete: { message: "{done}; but {problems}", doc: "Rainbow cleanup or delete, Succeeded: some of a version could not be removed (a rule, service or target group); the message says which." },
  // Outside the machines
  RehearsalEnded: { message: "{message}", doc: "`flotilla rehearse`: the rehearsal ended before the deployment did." },
} as const satisfies Record<string, Entry>;

/** Event types on a deployment's timeline. */
export const EVENTS = {
  Pending: { message: "queued {strategy} deployment of {object}", doc: "The deployment was recorded and waits to run." },
  Started: {
    message: {
      rolling: "deploying {object} to {service} in {cluster} ({region})",
      bluegreen: "blue/green deployment of {object} to {service} in {cluster} ({region}){overrides}",
      delete: "deleting service {service} from {cluster} ({region}): its svcdef was removed",
      managed: "ECS-managed {strategy} deployment of {object} to {service} in {cluster} ({region}){overrides}",
      rainbow: "deploying version {version} of {object} as service {service} in {cluster} ({region})",
      cutover: "cutover of {object} to version {version}, requested by {by}",
      cleanup: "cleaning up the versions of {object}, requested by {by}",
      deleteVersions: "deleting every version of {object} from {cluster} ({region}): its svcdef was removed",
    },
    doc: "The deployment began.",
  },
  WaitingForDrain: {
    message: { rolling: "a previous service named {service} is DRAINING; waiting for it to become INACTIVE before creating it again", bluegreen: "a previous service of that name is DRAINING; waiting for INACTIVE" },
    doc: "A service of that name is DRAINING; Flotilla waits for it to be INACTIVE before creating it.",
  },
  HealthChecksUnknown: { message: "reading the target groups' health checks failed ({error}); assuming a {seconds}s interval", doc: "Rolling: the target groups' health-check intervals could not be read; the dwell assumes ALB's default." },
  TaskDefinitionRegistered: { message: "registered {taskDefinitionArn}", doc: "The taskdef was registered as a new revision." },
  ServiceCreated: { message: { rolling: "created service {service} with {taskDefinitionArn}", bluegreen: "created blue/green service {service}", version: "created service {service} with {taskDefinitionArn}" }, doc: "CreateService answered." },
  ServiceUpdated: { message: "updated service {service} with {taskDefinitionArn}", doc: "Rolling and ECS-managed: UpdateService answered." },
  ServiceDeploymentStarted: { message: "following ECS service deployment {id} ({strategy})", doc: "ECS-managed: the service deployment ECS started (or the one a restart found) is followed." },
  LifecycleStage: { message: "{revision}: {stage}{passed}", doc: "ECS-managed: the service deployment entered a lifecycle stage; stages ECS passed between two looks are named." },
  ProductionTraffic: { message: "{weight}% of production traffic on {revision}{test}", doc: "ECS-managed: ECS moved the production listener rule's weights (its requested production traffic weight)." },
  LifecycleHook: { message: "{hook} in {stage}: {status}", doc: "ECS-managed: a lifecycle hook's status changed (IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT)." },
  HookAwaiting: { message: "waiting at PAUSE hook {hookId} in {stage}: `flotilla resume` (or `promote`) continues, `flotilla abort` rolls back", doc: "ECS-managed: a PAUSE lifecycle hook waits for ContinueServiceDeployment." },
  HookContinued: { message: "PAUSE hook {hookId} continued (by {by})", doc: "ECS-managed: Flotilla sent ContinueServiceDeployment for a waiting PAUSE hook (resume, promote)." },
  HookNotContinued: { message: "continuing PAUSE hook {hookId} (by {by}) failed: {error}", doc: "ECS-managed: ContinueServiceDeployment failed; the hook still waits." },
  Progress: {
    message: {
      rolling: "{running}/{desired} running, {pending} pending, {failed} failed{rollout}",
      green: "green: {running}/{desired} running, {pending} pending, {failed} failed ({stability}{unknown})",
      managed: "{which}: {running}/{desired} running, {pending} pending, {failed} failed",
      version: "version {version}: {running}/{desired} running, {healthy} healthy targets, {failed} failed",
    },
    doc: "Task counts changed (written only when they change); `?` is a count ECS did not report.",
  },
  NoRoutes: { message: "no listener or rule forwards to the service's target groups: there is no traffic to shift", doc: "Blue/green: no listener or rule forwards to the pair, so green takes over without shifting." },
  GreenCreated: { message: "created the green task set {taskSet} with {taskDefinitionArn}{targetGroups}", doc: "Blue/green: the green task set was created." },
  GreenStable: { message: "green is stable: {running}/{desired} tasks running and healthy for {seconds}s", doc: "Blue/green: green stayed stable for the dwell; shifting starts." },
  Shifted: { message: "{weight}% of traffic on green (step {step} of {steps})", doc: "Blue/green: the listener and rule weights moved (and were read back)." },
  Baking: { message: "baking at 100% for {seconds}s, watching alarms", doc: "Blue/green: all traffic is on green; alarms are watched for `bakeTime` before blue is removed." },
  ManualChange: { message: "{change}", doc: "Blue/green: the weights were changed outside Flotilla; the deployment paused (reason `ManualChange`)." },
  GreenPrimary: { message: { deleting: "green task set {taskSet} is now PRIMARY", only: "task set {taskSet} is PRIMARY" }, doc: "Blue/green: ECS shows green as the primary task set." },
  BlueDeleted: { message: "old task set {taskSet} is draining and being deleted", doc: "Blue/green: the old task set is being deleted." },
  EcsRolledBack: { message: "{failure} and is rolling back to {taskDefinition}", doc: "Rolling: ECS's circuit breaker rolled the deployment back; Flotilla follows the rollback." },
  RollbackStarted: { message: "rolling back to {taskDefinition}", doc: "Rolling (and ECS-managed after ECS had finished): Flotilla updates the service back to the previous revision." },
  EcsRollingBack: { message: "{failure}; ECS is rolling back to {taskDefinition}", doc: "ECS-managed: ECS rolls the deployment back (its alarms, its circuit breaker, a hook); Flotilla follows." },
  StopRequested: { message: "StopServiceDeployment sent for {id}: ECS rolls the service back to {taskDefinition}", doc: "ECS-managed: Flotilla's checks failed (or an operator aborted) and Flotilla stopped ECS's deployment with rollback." },
  ScalingDown: { message: "scaling the new service to 0 so failing tasks stop (deleteNewUponFailure)", doc: "Rolling and ECS-managed: a new service that failed is scaled to 0 (`deleteNewUponFailure`)." },
  RestoringBlue: { message: "moving traffic back to blue from {weight}% on green", doc: "Blue/green: traffic goes back to blue after a failure." },
  TrafficRestored: { message: "all traffic is back on blue", doc: "Blue/green: blue serves all traffic again." },
  ScaledDown: { message: "scaled to 0 tasks", doc: "Delete: the service was scaled to 0." },
  // Rainbow
  TargetGroupCreated: { message: "created target group {name}", doc: "Rainbow: the version's target group was created." },
  RuleCreated: { message: "created the rule at priority {priority} on listener {listener} for {conditions}", doc: "Rainbow: the version's listener rule was created (one per listener)." },
  PriorityTaken: { message: "priority {priority} on listener {listener} was taken meanwhile: choosing again", doc: "Rainbow: another rule took the chosen priority before CreateRule; the listener is read again." },
  VersionReady: { message: "version {version} is up at {url}{note}; live traffic is unchanged", doc: "Rainbow: the version is stable with healthy targets; its URL." },
  UndoingVersion: { message: "removing what this deployment made for version {version}", doc: "Rainbow: a failed deploy removes the version's rule, service and target group (`deleteNewUponFailure`)." },
  AlreadyLive: { message: "version {version} is already live: nothing to switch", doc: "Rainbow cutover: the live route already sends everything to the version." },
  Scaling: { message: "scaling version {version} from {from} to {to} tasks, the live version's count", doc: "Rainbow cutover: the version is scaled to the live version's desired count (`scaleToLive`)." },
  CutOver: { message: "the live route sends all traffic to version {version} now (was {from}); cut over by {by}", doc: "Rainbow: the live route was switched and read back." },
  WatchingAlarms: { message: "watching {alarms} for {seconds}s after the cutover", doc: "Rainbow: the depdef's alarms are watched for `bakeTime` after a cutover." },
  CutBack: { message: "cutting back: the live route goes back to {to}", doc: "Rainbow: a failed, alarmed or aborted cutover puts the live route back as it was." },
  CleanupStarted: { message: "{why}", doc: "Rainbow: a cleanup follows the cutover (`cleanup.automatic`)." },
  CleanupPlanned: { message: "removing {remove}; keeping {keep}", doc: "Rainbow: which versions a cleanup (or delete) removes and which it keeps, and why." },
  RuleDeleted: { message: "deleted the rule of version {version} ({rule})", doc: "Rainbow: a version's listener rule was deleted." },
  VersionServiceDeleted: { message: "deleted service {service}", doc: "Rainbow: a version's service was deleted (it drains, then becomes INACTIVE)." },
  TargetGroupDeleted: { message: "deleted target group {name}", doc: "Rainbow: a version's target group was deleted." },
  TargetGroupKept: { message: "target group {name} is kept: {why}", doc: "Rainbow: a version's target group could not be deleted (a route still forwards to it)." },
  ServiceDeleted: { message: "DeleteService accepted; waiting for INACTIVE", doc: "Delete: DeleteService answered; Flotilla waits for INACTIVE." },
  Retrying: { message: "{error}: retrying in {seconds}s", doc: "An AWS call failed with a retryable error; it is repeated after a back-off." },
  FoundAfterError: {
    message: "{operation} failed ({error}), but its {what} exists: carrying on with it",
    doc: "A create failed with an error that may hide success (5xx, network, an unreadable answer); Flotilla looked before sending it again and found what it made (an endpoint that ignores the clientToken would otherwise make a second one).",
  },
  Resumed: {
    message: {
      restart: "resumed after a restart in step {step}",
      repeating: "resumed after a restart: repeating {effect}",
      applied: "resumed after a restart: {effect} had been applied",
      greenFound: "resumed after a restart: the green task set had been created",
      greenAgain: "resumed after a restart: creating the green task set again",
      operator: "resumed by {by}",
    },
    doc: "The deployment carried on: after a restart of Flotilla (what it found), or after an operator's resume.",
  },
  Interrupted: { message: "the deployment stopped in this process: {error}", doc: "An exception stopped the deployment before it reached a phase; the next run resumes it." },
  // Ownership: one process drives a deployment at a time (docs/store.md, "Several replicas")
  Adopted: {
    message: {
      expired: "adopted by {owner} (token {token}): the lease of {previous} ended at {ended}",
      unowned: "adopted by {owner} (token {token}): no process owned it",
    },
    doc: "Another process took the deployment over: its owner's lease had expired (it died or stalled) or was released (it stopped); it carries on from the recorded state, re-reading AWS first.",
  },
  Released: { message: "{owner} released the deployment (token {token}): {why}", doc: "The owning process gave the deployment up (it is stopping); another process adopts it at once." },
  OwnershipLost: { message: "{owner} stopped acting on the deployment: {why}", doc: "The process driving the deployment lost its lease (another process adopted it); it stopped before its next AWS call." },
  // Operator controls
  Abort: { message: "abort requested by {by}", doc: "Blue/green and ECS-managed: an operator aborted; traffic goes back to blue (ECS-managed: StopServiceDeployment). Rainbow: a deploy removes what it made; a cutover being watched cuts back." },
  AbortIgnored: { message: "abort by {by} came too late: the deployment is already {doing}", doc: "Blue/green: an abort arrived while the deployment was already finishing or rolling back." },
  AbortNoted: { message: "aborted by {by}; the deployment is already rolling back", doc: "Rolling and ECS-managed: an abort arrived while the deployment was already rolling back; it ends Aborted." },
  Promote: {
    message: {
      bluegreen: "promote requested by {by}: skipping the remaining waits",
      managed: "promote requested by {by}: PAUSE hooks of this deployment are continued as they come; ECS's bake and step waits cannot be skipped",
      rainbow: "promote requested by {by}: the alarm watch after the cutover ends now",
    },
    doc: "An operator promoted: blue/green skips the remaining waits and the bake; ECS-managed continues every PAUSE hook; a rainbow cutover ends its alarm watch.",
  },
  PromoteIgnored: { message: "promote by {by}: the deployment is already finishing", doc: "Blue/green: a promote arrived while the deployment was finishing." },
  Paused: { message: "paused by {by}: traffic stays at {weight}% on green; alarms are still watched", doc: "Blue/green: an operator paused; the weights stay, alarms are still watched." },
  PauseIgnored: { message: "pause by {by}: {why}", doc: "Blue/green: a pause arrived while already paused or finishing." },
  ResumeIgnored: {
    message: { bluegreen: "resume by {by}: the deployment is not paused", managed: "resume by {by}: no PAUSE lifecycle hook is waiting for action" },
    doc: "A resume arrived while not paused (ECS-managed: while no PAUSE hook waits).",
  },
  ControlIgnored: {
    message: {
      rolling: "{action} (by {by}) does not apply to a rolling deployment",
      delete: "{action} (by {by}) cannot stop a delete that has been sent",
      managed: "{action} (by {by}) cannot pause an ECS-managed deployment: ECS stops only at PAUSE lifecycle hooks of the svcdef",
      rainbow: "{action} (by {by}) does not apply in step {step}",
    },
    doc: "A control that does not apply to this kind of deployment, or came too late.",
  },
  // The end, and the failure that starts undoing (the record's message)
  Failed: { message: "{message}", doc: "The deployment failed (with its reason); while Flotilla undoes it the phase is RollingBack, and the event comes again when it ends Failed." },
  Succeeded: { message: "{message}", doc: "The deployment ended Succeeded." },
  RolledBack: { message: "{message}", doc: "The deployment failed and the previous revision serves again." },
  Aborted: { message: "{message}", doc: "The deployment was aborted and undone." },
  // Outside the machines
  RollbackRequested: { message: "rollback of {object} to {taskDefinition} (the revision before deployment {deployment}) requested by {by}", doc: "`flotilla rollback`: the deployment undoes an earlier one." },
  RehearsalEnded: { message: "{message}", doc: "`flotilla rehearse`: the rehearsal ended the deployment." },
  SelfHealRequested: { message: "self-heal: what runs drifted from {sha} ({reasons}); redeploying from Git", doc: "Drift detection redeploys the object from its repository's last processed commit, with self-heal on (controller.md, Drift)." },
  NotificationFailed: { message: "{message}", doc: "A notification webhook failed." },
  NotificationRefused: { message: "{message}", doc: "A notification target was refused by the server's policy." },
} as const satisfies Record<string, Entry>;

export type Reason = keyof typeof REASONS;
export type EventType = keyof typeof EVENTS;

/** A terminal phase's event carries the phase's name: every terminal phase is an event type. */
type _PhasesAreEvents = Extract<Phase, "Succeeded" | "Failed" | "RolledBack" | "Aborted"> extends EventType ? true : never;
const _phasesAreEvents: _PhasesAreEvents = true;
void _phasesAreEvents;

/** A reason with its message: why a deployment stopped (or, for a few, why it succeeded only in part). */
export interface Because {
  reason: Reason;
  message: string;
}

/** Fill a template: each `{slot}` with its value; `variant` picks among an entry's shapes. */
export function render(template: Template, args: Record<string, string | number>): string {
  const text = typeof template === "string" ? template : template[String(args["variant"])];
  if (text === undefined) throw new Error(`internal error: no variant ${String(args["variant"])}`);
  return text.replace(/\{(\w+)\}/g, (_, slot: string) => {
    const value = args[slot];
    if (value === undefined) throw new Error(`internal error: no value for {${slot}}`);
    return String(value);
  });
}

/** A reason with its message. */
export function because<R extends Reason>(reason: R, args: ArgsOf<(typeof REASONS)[R]["message"]>): Because {
  return { reason, message: render(REASONS[reason].message, args) };
}

/** A timeline event. */
export function event<T extends EventType>(type: T, args: ArgsOf<(typeof EVENTS)[T]["message"]>, data?: unknown): NewEvent {
  const message = render(EVENTS[type].message, args);
  return data === undefined ? { type, message } : { type, message, data };
}
