/**
 * Commit statuses on GitHub: posted to a receiver on loopback standing in for the API, with the
 * configured token, retried with backoff on the virtual clock, the newest status of a commit
 * winning; where they go and with which token only from the server configuration.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { finalCommitStatus, GithubStatusReporter, type GithubStatusOptions } from "../../src/controller/commit-status.ts";
import type { Connector, EgressRequest } from "../../src/controller/egress.ts";
import { parseServerConfig, ServerConfigError, type GithubStatusConfig } from "../../src/controller/server-config.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import type { Repository } from "../../src/store/types.ts";
import { receiver, type Receiver } from "../helpers/receiver.ts";

const TOKEN = "ghs_statusToken0123456789abcdef";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function api(answer?: Parameters<typeof receiver>[0]): Promise<Receiver> {
  const r = await receiver(answer);
  closers.push(() => r.close());
  return r;
}

function repo(over: Partial<Repository> = {}): Repository {
  return { name: "apps", url: "/srv/git/apps.git", branch: "main", path: null, pollIntervalSeconds: 60, credentials: null, createdAt: 0, updatedAt: 0, ...over };
}

function reporter(apiUrl: string, over: Partial<GithubStatusOptions> & { warnings?: string[]; codes?: string[] } = {}) {
  const config: GithubStatusConfig = { apiUrl, credential: "github-status", context: "flotilla", repositories: { apps: "octo/apps" }, host: "github.com" };
  const warnings = over.warnings ?? [];
  const codes = over.codes ?? [];
  return new GithubStatusReporter({
    clock: new VirtualClock({ autoAdvance: true }),
    config,
    credential: { type: "token-env", env: "GH_STATUS_TOKEN", username: "x-access-token", hosts: ["127.0.0.1"] },
    publicUrl: "https://flotilla.example.com",
    env: { GH_STATUS_TOKEN: TOKEN },
    onWarning: (m, code) => {
      warnings.push(m);
      codes.push(code);
    },
    ...over,
  });
}

const bodies = (r: Receiver) => r.got.map((g) => JSON.parse(g.body) as Record<string, string>);

describe("commit statuses", () => {
  it("posts pending, then the result, to the repository's statuses with the configured token and a link to the dashboard", async () => {
    const gh = await api((_req, res) => res.writeHead(201).end("{}"));
    const r = reporter(gh.url);
    r.report(repo(), SHA, { state: "pending", description: "deploying 2 objects" });
    await r.drain();
    r.report(repo(), SHA, { state: "success", description: "deployed 1 object", deploymentId: "01JDEPLOY" });
    await r.drain();
    assert.deepEqual(
      gh.got.map((g) => [g.method, g.path, g.headers.authorization]),
      [
        ["POST", `/repos/octo/apps/statuses/${SHA}`, `Bearer ${TOKEN}`],
        ["POST", `/repos/octo/apps/statuses/${SHA}`, `Bearer ${TOKEN}`],
      ],
    );
    assert.deepEqual(bodies(gh), [
      { state: "pending", description: "deploying 2 objects", context: "flotilla", target_url: `https://flotilla.example.com/repositories/apps/commits/${SHA}` },
      { state: "success", description: "deployed 1 object", context: "flotilla", target_url: "https://flotilla.example.com/deployments/01JDEPLOY" },
    ]);
    assert.equal(gh.got[0]!.headers["x-github-api-version"], "2022-11-28");
  });

  it("retries 5xx, 429 and 403 (rate limits) with backoff, then gives up with FLT-STATUS-FAILED and no token in the message", async () => {
    const gh = await api((_req, res, n) => res.writeHead(n === 1 ? 502 : n === 2 ? 429 : 403).end(`token ${TOKEN}`));
    const clock = new VirtualClock({ autoAdvance: true });
    const warnings: string[] = [];
    const codes: string[] = [];
    const r = reporter(gh.url, { clock, warnings, codes, attempts: 4 });
    const start = clock.now();
    r.report(repo(), SHA, { state: "success", description: "deployed" });
    await r.drain();
    assert.equal(gh.got.length, 4);
    assert.ok(clock.now() - start >= 1000 + 2000 + 4000, "waited 1 s, 2 s, 4 s between attempts");
    assert.deepEqual(codes, ["FLT-STATUS-FAILED"]);
    assert.match(warnings[0]!, /HTTP 403/);
    assert.ok(!warnings.join("\n").includes(TOKEN));
  });

  it("a refusal (422, 404) is not retried", async () => {
    const gh = await api((_req, res) => res.writeHead(422).end());
    const codes: string[] = [];
    const r = reporter(gh.url, { codes });
    r.report(repo(), SHA, { state: "success", description: "deployed" });
    await r.drain();
    assert.equal(gh.got.length, 1);
    assert.deepEqual(codes, ["FLT-STATUS-FAILED"]);
  });

  it("a status reported while an older one is being retried replaces it: the last one to arrive is the newest", async () => {
    let failing = true;
    const gh = await api((_req, res) => res.writeHead(failing ? 503 : 201).end());
    const clock = new VirtualClock();
    const r = reporter(gh.url, { clock });
    r.report(repo(), SHA, { state: "pending", description: "deploying" });
    while (gh.got.length < 1) await new Promise((res) => setTimeout(res, 5));
    r.report(repo(), SHA, { state: "failure", description: "web RolledBack" });
    failing = false;
    await clock.runAll();
    await r.drain();
    assert.deepEqual(bodies(gh).map((b) => b.state), ["pending", "failure"], "the pending was not retried after the failure arrived");
  });

  it("never blocks the caller: report returns while the API has not answered", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const gh = await api((_req, res) => void held.then(() => res.writeHead(201).end()));
    const r = reporter(gh.url);
    r.report(repo(), SHA, { state: "pending", description: "deploying" });
    while (gh.got.length < 1) await new Promise((res) => setTimeout(res, 5));
    release();
    await r.drain();
    assert.equal(gh.got.length, 1);
  });

  it("an unreadable token posts nothing (FLT-STATUS-TOKEN) and connects nowhere", async () => {
    const calls: EgressRequest[] = [];
    const connect: Connector = (req) => (calls.push(req), Promise.resolve({ status: 201 }));
    const codes: string[] = [];
    const r = reporter("https://api.github.com", { env: {}, connect, codes, resolve: () => Promise.resolve([{ address: "140.82.112.6", family: 4 }]) });
    r.report(repo(), SHA, { state: "success", description: "deployed" });
    await r.drain();
    assert.equal(calls.length, 0);
    assert.deepEqual(codes, ["FLT-STATUS-TOKEN"]);
  });

  it("which GitHub repository: the configured mapping, else the URL when it is on the API's host; others get no status", () => {
    const r = reporter("https://api.github.com");
    assert.equal(r.githubRepository(repo()), "octo/apps");
    assert.equal(r.githubRepository(repo({ name: "web", url: "https://github.com/Acme/Web.git" })), "acme/web");
    assert.equal(r.githubRepository(repo({ name: "web", url: "git@github.com:acme/web.git" })), "acme/web");
    assert.equal(r.githubRepository(repo({ name: "web", url: "https://gitlab.com/acme/web.git" })), undefined);
    assert.equal(r.githubRepository(repo({ name: "web", url: "/srv/git/web.git" })), undefined);
  });

  it("the result of a commit: success only when every deployment succeeded and no object was invalid", () => {
    const ok = { id: "d1", object: "apps/web/web", phase: "Succeeded" as const, reason: null };
    const outcome = (action: "deploy" | "invalid" | "delete-held") => ({ object: "o", action, reason: "", description: "", deploymentId: null });
    assert.deepEqual(finalCommitStatus({ objects: [] }, []), { state: "success", description: "nothing to deploy" });
    assert.deepEqual(finalCommitStatus({ objects: [outcome("deploy")] }, [ok]), { state: "success", description: "deployed 1 object", deploymentId: "d1" });
    assert.deepEqual(finalCommitStatus({ objects: [outcome("deploy"), outcome("invalid")] }, [ok]), { state: "failure", description: "deployed 1 object; 1 invalid object not deployed", deploymentId: "d1" });
    assert.deepEqual(finalCommitStatus({ objects: [outcome("delete-held")] }, []), { state: "success", description: "nothing to deploy; 1 delete held for an operator" });
    const bad = finalCommitStatus({ objects: [] }, [ok, { id: "d2", object: "apps/api/api", phase: "RolledBack", reason: "CircuitBreakerTripped" }]);
    assert.deepEqual(bad, { state: "failure", description: "apps/api/api RolledBack (CircuitBreakerTripped)" });
  });

  it("the result of a commit with a blocked object: failure, naming the first blocked object and the code that blocked it", () => {
    const ok = { id: "d1", object: "apps/web/web", phase: "Succeeded" as const, reason: null };
    const outcome = (object: string, action: "deploy" | "blocked") => ({ object, action, reason: "", description: "", deploymentId: null });
    const problems = [
      { code: "FLT-PLAN-NOT-CHECKED" as const, severity: "warning" as const, object: "apps/api/api", message: "" },
      { code: "FLT-PLAN-TARGET-GROUP-MISSING" as const, severity: "error" as const, object: "apps/api/api", message: "" },
    ];
    assert.deepEqual(finalCommitStatus({ objects: [outcome("apps/web/web", "deploy"), outcome("apps/api/api", "blocked")], problems }, [ok]), { state: "failure", description: "deployed 1 object; apps/api/api blocked (FLT-PLAN-TARGET-GROUP-MISSING), not deployed", deploymentId: "d1" });
    assert.deepEqual(finalCommitStatus({ objects: [outcome("apps/api/api", "blocked"), outcome("apps/db/db", "blocked")], problems }, []), { state: "failure", description: "apps/api/api blocked (FLT-PLAN-TARGET-GROUP-MISSING) and 1 more, not deployed" });
  });
});

describe("commit statuses in the server configuration", () => {
  const parse = (text: string) => parseServerConfig(text, { file: "flotilla.yaml", baseDir: "/etc/flotilla" });
  const refused = (text: string): string => {
    try {
      parse(text);
    } catch (e) {
      assert.ok(e instanceof ServerConfigError, String(e));
      return e.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    }
    return assert.fail("accepted");
  };
  const credentials = (hosts: string) => `credentials:\n  gh:\n    type: token-env\n    env: GH_STATUS_TOKEN\n    hosts: [${hosts}]\n`;

  it("defaults to api.github.com, github.com repositories and the context flotilla", () => {
    const c = parse(`${credentials("api.github.com")}publicUrl: https://flotilla.example.com/\ngithub:\n  credential: gh\n`);
    assert.deepEqual(c.github, { apiUrl: "https://api.github.com", credential: "gh", context: "flotilla", repositories: {}, host: "github.com" });
    assert.equal(c.publicUrl, "https://flotilla.example.com");
  });

  it("a GitHub Enterprise Server API: its host is the repositories' host", () => {
    const c = parse(`${credentials("ghe.example.com")}github:\n  apiUrl: https://ghe.example.com/api/v3\n  credential: gh\n  repositories: { apps: platform/apps }\n`);
    assert.equal(c.github?.host, "ghe.example.com");
    assert.deepEqual(c.github?.repositories, { apps: "platform/apps" });
  });

  it("refuses plain http except to a loopback address, user info, and queries", () => {
    assert.match(refused(`${credentials("api.example.com")}github:\n  apiUrl: http://api.example.com\n  credential: gh\n`), /\$\.github\.apiUrl: must be https/);
    assert.match(refused(`${credentials("10.0.0.5")}github:\n  apiUrl: http://10.0.0.5/api/v3\n  credential: gh\n`), /must be https/);
    assert.match(refused(`${credentials("api.example.com")}github:\n  apiUrl: https://user:pw@api.example.com\n  credential: gh\n`), /user info/);
    assert.match(refused(`${credentials("api.example.com")}github:\n  apiUrl: ftp://api.example.com\n  credential: gh\n`), /scheme/);
    assert.equal(parse(`${credentials("127.0.0.1")}github:\n  apiUrl: http://127.0.0.1:8999\n  credential: gh\n`).github?.apiUrl, "http://127.0.0.1:8999");
  });

  it("the credential must exist, be a token and be bound to the API's host", () => {
    assert.match(refused(`github:\n  credential: gh\n`), /\$\.github\.credential: no credential named "gh"/);
    assert.match(refused(`${credentials("github.com")}github:\n  credential: gh\n`), /not bound to api\.github\.com/);
    assert.match(refused(`credentials:\n  gh:\n    type: ssh-key\n    file: /k\n    hosts: [api.github.com]\ngithub:\n  credential: gh\n`), /need a token/);
    assert.match(refused(`${credentials("api.github.com")}github:\n  credential: gh\n  repositories: { apps: "not a repo" }\n`), /owner\/name/);
  });
});
