/**
 * GitHub push webhooks: the HMAC signature (`X-Hub-Signature-256`) checked against the raw bytes,
 * replayed deliveries dropped by their id, the push event parsed and matched to the registered
 * repositories (any of GitHub's URL forms, the pushed branch), and pushes already processed — or
 * older than the last processed commit, delivered out of order — ignored. The rest is queued as a
 * sync of each repository (repository-queue.ts). Each delivery ends in an outcome; which HTTP status
 * that is, the server decides (server/webhook.ts).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { GithubWebhookPort } from "../api/ports.ts";
import type { WebhookDelivery, WebhookOutcome, WebhookReceipt } from "../api/types.ts";
import { FlotillaError } from "../core/problems.ts";
import { commitExists, isAncestor } from "../git/read.ts";
import type { Store } from "../store/store.ts";
import type { Repository } from "../store/types.ts";
import type { Mirrors } from "./mirror.ts";
import type { RepositoryQueue } from "./repository-queue.ts";
import { syncFailed, type EmitSourceEvent } from "./source-events.ts";

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


export interface WebhookResult extends WebhookReceipt {
  /** Settles when the queued syncs have run (never rejects; failures go to the source events). */
  done: Promise<void>;
}

export interface GithubWebhooksOptions {
  store: Store;
  queue: RepositoryQueue;
  mirrors: Mirrors;
  emit: EmitSourceEvent;
  /** GitHub webhook secret; without one, webhooks are refused. */
  webhookSecret?: string;
  /** Delivery ids remembered for de-duplication (default 10,000). */
  deliveryMemory?: number;
}

function header(headers: WebhookDelivery["headers"], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

export class GithubWebhooks implements GithubWebhookPort {
  private readonly options: GithubWebhooksOptions;
  private readonly deliveries: RecentDeliveries;

  constructor(options: GithubWebhooksOptions) {
    this.options = options;
    this.deliveries = new RecentDeliveries(options.deliveryMemory);
  }

  /** Verify, de-duplicate and queue a GitHub webhook delivery. Never throws for a bad request. */
  async handleGithubWebhook(request: WebhookDelivery): Promise<WebhookResult> {
    const result = (outcome: WebhookOutcome, message: string, repositories: string[] = [], done: Promise<void> = Promise.resolve()): WebhookResult => ({ outcome, message, repositories, done });
    const { queue, store } = this.options;
    if (queue.stopped) return result("stopping", "the controller is shutting down; GitHub will show the delivery as failed and the next poll catches up");
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
    const repos = matchRepositories(push, await store.listRepositories());
    if (repos.length === 0) return result("no-match", `no registered repository follows ${push.fullName ?? push.urls[0] ?? "this repository"} ${push.branch}`);
    const toSync: string[] = [];
    for (const repo of repos) {
      if (!push.deleted && (await this.alreadyProcessed(repo, push.after))) continue;
      toSync.push(repo.name);
    }
    if (toSync.length === 0) return result("already-processed", `${push.after.slice(0, 12)} is already processed (or older than the last processed commit)`, repos.map((r) => r.name));
    const done = Promise.all(
      toSync.map((name) =>
        queue.sync(name, "webhook").then(
          () => undefined,
          (e: unknown) => this.options.emit(syncFailed(name, e)),
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
    const gitDir = this.options.mirrors.of(repo).gitDir;
    try {
      return (await commitExists(gitDir, sha)) && (await commitExists(gitDir, last)) && (await isAncestor(gitDir, sha, last));
    } catch {
      return false; // no mirror yet: let the sync decide
    }
  }
}
