/**
 * Coded errors instead of stack traces (issue 12, item 10): what a user's surroundings get wrong —
 * no AWS credentials, a bad scenario file, a missing directory, a closed pipe, an unknown object,
 * a bad option value — is a coded message and exit 2, never "internal error" and a trace.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { cli } from "../helpers/cli.ts";
import { rollingObject } from "../helpers/objects.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const dirs: string[] = [];
after(() => {
  cleanupTrees();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "flotilla-errors-"));
  dirs.push(d);
  return d;
}

/** The CLI as a process, the way a user runs it. */
function run(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; firstLineOnly?: boolean }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      // Like `| head -1`: read one line, then close the pipe while the CLI is still writing.
      if (options.firstLineOnly && stdout.includes("\n")) child.stdout.destroy();
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** An environment where the AWS SDK finds no credentials (and would reach only a closed loopback port). */
function noCredentials(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: path.join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(home, "none"), AWS_ENDPOINT_URL: "http://127.0.0.1:9" };
}

const NO_TRACE = /\n\s+at |internal error/;

describe("coded errors instead of stack traces", () => {
  it("Given no AWS credentials anywhere, When plan and apply run against AWS, Then FLT-AWS-CREDENTIALS says what to set, exit 2, no trace", async () => {
    const home = tempDir();
    for (const verb of ["plan", "apply"]) {
      const r = await run([verb, EXAMPLES, "--store", ":memory:"], { cwd: home, env: noCredentials(home) });
      assert.equal(r.code, 2, `${verb}: ${r.stderr}`);
      assert.match(r.stderr, /^error FLT-AWS-CREDENTIALS$/m);
      assert.match(r.stderr, /AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      assert.doesNotMatch(r.stderr, NO_TRACE);
    }
  });

  it("Given an invalid scenario file, When plan, apply or rollback rehearse with it, Then FLT-SIM-SCENARIO names the file and path, exit 2", async () => {
    const dir = writeTree({ ...rollingObject("a/a", "a"), "bad.json": '{"services": [{"serviceName": "x", "desiredCount": "two"}]}', "broken.json": '{"region": "us-east-1",' });
    const store = path.join(tempDir(), "s.db");
    for (const args of [["plan", dir], ["apply", dir, "--store", store], ["rollback", "a/a", "--store", store]]) {
      const bad = await cli([...args, "--simulator", path.join(dir, "bad.json")]);
      assert.equal(bad.code, 2, `${args[0]}: ${bad.stderr}`);
      assert.match(bad.stderr, /^error FLT-SIM-SCENARIO \S*bad\.json \$\.services\[0\]\.desiredCount$/m);
      const broken = await cli([...args, "--simulator", path.join(dir, "broken.json")]);
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /FLT-SIM-SCENARIO \S*broken\.json \$\n\s+not valid JSON/);
      const missing = await cli([...args, "--simulator", path.join(dir, "nowhere.json")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /FLT-SIM-SCENARIO \S*nowhere\.json \$\n\s+cannot read the file/);
      for (const r of [bad, broken, missing]) assert.doesNotMatch(r.stderr, NO_TRACE);
    }
  });

  it("Given a directory that does not exist, When any verb that reads a tree runs, Then a coded usage error, exit 2", async () => {
    const nowhere = path.join(tempDir(), "nowhere");
    for (const args of [["validate", nowhere], ["render", nowhere, "a/a"], ["changes", nowhere], ["plan", nowhere, "--simulator"], ["apply", nowhere, "--simulator", "--store", ":memory:"]]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^error FLT-CLI-USAGE$/m);
      assert.match(r.stderr, /nowhere is not a directory \(it does not exist\)/);
      assert.doesNotMatch(r.stderr, NO_TRACE);
    }
  });

  it("Given stdout closed early (| head -1), When the CLI keeps printing, Then it ends quietly: exit 0, no EPIPE trace", async () => {
    const r = await run(["sim", path.join(EXAMPLES, "scenarios/blue-green-canary.json"), "--for", "1h", "--every", "1s"], { cwd: tempDir(), env: process.env, firstLineOnly: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  it("Given an object that is not in the tree or the store, When apply/plan --object or history name it, Then FLT-OBJECT-NOT-FOUND, exit 2", async () => {
    const dir = writeTree({ ...rollingObject("apps/web", "web") });
    const store = path.join(tempDir(), "s.db");
    const apply = await cli(["apply", dir, "--object", "apps/wbe", "--simulator", "--store", store]);
    assert.equal(apply.code, 2, apply.stderr);
    assert.match(apply.stderr, /FLT-OBJECT-NOT-FOUND\n\s+no object "apps\/wbe"/);
    assert.match(apply.stderr, /did you mean "apps\/web"\?/);
    const plan = await cli(["plan", dir, "--object", "nothing/here", "--simulator"]);
    assert.equal(plan.code, 2);
    assert.match(plan.stderr, /FLT-OBJECT-NOT-FOUND/);
    assert.equal((await cli(["apply", dir, "--object", "apps/", "--simulator", "--store", store])).code, 0, "a path prefix of an object selects it");
    const history = await cli(["history", "apps/wbe", "--store", store]);
    assert.equal(history.code, 2);
    assert.match(history.stderr, /FLT-OBJECT-NOT-FOUND\n\s+no deployments of apps\/wbe are recorded\n\s+hint: did you mean "apps\/web"\?/);
    assert.equal((await cli(["history", "apps/web", "--store", store])).code, 0);
  });

  it("Given a bad option value, When any verb with --output, --concurrency, --limit, --speed or --max-delete-fraction gets one, Then a usage error, exit 2", async () => {
    const io: CliIO = { out: () => undefined, err: () => undefined, color: false, interactive: false, env: {}, cwd: process.cwd() };
    const program = await buildProgram(io, () => Promise.reject(new Error("no verb runs while listing them")));
    const bad: Record<string, string> = { "--output": "yaml", "--concurrency": "abc", "--limit": "0", "--speed": "-2", "--max-delete-fraction": "1.5" };
    const cases: string[][] = [];
    const walk = (cmd: Command, names: string[]) => {
      for (const sub of cmd.commands) {
        const argv = [...names, sub.name()];
        // Required arguments get a placeholder, so the option is the only thing wrong.
        const args = sub.registeredArguments.filter((a) => a.required).map(() => "x");
        for (const o of sub.options) if (o.long && bad[o.long]) cases.push([...argv, ...args, o.long, bad[o.long]!]);
        walk(sub, argv);
      }
    };
    walk(program, []);
    const verbs = new Set(cases.map((c) => c[0]));
    for (const v of ["validate", "render", "changes", "apply", "plan", "status", "history", "rollback", "promote", "sim", "serve", "deployment", "commit"]) assert.ok(verbs.has(v), `${v} has a checked option`);
    for (const argv of cases) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /argument '[^']+' is invalid/, argv.join(" "));
    }
  });

  it("Given a good value of each checked option, Then it is accepted as before", async () => {
    const dir = writeTree({ ...rollingObject("a/a", "a") });
    const r = await cli(["apply", dir, "--simulator", "--store", ":memory:", "--concurrency", "2", "--max-delete-fraction", "0.25", "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { deployments: unknown[] }).deployments.length, 1);
  });
});
