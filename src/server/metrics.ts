/**
 * Prometheus metrics (prom-client, in its own registry so several servers in one test process do
 * not collide). The engine reports through the `MetricsSink` interface (src/core/metrics.ts);
 * gauges that describe stored state (last processed commit age, active deployments) are computed
 * from the store at scrape time. Labels carry only names (repository, strategy, AWS operation),
 * never URLs, tokens or values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { MetricsSink } from "../core/metrics.ts";
import type { Store, StoreClock } from "../store/store.ts";
import { TERMINAL_PHASES, type Phase } from "../store/types.ts";

const RESULT: Partial<Record<Phase, string>> = { Succeeded: "succeeded", Failed: "failed", RolledBack: "rolled_back", Aborted: "aborted" };

export class PromMetrics implements MetricsSink {
  readonly registry = new Registry();
  private readonly deployments: Counter<"result" | "strategy">;
  private readonly durations: Histogram<"result" | "strategy">;
  private readonly awsCalls: Counter<"service" | "operation">;
  private readonly awsThrottles: Counter<"service" | "operation">;
  private readonly queueDepth: Gauge<"repository">;
  private readonly commits: Counter<"repository" | "result">;
  private readonly invalidObjects: Counter<"repository">;
  private store: Store | undefined;
  private clock: StoreClock | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.deployments = new Counter({ name: "flotilla_deployments_total", help: "Deployments finished, by result and strategy.", labelNames: ["result", "strategy"], registers });
    this.durations = new Histogram({
      name: "flotilla_deployment_duration_seconds",
      help: "Time from a deployment's creation to its terminal phase.",
      labelNames: ["result", "strategy"],
      buckets: [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
      registers,
    });
    this.awsCalls = new Counter({ name: "flotilla_aws_calls_total", help: "AWS API calls, by service and operation.", labelNames: ["service", "operation"], registers });
    this.awsThrottles = new Counter({ name: "flotilla_aws_throttles_total", help: "AWS API calls answered with a throttling error, by service and operation.", labelNames: ["service", "operation"], registers });
    this.queueDepth = new Gauge({ name: "flotilla_queue_depth", help: "Work waiting in the controller's queue (repository=\"\" is the total).", labelNames: ["repository"], registers });
    this.queueDepth.set({ repository: "" }, 0);
    this.commits = new Counter({ name: "flotilla_commits_processed_total", help: "Commits the controller processed, by repository and result (invalid: some object has an error; its valid objects still deployed).", labelNames: ["repository", "result"], registers });
    this.invalidObjects = new Counter({ name: "flotilla_invalid_objects_total", help: "Objects of processed commits that were invalid and not deployed, by repository.", labelNames: ["repository"], registers });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: "flotilla_last_processed_commit_age_seconds",
      help: "Seconds since the controller last processed a commit of each registered repository and branch.",
      labelNames: ["repository", "branch"],
      registers,
      async collect() {
        this.reset();
        if (!self.store || !self.clock) return;
        const now = self.clock.now();
        for (const repo of await self.store.listRepositories()) {
          const last = await self.store.getLastCommit(repo.name, repo.branch);
          if (last) this.set({ repository: repo.name, branch: repo.branch }, Math.max(0, (now - last.processedAt) / 1000));
        }
      },
    });
    new Gauge({
      name: "flotilla_drift_objects",
      help: "Objects by the status of their last drift check (in-sync, drifted, missing, unknown), by repository.",
      labelNames: ["repository", "status"],
      registers,
      async collect() {
        this.reset();
        if (!self.store) return;
        const counts = new Map<string, number>();
        for (const d of await self.store.listDrift()) counts.set(`${d.repository}\u0000${d.status}`, (counts.get(`${d.repository}\u0000${d.status}`) ?? 0) + 1);
        for (const [key, n] of counts) {
          const [repository, status] = key.split("\u0000") as [string, string];
          this.set({ repository, status }, n);
        }
      },
    });
    new Gauge({
      name: "flotilla_waiting_commits",
      help: "Commits a sync window holds, by repository (1 while one waits; those behind it wait too).",
      labelNames: ["repository"],
      registers,
      async collect() {
        this.reset();
        if (!self.store) return;
        for (const w of await self.store.listWaitingCommits()) this.inc({ repository: w.repository });
      },
    });
    new Gauge({
      name: "flotilla_deployments_active",
      help: "Deployments not yet in a terminal phase, by strategy.",
      labelNames: ["strategy"],
      registers,
      async collect() {
        this.reset();
        if (!self.store) return;
        const counts = new Map<string, number>([["rolling", 0], ["bluegreen", 0], ["ecs-managed", 0], ["delete", 0]]);
        for (const d of await self.store.activeDeployments()) counts.set(d.strategy, (counts.get(d.strategy) ?? 0) + 1);
        for (const [strategy, n] of counts) this.set({ strategy }, n);
      },
    });
    new Gauge({
      name: "flotilla_pending_deletes",
      help: "Deletes held back (deletes off, the mass-delete guard, an unreadable object), by repository and reason.",
      labelNames: ["repository", "reason"],
      registers,
      async collect() {
        this.reset();
        if (!self.store) return;
        const counts = new Map<string, { repository: string; reason: string; n: number }>();
        for (const p of await self.store.listPendingDeletes()) {
          const key = `${p.repository}\u0000${p.reason}`;
          const c = counts.get(key) ?? { repository: p.repository, reason: p.reason, n: 0 };
          c.n++;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ repository: c.repository, reason: c.reason }, c.n);
      },
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "flotilla_" });
  }

  /** Where the scrape-time gauges read from (buildServer calls it with its deps). */
  attach(store: Store, clock: StoreClock): void {
    this.store = store;
    this.clock = clock;
  }

  awsCall(service: string, operation: string, throttled: boolean): void {
    this.awsCalls.inc({ service, operation });
    if (throttled) this.awsThrottles.inc({ service, operation });
  }

  deploymentFinished(d: { strategy: string; phase: string; createdAt: number; finishedAt: number | null }): void {
    if (!TERMINAL_PHASES.has(d.phase as Phase)) return;
    const labels = { result: RESULT[d.phase as Phase] ?? d.phase.toLowerCase(), strategy: d.strategy };
    this.deployments.inc(labels);
    if (d.finishedAt !== null) this.durations.observe(labels, Math.max(0, (d.finishedAt - d.createdAt) / 1000));
  }

  commitProcessed(repository: string, result: { status: "ok" | "invalid"; invalidObjects: number }): void {
    this.commits.inc({ repository, result: result.status });
    // Touch the series for every repository, so a dashboard sees 0 rather than nothing.
    this.invalidObjects.inc({ repository }, result.invalidObjects);
  }

  setQueueDepth(depth: number, repository?: string): void {
    this.queueDepth.set({ repository: repository ?? "" }, depth);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): PromMetrics {
  return new PromMetrics(options);
}
