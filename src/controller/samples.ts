/**
 * Samples of running deployments for the dashboard's chart, recorded from what the engine observes
 * (the runner's `observe` hook): after each blue/green watch round and each weight change, the weight
 * of every target group on the shifted listeners and rules (as last read or set: a round reads them
 * only around a shift), each task set's tasks and the alarms' states, and the alarms as checked
 * before the deployment starts; after each look at a rolling service, its ECS deployments' tasks;
 * after each look at an ECS-managed service deployment, its production rules' weights and its
 * revisions' tasks. Two readings are added per blue/green task set: its target groups' health
 * (healthy targets) and its failed tasks since the deployment began (green's as the watch round
 * counted them) — read again only when the set's counts change or every 5 minutes, so a wait that
 * moves nothing costs no calls beyond the deployment's own. A sample is stored only when something
 * changed, or a minute passed, so a long wait costs a few rows.
 *
 * Sampling never touches a deployment: it runs beside it, and a failed read or write loses a sample.
 */
import type { AwsPortsFactory } from "../aws/ports.ts";
import type { Clock } from "../core/clock.ts";
import type { BlueGreenState } from "../deploy/bluegreen.ts";
import type { Effect, Input, Route } from "../deploy/machine.ts";
import { shareOf } from "../deploy/traffic/route.ts";
import { isFailedTask } from "../deploy/runner.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, SampleData, SampleSet } from "../store/types.ts";

/** A sample is stored at least this often while nothing changes. */
const HEARTBEAT_MS = 60_000;
/**
 * A set's readings beside the deployment's own (its healthy targets, its failed tasks) are taken
 * again when its counts change, or after this long: a wait's watch rounds cost no extra calls while
 * nothing moves (the blue/green observation budget covers serve's samples too).
 */
const REREAD_MS = 5 * 60_000;

interface Reading {
  /** The set's counts when these were read. */
  key: string;
  at: number;
  healthy: number | null;
  failed: number | null;
}

interface Last {
  key: string;
  at: number;
  data: SampleData;
}

export class DeploymentSampler {
  readonly #store: Store;
  readonly #aws: AwsPortsFactory;
  readonly #clock: Clock;
  readonly #last = new Map<string, Last>();
  /** Readings per deployment and task set. */
  readonly #readings = new Map<string, Map<string, Reading>>();
  /** Samples being taken, so a test (or a shutdown) can wait for them. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: { store: Store; aws: AwsPortsFactory; clock: Clock }) {
    this.#store = options.store;
    this.#aws = options.aws;
    this.#clock = options.clock;
  }

  /** The runner's `observe` hook. */
  readonly observe = (deployment: Deployment, effect: Effect, outcome: Input): void => {
    const p = this.#sample(deployment, effect, outcome).catch(() => undefined);
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  };

  /** Resolves when the samples being taken now are stored. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  async #sample(d: Deployment, effect: Effect, outcome: Input): Promise<void> {
    let data: SampleData | undefined;
    if (d.strategy === "bluegreen" && effect.type === "observeBlueGreen" && outcome.type === "observed") {
      // A round reads the routes only around a shift: between, the weights are as last seen (at
      // first, as the deployment found them before its first shift).
      const seen = this.#last.get(d.id)?.data.weights;
      const weights = outcome.routes ? weightsOf(outcome.routes) : seen && Object.keys(seen).length ? seen : weightsOf((d.machineState as BlueGreenState).routes ?? []);
      data = await this.#blueGreen(d, weights, outcome.taskSets, outcome.alarms.map((a) => ({ name: a.alarmName, state: a.stateValue })), outcome.failures?.count);
    } else if (d.strategy === "bluegreen" && effect.type === "describeAlarms" && outcome.type === "alarms") {
      // The alarms as checked before anything changes: where their line on the chart starts.
      const last = this.#last.get(d.id)?.data;
      data = { weights: last?.weights ?? {}, sets: last?.sets ?? [], alarms: outcome.alarms.map((a) => ({ name: a.alarmName, state: a.stateValue })) };
    } else if (d.strategy === "bluegreen" && effect.type === "setRoutes" && outcome.type === "done") {
      // New weights: the sets and alarms are as last seen.
      const last = this.#last.get(d.id)?.data;
      data = { weights: weightsOf(effect.routes), sets: last?.sets ?? [], alarms: last?.alarms ?? [] };
    } else if (d.strategy === "ecs-managed" && effect.type === "observeServiceDeployment" && outcome.type === "serviceDeployment" && outcome.deployment) {
      // ECS moves the weights: the production rules as read on the same look, and the revisions' tasks as ECS counts them.
      const sd = outcome.deployment;
      const set = (role: SampleSet["role"], r: NonNullable<typeof sd.targetServiceRevision>): SampleSet => ({ role, id: r.arn.split("/").at(-1) ?? r.arn, targetGroups: [], desired: r.requestedTaskCount ?? null, running: r.runningTaskCount ?? null, pending: r.pendingTaskCount ?? null, healthy: null, failed: role === "new" ? (outcome.failures?.count ?? null) : null });
      data = {
        weights: weightsOf(outcome.routes),
        sets: [...sd.sourceServiceRevisions.map((r) => set("old", r)), ...(sd.targetServiceRevision ? [set("new", sd.targetServiceRevision)] : [])],
        alarms: outcome.alarms.map((a) => ({ name: a.alarmName, state: a.stateValue })),
      };
    } else if (d.strategy === "rolling" && outcome.type === "service" && outcome.service) {
      data = {
        weights: {},
        sets: outcome.service.deployments
          .filter((x) => x.status === "PRIMARY" || x.status === "ACTIVE")
          .map((x): SampleSet => ({ role: x.status === "PRIMARY" ? "new" : "old", id: x.id, targetGroups: [], desired: x.desiredCount ?? null, running: x.runningCount ?? null, pending: x.pendingCount ?? null, healthy: null, failed: x.failedTasks ?? null })),
        alarms: [],
      };
    }
    if (!data) return;
    const key = JSON.stringify(data);
    const now = this.#clock.now();
    const last = this.#last.get(d.id);
    if (last && last.key === key && now - last.at < HEARTBEAT_MS) return;
    this.#last.set(d.id, { key, at: now, data });
    await this.#store.appendSample(d.id, data);
    if (this.#last.size > 1000) this.#last.delete(this.#last.keys().next().value!);
  }

  /** `greenFailed`: green's failed tasks as the watch round counted them (no need to list them again). */
  async #blueGreen(d: Deployment, weights: Record<string, number>, taskSets: { id: string; runningCount?: number; pendingCount?: number; computedDesiredCount?: number; stabilityStatus?: string; loadBalancers: { targetGroupArn?: string }[] }[], alarms: { name: string; state: string }[], greenFailed?: number): Promise<SampleData> {
    const state = d.machineState as BlueGreenState;
    const ports = this.#aws(d.region);
    const roles: [SampleSet["role"], { id: string } | undefined][] = [
      ["blue", state.blue],
      ["green", state.green],
    ];
    const sets: SampleSet[] = [];
    for (const [role, ref] of roles) {
      const live = ref && taskSets.find((t) => t.id === ref.id);
      if (!ref || !live) continue;
      const targetGroups = live.loadBalancers.map((l) => l.targetGroupArn).filter((x): x is string => !!x);
      const known = role === "green" && greenFailed !== undefined ? greenFailed : undefined;
      const { healthy, failed } = await this.#reading(d, ref.id, live, known, () =>
        Promise.all([
          targetGroups.length ? Promise.all(targetGroups.map((tg) => ports.elbv2.describeTargetHealth(tg))).then((all) => all.flat().filter((t) => t.state === "healthy").length) : Promise.resolve(null),
          known ?? this.#failedTasks(d, ref.id),
        ]),
      );
      sets.push({ role, id: ref.id, targetGroups, desired: live.computedDesiredCount ?? null, running: live.runningCount ?? null, pending: live.pendingCount ?? null, healthy, failed: known ?? failed });
    }
    return { weights, sets, alarms };
  }

  /** A set's readings: taken again when its counts changed or the last ones are old, else the last ones. */
  async #reading(d: Deployment, setId: string, live: { runningCount?: number; pendingCount?: number; computedDesiredCount?: number; stabilityStatus?: string }, knownFailed: number | undefined, read: () => Promise<[number | null, number | null]>): Promise<Reading> {
    const key = JSON.stringify([live.runningCount, live.pendingCount, live.computedDesiredCount, live.stabilityStatus, knownFailed]);
    const now = this.#clock.now();
    let sets = this.#readings.get(d.id);
    if (!sets) {
      this.#readings.set(d.id, (sets = new Map<string, Reading>()));
      if (this.#readings.size > 1000) this.#readings.delete(this.#readings.keys().next().value!);
    }
    const last = sets.get(setId);
    if (last && last.key === key && now - last.at < REREAD_MS) return last;
    const [healthy, failed] = await read();
    const reading = { key, at: now, healthy, failed };
    sets.set(setId, reading);
    return reading;
  }

  /** The set's tasks that stopped by failing since the deployment began. */
  async #failedTasks(d: Deployment, taskSet: string): Promise<number | null> {
    const ecs = this.#aws(d.region).ecs;
    const arns = await ecs.listTasks({ cluster: d.cluster, startedBy: taskSet, desiredStatus: "STOPPED" });
    if (arns.length === 0) return 0;
    const { tasks } = await ecs.describeTasks(d.cluster, arns);
    return tasks.filter((t) => t.createdAt >= d.createdAt && isFailedTask(t)).length;
  }
}

/** Percent of traffic per target group: its share of each route that forwards to it, averaged over those routes. */
export function weightsOf(routes: readonly Route[]): Record<string, number> {
  const named = new Map<string, number[]>();
  for (const route of routes) {
    const groups = new Set(route.actions.filter((a) => a.type === "forward").flatMap((a) => a.forwardConfig?.targetGroups.map((t) => t.targetGroupArn) ?? (a.targetGroupArn ? [a.targetGroupArn] : [])));
    for (const tg of groups) named.set(tg, [...(named.get(tg) ?? []), shareOf(route, tg)]);
  }
  return Object.fromEntries([...named].map(([tg, shares]) => [tg, Math.round((shares.reduce((a, b) => a + b, 0) / shares.length) * 10) / 10]));
}
