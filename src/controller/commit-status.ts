/**
 * Commit statuses: what the controller made of each commit, posted to GitHub as a commit status
 * (`POST /repos/{owner}/{repo}/statuses/{sha}`) — `pending` while its deployments run (or while it
 * waits for a sync window), then `success`, `failure` or `error`, linking to the commit's page or
 * its one deployment on the dashboard.
 *
 * Everything about where statuses go is the operator's: the API's base URL, the token (a named
 * credential bound to the API's host) and the public address links use come from the server
 * configuration, never from a repository. The request goes through the notifications' egress
 * path (resolved once, connected to the checked address, no redirects, only the status read).
 * Posting runs beside the controller: a slow or failing GitHub never delays a commit. Per commit the
 * newest status wins: one that arrives while an older one is still being retried replaces it.
 */
import { readFile } from "node:fs/promises";
import type { Clock } from "../core/clock.ts";
import type { ProblemCode } from "../core/codes.ts";
import { defaultMasker, type Masker } from "../core/mask.ts";
import type { Problem } from "../core/problems.ts";
import type { CommitRecord, Deployment, Repository } from "../store/types.ts";
import { EgressGuard, DEFAULT_NOTIFICATION_POLICY, pinnedConnector, type Connector, type Resolver } from "./egress.ts";
import type { GithubStatusConfig, NamedCredential } from "./server-config.ts";
import { normalizeRepositoryUrl } from "./github-webhook.ts";

export type CommitState = "pending" | "success" | "failure" | "error";

/** One status of a commit, in the controller's words. */
export interface CommitStatusUpdate {
  state: CommitState;
  /** A sentence (GitHub shows at most 140 characters). */
  description: string;
  /** Link to this deployment instead of the commit's page (a commit that started exactly one). */
  deploymentId?: string;
}

/** Where the controller reports commit statuses (GitHub, or nothing). */
export interface CommitStatusSink {
  report(repository: Repository, sha: string, update: CommitStatusUpdate): void;
}

export interface GithubStatusOptions {
  clock: Clock;
  config: GithubStatusConfig;
  /** The named credential `config.credential` names (token-env or token-file). */
  credential: NamedCredential;
  /** The server's public address (links); absent: statuses carry no link. */
  publicUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Attempts per status (default 5), with backoff 1 s, 2 s, 4 s, … on the clock. */
  attempts?: number;
  timeoutMs?: number;
  resolve?: Resolver;
  connect?: Connector;
  masker?: Masker;
  onWarning?: (message: string, code: ProblemCode) => void;
}

/** GitHub's limit on a status's description. */
const MAX_DESCRIPTION = 140;
const MAX_RESPONSE_BYTES = 16 * 1024;

/** A status that will not be retried, with its code. */
class NotPosted extends Error {
  readonly code: ProblemCode;
  constructor(code: ProblemCode, message: string) {
    super(message);
    this.code = code;
  }
}

interface Slot {
  /** The newest status not yet sent (undefined once taken). */
  next: { body: string; state: CommitState } | undefined;
}

export class GithubStatusReporter implements CommitStatusSink {
  private readonly o: GithubStatusOptions;
  private readonly guard: EgressGuard;
  private readonly masker: Masker;
  private readonly slots = new Map<string, Slot>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: GithubStatusOptions) {
    this.o = options;
    // The operator's own endpoint: trusted like a configured notification target (a GitHub Enterprise
    // Server may sit on a private network), still resolved once and connected to what was checked.
    this.guard = new EgressGuard(DEFAULT_NOTIFICATION_POLICY, options.resolve ? { resolve: options.resolve } : {});
    this.masker = options.masker ?? defaultMasker;
  }

  /** owner/name of the repository on GitHub: the configured mapping, else its URL when it is on the API's host. */
  githubRepository(repository: Repository): string | undefined {
    const mapped = Object.hasOwn(this.o.config.repositories, repository.name) ? this.o.config.repositories[repository.name] : undefined;
    if (mapped) return mapped;
    const [host, owner, name, ...rest] = normalizeRepositoryUrl(repository.url).split("/");
    return host === this.o.config.host && owner && name && rest.length === 0 ? `${owner}/${name}` : undefined;
  }

  report(repository: Repository, sha: string, update: CommitStatusUpdate): void {
    const target = this.githubRepository(repository);
    if (!target || !/^[0-9a-f]{40}$/.test(sha)) return;
    const link = this.link(repository, sha, update.deploymentId);
    const description = this.masker.text(update.description);
    const body = JSON.stringify({
      state: update.state,
      description: description.length > MAX_DESCRIPTION ? `${description.slice(0, MAX_DESCRIPTION - 1)}…` : description,
      context: this.o.config.context,
      ...(link ? { target_url: link } : {}),
    });
    const key = `${target}@${sha}`;
    const slot = this.slots.get(key);
    if (slot) {
      slot.next = { body, state: update.state }; // the older one, if still waiting or retrying, is superseded
      return;
    }
    const fresh: Slot = { next: { body, state: update.state } };
    this.slots.set(key, fresh);
    const [owner, name] = target.split("/") as [string, string];
    const url = new URL(`${this.o.config.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${sha}`);
    const p = this.drainSlot(url, fresh, `${repository.name}@${sha.slice(0, 7)}`)
      .catch((e: unknown) => this.o.onWarning?.(this.masker.text(`commit status of ${repository.name}@${sha.slice(0, 7)}: ${String(e)}`), "FLT-STATUS-FAILED"))
      .finally(() => {
        this.slots.delete(key);
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
  }

  /** Wait for the statuses under way (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private link(repository: Repository, sha: string, deploymentId: string | undefined): string | undefined {
    const base = this.o.publicUrl;
    if (!base) return undefined;
    return deploymentId ? `${base}/deployments/${encodeURIComponent(deploymentId)}` : `${base}/repositories/${encodeURIComponent(repository.name)}/commits/${sha}`;
  }

  private async drainSlot(url: URL, slot: Slot, what: string): Promise<void> {
    for (let next = slot.next; next; next = slot.next) {
      slot.next = undefined;
      try {
        await this.post(url, next.body, () => slot.next !== undefined);
      } catch (e) {
        if (!(e instanceof NotPosted)) throw e;
        this.o.onWarning?.(this.masker.text(`commit status ${next.state} of ${what} not posted to ${url.host}: ${e.message} (${e.code})`), e.code);
      }
    }
  }

  /** POST with retries on network errors, 5xx and 429; gives up early when a newer status is waiting. */
  private async post(url: URL, body: string, superseded: () => boolean): Promise<void> {
    const attempts = this.o.attempts ?? 5;
    const connect = this.o.connect ?? pinnedConnector;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const token = await this.token();
      try {
        const address = await this.guard.destination(url, true);
        const headers = { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "content-type": "application/json", "user-agent": "flotilla" };
        const res = await connect({ url, address, headers, body, timeoutMs: this.o.timeoutMs ?? 10_000, maxResponseBytes: MAX_RESPONSE_BYTES });
        if (res.status >= 200 && res.status < 300) return;
        if (res.status >= 300 && res.status < 400) throw new NotPosted("FLT-STATUS-FAILED", `the API answered HTTP ${res.status} (a redirect); redirects are not followed`);
        last = `HTTP ${res.status}`;
        // 403 is also GitHub's secondary rate limit: worth a later try, like 429 and 5xx.
        if (res.status < 500 && res.status !== 429 && res.status !== 403) break;
      } catch (e) {
        if (e instanceof NotPosted) throw e;
        last = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      }
      if (attempt < attempts) {
        await this.o.clock.sleep(1000 * 2 ** (attempt - 1));
        if (superseded()) return;
      }
    }
    throw new NotPosted("FLT-STATUS-FAILED", last);
  }

  /** Read at every post, so a rotated token is used at once; never logged, never in a message. */
  private async token(): Promise<string> {
    const c = this.o.credential;
    let token: string | undefined;
    if (c.type === "token-env") token = this.o.env?.[c.env];
    else if (c.type === "token-file") token = await readFile(c.file, "utf8").then((t) => t.split(/\r?\n/)[0]?.trim(), () => undefined);
    if (!token) throw new NotPosted("FLT-STATUS-TOKEN", `the token of credential "${this.o.config.credential}" cannot be read (${c.type === "token-env" ? `variable ${c.env} unset` : c.type === "token-file" ? `file ${c.file} missing or empty` : "not a token"})`);
    return token;
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `apps/web/web blocked (FLT-PLAN-TARGET-GROUP-MISSING) and 2 more, not deployed`: the first blocked object and its code. */
function blockedText(first: string, count: number, problems: readonly Pick<Problem, "object" | "severity" | "code">[]): string {
  const code = problems.find((p) => p.object === first && p.severity === "error")?.code;
  return `${first} blocked${code ? ` (${code})` : ""}${count > 1 ? ` and ${count - 1} more` : ""}, not deployed`;
}

/**
 * The status a commit's processing ends with: success only when every deployment succeeded and no
 * object was invalid or blocked (a blocked one names the first and the code that blocked it).
 */
export function finalCommitStatus(record: Pick<CommitRecord, "objects"> & Partial<Pick<CommitRecord, "problems">>, deployments: readonly Pick<Deployment, "id" | "object" | "phase" | "reason">[]): CommitStatusUpdate {
  const bad = deployments.filter((d) => d.phase !== "Succeeded");
  const invalid = record.objects.filter((o) => o.action === "invalid").length;
  const blocked = record.objects.filter((o) => o.action === "blocked");
  const held = record.objects.filter((o) => o.action === "delete-held").length;
  const link = deployments.length === 1 ? { deploymentId: deployments[0]!.id } : {};
  const extra = [invalid ? `${plural(invalid, "invalid object")} not deployed` : "", blocked.length ? blockedText(blocked[0]!.object, blocked.length, record.problems ?? []) : "", held ? `${plural(held, "delete")} held for an operator` : ""].filter(Boolean);
  if (bad.length) {
    const first = bad[0]!;
    const more = bad.length > 1 ? ` and ${bad.length - 1} more` : "";
    return { state: "failure", description: [`${first.object} ${first.phase}${first.reason ? ` (${first.reason})` : ""}${more}`, ...extra].join("; "), ...link };
  }
  if (invalid || blocked.length) return { state: "failure", description: [deployments.length ? `deployed ${plural(deployments.length, "object")}` : "", ...extra].filter(Boolean).join("; "), ...link };
  const done = deployments.length ? `deployed ${plural(deployments.length, "object")}` : "nothing to deploy";
  return { state: "success", description: [done, ...extra].join("; "), ...link };
}
