/**
 * Commits an operator names: deploying one by hand (in the repository's queue, holding its lease)
 * and a dry run of one (what deploying it would do, changing nothing). A commit is compared with
 * the last processed one, or, if that one is gone, counts as every file added; `force` deploys every
 * object at the commit.
 */
import type { LoadOptions } from "../config/load-object.ts";
import type { Clock } from "../core/clock.ts";
import { isFlotillaError } from "../core/problems.ts";
import { branchHead, commitExists, isAncestor, resolveRevision } from "../git/read.ts";
import type { Store } from "../store/store.ts";
import type { Override, Repository } from "../store/types.ts";
import type { Mirrors } from "./mirror.ts";
import { describePlan, planCommit, processCommit, type CommitPlan, type DryRunResult } from "./process-commit.ts";
import { registeredRepository, type RepositoryQueue } from "./repository-queue.ts";
import type { CommitHandler, EmitSourceEvent } from "./source-events.ts";

export interface ManualDeployResult {
  plan: CommitPlan;
  result: unknown;
  /** True when the commit was marked processed (it lay ahead of the last processed one on the branch). */
  advanced: boolean;
}

export interface ManualDeploysOptions {
  store: Store;
  clock: Clock;
  queue: RepositoryQueue;
  mirrors: Mirrors;
  handler: CommitHandler;
  emit: EmitSourceEvent;
  load?: Partial<LoadOptions>;
  /** Extra secret-looking names masked in dry runs (src/core/mask.ts). */
  secretNames?: readonly string[];
  /** The repository's last processed commit moved (a rewritten history is then behind it). */
  advanced?: (repository: string) => void;
}

export class ManualDeploys {
  private readonly options: ManualDeploysOptions;

  constructor(options: ManualDeploysOptions) {
    this.options = options;
  }

  /**
   * Deploy one commit by hand. The commit is marked processed only when it lies on the branch ahead
   * of the last processed one — which is also how an operator moves on after a force-push; an older
   * commit deploys without moving the marker back.
   */
  deployCommit(name: string, rev: string, options: { force?: boolean; overrides?: readonly Override[] } = {}): Promise<ManualDeployResult> {
    const { store, clock, handler, load } = this.options;
    return this.options.queue.exclusive(name, async (repo): Promise<ManualDeployResult> => {
      const gitDir = await this.options.mirrors.fetch(repo);
      const position = await this.position(repo, gitDir, rev);
      const common = { repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, commit: position.sha, clock, store, force: options.force ?? false, ...(options.overrides ? { overrides: options.overrides } : {}), ...(load ? { load } : {}) };
      if (position.advances) {
        const processed = await processCommit({ ...common, store, expectedPrevious: position.last ?? null, compareWith: position.previous ?? null }, (plan, record) => handler({ repository: repo, gitDir, plan, trigger: "manual", record }));
        this.options.advanced?.(repo.name);
        this.options.emit({ type: "commit-processed", repository: repo.name, branch: repo.branch, sha: position.sha, trigger: "manual", deploy: processed.plan.deploy.length, delete: processed.plan.delete.length });
        return { plan: processed.plan, result: processed.result, advanced: true };
      }
      const plan = await planCommit({ ...common, previous: position.previous });
      // Not marked processed (the marker never moves back): a record of this deploy, on its own.
      const result = await handler({ repository: repo, gitDir, plan, trigger: "manual", record: (r) => store.recordCommit(r) });
      return { plan, result, advanced: false };
    });
  }

  /** What deploying a commit would do, without doing it; `render` adds the rendered definitions (sensitive values masked). */
  async dryRun(name: string, rev: string, options: { force?: boolean; render?: boolean } = {}): Promise<DryRunResult> {
    const { store, clock, load, secretNames } = this.options;
    const repo = await registeredRepository(store, name);
    let gitDir = this.options.mirrors.of(repo).gitDir;
    try {
      await resolveRevision(gitDir, rev);
    } catch {
      gitDir = await this.options.mirrors.fetch(repo); // not fetched yet (or no mirror)
    }
    const position = await this.position(repo, gitDir, rev);
    const plan = await planCommit({ repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, previous: position.previous, commit: position.sha, clock, store, force: options.force ?? false, ...(load ? { load } : {}) });
    return describePlan(plan, { render: options.render ?? false, advances: position.advances, ...(secretNames ? { secretNames } : {}) });
  }

  /** Where a commit stands against the branch and the last processed commit. */
  private async position(repo: Repository, gitDir: string, rev: string): Promise<{ sha: string; last: string | undefined; previous: string | undefined; advances: boolean }> {
    const sha = await resolveRevision(gitDir, rev);
    const last = (await this.options.store.getLastCommit(repo.name, repo.branch))?.sha;
    const lastExists = last !== undefined && (await commitExists(gitDir, last));
    let onBranch = false;
    try {
      onBranch = await isAncestor(gitDir, sha, await branchHead(gitDir, repo.branch));
    } catch (e) {
      if (!(isFlotillaError(e) && e.code === "FLT-GIT-BRANCH-MISSING")) throw e;
    }
    const behind = lastExists && (await isAncestor(gitDir, sha, last));
    return { sha, last, previous: lastExists ? last : undefined, advances: onBranch && !behind };
  }
}
