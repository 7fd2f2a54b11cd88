/**
 * The few GitHub REST calls the Action makes: a pull request's comments, to keep one Flotilla
 * comment updated in place. The base URL is GITHUB_API_URL (GitHub Enterprise Server has its own;
 * tests point it at a local receiver). The token goes only to that origin: no redirects are
 * followed and pages are asked for by number, never through links the answer supplies.
 */
import { defaultMasker } from "../core/mask.ts";
import { FlotillaError } from "../core/problems.ts";

export interface IssueComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string; type?: string } | null;
}

export interface GithubApiOptions {
  /** GITHUB_API_URL, e.g. https://api.github.com or https://ghe.example.com/api/v3. */
  baseUrl: string;
  token: string;
  /** owner/name (GITHUB_REPOSITORY). */
  repository: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const PER_PAGE = 100;
/** 5,000 comments: a pull request with more is not worth reading to the end. */
const MAX_PAGES = 50;

export class GithubApi {
  private readonly base: URL;
  private readonly repo: string;
  private readonly fetchImpl: typeof fetch;
  private readonly options: GithubApiOptions;

  constructor(options: GithubApiOptions) {
    this.options = options;
    let base: URL;
    try {
      base = new URL(options.baseUrl.replace(/\/+$/, "") + "/");
    } catch {
      throw apiError(`GITHUB_API_URL is not a URL: ${options.baseUrl}`);
    }
    if (base.protocol !== "https:" && base.protocol !== "http:") throw apiError(`GITHUB_API_URL must be an http(s) URL, not ${base.protocol}`);
    this.base = base;
    const [owner, name, ...rest] = options.repository.split("/");
    if (!owner || !name || rest.length || !/^[A-Za-z0-9_.-]+$/.test(owner) || !/^[A-Za-z0-9_.-]+$/.test(name)) throw apiError(`GITHUB_REPOSITORY is not owner/name: ${options.repository}`);
    this.repo = `repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async listIssueComments(issue: number): Promise<IssueComment[]> {
    const all: IssueComment[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const batch = (await this.request("GET", `${this.repo}/issues/${issue}/comments?per_page=${PER_PAGE}&page=${page}`)) as IssueComment[];
      if (!Array.isArray(batch)) throw apiError("listing the pull request's comments returned something other than a list");
      all.push(...batch);
      if (batch.length < PER_PAGE) break;
    }
    return all;
  }

  async createIssueComment(issue: number, body: string): Promise<IssueComment> {
    return (await this.request("POST", `${this.repo}/issues/${issue}/comments`, { body })) as IssueComment;
  }

  async updateIssueComment(id: number, body: string): Promise<IssueComment> {
    return (await this.request("PATCH", `${this.repo}/issues/comments/${id}`, { body })) as IssueComment;
  }

  private async request(method: string, route: string, body?: unknown): Promise<unknown> {
    const url = new URL(route, this.base);
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        redirect: "error",
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        headers: {
          Accept: "application/vnd.github+json",
          Authorization: `Bearer ${this.options.token}`,
          "X-GitHub-Api-Version": "2022-11-28",
          "User-Agent": "flotilla-action",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw apiError(`${method} ${url.pathname} failed: ${this.clean((e as Error).message)}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: the start of the body says enough
      }
      const hint = response.status === 403 || response.status === 404 ? "the job needs `permissions: pull-requests: write`; a pull request from a fork gets a read-only token" : undefined;
      throw apiError(`${method} ${url.pathname} answered ${response.status}: ${this.clean(message)}`, hint);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw apiError(`${method} ${url.pathname} answered with something that is not JSON`);
    }
  }

  /** Never let the token through, whatever an error message quotes. */
  private clean(s: string): string {
    return defaultMasker.text(this.options.token ? s.split(this.options.token).join("****") : s);
  }
}

function apiError(message: string, hint?: string): FlotillaError {
  return new FlotillaError({ code: "FLT-GITHUB-API", severity: "warning", message, ...(hint ? { hint } : {}) });
}
