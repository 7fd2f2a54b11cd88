/**
 * The simulator's heart: state, the event agenda and simulated time. Time follows the injected
 * clock lazily: every API call (and `sync()`) first runs all events due up to `clock.now()`,
 * each at its own simulated instant, so the simulator needs no timers of its own and follows a
 * virtual, scaled or system clock alike. SPEC.md §Time.
 */
import type { Clock } from "../core/clock.ts";
import { AwsError, type AwsServiceName } from "../aws/errors.ts";
import { BUCKETS, FARGATE_TASK_LAUNCH, familyOf, type BucketFamily } from "../aws/rate-limits.ts";
import { TokenBucket } from "../aws/token-bucket.ts";
import { AlarmBook } from "./alarms.ts";
import { ElbState } from "./elb.ts";
import { EventQueue } from "./event-queue.ts";
import { Faults } from "./faults.ts";
import { Ids, seededRandom } from "./ids.ts";
import { DEFAULT_TIMING, type SimCluster, type SimService, type SimTask, type SimTaskDef, type Timing } from "./model.ts";
import { checkBreaker, servicePass } from "./scheduler.ts";

function queuedPass(svc: SimService, sim: SimulatorCore): void {
  svc.passQueued = false;
  servicePass(sim, svc);
}

export interface SimulatorOptions {
  clock: Clock;
  region?: string;
  account?: string;
  seed?: number;
  timing?: Partial<Timing>;
  /** Answer ThrottlingException when ECS's published request rates are exceeded (default on). */
  throttling?: boolean;
  faults?: Faults;
}

export class SimulatorCore {
  readonly clock: Clock;
  readonly region: string;
  readonly account: string;
  readonly timing: Timing;
  readonly faults: Faults;
  readonly random: () => number;
  readonly ids: Ids;
  readonly startedAt: number;
  throttling: boolean;
  /**
   * Rehearsals (`--simulator` on apply, plan, rollback and serve) create a cluster the first time
   * a call names it, empty, as if it had been made beforehand; otherwise ClusterNotFoundException.
   */
  createMissingClusters = false;
  /** The simulated instant being processed (≤ clock.now()). */
  now: number;
  readonly clusters = new Map<string, SimCluster>();
  readonly taskDefs = new Map<string, SimTaskDef[]>();
  readonly elb: ElbState;
  readonly alarms: AlarmBook;
  /** Requests received, by operation (including throttled and failed ones). */
  readonly calls = new Map<string, number>();
  private readonly queue = new EventQueue();
  private readonly buckets = new Map<BucketFamily, TokenBucket>();
  private syncing = false;
  private launches: TokenBucket | undefined;
  eventsRun = 0;

  constructor(opts: SimulatorOptions) {
    this.clock = opts.clock;
    this.region = opts.region ?? "us-east-1";
    this.account = opts.account ?? "123456789012";
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.faults = opts.faults ?? new Faults();
    this.random = seededRandom(opts.seed ?? 1);
    this.ids = new Ids(this.random);
    this.throttling = opts.throttling ?? true;
    this.startedAt = this.clock.now();
    this.now = this.startedAt;
    this.elb = new ElbState(this);
    this.alarms = new AlarmBook(this);
  }

  /** Extra provisioning time a task launched now waits for Fargate's launch-rate bucket. */
  launchDelay(): number {
    if (!this.throttling) return 0;
    this.launches ??= new TokenBucket(FARGATE_TASK_LAUNCH, this.startedAt);
    return this.launches.reserve(this.now);
  }

  elapsed(): number {
    return this.now - this.startedAt;
  }

  at(t: number, run: () => void): void {
    this.queue.push(Math.max(t, this.now), run);
  }

  after(ms: number, run: () => void): void {
    this.queue.push(this.now + Math.max(0, ms), run);
  }

  /**
   * `fn(arg, this)` after `ms`: the cheap form of `after` for the world's own steps (no closure
   * per event). With `gen`, it runs only if `arg.gen` is still `gen` then (a task's lifecycle step
   * that its stopping made obsolete is skipped).
   */
  afterStep<A>(ms: number, fn: (arg: A, sim: SimulatorCore) => void, arg: A, gen = -1): void {
    this.queue.push(this.now + Math.max(0, ms), fn, arg, gen);
  }

  /** When the next thing will happen, if anything is scheduled. */
  nextEventAt(): number | undefined {
    return this.queue.nextAt();
  }

  /** Run every event due up to the clock's current time. */
  sync(): void {
    this.runUntil(this.clock.now());
  }

  runUntil(t: number): void {
    if (this.syncing) return; // an event handler reading state must not recurse
    this.syncing = true;
    try {
      while (this.queue.runNext(t, this));
      if (t > this.now) this.now = t;
    } finally {
      this.syncing = false;
    }
  }

  /** Ask the scheduler to look at a service once, at the current instant. */
  markDirty(svc: SimService): void {
    if (svc.passQueued) return;
    svc.passQueued = true;
    this.afterStep(0, queuedPass, svc);
  }

  /** Listener weights or target health changed: rule-driven alarms re-evaluate. */
  trafficChanged(): void {
    this.alarms.worldChanged();
  }

  // ---- circuit-breaker hooks (called by the task lifecycle) ----

  onTaskRunning(task: SimTask): void {
    if (task.owner.kind === "deployment") task.owner.breaker.stage = 2;
  }

  onTaskSucceeded(task: SimTask): void {
    const d = task.owner;
    if (d.kind !== "deployment" || !d.breaker.evaluating) return;
    // "Once a service deployment has one or more successfully running tasks, the failed task
    // count resets to zero and stops being evaluated." (ECS API reference, Deployment.failedTasks)
    d.failedTasks = 0;
    d.breaker.evaluating = false;
  }

  onTaskFailed(task: SimTask): void {
    const d = task.owner;
    if (d.kind !== "deployment" || !d.breaker.evaluating || d.rolloutState !== "IN_PROGRESS") return;
    d.failedTasks++;
    d.updatedAt = this.now;
    // Checked at once, so tasks failing in the same instant cannot push the count past the threshold.
    if (d.status === "PRIMARY") checkBreaker(this, task.service, d);
    this.markDirty(task.service);
  }

  // ---- API front door ----

  error(service: AwsServiceName, operation: string, name: string, message: string): AwsError {
    return new AwsError({ name, message, service, operation, httpStatus: name === "ThrottlingException" || name === "Throttling" ? 400 : name.startsWith("Server") || name === "InternalFailure" ? 500 : 400 });
  }

  /**
   * Every port call passes here first: injected latency, the request-rate bucket, injected
   * errors, then catching up with the clock.
   */
  async gate(service: AwsServiceName, operation: string, tokens = 1): Promise<void> {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const elapsed = this.clock.now() - this.startedAt;
    const faults = this.faults.apiFaults(operation, elapsed);
    const latency = faults.reduce((s, f) => s + (f.latencyMs ?? 0), 0);
    if (latency > 0) await this.clock.sleep(latency);
    if (this.throttling) {
      const family = familyOf(operation);
      let bucket = this.buckets.get(family);
      if (!bucket) {
        bucket = new TokenBucket(BUCKETS[family], this.startedAt);
        this.buckets.set(family, bucket);
      }
      if (!bucket.tryTake(this.clock.now(), tokens)) {
        throw service === "ECS" ? this.error(service, operation, "ThrottlingException", "Rate exceeded") : this.error(service, operation, "Throttling", "Rate exceeded");
      }
    }
    for (const f of faults) {
      if (f.errorRate && this.random() < f.errorRate) {
        const name = f.error ?? (service === "ECS" ? "ServerException" : "InternalFailure");
        throw this.error(service, operation, name, f.message ?? "Injected fault: the service could not process the request.");
      }
    }
    this.sync();
  }

  // ---- lookups that fail the way AWS does ----

  cluster(ref: string | undefined, operation: string): SimCluster {
    const name = ref === undefined ? "default" : ref.slice(ref.lastIndexOf("/") + 1);
    const c = this.clusters.get(name);
    if (c) return c;
    if (this.createMissingClusters) return this.addCluster(name);
    throw this.error("ECS", operation, "ClusterNotFoundException", "Cluster not found.");
  }

  findService(c: SimCluster, ref: string): SimService | undefined {
    return c.services.get(ref.slice(ref.lastIndexOf("/") + 1));
  }

  service(c: SimCluster, ref: string | undefined, operation: string): SimService {
    const s = ref === undefined ? undefined : this.findService(c, ref);
    if (!s) throw this.error("ECS", operation, "ServiceNotFoundException", "Service not found.");
    return s;
  }

  addCluster(name: string): SimCluster {
    const c: SimCluster = { name, arn: `arn:aws:ecs:${this.region}:${this.account}:cluster/${name}`, services: new Map(), tasks: new Map(), startedBy: new Map() };
    this.clusters.set(name, c);
    return c;
  }

  /** `family`, `family:revision` or a full ARN → the task definition; ClientException otherwise. */
  taskDefinition(ref: string, operation: string): SimTaskDef {
    const short = ref.includes(":task-definition/") ? ref.slice(ref.indexOf(":task-definition/") + ":task-definition/".length) : ref;
    const [family, rev] = short.split(":");
    const revisions = this.taskDefs.get(family ?? "") ?? [];
    const td = rev === undefined ? revisions.filter((t) => t.status === "ACTIVE").at(-1) : revisions.find((t) => t.revision === Number(rev));
    if (!td) {
      throw operation === "DescribeTaskDefinition"
        ? this.error("ECS", operation, "ClientException", "Unable to describe task definition.")
        : this.error("ECS", operation, "ClientException", "TaskDefinition not found.");
    }
    return td;
  }
}
