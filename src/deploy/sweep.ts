/**
 * The shared status sweep: every deployment that reads a service's status in one cluster within a
 * short gathering window is answered by one round of calls for the whole cluster, instead of a
 * round of its own. A round is
 *
 *   - DescribeServices over every service asked about, 10 per call;
 *   - when any reader counts failed tasks: the cluster's stopped tasks, listed once (one
 *     cluster-wide ListTasks, paged by 100) — or, when that listing has grown longer than one page
 *     per reader, once per reader's service or task set — and DescribeTasks only for the stopped
 *     tasks not described before (a stopped task never changes again, so it is kept);
 *   - DescribeAlarms over every alarm name asked about in the region, 100 per call.
 *
 * Deployments poll on a grid (the runner ends poll sleeps on multiples of the poll interval), so
 * the readers of one poll round arrive together and a cluster costs ceil(N/10) DescribeServices
 * plus one ListTasks per round, whatever N is. Every answer is fetched after its request was made:
 * a request that arrives while a round is in flight waits for the next one.
 */
import type { Alarm, AwsPorts, Service, Task } from "../aws/ports.ts";
import type { Clock } from "../core/clock.ts";
import type { TaskFailures } from "./machine.ts";

/** Whose failed tasks to count: a service's (rolling) or a task set's (blue/green green), of one revision since a time. */
export type FailureScope = ({ serviceName: string } | { startedBy: string }) & { taskDefinition: string; since: number };

export interface ServiceStatus {
  /** Undefined when DescribeServices reports the service MISSING. */
  service: Service | undefined;
  /** Set when failures were asked for and the service exists. */
  failures?: TaskFailures;
}

export interface SweepOptions {
  clock: Clock;
  /** How long a round waits for more readers after the first that came on the poll grid (clock ms). */
  windowMs?: number;
}

export interface ReadOptions {
  /**
   * The read comes on the poll grid, where the other readers of the round are on their way: wait
   * `windowMs` for them (default). Otherwise (a first read, a read at the end of a wait) the round
   * starts in the next event-loop turn.
   */
  gather?: boolean;
}

/** Stopped tasks stay listed for at least an hour; entries kept longer than this are dropped. */
const STOPPED_KEEP_MS = 2 * 60 * 60 * 1000;
const DEFAULT_WINDOW_MS = 1000;

/** Stop codes and reasons that mean a task failed (rather than being scaled in or replaced on purpose). */
export function isFailedTask(t: Task): boolean {
  if (t.stopCode === "TaskFailedToStart" || t.stopCode === "EssentialContainerExited") return true;
  return /health check|CannotPull|ResourceInitializationError|OutOfMemory|exited/i.test(t.stoppedReason ?? "");
}

interface StatusRequest {
  ports: AwsPorts;
  service: string;
  failures?: FailureScope;
  resolve: (s: ServiceStatus) => void;
  reject: (e: unknown) => void;
}

interface AlarmRequest {
  ports: AwsPorts;
  names: readonly string[];
  resolve: (a: Alarm[]) => void;
  reject: (e: unknown) => void;
}

/**
 * A gathering of requests for one key, in two rounds of its own: requests that came on the poll
 * grid are flushed `windowMs` after the first (the others are on their way); any other request
 * goes in the next event-loop turn with whatever else was asked in this one, never waiting for
 * the grid's window.
 */
class Gathering<R> {
  private readonly slots = { gathered: { pending: [] as R[], scheduled: false }, prompt: { pending: [] as R[], scheduled: false } };
  private readonly run: (batch: R[]) => Promise<void>;
  private readonly wait: (gather: boolean) => Promise<void>;

  constructor(wait: (gather: boolean) => Promise<void>, run: (batch: R[]) => Promise<void>) {
    this.wait = wait;
    this.run = run;
  }

  add(r: R, gather: boolean): void {
    const slot = gather ? this.slots.gathered : this.slots.prompt;
    slot.pending.push(r);
    if (slot.scheduled) return;
    slot.scheduled = true;
    void this.wait(gather).then(() => {
      const batch = slot.pending;
      slot.pending = [];
      slot.scheduled = false;
      return this.run(batch);
    });
  }
}

/** The stopped tasks of one cluster seen so far, by ARN. */
class StoppedTasks {
  readonly tasks = new Map<string, Task>();
  /** Pages the last cluster-wide listing took (1 until one was made). */
  pages = 1;
}

export class StatusSweep {
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly clusters = new Map<string, Gathering<StatusRequest>>();
  private readonly alarmRounds = new Map<string, Gathering<AlarmRequest>>();
  private readonly stopped = new Map<string, StoppedTasks>();

  constructor(options: SweepOptions) {
    this.clock = options.clock;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  }

  /** The service's status from the next round of its cluster, with its failed tasks when `failures` says whose. */
  status(ports: AwsPorts, cluster: string, service: string, failures?: FailureScope, options: ReadOptions = {}): Promise<ServiceStatus> {
    const key = `${ports.region}\u0000${cluster}`;
    let g = this.clusters.get(key);
    if (!g) {
      g = new Gathering<StatusRequest>(
        (gather) => this.gathered(gather),
        // The ports of the latest reader: a factory may hand out fresh ones (new credentials).
        (batch) => this.round(batch.at(-1)!.ports, cluster, batch),
      );
      this.clusters.set(key, g);
    }
    const gathering = g;
    return new Promise((resolve, reject) => gathering.add({ ports, service, ...(failures ? { failures } : {}), resolve, reject }, options.gather ?? true));
  }

  /** The alarms' states from the next round of the region: one DescribeAlarms per 100 names for every reader. */
  alarms(ports: AwsPorts, names: readonly string[], options: ReadOptions = {}): Promise<Alarm[]> {
    if (names.length === 0) return Promise.resolve([]);
    let g = this.alarmRounds.get(ports.region);
    if (!g) {
      g = new Gathering<AlarmRequest>(
        (gather) => this.gathered(gather),
        (batch) => this.alarmRound(batch.at(-1)!.ports, batch),
      );
      this.alarmRounds.set(ports.region, g);
    }
    const gathering = g;
    return new Promise((resolve, reject) => gathering.add({ ports, names, resolve, reject }, options.gather ?? true));
  }

  private gathered(gather: boolean): Promise<void> {
    return gather ? this.clock.sleep(this.windowMs) : new Promise((resolve) => setImmediate(resolve));
  }

  private async round(ports: AwsPorts, cluster: string, batch: StatusRequest[]): Promise<void> {
    const names = [...new Set(batch.map((r) => r.service))];
    const found = new Map<string, Service>();
    const errors = new Map<string, unknown>();
    await Promise.all(
      chunks(names, 10).map(async (chunk) => {
        try {
          const r = await ports.ecs.describeServices(cluster, chunk);
          for (const s of r.services) {
            for (const n of chunk) if (n === s.serviceName || n === s.serviceArn) found.set(n, s);
          }
        } catch (e) {
          for (const n of chunk) errors.set(n, e);
        }
      }),
    );
    const counting = batch.filter((r) => r.failures && found.has(r.service));
    let failed: unknown;
    let hasFailed = false;
    if (counting.length) {
      try {
        await this.refreshStopped(ports, cluster, counting.map((r) => r.failures!));
      } catch (e) {
        failed = e;
        hasFailed = true;
      }
    }
    const stopped = this.stopped.get(`${ports.region}\u0000${cluster}`);
    for (const r of batch) {
      if (errors.has(r.service)) r.reject(errors.get(r.service));
      else if (r.failures && found.has(r.service) && hasFailed) r.reject(failed);
      else {
        const service = found.get(r.service);
        r.resolve({ service, ...(r.failures && service ? { failures: countFailures(stopped, r.failures) } : {}) });
      }
    }
  }

  /**
   * Bring the cluster's stopped tasks up to date for these scopes: one cluster-wide listing, unless
   * it took more pages last time than there are scopes (then one listing per scope), and a
   * description of every stopped task not described before.
   */
  private async refreshStopped(ports: AwsPorts, cluster: string, scopes: readonly FailureScope[]): Promise<void> {
    const key = `${ports.region}\u0000${cluster}`;
    let known = this.stopped.get(key);
    if (!known) this.stopped.set(key, (known = new StoppedTasks()));
    const distinct = new Map<string, { serviceName: string } | { startedBy: string }>();
    for (const s of scopes) distinct.set("serviceName" in s ? `s:${s.serviceName}` : `b:${s.startedBy}`, "serviceName" in s ? { serviceName: s.serviceName } : { startedBy: s.startedBy });
    let arns: string[];
    if (distinct.size > known.pages) {
      arns = await ports.ecs.listTasks({ cluster, desiredStatus: "STOPPED" });
      known.pages = Math.max(1, Math.ceil(arns.length / 100));
      const listed = new Set(arns);
      for (const arn of known.tasks.keys()) if (!listed.has(arn)) known.tasks.delete(arn);
    } else {
      const lists = await Promise.all([...distinct.values()].map((scope) => ports.ecs.listTasks({ cluster, ...scope, desiredStatus: "STOPPED" })));
      arns = lists.flat();
      const horizon = this.clock.now() - STOPPED_KEEP_MS;
      for (const [arn, t] of known.tasks) if ((t.stoppedAt ?? t.createdAt) < horizon) known.tasks.delete(arn);
    }
    // A task still stopping may change (its stop code, when it stopped): described again until STOPPED.
    const fresh = arns.filter((a) => known.tasks.get(a)?.lastStatus !== "STOPPED");
    if (fresh.length === 0) return;
    const { tasks } = await ports.ecs.describeTasks(cluster, fresh);
    for (const t of tasks) known.tasks.set(t.taskArn, slim(t));
  }

  private async alarmRound(ports: AwsPorts, batch: AlarmRequest[]): Promise<void> {
    const names = [...new Set(batch.flatMap((r) => r.names))];
    let alarms: Alarm[];
    try {
      alarms = (await Promise.all(chunks(names, 100).map((chunk) => ports.cloudwatch.describeAlarms(chunk)))).flat();
    } catch (e) {
      for (const r of batch) r.reject(e);
      return;
    }
    const byName = new Map(alarms.map((a) => [a.alarmName, a]));
    for (const r of batch) r.resolve(r.names.map((n) => byName.get(n)).filter((a): a is Alarm => a !== undefined));
  }
}

/** What failure counting needs of a stopped task (the rest is dropped: a cluster may keep thousands). */
function slim(t: Task): Task {
  const { containers: _containers, ...rest } = t;
  return { ...rest, containers: [] };
}

/** Stopped tasks of the scope's revision started since `since` that failed, with the last reason. */
function countFailures(stopped: StoppedTasks | undefined, scope: FailureScope): TaskFailures {
  if (!stopped) return { count: 0 };
  const group = "serviceName" in scope ? `service:${scope.serviceName}` : undefined;
  let count = 0;
  let last: Task | undefined;
  for (const t of stopped.tasks.values()) {
    if (group !== undefined ? t.group !== group : t.startedBy !== (scope as { startedBy: string }).startedBy) continue;
    if (t.taskDefinitionArn !== scope.taskDefinition || t.createdAt < scope.since || !isFailedTask(t)) continue;
    count++;
    if (!last || (t.stoppedAt ?? 0) >= (last.stoppedAt ?? 0)) last = t;
  }
  return { count, ...(last?.stoppedReason ? { lastReason: last.stoppedReason } : {}), ...(last?.stoppedAt !== undefined ? { lastStoppedAt: last.stoppedAt } : {}) };
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
