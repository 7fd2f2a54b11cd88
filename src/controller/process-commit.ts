/**
 * One commit, from changes to "processed": classify what it changes against the previous processed
 * commit (DESIGN §1), hand the plan to a callback that runs the deployments, then advance the last
 * processed commit with compare-and-set, so two replicas never both advance it.
 */
import { classifyChanges, type ObjectChange } from "../config/changes.ts";
import type { LoadOptions } from "../config/load-object.ts";
import type { Clock } from "../core/clock.ts";
import { Masker } from "../core/mask.ts";
import { StoreError } from "../store/errors.ts";
import type { Store } from "../store/store.ts";
import type { CommitRecord, LastCommit, NewCommitRecord, Override } from "../store/types.ts";
import { readCommit, type CommitInfo } from "./commits.ts";

export interface CommitPlan {
  repository: string;
  branch: string;
  commit: CommitInfo;
  /** The commit compared against; undefined for a first commit (every file added). */
  previous: string | undefined;
  /** Every changed object, sorted by name. */
  changes: ObjectChange[];
  /** Shortcuts into `changes`. */
  deploy: ObjectChange[];
  delete: ObjectChange[];
  none: ObjectChange[];
  /** Objects that cannot be read at this commit, when it removes one: its delete may not be safe (pass.ts). */
  unreadable: string[];
  /** Overrides for every deployment of this commit (its trailers, plus any given by hand). */
  overrides: Override[];
  /** A forced redeploy: objects deploy even when unchanged. */
  force: boolean;
}

export interface PlanCommitOptions {
  repository: string;
  branch: string;
  /** The mirror's git directory. */
  gitDir: string;
  /** The Flotilla tree inside the repository (null or "" for the root). */
  subPath?: string | null;
  /** The previous processed commit; undefined: every file at `commit` counts as added. */
  previous: string | undefined;
  /** The commit (as read by newCommits) or a revision to read. */
  commit: CommitInfo | string;
  clock: Pick<Clock, "now">;
  force?: boolean;
  /** Extra overrides (CLI/API), recorded with the commit's trailers. */
  overrides?: readonly Override[];
  load?: Partial<LoadOptions>;
  /** Where the previous commit's record says which objects were blocked: they deploy again (`blocked-before`). */
  store?: Store;
}

/** What a commit asks for, object by object. Runs nothing. */
export async function planCommit(options: PlanCommitOptions): Promise<CommitPlan> {
  const commit = typeof options.commit === "string" ? await readCommit(options.gitDir, options.commit, options.clock.now()) : options.commit;
  const retry = options.store && options.previous ? await blockedAt(options.store, options.repository, options.previous) : [];
  const set = await classifyChanges({
    gitDir: options.gitDir,
    subPath: options.subPath,
    from: options.previous,
    to: commit.sha,
    ...(options.force ? { force: true } : {}),
    ...(retry.length ? { retry } : {}),
    ...(options.load ? { load: options.load } : {}),
  });
  const overrides = [...commit.overrides];
  for (const o of options.overrides ?? []) if (!overrides.some((x) => x.name === o.name)) overrides.push(o);
  return {
    repository: options.repository,
    branch: options.branch,
    commit,
    previous: set.from,
    changes: set.changes,
    deploy: set.changes.filter((c) => c.action === "deploy"),
    delete: set.changes.filter((c) => c.action === "delete"),
    none: set.changes.filter((c) => c.action === "none"),
    unreadable: set.unreadable,
    overrides,
    force: options.force ?? false,
  };
}

/**
 * The objects the controller blocked when it last processed a commit (what they needed was missing
 * in AWS): the next commit deploys them again, changed or not, so a prerequisite created since
 * needs no change in Git — and while it is still missing they are blocked again.
 */
async function blockedAt(store: Store, repository: string, sha: string): Promise<string[]> {
  const record = await store.getCommitRecord(repository, sha);
  return (record?.objects ?? []).filter((o) => o.action === "blocked").map((o) => o.object);
}

export interface ProcessCommitOptions extends Omit<PlanCommitOptions, "previous" | "store"> {
  store: Store;
  /** The last processed commit this step starts from (null: none yet). Compared and set atomically. */
  expectedPrevious: string | null;
  /** Compare against this commit instead of `expectedPrevious` (e.g. after a force-push whose old commit is gone). */
  compareWith?: string | null;
}

export interface ProcessedCommit<R> {
  plan: CommitPlan;
  result: R;
  lastCommit: LastCommit;
}

/**
 * Writes a commit's record (controller.ts: what it did, object by object). When the processing
 * marks the commit processed, the record and that advance are one transaction.
 */
export type RecordCommit = (record: NewCommitRecord) => Promise<CommitRecord>;

/**
 * Plan the commit, run `deploy(plan, record)`, and mark the commit processed with compare-and-set.
 * A deploy that records the commit (`record`) marks it processed in the same transaction, so a
 * crash leaves either both (processed, one record) or neither (processed again later, joining the
 * deployments already started, and recorded once then); one that records nothing has the commit
 * marked once it returns. Refuses (FLT-STORE-CONFLICT) before running anything when another
 * replica already moved the last processed commit, and again at the end if one moved it meanwhile.
 */
export async function processCommit<R>(options: ProcessCommitOptions, deploy: (plan: CommitPlan, record: RecordCommit) => Promise<R>): Promise<ProcessedCommit<R>> {
  const { store, repository, branch, expectedPrevious } = options;
  await checkLastCommit(store, repository, branch, expectedPrevious);
  const previous = options.compareWith === undefined ? expectedPrevious : options.compareWith;
  const plan = await planCommit({ ...options, store, previous: previous ?? undefined });
  let marked: LastCommit | undefined;
  const result = await deploy(plan, async (input) => {
    if (marked) throw new Error(`${repository}@${plan.commit.sha.slice(0, 7)} is already recorded`);
    const done = await store.markProcessed(input, expectedPrevious);
    marked = done.lastCommit;
    return done.record;
  });
  const lastCommit = marked ?? (await store.setLastCommit(repository, branch, plan.commit.sha, expectedPrevious));
  return { plan, result, lastCommit };
}

export async function checkLastCommit(store: Store, repository: string, branch: string, expected: string | null): Promise<void> {
  const current = (await store.getLastCommit(repository, branch))?.sha ?? null;
  if (current !== expected) {
    throw new StoreError(
      "FLT-STORE-CONFLICT",
      `the last processed commit of ${repository} (${branch}) is ${current ? current.slice(0, 12) : "none"}, not ${expected ? expected.slice(0, 12) : "none"}: another replica processed it first`,
    );
  }
}

/** A plan as shown by a dry run: rendered definitions on request, sensitive values masked. */
export interface DryRunObject {
  object: string;
  action: ObjectChange["action"];
  reason: ObjectChange["reason"];
  description: string;
  files: ObjectChange["files"];
  identity?: ObjectChange["identity"];
  /** The depdef's environment.account (sync windows select by it). */
  account?: string;
  problems: ObjectChange["problems"];
  rendered?: { svcdef: unknown; taskdef: unknown; depdef: unknown };
}

export interface DryRunResult {
  repository: string;
  branch: string;
  commit: CommitInfo;
  previous: string | undefined;
  force: boolean;
  /** Whether deploying this commit would also mark it processed (it lies ahead of the last processed one on the branch). */
  advances: boolean;
  overrides: Override[];
  objects: DryRunObject[];
}

export function describePlan(plan: CommitPlan, options: { render?: boolean; advances: boolean; secretNames?: readonly string[] }): DryRunResult {
  const base = new Masker({ secretNames: options.secretNames ?? [] });
  const objects = plan.changes.map((c): DryRunObject => {
    const masker = base.with(c.loaded?.sensitive ?? []);
    const out: DryRunObject = {
      object: c.object,
      action: c.action,
      reason: c.reason,
      description: c.description,
      files: c.files,
      problems: masker.value(c.problems),
      ...(c.identity ? { identity: c.identity } : {}),
      ...(c.loaded?.depdef.environment.account ? { account: c.loaded.depdef.environment.account } : {}),
    };
    if (options.render && c.loaded) {
      // One document, so a secret found by name in one file is hidden in the others too.
      out.rendered = masker.value({ svcdef: c.loaded.svcdef ?? null, taskdef: c.loaded.taskdef ?? null, depdef: c.loaded.depdef });
    }
    return out;
  });
  return { repository: plan.repository, branch: plan.branch, commit: plan.commit, previous: plan.previous, force: plan.force, advances: options.advances, overrides: plan.overrides, objects };
}

