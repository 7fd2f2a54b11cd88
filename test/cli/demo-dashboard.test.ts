/**
 * `flotilla demo --dashboard`: the demo story played by a real `flotilla serve --simulator`, as a
 * newcomer runs it (here sped up, and stopping at the end with --exit). The dashboard it points at is
 * tested in a browser by test/web/dashboard.test.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

describe("flotilla demo --dashboard", { timeout: 600_000 }, () => {
  it("Given nothing but the package, When the dashboard demo runs, Then it prints the dashboard's URL and a token, tells every step with links to its commit and deployments, and stops the server at the end", async () => {
    const child = spawn(process.execPath, [BIN, "demo", "--dashboard", "--exit", "--speed", "80", "--listen", "127.0.0.1:0"], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, stdout + stderr);
    const url = /Open the dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
    assert.ok(url, stdout);
    assert.match(stdout, /Sign in with the token: flt_demo_[\w-]{32}\n/);
    for (const n of [1, 2, 3, 4, 5, 6]) assert.match(stdout, new RegExp(`== ${n}\\. `));
    assert.match(stdout, /== The end/);
    // Each step links to its commit and to each deployment, with the outcome the story expects.
    assert.equal(stdout.match(new RegExp(`commit [0-9a-f]{7}: ${url}/repositories/apps/commits/[0-9a-f]{40}`, "g"))?.length, 6);
    assert.match(stdout, new RegExp(`RolledBack +dev/api/api +${url}/deployments/\\w+`));
    assert.match(stdout, new RegExp(`RolledBack +dev/web/web +${url}/deployments/\\w+`));
    assert.equal(stdout.match(/Succeeded +dev\/web\/web/g)?.length, 2, "created, then the canary");
    // The server is gone.
    await assert.rejects(fetch(`${url}/healthz`));
  });
});
