/**
 * `flotilla apply` as a real process, talking through its AWS SDK adapter (no in-process
 * shortcut) to `flotilla sim serve` as another process: AWS_ENDPOINT_URL and dummy credentials
 * are all it is given. The world is built the way a user would, with SDK calls (default VPC from
 * EC2, an ALB, target groups, listeners, an alarm). A rolling and a blue/green service are
 * created, then changed, and both deployments complete; the endpoint's request log shows who did
 * what.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as cw from "@aws-sdk/client-cloudwatch";
import * as ec2 from "@aws-sdk/client-ec2";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";
import { killSimServes, startSimServe, type SimServeProcess } from "../helpers/sim-serve.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const dirs: string[] = [];
after(() => {
  killSimServes();
  cleanupTrees();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function flotilla(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

interface World {
  subnets: string[];
  securityGroup: string;
  tg: Record<string, string>;
  listener: string;
}

/** What a user's own script does before Flotilla runs: look up the default VPC, make the ALB, groups, listeners and alarm. */
async function buildWorld(server: SimServeProcess): Promise<World> {
  const cfg = { region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "user-script", secretAccessKey: "x" } };
  const EC2 = new ec2.EC2Client(cfg);
  const ELB = new elb.ElasticLoadBalancingV2Client(cfg);
  const vpc = (await EC2.send(new ec2.DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }))).Vpcs![0]!.VpcId!;
  const subnets = (await EC2.send(new ec2.DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc] }] }))).Subnets!.map((s) => s.SubnetId!);
  const securityGroup = (await EC2.send(new ec2.DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc] }, { Name: "group-name", Values: ["default"] }] }))).SecurityGroups![0]!.GroupId!;
  await new ecs.ECSClient(cfg).send(new ecs.CreateClusterCommand({ clusterName: "apps" }));
  const lb = (await ELB.send(new elb.CreateLoadBalancerCommand({ Name: "shop", Subnets: subnets, SecurityGroups: [securityGroup] }))).LoadBalancers![0]!.LoadBalancerArn!;
  const tg: Record<string, string> = {};
  for (const name of ["api", "web-blue", "web-green"]) {
    tg[name] = (await ELB.send(new elb.CreateTargetGroupCommand({ Name: name, Protocol: "HTTP", Port: 8080, TargetType: "ip", VpcId: vpc, HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2 }))).TargetGroups![0]!.TargetGroupArn!;
    await ELB.send(new elb.ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg[name], Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }] }));
  }
  await ELB.send(new elb.CreateListenerCommand({ LoadBalancerArn: lb, Port: 8081, Protocol: "HTTP", DefaultActions: [{ Type: "forward", TargetGroupArn: tg["api"] }] }));
  const listener = (await ELB.send(new elb.CreateListenerCommand({ LoadBalancerArn: lb, Port: 80, Protocol: "HTTP", DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg["web-blue"], Weight: 100 }, { TargetGroupArn: tg["web-green"], Weight: 0 }] } }] }))).Listeners![0]!.ListenerArn!;
  const CW = new cw.CloudWatchClient(cfg);
  await CW.send(new cw.PutMetricAlarmCommand({ AlarmName: "web-5xx", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold" }));
  await CW.send(new cw.SetAlarmStateCommand({ AlarmName: "web-5xx", StateValue: "OK", StateReason: "no errors" }));
  return { subnets, securityGroup, tg, listener };
}

function tree(w: World, version: string): Record<string, object> {
  const network = { awsvpcConfiguration: { subnets: w.subnets, securityGroups: [w.securityGroup] } };
  const taskdef = (family: string) => ({ family, networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image: `example/${family}:${version}`, essential: true, portMappings: [{ containerPort: 8080 }] }] });
  const quick = { environment: { region: "us-east-1" }, stabilityCheck: { pollInterval: 1, timeout: 600 } };
  return {
    "api/api_svcdef.json": { cluster: "apps", serviceName: "api", desiredCount: 2, launchType: "FARGATE", networkConfiguration: network, loadBalancers: [{ targetGroupArn: w.tg["api"], containerName: "app", containerPort: 8080 }], deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } } },
    "api/api_taskdef.json": taskdef("api"),
    "api/api_depdef.json": quick,
    "web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 2, deploymentController: { type: "EXTERNAL" }, launchType: "FARGATE", networkConfiguration: network, loadBalancers: [{ targetGroupArn: w.tg["web-blue"], containerName: "app", containerPort: 8080 }] },
    "web/web_taskdef.json": taskdef("web"),
    "web/web_depdef.json": { ...quick, targetGroupArnPairs: [[w.tg["web-blue"], w.tg["web-green"]]], trafficShiftingConfig: { type: "CANARY", percent: 50, waitInterval: 1 }, alarms: { alarmNames: ["web-5xx"] } },
  };
}

describe("flotilla apply against flotilla sim serve (two processes, the SDK on the wire)", () => {
  it("creates, then deploys a rolling and a blue/green change to the end", async () => {
    const server = await startSimServe(["--speed", "30"]);
    const w = await buildWorld(server);
    const work = mkdtempSync(path.join(tmpdir(), "flotilla-sim-apply-"));
    dirs.push(work);
    const env = { ...server.awsEnv("flotilla-apply"), FLOTILLA_STORE: path.join(work, "store.db") };
    const v1 = writeTree(tree(w, "1.0"));
    const created = await flotilla(["apply", v1], env, work);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.match(created.stdout, /2 deployments: 2 succeeded, 0 failed/);

    const since = ((await (await fetch(`${server.url}/_flotilla/requests?limit=0`)).json()) as { last: number }).last;
    for (const f of ["api/api_taskdef.json", "web/web_taskdef.json"]) writeFileSync(path.join(v1, f), JSON.stringify(tree(w, "2.0")[f]));
    const changed = await flotilla(["apply", v1], env, work);
    assert.equal(changed.code, 0, changed.stdout + changed.stderr);
    assert.match(changed.stdout, /2 deployments: 2 succeeded, 0 failed/);

    // The world, read back by the user's own client.
    const cfg = { region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "user-script", secretAccessKey: "x" } };
    const ECS = new ecs.ECSClient(cfg);
    const api = (await ECS.send(new ecs.DescribeServicesCommand({ cluster: "apps", services: ["api", "web"] }))).services!;
    assert.deepEqual(api[0]!.deployments!.map((d) => [d.status, d.rolloutState, d.taskDefinition?.split("/")[1]]), [["PRIMARY", "COMPLETED", "api:2"]]);
    const sets = api[1]!.taskSets!.filter((s) => s.status !== "DRAINING");
    assert.deepEqual(sets.map((s) => [s.status, s.taskDefinition?.split("/")[1], s.loadBalancers?.[0]?.targetGroupArn]), [["PRIMARY", "web:2", w.tg["web-green"]]]);
    const listener = (await new elb.ElasticLoadBalancingV2Client(cfg).send(new elb.DescribeListenersCommand({ ListenerArns: [w.listener] }))).Listeners![0]!;
    assert.deepEqual(listener.DefaultActions![0]!.ForwardConfig!.TargetGroups!.map((g) => [g.TargetGroupArn, g.Weight]), [[w.tg["web-blue"], 0], [w.tg["web-green"], 100]]);

    // Who did what, from the endpoint's request log.
    const log = (await (await fetch(`${server.url}/_flotilla/requests?caller=flotilla-apply&since=${since}`)).json()) as { requests: { operation: string; status: number; input?: { DefaultActions?: unknown } }[] };
    const ops = new Set(log.requests.filter((r) => r.status === 200).map((r) => r.operation));
    for (const op of ["RegisterTaskDefinition", "UpdateService", "CreateTaskSet", "ModifyListener", "UpdateServicePrimaryTaskSet", "DeleteTaskSet", "DescribeAlarms"]) assert.ok(ops.has(op), `flotilla apply called ${op}`);
    const weights = log.requests.filter((r) => r.operation === "ModifyListener" && r.status === 200).length;
    assert.ok(weights >= 2, `the canary shifted in steps (${weights} ModifyListener calls)`);
    assert.equal(await server.stop(), 0);
  });
});
