import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gitArgs, gitAuth, Mirror, mirrorPath, redact, runGit, safeName } from "../../src/controller/mirror.ts";
import { GitHttpServer, TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";

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
    const m = new Mirror({ name: "team/apps", url: r.bare, credentials: null }, { dataDir });
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
    const m = new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir: tempDir() });
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
    const m = new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir: tempDir() });
    await m.sync();
    const refs = execFileSync("git", ["for-each-ref", "--format=%(refname)"], { cwd: m.gitDir, encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(refs.sort(), ["refs/heads/main", "refs/heads/release", "refs/tags/v1"]);
  });

  it("given a repository whose URL changed, when synced, then the mirror follows the new URL", async () => {
    const a = remote();
    a.push({ "a.txt": "a" });
    const b = remote();
    const shaB = b.push({ "b.txt": "b" });
    const m = new Mirror({ name: "apps", url: a.bare, credentials: null }, { dataDir: tempDir() });
    await m.sync();
    m.repository = { name: "apps", url: b.bare, credentials: null };
    assert.equal((await m.sync()).created, false);
    assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), shaB);
  });

  it("given an unreachable repository, when synced, then FLT-GIT-FETCH-FAILED and no half-made mirror is left", async () => {
    const dataDir = tempDir();
    const m = new Mirror({ name: "apps", url: path.join(dataDir, "nope.git"), credentials: null }, { dataDir });
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

describe("credentials through git's own mechanisms", () => {
  it("given an env reference, then git gets an inline credential helper naming the variable, never the token", async () => {
    const auth = await gitAuth({ kind: "env", name: "GIT_TOKEN" }, "https://github.com/o/r.git", { GIT_TOKEN: TOKEN });
    const argv = gitArgs(auth, ["fetch", "origin"]);
    assert.ok(!JSON.stringify(argv).includes(TOKEN), "the token is not in argv");
    assert.ok(!JSON.stringify(auth.env).includes(TOKEN), "nor in the extra environment");
    assert.ok(argv.some((a) => a.includes("$GIT_TOKEN")));
    assert.equal(auth.env["GIT_TERMINAL_PROMPT"], "0");
    assert.deepEqual(argv.slice(0, 2), ["-c", "credential.helper="], "other helpers are reset first");
  });

  it("given an env reference, when git asks for a credential, then the helper answers with the token from the variable", async () => {
    const auth = await gitAuth({ kind: "env", name: "GIT_TOKEN" }, "https://github.com/o/r.git", { GIT_TOKEN: TOKEN });
    const out = execFileSync("git", [...gitArgs(auth, ["credential", "fill"])], {
      input: "protocol=https\nhost=github.com\npath=o/r.git\n\n",
      env: { ...process.env, ...auth.env, GIT_TOKEN: TOKEN, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
      encoding: "utf8",
    });
    assert.match(out, /^username=x-access-token$/m);
    assert.match(out, new RegExp(`^password=${TOKEN}$`, "m"));
  });

  it("given an env reference whose variable is unset, then FLT-GIT-CREDENTIALS names the variable", async () => {
    await assert.rejects(gitAuth({ kind: "env", name: "NOPE_TOKEN" }, "https://x/y", {}), (e: { code?: string; message: string }) => e.code === "FLT-GIT-CREDENTIALS" && e.message.includes("NOPE_TOKEN"));
  });

  it("given a key file reference, then ssh uses that key only and accepts a new host key, without prompting", async () => {
    const dir = tempDir();
    const key = path.join(dir, "id it's");
    writeFileSync(key, "not a real key");
    const auth = await gitAuth({ kind: "file", path: key }, "git@github.com:o/r.git", {});
    assert.equal(auth.env["GIT_SSH_COMMAND"], `ssh -i '${key.replace("'", "'\\''")}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`);
    await assert.rejects(gitAuth({ kind: "file", path: path.join(dir, "missing") }, "git@github.com:o/r.git", {}), (e: { code?: string }) => e.code === "FLT-GIT-CREDENTIALS");
  });

  it("given a helper reference, then git uses exactly that helper", async () => {
    const auth = await gitAuth({ kind: "helper", helper: "store --file=/secure/creds" }, "https://x/y", {});
    assert.deepEqual(gitArgs(auth, ["fetch"]), ["-c", "credential.helper=", "-c", "credential.helper=store --file=/secure/creds", "fetch"]);
  });

  it("given a git wrapper on PATH, when a mirror with an env token syncs, then no argv git receives contains the token", async () => {
    const r = remote();
    r.push({ "a.txt": "a" });
    const bin = tempDir();
    const log = path.join(bin, "argv.log");
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nenv | grep -c '^GIT_TERMINAL_PROMPT=0$' >> '${log}'\nexec '${realGit}' "$@"\n`);
    chmodSync(path.join(bin, "git"), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, REPO_TOKEN: TOKEN };
    const m = new Mirror({ name: "apps", url: r.bare, credentials: { kind: "env", name: "REPO_TOKEN" } }, { dataDir: tempDir(), env });
    await m.sync();
    await m.sync();
    const recorded = readFileSync(log, "utf8");
    assert.match(recorded, /init --quiet --bare/);
    assert.doesNotMatch(recorded, /\bclone\b/);
    assert.match(recorded, /fetch --prune/);
    assert.ok(!recorded.includes(TOKEN), "the token never appears in argv");
    assert.ok(!recorded.split("\n").includes("0"), "every git call ran with GIT_TERMINAL_PROMPT=0");
  });

  it("given a server that demands a token, when the mirror syncs over HTTP with the env token, then it authenticates; without it, FLT-GIT-AUTH fails fast and the message holds no secret", async () => {
    const r = remote();
    const sha = r.push(rollingObject("a/a", "a"));
    const server = new GitHttpServer(path.dirname(r.bare), TOKEN);
    const base = await server.start();
    try {
      const url = `${base}/origin.git`;
      const env = { ...process.env, REPO_TOKEN: TOKEN, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
      const m = new Mirror({ name: "apps", url, credentials: { kind: "env", name: "REPO_TOKEN" } }, { dataDir: tempDir(), env });
      assert.equal((await m.sync()).created, true);
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), sha);
      const sha2 = r.push({ "b.txt": "b" });
      await m.sync();
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: m.gitDir, encoding: "utf8" }).trim(), sha2);
      assert.ok(server.seen.some((h) => h === `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`));

      const wrong = new Mirror({ name: "other", url, credentials: { kind: "env", name: "REPO_TOKEN" } }, { dataDir: tempDir(), env: { ...env, REPO_TOKEN: "wrong-token-value" } });
      await assert.rejects(wrong.sync(), (e: { code?: string; message: string }) => e.code === "FLT-GIT-AUTH" && !e.message.includes("wrong-token-value"));
      // A host askpass program must never be asked (it could hang on a GUI prompt).
      const bin = tempDir();
      const marker = path.join(bin, "asked");
      writeFileSync(path.join(bin, "askpass"), `#!/bin/sh\ntouch '${marker}'\necho nope\n`);
      chmodSync(path.join(bin, "askpass"), 0o755);
      const none = new Mirror({ name: "none", url, credentials: null }, { dataDir: tempDir(), env: { ...env, GIT_ASKPASS: path.join(bin, "askpass"), SSH_ASKPASS: path.join(bin, "askpass") } });
      await assert.rejects(none.sync(), (e: { code?: string }) => e.code === "FLT-GIT-AUTH");
      assert.equal(existsSync(marker), false, "no askpass program was run");
    } finally {
      await server.stop();
    }
  });

  it("given a token file or a credential helper, when the mirror syncs over HTTP, then git authenticates with them", async () => {
    const r = remote();
    const sha = r.push({ "a.txt": "a" });
    const server = new GitHttpServer(path.dirname(r.bare), TOKEN);
    const base = await server.start();
    try {
      const url = `${base}/origin.git`;
      const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
      const dir = tempDir();
      const tokenFile = path.join(dir, "token");
      writeFileSync(tokenFile, TOKEN + "\n", { mode: 0o600 });
      const viaFile = new Mirror({ name: "file", url, credentials: { kind: "file", path: tokenFile } }, { dataDir: tempDir(), env });
      await viaFile.sync();
      assert.equal(execFileSync("git", ["rev-parse", "refs/heads/main"], { cwd: viaFile.gitDir, encoding: "utf8" }).trim(), sha);

      const helper = path.join(dir, "fake-helper");
      writeFileSync(helper, `#!/bin/sh\ntest "$1" = get || exit 0\ncat >/dev/null\necho username=robot\necho password=$(cat '${tokenFile}')\n`);
      chmodSync(helper, 0o755);
      const viaHelper = new Mirror({ name: "helper", url, credentials: { kind: "helper", helper } }, { dataDir: tempDir(), env });
      await viaHelper.sync();
      assert.ok(server.seen.includes(`Basic ${Buffer.from(`robot:${TOKEN}`).toString("base64")}`));
    } finally {
      await server.stop();
    }
  });

  it("runGit reports failures with a code and redacted URLs", async () => {
    const auth = await gitAuth(null, "");
    await assert.rejects(runGit(["ls-remote", "https://user:pw@127.0.0.1:1/x.git"], { auth, what: "listing" }), (e: { code?: string; message: string }) => e.code === "FLT-GIT-FETCH-FAILED" && !e.message.includes("pw@"));
  });
});
