/**
 * The service-deployment operations through `flotilla sim serve`'s wire front door, spoken to by
 * the AWS SDK's own ECS client: an ECS-managed BLUE_GREEN service created and updated by
 * CreateService/UpdateService, followed with ListServiceDeployments, DescribeServiceDeployments and
 * DescribeServiceRevisions, paused at a PAUSE hook and continued, then stopped with rollback.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { SimServer } from "../../src/sim/wire/server.ts";

let realNow = Date.UTC(2026, 0, 1);
let server: SimServer;
let ECS: ecs.ECSClient;
let ELB: elb.ElasticLoadBalancingV2Client;
const pass = (seconds: number) => {
  realNow += seconds * 1000;
};
const ROLE = "arn:aws:iam::123456789012:role/ecs-elb";

const forwardA = [{ type: "forward", targetGroups: [{ targetGroup: "web-a", weight: 100 }, { targetGroup: "web-b", weight: 0 }] }];
const world = {
  throttling: false,
  clusters: ["apps"],
  targetGroups: ["web-a", "web-b"].map((name) => ({ name, healthCheck: { intervalSeconds: 5, healthyThreshold: 2 }, deregistrationDelaySeconds: 5 })),
  loadBalancers: [{ name: "public", listeners: [{ port: 443, defaultActions: [{ type: "fixed-response" }], rules: [{ priority: 10, conditions: [{ field: "path-pattern", values: ["/*"] }], actions: forwardA }] }] }],
};

before(async () => {
  server = await SimServer.start({ realNow: () => realNow, scenarios: [{ data: world, label: "managed" }] });
  const cfg = { region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "wire-test", secretAccessKey: "x" }, maxAttempts: 1 };
  ECS = new ecs.ECSClient(cfg);
  ELB = new elb.ElasticLoadBalancingV2Client(cfg);
});
after(() => server.close());

async function waitFor(arn: string, done: (d: ecs.ServiceDeployment) => boolean): Promise<ecs.ServiceDeployment> {
  for (let i = 0; i < 400; i++) {
    const { serviceDeployments } = await ECS.send(new ecs.DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
    if (done(serviceDeployments![0]!)) return serviceDeployments![0]!;
    pass(5);
  }
  throw new Error("never happened");
}

describe("wire: ECS service deployments", () => {
  it("creates, follows, pauses, continues and stops ECS-managed deployments with the SDK's client", async () => {
    const tgs = await ELB.send(new elb.DescribeTargetGroupsCommand({ Names: ["web-a", "web-b"] }));
    const [a, b] = ["web-a", "web-b"].map((n) => tgs.TargetGroups!.find((t) => t.TargetGroupName === n)!.TargetGroupArn!);
    const listeners = await ELB.send(new elb.DescribeListenersCommand({ LoadBalancerArn: tgs.TargetGroups![0]!.LoadBalancerArns![0] }));
    const rules = await ELB.send(new elb.DescribeRulesCommand({ ListenerArn: listeners.Listeners![0]!.ListenerArn }));
    const prodRule = rules.Rules!.find((r) => r.Priority === "10")!.RuleArn!;
    const taskdef = (image: string) => ({ family: "web", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] });
    const td1 = await ECS.send(new ecs.RegisterTaskDefinitionCommand(taskdef("web:1")));
    const pause = [{ targetType: "PAUSE" as const, lifecycleStages: ["POST_SCALE_UP" as const], timeoutConfiguration: { timeoutInMinutes: 60, action: "ROLLBACK" as const } }];
    const created = await ECS.send(
      new ecs.CreateServiceCommand({
        cluster: "apps",
        serviceName: "web",
        desiredCount: 2,
        taskDefinition: td1.taskDefinition!.taskDefinitionArn,
        deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 1 },
        loadBalancers: [{ targetGroupArn: a, containerName: "app", containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: b, productionListenerRule: prodRule, roleArn: ROLE } }],
      }),
    );
    const first = created.service!.currentServiceDeployment!;
    assert.match(first, /^arn:aws:ecs:us-east-1:123456789012:service-deployment\/apps\/web\/[A-Za-z0-9_]{21}$/);
    assert.equal(created.service!.deploymentConfiguration?.strategy, "BLUE_GREEN");
    assert.equal(created.service!.loadBalancers![0]!.advancedConfiguration?.alternateTargetGroupArn, b, "advancedConfiguration round-trips");
    const done = await waitFor(first, (d) => d.status === "SUCCESSFUL");
    assert.ok(done.finishedAt instanceof Date && done.createdAt instanceof Date);

    const td2 = await ECS.send(new ecs.RegisterTaskDefinitionCommand(taskdef("web:2")));
    const updated = await ECS.send(new ecs.UpdateServiceCommand({ cluster: "apps", service: "web", taskDefinition: td2.taskDefinition!.taskDefinitionArn, deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 1, lifecycleHooks: pause } }));
    const second = updated.service!.currentServiceDeployment!;
    assert.notEqual(second, first);
    const paused = await waitFor(second, (d) => d.lifecycleHookDetails?.some((h) => h.status === "AWAITING_ACTION") ?? false);
    assert.equal(paused.lifecycleStage, "POST_SCALE_UP");
    assert.equal(paused.deploymentConfiguration?.strategy, "BLUE_GREEN");
    const hook = paused.lifecycleHookDetails![0]!;
    assert.deepEqual([hook.targetType, hook.timeoutAction, hook.expiresAt instanceof Date], ["PAUSE", "ROLLBACK", true]);
    const listed = await ECS.send(new ecs.ListServiceDeploymentsCommand({ cluster: "apps", service: "web", status: ["IN_PROGRESS"] }));
    assert.deepEqual(listed.serviceDeployments?.map((s) => s.serviceDeploymentArn), [second]);
    await ECS.send(new ecs.ContinueServiceDeploymentCommand({ serviceDeploymentArn: second, hookId: hook.hookId, action: "CONTINUE" }));
    const baking = await waitFor(second, (d) => d.lifecycleStage === "BAKE_TIME");
    assert.equal(baking.targetServiceRevision?.requestedProductionTrafficWeight, 100);
    const stop = await ECS.send(new ecs.StopServiceDeploymentCommand({ serviceDeploymentArn: second, stopType: "ROLLBACK" }));
    assert.equal(stop.serviceDeploymentArn, second);
    const rolled = await waitFor(second, (d) => d.status === "ROLLBACK_SUCCESSFUL");
    assert.equal(rolled.rollback?.serviceRevisionArn, rolled.sourceServiceRevisions![0]!.arn);
    const stopAgain = await ECS.send(new ecs.StopServiceDeploymentCommand({ serviceDeploymentArn: second, stopType: "ROLLBACK" })).catch((e: Error) => e);
    assert.equal((stopAgain as Error).name, "ConflictException", "the SDK raises ECS's own exception class");

    const revisions = await ECS.send(new ecs.DescribeServiceRevisionsCommand({ serviceRevisionArns: [rolled.targetServiceRevision!.arn!, rolled.sourceServiceRevisions![0]!.arn!] }));
    assert.deepEqual(
      revisions.serviceRevisions?.map((r) => [r.taskDefinition?.split("/")[1], r.resolvedConfiguration?.loadBalancers?.[0]?.targetGroupArn === a ? "web-a" : "web-b"]),
      [["web:2", "web-b"], ["web:1", "web-a"]],
    );
    const missing = await ECS.send(new ecs.DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [second.replace(/[^/]+$/, "nope")] }));
    assert.deepEqual(missing.failures?.map((f) => f.reason), ["MISSING"]);
    const tooMany = await ECS.send(new ecs.DescribeServiceDeploymentsCommand({ serviceDeploymentArns: Array.from({ length: 21 }, () => second) })).catch((e: Error) => e);
    assert.equal((tooMany as Error).name, "InvalidParameterException");
  });
});
