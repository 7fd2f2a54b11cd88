/**
 * The GitOps controller: Git sources (poller, webhooks, manual deploys) feed commits, in order, to
 * a handler that runs their deployments on the engine. Also the `ControllerPort` the HTTP API
 * drives. Deployments persist every step, so a controller stopped (or killed) mid-deployment
 * resumes them on its next start.
 */
import type { AwsPortsFactory } from "../aws/ports.ts";
import type { Clock } from "../core/clock.ts";
import { mapBounded } from "../config/repository.ts";
import { DeploymentSampler } from "./samples.ts";
import { Runner } from "../deploy/runner.ts";
import { specFromObject, type DeploySpec } from "../deploy/spec.ts";
import type { CommitFile, CommitInfo as ApiCommitInfo, ControllerPort, DeployAccepted, DryRunResult as ApiDryRun, ObjectAction, ObjectPlanAnswer } from "../server/deps.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import { GitCommitSource } from "../config/source.ts";
import { FlotillaError } from "../core/problems.ts";
import { planLoadedObject } from "./plan.ts";
import type { Store } from "../store/store.ts";
import type { Deployment, NewEvent, Repository, Strategy } from "../store/types.ts";
import { commitFiles, listBranchCommits } from "./commits.ts";
import { parseOverrideNames } from "./overrides.ts";
import type { DryRunResult } from "./process-commit.ts";
import { rollbackSpec } from "./rollback.ts";
import type { RepositoryPolicy } from "./server-config.ts";
import { GitSources, type CommitContext, type SourceEvent } from "./triggers.ts";

export interface ControllerOptions {
  store: Store;
  aws: AwsPortsFactory;
  clock: Clock;
  /** Mirrors and other local state go here. */
  dataDir: string;
  /** This replica's name (leases). */
  holder: string;
  webhookSecret?: string;
  /** Deployments of one commit running at once. */
  concurrency: number;
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
  /** Extra secret-looking names masked in dry runs (the server configuration's masking.secretNames). */
  secretNames?: readonly string[];
}

export class Controller implements ControllerPort {
  readonly runner: Runner;
  readonly sampler: DeploymentSampler;
  readonly sources: GitSources;
  private readonly o: ControllerOptions;

  constructor(options: ControllerOptions) {
    this.o = options;
    // Samples of weights and tasks over time, for the dashboard's chart (samples.ts).
    this.sampler = new DeploymentSampler({ store: options.store, aws: options.aws, clock: options.clock });
    this.runner = new Runner({ store: options.store, aws: options.aws, clock: options.clock, observe: this.sampler.observe, ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}) });
    this.sources = new GitSources({
      store: options.store,
      clock: options.clock,
      dataDir: options.dataDir,
      holder: options.holder,
      handler: (ctx) => this.runCommit(ctx),
      ...(options.onSourceEvent ? { onEvent: options.onSourceEvent } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
      ...(options.secretNames ? { secretNames: options.secretNames } : {}),
    });
  }

  /** Resume what a previous run left unfinished, then watch the repositories. */
  start(): void {
    this.runner.resumeAll().then(
      (settled) => {
        for (const { deployment, error } of settled) if (error !== undefined) this.o.onWarning?.(`resuming deployment ${deployment.id} of ${deployment.object} stopped: ${error}`);
      },
      (e: unknown) => this.o.onWarning?.(`resuming unfinished deployments failed: ${String(e)}`),
    );
    this.sources.startPolling();
  }

  /** Stop taking work; deployments in flight keep their persisted state and resume on the next start. */
  async stop(): Promise<void> {
    await this.sources.stop();
  }

  /** Run one commit's deployments: deploys and (when allowed) deletes, several at once. */
  async runCommit(ctx: CommitContext): Promise<Deployment[]> {
    const { plan, repository } = ctx;
    const jobs: { spec: DeploySpec; strategy: Strategy }[] = [];
    for (const c of plan.deploy) {
      if (!c.loaded?.valid || !c.loaded.identity) {
        this.o.onWarning?.(`${repository.name}@${plan.commit.sha.slice(0, 7)}: ${c.object} is invalid and is not deployed: ${c.problems.find((p) => p.severity === "error")?.message ?? "invalid"}`);
        continue;
      }
      jobs.push({ spec: specFromObject(c.loaded, plan.commit.sha), strategy: c.loaded.strategy === "bluegreen" ? "bluegreen" : "rolling" });
    }
    const deletes = plan.delete.filter((c) => c.loaded?.identity && !c.problems.some((p) => p.severity === "error"));
    if (deletes.length) {
      const managed = plan.changes.length + plan.none.length;
      if (!this.o.allowDelete) this.o.onWarning?.(`${repository.name}: ${deletes.map((c) => c.object).join(", ")} removed; deletes are off (serve --allow-delete)`);
      else if (deletes.length / Math.max(1, managed) > this.o.maxDeleteFraction && deletes.length > 1) {
        this.o.onWarning?.(`${repository.name}@${plan.commit.sha.slice(0, 7)} would delete ${deletes.length} services; more than ${Math.round(this.o.maxDeleteFraction * 100)}%: held back`);
      } else for (const c of deletes) jobs.push({ spec: specFromObject(c.loaded!, plan.commit.sha), strategy: "delete" });
    }
    // Each deployment is contained: one that stops with an error is warned about (and resumed on the
    // next start if unfinished); the commit's other deployments carry on.
    return mapBounded(jobs, this.o.concurrency, async (job) => {
      const created = await this.runner.create(job.spec, { strategy: job.strategy, repository: repository.name, branch: repository.branch, commitSha: plan.commit.sha, overrides: plan.overrides });
      const { deployment, error } = await this.runner.settle(created);
      if (error !== undefined) this.o.onWarning?.(`${repository.name}@${plan.commit.sha.slice(0, 7)}: deployment ${deployment.id} of ${deployment.object} stopped: ${error}`);
      return deployment;
    });
  }

  // ---- ControllerPort (the API's view) ----

  async listCommits(repo: Repository, options: { limit: number }): Promise<ApiCommitInfo[]> {
    const mirror = this.sources.mirror(repo);
    await mirror.sync();
    const last = await this.o.store.getLastCommit(repo.name, repo.branch);
    const commits = await listBranchCommits(mirror.gitDir, repo.branch, { limit: options.limit, lastProcessed: last?.sha, clock: this.o.clock });
    return commits.map((c) => ({ sha: c.sha, parents: c.parents, author: `${c.author.name} <${c.author.email}>`, committedAt: new Date(c.committedAt).toISOString(), subject: c.subject, processed: c.processed }));
  }

  async commitFiles(repo: Repository, sha: string): Promise<CommitFile[]> {
    const mirror = this.sources.mirror(repo);
    await mirror.sync();
    return commitFiles(mirror.gitDir, sha, repo.path);
  }

  async deployCommit(repo: Repository, sha: string, options: { force: boolean; requestedBy: string; overrides: readonly string[] }): Promise<DeployAccepted> {
    const overrides = parseOverrideNames(options.overrides, options.requestedBy, "api", this.o.clock.now());
    const preview = await this.sources.dryRun(repo.name, sha, { force: options.force });
    const queuePosition = this.sources.queueDepth(repo.name);
    this.sources.deployCommit(repo.name, sha, { force: options.force, overrides }).catch((e: unknown) => this.o.onWarning?.(`deploy of ${repo.name}@${sha} failed: ${String(e)}`));
    return { repository: repo.name, sha: preview.commit.sha, queuePosition, actions: actionsOf(preview) };
  }

  async dryRun(repo: Repository, sha: string, options: { rendered: boolean }): Promise<ApiDryRun> {
    const r = await this.sources.dryRun(repo.name, sha, { render: options.rendered });
    const rendered = options.rendered ? Object.fromEntries(r.objects.filter((o) => o.rendered).map((o) => [o.object, o.rendered as Record<string, unknown>])) : undefined;
    return { repository: repo.name, sha: r.commit.sha, actions: actionsOf(r), problems: r.objects.flatMap((o) => o.problems), ...(rendered ? { rendered } : {}) };
  }

  async planObject(object: string): Promise<ObjectPlanAnswer> {
    const notFound = (why: string) => new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no plan for ${object}: ${why}` });
    const latest = await this.o.store.latestDeployment(object);
    const repo = latest?.repository ? await this.o.store.getRepository(latest.repository) : undefined;
    if (!repo) throw notFound("no registered repository has deployed it");
    const last = await this.o.store.getLastCommit(repo.name, repo.branch);
    if (!last) throw notFound(`repository ${repo.name} has no processed commit`);
    const source = new GitCommitSource(this.sources.mirror(repo).gitDir, last.sha, repo.path ?? "");
    const loaded = await loadRepository(source, loadOptions(), (o) => o.name === object);
    const found = loaded.objects.find((o) => o.name === object);
    if (!found) throw notFound(`commit ${last.sha.slice(0, 12)} of ${repo.name} no longer has it`);
    const plan = await planLoadedObject(found, this.o.aws, this.o.secretNames ?? []);
    return { object, repository: repo.name, sha: last.sha, action: plan.action, reasons: plan.reasons, notCompared: plan.notCompared, problems: plan.problems, service: { changed: plan.service.changed, text: plan.service.text }, taskDefinition: { changed: plan.taskDefinition.changed, text: plan.taskDefinition.text } };
  }

  async rollback(object: string, requestedBy: string): Promise<Deployment> {
    const { spec, strategy } = await rollbackSpec(this.o.store, object);
    const created = await this.runner.create(spec, { strategy, overrides: [{ name: "rollback", setBy: requestedBy, source: "api", at: this.o.clock.now() }] });
    this.runner.run(created).catch((e: unknown) => this.o.onWarning?.(`rollback of ${object} stopped: ${String(e)}`));
    return created;
  }
}

function actionsOf(r: DryRunResult): ObjectAction[] {
  return r.objects.map((o) => {
    const invalid = o.problems.some((p) => p.severity === "error");
    const action: ObjectAction["action"] = invalid ? "invalid" : o.action === "delete" ? "delete" : o.action === "none" ? "none" : o.reason === "created" || o.reason === "initial" ? "create" : "update";
    return { object: o.object, action, why: o.description };
  });
}
