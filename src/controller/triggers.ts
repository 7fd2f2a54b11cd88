/**
 * What makes the controller look at a repository: (a) a poller on each repository's interval,
 * (b) GitHub push webhooks (HMAC-verified, de-duplicated by delivery id, out-of-order pushes
 * ignored), (c) a manual deploy or dry run of a commit. All three go through one queue per
 * repository, so a repository is never processed twice at once in this process, and through the
 * store's repository lease, so several replicas never process it together. Processing is
 * idempotent anyway: the last processed commit only moves forward, with compare-and-set.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { GithubWebhookPort } from "../api/ports.ts";
import type { WebhookDelivery, WebhookOutcome, WebhookReceipt } from "../api/types.ts";
import type { LoadOptions } from "../config/load-object.ts";
import { branchHead, commitExists, isAncestor, resolveRevision } from "../git/read.ts";
import type { Clock } from "../core/clock.ts";
import { FlotillaError, isFlotillaError, type Problem } from "../core/problems.ts";
import { StoreError } from "../store/errors.ts";
import { repositoryLeaseKey, type Store } from "../store/store.ts";
import type { Override, Repository } from "../store/types.ts";
import { newCommits, rewrittenProblem } from "./commits.ts";
import { Mirror } from "./mirror.ts";
import { DEFAULT_POLICY, type RepositoryPolicy } from "./server-config.ts";
import { describePlan, planCommit, processCommit, type CommitPlan, type DryRunResult } from "./process-commit.ts";

// ---------------------------------------------------------------------------------------------
// GitHub webhooks

/** True when `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256 of the raw body with the secret. */
export function verifyGithubSignature(secret: string, rawBody: string | Uint8Array, header: string | null | undefined): boolean {
  if (!secret || typeof header !== "string") return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  const given = Buffer.from(m[1]!, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The signature GitHub would send for a body (for tests and for `flotilla` webhook self-checks). */
export function signGithubPayload(secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

export interface PushEvent {
  ref: string;
  /** The branch name, or undefined for a tag or another ref. */
  branch: string | undefined;
  /** The new head sha (all zeros when the ref was deleted). */
  after: string;
  before: string | undefined;
  deleted: boolean;
  forced: boolean;
  /** The repository's URLs as GitHub gives them (clone, SSH, git, HTML). */
  urls: string[];
  fullName: string | undefined;
}

/** A push payload's essentials; throws FLT-WEBHOOK-PAYLOAD when the body is not a push event. */
export function parsePushEvent(body: unknown): PushEvent {
  let value: unknown = body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
    } catch {
      throw payload("the webhook body is not valid JSON");
    }
  }
  if (!value || typeof value !== "object") throw payload("the webhook body is not a JSON object");
  const v = value as Record<string, unknown>;
  if (typeof v["ref"] !== "string") throw payload("the push event has no `ref`");
  if (typeof v["after"] !== "string" || !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(v["after"])) throw payload("the push event has no valid `after` sha");
  const repo = v["repository"];
  if (!repo || typeof repo !== "object") throw payload("the push event has no `repository`");
  const r = repo as Record<string, unknown>;
  const urls = ["clone_url", "ssh_url", "git_url", "html_url", "svn_url", "url"].map((k) => r[k]).filter((u): u is string => typeof u === "string" && u !== "");
  const ref = v["ref"];
  const after = v["after"].toLowerCase();
  return {
    ref,
    branch: ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined,
    after,
    before: typeof v["before"] === "string" ? v["before"] : undefined,
    deleted: v["deleted"] === true || /^0+$/.test(after),
    forced: v["forced"] === true,
    urls,
    fullName: typeof r["full_name"] === "string" ? r["full_name"] : undefined,
  };
}

function payload(message: string): FlotillaError {
  return new FlotillaError({ code: "FLT-WEBHOOK-PAYLOAD", message, hint: "send GitHub push events (content type application/json)" });
}

/** `https://GitHub.com/Org/Repo.git`, `git@github.com:org/repo`, `ssh://git@github.com/org/repo` → `github.com/org/repo`. */
export function normalizeRepositoryUrl(url: string): string {
  let u = url.trim();
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(u);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `${scp[1]!}/${scp[2]!}`;
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    try {
      const parsed = new URL(u);
      u = `${parsed.hostname}${parsed.pathname}`;
    } catch {
      /* keep as is */
    }
  }
  return u.replace(/\/+$/, "").replace(/\.git$/i, "").replace(/\/+$/, "").toLowerCase();
}

/** Registered repositories a push is for: same URL (any of GitHub's forms) and the pushed branch. */
export function matchRepositories(event: PushEvent, repositories: readonly Repository[]): Repository[] {
  const urls = new Set(event.urls.map(normalizeRepositoryUrl));
  return repositories.filter((r) => urls.has(normalizeRepositoryUrl(r.url)) && event.branch !== undefined && r.branch === event.branch);
}

/** A bounded set of recently seen delivery ids (oldest forgotten first). */
export class RecentDeliveries {
  private readonly ids = new Set<string>();
  private readonly limit: number;
  constructor(limit = 10_000) {
    this.limit = limit;
  }
  /** Records the id; false when it was already seen (a replay). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
  get size(): number {
    return this.ids.size;
  }
}

// ---------------------------------------------------------------------------------------------
// One queue per key

/** Runs tasks one at a time per key, in the order given. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly counts = new Map<string, number>();
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const next = prev.then(task, task);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      const n = (this.counts.get(key) ?? 1) - 1;
      if (n > 0) this.counts.set(key, n);
      else this.counts.delete(key);
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
  /** Tasks for the key running or waiting. */
  depth(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  /** Settles once every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
  /** True while a task for the key runs or waits. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}

// ---------------------------------------------------------------------------------------------
// The sources

export type Trigger = "poll" | "webhook" | "manual";

export interface CommitContext {
  repository: Repository;
  gitDir: string;
  plan: CommitPlan;
  trigger: Trigger;
}

/** Runs a commit's deployments (e.g. with src/controller/apply.ts). A throw leaves the commit unprocessed, to retry. */
export type CommitHandler = (context: CommitContext) => Promise<unknown>;

export type SourceEvent =
  | { type: "mirror-created"; repository: string; gitDir: string }
  | { type: "commit-processed"; repository: string; branch: string; sha: string; trigger: Trigger; deploy: number; delete: number }
  | { type: "rewritten"; repository: string; branch: string; lastProcessed: string; head: string; reason: "not-ancestor" | "missing"; problem: Problem }
  | { type: "lease-held-elsewhere"; repository: string; holder: string | undefined }
  | { type: "lease-lost"; repository: string }
  | { type: "sync-failed"; repository: string; code: string; message: string };

export type SyncOutcome =
  | { kind: "processed"; head: string; commits: string[] }
  | { kind: "up-to-date"; head: string }
  | { kind: "rewritten"; lastProcessed: string; head: string; reason: "not-ancestor" | "missing" }
  | { kind: "held-elsewhere"; holder: string | undefined };

export interface GitSourcesOptions {
  store: Store;
  clock: Clock;
  /** Mirrors go to `<dataDir>/mirrors/`. */
  dataDir: string;
  /** This replica's name, for leases. */
  holder: string;
  handler: CommitHandler;
  onEvent?: (event: SourceEvent) => void;
  /** Environment for git and for credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** What the server's configuration allows repositories to be (default: https and ssh, no credentials, no local paths). */
  policy?: RepositoryPolicy;
  /** GitHub webhook secret; without one, webhooks are refused. */
  webhookSecret?: string;
  /** Repository lease time to live (default 60 s), renewed every third of it while working. */
  leaseTtlMs?: number;
  /** How often the poller looks for added or removed repositories (default 30 s). */
  refreshIntervalMs?: number;
  /** Delivery ids remembered for de-duplication (default 10,000). */
  deliveryMemory?: number;
  load?: Partial<LoadOptions>;
  /** Extra secret-looking names masked in dry runs (src/core/mask.ts). */
  secretNames?: readonly string[];
  /**
   * Runs after each sync that processed the branch up to its head (or found it up to date), still
   * inside the repository's queue and lease: the controller carries out held deletes there.
   */
  afterSync?: (repository: Repository) => Promise<void>;
}

export interface WebhookResult extends WebhookReceipt {
  /** Settles when the queued syncs have run (never rejects; failures go to onEvent). */
  done: Promise<void>;
}

export interface ManualDeployResult {
  plan: CommitPlan;
  result: unknown;
  /** True when the commit was marked processed (it lay ahead of the last processed one on the branch). */
  advanced: boolean;
}

function header(headers: WebhookDelivery["headers"], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

export class GitSources implements GithubWebhookPort {
  private readonly options: GitSourcesOptions;
  private readonly queue = new KeyedQueue();
  private readonly queued = new Map<string, Promise<SyncOutcome>>();
  private readonly mirrors = new Map<string, Mirror>();
  private readonly deliveries: RecentDeliveries;
  private readonly reported = new Map<string, string>();
  private readonly loops = new Map<string, Promise<void>>();
  private polling: AbortController | undefined;
  private stopping = false;
  private refresher: Promise<void> | undefined;

  constructor(options: GitSourcesOptions) {
    this.options = options;
    this.deliveries = new RecentDeliveries(options.deliveryMemory);
  }

  private emit(event: SourceEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      /* a listener never breaks the controller */
    }
  }

  /** The repository's mirror (made on first use; follows URL and credentials changes). */
  mirror(repository: Repository): Mirror {
    let m = this.mirrors.get(repository.name);
    if (!m) {
      m = new Mirror(repository, { dataDir: this.options.dataDir, policy: this.options.policy ?? DEFAULT_POLICY, ...(this.options.env ? { env: this.options.env } : {}) });
      this.mirrors.set(repository.name, m);
    } else m.repository = repository;
    return m;
  }

  private async repository(name: string): Promise<Repository> {
    const r = await this.options.store.getRepository(name);
    if (!r) throw new StoreError("FLT-STORE-NOT-FOUND", `no repository named ${name}`);
    return r;
  }

  /** Syncs and manual deploys of the repository running or waiting (for queue positions and metrics). */
  queueDepth(name: string): number {
    return this.queue.depth(name);
  }

  /** Fetch and process every new commit, in order. Triggers that arrive while one waits share it. */
  sync(name: string, trigger: Trigger = "poll"): Promise<SyncOutcome> {
    if (this.stopping && trigger !== "poll") return Promise.reject(new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: "the controller is shutting down" }));
    const waiting = this.queued.get(name);
    if (waiting) return waiting;
    const p = this.queue.run(name, () => {
      this.queued.delete(name);
      return this.syncNow(name, trigger);
    });
    this.queued.set(name, p);
    return p;
  }

  private async syncNow(name: string, trigger: Trigger): Promise<SyncOutcome> {
    const repo = await this.repository(name);
    return this.withLease(repo, async (lease) => {
      const gitDir = await this.fetch(repo);
      let last = (await this.options.store.getLastCommit(repo.name, repo.branch))?.sha;
      const found = await newCommits(gitDir, repo.branch, last, { clock: this.options.clock });
      if (found.kind === "rewritten") {
        const key = `${found.lastProcessed}..${found.head}`;
        if (this.reported.get(repo.name) !== key) {
          this.reported.set(repo.name, key);
          this.emit({ type: "rewritten", repository: repo.name, branch: repo.branch, lastProcessed: found.lastProcessed, head: found.head, reason: found.reason, problem: rewrittenProblem(repo.name, repo.branch, found) });
        }
        return { kind: "rewritten", lastProcessed: found.lastProcessed, head: found.head, reason: found.reason };
      }
      this.reported.delete(repo.name);
      const done: string[] = [];
      if (found.kind === "up-to-date") {
        await this.options.afterSync?.(repo);
        return { kind: "up-to-date", head: found.head };
      }
      for (const commit of found.commits) {
        if (lease.lost) break; // another replica may own the repository now: leave the rest to it
        const processed = await processCommit(
          { store: this.options.store, repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, commit, expectedPrevious: last ?? null, clock: this.options.clock, ...(this.options.load ? { load: this.options.load } : {}) },
          (plan) => this.options.handler({ repository: repo, gitDir, plan, trigger }),
        );
        last = commit.sha;
        done.push(commit.sha);
        this.emit({ type: "commit-processed", repository: repo.name, branch: repo.branch, sha: commit.sha, trigger, deploy: processed.plan.deploy.length, delete: processed.plan.delete.length });
      }
      if (!lease.lost) await this.options.afterSync?.(repo);
      return { kind: "processed", head: found.head, commits: done };
    });
  }

  private async fetch(repo: Repository): Promise<string> {
    const result = await this.mirror(repo).sync();
    if (result.created) this.emit({ type: "mirror-created", repository: repo.name, gitDir: result.gitDir });
    return result.gitDir;
  }

  /** Hold the repository's lease while `fn` runs, renewing it; another replica holding it ⇒ held-elsewhere. */
  private async withLease<T>(repo: Repository, fn: (lease: { lost: boolean }) => Promise<T>): Promise<T | { kind: "held-elsewhere"; holder: string | undefined }> {
    const { store, clock, holder } = this.options;
    const ttl = this.options.leaseTtlMs ?? 60_000;
    const key = repositoryLeaseKey(repo.name, repo.branch);
    if (!(await store.acquireLease(key, holder, ttl))) {
      const other = (await store.getLease(key))?.holder;
      this.emit({ type: "lease-held-elsewhere", repository: repo.name, holder: other });
      return { kind: "held-elsewhere", holder: other };
    }
    const stop = new AbortController();
    const lease = { lost: false };
    const renewing = (async () => {
      while (!stop.signal.aborted) {
        try {
          await clock.sleep(Math.max(1, Math.floor(ttl / 3)), stop.signal);
        } catch {
          return;
        }
        // A store error counts as lost: compare-and-set still guards the last commit.
        const renewed = await store.renewLease(key, holder, ttl).catch(() => undefined);
        if (!renewed) {
          lease.lost = true;
          this.emit({ type: "lease-lost", repository: repo.name });
          return;
        }
      }
    })();
    try {
      return await fn(lease);
    } finally {
      stop.abort();
      await renewing;
      await store.releaseLease(key, holder).catch(() => false);
    }
  }

  // -- (a) polling ---------------------------------------------------------------------------

  /** Poll every registered repository on its interval (and pick up added or removed ones). */
  startPolling(): void {
    if (this.polling) return;
    const ac = new AbortController();
    this.polling = ac;
    const refreshEvery = this.options.refreshIntervalMs ?? 30_000;
    this.refresher = (async () => {
      while (!ac.signal.aborted) {
        try {
          await this.refresh();
        } catch (e) {
          this.failed("*", e);
        }
        try {
          await this.options.clock.sleep(refreshEvery, ac.signal);
        } catch {
          return;
        }
      }
    })();
  }

  /** Start a poll loop for every registered repository that has none. */
  async refresh(): Promise<void> {
    const ac = this.polling;
    if (!ac) return;
    for (const repo of await this.options.store.listRepositories()) {
      if (this.loops.has(repo.name)) continue;
      const loop = this.pollLoop(repo.name, ac.signal).finally(() => this.loops.delete(repo.name));
      this.loops.set(repo.name, loop);
    }
  }

  /**
   * A repository was registered or changed: look at it now rather than at the poller's next
   * refresh. A new one gets its poll loop (which syncs at once); a known one is synced.
   */
  watch(name: string): void {
    const ac = this.polling;
    if (this.stopping) return;
    if (ac && !this.loops.has(name)) {
      const loop = this.pollLoop(name, ac.signal).finally(() => this.loops.delete(name));
      this.loops.set(name, loop);
      return;
    }
    this.sync(name, "poll").catch((e: unknown) => this.failed(name, e));
  }

  private async pollLoop(name: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let interval = 60_000;
      try {
        const repo = await this.options.store.getRepository(name);
        if (!repo) return; // removed
        interval = repo.pollIntervalSeconds * 1000;
        await this.sync(name, "poll");
      } catch (e) {
        this.failed(name, e);
      }
      try {
        await this.options.clock.sleep(interval, signal);
      } catch {
        return;
      }
    }
  }

  private failed(repository: string, e: unknown): void {
    this.emit({ type: "sync-failed", repository, code: isFlotillaError(e) ? e.code : "FLT-INTERNAL", message: e instanceof Error ? e.message : String(e) });
  }

  /**
   * Stop taking work (polls end, webhooks answer 503, manual deploys are refused) and wait for
   * what is running or queued to finish. The last processed commit is in the store; a restart
   * carries on from it.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.polling?.abort();
    this.polling = undefined;
    await this.refresher;
    await Promise.all([...this.loops.values()]);
    await this.queue.idle();
  }

  // -- (b) GitHub push webhooks ----------------------------------------------------------------

  /** Verify, de-duplicate and queue a GitHub webhook delivery. Never throws for a bad request. */
  async handleGithubWebhook(request: WebhookDelivery): Promise<WebhookResult> {
    const result = (outcome: WebhookOutcome, message: string, repositories: string[] = [], done: Promise<void> = Promise.resolve()): WebhookResult => ({ outcome, message, repositories, done });
    if (this.stopping) return result("stopping", "the controller is shutting down; GitHub will show the delivery as failed and the next poll catches up");
    const secret = this.options.webhookSecret;
    if (!secret) return result("disabled", "webhooks are not enabled (no webhook secret configured)");
    if (!verifyGithubSignature(secret, request.rawBody, header(request.headers, "x-hub-signature-256"))) {
      return result("bad-signature", "missing or invalid X-Hub-Signature-256");
    }
    const delivery = header(request.headers, "x-github-delivery");
    if (delivery && !this.deliveries.add(delivery)) return result("duplicate", `delivery ${delivery} was already received`);
    const event = header(request.headers, "x-github-event");
    if (event === "ping") return result("ping", "pong");
    if (event !== undefined && event !== "push") return result("not-a-push", `ignoring ${event} event`);
    let push: PushEvent;
    try {
      push = parsePushEvent(request.rawBody);
    } catch (e) {
      return result("invalid", e instanceof Error ? e.message : String(e));
    }
    if (!push.branch) return result("not-a-branch", `ignoring push to ${push.ref}`);
    const repos = matchRepositories(push, await this.options.store.listRepositories());
    if (repos.length === 0) return result("no-match", `no registered repository follows ${push.fullName ?? push.urls[0] ?? "this repository"} ${push.branch}`);
    const toSync: string[] = [];
    for (const repo of repos) {
      if (!push.deleted && (await this.alreadyProcessed(repo, push.after))) continue;
      toSync.push(repo.name);
    }
    if (toSync.length === 0) return result("already-processed", `${push.after.slice(0, 12)} is already processed (or older than the last processed commit)`, repos.map((r) => r.name));
    const done = Promise.all(
      toSync.map((name) =>
        this.sync(name, "webhook").then(
          () => undefined,
          (e: unknown) => this.failed(name, e),
        ),
      ),
    ).then(() => undefined);
    return result("queued", `queued ${toSync.join(", ")}`, toSync, done);
  }

  /** The sha is the last processed commit or one of its ancestors (a duplicate or out-of-order push). */
  private async alreadyProcessed(repo: Repository, sha: string): Promise<boolean> {
    const last = (await this.options.store.getLastCommit(repo.name, repo.branch))?.sha;
    if (!last) return false;
    if (last === sha) return true;
    const gitDir = this.mirror(repo).gitDir;
    try {
      return (await commitExists(gitDir, sha)) && (await commitExists(gitDir, last)) && (await isAncestor(gitDir, sha, last));
    } catch {
      return false; // no mirror yet: let the sync decide
    }
  }

  // -- (c) manual deploys and dry runs ----------------------------------------------------------

  /**
   * Deploy one commit by hand. Compared against the last processed commit (or, if that one is
   * gone, as every file added); `force` deploys every object at the commit. The commit is marked
   * processed only when it lies on the branch ahead of the last processed one — which is also how an
   * operator moves on after a force-push; an older commit deploys without moving the marker back.
   */
  deployCommit(name: string, rev: string, options: { force?: boolean; overrides?: readonly Override[] } = {}): Promise<ManualDeployResult> {
    return this.exclusive(name, async (repo): Promise<ManualDeployResult> => {
      const gitDir = await this.fetch(repo);
      const position = await this.position(repo, gitDir, rev);
      const common = { repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, commit: position.sha, clock: this.options.clock, force: options.force ?? false, ...(options.overrides ? { overrides: options.overrides } : {}), ...(this.options.load ? { load: this.options.load } : {}) };
      if (position.advances) {
        const processed = await processCommit({ ...common, store: this.options.store, expectedPrevious: position.last ?? null, compareWith: position.previous ?? null }, (plan) => this.options.handler({ repository: repo, gitDir, plan, trigger: "manual" }));
        this.reported.delete(repo.name);
        this.emit({ type: "commit-processed", repository: repo.name, branch: repo.branch, sha: position.sha, trigger: "manual", deploy: processed.plan.deploy.length, delete: processed.plan.delete.length });
        return { plan: processed.plan, result: processed.result, advanced: true };
      }
      const plan = await planCommit({ ...common, previous: position.previous });
      const result = await this.options.handler({ repository: repo, gitDir, plan, trigger: "manual" });
      return { plan, result, advanced: false };
    });
  }

  /**
   * Run `fn` as the repository's one worker: in its queue (after the syncs and deploys waiting) and
   * holding its lease. FLT-CONTROLLER-BUSY when another replica holds the lease,
   * FLT-CONTROLLER-STOPPING while shutting down.
   */
  exclusive<T>(name: string, fn: (repository: Repository) => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new FlotillaError({ code: "FLT-CONTROLLER-STOPPING", message: "the controller is shutting down", hint: "retry once it has restarted" }));
    return this.queue.run(name, async () => {
      const repo = await this.repository(name);
      const outcome = await this.withLease(repo, async () => ({ value: await fn(repo) }));
      if ("kind" in outcome) {
        throw new FlotillaError({ code: "FLT-CONTROLLER-BUSY", message: `repository ${name} is being processed by ${outcome.holder ?? "another replica"}`, hint: "retry in a moment" });
      }
      return outcome.value;
    });
  }

  /** What deploying a commit would do, without doing it; `render` adds the rendered definitions (sensitive values masked). */
  async dryRun(name: string, rev: string, options: { force?: boolean; render?: boolean } = {}): Promise<DryRunResult> {
    const repo = await this.repository(name);
    const mirror = this.mirror(repo);
    let gitDir = mirror.gitDir;
    try {
      await resolveRevision(gitDir, rev);
    } catch {
      gitDir = await this.fetch(repo); // not fetched yet (or no mirror)
    }
    const position = await this.position(repo, gitDir, rev);
    const plan = await planCommit({ repository: repo.name, branch: repo.branch, gitDir, subPath: repo.path, previous: position.previous, commit: position.sha, clock: this.options.clock, force: options.force ?? false, ...(this.options.load ? { load: this.options.load } : {}) });
    return describePlan(plan, { render: options.render ?? false, advances: position.advances, ...(this.options.secretNames ? { secretNames: this.options.secretNames } : {}) });
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
