/**
 * The GitOps controller: Git sources (poller, webhooks, manual deploys) feed commits, in order, to
 * a handler that runs their deployments on the engine. Also the `ControllerPort` the HTTP API
 * drives. Deployments persist every step, so a controller stopped (or killed) mid-deployment
 * resumes them on its next start.
 */
import type { ControllerPort } from "../api/ports.ts";
import type { CleanupPlanAnswer, CommitFile, CommitInfo as ApiCommitInfo, DeployAccepted, DryRunResult as ApiDryRun, ObjectAction, ObjectPlanAnswer, SyncWindowState, VersionsAnswer } from "../api/types.ts";
import type { AwsPortsFactory } from "../aws/ports.ts";
import type { ObjectChange } from "../config/changes.ts";
import type { Clock } from "../core/clock.ts";
import { NOOP_METRICS, type MetricsSink } from "../core/metrics.ts";
import { FlotillaError, isFlotillaError, type Problem } from "../core/problems.ts";
import { DeploymentSampler } from "./samples.ts";
import { Runner, type MachineState, type Settled } from "../deploy/runner.ts";
import { specFromObject, type DeploySpec } from "../deploy/spec.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import type { InputEnvironment } from "../config/inputs.ts";
import { GitCommitSource } from "../config/source.ts";
import { planLoadedObject } from "./plan.ts";
import { commitRecordJson } from "../store/record.ts";
import { isStoreError, type ActiveDeploymentError } from "../store/errors.ts";
import type { Store } from "../store/store.ts";
import type { ActivityEvent, CommitObjectOutcome, Deployment, DriftRecord, NewActivityEvent, NewEvent, Override, PendingDelete, Repository, WaitingCommit } from "../store/types.ts";
import type { LoadedObject } from "../config/load-object.ts";
import { DriftDetector } from "./drift.ts";
import { event } from "../deploy/registry.ts";
import { finalCommitStatus, type CommitStatusSink } from "./commit-status.ts";
import { buildCommitRecord, maskerFor, outcomeOf, problemLine } from "./commit-record.ts";
import { commitFiles, listBranchCommits } from "./commits.ts";
import { blocks, decideDeletes, deleteJob, deployJob, precheck, runJob, runPass, type PassJob, type PassRun } from "./pass.ts";
import { PassLookups } from "./prerequisites.ts";
import { clearUndoneDeletes, HELD_BECAUSE, pendingDeleteOf } from "./pending-deletes.ts";
import { OUTSIDE_WINDOW, parseOverrideNames } from "./overrides.ts";
import type { SyncWindows } from "./sync-windows.ts";
import { CommitWaiting, WindowGate, windowSubjects } from "./window-gate.ts";
import type { DryRunResult } from "./process-commit.ts";
import { rollbackSpec } from "./rollback.ts";
import { createCleanup, createCutover, listVersions, planCleanup } from "./rainbow.ts";
import type { RepositoryPolicy } from "./server-config.ts";
import type { CommitContext, SourceEvent } from "./source-events.ts";
import { GitSources } from "./sources.ts";
import { PassStarter, StartPacer, type Concurrency } from "./pacing.ts";

export interface ControllerOptions {
  store: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  /** Mirrors and other local state go here. */
  dataDir: string;
  /** This process's owner id for leases (unique per process: serve adds a random part to the replica's name). */
  holder: string;
  /** How long a deployment's or repository's lease lasts without renewal (default 30 s). */
  leaseTtlMs?: number;
  /** How often leases are renewed and orphaned deployments looked for (default a third of the TTL). */
  heartbeatMs?: number;
  webhookSecret?: string;
  /** Deployments of one commit running at once, or "auto": started as fast as ECS's buckets take them (pacing.ts). */
  concurrency: Concurrency;
  /** Delete services whose svcdef was removed (off: the deletes are logged and skipped). */
  allowDelete: boolean;
  /** Refuse a commit that deletes more than this fraction of the repository's services. */
  maxDeleteFraction: number;
  env?: NodeJS.ProcessEnv;
  /** What the server's configuration allows repositories to be (URL forms, local roots, named credentials). */
  policy?: RepositoryPolicy;
  onUpdate?: (deployment: Deployment, events: readonly NewEvent[]) => void;
  onSourceEvent?: (event: SourceEvent) => void;
  /** Problems the controller reports while running (a failed resume, a held-back delete). */
  onWarning?: (message: string) => void;
  /** Extra secret-looking names masked in dry runs and commit records (the server configuration's masking.secretNames). */
  secretNames?: readonly string[];
  /** The environment variables inputs' ENV refs may read (the server configuration's inputs.allowedEnv; none by default). */
  inputEnvironment?: InputEnvironment;
  /** Where processed commits are counted (the server's PromMetrics). */
  metrics?: MetricsSink;
  /** Where each processed commit's status goes (GitHub commit statuses, docs/github.md); none when absent. */
  statuses?: CommitStatusSink;
  /** When commits may deploy (the server configuration's syncWindows); none: always. */
  syncWindows?: SyncWindows;
  /** Each activity the controller records (held commits, overrides, drift): serve logs them. */
  onActivity?: (event: ActivityEvent) => void;
  /** Drift detection (drift.ts): how often, and which repositories heal themselves; off when absent. */
  drift?: { intervalMs?: number; selfHealRepositories?: readonly string[] };
}

/** The override a self-heal deployment carries: why it ran (docs/controller.md, Drift). */
export const SELF_HEAL = "self-heal";

/** The marker a deploy requested through the API leaves on its deployments: `setBy` is the token's name. */
export const DEPLOY_REQUESTED = "deploy-requested";

export class Controller implements ControllerPort {
  readonly runner: Runner;
  readonly sampler: DeploymentSampler;
  readonly sources: GitSources;
  private readonly o: ControllerOptions;
  /** One for every repository's commits: ECS's buckets are per account and Region. */
  private readonly pacer: StartPacer;
  private readonly gate: WindowGate | undefined;
  readonly drift: DriftDetector | undefined;
  private readonly stopping = new AbortController();
  private adopting: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.o = options;
    this.pacer = new StartPacer(options.clock);
    this.gate = options.syncWindows?.size
      ? new WindowGate({ store: options.store, clock: options.clock, windows: options.syncWindows, ...(options.statuses ? { statuses: options.statuses } : {}), record: (event) => this.recordActivity(event) })
      : undefined;
    // Samples of weights and tasks over time, for the dashboard's chart (samples.ts).
    this.sampler = new DeploymentSampler({ store: options.store, aws: options.aws, clock: options.clock });
    this.runner = new Runner({
      store: options.store,
      aws: options.aws,
      clock: options.clock,
      observe: this.sampler.observe,
      owner: options.holder,
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      onLost: (id, why) => options.onWarning?.(`deployment ${id} is no longer driven by ${options.holder}: ${why}`),
      ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}),
    });
    this.sources = new GitSources({
      store: options.store,
      clock: options.clock,
      dataDir: options.dataDir,
      holder: options.holder,
      leaseTtlMs: this.runner.ownership.ttlMs,
      handler: (ctx) => this.runCommit(ctx),
      ...(options.onSourceEvent ? { onEvent: options.onSourceEvent } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
      ...(options.secretNames ? { secretNames: options.secretNames } : {}),
      ...(options.inputEnvironment ? { load: { environment: options.inputEnvironment } } : {}),
      afterSync: (repo) => this.carryOutHeldDeletes(repo),
    });
    this.drift = options.drift
      ? new DriftDetector({
          store: options.store,
          aws: options.aws,
          clock: options.clock,
          mirrors: this.sources.mirrors,
          sweep: this.runner.sweep,
          holder: options.holder,
          queue: this.sources.queue,
          ...(options.drift.intervalMs !== undefined ? { intervalMs: options.drift.intervalMs } : {}),
          ...(options.drift.selfHealRepositories ? { selfHealRepositories: options.drift.selfHealRepositories } : {}),
          ...(options.secretNames ? { secretNames: options.secretNames } : {}),
          ...(options.inputEnvironment ? { load: { environment: options.inputEnvironment } } : {}),
          ...(options.syncWindows?.size ? { windows: options.syncWindows } : {}),
          heal: (repo, o, sha, reasons) => this.healDrift(repo, o, sha, reasons),
          record: (event) => this.recordActivity(event),
          ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        })
      : undefined;
  }

  private async recordActivity(event: NewActivityEvent): Promise<ActivityEvent> {
    const stored = await this.o.store.appendActivity(event);
    this.o.onActivity?.(stored);
    return stored;
  }

  /**
   * Redeploy a drifted object from its repository's last processed commit, unless a deployment of
   * it is in flight or a newer commit was processed meanwhile (drift.ts ran the pre-check). Called
   * within the repository's drift pass, which holds the repository's queue and lease, so it is never
   * refused. It starts as a commit's deployment does (pass.ts's runJob: the pacer's slot and ECS's
   * bucket, then the runner) and answers once the deployment is created; the deployment then runs
   * to its end under its own lease, like any other (a commit of the object processed meanwhile waits
   * for it), while the pass moves on.
   */
  private healDrift(repo: Repository, o: LoadedObject, sha: string, reasons: readonly string[]): Promise<Deployment | undefined> {
    return new Promise<Deployment | undefined>((resolve) => {
      void (async () => {
        const latest = await this.o.store.latestDeployment(o.name, repo.name);
        const last = await this.o.store.getLastCommit(repo.name, repo.branch);
        if ((latest && latest.finishedAt === null) || last?.sha !== sha) return resolve(undefined);
        const by: Override = { name: SELF_HEAL, setBy: "drift detection", source: "controller", at: this.o.clock.now() };
        const run = await runJob(this.runner, new PassStarter(this.o.concurrency, this.pacer), deployJob(o, sha), {
          start: { repository: repo.name, branch: repo.branch, commitSha: sha, overrides: [by] },
          created: async (_job, deployment) => {
            resolve(deployment);
            // Why it runs, first on its own timeline (the activity stream says it too, with the diff's reasons).
            await this.o.store.appendEvents(deployment.id, [event("SelfHealRequested", { sha: sha.slice(0, 7), reasons: reasons.slice(0, 5).join("; ") || "differs" }, { reasons })]);
          },
        });
        if (run?.notCreated) throw run.notCreated;
        if (run?.deployment && run.error !== undefined) this.o.onWarning?.(`${repo.name}: the self-heal ${run.deployment.id} of ${o.name} (${reasons.join("; ")}) stopped: ${run.error}`);
        resolve(undefined);
      })().catch((e: unknown) => {
        this.o.onWarning?.(`${repo.name}: self-heal of ${o.name} failed: ${String(e)}`);
        resolve(undefined);
      });
    });
  }

  /**
   * Watch the repositories, and adopt every unfinished deployment no live process owns — at once
   * (what a previous run of this replica left) and then every heartbeat (what a replica that died
   * or stopped leaves). A live replica's deployments are never touched.
   */
  start(): void {
    const signal = this.stopping.signal;
    this.adopting = (async () => {
      while (!signal.aborted) {
        try {
          for (const { deployment, settled } of await this.runner.adoptOrphans()) {
            void settled.then(({ error }) => {
              if (error !== undefined) this.o.onWarning?.(`the adopted deployment ${deployment.id} of ${deployment.object} stopped: ${error}`);
            });
          }
        } catch (e) {
          this.o.onWarning?.(`looking for deployments to adopt failed: ${String(e)}`);
        }
        try {
          await this.o.clock.sleep(this.runner.ownership.heartbeatMs, signal);
        } catch {
          return;
        }
      }
    })();
    this.sources.poller.start();
    this.drift?.start();
  }

  /**
   * Stop taking work and stop driving deployments: waits end at once, an AWS call in flight is let
   * finish and recorded, and each deployment is released so another replica (or this one's next
   * start) adopts it at once. The commit being processed stays unprocessed, for the repository's
   * next owner; deployments it already started are joined, never repeated.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.drift?.stop(), this.sources.stop(), this.runner.stop(), this.adopting]);
  }

  /**
   * Run one commit's deployments: deploys and (when allowed) deletes, several at once; deletes that
   * must wait become pending deletes. Then record what the commit did and which problems its
   * objects have: an invalid object, or one blocked by the pre-check of what it needs in AWS, is
   * recorded, never only logged, and the others deploy.
   */
  async runCommit(ctx: CommitContext): Promise<Deployment[]> {
    try {
      return await this.runCommitDeployments(ctx);
    } catch (e) {
      if (e instanceof CommitWaiting) throw e; // its status says it waits
      // Unprocessed: the next trigger retries it, and says so on the commit. Handed over at a stop,
      // it stays pending: the repository's next owner carries on with its deployments.
      if (!(isFlotillaError(e) && e.code === "FLT-CONTROLLER-STOPPING")) this.o.statuses?.report(ctx.repository, ctx.plan.commit.sha, { state: "error", description: `not processed (${isFlotillaError(e) ? e.code : "FLT-INTERNAL"}); Flotilla retries it at the next sync` });
      throw e;
    }
  }

  private async runCommitDeployments(ctx: CommitContext): Promise<Deployment[]> {
    const { plan, repository } = ctx;
    // Held by a sync window: throws CommitWaiting and nothing runs; released: the override to record.
    if (this.gate) plan.overrides.push(...(await this.gate.check(repository, plan)));
    const at = `${repository.name}@${plan.commit.sha.slice(0, 7)}`;
    const outcomes = new Map<string, CommitObjectOutcome>();
    // The deployments of the commit, by object: which change each one carries out.
    const jobs: PassJob[] = [];
    const changes = new Map<string, ObjectChange>();
    await clearUndoneDeletes(this.o.store, repository.name, plan);
    // A problem may quote a value: masked with the object's own sensitive values before it is shown anywhere.
    const firstError = (c: ObjectChange, problems: readonly Problem[]) => {
      const found = problems.find((p) => p.severity === "error");
      return found && maskerFor(c, this.o.secretNames).value(found);
    };
    const readable: ObjectChange[] = [];
    for (const c of plan.deploy) {
      if (!c.loaded?.valid || !c.loaded.identity) {
        const first = firstError(c, c.problems);
        outcomes.set(c.object, outcomeOf(c, "invalid", `not deployed: ${first?.message ?? "the object is invalid"}`));
        this.o.onWarning?.(`${at}: ${c.object} is invalid and is not deployed: ${first ? problemLine(first) : "invalid"}`);
        continue;
      }
      readable.push(c);
    }
    // The pre-check of each deployment, as apply runs it (pass.ts): an object whose target group,
    // cluster, listener rule or alarm is missing is blocked — no deployment, nothing changed in AWS.
    const lookups = new PassLookups(this.o.aws);
    const checked = await Promise.all(readable.map(async (c) => ({ c, problems: await precheck(c.loaded!, lookups) })));
    const found = new Map<string, Problem[]>();
    for (const { c, problems } of checked) {
      if (problems.length) found.set(c.object, problems);
      if (blocks(problems)) {
        const first = firstError(c, problems)!;
        outcomes.set(c.object, outcomeOf(c, "blocked", `not deployed: ${first.message}`));
        this.o.onWarning?.(`${at}: ${c.object} is blocked and is not deployed: ${problemLine(first)}`);
        continue;
      }
      jobs.push(deployJob(c.loaded!, plan.commit.sha));
      changes.set(c.object, c);
    }
    const deletes: ObjectChange[] = [];
    for (const c of plan.delete) {
      if (!c.loaded?.identity) {
        // Unreadable at the previous commit: the service Flotilla last deployed for the object is
        // known from the store; its delete waits for an operator who checks that it is the one.
        const last = await this.o.store.latestDeployment(c.object, repository.name);
        const spec = last && last.strategy !== "delete" ? (last.machineState as MachineState | undefined)?.spec : undefined;
        if (spec) {
          const message = `the removed svcdef cannot be read at the previous commit; Flotilla last deployed this object as service ${spec.service} (${spec.region}/${spec.cluster}): check that it is the one, then confirm this delete (flotilla pending-delete confirm)`;
          await this.holdSpec(outcomes, repository, ctx, c, { ...spec, commitSha: plan.commit.sha }, "unsafe", message, "FLT-CHANGE-DELETE-UNIDENTIFIED");
        } else {
          outcomes.set(c.object, outcomeOf(c, "invalid"));
          this.o.onWarning?.(`${at}: ${c.object} was removed but the service to delete is unknown: ${problemLine(maskerFor(c, this.o.secretNames).value(c.problems[0]!))}`);
        }
      } else deletes.push(c);
    }
    const verdict = await decideDeletes(deletes.length, { store: this.o.store, repository: repository.name, unreadable: plan.unreadable }, this.o);
    for (const c of deletes) {
      if (!verdict.held) {
        jobs.push(deleteJob(c.object, specFromObject(c.loaded!, plan.commit.sha)));
        changes.set(c.object, c);
      } else if (verdict.reason === "unsafe") {
        // The change names the service it would delete (config/changes.ts).
        const unsafe = c.problems.find((p) => p.code === "FLT-CHANGE-DELETE-UNSAFE");
        await this.hold(outcomes, repository, ctx, c, "unsafe", `${unsafe?.message ?? verdict.message}; ${HELD_BECAUSE.unsafe}`, "FLT-CHANGE-DELETE-UNSAFE");
      } else if (verdict.reason === "deletes-off") await this.hold(outcomes, repository, ctx, c, "deletes-off", HELD_BECAUSE["deletes-off"]);
      else await this.hold(outcomes, repository, ctx, c, "mass-delete", massDeleteMessage(verdict.message));
    }
    if (jobs.length) this.o.statuses?.report(repository, plan.commit.sha, { state: "pending", description: `deploying ${jobs.length} object${jobs.length === 1 ? "" : "s"}` });
    // Each deployment is contained: one that stops with an error is warned about (and adopted again
    // once its lease runs out); the commit's other deployments carry on. Each object's deployment is
    // made once however often the commit is processed (deployOnce).
    const since = (await this.o.store.getLastCommit(repository.name, repository.branch))?.processedAt ?? 0;
    const runs = await runPass(this.runner, jobs, {
      concurrency: this.o.concurrency,
      pacer: this.pacer,
      start: { repository: repository.name, branch: repository.branch, commitSha: plan.commit.sha, overrides: plan.overrides },
      created: (job, d) => {
        const change = changes.get(job.object)!;
        outcomes.set(job.object, outcomeOf(change, job.strategy === "delete" ? "delete" : "deploy", change.description, d.id));
      },
      deploy: (job, created) => this.deployOnce(ctx, job, since, created),
    });
    for (const r of runs) if (r.deployment && r.error !== undefined) this.o.onWarning?.(`${at}: deployment ${r.deployment.id} of ${r.job.object} stopped: ${r.error}`);
    // Stopping: the commit stays unprocessed; the repository's next owner joins what was started.
    const handed = runs.find((r) => r.handedOver === "stopping");
    if (handed) throw stoppingError(`${at} was handed over with deployment ${handed.deployment?.id ?? "?"} unfinished`);
    // A deployment that could not even be created leaves the commit unprocessed, to be retried, once
    // the others have ended.
    const notCreated = runs.find((r) => r.notCreated)?.notCreated;
    if (notCreated) throw notCreated;
    const deployments = runs.flatMap((r) => (r.deployment ? [r.deployment] : []));
    // The record and the commit's advance are one transaction (process-commit.ts): a crash before it
    // leaves the commit to process again, joining these deployments; after it, nothing to redo.
    const record = await ctx.record(buildCommitRecord(plan, outcomes, { trigger: ctx.trigger, found, ...(this.o.secretNames ? { secretNames: this.o.secretNames } : {}) }));
    (this.o.metrics ?? NOOP_METRICS).commitProcessed(record.repository, { status: record.status, invalidObjects: record.objects.filter((o) => o.action === "invalid").length });
    this.o.statuses?.report(repository, plan.commit.sha, finalCommitStatus(record, deployments));
    return deployments;
  }

  /**
   * One object's deployment for a commit, exactly once however often the commit is processed: an
   * attempt that a replica left unfinished (it died or stopped mid-commit) is joined rather than
   * repeated, and while another deployment of the service is in progress (an earlier commit's,
   * perhaps orphaned) this waits for it to end — adopting it if its owner is gone — then deploys.
   */
  private async deployOnce(ctx: CommitContext, job: PassJob, since: number, started: (d: Deployment) => Promise<void>): Promise<Settled> {
    const { plan, repository } = ctx;
    for (let waited = false; ; ) {
      // Deployments of this commit made after the last processed commit come from an earlier attempt at this one.
      const earlier = (await this.o.store.listDeployments({ repository: repository.name, commitSha: plan.commit.sha, object: job.object, limit: 1 })).items[0];
      if (earlier && earlier.createdAt >= since && (earlier.finishedAt === null || ctx.trigger !== "manual")) {
        await started(earlier);
        return this.follow(earlier.id);
      }
      let created: Deployment;
      try {
        created = await this.runner.create(job.spec, { strategy: job.strategy, repository: repository.name, branch: repository.branch, commitSha: plan.commit.sha, overrides: plan.overrides });
      } catch (e) {
        if (!isStoreError(e, "FLT-STORE-ACTIVE-DEPLOYMENT")) throw e;
        const active = (e as ActiveDeploymentError).activeDeploymentId ?? (await this.o.store.listDeployments({ region: job.spec.region, cluster: job.spec.cluster, service: job.spec.service, active: true, limit: 1 })).items[0]?.id;
        if (!active) continue; // it ended meanwhile
        if (!waited) this.o.onWarning?.(`${repository.name}@${plan.commit.sha.slice(0, 7)}: ${job.object} waits for deployment ${active} of the same service to end`);
        waited = true;
        await this.follow(active);
        continue;
      }
      await started(created);
      return this.runner.settle(created);
    }
  }

  /** Wait for a deployment to end wherever it runs, adopting it if its owner goes; a stop ends the wait. */
  private async follow(id: string): Promise<Settled> {
    try {
      return await this.runner.follow(id, this.stopping.signal);
    } catch (e) {
      if (this.stopping.signal.aborted) throw stoppingError(`stopped waiting for deployment ${id}`);
      throw e;
    }
  }

  /** Keep a removed object's delete as pending, and say so once. */
  private hold(outcomes: Map<string, CommitObjectOutcome>, repository: Repository, ctx: CommitContext, c: ObjectChange, reason: PendingDelete["reason"], message: string, code: string | null = null): Promise<void> {
    return this.holdSpec(outcomes, repository, ctx, c, specFromObject(c.loaded!, ctx.plan.commit.sha), reason, message, code);
  }

  private async holdSpec(outcomes: Map<string, CommitObjectOutcome>, repository: Repository, ctx: CommitContext, c: ObjectChange, spec: DeploySpec, reason: PendingDelete["reason"], message: string, code: string | null = null): Promise<void> {
    await this.o.store.holdDelete(pendingDeleteOf(repository, ctx.plan, c.object, spec, reason, message, code));
    outcomes.set(c.object, outcomeOf(c, "delete-held", `${c.description}: held back, ${message}`));
    this.o.onWarning?.(`${repository.name}@${ctx.plan.commit.sha.slice(0, 7)}: the delete of ${c.object} is pending: ${message}`);
  }

  /**
   * After a sync, with deletes allowed: carry out the deletes held while they were off, under the
   * same mass-delete guard as a commit's, counted together (held by it, they become `mass-delete`).
   * `mass-delete` and `unsafe` ones wait for an operator: confirming one of a mass delete must not
   * let the rest through one by one.
   */
  private async carryOutHeldDeletes(repo: Repository): Promise<void> {
    if (!this.o.allowDelete) return;
    const held = (await this.o.store.listPendingDeletes({ repository: repo.name })).filter((p) => p.reason === "deletes-off");
    if (held.length === 0) return;
    // Held at earlier commits, whose objects all read (or they would be `unsafe`).
    const verdict = await decideDeletes(held.length, { store: this.o.store, repository: repo.name, unreadable: [] }, this.o);
    if (verdict.held) {
      const message = massDeleteMessage(verdict.message);
      for (const p of held) {
        await this.o.store.holdDelete({ ...p, reason: "mass-delete", message });
        this.o.onWarning?.(`${repo.name}: the delete of ${p.object} stays pending: ${message}`);
      }
      return;
    }
    const by: Override = { name: "delete-allowed", setBy: "flotilla serve --allow-delete", source: "controller", at: this.o.clock.now() };
    await this.runHeldDeletes(repo, held, by);
  }

  /** Run held deletes to their ends (pass.ts), forgetting each hold once its delete is recorded. */
  private async runHeldDeletes(repo: Repository, held: readonly PendingDelete[], by: Override, created?: (d: Deployment) => void): Promise<PassRun[]> {
    const runs = await runPass(
      this.runner,
      // Each delete is recorded under the commit that removed its object.
      held.map((p) => deleteJob(p.object, { ...(p.spec as DeploySpec), commitSha: p.commitSha })),
      {
        concurrency: this.o.concurrency,
        pacer: this.pacer,
        start: { repository: repo.name, branch: repo.branch, overrides: [by] },
        created: async (job, d) => {
          await this.o.store.removePendingDelete(repo.name, job.object);
          created?.(d);
        },
      },
    );
    for (const r of runs) if (r.error !== undefined) this.o.onWarning?.(`${repo.name}: the delete ${r.deployment ? `${r.deployment.id} ` : ""}of ${r.job.object} stopped: ${r.error}`);
    return runs;
  }

  // ---- ControllerPort (the API's view) ----

  async listCommits(repo: Repository, options: { limit: number }): Promise<ApiCommitInfo[]> {
    const mirror = this.sources.mirrors.of(repo);
    await mirror.sync();
    const last = await this.o.store.getLastCommit(repo.name, repo.branch);
    const commits = await listBranchCommits(mirror.gitDir, repo.branch, { limit: options.limit, lastProcessed: last?.sha, clock: this.o.clock });
    return commits.map((c) => ({ sha: c.sha, parents: c.parents, author: `${c.author.name} <${c.author.email}>`, committedAt: new Date(c.committedAt).toISOString(), subject: c.subject, processed: c.processed }));
  }

  async commitFiles(repo: Repository, sha: string): Promise<CommitFile[]> {
    const mirror = this.sources.mirrors.of(repo);
    await mirror.sync();
    return commitFiles(mirror.gitDir, sha, repo.path);
  }

  async deployCommit(repo: Repository, sha: string, options: { force: boolean; requestedBy: string; overrides: readonly string[] }): Promise<DeployAccepted> {
    const now = this.o.clock.now();
    // Who asked, recorded on every deployment this starts (like a rollback's and a confirmed delete's marker).
    const overrides = [...parseOverrideNames(options.overrides, options.requestedBy, "api", now), { name: DEPLOY_REQUESTED, setBy: options.requestedBy, source: "api", at: now }];
    const preview = await this.sources.manual.dryRun(repo.name, sha, { force: options.force });
    this.refuseClosedWindow(repo, preview, overrides);
    const queuePosition = this.sources.queue.depth(repo.name);
    this.sources.manual.deployCommit(repo.name, sha, { force: options.force, overrides }).catch((e: unknown) => this.o.onWarning?.(`deploy of ${repo.name}@${sha} failed: ${String(e)}`));
    return { repository: repo.name, sha: preview.commit.sha, queuePosition, actions: actionsOf(preview) };
  }

  async dryRun(repo: Repository, sha: string, options: { rendered: boolean }): Promise<ApiDryRun> {
    const r = await this.sources.manual.dryRun(repo.name, sha, { render: options.rendered });
    const rendered = options.rendered ? Object.fromEntries(r.objects.filter((o) => o.rendered).map((o) => [o.object, o.rendered as Record<string, unknown>])) : undefined;
    // A commit already processed compares with itself: what its processing recorded says more.
    const recorded = await this.o.store.getCommitRecord(repo.name, r.commit.sha);
    const checked = await this.precheckDryRun(repo, r);
    const actions = actionsOf(r).map((a) => {
      const blocking = checked.get(a.object)?.find((p) => p.severity === "error");
      return blocking ? { ...a, blocked: problemLine(blocking) } : a;
    });
    return { repository: repo.name, sha: r.commit.sha, actions, problems: [...r.objects.flatMap((o) => o.problems), ...[...checked.values()].flat()], recorded: recorded ? commitRecordJson(recorded) : null, ...(rendered ? { rendered } : {}) };
  }

  /** The pre-check (pass.ts) of the objects a dry run would deploy, as processing the commit would run it. Read-only. */
  private async precheckDryRun(repo: Repository, r: DryRunResult): Promise<Map<string, Problem[]>> {
    const names = new Set(r.objects.filter((o) => o.action === "deploy" && !o.problems.some((p) => p.severity === "error")).map((o) => o.object));
    const found = new Map<string, Problem[]>();
    if (names.size === 0) return found;
    const source = new GitCommitSource(this.sources.mirrors.of(repo).gitDir, r.commit.sha, repo.path ?? "");
    const loaded = await loadRepository(source, loadOptions(this.o.inputEnvironment ? { environment: this.o.inputEnvironment } : {}), (o) => names.has(o.name)).finally(() => source.close());
    const lookups = new PassLookups(this.o.aws);
    await Promise.all(
      loaded.objects.filter((o) => o.valid && o.identity).map(async (o) => {
        const problems = await precheck(o, lookups);
        if (problems.length) found.set(o.name, problems);
      }),
    );
    return found;
  }

  /** Carry out a held delete now, as the operator asked: queued behind the repository's work; answers once the delete is created. */
  confirmPendingDelete(repo: Repository, object: string, requestedBy: string): Promise<Deployment> {
    const by: Override = { name: "delete-confirmed", setBy: requestedBy, source: "api", at: this.o.clock.now() };
    return new Promise<Deployment>((resolve, reject) => {
      this.sources.queue
        .exclusive(repo.name, async (current) => {
          const p = await this.o.store.getPendingDelete(current.name, object);
          if (!p) throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no delete of ${object} is pending in ${current.name}`, hint: "flotilla pending-delete list shows the pending deletes" });
          const [run] = await this.runHeldDeletes(current, [p], by, resolve);
          if (run?.notCreated) throw run.notCreated;
        })
        .catch((e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    });
  }

  /** A deploy asked for through the API while a sync window holds the commit's objects: refused unless overridden. */
  private refuseClosedWindow(repo: Repository, preview: DryRunResult, overrides: readonly Override[]): void {
    if (!this.o.syncWindows?.size || overrides.some((o) => o.name === OUTSIDE_WINDOW)) return;
    const changing = preview.objects.filter((o) => o.action === "deploy" || o.action === "delete");
    const verdict = this.o.syncWindows.verdict(windowSubjects(repo.name, changing), this.o.clock.now());
    if (verdict.held) throw new FlotillaError({ code: "FLT-WINDOW-CLOSED", message: `${repo.name}@${preview.commit.sha.slice(0, 7)} would deploy while a sync window holds it: ${verdict.message}`, hint: `deploy it with the override ${OUTSIDE_WINDOW} (recorded), or wait` });
  }

  /** One drift pass now (over one repository, or all); its records. Off: FLT-DRIFT-OFF. */
  async checkDrift(repository?: string): Promise<DriftRecord[]> {
    if (!this.drift) throw new FlotillaError({ code: "FLT-DRIFT-OFF", message: "drift detection is off on this server", hint: "set drift.enabled: true in the server configuration (docs/controller.md, Drift)" });
    return this.drift.checkAll(repository);
  }

  syncWindows(): SyncWindowState[] {
    return this.o.syncWindows?.states(this.o.clock.now()) ?? [];
  }

  async releaseWaitingCommit(repo: Repository, sha: string | undefined, requestedBy: string): Promise<WaitingCommit> {
    const waiting = await this.o.store.getWaitingCommit(repo.name, repo.branch);
    const wanted = sha?.toLowerCase();
    if (!waiting || !this.gate || (wanted !== undefined && !waiting.sha.startsWith(wanted))) {
      const what = waiting ? `${waiting.sha.slice(0, 12)} waits, not ${sha}` : "no commit waits for a sync window";
      throw new FlotillaError({ code: "FLT-WINDOW-NOT-WAITING", message: `${repo.name}: ${what}`, hint: "flotilla window list shows the commits that wait" });
    }
    const released = await this.gate.release(repo, waiting.sha, requestedBy);
    if (!released) throw new FlotillaError({ code: "FLT-WINDOW-NOT-WAITING", message: `${repo.name}: ${waiting.sha.slice(0, 12)} no longer waits`, hint: "flotilla window list shows the commits that wait" });
    this.sources.queue.sync(repo.name, "manual").catch((e: unknown) => this.o.onWarning?.(`${repo.name}: the sync after releasing ${waiting.sha.slice(0, 7)} failed: ${String(e)}`));
    return released;
  }

  /** A repository was registered or changed through the API: fetch and process it now. */
  watchRepository(name: string): void {
    this.sources.poller.watch(name);
  }

  async planObject(object: string): Promise<ObjectPlanAnswer> {
    const notFound = (why: string) => new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no plan for ${object}: ${why}` });
    const latest = await this.o.store.latestDeployment(object);
    const repo = latest?.repository ? await this.o.store.getRepository(latest.repository) : undefined;
    if (!repo) throw notFound("no registered repository has deployed it");
    const last = await this.o.store.getLastCommit(repo.name, repo.branch);
    if (!last) throw notFound(`repository ${repo.name} has no processed commit`);
    const source = new GitCommitSource(this.sources.mirrors.of(repo).gitDir, last.sha, repo.path ?? "");
    const loaded = await loadRepository(source, loadOptions(this.o.inputEnvironment ? { environment: this.o.inputEnvironment } : {}), (o) => o.name === object).finally(() => source.close());
    const found = loaded.objects.find((o) => o.name === object);
    if (!found) throw notFound(`commit ${last.sha.slice(0, 12)} of ${repo.name} no longer has it`);
    const plan = await planLoadedObject(found, this.o.aws, this.o.secretNames ?? []);
    return { object, repository: repo.name, sha: last.sha, action: plan.action, ...(plan.strategy ? { strategy: plan.strategy } : {}), ...(plan.rollout ? { rollout: plan.rollout } : {}), reasons: plan.reasons, notCompared: plan.notCompared, problems: plan.problems, service: { changed: plan.service.changed, text: plan.service.text }, taskDefinition: { changed: plan.taskDefinition.changed, text: plan.taskDefinition.text } };
  }

  async cutover(object: string, version: string, requestedBy: string): Promise<Deployment> {
    const created = await createCutover({ store: this.o.store, runner: this.runner, clock: this.o.clock, requestedBy, source: "api" }, object, version);
    this.runner.run(created).catch((e: unknown) => this.o.onWarning?.(`cutover of ${object} to ${version} stopped: ${String(e)}`));
    return created;
  }

  async cleanup(object: string, requestedBy: string): Promise<Deployment> {
    const created = await createCleanup({ store: this.o.store, runner: this.runner, clock: this.o.clock, requestedBy, source: "api" }, object);
    this.runner.run(created).catch((e: unknown) => this.o.onWarning?.(`cleanup of ${object} stopped: ${String(e)}`));
    return created;
  }

  planCleanup(object: string): Promise<CleanupPlanAnswer> {
    return planCleanup(this.o.store, this.o.aws, object, this.o.clock.now());
  }

  versions(object: string): Promise<VersionsAnswer> {
    return listVersions(this.o.store, this.o.aws, object);
  }

  async rollback(object: string, requestedBy: string): Promise<Deployment> {
    const { spec, strategy } = await rollbackSpec(this.o.store, object);
    const created = await this.runner.create(spec, { strategy, overrides: [{ name: "rollback", setBy: requestedBy, source: "api", at: this.o.clock.now() }] });
    this.runner.run(created).catch((e: unknown) => this.o.onWarning?.(`rollback of ${object} stopped: ${String(e)}`));
    return created;
  }
}

function stoppingError(what: string): FlotillaError {
  return new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: `the controller is stopping: ${what}; the repository's next owner carries on` });
}

/** The guard's words, and what to do about it. */
function massDeleteMessage(guard: string): string {
  return `${guard}: confirm each delete (flotilla pending-delete confirm) or dismiss it`;
}

function actionsOf(r: DryRunResult): ObjectAction[] {
  return r.objects.map((o) => {
    const invalid = o.problems.some((p) => p.severity === "error");
    const action: ObjectAction["action"] = invalid ? "invalid" : o.action === "delete" ? "delete" : o.action === "none" ? "none" : o.reason === "created" || o.reason === "initial" ? "create" : "update";
    return { object: o.object, action, why: o.description };
  });
}
