/**
 * `flotilla apply`'s pass: make AWS match the objects of a tree. It finds what differs from what
 * runs (live state, and the store for what Flotilla deployed); from there it decides and starts
 * deployments on the decision path the controller shares (pass.ts): the pre-check of what each
 * deployment needs (the verdict `plan` shows), strategy, the delete guard, pacing and
 * concurrency. The controller finds its candidates from commits instead (controller.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { AwsError } from "../aws/errors.ts";
import type { AwsPortsFactory, Service } from "../aws/ports.ts";
import { identityKey, type LoadedObject } from "../config/load-object.ts";
import { mapBounded } from "../config/repository.ts";
import type { Problem } from "../core/problems.ts";
import type { Runner } from "../deploy/runner.ts";
import type { MachineState } from "../deploy/runner.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import { versionFromCommit, versionServiceName } from "../config/rainbow.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, Override, PendingDeleteReason } from "../store/types.ts";
import { PassStarter, StartPacer, type Concurrency } from "./pacing.ts";
import { blocks, decideDeletes, deleteJob, deployJob, handedOverMessage, precheck, runJob, type PassJob, type PassRun } from "./pass.ts";
import { describeObject, planFromLive, selectObjects, type LiveDefinitions } from "./plan.ts";
import { PassLookups } from "./prerequisites.ts";

export type Decision =
  | { object: string; action: "create" | "update"; why: string; job: PassJob }
  /** `held`: the delete waits (an unreadable object, deletes off, the mass-delete guard: pass.ts), and what to do about it. */
  | { object: string; action: "delete"; why: string; job: PassJob; held?: { reason: PendingDeleteReason; message: string } }
  /** It differs, but what the deployment needs is missing (`problems`): nothing is started. */
  | { object: string; action: "blocked"; why: string; wouldBe: "create" | "update"; problems: Problem[] }
  | { object: string; action: "none"; why: string }
  | { object: string; action: "invalid"; why: string };

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
export async function decide(objects: readonly LoadedObject[], options: Pick<ApplyOptions, "store" | "aws" | "only" | "allowDelete" | "maxDeleteFraction" | "confirmMassDelete" | "force" | "commitSha">): Promise<Decision[]> {
  const lookups = new PassLookups(options.aws);
  const decisions = await mapBounded(selectObjects(objects, options.only), DECIDING, (o) => decideObject(o, lookups, options));
  return [...decisions, ...(await deleteDecisions(objects, options))];
}

/** Objects decided at once: their reads (DescribeServices, DescribeTaskDefinition) are paced by the client-side limiter. */
const DECIDING = 16;

/** Deletes of the services whose objects are gone (from the store alone), all held or none (pass.ts). */
async function deleteDecisions(objects: readonly LoadedObject[], options: Pick<ApplyOptions, "store" | "only" | "allowDelete" | "maxDeleteFraction" | "confirmMassDelete">): Promise<Decision[]> {
  const deletes = options.only?.length ? [] : await removedObjects(objects, options.store);
  // The services `flotilla apply` deployed are its scope: they have no repository.
  const unreadable = objects.filter((o) => !o.identity).map((o) => o.name);
  const verdict = await decideDeletes(deletes.length, { store: options.store, repository: null, unreadable }, options);
  const held = verdict.held ? { reason: verdict.reason, message: `${verdict.message}; ${APPLY_REMEDY[verdict.reason]}` } : undefined;
  return deletes.map((job): Decision => ({ object: job.object, action: "delete", why: "its svcdef is gone from the tree", job, ...(held ? { held } : {}) }));
}

/** What a user of `flotilla apply` does about a held delete. */
const APPLY_REMEDY: Record<PendingDeleteReason, string> = {
  unsafe: "fix those objects first",
  "deletes-off": "allow them with --allow-delete",
  "mass-delete": "confirm with --confirm-mass-delete",
};

async function decideObject(o: LoadedObject, lookups: PassLookups, options: Pick<ApplyOptions, "store" | "aws" | "force" | "commitSha">): Promise<Decision> {
  if (!o.valid || !o.identity) return { object: o.name, action: "invalid", why: o.problems.find((p) => p.severity === "error")?.message ?? "invalid" };
  const job = deployJob(o, options.commitSha);
  const described = job.strategy === "rainbow" ? await decideRainbow(o.name, job, options) : await describeAndDecide(o, job, options);
  if ("decision" in described) return described.decision;
  const { verdict, clusterMissing } = described;
  // What the deployment needs must exist (the pre-check, pass.ts): otherwise nothing is started.
  const problems = await precheck(o, lookups, { action: verdict.action, clusterMissing });
  if (blocks(problems)) return { object: o.name, action: "blocked", why: `would ${verdict.action} (${verdict.why}) once what it needs exists`, wouldBe: verdict.action, problems };
  return { object: o.name, ...verdict, job };
}

/** A create or an update still to be pre-checked, or a decision already made (nothing to do, an invalid version). */
type Described = { verdict: { action: "create" | "update"; why: string }; clusterMissing: boolean } | { decision: Decision };

async function describeAndDecide(o: LoadedObject, job: PassJob, options: Pick<ApplyOptions, "store" | "aws" | "force">): Promise<Described> {
  const { live, clusterMissing } = await describeObject(o, options.aws);
  const verdict = await liveVerdict(o, job, live, options);
  return verdict.action === "none" ? { decision: { object: o.name, ...verdict } } : { verdict, clusterMissing };
}

/** Create, update or nothing, from what runs and what Flotilla last deployed. */
async function liveVerdict(o: LoadedObject, job: PassJob, described: LiveDefinitions, options: Pick<ApplyOptions, "store" | "force">): Promise<{ action: "create" | "update"; why: string } | { action: "none"; why: string }> {
  const live = described.service;
  if (!live || live.status !== "ACTIVE") return { action: "create", why: live ? `the service is ${live.status}` : "no such service yet" };
  if (options.force) return { action: "update", why: "forced" };
  const spec = job.spec;
  const last = await options.store.latestDeployment(o.name);
  const lastSpec = (last?.machineState as MachineState | undefined)?.spec;
  const runsOurs = last?.phase === "Succeeded" && last.strategy !== "delete" && lastSpec !== undefined && live.taskDefinition === last.newTaskDefinitionArn;
  // With the full live records, compare desired and live (src/plan): drift made outside Flotilla
  // is an update, and definitions that differ only by defaults are not. Blue/green services keep
  // their load balancers and network on task sets, which the plan does not read: store rule only.
  if (live.definition && live.deploymentController.type === "ECS") {
    const plan = planFromLive(o, described);
    if (plan.action === "update") return { action: "update", why: plan.reasons.filter((r) => !r.startsWith("no taskdef file")).join("; ") || "the live service differs" };
    // Fields the plan cannot compare (notCompared) still count when the definitions changed.
    if (runsOurs && (sameSpec(lastSpec, spec) || plan.notCompared.length === 0)) {
      return { action: "none", why: "the service and its task definition match the definitions, and the service runs the revision Flotilla deployed" };
    }
  } else if (runsOurs && sameSpec(lastSpec, spec)) {
    return { action: "none", why: "unchanged since the last successful deployment, and the service still runs its revision" };
  }
  const why = !last ? "the service exists but Flotilla has not deployed it yet" : last.phase !== "Succeeded" ? `the last deployment ended ${last.phase}` : lastSpec && !sameSpec(lastSpec, spec) ? "the definitions changed" : "the service runs another revision than Flotilla deployed (changed outside Flotilla)";
  return { action: "update", why };
}

/**
 * A rainbow object deploys a new version, never changes one in place: create when the version's
 * service does not run yet; nothing when it runs what these definitions deployed; otherwise the
 * deployment is attempted and fails VersionExists, which tells the user to name a new version.
 */
async function decideRainbow(object: string, job: PassJob, options: Pick<ApplyOptions, "store" | "aws" | "force">): Promise<Described> {
  const spec = job.spec;
  const version = spec.depdef.rainbow!.version ?? (spec.commitSha ? versionFromCommit(spec.commitSha) : undefined);
  if (version === undefined) return { decision: { object, action: "invalid", why: "FLT-RAINBOW-VERSION: the rainbow block names no version and there is no commit to name it by: set rainbow.version (e.g. from the inputs)" } };
  const service = versionServiceName(spec.service, version);
  let live: Service | undefined;
  try {
    live = (await options.aws(spec.region).ecs.describeServices(spec.cluster, [service])).services[0];
  } catch (e) {
    if (!(e instanceof AwsError && e.name === "ClusterNotFoundException")) throw e;
    return { verdict: { action: "create", why: `deploy version ${version} (service ${service})` }, clusterMissing: true };
  }
  if (!live || live.status === "INACTIVE") return { verdict: { action: "create", why: `deploy version ${version} (service ${service})` }, clusterMissing: false };
  const page = await options.store.listDeployments({ object, phase: "Succeeded", limit: 50 });
  const made = page.items.find((d) => d.strategy === "rainbow" && (d.machineState as { version?: string }).version === version);
  const deployedSpec = (made?.machineState as MachineState | undefined)?.spec;
  if (!options.force && deployedSpec && sameSpec(deployedSpec, spec)) return { decision: { object, action: "none", why: `version ${version} runs as service ${service}` } };
  // The deployment stops at once (VersionExists), telling the user to name a new version: nothing to pre-check.
  return { decision: { object, action: "update", why: `version ${version} already exists as service ${service} and the definitions differ: name a new version to deploy them`, job } };
}

/** Same service and task definition. The depdef is left out: its settings apply to the next deployment (DESIGN §1). */
function sameSpec(a: DeploySpec, b: DeploySpec): boolean {
  const deployed = (s: DeploySpec) => ({ region: s.region, cluster: s.cluster, service: s.service, svcdef: s.svcdef, taskdef: s.taskdef });
  return isDeepStrictEqual(deployed(a), deployed(b));
}

/** Objects Flotilla deployed (from this CLI) whose svcdef is no longer in the tree, and whose service no object claims. */
async function removedObjects(objects: readonly LoadedObject[], store: Store): Promise<PassJob[]> {
  const present = new Set(objects.map((o) => o.name));
  const claimed = new Set(objects.filter((o) => o.identity).map((o) => identityKey(o.identity!)));
  const latest = await store.latestPerObject();
  return latest
    .filter((d) => d.repository === null && d.strategy !== "delete" && !present.has(d.object) && !claimed.has(identityKey({ region: d.region, cluster: d.cluster, service: d.service })))
    .flatMap((d) => {
      const spec = (d.machineState as MachineState).spec;
      return spec ? [deleteJob(d.object, spec)] : [];
    });
}

type Runnable = Extract<Decision, { job: PassJob }>;

const isRunnable = (d: Decision): d is Runnable => d.action === "create" || d.action === "update" || (d.action === "delete" && !d.held);

/**
 * Finish what an earlier run left unfinished, then decide and run as a stream: each object's
 * deployment starts as soon as it is decided and the pacer lets it (pacing.ts: by default as fast
 * as ECS's buckets take the first change, with no cap; `concurrency` caps those in flight), so a
 * large pass registers its first task definition while the rest are still being described. Each
 * deployment is contained (pass.ts): one that stops with an error is reported in `errors` with the
 * others' results, never taking the pass down.
 */
export async function apply(objects: readonly LoadedObject[], options: ApplyOptions): Promise<ApplyResult> {
  const errors: ApplyError[] = [];
  const resumed = (await options.runner.resumeAll()).map((s) => {
    if (s.error !== undefined) errors.push({ object: s.deployment.object, deploymentId: s.deployment.id, message: s.error });
    else if (s.handedOver) errors.push({ object: s.deployment.object, deploymentId: s.deployment.id, message: handedOverMessage(s.handedOver) });
    return s.deployment;
  });
  const starter = new PassStarter(options.concurrency, options.pacer ?? new StartPacer(options.runner.clock));
  const start = { ...(options.commitSha ? { commitSha: options.commitSha } : {}), ...(options.overrides?.length ? { overrides: options.overrides } : {}) };
  const runs = new Map<Decision, Promise<PassRun | undefined>>();
  let stopped: Error | undefined;
  // A pass that has stopped starts nothing new, even what was waiting for its turn.
  const run = (d: Runnable): void => void runs.set(d, runJob(options.runner, starter, d.job, { start, stopped: () => stopped !== undefined }));
  // Deletes are known from the store alone; whether they may run is decided before anything deletes.
  const deletes = await deleteDecisions(objects, options);
  const lookups = new PassLookups(options.aws);
  const decided = await mapBounded(selectObjects(objects, options.only), DECIDING, async (o) => {
    try {
      const d = await decideObject(o, lookups, options);
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
  const ran = (await Promise.all(decisions.filter((d) => runs.has(d)).map((d) => runs.get(d)!))).filter((r): r is PassRun => r !== undefined);
  if (stopped !== undefined) throw stopped;
  for (const r of ran) {
    if (r.error !== undefined) errors.push({ object: r.job.object, deploymentId: r.deployment?.id ?? null, message: r.error });
    else if (r.handedOver) errors.push({ object: r.job.object, deploymentId: r.deployment?.id ?? null, message: handedOverMessage(r.handedOver) });
  }
  return { decisions, deployments: ran.flatMap((r) => (r.deployment ? [r.deployment] : [])), resumed, errors };
}
