/** Shared setup for the API tests: an in-memory store, a virtual clock, tokens, a fake controller. */
import { tmpdir } from "node:os";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import type { RepositoryPolicy } from "../../src/controller/server-config.ts";
import { VirtualClock, settle } from "../../src/core/clock.ts";
import { FlotillaError } from "../../src/core/problems.ts";
import { buildServer } from "../../src/server/server.ts";
import type { ControllerPort } from "../../src/api/ports.ts";
import type { CleanupPlanAnswer, CommitFile, CommitInfo, DeployAccepted, DryRunResult, ObjectPlanAnswer, SyncWindowState, VersionsAnswer } from "../../src/api/types.ts";
import type { ServerOptions } from "../../src/server/deps.ts";
import { DeploymentEventBus } from "../../src/server/events.ts";
import { createMetrics } from "../../src/server/metrics.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import type { Deployment, DriftRecord, NewDeployment, Repository, WaitingCommit } from "../../src/store/types.ts";

export const SHA1 = "1111111111111111111111111111111111111111";
export const SHA2 = "2222222222222222222222222222222222222222";

/** Records every call; answers from canned data; unknown shas fail like a real controller would. */
export class FakeController implements ControllerPort {
  readonly calls: { method: string; args: unknown[] }[] = [];
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }
  private known(sha: string): void {
    if (!SHA1.startsWith(sha.toLowerCase()) && !SHA2.startsWith(sha.toLowerCase())) {
      throw new FlotillaError({ code: "FLT-GIT-UNKNOWN-REVISION", message: `commit ${sha} is not in the repository` });
    }
  }
  listCommits(repo: Repository, options: { limit: number }): Promise<CommitInfo[]> {
    this.calls.push({ method: "listCommits", args: [repo.name, options] });
    const all: CommitInfo[] = [
      { sha: SHA2, parents: [SHA1], author: "Dev <dev@example.com>", committedAt: "2026-11-23T10:00:00.000Z", subject: "web: new image", processed: false },
      { sha: SHA1, parents: [], author: "Dev <dev@example.com>", committedAt: "2026-11-22T10:00:00.000Z", subject: "initial", processed: true },
    ];
    return Promise.resolve(all.slice(0, options.limit));
  }
  commitFiles(repo: Repository, sha: string): Promise<CommitFile[]> {
    this.calls.push({ method: "commitFiles", args: [repo.name, sha] });
    this.known(sha);
    return Promise.resolve([
      { path: "dev/web/web_svcdef.json", object: "dev/web/web", kind: "svcdef", change: "unchanged" },
      { path: "dev/web/web_taskdef.json", object: "dev/web/web", kind: "taskdef", change: "modified" },
    ]);
  }
  deployCommit(repo: Repository, sha: string, options: { force: boolean; requestedBy: string; overrides: readonly string[] }): Promise<DeployAccepted> {
    this.calls.push({ method: "deployCommit", args: [repo.name, sha, options] });
    this.known(sha);
    return Promise.resolve({ repository: repo.name, sha, queuePosition: 0, actions: [{ object: "dev/web/web", action: "update", why: "taskdef changed" }] });
  }
  dryRun(repo: Repository, sha: string, options: { rendered: boolean }): Promise<DryRunResult> {
    this.calls.push({ method: "dryRun", args: [repo.name, sha, options] });
    this.known(sha);
    return Promise.resolve({
      repository: repo.name,
      sha,
      actions: [{ object: "dev/web/web", action: "update", why: "taskdef changed" }],
      problems: [],
      ...(options.rendered ? { rendered: { "dev/web/web": { taskdef: { family: "web" } } } } : {}),
    });
  }
  planObject(object: string): Promise<ObjectPlanAnswer> {
    this.calls.push({ method: "planObject", args: [object] });
    if (object !== "dev/web/web") return Promise.reject(new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no plan for ${object}: no registered repository has deployed it` }));
    const text = '--- live\n+++ git\n@@ -1 +1 @@\n-  "image": "web:1"\n+  "image": "web:2"\n';
    return Promise.resolve({ object, repository: "app", sha: SHA1, action: "update", reasons: ["taskdef changed"], notCompared: [], problems: [], service: { changed: false, text: "" }, taskDefinition: { changed: true, text } });
  }
  async cutover(object: string, version: string, requestedBy: string): Promise<Deployment> {
    this.calls.push({ method: "cutover", args: [object, version, requestedBy] });
    if (object.startsWith("missing/")) throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no deployment of ${object} is recorded` });
    return this.store.createDeployment(
      { object, repository: "app", strategy: "cutover", region: "us-east-1", cluster: "main", service: "web", overrides: [{ name: "cutover", setBy: requestedBy, source: "api", at: 0 }] },
      [{ type: "Pending", message: `queued cutover deployment of ${object}` }],
    );
  }

  async cleanup(object: string, requestedBy: string): Promise<Deployment> {
    this.calls.push({ method: "cleanup", args: [object, requestedBy] });
    return this.store.createDeployment(
      { object, repository: "app", strategy: "cleanup", region: "us-east-1", cluster: "main", service: "web-cleanup", overrides: [{ name: "cleanup", setBy: requestedBy, source: "api", at: 0 }] },
      [{ type: "Pending", message: `queued cleanup deployment of ${object}` }],
    );
  }

  planCleanup(object: string): Promise<CleanupPlanAnswer> {
    this.calls.push({ method: "planCleanup", args: [object] });
    return Promise.resolve({ object, remove: ["v1"], kept: [{ version: "v3", why: "live" }] });
  }

  versions(object: string): Promise<VersionsAnswer> {
    this.calls.push({ method: "versions", args: [object] });
    return Promise.resolve({ object, versions: [], lastCutover: null });
  }

  async rollback(object: string, requestedBy: string): Promise<Deployment> {
    this.calls.push({ method: "rollback", args: [object, requestedBy] });
    if (object !== "dev/web/web") throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no successful update of ${object} is recorded` });
    return this.store.createDeployment(
      { object, repository: "app", strategy: "rolling", region: "us-east-1", cluster: "main", service: "web-rollback", overrides: [{ name: "rollback", setBy: requestedBy, source: "api", at: 0 }] },
      [{ type: "RollbackRequested", message: `rollback of ${object} requested by ${requestedBy}` }],
    );
  }
  async confirmPendingDelete(repo: Repository, object: string, requestedBy: string): Promise<Deployment> {
    this.calls.push({ method: "confirmPendingDelete", args: [repo.name, object, requestedBy] });
    const p = await this.store.getPendingDelete(repo.name, object);
    if (!p) throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no delete of ${object} is pending in ${repo.name}` });
    await this.store.removePendingDelete(repo.name, object);
    return this.store.createDeployment({ object, repository: repo.name, strategy: "delete", region: p.region, cluster: p.cluster, service: p.service, overrides: [{ name: "delete-confirmed", setBy: requestedBy, source: "api", at: 0 }] });
  }
  watchRepository(name: string): void {
    this.calls.push({ method: "watchRepository", args: [name] });
  }
  syncWindows(): SyncWindowState[] {
    return [];
  }
  checkDrift(repository?: string): Promise<DriftRecord[]> {
    this.calls.push({ method: "checkDrift", args: [repository] });
    return this.store.listDrift(repository !== undefined ? { repository } : {});
  }
  async releaseWaitingCommit(repo: Repository, sha: string | undefined, requestedBy: string): Promise<WaitingCommit> {
    this.calls.push({ method: "releaseWaitingCommit", args: [repo.name, sha, requestedBy] });
    const waiting = await this.store.releaseWaitingCommit(repo.name, repo.branch, sha ?? (await this.store.getWaitingCommit(repo.name, repo.branch))?.sha ?? "", requestedBy);
    if (!waiting) throw new FlotillaError({ code: "FLT-WINDOW-NOT-WAITING", message: `${repo.name}: no commit waits` });
    return waiting;
  }
}

export interface Harness {
  app: ReturnType<typeof buildServer>;
  store: Store;
  clock: VirtualClock;
  controller: FakeController;
  bus: DeploymentEventBus;
  metrics: ReturnType<typeof createMetrics>;
  operator: string;
  reader: string;
  logs: string[];
  req(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The policy API tests run with: a token credential for github.com, an SSH key for gitlab.com, local repositories under the temporary directory. */
export const API_POLICY: RepositoryPolicy = {
  allowHttp: false,
  allowedLocalRoots: [tmpdir()],
  credentials: {
    github: { type: "token-env", env: "GITHUB_TOKEN", username: "x-access-token", hosts: ["github.com"] },
    "gitlab-key": { type: "ssh-key", file: "/etc/flotilla/gitlab_key", hosts: ["gitlab.com"] },
  },
};

export async function harness(options: { controller?: boolean; server?: ServerOptions; policy?: RepositoryPolicy; beforeReady?: (app: ReturnType<typeof buildServer>) => void } = {}): Promise<Harness> {
  const clock = new VirtualClock({ start: Date.UTC(2026, 10, 23, 12) });
  const store = await openSqliteStore({ path: ":memory:", clock });
  const { token: operator } = await store.createToken("alice", "operator");
  const { token: reader } = await store.createToken("dashboard", "read-only");
  const controller = new FakeController(store);
  const bus = new DeploymentEventBus();
  const metrics = createMetrics();
  const logs: string[] = [];
  const app = buildServer({
    store,
    clock,
    ...(options.controller === false ? {} : { controller }),
    events: bus,
    metrics,
    policy: options.policy ?? API_POLICY,
    options: { pollIntervalMs: 1000, heartbeatMs: 5000, logger: { level: "debug", stream: { write: (m: string) => void logs.push(m) } }, ...options.server },
  });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    store,
    clock,
    controller,
    bus,
    metrics,
    operator,
    reader,
    logs,
    req({ token, headers, ...rest }) {
      const auth = token === null ? {} : { authorization: `Bearer ${token ?? operator}` };
      return app.inject({ ...rest, headers: { ...auth, ...headers } });
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}

let serviceSeq = 0;
/** A deployment with sensible defaults (a distinct service each time, so several can be active). */
export function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  serviceSeq++;
  return { object: `dev/svc${serviceSeq}/svc${serviceSeq}`, repository: "app", branch: "main", commitSha: SHA1, strategy: "rolling", region: "us-east-1", cluster: "main", service: `svc${serviceSeq}`, ...overrides };
}

export async function finish(store: Store, d: Deployment, phase: "Succeeded" | "Failed" | "RolledBack" | "Aborted" = "Succeeded"): Promise<Deployment> {
  return store.updateDeployment(d.id, d.version, { phase }, [{ type: phase, message: `deployment ${phase.toLowerCase()}` }]);
}

/** Let the server run until the virtual clock has a sleeper (an SSE stream waiting for its next poll). */
export async function untilSleeping(clock: VirtualClock, count = 1): Promise<void> {
  for (let i = 0; i < 200 && clock.pending < count; i++) await settle(2);
  if (clock.pending < count) throw new Error("the stream never started waiting");
}

export interface SseMessage {
  id?: string;
  event?: string;
  data?: unknown;
  comment?: string;
  retry?: number;
}

export function parseSse(payload: string): SseMessage[] {
  const out: SseMessage[] = [];
  for (const block of payload.split("\n\n")) {
    if (!block.trim()) continue;
    const m: SseMessage = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) m.comment = line.slice(1).trim();
      else if (line.startsWith("id: ")) m.id = line.slice(4);
      else if (line.startsWith("event: ")) m.event = line.slice(7);
      else if (line.startsWith("data: ")) m.data = JSON.parse(line.slice(6));
      else if (line.startsWith("retry: ")) m.retry = Number(line.slice(7));
    }
    out.push(m);
  }
  return out;
}

export const json = (r: LightMyRequestResponse): Record<string, unknown> => r.json<Record<string, unknown>>();
