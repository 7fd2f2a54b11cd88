/** docs/simulator.md's example: examples/sim-serve/build-world.mjs builds its world through the SDK's own AWS_ENDPOINT_URL handling. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { SimServer } from "../../src/sim/wire/server.ts";

const SCRIPT = fileURLToPath(new URL("../../examples/sim-serve/build-world.mjs", import.meta.url));
let server: SimServer | undefined;
after(() => server?.close());

describe("examples/sim-serve/build-world.mjs", () => {
  it("builds the documented world with nothing but AWS_ENDPOINT_URL and dummy credentials", async () => {
    server = await SimServer.start({});
    const env = { ...process.env, AWS_ENDPOINT_URL: server.url, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "docs-example", AWS_SECRET_ACCESS_KEY: "simulator", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
    });
    const world = JSON.parse(out) as { targetGroups: Record<string, string>; listeners: { web: string }; subnets: string[]; securityGroup: string };
    // The ARNs docs/simulator.md shows: derived from names, account and Region, the same on every run.
    assert.equal(world.targetGroups["web-blue"], "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/d52377d84b03b826");
    assert.equal(world.targetGroups["web-green"], "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/c1b2b71fb99726bd");
    assert.equal(world.targetGroups["api"], "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/386aaa872e57843d");
    assert.deepEqual(world.subnets, ["subnet-548b8d3d7fb76bbf3", "subnet-518b888405a336360", "subnet-528b8a178b8f00ad2"]);
    assert.equal(world.securityGroup, "sg-70555f702f7581522");
    const client = new elb.ElasticLoadBalancingV2Client({ region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "t", secretAccessKey: "x" } });
    const l = (await client.send(new elb.DescribeListenersCommand({ ListenerArns: [world.listeners.web] }))).Listeners![0]!;
    assert.deepEqual(l.DefaultActions![0]!.ForwardConfig!.TargetGroups!.map((g) => g.Weight), [100, 0]);
    const callers = (await (await fetch(`${server.url}/_flotilla/requests?caller=docs-example`)).json()) as { requests: { service: string }[] };
    assert.deepEqual([...new Set(callers.requests.map((r) => r.service))].sort(), ["CloudWatch", "EC2", "ECS", "ELBv2"]);
  });
});
