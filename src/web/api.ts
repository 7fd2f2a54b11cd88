/**
 * The dashboard's typed client of /api/v1. Its types are the server's own (imported as types only,
 * so no server code reaches the bundle): a change of an answer's shape in src/server or src/store
 * breaks the dashboard's typecheck, not the page.
 *
 * Authentication is the session cookie the server sets at sign-in (httpOnly: this code never sees
 * it). Changes carry the session's CSRF token, which lives only in this module's memory.
 */
import type { CleanupPlanAnswer, CommitInfo, DeployAccepted, DryRunResult, ObjectPlanAnswer, VersionsAnswer } from "../api/types.ts";
import type { ErrorBody } from "../server/errors.ts";
import type { repositoryRecord } from "../server/routes/repositories.ts";
import type { SessionInfo } from "../server/session.ts";
import type { ActivityRecord, CommitRecordJson, CommitResult, controlRecord, DeploymentRecord, DriftRecordJson, EventRecord, PendingDeleteRecord, SampleRecord, WaitingCommitRecord } from "../store/record.ts";
import type { ControlAction, Phase } from "../store/types.ts";

export type { CleanupPlanAnswer, VersionsAnswer };
export type { ActivityRecord, DriftRecordJson, WaitingCommitRecord };
export type { CommitInfo, CommitRecordJson, DeployAccepted, DeploymentRecord, DryRunResult, EventRecord, ObjectPlanAnswer, PendingDeleteRecord, SampleRecord, SessionInfo };
/** A commit of the branch as the commit list answers it: with how the controller processed it, or null. */
export type CommitListItem = CommitInfo & { result: CommitResult | null };
export type RepositoryRecord = Awaited<ReturnType<typeof repositoryRecord>>;
export type ControlRecord = ReturnType<typeof controlRecord>;
export type DeploymentDetail = DeploymentRecord & { timeline: EventRecord[]; controls: ControlRecord[] };
export type { ControlAction, Phase };

/** An answer that was not a success: the API's code and message, or what went wrong on the way. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  constructor(status: number, code: string, message: string, hint?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

let csrfToken: string | null = null;
const signedOutListeners = new Set<() => void>();

/** Called when the server says the session has ended (401), so the page can ask to sign in again. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, credentials: "same-origin", cache: "no-store", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiFailure(0, "FLT-CLI-SERVER-UNREACHABLE", "the Flotilla server cannot be reached");
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const e = (data ?? {}) as Partial<ErrorBody>;
    if (res.status === 401 && path !== "/session") for (const l of signedOutListeners) l();
    throw new ApiFailure(res.status, e.code ?? "FLT-INTERNAL", e.message ?? `${res.status} ${res.statusText}`, e.hint);
  }
  return data as T;
}

const q = (params: Record<string, string | number | boolean | readonly string[] | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) s.append(k, x);
    else s.set(k, String(v));
  }
  const text = s.toString();
  return text ? `?${text}` : "";
};
const seg = encodeURIComponent;

export interface DeploymentFilter {
  repository?: string;
  commit?: string;
  object?: string;
  phase?: readonly Phase[];
  status?: "active" | "finished";
  limit?: number;
  cursor?: string;
}

export const api = {
  async session(): Promise<SessionInfo> {
    const s = await call<SessionInfo>("GET", "/session");
    csrfToken = s.csrfToken;
    return s;
  },
  async signIn(token: string): Promise<SessionInfo> {
    const s = await call<SessionInfo>("POST", "/session", { token });
    csrfToken = s.csrfToken;
    return s;
  },
  async signOut(): Promise<void> {
    try {
      await call<void>("DELETE", "/session");
    } finally {
      csrfToken = null;
    }
  },
  repositories: () => call<{ items: RepositoryRecord[] }>("GET", "/repositories"),
  repository: (name: string) => call<RepositoryRecord>("GET", `/repositories/${seg(name)}`),
  commits: (repo: string, limit = 30) => call<{ items: CommitListItem[] }>("GET", `/repositories/${seg(repo)}/commits${q({ limit })}`),
  /** How the controller processed a commit (404 while it has not). */
  commit: (repo: string, sha: string) => call<CommitRecordJson>("GET", `/repositories/${seg(repo)}/commits/${seg(sha)}`),
  pendingDeletes: (repository?: string) => call<{ items: PendingDeleteRecord[] }>("GET", `/pending-deletes${q({ repository })}`),
  confirmDelete: (repository: string, object: string) => call<DeploymentRecord>("POST", "/pending-deletes/confirm", { repository, object }),
  dismissDelete: (repository: string, object: string) => call<PendingDeleteRecord>("POST", "/pending-deletes/dismiss", { repository, object }),
  waitingCommits: () => call<{ items: WaitingCommitRecord[] }>("GET", "/waiting-commits"),
  releaseCommit: (repository: string, sha: string) => call<WaitingCommitRecord>("POST", "/waiting-commits/release", { repository, sha }),
  drift: () => call<{ items: DriftRecordJson[] }>("GET", "/drift"),
  dryRun: (repo: string, sha: string) => call<DryRunResult>("GET", `/repositories/${seg(repo)}/commits/${seg(sha)}/dryrun`),
  deployCommit: (repo: string, sha: string, body: { force?: boolean; overrides?: string[] } = {}) =>
    call<DeployAccepted & { requestedBy: string }>("POST", `/repositories/${seg(repo)}/commits/${seg(sha)}/deploy`, body),
  deployments: (filter: DeploymentFilter = {}) => call<{ items: DeploymentRecord[]; nextCursor: string | null }>("GET", `/deployments${q({ ...filter })}`),
  deployment: (id: string) => call<DeploymentDetail>("GET", `/deployments/${seg(id)}`),
  samples: (id: string, after = 0) => call<{ items: SampleRecord[] }>("GET", `/deployments/${seg(id)}/samples${q({ after })}`),
  control: (id: string, action: ControlAction) => call<ControlRecord & { deploymentId: string }>("POST", `/deployments/${seg(id)}/${action}`, {}),
  plan: (object: string) => call<ObjectPlanAnswer>("GET", `/plan${q({ object })}`),
  rollback: (object: string) => call<DeploymentRecord>("POST", "/rollback", { object }),
  /** Rainbow objects: their versions, a cutover (or cut-back), a cleanup and its dry run. */
  versions: (object: string) => call<VersionsAnswer>("GET", `/versions${q({ object })}`),
  cutover: (object: string, version: string) => call<DeploymentRecord>("POST", "/cutover", { object, version }),
  cleanup: (object: string) => call<DeploymentRecord>("POST", "/cleanup", { object }),
  planCleanup: (object: string) => call<CleanupPlanAnswer>("POST", "/cleanup", { object, dryRun: true }),
};

/** The URL of the live event stream (server-sent events), narrowed to a deployment or an object. */
export function eventsUrl(filter: { deployment?: string; object?: string } = {}): string {
  return `/api/v1/events${q(filter)}`;
}

/** Client-side paths, so links are built in one place. */
export const paths = {
  overview: () => "/",
  repository: (name: string) => `/repositories/${seg(name)}`,
  commit: (repo: string, sha: string) => `/repositories/${seg(repo)}/commits/${seg(sha)}`,
  deployment: (id: string) => `/deployments/${seg(id)}`,
  object: (object: string) => `/objects/${object.split("/").map(seg).join("/")}`,
};
