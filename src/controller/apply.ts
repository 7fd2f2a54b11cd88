/**
 * One reconcile pass: make AWS match a set of loaded objects. Decides per object (deploy, nothing,
 * delete), guards against mass deletion, and runs the deployments several at a time. Used by
 * `flotilla apply` and, per commit, by the controller.
 */
import { isDeepStrictEqual } from "node:util";
import { AwsError } from "../aws/errors.ts";
import type { AwsPortsFactory, Service, TaskDefinition } from "../aws/ports.ts";
import { identityKey, type LoadedObject } from "../config/load-object.ts";
import { strategyOf } from "../config/strategy.ts";
import { mapBounded } from "../config/repository.ts";
import type { Runner } from "../deploy/runner.ts";
import type { MachineState, Settled } from "../deploy/runner.ts";
import { specFromObject, type DeploySpec } from "../deploy/spec.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, Override, Strategy } from "../store/types.ts";
import { massDeleteGuard } from "./delete-guard.ts";
import { firstChange, PassStarter, StartPacer, type Concurrency } from "./pacing.ts";
import { planFromLive } from "./plan.ts";

export type Decision =
  | { object: string; action: "create" | "update"; why: string; spec: DeploySpec }
  | { object: string; action: "delete"; why: string; spec: DeploySpec; blocked?: string }
  | { object: string; action: "none"; why: string }
  | { object: string; action: "invalid"; why: string }
  | { object: string; action: "unsupported"; why: string };

export interface ApplyOptions {
  store: Store;
  aws: AwsPortsFactory;
  runner: Runner;
  /** Only these objects (path prefixes). */
  only?: readonly string[];
  allowDelete: boolean;
  /** Refuse a pass that deletes more than this fraction of the managed services, unless confirmed. */
  maxDeleteFraction: number;
  confirmMassDelete: boolean;
  /** Deployments in flight at once, or "auto": started as fast as ECS's buckets take them (pacing.ts). */
  concurrency: Concurrency;
  /** Shared by every pass of a process (the buckets are per account and Region); one of its own otherwise. */
  pacer?: StartPacer;
  commitSha?: string;
  /** Deploy even when nothing differs from the last successful deployment. */
  force?: boolean;
  /** Break-glass overrides for every deployment of this pass (`skip-alarms`, `all-at-once`), with who set them. */
  overrides?: Override[];
}

export interface ApplyResult {
  decisions: Decision[];
  /** The deployments this pass ran, as recorded when they ended (or stopped: see `errors`). */
  deployments: Deployment[];
  /** Deployments left unfinished by an earlier run (a crash) and carried on first. */
  resumed: Deployment[];
  /** Deployments that stopped with an error instead of reaching a phase; the pass went on with the others. */
  errors: ApplyError[];
}

export interface ApplyError {
  object: string;
  /** Null when the deployment could not even be recorded. */
  deploymentId: string | null;
  message: string;
}

/** What the desired state asks for, object by object, without changing anything. */
export async function decide(objects: readonly LoadedObject[], options: Pick<ApplyOptions, "store" | "aws" | "only" | "allowDelete" | "maxDeleteFraction" | "confirmMassDelete" | "force">): Promise<Decision[]> {
  const decisions = await mapBounded(selectedObjects(objects, options.only), DECIDING, (o) => decideObject(o, options));
  return [...decisions, ...(await deleteDecisions(objects, options))];
}

/** Objects decided at once: their reads (DescribeServices, DescribeTaskDefinition) are paced by the client-side limiter. */
const DECIDING = 16;

function selectedObjects(objects: readonly LoadedObject[], only: readonly string[] | undefined): readonly LoadedObject[] {
  return only?.length ? objects.filter((o) => only.some((p) => matchesObject(o.name, p))) : objects;
}

/** Deletes of the services whose objects are gone (from the store alone), each blocked unless allowed and under the mass-delete guard. */
async function deleteDecisions(objects: readonly LoadedObject[], options: Pick<ApplyOptions, "store" | "only" | "allowDelete" | "maxDeleteFraction" | "confirmMassDelete">): Promise<Decision[]> {
  const deletes = options.only?.length ? [] : await removedObjects(objects, options.store);
  if (deletes.length === 0) return [];
  const managed = (await options.store.latestPerObject({ repository: undefined })).filter((d) => d.strategy !== "delete" && d.repository === null).length;
  const guard = massDeleteGuard({ deletes: deletes.length, managed, maxFraction: options.maxDeleteFraction, confirmed: options.confirmMassDelete });
  return deletes.map((spec): Decision => {
    let blocked: string | undefined;
    if (!options.allowDelete) blocked = "deletes need --allow-delete";
    else if (guard.held) blocked = `${guard.message}; confirm with --confirm-mass-delete`;
    return { object: spec.object, action: "delete", why: "its svcdef is gone from the tree", spec, ...(blocked ? { blocked } : {}) };
  });
}

async function decideObject(o: LoadedObject, options: Pick<ApplyOptions, "store" | "aws" | "force">): Promise<Decision> {
  if (!o.valid || !o.identity) return { object: o.name, action: "invalid", why: o.problems.find((p) => p.severity === "error")?.message ?? "invalid" };
  const spec = specFromObject(o);
  const live = await describeLive(options.aws, spec);
  if (!live || live.status !== "ACTIVE") return { object: o.name, action: "create", why: live ? `the service is ${live.status}` : "no such service yet", spec };
  if (options.force) return { object: o.name, action: "update", why: "forced", spec };
  const last = await options.store.latestDeployment(o.name);
  const lastSpec = (last?.machineState as MachineState | undefined)?.spec;
  const runsOurs = last?.phase === "Succeeded" && last.strategy !== "delete" && lastSpec !== undefined && live.taskDefinition === last.newTaskDefinitionArn;
  // With the full live records, compare desired and live (src/plan): drift made outside Flotilla
  // is an update, and definitions that differ only by defaults are not. Blue/green services keep
  // their load balancers and network on task sets, which the plan does not read: store rule only.
  if (live.definition && live.deploymentController.type === "ECS") {
    const plan = planFromLive(o, { service: live, ...(await liveTaskDefinition(options.aws, spec, live)) });
    if (plan.action === "update") return { object: o.name, action: "update", why: plan.reasons.filter((r) => !r.startsWith("no taskdef file")).join("; ") || "the live service differs", spec };
    // Fields the plan cannot compare (notCompared) still count when the definitions changed.
    if (runsOurs && (sameSpec(lastSpec, spec) || plan.notCompared.length === 0)) {
      return { object: o.name, action: "none", why: "the service and its task definition match the definitions, and the service runs the revision Flotilla deployed" };
    }
  } else if (runsOurs && sameSpec(lastSpec, spec)) {
    return { object: o.name, action: "none", why: "unchanged since the last successful deployment, and the service still runs its revision" };
  }
  const why = !last ? "the service exists but Flotilla has not deployed it yet" : last.phase !== "Succeeded" ? `the last deployment ended ${last.phase}` : lastSpec && !sameSpec(lastSpec, spec) ? "the definitions changed" : "the service runs another revision than Flotilla deployed (changed outside Flotilla)";
  return { object: o.name, action: "update", why, spec };
}

async function liveTaskDefinition(aws: AwsPortsFactory, spec: DeploySpec, live: Service): Promise<{ taskDefinition?: TaskDefinition }> {
  if (!live.taskDefinition) return {};
  try {
    return { taskDefinition: await aws(spec.region).ecs.describeTaskDefinition(live.taskDefinition) };
  } catch (e) {
    if (e instanceof AwsError && e.name === "ClientException") return {};
    throw e;
  }
}

/** Same service and task definition. The depdef is left out: its settings apply to the next deployment (DESIGN §1). */
function sameSpec(a: DeploySpec, b: DeploySpec): boolean {
  const deployed = (s: DeploySpec) => ({ region: s.region, cluster: s.cluster, service: s.service, svcdef: s.svcdef, taskdef: s.taskdef });
  return isDeepStrictEqual(deployed(a), deployed(b));
}

async function describeLive(aws: AwsPortsFactory, spec: DeploySpec): Promise<Service | undefined> {
  const r = await aws(spec.region).ecs.describeServices(spec.cluster, [spec.service]);
  return r.services[0];
}

/** Objects Flotilla deployed (from this CLI) whose svcdef is no longer in the tree, and whose service no object claims. */
async function removedObjects(objects: readonly LoadedObject[], store: Store): Promise<DeploySpec[]> {
  const present = new Set(objects.map((o) => o.name));
  const claimed = new Set(objects.filter((o) => o.identity).map((o) => identityKey(o.identity!)));
  const latest = await store.latestPerObject();
  return latest
    .filter((d) => d.repository === null && d.strategy !== "delete" && !present.has(d.object) && !claimed.has(identityKey({ region: d.region, cluster: d.cluster, service: d.service })))
    .map((d) => (d.machineState as MachineState).spec)
    .filter((s): s is DeploySpec => s !== undefined);
}

type Runnable = Extract<Decision, { spec: DeploySpec }>;

const isRunnable = (d: Decision): d is Runnable => (d.action === "create" || d.action === "update" || d.action === "delete") && !("blocked" in d && d.blocked);

/**
 * Finish what an earlier run left unfinished, then decide and run as a stream: each object's
 * deployment starts as soon as it is decided and the pacer lets it (pacing.ts: by default as fast
 * as ECS's buckets take the first change, with no cap; `concurrency` caps those in flight), so a
 * large pass registers its first task definition while the rest are still being described. Each
 * deployment is contained: one that stops with an error is reported in `errors` with the others'
 * results, never taking the pass down.
 */
export async function apply(objects: readonly LoadedObject[], options: ApplyOptions): Promise<ApplyResult> {
  const errors: ApplyError[] = [];
  const settledOne = (s: Settled): Deployment => {
    if (s.error !== undefined) errors.push({ object: s.deployment.object, deploymentId: s.deployment.id, message: s.error });
    return s.deployment;
  };
  const resumed = (await options.runner.resumeAll()).map(settledOne);
  const starter = new PassStarter(options.concurrency, options.pacer ?? new StartPacer(options.runner.clock));
  const runs = new Map<Decision, Promise<Deployment | undefined>>();
  let stopped: Error | undefined;
  const run = (d: Runnable): void => {
    const strategy: Strategy = d.action === "delete" ? "delete" : strategyOf(d.spec.svcdef);
    runs.set(
      d,
      starter.start(d.spec.region, firstChange(d.spec, strategy), async () => {
        if (stopped !== undefined) return undefined;
        let created: Deployment;
        try {
          created = await options.runner.create(d.spec, {
            strategy,
            ...(options.commitSha ? { commitSha: options.commitSha } : {}),
            ...(options.overrides?.length ? { overrides: options.overrides } : {}),
          });
        } catch (e) {
          errors.push({ object: d.object, deploymentId: null, message: e instanceof Error ? e.message : String(e) });
          return undefined;
        }
        return settledOne(await options.runner.settle(created));
      }),
    );
  };
  // Deletes are known from the store alone; whether they may run is decided before anything deletes.
  const deletes = await deleteDecisions(objects, options);
  const decided = await mapBounded(selectedObjects(objects, options.only), DECIDING, async (o) => {
    try {
      const d = await decideObject(o, options);
      if (isRunnable(d) && stopped === undefined) run(d);
      return d;
    } catch (e) {
      // An object that cannot be decided (AccessDenied, a store error) stops the pass: nothing new
      // starts, what started runs to its end, then the error is reported as before.
      stopped ??= e instanceof Error ? e : new Error(String(e));
      return undefined;
    }
  });
  for (const d of deletes) if (isRunnable(d) && stopped === undefined) run(d);
  const decisions = [...decided.filter((d): d is Decision => d !== undefined), ...deletes];
  const ran = await Promise.all(decisions.filter((d) => runs.has(d)).map((d) => runs.get(d)!));
  if (stopped !== undefined) throw stopped;
  return { decisions, deployments: ran.filter((d): d is Deployment => d !== undefined), resumed, errors };
}

/** `--object` takes an object name or a path prefix of several (`dev/` selects every dev object). */
export function matchesObject(name: string, selector: string): boolean {
  const s = selector.replace(/\/+$/, "");
  return name === s || name.startsWith(`${s}/`);
}
