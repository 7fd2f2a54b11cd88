/**
 * The contract suite: the same scenarios against the simulator, through the SDK adapter against
 * `flotilla sim serve` (the simulator's wire front door, started here as a process) and, when
 * FLOTILLA_CONTRACT_ENDPOINT is set, through the SDK adapter against that endpoint (an
 * AWS-compatible ECS/ELBv2/CloudWatch, e.g. a LocalStack, or a real account). The endpoint
 * half needs the cluster FLOTILLA_CONTRACT_CLUSTER (default `flotilla-contract`) to exist and
 * waits in real time, polling every FLOTILLA_CONTRACT_POLL_MS (default 5000).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SystemClock, VirtualClock, type Clock } from "../../src/core/clock.ts";
import { AwsError } from "../../src/aws/errors.ts";
import type { AwsPorts, Service } from "../../src/aws/ports.ts";
import { createClients, createSdkPorts } from "../../src/aws/sdk/index.ts";
import { Simulator } from "../../src/sim/simulator.ts";
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
}

const taskdef = (family: string, image: string) => ({ family, containerDefinitions: [{ name: "app", image, memory: 128, essential: true }] });

async function waitFor(t: Target, what: string, pred: () => Promise<boolean>, maxMs = 15 * 60_000, everyMs = t.pollMs ?? 5_000): Promise<void> {
  const start = t.clock.now();
  while (!(await pred())) {
    if (t.clock.now() - start > maxMs) assert.fail(`timed out waiting for ${what}`);
    await t.wait(everyMs);
  }
}

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
    const describe = async (): Promise<Service> => (await t.ports.ecs.describeServices(t.cluster, [name])).services[0]!;
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
  contract(() => {
    const clock = new VirtualClock();
    const sim = new Simulator({ clock });
    sim.addCluster("contract");
    return Promise.resolve({
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
  // Fast simulated time, so the real-time waits stay short; the cluster is made with CreateCluster.
  before(async () => {
    server = await startSimServe(["--speed", "100"], { env: {} });
    const { ECSClient, CreateClusterCommand } = await import("@aws-sdk/client-ecs");
    await new ECSClient({ region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "contract", secretAccessKey: "x" } }).send(new CreateClusterCommand({ clusterName: "flotilla-contract" }));
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
      pollMs: 100,
      wait: (ms: number) => clock.sleep(ms),
    });
  });
});

const endpoint = process.env["FLOTILLA_CONTRACT_ENDPOINT"];
const pollMs = Number(process.env["FLOTILLA_CONTRACT_POLL_MS"] ?? 5_000);
describe("contract: SDK adapter against FLOTILLA_CONTRACT_ENDPOINT", { skip: endpoint ? false : "FLOTILLA_CONTRACT_ENDPOINT is not set: adapter half skipped" }, () => {
  contract(() => {
    const clock = new SystemClock();
    return Promise.resolve({
      ports: createSdkPorts({ region: process.env["AWS_REGION"] ?? "us-east-1", clock, ...(endpoint ? { endpoint } : {}) }),
      clock,
      cluster: process.env["FLOTILLA_CONTRACT_CLUSTER"] ?? "flotilla-contract",
      suffix: Date.now().toString(36),
      pollMs,
      wait: (ms: number) => clock.sleep(ms),
    });
  });
});
