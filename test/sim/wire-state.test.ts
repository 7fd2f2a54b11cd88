/**
 * `sim serve --state FILE`: the world outlives the server. A restart replays the journal and
 * continues where the world was, with the same ids, mid-deployment — in process (injected time)
 * and as a real process killed with SIGKILL.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { Journal, JournalError } from "../../src/sim/wire/journal.ts";
import { SimServer } from "../../src/sim/wire/server.ts";
import { killSimServes, startSimServe } from "../helpers/sim-serve.ts";

const dirs: string[] = [];
after(() => {
  killSimServes();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "flotilla-sim-state-"));
  dirs.push(d);
  return d;
};

const clients = (url: string) => {
  const cfg = { region: "us-east-1", endpoint: url, credentials: { accessKeyId: "state-test", secretAccessKey: "x" }, maxAttempts: 1 };
  return { ecs: new ecs.ECSClient(cfg), elb: new elb.ElasticLoadBalancingV2Client(cfg) };
};

const taskdef = (image: string) => ({ family: "web", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] });

/** A cluster, an ALB with a quick target group, and a service behind it; returns the target group. */
async function buildWorld(c: ReturnType<typeof clients>): Promise<string> {
  await c.ecs.send(new ecs.CreateClusterCommand({ clusterName: "prod" }));
  const lb = (await c.elb.send(new elb.CreateLoadBalancerCommand({ Name: "shop" }))).LoadBalancers![0]!;
  const tg = (await c.elb.send(new elb.CreateTargetGroupCommand({ Name: "web", Protocol: "HTTP", Port: 8080, TargetType: "ip", HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2 }))).TargetGroups![0]!.TargetGroupArn!;
  await c.elb.send(new elb.ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }] }));
  await c.elb.send(new elb.CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 80, DefaultActions: [{ Type: "forward", TargetGroupArn: tg }] }));
  await c.ecs.send(new ecs.RegisterTaskDefinitionCommand(taskdef("web:1")));
  await c.ecs.send(new ecs.RegisterTaskDefinitionCommand(taskdef("web:2")));
  await c.ecs.send(new ecs.CreateServiceCommand({ cluster: "prod", serviceName: "web", taskDefinition: "web:1", desiredCount: 3, loadBalancers: [{ targetGroupArn: tg, containerName: "app", containerPort: 8080 }] }));
  return tg;
}

const describeWeb = async (c: ReturnType<typeof clients>) => (await c.ecs.send(new ecs.DescribeServicesCommand({ cluster: "prod", services: ["web"] }))).services![0]!;
const taskArns = async (c: ReturnType<typeof clients>) => ((await c.ecs.send(new ecs.ListTasksCommand({ cluster: "prod" }))).taskArns ?? []).sort();

describe("sim serve --state", () => {
  it("continues a rolling deployment after a restart, with the same deployments, tasks and time", async () => {
    const state = path.join(tempDir(), "world.jsonl");
    let realNow = Date.UTC(2026, 0, 1);
    const first = await SimServer.start({ statePath: state, realNow: () => realNow, scenarios: [{ data: { throttling: false }, label: "fast.json" }] });
    let c = clients(first.url);
    await buildWorld(c);
    realNow += 60_000;
    assert.equal((await describeWeb(c)).deployments![0]!.rolloutState, "COMPLETED");
    await c.ecs.send(new ecs.UpdateServiceCommand({ cluster: "prod", service: "web", taskDefinition: "web:2" }));
    realNow += 12_000;
    const before = await describeWeb(c);
    const tasksBefore = await taskArns(c);
    assert.deepEqual(before.deployments!.map((d) => [d.status, d.rolloutState]), [["PRIMARY", "IN_PROGRESS"], ["ACTIVE", "COMPLETED"]], "mid-deployment");
    const simNow = first.clock.now();
    await first.close();

    const second = await SimServer.start({ statePath: state, realNow: () => realNow, scenarios: [{ data: { throttling: false }, label: "fast.json" }] });
    c = clients(second.url);
    assert.ok(second.replayed > 0);
    assert.equal(second.clock.now(), simNow, "time continues from where the world stopped");
    const after = await describeWeb(c);
    assert.deepEqual(after.deployments, before.deployments, "same deployment ids, counts and times");
    assert.deepEqual(after.events, before.events);
    assert.deepEqual(await taskArns(c), tasksBefore, "same task ids");
    realNow += 120_000;
    const done = await describeWeb(c);
    assert.deepEqual(done.deployments!.map((d) => [d.taskDefinition?.split("/")[1], d.rolloutState]), [["web:2", "COMPLETED"]]);
    await second.close();
    assert.match(readFileSync(state, "utf8").split("\n")[0]!, /"format":"flotilla-sim-state"/);
  });

  it("drops a torn last line and refuses a damaged one", () => {
    const dir = tempDir();
    const header = { format: "flotilla-sim-state" as const, version: 1 as const, start: 0, scenarios: [], labels: [] };
    const file = path.join(dir, "torn.jsonl");
    const opened = Journal.open(file, header);
    opened.journal.append({ t: 1, call: { service: "ECS", operation: "CreateCluster", input: { clusterName: "a" } } });
    opened.journal.close();
    appendFileSync(file, '{"t":2,"call":{"service":"ECS","operati');
    const again = Journal.open(file, header);
    assert.deepEqual(again.entries.map((e) => ("t" in e ? e.t : -1)), [1]);
    again.journal.append({ now: 5 });
    again.journal.close();
    assert.deepEqual(Journal.open(file, header).entries, [{ t: 1, call: { service: "ECS", operation: "CreateCluster", input: { clusterName: "a" } } }, { now: 5 }], "the next entry starts a line of its own");

    const damaged = path.join(dir, "damaged.jsonl");
    writeFileSync(damaged, `${JSON.stringify(header)}\n{"now":1}\nnot json\n{"now":2}\n`);
    assert.throws(() => Journal.open(damaged, header), (e: unknown) => e instanceof JournalError && /line 3 is damaged/.test(e.message));
    const other = path.join(dir, "other.json");
    writeFileSync(other, '{"hello":"world"}\n');
    assert.throws(() => Journal.open(other, header), JournalError);
  });

  it("survives SIGKILL of the server process mid-deployment: the restarted one finishes it", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "fast.json"), JSON.stringify({ throttling: false }));
    let server = await startSimServe(["fast.json", "--speed", "20", "--state", "world.jsonl"], { cwd: dir });
    let c = clients(server.url);
    await buildWorld(c);
    const created = await describeWeb(c);
    const deploymentId = created.deployments![0]!.id;
    // Until tasks exist but the deployment has not finished.
    for (let i = 0; i < 200 && (await taskArns(c)).length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    const tasksBefore = await taskArns(c);
    assert.equal((await describeWeb(c)).deployments![0]!.rolloutState, "IN_PROGRESS");
    assert.equal(await server.stop("SIGKILL"), null);

    server = await startSimServe(["fast.json", "--speed", "20", "--state", "world.jsonl"], { cwd: dir });
    c = clients(server.url);
    assert.match(server.output().stdout, /continued from world\.jsonl \(\d+ calls replayed\)/);
    assert.equal((await describeWeb(c)).deployments![0]!.id, deploymentId);
    for (const arn of tasksBefore) assert.ok((await taskArns(c)).includes(arn), `task ${arn} is still there`);
    let done = false;
    for (let i = 0; i < 400 && !done; i++) {
      done = (await describeWeb(c)).deployments![0]!.rolloutState === "COMPLETED";
      if (!done) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(done, "the deployment completes after the restart");
    assert.equal(await server.stop(), 0, server.output().stderr);
  });
});
