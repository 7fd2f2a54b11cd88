import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { register } from "../../src/cli/sim.ts";
import { main as flotilla } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";

/** Run the verb on its own, so other verbs' work in progress cannot affect these tests. */
async function main(argv: string[], io: CliIO): Promise<number> {
  let code = -1;
  const program = new Command("flotilla").exitOverride();
  register(program, io, async (action) => {
    code = await action();
  });
  await program.parseAsync(argv, { from: "user" });
  return code;
}

function io(cwd: string): CliIO & { stdout: string; stderr: string } {
  const o = { stdout: "", stderr: "", color: false, interactive: false, env: {}, cwd, out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
  return o;
}

const root = new URL("../../", import.meta.url).pathname;

describe("flotilla sim", () => {
  it("prints the world over time, with scripted calls, in virtual time", async () => {
    const x = io(root);
    const code = await main(["sim", "examples/scenarios/rolling-circuit-breaker.json", "--for", "2m", "--every", "30s"], x);
    assert.equal(code, 0, x.stderr);
    assert.match(x.stdout, /t\+30s {2}ecs\.updateService ok/);
    assert.match(x.stdout, /FAILED +0\/0 running, 0 pending, 3 failed/);
    assert.equal((x.stdout.match(/^t\+\S+ {2}\(/gm) ?? []).length, 5, "frames at 0, 30s, 1m, 1m30s, 2m");
  });

  it("--output json gives frames and script results", async () => {
    const x = io(root);
    const code = await main(["sim", "examples/scenarios/new-service-bad-image.json", "--for", "5m", "--every", "5m", "-o", "json"], x);
    assert.equal(code, 0, x.stderr);
    const out = JSON.parse(x.stdout) as { frames: { services: { deployments: { rolloutState: string }[] }[]; alarms: { name: string; state: string }[] }[]; script: { ok: boolean }[] };
    assert.equal(out.frames.length, 2);
    assert.equal(out.frames[1]!.services[0]!.deployments[0]!.rolloutState, "FAILED");
    assert.deepEqual(out.frames[1]!.alarms, [{ name: "reports-errors", state: "ALARM" }]);
    assert.equal(out.script[0]!.ok, true);
  });

  it("rejects an invalid scenario with its code, the file and the JSON path, exit code 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sim-"));
    await writeFile(join(dir, "bad.json"), JSON.stringify({ services: [{ serviceName: "x", desiredCount: "two" }] }));
    const x = io(dir);
    assert.equal(await flotilla(["sim", "bad.json"], x), 2);
    assert.match(x.stderr, /^error FLT-SIM-SCENARIO bad\.json \$\.services\[0\]\.desiredCount$/m);
    assert.doesNotMatch(x.stderr, /\n\s+at /, "no stack trace");
  });
});
