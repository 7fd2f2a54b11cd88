/**
 * Drives deployment machines against the AWS ports with an injected clock, persisting every step
 * to the store: the machine's state is written *before* each AWS mutation (so a restart knows it
 * may have happened) and the outcome is written right after. A deployment is driven only by the
 * process that owns it (ownership.ts): every write carries its fencing token, and every mutation
 * waits for a live lease. A deployment whose owner died or stopped is found by `adoptOrphans()` /
 * `resumeAll()` once its lease has ended, and carried on from its recorded state.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { isAwsError } from "../aws/errors.ts";
import type { AwsPorts, AwsPortsFactory, EcsPort } from "../aws/ports.ts";
import type { Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import { FencedError } from "../store/errors.ts";
import type { Store } from "../store/store.ts";
import { isTerminal, type Deployment, type NewEvent, type Override, type Strategy } from "../store/types.ts";
import { deleteService, startDelete, type DeleteState } from "./delete.ts";
import type { Effect, Input, Machine, Step } from "./machine.ts";
import { MUTATIONS } from "./machine.ts";
import { rolling, startRolling, type RollingState } from "./rolling.ts";
import { blueGreen, startBlueGreen, type BlueGreenState, type OverrideName } from "./bluegreen.ts";
import { ecsManaged, startEcsManaged, type EcsManagedState } from "./ecs-managed.ts";
import { rainbow, startRainbow, type RainbowStart, type RainbowState } from "./rainbow/machine.ts";
import { discoverRainbow } from "./rainbow/discover.ts";
import type { DeploySpec } from "./spec.ts";
import { event } from "./registry.ts";
import { HandedOver, Ownership, type HandOver } from "./ownership.ts";
import { AlbRouter } from "./traffic/alb.ts";
import { TrafficNotVerified, type TrafficRouter } from "./traffic/router.ts";
import { StatusSweep } from "./sweep.ts";
import { ControlWatch } from "./control-watch.ts";

export { isFailedTask } from "./sweep.ts";

export type MachineState = RollingState | DeleteState | BlueGreenState | EcsManagedState | RainbowState;

const MACHINES = {
  rolling,
  delete: deleteService,
  bluegreen: blueGreen,
  "ecs-managed": ecsManaged,
  rainbow,
} as Record<MachineState["machine"], Machine<MachineState>>;

export const OVERRIDES: readonly OverrideName[] = ["skip-alarms", "all-at-once"];

export interface RunnerOptions {
  store: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  /** Called after every persisted step (live progress, notifications). */
  onUpdate?: (deployment: Deployment, events: readonly NewEvent[]) => void;
  /** The traffic router for a region's ports (default: ALB listener and rule weights). */
  traffic?: (ports: AwsPorts) => TrafficRouter;
  /** While sleeping, look for operator controls this often (ms). */
  controlPollMs?: number;
  /** How long a status round waits for more readers after the first (ms; sweep.ts). */
  sweepWindowMs?: number;
  /**
   * Sees the outcome of every effect (the dashboard's samples of weights and tasks). Called without
   * waiting for it; whatever it throws is ignored, so it can never change a deployment.
   */
  observe?: (deployment: Deployment, effect: Effect, outcome: Input) => void;
  /**
   * Test hooks around every effect: throwing from one simulates the process dying there (before the
   * call is made, or after it was made but before its outcome was recorded).
   */
  hooks?: { beforeEffect?(effect: Effect, deployment: Deployment): void; afterEffect?(effect: Effect, deployment: Deployment): void };
  /** This process's owner id for deployment leases; unique per process (default: a random one). */
  owner?: string;
  /** How long a deployment's lease lasts without renewal (default 30 s). */
  leaseTtlMs?: number;
  /** How often held leases are renewed (default a third of the TTL). */
  heartbeatMs?: number;
  /** A deployment this process was driving is owned by another process now. */
  onLost?: (deploymentId: string, why: string) => void;
}

/** How a deployment driven by `settle` ended in this process: its record, and the error that stopped it early. */
export interface Settled {
  deployment: Deployment;
  /** Set when an exception stopped the deployment before a terminal phase (or while recording it). */
  error?: string;
  /**
   * Set when this process stopped driving the deployment before it ended: it is stopping (the
   * deployment was released for another process to adopt) or another process owns it now.
   */
  handedOver?: HandOver;
}

/** A deployment this process adopted, and its run here. */
export interface Adopted {
  deployment: Deployment;
  settled: Promise<Settled>;
}

/** An owner id for this process: the name given (a replica's) and a random part, so each start is a new owner. */
export function processOwnerId(name: string): string {
  return `${name}#${randomBytes(3).toString("hex")}`;
}

export interface StartOptions {
  strategy: Strategy;
  repository?: string | null;
  branch?: string | null;
  commitSha?: string | null;
  overrides?: Override[];
  /** A rainbow object's operation (strategy rainbow, cutover or cleanup; a delete of a rainbow object): what, which version, who asked. */
  rainbow?: Omit<RainbowStart, "op">;
}

/** The machine state a new deployment starts from: the strategy's machine, a rainbow object's whatever the strategy. */
function initialState(spec: DeploySpec, options: StartOptions, token: string, overrides: OverrideName[]): MachineState {
  const s = options.strategy;
  if (s === "rainbow" || s === "cutover" || s === "cleanup" || (s === "delete" && spec.depdef.rainbow)) {
    const op = s === "rainbow" ? "deploy" : s;
    return startRainbow(spec, token, { op, by: options.rainbow?.by ?? (options.commitSha ? `commit ${options.commitSha.slice(0, 12)}` : "flotilla"), ...(options.rainbow?.version !== undefined ? { version: options.rainbow.version } : {}) });
  }
  return s === "delete" ? startDelete(spec) : s === "bluegreen" ? startBlueGreen(spec, token, overrides) : s === "ecs-managed" ? startEcsManaged(spec, token, overrides) : startRolling(spec, token);
}

export class Runner {
  private readonly store: Store;
  private readonly aws: AwsPortsFactory;
  readonly clock: Clock;
  private readonly onUpdate: RunnerOptions["onUpdate"];
  private readonly controlPollMs: number;
  private readonly observe: RunnerOptions["observe"];
  private readonly hooks: NonNullable<RunnerOptions["hooks"]>;
  private readonly traffic: (ports: AwsPorts) => TrafficRouter;
  /** Status reads of every deployment this runner drives, one round per cluster (sweep.ts); drift detection reads through it too. */
  readonly sweep: StatusSweep;
  /** Operator controls of every waiting deployment, one store query per control poll (control-watch.ts). */
  private readonly controls: ControlWatch;
  /** The deployments this process owns and their heartbeat. */
  readonly ownership: Ownership;
  private stopping = false;
  private readonly driving = new Set<Promise<unknown>>();
  /** The runs settling here, by deployment id (for `follow`). */
  private readonly runs = new Map<string, Promise<Settled>>();

  constructor(options: RunnerOptions) {
    this.store = options.store;
    this.aws = options.aws;
    this.clock = options.clock;
    this.onUpdate = options.onUpdate;
    this.controlPollMs = options.controlPollMs ?? 5000;
    this.observe = options.observe;
    this.hooks = options.hooks ?? {};
    this.traffic = options.traffic ?? ((ports) => new AlbRouter(ports.elbv2));
    this.controls = new ControlWatch({ store: this.store, clock: this.clock, pollMs: this.controlPollMs });
    this.sweep = new StatusSweep({ clock: this.clock, ...(options.sweepWindowMs !== undefined ? { windowMs: options.sweepWindowMs } : {}) });
    this.ownership = new Ownership({
      store: options.store,
      clock: options.clock,
      owner: options.owner ?? processOwnerId("runner"),
      ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.onLost ? { onLost: options.onLost } : {}),
    });
  }

  /** This process's owner id. */
  get owner(): string {
    return this.ownership.owner;
  }

  /** Record a new deployment, owned by this process; `run` it to drive it. */
  async create(spec: DeploySpec, options: StartOptions): Promise<Deployment> {
    if (this.stopping) throw new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: `${this.owner} is stopping: no new deployment starts here` });
    const token = `flotilla-${randomUUID()}`;
    const overrides = (options.overrides ?? []).map((o) => o.name).filter((n): n is OverrideName => (OVERRIDES as readonly string[]).includes(n));
    const state = initialState(spec, options, token, overrides);
    const { owner, sentAt } = this.ownership.newOwner();
    const created = await this.store.createDeployment(
      {
        object: spec.object,
        repository: options.repository ?? null,
        branch: options.branch ?? null,
        commitSha: options.commitSha ?? spec.commitSha ?? null,
        strategy: options.strategy,
        region: spec.region,
        cluster: spec.cluster,
        service: spec.service,
        phase: "Pending",
        overrides: options.overrides ?? [],
        machineState: state,
        owner,
      },
      [event("Pending", { strategy: options.strategy, object: spec.object })],
    );
    this.ownership.track(created, sentAt);
    return created;
  }

  /** Drive a deployment from its first step to a terminal phase. */
  async run(deployment: Deployment): Promise<Deployment> {
    return this.drive(deployment, { type: "start" });
  }

  /** Carry on a deployment this process adopted (found unfinished, its owner gone). */
  async resume(deployment: Deployment): Promise<Deployment> {
    return this.drive(deployment, { type: "resume" });
  }

  /**
   * Adopt every unfinished deployment no live process owns (its owner's lease expired or was
   * released) and drive each from its recorded state, in parallel; a live owner's deployments are
   * never touched. Answers at once with what was adopted; each run settles on its own.
   */
  async adoptOrphans(): Promise<Adopted[]> {
    if (this.stopping) return [];
    const adopted: Adopted[] = [];
    for (const orphan of await this.store.activeDeployments({ orphaned: true })) {
      if (this.stopping) break;
      const mine = await this.ownership.adopt(orphan);
      if (mine) adopted.push({ deployment: mine, settled: this.settle(mine, resumeHow(mine)) });
    }
    return adopted;
  }

  /**
   * Wait for a deployment to end wherever it runs — here, or in another process — and adopt and
   * drive it here if its owner goes away meanwhile. Answers when it has ended, or when it stopped
   * here with an error or was handed over; the signal ends the wait (rejecting).
   */
  async follow(id: string, signal?: AbortSignal): Promise<Settled> {
    for (;;) {
      const running = this.runs.get(id);
      if (running) {
        const settled = await running;
        if (settled.error !== undefined || settled.handedOver === "stopping") return settled;
      }
      const d = await this.store.getDeployment(id);
      if (!d) throw new FlotillaError({ code: "FLT-STORE-NOT-FOUND", message: `deployment ${id} not found` });
      if (d.finishedAt !== null) return { deployment: d };
      const orphaned = d.owner === null || d.owner.expiresAt <= this.clock.now();
      const mine = orphaned && !this.stopping && !this.runs.has(id) ? await this.ownership.adopt(d) : undefined;
      if (mine) {
        void this.settle(mine, resumeHow(mine));
        continue;
      }
      await this.clock.sleep(this.ownership.heartbeatMs, signal);
    }
  }

  /** Adopt every orphaned deployment and wait for their runs here; one that stops with an error does not stop the others. */
  async resumeAll(): Promise<Settled[]> {
    return Promise.all((await this.adoptOrphans()).map((a) => a.settled));
  }

  /**
   * Stop driving: no deployment starts or is adopted here any more, and each one running stops at
   * its next safe point — a wait ends at once, an AWS call in flight is let finish and its outcome
   * recorded — and is released for another process to adopt. Settles when all have stopped.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.ownership.stopAll();
    while (this.driving.size > 0) await Promise.allSettled([...this.driving]);
  }

  /**
   * Run (or resume) a deployment and never throw: an exception (a store that refuses a write, a bug)
   * stops this deployment only. The answer is its record as the store now has it — still active
   * when it stopped mid-way, so the next run resumes it — with the error, which is also added to
   * its timeline when the store takes it.
   */
  settle(deployment: Deployment, how: "run" | "resume" = "run"): Promise<Settled> {
    const settled = this.settleHere(deployment, how);
    this.runs.set(deployment.id, settled);
    void settled.finally(() => {
      if (this.runs.get(deployment.id) === settled) this.runs.delete(deployment.id);
    });
    return settled;
  }

  private async settleHere(deployment: Deployment, how: "run" | "resume"): Promise<Settled> {
    try {
      return { deployment: await (how === "run" ? this.run(deployment) : this.resume(deployment)) };
    } catch (e) {
      if (e instanceof HandedOver) return { deployment: (await this.store.getDeployment(deployment.id).catch(() => undefined)) ?? deployment, handedOver: e.why };
      const error = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
      let current = deployment;
      try {
        await this.store.appendEvents(deployment.id, [event("Interrupted", { error })]);
        current = (await this.store.getDeployment(deployment.id)) ?? deployment;
      } catch {
        // The store may be what failed: report the last record we have.
      }
      return { deployment: current, error };
    }
  }

  /** Drive a deployment this process owns; when it stops here without ending, hand it over as the reason says. */
  private async drive(deployment: Deployment, first: Input): Promise<Deployment> {
    const id = deployment.id;
    const run = (async () => {
      try {
        return await this.steps(deployment, first);
      } catch (e) {
        // The store refused a write: another process owns the deployment now.
        if (e instanceof FencedError) throw new HandedOver("lost", e.message);
        throw e;
      }
    })();
    const tracked = run.then(
      () => this.ownership.forget(id),
      async (e: unknown) => {
        if (e instanceof HandedOver && e.why === "stopping") {
          await this.ownership.release(id, "the process is stopping; another process adopts it").catch(() => false);
        } else if (e instanceof HandedOver) {
          this.ownership.forget(id);
          await this.store.appendEvents(id, [event("OwnershipLost", { owner: this.owner, why: e.message })]).catch(() => []);
        } else {
          // An exception (a bug, a store that failed): give it up so another run adopts it at once.
          await this.ownership.release(id, "it stopped here with an error; another run adopts it").catch(() => this.ownership.forget(id));
        }
      },
    );
    this.driving.add(tracked);
    void tracked.finally(() => this.driving.delete(tracked));
    await tracked;
    return run;
  }

  private async steps(deployment: Deployment, first: Input): Promise<Deployment> {
    let dep = deployment;
    let state = dep.machineState as MachineState;
    const machine = MACHINES[state.machine];
    let input: Input = first;
    let onPollGrid = false;
    for (;;) {
      let step = machine.next(state, input, this.clock.now());
      checkStep(step);
      dep = await this.persist(dep, step);
      // Operator controls are decisions too: each is fed to the machine and consumed with its outcome.
      // Before a change in AWS, always; before a read or a wait, when the watch may have seen one.
      const look = step.effect && (MUTATIONS.has(step.effect.type) || this.controls.mayHave(dep.id));
      for (const control of look ? await this.store.pendingControls(dep.id) : []) {
        step = machine.next(step.state, { type: "control", action: control.action, by: control.requestedBy }, this.clock.now());
        checkStep(step);
        dep = await this.persist(dep, step, [control.id]);
        if (!step.effect) break;
      }
      if (!step.effect) return dep;
      state = step.state;
      // The step is recorded: stop here if this process is stopping or no longer owns it, and
      // send nothing to AWS without a lease that outlasts the call's start.
      this.ownership.check(dep.id);
      if (MUTATIONS.has(step.effect.type)) await this.ownership.ensure(dep.id);
      this.hooks.beforeEffect?.(step.effect, dep);
      input = await this.perform(dep, step.effect, onPollGrid);
      // A read right after a wait that ended on the poll grid meets the other deployments' reads there.
      onPollGrid = step.effect.type === "sleep" && step.effect.grid !== undefined;
      this.hooks.afterEffect?.(step.effect, dep);
      try {
        this.observe?.(dep, step.effect, input);
      } catch {
        // An observer's failure is its own.
      }
    }
  }

  private async persist(dep: Deployment, step: Step<MachineState>, consumeControls: number[] = []): Promise<Deployment> {
    const r = step.record;
    const events = r.events ?? [];
    const updated = await this.store.updateDeployment(
      dep.id,
      dep.version,
      {
        machineState: step.state,
        ...(r.phase !== undefined ? { phase: r.phase } : {}),
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        ...(r.message !== undefined ? { message: r.message } : {}),
        ...(r.counts !== undefined ? { counts: r.counts } : {}),
        ...(r.oldTaskDefinitionArn !== undefined ? { oldTaskDefinitionArn: r.oldTaskDefinitionArn } : {}),
        ...(r.newTaskDefinitionArn !== undefined ? { newTaskDefinitionArn: r.newTaskDefinitionArn } : {}),
        ...(r.trafficWeight !== undefined ? { trafficWeight: r.trafficWeight } : {}),
      },
      events,
      { fence: this.ownership.fence(dep.id), ...(consumeControls.length ? { consumeControls } : {}) },
    );
    this.onUpdate?.(updated, events);
    return updated;
  }

  private async perform(dep: Deployment, effect: Effect, onPollGrid = false): Promise<Input> {
    const gather = { gather: onPollGrid };
    const ports = this.aws(dep.region);
    try {
      switch (effect.type) {
        case "registerTaskDefinition":
          return { type: "taskDefinition", taskDefinition: await ports.ecs.registerTaskDefinition(effect.request) };
        case "describeTaskDefinition":
          return { type: "taskDefinition", taskDefinition: await ports.ecs.describeTaskDefinition(effect.taskDefinition) };
        case "describeService": {
          const { service, failures } = await this.sweep.status(ports, effect.cluster, effect.service, effect.failuresOf && { serviceName: effect.service, ...effect.failuresOf }, gather);
          return { type: "service", service, ...(failures ? { failures } : {}) };
        }
        case "createService":
          return { type: "service", service: await ports.ecs.createService(effect.request) };
        case "updateService":
          return { type: "service", service: await ports.ecs.updateService(effect.request) };
        case "deleteService":
          return { type: "service", service: await ports.ecs.deleteService({ cluster: effect.cluster, service: effect.service, force: effect.force }) };
        case "sleep":
          await this.sleep(dep.id, effect.grid ? onGrid(this.clock.now(), effect.ms, effect.grid) : effect.ms);
          return { type: "slept" };
        case "describeAlarms":
          return { type: "alarms", alarms: await this.sweep.alarms(ports, effect.alarmNames, gather) };
        case "discoverRoutes":
          return { type: "routes", ...(await this.traffic(ports).discover(effect.targetGroupArns)) };
        case "describeTargetGroups":
          return { type: "targetGroups", targetGroups: await ports.elbv2.describeTargetGroups({ targetGroupArns: effect.targetGroupArns }) };
        case "describeTaskSets":
          return { type: "taskSets", taskSets: await ports.ecs.describeTaskSets({ cluster: effect.cluster, service: effect.service }) };
        case "createTaskSet":
          return { type: "taskSet", taskSet: await ports.ecs.createTaskSet(effect.input) };
        case "deleteTaskSet":
          await ports.ecs.deleteTaskSet({ cluster: effect.cluster, service: effect.service, taskSet: effect.taskSet, force: true });
          return { type: "done" };
        case "updateServicePrimaryTaskSet":
          return { type: "taskSet", taskSet: await ports.ecs.updateServicePrimaryTaskSet({ cluster: effect.cluster, service: effect.service, primaryTaskSet: effect.taskSet }) };
        case "setRoutes":
          await this.traffic(ports).apply(effect.routes);
          return { type: "done" };
        case "observeBlueGreen": {
          // The task sets come with the service's description (DescribeServices lists an EXTERNAL service's sets).
          const [alarms, routes, status] = await Promise.all([
            this.sweep.alarms(ports, effect.alarmNames, gather),
            effect.routes ? this.traffic(ports).read(effect.routes) : Promise.resolve(undefined),
            this.sweep.status(ports, effect.cluster, effect.service, effect.failuresOf && { startedBy: effect.failuresOf.taskSet, taskDefinition: effect.failuresOf.taskDefinition, since: effect.failuresOf.since }, gather),
          ]);
          return { type: "observed", alarms, ...(routes ? { routes } : {}), taskSets: status.service?.taskSets ?? [], ...(status.failures ? { failures: status.failures } : {}) };
        }
        case "readRoutes":
          return { type: "routes", routes: await this.traffic(ports).read(effect.routes) };
        case "findServiceDeployment":
          return { type: "serviceDeploymentFound", ...(await findServiceDeployment(ports.ecs, effect)) };
        case "observeServiceDeployment": {
          // The failed tasks come from the shared status sweep (one round per cluster), like rolling's.
          const [described, alarms, routes, status] = await Promise.all([
            ports.ecs.describeServiceDeployments([effect.serviceDeploymentArn]),
            this.sweep.alarms(ports, effect.alarmNames, gather),
            effect.routes.length ? this.traffic(ports).read(effect.routes) : Promise.resolve([]),
            effect.failuresOf ? this.sweep.status(ports, effect.cluster, effect.service, { serviceName: effect.service, ...effect.failuresOf }, gather) : Promise.resolve(undefined),
          ]);
          const failures = status?.failures;
          const deployment = described.serviceDeployments.find((d) => d.serviceDeploymentArn === effect.serviceDeploymentArn);
          return { type: "serviceDeployment", ...(deployment ? { deployment } : {}), alarms, routes, ...(failures ? { failures } : {}) };
        }
        case "stopServiceDeployment":
          await ports.ecs.stopServiceDeployment({ serviceDeploymentArn: effect.serviceDeploymentArn, stopType: "ROLLBACK" });
          return { type: "done" };
        case "continueServiceDeployment":
          await ports.ecs.continueServiceDeployment({ serviceDeploymentArn: effect.serviceDeploymentArn, hookId: effect.hookId, action: effect.action });
          return { type: "done" };
        case "discoverRainbow":
          return { type: "rainbow", world: await discoverRainbow(ports, this.traffic(ports), effect) };
        case "createTargetGroup":
          return { type: "targetGroups", targetGroups: [await ports.elbv2.createTargetGroup(effect.input)] };
        case "createRule":
          return { type: "rule", rule: await ports.elbv2.createRule(effect.input) };
        case "deleteRule":
          await ports.elbv2.deleteRule(effect.ruleArn);
          return { type: "done" };
        case "deleteTargetGroup":
          await ports.elbv2.deleteTargetGroup(effect.targetGroupArn);
          return { type: "done" };
        case "observeVersion": {
          const [{ service, failures }, targets] = await Promise.all([
            this.sweep.status(ports, effect.cluster, effect.service, effect.failuresOf && { serviceName: effect.service, ...effect.failuresOf }),
            effect.targetGroupArn ? ports.elbv2.describeTargetHealth(effect.targetGroupArn) : Promise.resolve([]),
          ]);
          return { type: "versionObserved", service, targets, ...(failures ? { failures } : {}) };
        }
        case "describeServices":
          return { type: "services", services: (await ports.ecs.describeServices(effect.cluster, effect.services)).services };
      }
    } catch (e) {
      if (e instanceof HandedOver) throw e; // a wait cut short: this process stops driving it
      // An answer about the world, not a bug: the machine decides what a write that did not take means.
      if (e instanceof TrafficNotVerified) return { type: "error", error: { name: e.name, message: e.message, retryable: false } };
      if (isAwsError(e)) {
        // A create whose answer may hide success: if what it makes is there, carry on with it (madeAnyway).
        const made = e.retryable && !e.throttling ? await madeAnyway(ports, effect).catch(() => undefined) : undefined;
        if (made) {
          const found = [event("FoundAfterError", { operation: e.operation, error: `${e.name}: ${e.message}`, what: made.what })];
          await this.store.appendEvents(dep.id, found);
          this.onUpdate?.(dep, found);
          return made.input;
        }
        return { type: "error", error: { name: e.name, message: e.message, retryable: e.retryable, operation: e.operation } };
      }
      if (MUTATIONS.has(effect.type)) throw e; // a bug, not an AWS answer: stop with the state persisted
      return { type: "error", error: { name: e instanceof Error ? e.name : "Error", message: e instanceof Error ? e.message : String(e), retryable: true } };
    }
  }

  /**
   * Sleep, but wake early when an operator control arrives (seen by the watch within a control
   * poll), and stop at once when the deployment must stop here (this process is stopping or lost it).
   */
  private async sleep(deploymentId: string, ms: number): Promise<void> {
    const done = new AbortController();
    const signal = AbortSignal.any([done.signal, this.ownership.signal(deploymentId)]);
    try {
      await Promise.race([this.clock.sleep(ms, signal), this.controls.until(deploymentId, signal)]);
    } catch (e) {
      this.ownership.check(deploymentId);
      throw e;
    } finally {
      done.abort();
    }
    this.ownership.check(deploymentId); // woken by the stop rather than the clock or a control
  }
}

/** How an adopted deployment carries on: from the start when nothing was done yet, else by resuming. */
function resumeHow(d: Deployment): "run" | "resume" {
  return d.phase === "Pending" && !(d.machineState as MachineState).inFlight ? "run" : "resume";
}

/**
 * The newest service deployment of `taskDefinition` created at or after `createdAfter`: its target
 * revision is described to know what it deploys (ListServiceDeployments names only revisions).
 */
async function findServiceDeployment(ecs: EcsPort, q: { cluster: string; service: string; taskDefinition: string; createdAfter: number }): Promise<{ arn?: string }> {
  const briefs = (await ecs.listServiceDeployments({ cluster: q.cluster, service: q.service, createdAfter: q.createdAfter })).filter((b) => b.targetServiceRevisionArn);
  if (briefs.length === 0) return {};
  const { serviceRevisions } = await ecs.describeServiceRevisions([...new Set(briefs.map((b) => b.targetServiceRevisionArn!))]);
  const ours = new Set(serviceRevisions.filter((r) => r.taskDefinition === q.taskDefinition).map((r) => r.serviceRevisionArn));
  const found = briefs.filter((b) => ours.has(b.targetServiceRevisionArn!)).sort((a, b) => b.createdAt - a.createdAt)[0];
  return found ? { arn: found.serviceDeploymentArn } : {};
}

/**
 * A terminal phase is written only by the step that has no effect left: written earlier, the store
 * would refuse every later step of the deployment. A machine that breaks this is a bug; stop before
 * anything is written.
 */
function checkStep(step: Step<MachineState>): void {
  const phase = step.record.phase;
  if (step.effect && phase !== undefined && isTerminal(phase)) {
    throw new Error(`internal error: the ${step.state.machine} machine recorded ${phase} in step ${step.state.step} while ${step.effect.type} was still to be done`);
  }
}

/**
 * How long to sleep for a wait of `ms` on a poll grid of `grid` ms: until the first multiple of
 * `grid` at least `ms` away — or, for a wait of a poll or more, at least `ms - grid/2` away, so
 * the wait stays `ms` on average and a deployment joins its interval's grid on its first poll.
 */
export function onGrid(now: number, ms: number, grid: number): number {
  const earliest = now + (ms >= grid ? ms - grid / 2 : ms);
  const end = Math.ceil(earliest / grid) * grid;
  return Math.max(0, end - now);
}

/**
 * After a create failed with an error that may hide success (a 5xx, a network error, an answer the
 * SDK could not read), look for what it would have made before the call is sent again: AWS makes
 * these creates idempotent through their clientToken, but AWS-compatible endpoints may ignore it
 * (moto stores a task set, then fails running its tasks with an HTML 500). The task set by its
 * externalId (the deployment's token), the service by name and task definition, the rule by
 * listener, priority and target groups. Undefined: nothing found, the error stands.
 */
async function madeAnyway(ports: AwsPorts, effect: Effect): Promise<{ input: Input; what: string } | undefined> {
  switch (effect.type) {
    case "createTaskSet": {
      const { cluster, service, externalId } = effect.input;
      if (!externalId) return undefined;
      const set = (await ports.ecs.describeTaskSets({ cluster, service })).find((t) => t.externalId === externalId && t.status !== "DRAINING");
      return set && { input: { type: "taskSet", taskSet: set }, what: `task set ${set.id}` };
    }
    case "createService": {
      const { cluster = "default", serviceName } = effect.request as { cluster?: string; serviceName?: string };
      if (!serviceName) return undefined;
      const service = (await ports.ecs.describeServices(cluster, [serviceName])).services.find((s) => s.status === "ACTIVE" && s.taskDefinition === effect.request["taskDefinition"]);
      return service && { input: { type: "service", service }, what: `service ${service.serviceName}` };
    }
    case "createRule": {
      const { listenerArn, priority, actions } = effect.input;
      const groups = (as: readonly { targetGroupArn?: string; forwardConfig?: { targetGroups: { targetGroupArn: string }[] } }[]) =>
        as.flatMap((a) => [a.targetGroupArn, ...(a.forwardConfig?.targetGroups.map((t) => t.targetGroupArn) ?? [])]).filter(Boolean).sort().join(",");
      const rule = (await ports.elbv2.describeRules({ listenerArn })).find((r) => r.priority === String(priority) && groups(r.actions) === groups(actions));
      return rule && { input: { type: "rule", rule }, what: `rule ${rule.ruleArn}` };
    }
    default:
      return undefined;
  }
}
