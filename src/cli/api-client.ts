/**
 * A small typed client for the HTTP API of `flotilla serve` (docs/api.md), on Node's global `fetch`.
 * The server comes from `--server URL` or `FLOTILLA_SERVER`; the token only from `FLOTILLA_TOKEN`
 * (never from argv, never printed). API errors become FlotillaErrors with the API's code and message.
 */
import { PROBLEM_CODES, type ProblemCode } from "../core/codes.ts";
import { FlotillaError } from "../core/problems.ts";
import type { CommitRecordJson, CommitResult, DeploymentRecord, EventRecord, PendingDeleteRecord, WaitingCommitRecord, DriftRecordJson } from "../store/record.ts";
import type { CleanupPlanAnswer, CommitFile, CommitInfo, DeployAccepted, DryRunResult, SyncWindowState, VersionsAnswer } from "../api/types.ts";
import type { CliIO } from "./io.ts";

export type { CommitFile, CommitInfo, CommitRecordJson, CommitResult, DeployAccepted, DeploymentRecord, DryRunResult, EventRecord, PendingDeleteRecord };

export interface RepositoryInfo {
  name: string;
  url: string;
  branch: string;
  path: string | null;
  pollIntervalSeconds: number;
  /** A credential name of the server configuration; an object for a repository stored with an old reference. */
  credentials: string | { kind: "env"; name: string } | { kind: "file"; path: string } | { kind: "helper"; helper: string } | null;
  lastCommit: { sha: string; processedAt: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface ControlInfo {
  deploymentId: string;
  id: string;
  action: string;
  requestedBy: string;
  requestedAt: string;
  consumedAt: string | null;
}

export type DeploymentDetail = DeploymentRecord & { timeline: EventRecord[]; controls: Omit<ControlInfo, "deploymentId">[] };

/** An event as the SSE stream sends it: the event plus the deployment's object, repository and phase. */
export type StreamEvent = EventRecord & { object: string; repository: string | null; phase: string };

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** The option every client verb takes. */
export const SERVER_OPTION = ["--server <url>", "the flotilla serve API (default: FLOTILLA_SERVER); the token comes from FLOTILLA_TOKEN"] as const;

/** The configured server, or undefined when neither `--server` nor `FLOTILLA_SERVER` is set. */
export function serverUrl(io: CliIO, flag: string | undefined): string | undefined {
  const url = (flag ?? io.env["FLOTILLA_SERVER"] ?? "").trim();
  return url === "" ? undefined : url;
}

export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;

  constructor(base: string, token: string | undefined) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--server ${base} is not a URL`, hint: "e.g. --server http://127.0.0.1:8080" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--server must be an http:// or https:// URL, not ${url.protocol}` });
    }
    this.base = url.toString().replace(/\/+$/, "");
    this.token = token && token.trim() !== "" ? token.trim() : undefined;
  }

  /** A client for the configured server; a usage error when none is configured. */
  static from(io: CliIO, flag: string | undefined): ApiClient {
    const url = serverUrl(io, flag);
    if (!url) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "no server configured", hint: "pass --server URL or set FLOTILLA_SERVER (and FLOTILLA_TOKEN)" });
    return new ApiClient(url, io.env["FLOTILLA_TOKEN"]);
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v as readonly string[]) params.append(k, x);
      else params.append(k, String(v));
    }
    const qs = params.toString();
    return `${this.base}/api/v1${path}${qs ? `?${qs}` : ""}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async request<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = this.url(path, options.query);
    const init: RequestInit = {
      method,
      headers: this.headers(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    };
    const res = await this.send(url, init);
    const text = await res.text();
    if (!res.ok) throw this.problem(res.status, text);
    if (res.status === 204 || text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new FlotillaError({ code: "FLT-CLI-SERVER-RESPONSE", message: `${this.base} answered ${method} ${path} with something that is not JSON`, hint: "is --server the address of flotilla serve?" });
    }
  }

  /** fetch, with a connection failure turned into a FlotillaError naming the server. */
  async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
      throw new FlotillaError({
        code: "FLT-CLI-SERVER-UNREACHABLE",
        message: `cannot reach the Flotilla server at ${this.base} (${why})`,
        hint: "start it with `flotilla serve`, or point --server / FLOTILLA_SERVER at it",
      });
    }
  }

  /** An API error answer as a FlotillaError carrying the API's code and message. */
  problem(status: number, text: string): FlotillaError {
    let body: { code?: unknown; message?: unknown; hint?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: described below
    }
    const known = typeof body.code === "string" && body.code in PROBLEM_CODES;
    const code: ProblemCode = known ? (body.code as ProblemCode) : status === 401 ? "FLT-API-UNAUTHORIZED" : status === 403 ? "FLT-API-FORBIDDEN" : "FLT-CLI-SERVER-RESPONSE";
    const message = typeof body.message === "string" ? body.message : `the server answered HTTP ${status}`;
    let hint = typeof body.hint === "string" ? body.hint : undefined;
    if (status === 401) hint = this.token ? "FLOTILLA_TOKEN was refused (unknown or revoked): set FLOTILLA_TOKEN to an operator token" : "set FLOTILLA_TOKEN to an operator token (or a read-only one for reads)";
    if (status === 403) hint = "this token is read-only: set FLOTILLA_TOKEN to an operator token";
    return new FlotillaError({ code, message, ...(hint ? { hint } : {}) });
  }

  // Repositories
  listRepositories(): Promise<{ items: RepositoryInfo[] }> {
    return this.request("GET", "/repositories");
  }
  addRepository(body: { name: string; url: string; branch: string; path?: string; pollIntervalSeconds?: number; credentials?: string | null }): Promise<RepositoryInfo> {
    return this.request("POST", "/repositories", { body });
  }
  updateRepository(name: string, body: { url?: string; branch?: string; path?: string | null; pollIntervalSeconds?: number; credentials?: string | null }): Promise<RepositoryInfo> {
    return this.request("PATCH", `/repositories/${encodeURIComponent(name)}`, { body });
  }
  removeRepository(name: string): Promise<void> {
    return this.request("DELETE", `/repositories/${encodeURIComponent(name)}`);
  }

  // Commits
  listCommits(repo: string, limit?: number): Promise<{ items: (CommitInfo & { result: CommitResult | null })[] }> {
    return this.request("GET", `/repositories/${encodeURIComponent(repo)}/commits`, { query: { limit } });
  }
  getCommit(repo: string, sha: string): Promise<CommitRecordJson> {
    return this.request("GET", `/repositories/${encodeURIComponent(repo)}/commits/${encodeURIComponent(sha)}`);
  }
  commitFiles(repo: string, sha: string): Promise<{ sha: string; items: CommitFile[] }> {
    return this.request("GET", `/repositories/${encodeURIComponent(repo)}/commits/${encodeURIComponent(sha)}/files`);
  }
  deployCommit(repo: string, sha: string, body: { force?: boolean; overrides?: string[] }): Promise<DeployAccepted & { requestedBy: string }> {
    return this.request("POST", `/repositories/${encodeURIComponent(repo)}/commits/${encodeURIComponent(sha)}/deploy`, { body });
  }
  dryRun(repo: string, sha: string, rendered: boolean): Promise<DryRunResult> {
    return this.request("GET", `/repositories/${encodeURIComponent(repo)}/commits/${encodeURIComponent(sha)}/dryrun`, { query: rendered ? { rendered: true } : {} });
  }

  // Deployments
  listDeployments(query: Query): Promise<{ items: DeploymentRecord[]; nextCursor: string | null }> {
    return this.request("GET", "/deployments", { query });
  }
  getDeployment(id: string): Promise<DeploymentDetail> {
    return this.request("GET", `/deployments/${encodeURIComponent(id)}`);
  }
  control(id: string, action: string): Promise<ControlInfo> {
    return this.request("POST", `/deployments/${encodeURIComponent(id)}/${action}`);
  }
  rollback(object: string): Promise<DeploymentRecord> {
    return this.request("POST", "/rollback", { body: { object } });
  }

  // Rainbow objects
  cutover(object: string, version: string): Promise<DeploymentRecord> {
    return this.request("POST", "/cutover", { body: { object, version } });
  }
  cleanup(object: string): Promise<DeploymentRecord> {
    return this.request("POST", "/cleanup", { body: { object } });
  }
  planCleanup(object: string): Promise<CleanupPlanAnswer> {
    return this.request("POST", "/cleanup", { body: { object, dryRun: true } });
  }
  versions(object: string): Promise<VersionsAnswer> {
    return this.request("GET", "/versions", { query: { object } });
  }

  // Pending deletes
  listPendingDeletes(repository?: string): Promise<{ items: PendingDeleteRecord[] }> {
    return this.request("GET", "/pending-deletes", { query: { repository } });
  }
  confirmPendingDelete(repository: string, object: string): Promise<DeploymentRecord> {
    return this.request("POST", "/pending-deletes/confirm", { body: { repository, object } });
  }
  dismissPendingDelete(repository: string, object: string): Promise<PendingDeleteRecord & { dismissedBy: string }> {
    return this.request("POST", "/pending-deletes/dismiss", { body: { repository, object } });
  }

  // Drift
  listDrift(query: { repository?: string; status?: string }): Promise<{ items: DriftRecordJson[] }> {
    return this.request("GET", "/drift", { query });
  }
  checkDrift(repository?: string): Promise<{ items: DriftRecordJson[] }> {
    return this.request("POST", "/drift/check", { body: repository ? { repository } : {} });
  }

  // Sync windows
  syncWindows(repository?: string): Promise<{ windows: SyncWindowState[]; waiting: WaitingCommitRecord[] }> {
    return this.request("GET", "/sync-windows", { query: { repository } });
  }
  releaseWaitingCommit(repository: string, sha?: string): Promise<WaitingCommitRecord> {
    return this.request("POST", "/waiting-commits/release", { body: { repository, ...(sha ? { sha } : {}) } });
  }

  /**
   * One connection to the event stream. Resolves once the server has answered (so the stream's
   * position is set), then yields each message until the connection ends.
   */
  async openEvents(query: Query, lastEventId: string | undefined, signal: AbortSignal): Promise<AsyncGenerator<{ id?: string; event?: string; data?: string; retry?: number }>> {
    const url = this.url("/events", query);
    const res = await this.send(url, { method: "GET", headers: this.headers({ accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }), signal });
    if (!res.ok) throw this.problem(res.status, await res.text());
    if (!res.body) throw new FlotillaError({ code: "FLT-CLI-SERVER-RESPONSE", message: `${this.base} answered the event stream without a body` });
    return parseSse(res.body, signal);
  }
}

async function* parseSse(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<{ id?: string; event?: string; data?: string; retry?: number }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const m: { id?: string; event?: string; data?: string; retry?: number } = {};
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "id") m.id = val;
          else if (field === "event") m.event = val;
          else if (field === "data") m.data = m.data === undefined ? val : `${m.data}\n${val}`;
          else if (field === "retry" && /^\d+$/.test(val)) m.retry = Number(val);
        }
        if (Object.keys(m).length) yield m;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A plain text table: columns padded to their widest cell; the header dimmed by the caller's paint. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], head: (s: string) => string = (s) => s): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  return [head(line(headers)), ...rows.map(line)].join("\n") + "\n";
}
