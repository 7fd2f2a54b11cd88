/**
 * What a pass does to each object: the one decision path of `flotilla apply` and the controller.
 * Each finds its candidates its own way — apply compares the tree with what runs
 * (controller/apply.ts), the controller compares a commit with the last one it processed
 * (DESIGN §1) — and from there both decide here, the same way:
 *  - the strategy of each deployment: the object's, read once when it is loaded
 *    (config/load-object.ts: `rainbow` for a depdef with a rainbow block, else config/strategy.ts's
 *    rule), `delete` for a removed object (the runner deletes a rainbow object's every version);
 *  - which deletes run and which wait: none while an object of the tree cannot be read, none
 *    while deletes are off, none when together they trip the mass-delete guard (delete-guard.ts),
 *    counted against the services managed in the pass's scope;
 *  - the pre-check of each deployment (`precheck`, prerequisites.ts): what it needs in AWS — the
 *    cluster, its target groups and their listeners, listener rules, alarms — must exist, or the
 *    object is blocked: no deployment starts for it and nothing is changed in AWS (`flotilla plan`
 *    shows the same verdict);
 *  - starting the deployments: paced by ECS's request buckets and capped by `concurrency`
 *    (pacing.ts), each one contained — one that stops with an error never takes the others down.
 * What a caller does with a delete that waits is its own: apply reports it held back, the
 * controller keeps it as a pending delete (pending-deletes.ts).
 */
import type { LoadedObject } from "../config/load-object.ts";
import type { Problem } from "../core/problems.ts";
import type { Runner, Settled, StartOptions } from "../deploy/runner.ts";
import { specFromObject, type DeploySpec } from "../deploy/spec.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, PendingDeleteReason, Strategy } from "../store/types.ts";
import { massDeleteGuard } from "./delete-guard.ts";
import { DEFAULT_CONCURRENCY, firstChange, PassStarter, type Concurrency, type StartPacer } from "./pacing.ts";
import { clusterMissing, describeWhereabouts, missingPrerequisites, type PassLookups, type Whereabouts } from "./prerequisites.ts";

/** The defaults of `apply` and `serve` alike. */
export const PASS_DEFAULTS = { concurrency: DEFAULT_CONCURRENCY, maxDeleteFraction: 0.5 } as const;

/** One deployment a pass starts. */
export interface PassJob {
  object: string;
  spec: DeploySpec;
  strategy: Strategy;
}

/** The deployment of a valid object, with the strategy the object asks for (config/load-object.ts). */
export function deployJob(o: LoadedObject, commitSha?: string): PassJob {
  if (!o.strategy) throw new Error(`object ${o.name} has no svcdef to deploy`);
  return { object: o.name, spec: specFromObject(o, commitSha), strategy: o.strategy };
}

/** The delete of a removed object's service, as its spec was when it was deployed or removed. */
export function deleteJob(object: string, spec: DeploySpec): PassJob {
  return { object, spec, strategy: "delete" };
}

/**
 * The pre-check of an object's deployment, before anything is changed: what it needs and does not
 * find in AWS (prerequisites.ts). Any error blocks the object — apply and the controller start no
 * deployment for it, plan shows it `blocked` — and warnings go along with it. `at`: what the
 * caller has described already (apply and plan read the live service to compare it); without it,
 * one DescribeServices, batched with the pass's others, tells a create from an update. Reads are
 * shared by the pass (`lookups`).
 */
export async function precheck(o: LoadedObject, lookups: PassLookups, at?: Whereabouts): Promise<Problem[]> {
  if (!o.identity) throw new Error(`object ${o.name} has no service identity`);
  lookups.prefetch(o);
  const where = at ?? (await describeWhereabouts(o, lookups.aws));
  return [...(where.clusterMissing ? [clusterMissing(o)] : []), ...(where.problems ?? []), ...(await missingPrerequisites(o, lookups, where.action))];
}

/** Whether the pre-check's problems block the object. */
export const blocks = (problems: readonly Problem[]): boolean => problems.some((p) => p.severity === "error");

export interface DeletePolicy {
  allowDelete: boolean;
  /** 0–1: the largest fraction of the managed services deleted at once without confirmation. */
  maxDeleteFraction: number;
  /** Let a mass delete through (apply's --confirm-mass-delete). */
  confirmMassDelete?: boolean;
}

/** Whether a pass's deletes run, or all wait and why (the reasons of a pending delete). */
export type DeleteVerdict = { held: false } | { held: true; reason: PendingDeleteReason; message: string };

/**
 * The verdict on the `deletes` services a pass would delete together, in a scope: the services
 * Flotilla manages for a repository (the controller), or those `flotilla apply` deployed (null).
 * All or none — holding back some of a mass delete would let it through a few at a time:
 *  - `unsafe` while an object of the tree cannot be read (`unreadable`): it may be a removed
 *    service's new home (a rename with a broken template), and deleting would destroy it;
 *  - `deletes-off` unless deletes are allowed;
 *  - `mass-delete` when the guard holds them (delete-guard.ts).
 */
export async function decideDeletes(deletes: number, scope: { store: Store; repository: string | null; unreadable: readonly string[] }, policy: DeletePolicy): Promise<DeleteVerdict> {
  if (deletes === 0) return { held: false };
  if (scope.unreadable.length) return { held: true, reason: "unsafe", message: `${scope.unreadable.join(", ")} cannot be read and may manage the service` };
  if (!policy.allowDelete) return { held: true, reason: "deletes-off", message: "deletes are off" };
  const managed = await managedServices(scope.store, scope.repository);
  const guard = massDeleteGuard({ deletes, managed, maxFraction: policy.maxDeleteFraction, confirmed: policy.confirmMassDelete ?? false });
  return guard.held ? { held: true, reason: "mass-delete", message: guard.message } : { held: false };
}

/** Services Flotilla manages in a scope: objects whose latest deployment is not a delete. */
export async function managedServices(store: Store, repository: string | null): Promise<number> {
  // A null repository cannot be a query filter (SQL's NULL never equals): filtered here.
  const latest = repository === null ? (await store.latestPerObject()).filter((d) => d.repository === null) : await store.latestPerObject({ repository });
  return latest.filter((d) => d.strategy !== "delete").length;
}

export interface PassRun {
  job: PassJob;
  /** As recorded when it ended, or stopped (`error`); absent when it could not even be created. */
  deployment?: Deployment;
  error?: string;
  /** What stopped its creation (nothing was recorded or changed for it). */
  notCreated?: Error;
  /** This process stopped driving it before it ended (it is stopping, or another process owns it now). */
  handedOver?: Settled["handedOver"];
}

/** How a pass starts its deployments. */
export interface PassRunOptions {
  /** What every deployment of the pass is recorded with: repository, branch, commit, overrides. */
  start?: Omit<StartOptions, "strategy">;
  /** Called once a deployment is recorded, before it runs. */
  created?: (job: PassJob, deployment: Deployment) => void | Promise<void>;
  /** Asked when a deployment's turn comes: true starts nothing more (the pass has stopped). */
  stopped?: () => boolean;
  /**
   * How a job's deployment is had, instead of creating it and running it here: the controller joins
   * a deployment an earlier attempt at the same commit started, and waits for the service's
   * deployment in progress (docs/store.md, "Several replicas"). Calls `created` with the deployment.
   */
  deploy?: (job: PassJob, created: (d: Deployment) => Promise<void>) => Promise<Settled>;
}

/**
 * Starts one deployment of a pass when the starter lets it (pacing.ts: a slot when `concurrency`
 * caps the pass, then ECS's bucket for its first change), records it and runs it to its end. Never
 * throws: one that stops with an error, or cannot be created, is reported in its run; undefined
 * when the pass stopped before its turn.
 */
export function runJob(runner: Runner, starter: PassStarter, job: PassJob, options: PassRunOptions = {}): Promise<PassRun | undefined> {
  return starter.start(job.spec.region, firstChange(job.spec, job.strategy), async (): Promise<PassRun | undefined> => {
    if (options.stopped?.()) return undefined;
    if (options.deploy) {
      let hookError: string | undefined;
      const created = async (d: Deployment) => {
        await Promise.resolve(options.created?.(job, d)).catch((e: unknown) => void (hookError = message(e)));
      };
      let settled: Settled;
      try {
        settled = await options.deploy(job, created);
      } catch (e) {
        return { job, error: message(e), notCreated: e instanceof Error ? e : new Error(String(e)) };
      }
      const error = settled.error ?? hookError;
      return { job, deployment: settled.deployment, ...(error !== undefined ? { error } : {}), ...(settled.handedOver ? { handedOver: settled.handedOver } : {}) };
    }
    let created: Deployment;
    try {
      created = await runner.create(job.spec, { ...options.start, strategy: job.strategy });
    } catch (e) {
      return { job, error: message(e), notCreated: e instanceof Error ? e : new Error(String(e)) };
    }
    // Once created, a deployment runs to its end whatever its hook says (a crash would leave it to the next resume).
    let hookError: string | undefined;
    try {
      await options.created?.(job, created);
    } catch (e) {
      hookError = message(e);
    }
    const settled = await runner.settle(created);
    const error = settled.error ?? hookError;
    return { job, deployment: settled.deployment, ...(error !== undefined ? { error } : {}), ...(settled.handedOver ? { handedOver: settled.handedOver } : {}) };
  });
}

/** A pass's deployments, all started (runJob) and run to their ends. */
export async function runPass(runner: Runner, jobs: readonly PassJob[], options: PassRunOptions & { concurrency: Concurrency; pacer: StartPacer }): Promise<PassRun[]> {
  const starter = new PassStarter(options.concurrency, options.pacer);
  const runs = await Promise.all(jobs.map((job) => runJob(runner, starter, job, options)));
  return runs.filter((r): r is PassRun => r !== undefined);
}

/** Why a deployment stopped in this process before its end, for a pass's errors. */
export function handedOverMessage(why: NonNullable<Settled["handedOver"]>): string {
  return why === "stopping" ? "interrupted: handed over before it ended; the next run resumes it" : "another process drives it now";
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
