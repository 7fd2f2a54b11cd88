/**
 * The installed package runs (issue 12, item 11): pack the package as it would be published,
 * install the tarball into an empty folder with the machine's own npm and Node (Node 20 on a
 * machine like the one the README assumes), and run `flotilla demo --instant` from it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function temp(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** The machine's PATH without this checkout's (or any) node_modules/.bin, which npm puts first and where the pinned Node 24 lives. */
function systemEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // npm's own settings for this test run (npm_config_*, npm_lifecycle_*) must not leak into the install.
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  env["PATH"] = (process.env["PATH"] ?? "").split(path.delimiter).filter((p) => !p.includes("node_modules")).join(path.delimiter);
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

describe("the installed package", { timeout: 600_000 }, () => {
  it("Given the packed tarball installed into an empty folder with the system's npm and Node, When flotilla demo --instant runs from it, Then it tells the whole story and exits 0", () => {
    const env = systemEnv();
    const systemNode = run("sh", ["-c", "command -v node"], ROOT, env).stdout.trim();
    assert.ok(systemNode, "a system Node is on PATH (npm needs one)");

    // When the package is packed as it would be published
    const packed = temp("flotilla-pack-");
    const pack = run("npm", ["pack", "--pack-destination", packed, "--json"], ROOT, env);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    assert.ok(files.includes("dist/cli/main.js") && files.includes("bin/flotilla.js") && files.includes("examples/dev/web/web_svcdef.json"), "the compiled CLI, its launcher and the demo's examples are shipped");
    assert.ok(files.includes("dist/web/index.html") && files.some((f) => /^dist\/web\/assets\/index-[\w-]+\.js$/.test(f)), "the dashboard's built page and code are shipped (flotilla serve serves them at /)");
    assert.deepEqual(files.filter((f) => f.startsWith("src/") || f.startsWith("test/")), [], "no sources");
    assert.deepEqual(files.filter((f) => f.endsWith(".map")), [], "no source maps pointing at sources that are not shipped");

    // And installed into an empty folder
    const project = temp("flotilla-install-");
    const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", path.join(packed, info!.filename)], project, env);
    assert.equal(install.status, 0, install.stderr);
    assert.deepEqual(readdirSync(path.join(project, "node_modules/.bin")).filter((f) => f === "flotilla"), ["flotilla"]);

    // Then the CLI runs on the system Node, every verb included
    const bin = path.join(project, "node_modules/.bin/flotilla");
    const version = run(bin, ["--version"], project, env);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const demo = run(bin, ["demo", "--instant"], project, env);
    assert.equal(demo.status, 0, `${run(systemNode, ["--version"], project, env).stdout} ${demo.stderr}`);
    assert.match(demo.stdout, /== The end/);
    assert.doesNotMatch(demo.stdout + demo.stderr, /run it through npm|needs Node\.js/);
    const validate = run(bin, ["validate", path.join(project, "node_modules/flotilla/examples")], project, env);
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);
  });
});
