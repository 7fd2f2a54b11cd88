/**
 * The controller's Git sources: what makes it look at a repository — (a) the poller on each
 * repository's interval (poller.ts), (b) GitHub push webhooks (github-webhook.ts), (c) a manual
 * deploy or dry run of a commit (manual-deploy.ts). All three go through one queue per repository
 * holding the store's repository lease (repository-queue.ts), so a repository is never processed
 * twice at once, here or by another replica; a sync fetches the repository's mirror (mirror.ts) and
 * processes its new commits in order (sync.ts). Processing is idempotent anyway: the last processed
 * commit only moves forward, with compare-and-set.
 */
import type { LoadOptions } from "../config/load-object.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import type { Repository } from "../store/types.ts";
import { GithubWebhooks } from "./github-webhook.ts";
import { ManualDeploys } from "./manual-deploy.ts";
import { Mirrors } from "./mirror.ts";
import { Poller } from "./poller.ts";
import { RepositoryQueue } from "./repository-queue.ts";
import { DEFAULT_POLICY, type RepositoryPolicy } from "./server-config.ts";
import { eventSink, syncFailed, type CommitHandler, type EmitSourceEvent, type SourceEvent } from "./source-events.ts";
import { BranchSync } from "./sync.ts";

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

export class GitSources {
  readonly mirrors: Mirrors;
  readonly queue: RepositoryQueue;
  readonly poller: Poller;
  readonly webhooks: GithubWebhooks;
  readonly manual: ManualDeploys;
  private readonly clock: Clock;
  private readonly emit: EmitSourceEvent;
  /** Per repository, the timer that syncs it again when the sync windows holding its next commit change. */
  private readonly wakes = new Map<string, AbortController>();
  private stopping = false;

  constructor(options: GitSourcesOptions) {
    const { store, clock, handler } = options;
    const emit = eventSink(options.onEvent);
    this.clock = clock;
    this.emit = emit;
    const load = options.load ? { load: options.load } : {};
    this.mirrors = new Mirrors({ dataDir: options.dataDir, policy: options.policy ?? DEFAULT_POLICY, ...(options.env ? { env: options.env } : {}), onCreated: (repository, gitDir) => emit({ type: "mirror-created", repository, gitDir }) });
    const sync = new BranchSync({ store, clock, mirrors: this.mirrors, handler, emit, ...load, ...(options.afterSync ? { afterSync: options.afterSync } : {}), wake: (name, at) => this.wakeAt(name, at) });
    this.queue = new RepositoryQueue({ store, clock, holder: options.holder, emit, sync: (repo, trigger, lease) => sync.run(repo, trigger, lease), ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}) });
    this.poller = new Poller({ store, clock, queue: this.queue, emit, ...(options.refreshIntervalMs !== undefined ? { refreshIntervalMs: options.refreshIntervalMs } : {}) });
    this.webhooks = new GithubWebhooks({ store, queue: this.queue, mirrors: this.mirrors, emit, ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}), ...(options.deliveryMemory !== undefined ? { deliveryMemory: options.deliveryMemory } : {}) });
    this.manual = new ManualDeploys({ store, clock, queue: this.queue, mirrors: this.mirrors, handler, emit, ...load, ...(options.secretNames ? { secretNames: options.secretNames } : {}), advanced: (name) => sync.movedOn(name) });
  }

  /**
   * Stop taking work (polls end, webhooks answer `stopping`, manual deploys are refused) and wait
   * for what is running or queued to finish. The last processed commit is in the store; a restart
   * carries on from it.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakes.values()) wake.abort();
    this.wakes.clear();
    this.queue.stop();
    await this.poller.stop();
    await this.queue.idle();
  }

  /** Sync the repository again at `at` (a sync window changes then), on the clock; replaces an earlier wake-up. */
  private wakeAt(name: string, at: number | null): void {
    this.wakes.get(name)?.abort();
    this.wakes.delete(name);
    if (at === null || this.stopping) return;
    const ac = new AbortController();
    this.wakes.set(name, ac);
    this.clock.sleep(Math.max(0, at - this.clock.now()), ac.signal).then(
      () => {
        if (this.wakes.get(name) === ac) this.wakes.delete(name);
        this.queue.sync(name, "poll").catch((e: unknown) => this.emit(syncFailed(name, e)));
      },
      () => undefined, // replaced, or stopping
    );
  }
}
