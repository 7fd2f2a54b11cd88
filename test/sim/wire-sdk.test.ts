/**
 * The simulator's wire front door, spoken to by the AWS SDK's own clients: every operation it
 * answers, the records it returns, and errors that the SDK turns into the same named exceptions
 * (and HTTP statuses) it raises against AWS. Real time is injected, so the server's clock moves
 * only when a test moves it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import * as cw from "@aws-sdk/client-cloudwatch";
import * as ec2 from "@aws-sdk/client-ec2";
import { AwsQueryProtocol } from "@aws-sdk/core/protocols";
import { SimServer } from "../../src/sim/wire/server.ts";

const T0 = Date.UTC(2026, 0, 1);
let realNow = T0;
let server: SimServer;
let cfg: { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
let ECS: ecs.ECSClient;
let ELB: elb.ElasticLoadBalancingV2Client;
let CW: cw.CloudWatchClient;
let EC2: ec2.EC2Client;

/** Let `ms` of real (= simulated, at speed 1) time pass. */
const pass = (ms: number) => {
  realNow += ms;
};

/** The SDK exception a call rejects with: its class name, the error code and the HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; code: string | undefined; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; Code?: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, code: err.Code, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error("expected the call to fail");
}

before(async () => {
  server = await SimServer.start({ realNow: () => realNow, scenarios: [{ data: { throttling: false }, label: "no-throttling" }] });
  cfg = { region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "wire-test", secretAccessKey: "x" }, maxAttempts: 1 };
  ECS = new ecs.ECSClient(cfg);
  ELB = new elb.ElasticLoadBalancingV2Client(cfg);
  CW = new cw.CloudWatchClient(cfg);
  EC2 = new ec2.EC2Client(cfg);
});
after(() => server.close());

const taskdef = (family: string, image: string) => ({ family, networkMode: "awsvpc" as const, cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] });

describe("wire: ECS (JSON 1.1)", () => {
  it("creates and describes clusters; unknown ones are MISSING; lists page with nextToken", async () => {
    const made = await ECS.send(new ecs.CreateClusterCommand({ clusterName: "prod", tags: [{ key: "team", value: "web" }] }));
    assert.equal(made.cluster?.clusterArn, "arn:aws:ecs:us-east-1:123456789012:cluster/prod");
    await ECS.send(new ecs.CreateClusterCommand({ clusterName: "staging" }));
    const d = await ECS.send(new ecs.DescribeClustersCommand({ clusters: ["prod", "nope"] }));
    assert.deepEqual(d.clusters?.map((c) => [c.clusterName, c.status, c.tags]), [["prod", "ACTIVE", [{ key: "team", value: "web" }]]]);
    assert.deepEqual(d.failures, [{ arn: "arn:aws:ecs:us-east-1:123456789012:cluster/nope", reason: "MISSING" }]);
    const first = await ECS.send(new ecs.ListClustersCommand({ maxResults: 1 }));
    assert.equal(first.clusterArns?.length, 1);
    const rest = await ECS.send(new ecs.ListClustersCommand({ nextToken: first.nextToken }));
    assert.equal(rest.nextToken, undefined);
    assert.deepEqual([...first.clusterArns, ...rest.clusterArns!].sort(), ["arn:aws:ecs:us-east-1:123456789012:cluster/prod", "arn:aws:ecs:us-east-1:123456789012:cluster/staging"]);
    assert.deepEqual(await failure(ECS.send(new ecs.ListClustersCommand({ nextToken: "garbage" }))), { name: "InvalidParameterException", code: undefined, status: 400, message: "Invalid nextToken." });
  });

  it("registers, describes, lists and deregisters task definitions", async () => {
    const one = await ECS.send(new ecs.RegisterTaskDefinitionCommand({ ...taskdef("web", "web:1"), tags: [{ key: "app", value: "web" }] }));
    assert.equal(one.taskDefinition?.taskDefinitionArn, "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1");
    assert.deepEqual(one.tags, [{ key: "app", value: "web" }]);
    assert.ok(one.taskDefinition?.registeredAt instanceof Date, "timestamps arrive as epoch seconds and parse to Dates");
    await ECS.send(new ecs.RegisterTaskDefinitionCommand(taskdef("web", "web:2")));
    const d = await ECS.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition: "web:1", include: ["TAGS"] }));
    assert.deepEqual([d.taskDefinition?.revision, d.taskDefinition?.containerDefinitions?.[0]?.image, d.taskDefinition?.compatibilities, d.tags], [1, "web:1", ["EC2", "FARGATE"], [{ key: "app", value: "web" }]]);
    assert.deepEqual(await failure(ECS.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition: "nope" }))), { name: "ClientException", code: undefined, status: 400, message: "Unable to describe task definition." });
    const listed = await ECS.send(new ecs.ListTaskDefinitionsCommand({ familyPrefix: "web", sort: "DESC" }));
    assert.deepEqual(listed.taskDefinitionArns?.map((a) => a.split("/")[1]), ["web:2", "web:1"]);
    const gone = await ECS.send(new ecs.DeregisterTaskDefinitionCommand({ taskDefinition: "web:2" }));
    assert.equal(gone.taskDefinition?.status, "INACTIVE");
    assert.equal((await failure(ECS.send(new ecs.RegisterTaskDefinitionCommand({ family: "bad", containerDefinitions: [] })))).name, "ClientException");
  });

  it("runs a rolling deployment on the server's clock, reporting it as ECS does", async () => {
    const created = await ECS.send(new ecs.CreateServiceCommand({ cluster: "prod", serviceName: "web", taskDefinition: "web:1", desiredCount: 2, launchType: "FARGATE", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }));
    assert.deepEqual([created.service?.status, created.service?.deployments?.[0]?.rolloutState, created.service?.launchType, created.service?.platformVersion], ["ACTIVE", "IN_PROGRESS", "FARGATE", "LATEST"]);
    assert.equal((await failure(ECS.send(new ecs.CreateServiceCommand({ cluster: "prod", serviceName: "web", taskDefinition: "web:1" })))).message, "Creation of service was not idempotent.");
    pass(10_000);
    const tasks = await ECS.send(new ecs.ListTasksCommand({ cluster: "prod", serviceName: "web", maxResults: 1 }));
    assert.equal(tasks.taskArns?.length, 1);
    assert.ok(tasks.nextToken, "a second page");
    const described = await ECS.send(new ecs.DescribeTasksCommand({ cluster: "prod", tasks: [tasks.taskArns[0]!, "arn:aws:ecs:us-east-1:123456789012:task/prod/0000"] }));
    assert.deepEqual([described.tasks?.[0]?.lastStatus, described.tasks?.[0]?.launchType, described.tasks?.[0]?.group], ["PENDING", "FARGATE", "service:web"]);
    assert.deepEqual(described.failures?.map((f) => f.reason), ["MISSING"]);
    pass(60_000);
    const steady = await ECS.send(new ecs.DescribeServicesCommand({ cluster: "prod", services: ["web", "nope"], include: ["TAGS"] }));
    assert.deepEqual([steady.services?.[0]?.runningCount, steady.services?.[0]?.deployments?.[0]?.rolloutState], [2, "COMPLETED"]);
    assert.deepEqual(steady.failures, [{ arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/nope", reason: "MISSING" }]);
    const updated = await ECS.send(new ecs.UpdateServiceCommand({ cluster: "prod", service: "web", taskDefinition: "web:1", forceNewDeployment: true }));
    assert.deepEqual(updated.service?.deployments?.map((d) => d.status), ["PRIMARY", "ACTIVE"]);
    pass(120_000);
    const done = await ECS.send(new ecs.DescribeServicesCommand({ cluster: "prod", services: ["web"] }));
    assert.deepEqual(done.services?.[0]?.deployments?.map((d) => [d.status, d.rolloutState]), [["PRIMARY", "COMPLETED"]]);
    assert.match(done.services?.[0]?.events?.[0]?.message ?? "", /has reached a steady state/);
    assert.deepEqual(await ECS.send(new ecs.ListServicesCommand({ cluster: "prod" })).then((r) => r.serviceArns), ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"]);
  });

  it("answers ECS's errors with their names and statuses", async () => {
    assert.deepEqual(await failure(ECS.send(new ecs.UpdateServiceCommand({ cluster: "prod", service: "nope", desiredCount: 1 }))), { name: "ServiceNotFoundException", code: undefined, status: 400, message: "Service not found." });
    assert.equal((await failure(ECS.send(new ecs.DescribeServicesCommand({ cluster: "nope", services: ["x"] })))).name, "ClusterNotFoundException");
    assert.equal((await failure(ECS.send(new ecs.DeleteServiceCommand({ cluster: "prod", service: "web" })))).message, "The service cannot be stopped while it is scaled above 0.");
    const eleven = Array.from({ length: 11 }, (_, i) => `s${i}`);
    assert.equal((await failure(ECS.send(new ecs.DescribeServicesCommand({ cluster: "prod", services: eleven })))).name, "InvalidParameterException");
    const runTask = await failure(ECS.send(new ecs.RunTaskCommand({ cluster: "prod", taskDefinition: "web:1" })));
    assert.equal(runTask.name, "UnknownOperationException");
    assert.match(runTask.message, /does not model ECS RunTask/);
  });

  it("manages task sets of an EXTERNAL service", async () => {
    await ECS.send(new ecs.CreateServiceCommand({ cluster: "prod", serviceName: "bg", desiredCount: 2, deploymentController: { type: "EXTERNAL" } }));
    const ts = await ECS.send(new ecs.CreateTaskSetCommand({ cluster: "prod", service: "bg", taskDefinition: "web:1", externalId: "blue", scale: { value: 100, unit: "PERCENT" }, launchType: "FARGATE" }));
    assert.deepEqual([ts.taskSet?.status, ts.taskSet?.externalId, ts.taskSet?.launchType, ts.taskSet?.computedDesiredCount], ["ACTIVE", "blue", "FARGATE", 2]);
    const id = ts.taskSet!.id!;
    await ECS.send(new ecs.UpdateServicePrimaryTaskSetCommand({ cluster: "prod", service: "bg", primaryTaskSet: id }));
    const scaled = await ECS.send(new ecs.UpdateTaskSetCommand({ cluster: "prod", service: "bg", taskSet: id, scale: { value: 50, unit: "PERCENT" } }));
    assert.deepEqual([scaled.taskSet?.status, scaled.taskSet?.computedDesiredCount], ["PRIMARY", 1]);
    const listed = await ECS.send(new ecs.DescribeTaskSetsCommand({ cluster: "prod", service: "bg", taskSets: [id, "ecs-svc/0"] }));
    assert.deepEqual([listed.taskSets?.length, listed.failures?.map((f) => f.reason)], [1, ["MISSING"]]);
    assert.equal((await failure(ECS.send(new ecs.DeleteTaskSetCommand({ cluster: "prod", service: "bg", taskSet: "ecs-svc/0" })))).name, "TaskSetNotFoundException");
    assert.equal((await failure(ECS.send(new ecs.CreateTaskSetCommand({ cluster: "prod", service: "web", taskDefinition: "web:1" })))).name, "InvalidParameterException");
    const deleted = await ECS.send(new ecs.DeleteTaskSetCommand({ cluster: "prod", service: "bg", taskSet: id, force: true }));
    assert.equal(deleted.taskSet?.status, "DRAINING");
  });
});

describe("wire: ELBv2 (Query/XML)", () => {
  let tgArn = "";
  let listenerArn = "";
  it("builds load balancers, target groups, listeners and rules and describes them", async () => {
    const vpc = (await EC2.send(new ec2.DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }))).Vpcs![0]!;
    const subnets = (await EC2.send(new ec2.DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }] }))).Subnets!;
    const lb = (await ELB.send(new elb.CreateLoadBalancerCommand({ Name: "shop", Subnets: subnets.map((s) => s.SubnetId!), Tags: [{ Key: "a", Value: "b" }] }))).LoadBalancers![0]!;
    assert.deepEqual([lb.VpcId, lb.State?.Code, lb.Type, lb.AvailabilityZones?.map((z) => z.ZoneName)], [vpc.VpcId, "active", "application", ["us-east-1a", "us-east-1b", "us-east-1c"]]);
    assert.ok(lb.CreatedTime instanceof Date);
    const tgs = await Promise.all(["web-blue", "web-green", "api"].map((Name) => ELB.send(new elb.CreateTargetGroupCommand({ Name, Protocol: "HTTP", Port: 8080, TargetType: "ip", VpcId: vpc.VpcId, HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2, Matcher: { HttpCode: "200-299" } }))));
    tgArn = tgs[0]!.TargetGroups![0]!.TargetGroupArn!;
    assert.deepEqual(tgs[0]!.TargetGroups![0]!.Matcher, { HttpCode: "200-299" });
    const l = (await ELB.send(new elb.CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: "HTTP", DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 100 }, { TargetGroupArn: tgs[1]!.TargetGroups![0]!.TargetGroupArn, Weight: 0 }] } }] }))).Listeners![0]!;
    listenerArn = l.ListenerArn!;
    assert.deepEqual(l.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.map((g) => g.Weight), [100, 0]);
    const rule = (await ELB.send(new elb.CreateRuleCommand({ ListenerArn: listenerArn, Priority: 10, Conditions: [{ Field: "path-pattern", Values: ["/api/*"] }], Actions: [{ Type: "forward", TargetGroupArn: tgs[2]!.TargetGroups![0]!.TargetGroupArn }] }))).Rules![0]!;
    assert.deepEqual([rule.Priority, rule.Conditions?.[0]?.Values], ["10", ["/api/*"]]);
    const rules = await ELB.send(new elb.DescribeRulesCommand({ ListenerArn: listenerArn }));
    assert.deepEqual(rules.Rules?.map((r) => [r.Priority, r.IsDefault]), [["10", false], ["default", true]]);
    const page1 = await ELB.send(new elb.DescribeTargetGroupsCommand({ PageSize: 2 }));
    const page2 = await ELB.send(new elb.DescribeTargetGroupsCommand({ PageSize: 2, Marker: page1.NextMarker }));
    assert.deepEqual([...page1.TargetGroups!, ...page2.TargetGroups!].map((t) => t.TargetGroupName).sort(), ["api", "web-blue", "web-green"]);
    assert.deepEqual((await ELB.send(new elb.DescribeTargetGroupsCommand({ Names: ["web-blue"] }))).TargetGroups?.[0]?.LoadBalancerArns, [lb.LoadBalancerArn]);
    assert.deepEqual((await ELB.send(new elb.DescribeLoadBalancersCommand({ Names: ["shop"] }))).LoadBalancers?.map((x) => x.DNSName), [lb.DNSName]);
    assert.deepEqual((await ELB.send(new elb.DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners?.map((x) => x.Port), [80]);
    const attrs = await ELB.send(new elb.ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "5" }] }));
    assert.equal(attrs.Attributes?.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value, "5");
    const read = await ELB.send(new elb.DescribeTargetGroupAttributesCommand({ TargetGroupArn: tgArn }));
    assert.equal(read.Attributes?.find((a) => a.Key === "stickiness.enabled")?.Value, "false");
  });

  it("shifts weights with ModifyListener and ModifyRule, and registers a service's tasks as targets", async () => {
    const green = (await ELB.send(new elb.DescribeTargetGroupsCommand({ Names: ["web-green"] }))).TargetGroups![0]!.TargetGroupArn!;
    const shifted = await ELB.send(new elb.ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 90 }, { TargetGroupArn: green, Weight: 10 }] } }] }));
    assert.deepEqual(shifted.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.map((g) => g.Weight), [90, 10]);
    const [rule] = (await ELB.send(new elb.DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules!;
    const modified = await ELB.send(new elb.ModifyRuleCommand({ RuleArn: rule!.RuleArn, Conditions: [{ Field: "path-pattern", Values: ["/v2/*"] }], Actions: [{ Type: "forward", TargetGroupArn: green }] }));
    assert.deepEqual([modified.Rules?.[0]?.Conditions?.[0]?.Values, modified.Rules?.[0]?.Actions?.[0]?.TargetGroupArn], [["/v2/*"], green]);
    await ECS.send(new ecs.CreateServiceCommand({ cluster: "prod", serviceName: "lb", taskDefinition: "web:1", desiredCount: 1, loadBalancers: [{ targetGroupArn: tgArn, containerName: "app", containerPort: 8080 }] }));
    pass(15_000);
    assert.deepEqual((await ELB.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions?.map((d) => [d.TargetHealth?.State, d.TargetHealth?.Reason]), [["initial", "Elb.RegistrationInProgress"]]);
    pass(15_000);
    const health = await ELB.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: tgArn, Targets: [{ Id: "10.9.9.9", Port: 8080 }] }));
    assert.deepEqual(health.TargetHealthDescriptions?.map((d) => [d.TargetHealth?.State, d.TargetHealth?.Reason]), [["unused", "Target.NotRegistered"]]);
    assert.deepEqual((await ELB.send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions?.map((d) => d.TargetHealth?.State), ["healthy"]);
  });

  it("answers ELBv2's errors as the SDK's named exceptions with ELBv2's codes", async () => {
    const lbArn = (await ELB.send(new elb.DescribeLoadBalancersCommand({ Names: ["shop"] }))).LoadBalancers![0]!.LoadBalancerArn!;
    assert.deepEqual(await failure(ELB.send(new elb.DescribeTargetGroupsCommand({ Names: ["nope"] }))), { name: "TargetGroupNotFoundException", code: "TargetGroupNotFound", status: 400, message: "One or more target groups not found" });
    assert.deepEqual(
      await failure(ELB.send(new elb.ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn, Weight: 1000 }] } }] }))),
      { name: "ValidationError", code: "ValidationError", status: 400, message: "1 validation error detected: Value '1000' at 'defaultActions.1.member.forwardConfig.targetGroups.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 999" },
    );
    assert.equal((await failure(ELB.send(new elb.CreateListenerCommand({ LoadBalancerArn: lbArn, Port: 80, DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }] })))).name, "DuplicateListenerException");
    assert.equal((await failure(ELB.send(new elb.CreateRuleCommand({ ListenerArn: listenerArn, Priority: 10, Conditions: [{ Field: "path-pattern", Values: ["/x"] }], Actions: [{ Type: "forward", TargetGroupArn: tgArn }] })))).name, "PriorityInUseException");
    assert.equal((await failure(ELB.send(new elb.DescribeLoadBalancersCommand({ Names: ["nope"] })))).name, "LoadBalancerNotFoundException");
    assert.equal((await failure(ELB.send(new elb.DescribeListenersCommand({ ListenerArns: [`${listenerArn}0`] })))).name, "ListenerNotFoundException");
    assert.equal((await failure(ELB.send(new elb.ModifyRuleCommand({ RuleArn: "arn:nope", Actions: [] })))).name, "RuleNotFoundException");
    assert.equal((await failure(ELB.send(new elb.CreateTargetGroupCommand({ Name: "web-blue", Protocol: "HTTP", Port: 9999, TargetType: "ip" })))).name, "DuplicateTargetGroupNameException");
    assert.equal((await failure(ELB.send(new elb.DeleteTargetGroupCommand({ TargetGroupArn: tgArn })))).name, "ResourceInUseException");
    const notModelled = await failure(ELB.send(new elb.RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: "10.0.0.1" }] })));
    assert.deepEqual([notModelled.code, notModelled.status], ["InvalidAction", 400]);
  });
});

describe("wire: CloudWatch", () => {
  const alarm = { AlarmName: "web-5xx", MetricName: "HTTPCode_Target_5XX_Count", Namespace: "AWS/ApplicationELB", Statistic: "Sum" as const, Period: 60, EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold" as const, Dimensions: [{ Name: "TargetGroup", Value: "targetgroup/web/1" }] };

  for (const protocol of ["JSON 1.0 (query-compatible, the SDK we ship)", "Query/XML (older SDKs)"]) {
    it(`creates, sets, describes and deletes alarms over ${protocol}`, async () => {
      const client = protocol.startsWith("JSON") ? CW : new cw.CloudWatchClient({ ...cfg, protocol: AwsQueryProtocol });
      const name = protocol.startsWith("JSON") ? "json" : "query";
      await client.send(new cw.PutMetricAlarmCommand({ ...alarm, AlarmName: `${name}-5xx` }));
      await client.send(new cw.PutCompositeAlarmCommand({ AlarmName: `${name}-health`, AlarmRule: `ALARM("${name}-5xx")` }));
      let d = await client.send(new cw.DescribeAlarmsCommand({ AlarmNames: [`${name}-5xx`, `${name}-health`], AlarmTypes: ["MetricAlarm", "CompositeAlarm"] }));
      assert.deepEqual([d.MetricAlarms?.[0]?.StateValue, d.MetricAlarms?.[0]?.Dimensions, d.CompositeAlarms?.[0]?.StateValue], ["INSUFFICIENT_DATA", alarm.Dimensions, "OK"]);
      assert.ok(d.MetricAlarms?.[0]?.StateUpdatedTimestamp instanceof Date);
      await client.send(new cw.SetAlarmStateCommand({ AlarmName: `${name}-5xx`, StateValue: "ALARM", StateReason: "canary errors" }));
      d = await client.send(new cw.DescribeAlarmsCommand({ AlarmNamePrefix: `${name}-`, AlarmTypes: ["MetricAlarm", "CompositeAlarm"], StateValue: "ALARM" }));
      assert.deepEqual([d.MetricAlarms?.map((a) => a.StateReason), d.CompositeAlarms?.map((a) => a.AlarmName)], [["canary errors"], [`${name}-health`]]);
      const missing = await failure(client.send(new cw.SetAlarmStateCommand({ AlarmName: "nope", StateValue: "OK", StateReason: "x" })));
      assert.deepEqual(missing, { name: "ResourceNotFound", code: "ResourceNotFound", status: 404, message: "Alarm nope not found" });
      const badJson = await failure(client.send(new cw.SetAlarmStateCommand({ AlarmName: `${name}-5xx`, StateValue: "OK", StateReason: "x", StateReasonData: "{" })));
      assert.deepEqual([badJson.name, badJson.code, badJson.status], ["InvalidFormatFault", "InvalidFormat", 400]);
      const badRule = await failure(client.send(new cw.PutCompositeAlarmCommand({ AlarmName: "bad", AlarmRule: "ALARM(" })));
      assert.deepEqual([badRule.name, badRule.code], ["InvalidParameterValueException", "InvalidParameterValue"]);
      await client.send(new cw.DeleteAlarmsCommand({ AlarmNames: [`${name}-5xx`, `${name}-health`] }));
      assert.deepEqual((await client.send(new cw.DescribeAlarmsCommand({ AlarmNamePrefix: name }))).MetricAlarms, []);
    });
  }

  it("pages DescribeAlarms with NextToken across metric and composite alarms", async () => {
    for (const n of ["p1", "p2", "p3"]) await CW.send(new cw.PutMetricAlarmCommand({ ...alarm, AlarmName: n }));
    const first = await CW.send(new cw.DescribeAlarmsCommand({ AlarmNamePrefix: "p", MaxRecords: 2 }));
    const second = await CW.send(new cw.DescribeAlarmsCommand({ AlarmNamePrefix: "p", MaxRecords: 2, NextToken: first.NextToken }));
    assert.deepEqual([first.MetricAlarms?.map((a) => a.AlarmName), second.MetricAlarms?.map((a) => a.AlarmName), second.NextToken], [["p1", "p2"], ["p3"], undefined]);
    assert.equal((await failure(CW.send(new cw.DescribeAlarmsCommand({ NextToken: "x" })))).code, "InvalidNextToken");
  });
});

describe("wire: EC2 default VPC (ec2 Query)", () => {
  it("describes the default VPC, its subnets, security group and zones, with filters and EC2's not-found errors", async () => {
    const vpcs = (await EC2.send(new ec2.DescribeVpcsCommand({}))).Vpcs!;
    assert.deepEqual(vpcs.map((v) => [v.IsDefault, v.CidrBlock, v.State]), [[true, "172.31.0.0/16", "available"]]);
    const subnets = (await EC2.send(new ec2.DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }, { Name: "availability-zone", Values: ["us-east-1a", "us-east-1b"] }] }))).Subnets!;
    assert.deepEqual(subnets.map((s) => [s.AvailabilityZone, s.VpcId, s.DefaultForAz]), [["us-east-1a", vpcs[0]!.VpcId, true], ["us-east-1b", vpcs[0]!.VpcId, true]]);
    const sgs = (await EC2.send(new ec2.DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["default"] }, { Name: "vpc-id", Values: [vpcs[0]!.VpcId!] }] }))).SecurityGroups!;
    assert.deepEqual(sgs.map((g) => [g.GroupName, g.IpPermissionsEgress?.[0]?.IpRanges?.[0]?.CidrIp]), [["default", "0.0.0.0/0"]]);
    assert.equal((await EC2.send(new ec2.DescribeAvailabilityZonesCommand({}))).AvailabilityZones?.length, 3);
    assert.deepEqual((await EC2.send(new ec2.DescribeSubnetsCommand({ Filters: [{ Name: "tag:Name", Values: ["x"] }] }))).Subnets, []);
    assert.deepEqual(await failure(EC2.send(new ec2.DescribeSubnetsCommand({ SubnetIds: ["subnet-0nope"] }))), { name: "InvalidSubnetID.NotFound", code: "InvalidSubnetID.NotFound", status: 400, message: "The subnet ID 'subnet-0nope' does not exist" });
    assert.equal((await failure(EC2.send(new ec2.DescribeVpcsCommand({ VpcIds: ["vpc-0nope"] })))).name, "InvalidVpcID.NotFound");
    assert.equal((await failure(EC2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: ["sg-0nope"] })))).name, "InvalidGroup.NotFound");
    assert.equal((await failure(EC2.send(new ec2.DescribeInstancesCommand({})))).name, "InvalidAction");
  });
});

describe("wire: routing, identity and the request log", () => {
  it("refuses requests signed for another Region", async () => {
    const other = new ecs.ECSClient({ ...cfg, region: "eu-west-1" });
    const r = await failure(other.send(new ecs.ListClustersCommand({})));
    assert.deepEqual([r.name, r.status], ["InvalidSignatureException", 403]);
    assert.match(r.message, /this simulator plays us-east-1, not eu-west-1/);
    const q = await failure(new elb.ElasticLoadBalancingV2Client({ ...cfg, region: "eu-west-1" }).send(new elb.DescribeLoadBalancersCommand({})));
    assert.deepEqual([q.code, q.status], ["SignatureDoesNotMatch", 403]);
  });

  it("logs every request with its operation, caller (access key, header or app id) and time, readable over HTTP", async () => {
    const since = (await (await fetch(`${server.url}/_flotilla/requests`)).json() as { last: number }).last;
    await new ecs.ECSClient({ ...cfg, credentials: { accessKeyId: "replica-a", secretAccessKey: "x" }, userAgentAppId: "flotilla-a" }).send(new ecs.ListClustersCommand({}));
    await new ecs.ECSClient({ ...cfg, credentials: { accessKeyId: "replica-b", secretAccessKey: "x" } }).send(new ecs.DescribeServicesCommand({ cluster: "prod", services: ["web"] }));
    const signedNothing = await fetch(server.url, { method: "POST", headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters", "content-type": "application/x-amz-json-1.1", "x-flotilla-caller": "script-7" }, body: "{}" });
    assert.equal(signedNothing.status, 200);
    const log = (await (await fetch(`${server.url}/_flotilla/requests?since=${since}`)).json()) as { requests: { operation: string; caller: string; app?: string; at: string; status: number; resource?: string }[] };
    assert.deepEqual(log.requests.map((r) => [r.operation, r.caller, r.app, r.status, r.resource]), [
      ["ListClusters", "replica-a", "flotilla-a", 200, undefined],
      ["DescribeServices", "replica-b", undefined, 200, "prod/web"],
      ["ListClusters", "script-7", undefined, 200, undefined],
    ]);
    assert.equal(log.requests[0]!.at, new Date(server.clock.now()).toISOString());
    const filtered = (await (await fetch(`${server.url}/_flotilla/requests?since=${since}&caller=replica-b&inputs=1`)).json()) as { requests: { input?: unknown }[] };
    assert.deepEqual(filtered.requests.map((r) => r.input), [{ cluster: "prod", services: ["web"] }]);
    const world = (await (await fetch(`${server.url}/_flotilla/world`)).json()) as { services: { name: string }[] };
    assert.ok(world.services.some((s) => s.name === "web"));
  });

  it("answers a target it does not serve, and bad JSON, in the JSON error shape", async () => {
    const unknown = await fetch(server.url, { method: "POST", headers: { "x-amz-target": "DynamoDB_20120810.ListTables", "content-type": "application/x-amz-json-1.0" }, body: "{}" });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { __type: string }).__type, "UnknownOperationException");
    const bad = await fetch(server.url, { method: "POST", headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters", "content-type": "application/x-amz-json-1.1" }, body: "{" });
    assert.equal(bad.headers.get("x-amzn-errortype"), "SerializationException");
  });
});
