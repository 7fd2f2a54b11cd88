/** `flotilla serve` as a real process: it comes up on the simulator, answers, and stops cleanly on SIGTERM. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cli } from "../helpers/cli.ts";
import { killServes, startServe } from "../helpers/serve.ts";
import { SERVE_V8_FLAGS, v8FlagsFor } from "../../bin/v8-flags.js";

const dirs: string[] = [];
after(() => {
  killServes();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe("flotilla serve (process)", () => {
  it("serves the API on the simulator and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-proc-"));
    dirs.push(dir);
    const server = await startServe(["--simulator", "--store", path.join(dir, "s.db"), "--data-dir", path.join(dir, "data")], { cwd: dir, env: { FLOTILLA_ADMIN_TOKEN: "admin-token-0123456789abcdef", FLOTILLA_WEBHOOK_SECRET: "" } });
    const url = server.url;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const repos = await fetch(`${url}/api/v1/repositories`, { headers: { authorization: "Bearer admin-token-0123456789abcdef" } });
    assert.equal(repos.status, 200, "the admin token from the environment works");
    assert.equal((await fetch(`${url}/api/v1/repositories`)).status, 401);
    if (existsSync(`/proc/${server.child.pid}/cmdline`)) {
      const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8").split("\0");
      assert.ok(argv.includes("--max-semi-space-size=16"), `serve runs with its V8 flags (bin/v8-flags.js): ${argv.join(" ")}`);
    }
    assert.equal(await server.stop(), 0, server.stderr());
    assert.match(server.stderr(), /stopping: no new work/);
    assert.doesNotMatch(server.stderr(), /admin-token-0123456789abcdef/, "the token is never logged");
  });
});

describe("flotilla serve's V8 flags", () => {
  it("serve gets them unless the size was chosen (command line or NODE_OPTIONS); other commands do not", () => {
    assert.deepEqual(v8FlagsFor(["serve", "--simulator"], [], ""), SERVE_V8_FLAGS);
    assert.deepEqual(v8FlagsFor(["apply", "."], [], ""), []);
    assert.deepEqual(v8FlagsFor(["serve"], ["--max-semi-space-size=64"], ""), []);
    assert.deepEqual(v8FlagsFor(["serve"], [], "--max-old-space-size=512 --max-semi-space-size=4"), []);
  });
});

describe("flotilla serve --config", () => {
  it("a configuration that does not validate stops the server before it listens: exit 2, every problem with file, line and JSON path", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-config-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "flotilla.yaml"), 'credentials:\n  evil:\n    type: helper\n    helper: "!touch MARKER; echo"\n    hosts: [github.com]\n  leaky: { type: token-env, env: FLOTILLA_ADMIN_TOKEN, hosts: ["https://evil.example"] }\n');
    const r = await cli(["serve", "--config", "flotilla.yaml", "--listen", "127.0.0.1:0", "--simulator", "--store", ":memory:"], {}, dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /FLT-SERVER-CONFIG flotilla\.yaml:4:\d+ \$\.credentials\.evil\.helper/);
    assert.match(r.stderr, /FLT-SERVER-CONFIG flotilla\.yaml:6:\d+ \$\.credentials\.leaky\.hosts\[0\]/);
    assert.match(r.stderr, /2 problems in the server configuration; the server did not start/);
    assert.doesNotMatch(r.stderr, /API on/);
    assert.equal(existsSync(path.join(dir, "MARKER")), false);
  });
});
