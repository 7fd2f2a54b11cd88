import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gitArgs, gitAuth, Mirror, mirrorPath, redact, remoteGit, safeName, type MirrorRepository } from "../../src/controller/mirror.ts";
import { gitEnvironment } from "../../src/git/run.ts";
import type { NamedCredential, RepositoryPolicy } from "../../src/controller/server-config.ts";
import { GitHttpServer, RecordingServer, TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
function remote(): TestRemote {
  const r = new TestRemote();
  cleanups.push(() => r.cleanup());
  return r;
}
const TOKEN = "ghp_s3cretTokenValue0123456789";

describe("mirrors: one bare mirror per repository, cloned once, fetched after", () => {
  it("given a registered local repository, when synced the first time, then a bare mirror is cloned under the data directory", async () => {
    const r = remote();
    const sha = r.push(rollingObject("dev/web/web", "web"));
    const dataDir = tempDir();
    const m = new Mirror({ name: "team/apps", url: r.bare, credentials: null }, { dataDir, policy: TEST_POLICY });
    const result = await m.sync();
    assert.equal(result.created, true);
    assert.equal(result.gitDir, mirrorPath(dataDir, "team/apps"));
    assert.ok(result.gitDir.startsWith(path.join(dataDir, "mirrors")));
    assert.equal(execFileSync("git", ["rev-parse", "--is-bare-repository"], { cwd: result.gitDir, encoding: "utf8" }).trim(), "true");
    assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: result.gitDir, encoding: "utf8" }).trim(), sha);
  });

  it("given an existing mirror, when synced again, then it fetches (never re-clones) and prunes deleted branches", async () => {
    const r = remote();
    r.push(rollingObject("a/a", "a"));
    r.push({ "x.txt": "feature" }, "feature", "feature");
    const m = new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir: tempDir(), policy: TEST_POLICY });
    await m.sync();
    const marker = path.join(m.gitDir, "flotilla-marker");
    writeFileSync(marker, "kept");
    const sha2 = r.push({ "b.txt": "2" }, "second");
    r.work.git("push", "-q", "origin", "--delete", "feature");
    const again = await m.sync();
    assert.equal(again.created, false);
    assert.equal(readFileSync(marker, "utf8"), "kept", "the mirror directory was not replaced");
    assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), sha2);
    assert.throws(() => execFileSync("git", ["rev-parse", "--verify", "--quiet", "refs/heads/feature"], { cwd: m.gitDir, stdio: "pipe" }));
  });

  it("mirrors every branch and tag, but not the host's pull-request refs", async () => {
    const r = remote();
    const sha = r.push({ "a.txt": "a" });
    r.push({ "b.txt": "b" }, "other branch", "release");
    r.work.git("tag", "v1", sha);
    r.work.git("push", "-q", "origin", "v1", `${sha}:refs/pull/1/head`);
    const m = new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir: tempDir(), policy: TEST_POLICY });
    await m.sync();
    const refs = execFileSync("git", ["for-each-ref", "--format=%(refname)"], { cwd: m.gitDir, encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(refs.sort(), ["refs/heads/main", "refs/heads/release", "refs/tags/v1"]);
  });

  it("given a repository whose URL changed, when synced, then the mirror follows the new URL", async () => {
    const a = remote();
    a.push({ "a.txt": "a" });
    const b = remote();
    const shaB = b.push({ "b.txt": "b" });
    const m = new Mirror({ name: "apps", url: a.bare, credentials: null }, { dataDir: tempDir(), policy: TEST_POLICY });
    await m.sync();
    m.repository = { name: "apps", url: b.bare, credentials: null };
    assert.equal((await m.sync()).created, false);
    assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), shaB);
  });

  it("given an unreachable repository, when synced, then FLT-GIT-FETCH-FAILED and no half-made mirror is left", async () => {
    const dataDir = tempDir();
    const m = new Mirror({ name: "apps", url: path.join(dataDir, "nope.git"), credentials: null }, { dataDir, policy: TEST_POLICY });
    await assert.rejects(m.sync(), (e: { code?: string }) => e.code === "FLT-GIT-FETCH-FAILED");
    assert.equal(existsSync(m.gitDir), false);
    assert.equal(existsSync(`${m.gitDir}.partial`), false);
  });

  it("names mirrors safely and distinctly", () => {
    assert.match(safeName("team/apps"), /^team_apps-[0-9a-f]{8}$/);
    assert.notEqual(safeName("a/b"), safeName("a_b"));
    assert.doesNotMatch(safeName("../../etc"), /\//);
    assert.ok(!safeName("..").startsWith("."));
  });

  it("redacts user info in URLs and known secrets", () => {
    assert.equal(redact("fatal: could not read from https://user:pw@github.com/o/r.git"), "fatal: could not read from https://***@github.com/o/r.git");
    assert.equal(redact("ssh://git@host/r and token abcdefgh", ["abcdefgh"]), "ssh://***@host/r and token ***");
  });
});

/** A policy for HTTP remotes on 127.0.0.1 with the given named credentials. */
function httpPolicy(credentials: Record<string, NamedCredential>): RepositoryPolicy {
  return { allowHttp: true, allowedLocalRoots: [tmpdir()], credentials };
}
/** Host and port of a base URL, as a credential binding. */
const hostOf = (base: string) => new URL(base).host;
/** An environment without the host's git configuration. */
const cleanEnv = (extra: Record<string, string> = {}) => ({ ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...extra });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** A `git` wrapper first on PATH that logs every argv: proves which git commands ran (or that none did). */
function gitSpy(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = tempDir();
  const log = path.join(bin, "argv.log");
  const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  writeFileSync(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(path.join(bin, "git"), 0o755);
  return { env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` }, calls: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

describe("credentials: only named ones from the server configuration, only to their hosts", () => {
  const github: NamedCredential = { type: "token-env", env: "GIT_TOKEN", username: "x-access-token", hosts: ["github.com"] };

  it("given a token credential, then git gets an Authorization header scoped to the repository's origin, in its environment only", async () => {
    const auth = await gitAuth({ url: "https://github.com/o/r.git", credentials: "github" }, httpPolicy({ github }), { GIT_TOKEN: TOKEN });
    const argv = gitArgs(auth, ["fetch", "origin"]);
    assert.ok(!JSON.stringify(argv).includes(TOKEN) && !JSON.stringify(argv).includes(Buffer.from(`x-access-token:${TOKEN}`).toString("base64")), "neither the token nor its header is in argv");
    assert.equal(auth.env["GIT_CONFIG_KEY_0"], "http.https://github.com/.extraHeader");
    assert.equal(auth.env["GIT_CONFIG_VALUE_0"], `Authorization: ${basic("x-access-token", TOKEN)}`);
    assert.equal(auth.env["GIT_TERMINAL_PROMPT"], "0");
    assert.deepEqual(argv.slice(0, 10), ["-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "credential.helper=", "-c", "http.followRedirects=false", "-c", "core.hooksPath=/dev/null"]);
    assert.equal(auth.env["GIT_ALLOW_PROTOCOL"], "https");
    assert.equal(auth.env["GIT_PROTOCOL_FROM_USER"], "0");
    assert.ok(auth.secrets.includes(TOKEN));
  });

  it("given a token credential whose variable is unset or whose file is missing, then FLT-GIT-CREDENTIALS names the variable or file", async () => {
    await assert.rejects(gitAuth({ url: "https://github.com/o/r.git", credentials: "github" }, httpPolicy({ github }), {}), (e: { code?: string; message: string }) => e.code === "FLT-GIT-CREDENTIALS" && e.message.includes("GIT_TOKEN"));
    const missing = path.join(tempDir(), "missing");
    await assert.rejects(
      gitAuth({ url: "https://github.com/o/r.git", credentials: "f" }, httpPolicy({ f: { type: "token-file", file: missing, username: "u", hosts: ["github.com"] } }), {}),
      (e: { code?: string; message: string }) => e.code === "FLT-GIT-CREDENTIALS" && e.message.includes(missing),
    );
  });

  it("given an SSH key credential, then ssh uses that key only, no agent, and the pinned known hosts when given", async () => {
    const dir = tempDir();
    const key = path.join(dir, "id it's");
    const known = path.join(dir, "known_hosts");
    writeFileSync(key, "not a real key");
    writeFileSync(known, "");
    const policy = httpPolicy({ deploy: { type: "ssh-key", file: key, hosts: ["github.com"] }, pinned: { type: "ssh-key", file: key, knownHosts: known, hosts: ["github.com"] } });
    const auth = await gitAuth({ url: "git@github.com:o/r.git", credentials: "deploy" }, policy, {});
    const quoted = `'${key.replace("'", "'\\''")}'`;
    assert.equal(auth.env["GIT_SSH_COMMAND"], `ssh -o BatchMode=yes -o ForwardAgent=no -o IdentityAgent=none -i ${quoted} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new`);
    const pinned = await gitAuth({ url: "ssh://git@github.com/o/r.git", credentials: "pinned" }, policy, {});
    assert.match(pinned.env["GIT_SSH_COMMAND"]!, new RegExp(`UserKnownHostsFile='${known}' -o StrictHostKeyChecking=yes$`));
    assert.equal(pinned.env["GIT_ALLOW_PROTOCOL"], "ssh");
    const gone = httpPolicy({ deploy: { type: "ssh-key", file: path.join(dir, "missing"), hosts: ["github.com"] } });
    await assert.rejects(gitAuth({ url: "git@github.com:o/r.git", credentials: "deploy" }, gone, {}), (e: { code?: string }) => e.code === "FLT-GIT-CREDENTIALS");
  });

  it("given no credential, then ssh offers no key at all (not the server's own keys or agent)", async () => {
    const auth = await gitAuth({ url: "git@github.com:o/r.git", credentials: null }, TEST_POLICY, {});
    assert.match(auth.env["GIT_SSH_COMMAND"]!, /-o IdentityAgent=none .*-o PubkeyAuthentication=no/);
    assert.equal(gitEnvironment({ SSH_AUTH_SOCK: "/tmp/agent", GIT_SSH_COMMAND: "evil", GIT_TRACE_CURL: "1", GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/home/x" }, auth.env)["SSH_AUTH_SOCK"], undefined);
    const env = gitEnvironment({ SSH_AUTH_SOCK: "/tmp/agent", GIT_SSH_COMMAND: "evil", GIT_TRACE_CURL: "1", GIT_DIR: "/etc", GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/home/x" }, {});
    assert.deepEqual(env, { GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/home/x" }, "inherited GIT_* settings that change what git does or prints are dropped");
  });

  it("given a helper credential, then git runs that helper by name, for the repository's origin only", async () => {
    const auth = await gitAuth({ url: "https://git.example.com/o/r.git", credentials: "vault" }, httpPolicy({ vault: { type: "helper", helper: "vault", hosts: ["git.example.com"] } }), {});
    assert.deepEqual(gitArgs(auth, ["fetch"]).slice(-3), ["-c", "credential.https://git.example.com.helper=vault", "fetch"]);
  });

  it("given a server that demands a token, when the mirror syncs with the bound token credential, then it authenticates; a wrong token fails fast with FLT-GIT-AUTH and no secret; no askpass program runs", async () => {
    const r = remote();
    const sha = r.push(rollingObject("a/a", "a"));
    const server = new GitHttpServer(path.dirname(r.bare), TOKEN);
    const base = await server.start();
    try {
      const url = `${base}/origin.git`;
      const policy = httpPolicy({ repo: { type: "token-env", env: "REPO_TOKEN", username: "x-access-token", hosts: [hostOf(base)] } });
      const env = cleanEnv({ REPO_TOKEN: TOKEN });
      const m = new Mirror({ name: "apps", url, credentials: "repo" }, { dataDir: tempDir(), env, policy });
      assert.equal((await m.sync()).created, true);
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), sha);
      const sha2 = r.push({ "b.txt": "b" });
      await m.sync();
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), sha2);
      assert.ok(server.seen.includes(basic("x-access-token", TOKEN)));

      const wrong = new Mirror({ name: "other", url, credentials: "repo" }, { dataDir: tempDir(), env: { ...env, REPO_TOKEN: "wrong-token-value" }, policy });
      await assert.rejects(wrong.sync(), (e: { code?: string; message: string }) => e.code === "FLT-GIT-AUTH" && !e.message.includes("wrong-token-value"));
      // A host askpass program must never be asked (it could hang on a GUI prompt).
      const bin = tempDir();
      const marker = path.join(bin, "asked");
      writeFileSync(path.join(bin, "askpass"), `#!/bin/sh\ntouch '${marker}'\necho nope\n`);
      chmodSync(path.join(bin, "askpass"), 0o755);
      const none = new Mirror({ name: "none", url, credentials: null }, { dataDir: tempDir(), env: { ...env, GIT_ASKPASS: path.join(bin, "askpass"), SSH_ASKPASS: path.join(bin, "askpass") }, policy });
      await assert.rejects(none.sync(), (e: { code?: string }) => e.code === "FLT-GIT-AUTH");
      assert.equal(existsSync(marker), false, "no askpass program was run");
    } finally {
      await server.stop();
    }
  });

  it("given a token file or a named credential helper, when the mirror syncs over HTTP, then git authenticates with them", async () => {
    const r = remote();
    const sha = r.push({ "a.txt": "a" });
    const server = new GitHttpServer(path.dirname(r.bare), TOKEN);
    const base = await server.start();
    try {
      const url = `${base}/origin.git`;
      const dir = tempDir();
      const tokenFile = path.join(dir, "token");
      writeFileSync(tokenFile, TOKEN + "\n", { mode: 0o600 });
      // git runs git-credential-<name> from PATH.
      writeFileSync(path.join(dir, "git-credential-flotillatest"), `#!/bin/sh\ntest "$1" = get || exit 0\ncat >/dev/null\necho username=robot\necho password=$(cat '${tokenFile}')\n`);
      chmodSync(path.join(dir, "git-credential-flotillatest"), 0o755);
      const env = cleanEnv({ PATH: `${dir}:${process.env["PATH"] ?? ""}` });
      const policy = httpPolicy({
        file: { type: "token-file", file: tokenFile, username: "x-access-token", hosts: [hostOf(base)] },
        helper: { type: "helper", helper: "flotillatest", hosts: [hostOf(base)] },
      });
      const viaFile = new Mirror({ name: "file", url, credentials: "file" }, { dataDir: tempDir(), env, policy });
      await viaFile.sync();
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: viaFile.gitDir, encoding: "utf8" }).trim(), sha);
      const viaHelper = new Mirror({ name: "helper", url, credentials: "helper" }, { dataDir: tempDir(), env, policy });
      await viaHelper.sync();
      assert.ok(server.seen.includes(basic("robot", TOKEN)));
    } finally {
      await server.stop();
    }
  });

  it("given a credential bound to one host, when a repository on another host names it, then the sync is refused before any request and that host receives nothing", async () => {
    const bound = new GitHttpServer(tempDir(), TOKEN);
    const other = new RecordingServer();
    const boundBase = await bound.start();
    const otherBase = await other.start();
    try {
      const policy = httpPolicy({
        token: { type: "token-env", env: "REPO_TOKEN", username: "x-access-token", hosts: [hostOf(boundBase)] },
        helper: { type: "helper", helper: "store", hosts: [hostOf(boundBase)] },
      });
      const env = cleanEnv({ REPO_TOKEN: TOKEN });
      for (const credentials of ["token", "helper"]) {
        // Another port of the same address, and the same port under another name, are other hosts.
        for (const url of [`${otherBase}/origin.git`, `${boundBase.replace("127.0.0.1", "localhost")}/origin.git`]) {
          const m = new Mirror({ name: "x", url, credentials }, { dataDir: tempDir(), env, policy });
          await assert.rejects(m.sync(), (e: { code?: string; message: string }) => e.code === "FLT-CREDENTIAL-HOST" && !e.message.includes(TOKEN));
        }
      }
      assert.deepEqual(other.requests, [], "the unbound host received no request at all");
      assert.deepEqual(bound.seen, []);
    } finally {
      await bound.stop();
      await other.stop();
    }
  });

  it("given the bound host redirects to another host, when the mirror syncs, then git does not follow and the other host receives nothing", async () => {
    const elsewhere = new RecordingServer();
    const elsewhereBase = await elsewhere.start();
    const redirecting = new RecordingServer({ redirectTo: elsewhereBase });
    const base = await redirecting.start();
    try {
      const policy = httpPolicy({ token: { type: "token-env", env: "REPO_TOKEN", username: "x-access-token", hosts: [hostOf(base)] } });
      const m = new Mirror({ name: "x", url: `${base}/origin.git`, credentials: "token" }, { dataDir: tempDir(), env: cleanEnv({ REPO_TOKEN: TOKEN }), policy });
      await assert.rejects(m.sync(), (e: { code?: string }) => e.code === "FLT-GIT-FETCH-FAILED" || e.code === "FLT-GIT-AUTH");
      assert.ok(redirecting.requests.length > 0, "the bound host was asked");
      assert.deepEqual(elsewhere.requests, [], "the redirect target received nothing");
    } finally {
      await redirecting.stop();
      await elsewhere.stop();
    }
  });

  it("given a repository stored with an old env:/file:/helper: reference, when it syncs, then FLT-CREDENTIAL-LEGACY: no variable or file is read, no command runs, no git runs", async () => {
    const listener = new RecordingServer();
    const base = await listener.start();
    const marker = path.join(tempDir(), "MARKER");
    const spy = gitSpy();
    try {
      const legacy: MirrorRepository["credentials"][] = [
        { kind: "helper", helper: `!touch ${marker}; echo` },
        { kind: "env", name: "FLOTILLA_ADMIN_TOKEN" },
        { kind: "file", path: "/etc/shadow" },
      ];
      for (const credentials of legacy) {
        const m = new Mirror({ name: "old", url: `${base}/r.git`, credentials }, { dataDir: tempDir(), env: { ...spy.env, FLOTILLA_ADMIN_TOKEN: "admin-secret-value-123456" }, policy: httpPolicy({}) });
        await assert.rejects(m.sync(), (e: { code?: string; hint?: string; problem: { hint?: string } }) => e.code === "FLT-CREDENTIAL-LEGACY" && /named credential/.test(e.problem.hint ?? ""));
      }
      assert.equal(existsSync(marker), false, "the helper command never ran");
      assert.deepEqual(listener.requests, []);
      assert.deepEqual(spy.calls(), [], "git was never started");
    } finally {
      await listener.stop();
    }
  });

  it("given a stored row with a forbidden URL (ext::, fd::, an option, http when not allowed, a path outside the roots), when it syncs, then FLT-REPO-URL-FORBIDDEN before git runs", async () => {
    const marker = path.join(tempDir(), "MARKER");
    const spy = gitSpy();
    // The allowed root and the outside folder are siblings, so "outside" holds wherever the checkout lives.
    const root = tempDir();
    const outside = tempDir();
    const policy: RepositoryPolicy = { ...TEST_POLICY, allowedLocalRoots: [root] };
    const urls = [`ext::sh -c touch% ${marker}`, "fd::3", `--upload-pack=touch ${marker}`, "-oProxyCommand=x", "http://127.0.0.1:1/r.git", outside, `file://${outside}`, "git://github.com/o/r.git", "ssh://-oProxyCommand=x/r"];
    for (const url of urls) {
      const m = new Mirror({ name: "bad", url, credentials: null }, { dataDir: tempDir(), env: spy.env, policy });
      await assert.rejects(m.sync(), (e: { code?: string }) => e.code === "FLT-REPO-URL-FORBIDDEN", url);
    }
    assert.deepEqual(spy.calls(), []);
    assert.equal(existsSync(marker), false);
  });

  it("given a local root that holds a symlink to a repository outside it, when it syncs, then it is refused", async () => {
    const r = remote();
    r.push({ "a.txt": "a" });
    const root = tempDir();
    const link = path.join(root, "linked.git");
    execFileSync("ln", ["-s", r.bare, link]);
    const policy: RepositoryPolicy = { allowHttp: false, allowedLocalRoots: [root], credentials: {} };
    await assert.rejects(new Mirror({ name: "l", url: link, credentials: null }, { dataDir: tempDir(), policy }).sync(), (e: { code?: string }) => e.code === "FLT-REPO-URL-FORBIDDEN");
    await assert.rejects(new Mirror({ name: "l", url: path.join(root, "..", path.basename(r.bare)), credentials: null }, { dataDir: tempDir(), policy }).sync(), (e: { code?: string }) => e.code === "FLT-REPO-URL-FORBIDDEN");
  });

  it("second wall: git itself refuses any protocol but the repository's own, even when the host's git configuration allows more", async () => {
    const dir = tempDir();
    const marker = path.join(dir, "MARKER");
    const global = path.join(dir, "gitconfig");
    writeFileSync(global, '[protocol "ext"]\n\tallow = always\n[protocol "file"]\n\tallow = always\n[protocol]\n\tallow = always\n');
    const r = remote();
    r.push({ "a.txt": "a" });
    const auth = await gitAuth({ url: "https://github.com/o/r.git", credentials: null }, TEST_POLICY, {});
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: global };
    await assert.rejects(remoteGit(["ls-remote", `ext::sh -c touch% ${marker}`], { auth, env, what: "ext" }), (e: { message: string }) => /not allowed/i.test(e.message));
    await assert.rejects(remoteGit(["ls-remote", r.bare], { auth, env, what: "file" }), (e: { message: string }) => /not allowed/i.test(e.message));
    assert.equal(existsSync(marker), false);
  });

  it("remoteGit reports failures with a code and redacted URLs", async () => {
    const auth = await gitAuth({ url: "https://github.com/o/r.git", credentials: null }, TEST_POLICY);
    await assert.rejects(remoteGit(["ls-remote", "https://user:pw@127.0.0.1:1/x.git"], { auth, what: "listing" }), (e: { code?: string; message: string }) => e.code === "FLT-GIT-FETCH-FAILED" && !e.message.includes("pw@"));
  });
});
