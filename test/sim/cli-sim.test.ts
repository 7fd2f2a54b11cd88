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

describe("flotilla sim prints the ARNs it creates", () => {
  const scenario = {
    region: "eu-west-1",
    account: "444455556666",
    clusters: ["shop"],
    targetGroups: [{ name: "web-blue" }, { arn: "arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup/web-green/7b6a5f4e3d2c1b0a" }],
    loadBalancers: [{ name: "shop-public", listeners: [{ port: 443, defaultActions: [{ targetGroup: "web-blue" }], rules: [{ priority: 10, conditions: [{ Field: "path-pattern", Values: ["/shop/*"] }], actions: [{ targetGroups: [{ targetGroup: "web-blue", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }] }] }] }],
    alarms: [{ name: "web-5xx" }],
  };

  it("Given a scenario with target groups, a listener with a rule and an alarm, When run, Then text and JSON list each with its ARN (a given ARN kept as given)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sim-"));
    await writeFile(join(dir, "shop.json"), JSON.stringify(scenario));
    const text = io(dir);
    assert.equal(await main(["sim", "shop.json", "--for", "0"], text), 0, text.stderr);
    assert.match(text.stdout, /^resources in eu-west-1, account 444455556666$/m);
    assert.match(text.stdout, /^ {2}cluster +shop +arn:aws:ecs:eu-west-1:444455556666:cluster\/shop$/m);
    assert.match(text.stdout, /^ {2}target group +web-blue +arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup\/web-blue\/[0-9a-f]{16}$/m);
    assert.match(text.stdout, /^ {2}target group +web-green +arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup\/web-green\/7b6a5f4e3d2c1b0a$/m);
    assert.match(text.stdout, /^ {2}listener +shop-public:443 +arn:aws:elasticloadbalancing:eu-west-1:444455556666:listener\/app\/shop-public\/\w+\/\w+$/m);
    assert.match(text.stdout, /^ {2}rule +shop-public:443 #10 +arn:aws:elasticloadbalancing:eu-west-1:444455556666:listener-rule\/app\/shop-public\/\w+\/\w+\/\w+$/m);
    assert.match(text.stdout, /^ {2}alarm +web-5xx +arn:aws:cloudwatch:eu-west-1:444455556666:alarm:web-5xx$/m);

    const json = io(dir);
    assert.equal(await main(["sim", "shop.json", "--for", "0", "-o", "json"], json), 0, json.stderr);
    const r = (JSON.parse(json.stdout) as { resources: Record<string, { arn: string; name?: string }[]> }).resources;
    assert.deepEqual(r["targetGroups"]!.map((t) => t.name), ["web-blue", "web-green"]);
    assert.equal(r["targetGroups"]![1]!.arn, scenario.targetGroups[1]!.arn);
    for (const kind of ["clusters", "loadBalancers", "listeners", "rules", "alarms"]) assert.equal(r[kind]!.length, 1, kind);
    assert.ok(text.stdout.includes(r["rules"]![0]!.arn) && text.stdout.includes(r["listeners"]![0]!.arn), "the same ARNs in both");
  });

  it("Given a target group ARN of another account or Region than the scenario's, Then FLT-SIM-SCENARIO at $.targetGroups[i].arn says what to set", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sim-"));
    await writeFile(join(dir, "account.json"), JSON.stringify({ ...scenario, account: "123456789012" }));
    await writeFile(join(dir, "region.json"), JSON.stringify({ ...scenario, region: "us-east-1" }));
    const account = io(dir);
    assert.equal(await flotilla(["sim", "account.json"], account), 2);
    assert.match(account.stderr, /FLT-SIM-SCENARIO account\.json \$\.targetGroups\[1\]\.arn\n\s+the ARN is in account 444455556666, the scenario models 123456789012: set "account": "444455556666"/);
    const region = io(dir);
    assert.equal(await flotilla(["sim", "region.json"], region), 2);
    assert.match(region.stderr, /\$\.targetGroups\[1\]\.arn\n\s+the ARN is in Region eu-west-1, the scenario models us-east-1/);
  });
});
