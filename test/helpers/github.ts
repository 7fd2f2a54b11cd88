/**
 * What a GitHub Actions runner does with a step's output, and a stand-in for GitHub's REST API,
 * for tests of `--output github` and the Action.
 *
 * `runnerCommands` reads output the way the runner does (actions/runner, ActionCommandManager):
 * lines end at \n, \r or \r\n; a line whose first non-blank characters are `::` is a command
 * (`::name k=v,k=v::data`), and so is `##[name k=v;k=v]data` anywhere in a line (the legacy form);
 * only registered names count, and `stop-commands` pauses them until its token comes back.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseOutputs } from "../../src/cli/github.ts";
import { TestRepo } from "./git-repo.ts";

export interface RunnerCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

const REGISTERED = ["error", "warning", "notice", "debug", "group", "endgroup", "set-env", "set-output", "save-state", "add-path", "add-mask", "add-matcher", "remove-matcher", "echo", "stop-commands", "internal-set-repo-path"];
// .NET's Char.IsWhiteSpace: what the runner trims before looking for `::`.
const DOTNET_SPACE = /^[\p{Zs}\p{Zl}\p{Zp}\t\n\v\f\r\u0085]*/u;

const unescapeData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%25/g, "%");
const unescapeLegacy = (s: string) => s.replace(/%3B/g, ";").replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%5D/g, "]").replace(/%25/g, "%");

function parseV2(line: string, names: Set<string>): RunnerCommand | undefined {
  const m = line.replace(DOTNET_SPACE, "");
  if (!m.startsWith("::")) return undefined;
  const end = m.indexOf("::", 2);
  if (end < 0) return undefined;
  const info = m.slice(2, end);
  const space = info.indexOf(" ");
  const name = space < 0 ? info : info.slice(0, space);
  if (!names.has(name.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info.slice(space + 1).trim().split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq > 0 && eq < pair.length - 1) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
  }
  return { name, properties, data: unescapeData(m.slice(end + 2)) };
}

function parseV1(line: string, names: Set<string>): RunnerCommand | undefined {
  const start = line.indexOf("##[");
  if (start < 0) return undefined;
  const close = line.indexOf("]", start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(" ");
  const name = space < 0 ? info : info.slice(0, space);
  if (!names.has(name.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info.slice(space + 1).split(";").filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq > 0 && eq < pair.length - 1) properties[pair.slice(0, eq)] = unescapeLegacy(pair.slice(eq + 1));
    }
  }
  return { name, properties, data: unescapeLegacy(line.slice(close + 1)) };
}

/** Every command the runner would act on in this output (stdout and stderr alike). */
export function runnerCommands(output: string): RunnerCommand[] {
  const names = new Set(REGISTERED);
  const found: RunnerCommand[] = [];
  let stopToken: string | undefined;
  for (const line of output.split(/\r\n|\r|\n/)) {
    const c = parseV2(line, names) ?? parseV1(line, names);
    if (!c) continue;
    if (stopToken !== undefined) {
      if (c.name.toLowerCase() === stopToken.toLowerCase()) {
        names.delete(stopToken.toLowerCase());
        stopToken = undefined;
      }
      continue;
    }
    if (c.name === "stop-commands") {
      stopToken = c.data;
      names.add(c.data.toLowerCase());
    }
    found.push(c);
  }
  return found;
}

/** Annotations as [command, file, line, col, title] for compact assertions. */
export function annotationsOf(output: string): string[][] {
  return runnerCommands(output)
    .filter((c) => c.name === "error" || c.name === "warning" || c.name === "notice")
    .map((c) => [c.name, c.properties["file"] ?? "", c.properties["line"] ?? "", c.properties["col"] ?? "", c.properties["title"] ?? ""]);
}

export interface ReceivedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

export interface StoredComment {
  id: number;
  body: string;
  user: { login: string; type: string };
  html_url: string;
}

/**
 * GitHub's issue-comments API for one repository on loopback: list (paginated by page number),
 * create and update, with an optional forced status for every request.
 */
export class GithubReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly comments: StoredComment[] = [];
  /** Answer every request with this status (a token without the permission: 403). */
  failWith: number | undefined;
  /** Login of the token's user, as GitHub sets it on comments the token writes. */
  login = "github-actions[bot]";
  private server: Server | undefined;
  private nextId = 1000;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(([status, body]) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A comment someone else wrote, e.g. one that copies Flotilla's marker. */
  addComment(body: string, login: string, type = "User"): StoredComment {
    const c = { id: this.nextId++, body, user: { login, type }, html_url: `https://github.invalid/acme/deploy/pull/7#issuecomment-${this.nextId}` };
    this.comments.push(c);
    return c;
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    let raw = "";
    for await (const chunk of req) raw += (chunk as Buffer).toString();
    const body = raw ? (JSON.parse(raw) as unknown) : undefined;
    this.requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, body });
    if (this.failWith) return [this.failWith, { message: "Resource not accessible by integration" }];
    const url = new URL(req.url ?? "/", "http://x");
    const list = /^\/repos\/acme\/deploy\/issues\/(\d+)\/comments$/.exec(url.pathname);
    const one = /^\/repos\/acme\/deploy\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (list && req.method === "GET") {
      const per = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      return [200, this.comments.slice((page - 1) * per, page * per)];
    }
    if (list && req.method === "POST") return [201, this.addComment((body as { body: string }).body, this.login, "Bot")];
    if (one && req.method === "PATCH") {
      const c = this.comments.find((x) => x.id === Number(one[1]));
      if (!c) return [404, { message: "Not Found" }];
      c.body = (body as { body: string }).body;
      return [200, c];
    }
    return [404, { message: "Not Found" }];
  }
}

/** The files a runner gives a step ($GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT, the event), in a temporary folder. */
export class RunnerFiles {
  readonly dir = mkdtempSync(path.join(tmpdir(), "flotilla-runner-"));
  readonly summary = path.join(this.dir, "summary.md");
  readonly output = path.join(this.dir, "output");
  readonly event = path.join(this.dir, "event.json");

  constructor() {
    this.reset();
  }

  /** A new step: empty summary and outputs. */
  reset(): this {
    writeFileSync(this.summary, "");
    writeFileSync(this.output, "");
    return this;
  }

  pullRequest(base: string, head: string, number = 7): this {
    writeFileSync(this.event, JSON.stringify({ action: "synchronize", number, pull_request: { number, base: { sha: base, ref: "main" }, head: { sha: head, ref: "feature" } } }));
    return this;
  }

  push(before: string, after: string): this {
    writeFileSync(this.event, JSON.stringify({ ref: "refs/heads/main", before, after }));
    return this;
  }

  readSummary(): string {
    return readFileSync(this.summary, "utf8");
  }

  readOutputs(): Record<string, string> {
    return Object.fromEntries(parseOutputs(readFileSync(this.output, "utf8")));
  }

  /** GITHUB_* variables of a step in `workspace`, for `eventName` ("pull_request", "push", ...). */
  env(workspace: string, eventName = "pull_request"): NodeJS.ProcessEnv {
    return {
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: this.event,
      GITHUB_STEP_SUMMARY: this.summary,
      GITHUB_OUTPUT: this.output,
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: "acme/deploy",
      GITHUB_SERVER_URL: "https://github.invalid",
      GITHUB_RUN_ID: "4242",
      GITHUB_SHA: "0".repeat(40),
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const svcdef = (name: string, over: Record<string, unknown> = {}) => ({
  cluster: "apps",
  serviceName: name,
  desiredCount: 1,
  launchType: "EC2",
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  ...over,
});
export const taskdef = (family: string, image: string, over: Record<string, unknown> = {}) => ({
  family,
  containerDefinitions: [{ name: "app", image, memory: 128, environment: [{ name: "DB_PASSWORD", value: "hunter2-do-not-print" }], ...over }],
});

const made: { cleanup(): void }[] = [];

/** Remove every repository and runner folder made here (call from `after`). */
export function cleanupGithubFixtures(): void {
  for (const x of made.splice(0)) x.cleanup();
}

/** A repository, removed by cleanupGithubFixtures. */
export function tempRepo(prefix = "flotilla-test-"): TestRepo {
  const repo = new TestRepo(prefix);
  made.push(repo);
  return repo;
}

/** Runner files, removed by cleanupGithubFixtures. */
export function tempRunner(): RunnerFiles {
  const runner = new RunnerFiles();
  made.push(runner);
  return runner;
}

/**
 * A repository whose Flotilla tree is the sub-path `deploy/`, with two valid objects on main
 * (`web/web`, `api/api`) and a branch `feature` one commit ahead (`change` writes its files), and
 * the runner files of a pull_request run for it.
 */
export function pullRequestRepo(change: (repo: TestRepo) => void): { repo: TestRepo; base: string; head: string; runner: RunnerFiles } {
  const repo = tempRepo("flotilla-pr-");
  repo.write({
    "README.md": "the app\n",
    "deploy/web/web_svcdef.json": svcdef("web"),
    "deploy/web/web_taskdef.json": taskdef("web", "nginx@sha256:" + "a".repeat(64)),
    "deploy/api/api_svcdef.json": svcdef("api"),
    "deploy/api/api_taskdef.json": taskdef("api", "nginx@sha256:" + "b".repeat(64)),
  });
  const base = repo.commit("base");
  repo.git("checkout", "-q", "-b", "feature");
  change(repo);
  const head = repo.commit("the pull request");
  return { repo, base, head, runner: tempRunner().pullRequest(base, head) };
}

/** 1-based line and column of the first occurrence of `needle` in a file. */
export function position(file: string, needle: string): { line: number; col: number } {
  const lines = readFileSync(file, "utf8").split("\n");
  const line = lines.findIndex((l) => l.includes(needle));
  if (line < 0) throw new Error(`${needle} is not in ${file}`);
  return { line: line + 1, col: lines[line]!.indexOf(needle) + 1 };
}
