import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mockClient } from "aws-sdk-client-mock";
import { isDeepStrictEqual } from "node:util";
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  DescribeTaskSetsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DescribeListenersCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { VirtualClock } from "../../src/core/clock.ts";
import { createSdkPorts } from "../../src/aws/sdk/index.ts";
import { AwsError } from "../../src/aws/errors.ts";

const ARN = "arn:aws:ecs:us-east-1:123456789012";
const ecsMock = mockClient(ECSClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);

function ports(opts: { retry?: { maxAttempts?: number } } = {}) {
  const clock = new VirtualClock({ start: 0, autoAdvance: true });
  const clients = { ecs: new ECSClient({ region: "us-east-1" }), elbv2: new ElasticLoadBalancingV2Client({ region: "us-east-1" }), cloudwatch: new CloudWatchClient({ region: "us-east-1" }) };
  return { clock, ports: createSdkPorts({ region: "us-east-1", clock, clients, random: () => 0.5, ...(opts.retry ? { retry: opts.retry } : {}) }) };
}

const sdkService = (name: string) => ({
  serviceName: name,
  serviceArn: `${ARN}:service/prod/${name}`,
  clusterArn: `${ARN}:cluster/prod`,
  status: "ACTIVE",
  desiredCount: 3,
  runningCount: 3,
  pendingCount: 0,
  deploymentController: { type: "ECS" as const },
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
  deployments: [
    { id: "ecs-svc/1", status: "PRIMARY", taskDefinition: `${ARN}:task-definition/web:2`, desiredCount: 3, runningCount: 1, pendingCount: 2, failedTasks: 1, rolloutState: "IN_PROGRESS" as const, rolloutStateReason: "ECS deployment ecs-svc/1 in progress.", createdAt: new Date(1000), updatedAt: new Date(2000) },
  ],
  createdAt: new Date(500),
});

beforeEach(() => {
  ecsMock.reset();
  elbMock.reset();
  cwMock.reset();
});
afterEach(() => {
  ecsMock.reset();
});

describe("SDK adapter: ECS", () => {
  it("coalesces concurrent DescribeServices from many callers into batches of 10 per cluster", async () => {
    ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
      services: input.services.filter((s) => !s.startsWith("gone")).map(sdkService),
      failures: input.services.filter((s) => s.startsWith("gone")).map((s) => ({ arn: `${ARN}:service/prod/${s}`, reason: "MISSING" })),
    }));
    const { ports: p } = ports();
    const names = Array.from({ length: 25 }, (_, i) => `svc-${i}`);
    const results = await Promise.all([...names.map((n) => p.ecs.describeServices("prod", [n])), p.ecs.describeServices("prod", ["gone-1", "svc-0"])]);
    const calls = ecsMock.commandCalls(DescribeServicesCommand);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls.map((c) => c.args[0].input.services?.length), [10, 10, 6]);
    assert.ok(calls.every((c) => c.args[0].input.cluster === "prod"));
    assert.ok(calls.every((c) => isDeepStrictEqual(c.args[0].input.include, ["TAGS"])), "asks for tags, so a plan can compare them");
    assert.equal(results[7]!.services[0]!.serviceName, "svc-7");
    assert.equal(results[7]!.services.length, 1, "each caller gets only its own services");
    assert.deepEqual(results[25]!.failures, [{ arn: `${ARN}:service/prod/gone-1`, reason: "MISSING" }]);
    assert.equal(results[25]!.services[0]!.serviceName, "svc-0");
  });

  it("keeps different clusters in separate requests", async () => {
    ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({ services: input.services.map(sdkService), failures: [] }));
    const { ports: p } = ports();
    await Promise.all([p.ecs.describeServices("a", ["x"]), p.ecs.describeServices("b", ["y"])]);
    assert.deepEqual(ecsMock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.cluster).sort(), ["a", "b"]);
  });

  it("maps the service shape the engine reads (deployments, rollout, counts, times)", async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [sdkService("web")], failures: [] });
    const { ports: p } = ports();
    const s = (await p.ecs.describeServices("prod", ["web"])).services[0]!;
    assert.equal(s.deploymentController.type, "ECS");
    assert.deepEqual(s.deploymentConfiguration.deploymentCircuitBreaker, { enable: true, rollback: true });
    const d = s.deployments[0]!;
    assert.deepEqual([d.status, d.rolloutState, d.failedTasks, d.pendingCount, d.createdAt, d.updatedAt], ["PRIMARY", "IN_PROGRESS", 1, 2, 1000, 2000]);
  });

  it("Given a DescribeServices answer whose deployment has no counts, Then they stay unknown instead of becoming 0", async () => {
    const { desiredCount: _d, runningCount: _r, pendingCount: _p, failedTasks: _f, ...bare } = sdkService("web").deployments[0]!;
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ ...sdkService("web"), deployments: [bare] }], failures: [] });
    const { ports: p } = ports();
    const d = (await p.ecs.describeServices("prod", ["web"])).services[0]!.deployments[0]!;
    assert.deepEqual([d.desiredCount, d.runningCount, d.pendingCount, d.failedTasks], [undefined, undefined, undefined, undefined]);
    assert.equal(d.rolloutState, "IN_PROGRESS");
  });

  it("Given a DescribeTaskSets answer without counts, Then the counts stay unknown instead of becoming 0", async () => {
    const base = { id: "ecs-svc/9", taskSetArn: `${ARN}:task-set/prod/web/ecs-svc/9`, status: "ACTIVE", taskDefinition: `${ARN}:task-definition/web:3`, stabilityStatus: "STEADY_STATE" as const, scale: { value: 100, unit: "PERCENT" as const } };
    ecsMock.on(DescribeTaskSetsCommand).resolves({ taskSets: [base, { ...base, id: "ecs-svc/10", computedDesiredCount: 4, runningCount: 4, pendingCount: 0 }] });
    const { ports: p } = ports();
    const [bare, full] = await p.ecs.describeTaskSets({ cluster: "prod", service: "web" });
    assert.deepEqual([bare!.computedDesiredCount, bare!.runningCount, bare!.pendingCount], [undefined, undefined, undefined]);
    assert.deepEqual([full!.computedDesiredCount, full!.runningCount, full!.pendingCount], [4, 4, 0]);
  });

  it("keeps the raw DescribeServices record, JSON-safe and with its tags, as the service's definition", async () => {
    const raw = { ...sdkService("web"), tags: [{ key: "team", value: "payments" }], launchType: "FARGATE" as const, platformVersion: "LATEST" };
    ecsMock.on(DescribeServicesCommand).resolves({ services: [raw], failures: [] });
    const { ports: p } = ports();
    const s = (await p.ecs.describeServices("prod", ["web"])).services[0]!;
    assert.deepEqual(ecsMock.commandCalls(DescribeServicesCommand)[0]!.args[0].input, { cluster: "prod", services: ["web"], include: ["TAGS"] });
    const def = s.definition!;
    assert.deepEqual(def["tags"], [{ key: "team", value: "payments" }]);
    assert.equal(def["createdAt"], new Date(500).toISOString(), "Dates become ISO strings");
    assert.equal((def["deployments"] as { updatedAt: string }[])[0]!.updatedAt, new Date(2000).toISOString());
    assert.equal(def["platformVersion"], "LATEST");
    assert.deepEqual(JSON.parse(JSON.stringify(def)), def, "survives JSON");
  });

  it("describes task definitions with their tags and keeps the record as the definition", async () => {
    const td = { taskDefinitionArn: `${ARN}:task-definition/web:7`, family: "web", revision: 7, status: "ACTIVE" as const, containerDefinitions: [{ name: "app", image: "x:1", cpu: 0, essential: true }], registeredAt: new Date(3000) };
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: td, tags: [{ key: "team", value: "payments" }] });
    const { ports: p } = ports();
    const r = await p.ecs.describeTaskDefinition("web:7");
    assert.deepEqual(ecsMock.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input, { taskDefinition: "web:7", include: ["TAGS"] });
    assert.equal(r.revision, 7);
    assert.deepEqual(r.definition, { ...td, registeredAt: new Date(3000).toISOString(), tags: [{ key: "team", value: "payments" }] });
  });

  it("splits DescribeTasks into batches of 100 and follows ListTasks pages", async () => {
    ecsMock.on(ListTasksCommand, { nextToken: undefined }).resolves({ taskArns: ["t1", "t2"], nextToken: "p2" });
    ecsMock.on(ListTasksCommand, { nextToken: "p2" }).resolves({ taskArns: ["t3"] });
    ecsMock.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: input.tasks.map((t) => ({ taskArn: `${ARN}:task/prod/${t}`, lastStatus: "RUNNING", desiredStatus: "RUNNING" })), failures: [] }));
    const { ports: p } = ports();
    assert.deepEqual(await p.ecs.listTasks({ cluster: "prod", serviceName: "web" }), ["t1", "t2", "t3"]);
    assert.equal(ecsMock.commandCalls(ListTasksCommand)[0]!.args[0].input.serviceName, "web");
    const ids = Array.from({ length: 230 }, (_, i) => `id${i}`);
    const r = await p.ecs.describeTasks("prod", ids);
    assert.equal(r.tasks.length, 230);
    assert.deepEqual(ecsMock.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks?.length), [100, 100, 30]);
  });

  it("passes the rendered request through unchanged", async () => {
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: `${ARN}:task-definition/web:7`, family: "web", revision: 7, containerDefinitions: [{ name: "app", image: "x:1" }] } });
    ecsMock.on(UpdateServiceCommand).resolves({ service: sdkService("web") });
    const { ports: p } = ports();
    const td = { family: "web", containerDefinitions: [{ name: "app", image: "x:1", essential: true }], cpu: "256" };
    assert.equal((await p.ecs.registerTaskDefinition(td)).revision, 7);
    assert.deepEqual(ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input, td);
    await p.ecs.updateService({ cluster: "prod", service: "web", taskDefinition: `${ARN}:task-definition/web:7`, forceNewDeployment: true });
    assert.equal(ecsMock.commandCalls(UpdateServiceCommand)[0]!.args[0].input.forceNewDeployment, true);
  });

  it("retries throttling and transient errors, then succeeds", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 400 } });
    const server = Object.assign(new Error("boom"), { name: "ServerException", $fault: "server", $metadata: { httpStatusCode: 500 } });
    ecsMock.on(UpdateServiceCommand).rejectsOnce(throttled).rejectsOnce(server).resolves({ service: sdkService("web") });
    const { ports: p, clock } = ports();
    const s = await p.ecs.updateService({ cluster: "prod", service: "web", desiredCount: 3 });
    assert.equal(s.serviceName, "web");
    assert.equal(ecsMock.commandCalls(UpdateServiceCommand).length, 3);
    assert.ok(clock.now() > 0, "backed off on the clock");
  });

  it("maps SDK exceptions to AwsError with AWS's name and does not retry them", async () => {
    ecsMock.on(UpdateServiceCommand).rejects(new ServiceNotFoundException({ message: "Service not found.", $metadata: { httpStatusCode: 400 } }));
    const { ports: p } = ports();
    await assert.rejects(p.ecs.updateService({ cluster: "prod", service: "nope" }), (e: unknown) => {
      assert.ok(e instanceof AwsError);
      assert.equal(e.name, "ServiceNotFoundException");
      assert.equal(e.message, "Service not found.");
      assert.equal(e.retryable, false);
      assert.equal(e.operation, "UpdateService");
      return true;
    });
    assert.equal(ecsMock.commandCalls(UpdateServiceCommand).length, 1);
  });
});

describe("SDK adapter: ECS service deployments", () => {
  const sdArn = (n: number) => `${ARN}:service-deployment/prod/web/d${n}`;
  it("follows ListServiceDeployments pages (newest first) and passes the createdAt filter as a Date", async () => {
    ecsMock.on(ListServiceDeploymentsCommand).callsFake((input: { nextToken?: string; createdAt?: { after?: Date } }) => {
      assert.ok(input.createdAt?.after instanceof Date && input.createdAt.after.getTime() === 5000);
      return input.nextToken
        ? { serviceDeployments: [{ serviceDeploymentArn: sdArn(1), status: "SUCCESSFUL", createdAt: new Date(6000) }] }
        : { serviceDeployments: [{ serviceDeploymentArn: sdArn(2), status: "IN_PROGRESS", targetServiceRevisionArn: `${ARN}:service-revision/prod/web/2`, createdAt: new Date(7000) }], nextToken: "p2" };
    });
    const { ports: p } = ports();
    const briefs = await p.ecs.listServiceDeployments({ cluster: "prod", service: "web", createdAfter: 5000 });
    assert.deepEqual(briefs.map((b) => [b.serviceDeploymentArn, b.status, b.createdAt]), [[sdArn(2), "IN_PROGRESS", 7000], [sdArn(1), "SUCCESSFUL", 6000]]);
    assert.equal(briefs[0]!.targetServiceRevisionArn, `${ARN}:service-revision/prod/web/2`);
  });

  it("describes service deployments 20 at a time and maps stages, weights, hooks, rollback and monitors", async () => {
    ecsMock.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => ({
      serviceDeployments: input.serviceDeploymentArns.map((arn) => ({
        serviceDeploymentArn: arn,
        status: "ROLLBACK_IN_PROGRESS",
        statusReason: "alarm",
        lifecycleStage: "PRODUCTION_TRAFFIC_SHIFT",
        deploymentConfiguration: { strategy: "LINEAR" },
        targetServiceRevision: { arn: "t", requestedTaskCount: 3, runningTaskCount: 2, pendingTaskCount: 1, requestedProductionTrafficWeight: 30, requestedTestTrafficWeight: 100 },
        sourceServiceRevisions: [{ arn: "s", requestedProductionTrafficWeight: 70 }],
        lifecycleHookDetails: [{ hookId: "h", targetType: "PAUSE", status: "AWAITING_ACTION", expiresAt: new Date(9000), timeoutAction: "ROLLBACK" }],
        rollback: { reason: "alarm", startedAt: new Date(8000), serviceRevisionArn: "s" },
        deploymentCircuitBreaker: { status: "MONITORING", failureCount: 1, threshold: 3 },
        alarms: { status: "TRIGGERED", alarmNames: ["a", "b"], triggeredAlarmNames: ["a"] },
        createdAt: new Date(1000),
      })),
      failures: [],
    }));
    const { ports: p } = ports();
    const arns = Array.from({ length: 25 }, (_, i) => sdArn(i));
    const { serviceDeployments } = await p.ecs.describeServiceDeployments(arns);
    assert.equal(ecsMock.commandCalls(DescribeServiceDeploymentsCommand).length, 2);
    assert.equal(serviceDeployments.length, 25);
    const d = serviceDeployments[0]!;
    assert.deepEqual([d.status, d.lifecycleStage, d.strategy, d.targetServiceRevision?.requestedProductionTrafficWeight, d.sourceServiceRevisions[0]!.requestedProductionTrafficWeight], ["ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", "LINEAR", 30, 70]);
    assert.deepEqual(d.lifecycleHookDetails, [{ hookId: "h", targetType: "PAUSE", status: "AWAITING_ACTION", expiresAt: 9000, timeoutAction: "ROLLBACK" }]);
    assert.deepEqual(d.rollback, { reason: "alarm", startedAt: 8000, serviceRevisionArn: "s" });
    assert.deepEqual([d.circuitBreaker, d.alarms?.triggeredAlarmNames], [{ status: "MONITORING", failureCount: 1, threshold: 3 }, ["a"]]);
  });

  it("describes service revisions with the target group that serves them, and sends stop and continue as given", async () => {
    ecsMock.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [{ serviceRevisionArn: "r", taskDefinition: `${ARN}:task-definition/web:2`, loadBalancers: [{ targetGroupArn: "tg-a", advancedConfiguration: { alternateTargetGroupArn: "tg-b", productionListenerRule: "rule", roleArn: "role" } }], resolvedConfiguration: { loadBalancers: [{ targetGroupArn: "tg-b", productionListenerRule: "rule" }] }, createdAt: new Date(3000) }],
    });
    ecsMock.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: sdArn(1) });
    ecsMock.on(ContinueServiceDeploymentCommand).resolves({ serviceDeploymentArn: sdArn(1) });
    const { ports: p } = ports();
    const [rev] = (await p.ecs.describeServiceRevisions(["r"])).serviceRevisions;
    assert.deepEqual([rev!.resolvedLoadBalancers, rev!.loadBalancers[0]!.advancedConfiguration?.alternateTargetGroupArn, rev!.createdAt], [[{ targetGroupArn: "tg-b", productionListenerRule: "rule" }], "tg-b", 3000]);
    await p.ecs.stopServiceDeployment({ serviceDeploymentArn: sdArn(1), stopType: "ROLLBACK" });
    await p.ecs.continueServiceDeployment({ serviceDeploymentArn: sdArn(1), hookId: "h", action: "CONTINUE" });
    assert.deepEqual(ecsMock.commandCalls(StopServiceDeploymentCommand)[0]!.args[0].input, { serviceDeploymentArn: sdArn(1), stopType: "ROLLBACK" });
    assert.deepEqual(ecsMock.commandCalls(ContinueServiceDeploymentCommand)[0]!.args[0].input, { serviceDeploymentArn: sdArn(1), hookId: "h", action: "CONTINUE" });
  });
});

describe("SDK adapter: ELBv2 and CloudWatch", () => {
  it("sends forward weights in the ELBv2 shape and maps the answer back", async () => {
    const tgA = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
    const tgB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";
    elbMock.on(ModifyListenerCommand).callsFake((input: { ListenerArn: string; DefaultActions: unknown[] }) => ({ Listeners: [{ ListenerArn: input.ListenerArn, LoadBalancerArn: "lb", DefaultActions: input.DefaultActions }] }));
    const { ports: p } = ports();
    const l = await p.elbv2.modifyListener({ listenerArn: "L", defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: tgA, weight: 80 }, { targetGroupArn: tgB, weight: 20 }] } }] });
    assert.deepEqual(elbMock.commandCalls(ModifyListenerCommand)[0]!.args[0].input.DefaultActions, [
      { Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgA, Weight: 80 }, { TargetGroupArn: tgB, Weight: 20 }] } },
    ]);
    assert.deepEqual(l.defaultActions[0]!.forwardConfig!.targetGroups.map((g) => g.weight), [80, 20]);
  });

  it("follows DescribeListeners markers", async () => {
    elbMock.on(DescribeListenersCommand, { Marker: undefined }).resolves({ Listeners: [{ ListenerArn: "l1" }], NextMarker: "m" });
    elbMock.on(DescribeListenersCommand, { Marker: "m" }).resolves({ Listeners: [{ ListenerArn: "l2" }] });
    const { ports: p } = ports();
    assert.deepEqual((await p.elbv2.describeListeners({ loadBalancerArn: "lb" })).map((l) => l.listenerArn), ["l1", "l2"]);
  });

  it("batches DescribeAlarms by 100 names, asks for both alarm types and follows NextToken", async () => {
    cwMock.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[]; NextToken?: string }) => {
      if (input.AlarmNames.includes("composite") && !input.NextToken) return { MetricAlarms: [], NextToken: "n" };
      return {
        MetricAlarms: input.AlarmNames.filter((n) => n !== "composite").map((n) => ({ AlarmName: n, StateValue: "OK", StateUpdatedTimestamp: new Date(5) })),
        CompositeAlarms: input.AlarmNames.includes("composite") ? [{ AlarmName: "composite", StateValue: "ALARM", AlarmRule: 'ALARM("a")' }] : [],
      };
    });
    const { ports: p } = ports();
    const names = Array.from({ length: 150 }, (_, i) => `a${i}`);
    const [many, one] = await Promise.all([p.cloudwatch.describeAlarms(names), p.cloudwatch.describeAlarms(["composite"])]);
    assert.equal(many.length, 150);
    assert.equal(one.length, 1);
    assert.equal(one[0]!.type, "composite");
    assert.equal(one[0]!.stateValue, "ALARM");
    const calls = cwMock.commandCalls(DescribeAlarmsCommand);
    assert.ok(calls.every((c) => (c.args[0].input.AlarmNames?.length ?? 0) <= 100));
    assert.deepEqual(calls[0]!.args[0].input.AlarmTypes, ["MetricAlarm", "CompositeAlarm"]);
    assert.equal(calls.filter((c) => c.args[0].input.NextToken === "n").length, 1);
  });

  it("reports a metric alarm's period, a metric math alarm's shortest, and none for a composite alarm (how often CloudWatch can change them)", async () => {
    cwMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: "standard", StateValue: "OK", Period: 300 },
        { AlarmName: "math", StateValue: "OK", Metrics: [{ Id: "e", Expression: "m1/m2" }, { Id: "m1", MetricStat: { Metric: { MetricName: "5xx" }, Period: 60, Stat: "Sum" } }, { Id: "m2", MetricStat: { Metric: { MetricName: "all" }, Period: 10, Stat: "Sum" } }] },
      ],
      CompositeAlarms: [{ AlarmName: "composite", StateValue: "OK", AlarmRule: 'ALARM("standard")' }],
    });
    const { ports: p } = ports();
    const alarms = await p.cloudwatch.describeAlarms(["standard", "math", "composite"]);
    assert.deepEqual(Object.fromEntries(alarms.map((a) => [a.alarmName, a.period])), { standard: 300, math: 10, composite: undefined });
  });
});
