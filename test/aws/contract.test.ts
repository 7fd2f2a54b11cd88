/**
 * The contract suite: the same scenarios against the simulator, through the SDK adapter against
 * `flotilla sim serve` (the simulator's wire front door, started here as a process) and, when
 * FLOTILLA_CONTRACT_ENDPOINT is set, through the SDK adapter against that endpoint (an
 * AWS-compatible ECS/ELBv2/CloudWatch, e.g. a LocalStack, or a real account). The endpoint
 * half needs the cluster FLOTILLA_CONTRACT_CLUSTER (default `flotilla-contract`) to exist and
 * waits in real time, polling every FLOTILLA_CONTRACT_POLL_MS (default 5000) for at most
 * FLOTILLA_CONTRACT_WAIT_MS (default 15 minutes). docs/aws-endpoints.md says what fails on moto and why.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SystemClock, VirtualClock, type Clock } from "../../src/core/clock.ts";
import { AwsError } from "../../src/aws/errors.ts";
import type { AwsPorts, Service } from "../../src/aws/ports.ts";
import { createClients, createSdkPorts } from "../../src/aws/sdk/index.ts";
import { Simulator } from "../../src/sim/simulator.ts";
import { defaultVpc } from "../../src/sim/vpc.ts";
import { killSimServes, startSimServe, type SimServeProcess } from "../helpers/sim-serve.ts";

interface Target {
  ports: AwsPorts;
  clock: Clock;
  cluster: string;
  /** Let time pass (virtual for the simulator, real for an endpoint). */
  wait(ms: number): Promise<void>;
  suffix: string;
  /** How often to poll while waiting for AWS to get somewhere. */
  pollMs?: number;
  /** How long to wait for AWS to get somewhere (default 15 minutes). */
  waitMs?: number;
  /** An Application Load Balancer listener the rule cases may add rules to, and the VPC of its target groups. */
  listener?: { arn: string; vpcId: string };
}

const taskdef = (family: string, image: string) => ({ family, containerDefinitions: [{ name: "app", image, memory: 128, essential: true }] });

/** What the last look saw, for a wait that times out (an endpoint that never progresses ECS deployments, as moto). */
let lastSeen = "";

async function waitFor(t: Target, what: string, pred: () => Promise<boolean>, maxMs = t.waitMs ?? 15 * 60_000, everyMs = t.pollMs ?? 5_000): Promise<void> {
  const start = t.clock.now();
  lastSeen = "";
  while (!(await pred())) {
    if (t.clock.now() - start > maxMs) assert.fail(`timed out after ${Math.round(maxMs / 1000)}s waiting for ${what}${lastSeen ? `; last seen: ${lastSeen}` : ""}`);
    await t.wait(everyMs);
  }
}

const seen = (s: Service): string =>
  `${s.status}, ${s.runningCount}/${s.desiredCount} running; deployments ${s.deployments.map((d) => `${d.status} ${d.rolloutState ?? "(no rolloutState)"} ${d.runningCount ?? "?"}/${d.desiredCount ?? "?"} running, ${d.pendingCount ?? "?"} pending`).join("; ")}`;

const isAws = (name: string) => (e: unknown) => e instanceof AwsError && e.name === name;

function contract(make: () => Promise<Target>) {
  it("registers task definitions as new revisions of a family", async () => {
    const t = await make();
    const a = await t.ports.ecs.registerTaskDefinition(taskdef(`contract-td-${t.suffix}`, "public.ecr.aws/docker/library/busybox:1"));
    const b = await t.ports.ecs.registerTaskDefinition(taskdef(`contract-td-${t.suffix}`, "public.ecr.aws/docker/library/busybox:2"));
    assert.equal(b.revision, a.revision + 1);
    assert.match(b.taskDefinitionArn, new RegExp(`:task-definition/contract-td-${t.suffix}:${b.revision}$`));
    assert.equal((await t.ports.ecs.describeTaskDefinition(b.taskDefinitionArn)).containerDefinitions[0]!.image, "public.ecr.aws/docker/library/busybox:2");
  });

  it("creates, rolls, scales to zero and deletes a service, reporting deployments as ECS does", async () => {
    const t = await make();
    const name = `contract-svc-${t.suffix}`;
    const one = await t.ports.ecs.registerTaskDefinition(taskdef(name, "public.ecr.aws/docker/library/busybox:1"));
    const created = await t.ports.ecs.createService({ cluster: t.cluster, serviceName: name, taskDefinition: one.taskDefinitionArn, desiredCount: 2 });
    assert.equal(created.status, "ACTIVE");
    assert.equal(created.deployments.length, 1);
    assert.equal(created.deployments[0]!.status, "PRIMARY");
    assert.equal(created.deployments[0]!.rolloutState, "IN_PROGRESS");
    const describe = async (): Promise<Service> => {
      const s = (await t.ports.ecs.describeServices(t.cluster, [name])).services[0]!;
      lastSeen = seen(s);
      return s;
    };
    await waitFor(t, "first deployment COMPLETED", async () => (await describe()).deployments[0]?.rolloutState === "COMPLETED");
    assert.equal((await describe()).runningCount, 2);

    const two = await t.ports.ecs.registerTaskDefinition(taskdef(name, "public.ecr.aws/docker/library/busybox:2"));
    const updated = await t.ports.ecs.updateService({ cluster: t.cluster, service: name, taskDefinition: two.taskDefinitionArn });
    assert.deepEqual(updated.deployments.map((d) => d.status), ["PRIMARY", "ACTIVE"]);
    assert.equal(updated.deployments[0]!.taskDefinition, two.taskDefinitionArn);
    await waitFor(t, "second deployment COMPLETED", async () => {
      const s = await describe();
      return s.deployments.length === 1 && s.deployments[0]!.rolloutState === "COMPLETED";
    });
    assert.equal((await describe()).taskDefinition, two.taskDefinitionArn);

    await assert.rejects(t.ports.ecs.deleteService({ cluster: t.cluster, service: name }), isAws("InvalidParameterException"));
    await t.ports.ecs.updateService({ cluster: t.cluster, service: name, desiredCount: 0 });
    const deleted = await t.ports.ecs.deleteService({ cluster: t.cluster, service: name });
    assert.equal(deleted.status, "DRAINING");
    await waitFor(t, "INACTIVE", async () => (await describe()).status === "INACTIVE");
    await assert.rejects(t.ports.ecs.updateService({ cluster: t.cluster, service: name, desiredCount: 1 }), isAws("ServiceNotActiveException"));
  });

  it("creates a target group and a listener rule, refuses a priority in use and a group in use, and deletes both", async (ctx) => {
    const t = await make();
    if (!t.listener) return ctx.skip("no listener to add rules to (FLOTILLA_CONTRACT_LISTENER, FLOTILLA_CONTRACT_VPC)");
    const { arn: listenerArn, vpcId } = t.listener;
    const name = `ctr-${t.suffix}`.slice(0, 32);
    const input = { name, protocol: "HTTP", port: 8080, vpcId, targetType: "ip", healthCheck: { path: "/health", intervalSeconds: 10, healthyThresholdCount: 2 }, tags: [{ key: "flotilla:object", value: "contract" }] };
    const tg = await t.ports.elbv2.createTargetGroup(input);
    assert.deepEqual([tg.targetGroupName, tg.port, tg.healthCheckIntervalSeconds, tg.healthyThresholdCount, tg.healthCheckPath, tg.loadBalancerArns], [name, 8080, 10, 2, "/health", []]);
    assert.equal((await t.ports.elbv2.createTargetGroup(input)).targetGroupArn, tg.targetGroupArn, "the same name and settings answer the same group");
    const taken = (await t.ports.elbv2.describeRules({ listenerArn })).filter((r) => !r.isDefault).map((r) => Number(r.priority));
    const priority = Math.max(0, ...taken) + 1;
    const conditions = [{ Field: "host-header", HostHeaderConfig: { Values: [`${name}.example.com`] } }];
    const rule = await t.ports.elbv2.createRule({ listenerArn, priority, conditions, actions: [{ type: "forward", targetGroupArn: tg.targetGroupArn }] });
    assert.equal(rule.priority, String(priority));
    assert.deepEqual((rule.conditions[0]!["HostHeaderConfig"] as { Values: string[] }).Values, [`${name}.example.com`]);
    assert.equal((await t.ports.elbv2.describeTargetGroups({ targetGroupArns: [tg.targetGroupArn] }))[0]!.loadBalancerArns.length, 1, "the rule ties the group to the load balancer");
    await assert.rejects(t.ports.elbv2.createRule({ listenerArn, priority, conditions, actions: [{ type: "forward", targetGroupArn: tg.targetGroupArn }] }), isAws("PriorityInUse"));
    await assert.rejects(t.ports.elbv2.deleteTargetGroup(tg.targetGroupArn), isAws("ResourceInUse"));
    await t.ports.elbv2.deleteRule(rule.ruleArn);
    await assert.rejects(t.ports.elbv2.deleteRule(rule.ruleArn), isAws("RuleNotFound"));
    await t.ports.elbv2.deleteTargetGroup(tg.targetGroupArn);
    await assert.rejects(t.ports.elbv2.describeTargetGroups({ targetGroupArns: [tg.targetGroupArn] }), isAws("TargetGroupNotFound"));
  });

  it("answers unknown names with AWS's errors and MISSING failures", async () => {
    const t = await make();
    await assert.rejects(t.ports.ecs.updateService({ cluster: t.cluster, service: `missing-${t.suffix}`, desiredCount: 1 }), isAws("ServiceNotFoundException"));
    await assert.rejects(t.ports.ecs.describeServices(`no-cluster-${t.suffix}`, ["x"]), isAws("ClusterNotFoundException"));
    const r = await t.ports.ecs.describeServices(t.cluster, [`missing-${t.suffix}`]);
    assert.equal(r.services.length, 0);
    assert.equal(r.failures[0]?.reason, "MISSING");
    assert.deepEqual(await t.ports.cloudwatch.describeAlarms([`missing-${t.suffix}`]), []);
  });
}

describe("contract: simulator", () => {
  contract(async () => {
    const clock = new VirtualClock();
    const sim = new Simulator({ clock });
    sim.addCluster("contract");
    const lb = await sim.world().elbv2.createLoadBalancer({ Name: "contract" });
    const listener = await sim.world().elbv2.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, Protocol: "HTTP", DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } }] });
    return Promise.resolve({
      listener: { arn: String(listener["ListenerArn"]), vpcId: defaultVpc(sim.region, sim.account).vpcId },
      ports: sim.ports(),
      clock,
      cluster: "contract",
      suffix: "sim",
      wait: async (ms: number) => {
        await clock.advance(ms);
        sim.sync();
      },
    });
  });
});

describe("contract: SDK adapter against flotilla sim serve", () => {
  let server: SimServeProcess;
  let listener: { arn: string; vpcId: string };
  // Fast simulated time, so the real-time waits stay short; the cluster is made with CreateCluster.
  before(async () => {
    server = await startSimServe(["--speed", "100"], { env: {} });
    const { ECSClient, CreateClusterCommand } = await import("@aws-sdk/client-ecs");
    await new ECSClient({ region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "contract", secretAccessKey: "x" } }).send(new CreateClusterCommand({ clusterName: "flotilla-contract" }));
    const elb = await import("@aws-sdk/client-elastic-load-balancing-v2");
    const client = new elb.ElasticLoadBalancingV2Client({ region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "contract", secretAccessKey: "x" } });
    const lb = await client.send(new elb.CreateLoadBalancerCommand({ Name: "contract" }));
    const l = await client.send(new elb.CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn, Port: 80, Protocol: "HTTP", DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } }] }));
    listener = { arn: l.Listeners![0]!.ListenerArn!, vpcId: defaultVpc("us-east-1", "123456789012").vpcId };
  });
  after(async () => {
    try {
      assert.equal(await server.stop(), 0, server.output().stderr);
    } finally {
      killSimServes();
    }
  });
  contract(() => {
    const clock = new SystemClock();
    return Promise.resolve({
      ports: createSdkPorts({
        region: "us-east-1",
        clock,
        clients: createClients("us-east-1", server.url, { credentials: { accessKeyId: "contract", secretAccessKey: "x" } }),
      }),
      clock,
      cluster: "flotilla-contract",
      suffix: "wire",
      listener,
      pollMs: 100,
      wait: (ms: number) => clock.sleep(ms),
    });
  });
});

const endpoint = process.env["FLOTILLA_CONTRACT_ENDPOINT"];
const pollMs = Number(process.env["FLOTILLA_CONTRACT_POLL_MS"] ?? 5_000);
const waitMs = Number(process.env["FLOTILLA_CONTRACT_WAIT_MS"] ?? 15 * 60_000);
describe("contract: SDK adapter against FLOTILLA_CONTRACT_ENDPOINT", { skip: endpoint ? false : "FLOTILLA_CONTRACT_ENDPOINT is not set: adapter half skipped" }, () => {
  contract(() => {
    const clock = new SystemClock();
    return Promise.resolve({
      ports: createSdkPorts({ region: process.env["AWS_REGION"] ?? "us-east-1", clock, ...(endpoint ? { endpoint } : {}) }),
      clock,
      cluster: process.env["FLOTILLA_CONTRACT_CLUSTER"] ?? "flotilla-contract",
      suffix: Date.now().toString(36),
      ...(process.env["FLOTILLA_CONTRACT_LISTENER"] && process.env["FLOTILLA_CONTRACT_VPC"] ? { listener: { arn: process.env["FLOTILLA_CONTRACT_LISTENER"], vpcId: process.env["FLOTILLA_CONTRACT_VPC"] } } : {}),
      pollMs,
      waitMs,
      wait: (ms: number) => clock.sleep(ms),
    });
  });
});
