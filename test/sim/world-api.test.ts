/** The calls that build a world by API (CreateCluster, CreateTargetGroup, PutMetricAlarm, ...), on the simulator's own API layer. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { taskdef, world } from "./world.ts";

const http = (name: string, extra: Record<string, unknown> = {}) => ({ Name: name, Protocol: "HTTP", Port: 8080, TargetType: "ip", HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2, ...extra });
const forward = (tgArn: string) => [{ Type: "forward", TargetGroupArn: tgArn }];

describe("world API: ECS", () => {
  it("creates clusters (idempotently), describes them with MISSING failures and lists them", async () => {
    const w = world();
    const api = w.sim.world().ecs;
    const a = await api.createCluster({ clusterName: "staging", tags: [{ key: "team", value: "web" }] });
    assert.equal(a["clusterArn"], "arn:aws:ecs:us-east-1:123456789012:cluster/staging");
    assert.deepEqual(a["tags"], [{ key: "team", value: "web" }]);
    const again = await api.createCluster({ clusterName: "staging" });
    assert.deepEqual(again["tags"], [{ key: "team", value: "web" }], "an existing cluster comes back unchanged");
    const d = await api.describeClusters(["staging", "nope"]);
    assert.deepEqual(d.clusters.map((c) => c["clusterName"]), ["staging"]);
    assert.deepEqual(d.failures, [{ arn: "arn:aws:ecs:us-east-1:123456789012:cluster/nope", reason: "MISSING" }]);
    assert.deepEqual((await api.listClusters()).sort(), ["arn:aws:ecs:us-east-1:123456789012:cluster/prod", "arn:aws:ecs:us-east-1:123456789012:cluster/staging"]);
    await assert.rejects(api.createCluster({ clusterName: "bad name" }), { name: "InvalidParameterException" });
  });

  it("lists services and task definitions; a deregistered revision is INACTIVE and no longer the family's latest", async () => {
    const w = world();
    const ecs = w.sim.ports().ecs;
    const api = w.sim.world().ecs;
    await ecs.registerTaskDefinition(taskdef("web", "web:1"));
    await ecs.registerTaskDefinition(taskdef("web", "web:2"));
    await ecs.registerTaskDefinition(taskdef("api", "api:1"));
    await ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: "web", desiredCount: 1 });
    assert.deepEqual(await api.listServices("prod"), ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"]);
    await assert.rejects(api.listServices("nope"), { name: "ClusterNotFoundException" });
    const arn = (f: string) => `arn:aws:ecs:us-east-1:123456789012:task-definition/${f}`;
    assert.deepEqual(await api.listTaskDefinitions({}), [arn("api:1"), arn("web:1"), arn("web:2")]);
    assert.deepEqual(await api.listTaskDefinitions({ familyPrefix: "web", sort: "DESC" }), [arn("web:2"), arn("web:1")]);
    const gone = await api.deregisterTaskDefinition("web:2");
    assert.equal(gone["status"], "INACTIVE");
    assert.deepEqual(await api.listTaskDefinitions({ familyPrefix: "web" }), [arn("web:1")]);
    assert.deepEqual(await api.listTaskDefinitions({ familyPrefix: "web", status: "INACTIVE" }), [arn("web:2")]);
    assert.equal((await ecs.describeTaskDefinition("web")).revision, 1, "`family` alone names the latest ACTIVE revision");
    await assert.rejects(api.deregisterTaskDefinition("web"), { name: "ClientException" });
  });
});

describe("world API: ELBv2", () => {
  it("builds a load balancer, target group, listener and rule that a service's tasks become healthy behind", async () => {
    const w = world();
    const elb = w.sim.world().elbv2;
    const lb = await elb.createLoadBalancer({ Name: "shop", Subnets: ["subnet-1", "subnet-2"] });
    assert.match(String(lb["DNSName"]), /^shop-\d{10}\.us-east-1\.elb\.amazonaws\.com$/);
    assert.deepEqual((lb["State"] as Record<string, unknown>)["Code"], "active");
    const tg = await elb.createTargetGroup(http("web"));
    const tgArn = String(tg["TargetGroupArn"]);
    assert.deepEqual(tg["LoadBalancerArns"], []);
    const listener = await elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, Protocol: "HTTP", DefaultActions: forward(tgArn) });
    assert.deepEqual(listener["DefaultActions"], [{ Type: "forward", TargetGroupArn: tgArn }]);
    const other = await elb.createTargetGroup(http("api"));
    const rule = await elb.createRule({ ListenerArn: listener["ListenerArn"], Priority: 10, Conditions: [{ Field: "path-pattern", Values: ["/api/*"] }], Actions: forward(String(other["TargetGroupArn"])) });
    assert.equal(rule["Priority"], "10");
    const [described] = await w.sim.ports().elbv2.describeTargetGroups({ names: ["web"] });
    assert.deepEqual(described!.loadBalancerArns, [lb["LoadBalancerArn"]]);

    const ecs = w.sim.ports().ecs;
    await ecs.registerTaskDefinition(taskdef("web", "web:1"));
    await ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: "web", desiredCount: 2, loadBalancers: [{ targetGroupArn: tgArn, containerName: "app", containerPort: 8080 }] });
    await w.until(async () => (await w.service("web")).deployments[0]!.rolloutState === "COMPLETED", 600_000);
    const health = await w.sim.ports().elbv2.describeTargetHealth(tgArn);
    assert.deepEqual(health.map((h) => h.state), ["healthy", "healthy"]);
  });

  it("answers duplicates, unknown resources and bad values with ELBv2's errors", async () => {
    const w = world();
    const elb = w.sim.world().elbv2;
    const lb = await elb.createLoadBalancer({ Name: "shop" });
    assert.equal((await elb.createLoadBalancer({ Name: "shop" }))["LoadBalancerArn"], lb["LoadBalancerArn"], "same name, same settings: the existing one");
    await assert.rejects(elb.createLoadBalancer({ Name: "shop", Scheme: "internal" }), { name: "DuplicateLoadBalancerName" });
    await assert.rejects(elb.createLoadBalancer({ Name: "-bad" }), { name: "ValidationError" });
    await assert.rejects(elb.createLoadBalancer({ Name: "net", Type: "network" }), { name: "ValidationError" });
    const tg = await elb.createTargetGroup(http("web"));
    assert.equal((await elb.createTargetGroup(http("web")))["TargetGroupArn"], tg["TargetGroupArn"]);
    await assert.rejects(elb.createTargetGroup(http("web", { Port: 9090 })), { name: "DuplicateTargetGroupName" });
    await assert.rejects(elb.createTargetGroup(http("x", { HealthCheckIntervalSeconds: 1 })), { name: "ValidationError", message: /Member must have value between 5 and 300/ });
    await assert.rejects(elb.createTargetGroup({ Name: "noport", Protocol: "HTTP" }), { name: "ValidationError", message: "A port must be specified" });
    const l = await elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, DefaultActions: forward(String(tg["TargetGroupArn"])) });
    await assert.rejects(elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, DefaultActions: forward(String(tg["TargetGroupArn"])) }), { name: "DuplicateListener" });
    await assert.rejects(elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 443, Protocol: "HTTPS", DefaultActions: forward(String(tg["TargetGroupArn"])) }), { name: "ValidationError", message: /certificate/ });
    await assert.rejects(elb.createListener({ LoadBalancerArn: "arn:nope", Port: 81, DefaultActions: [] }), { name: "LoadBalancerNotFound" });
    await assert.rejects(elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 82, DefaultActions: forward("arn:missing") }), { name: "TargetGroupNotFound" });
    const conditions = [{ Field: "path-pattern", Values: ["/a"] }];
    await elb.createRule({ ListenerArn: l["ListenerArn"], Priority: 5, Conditions: conditions, Actions: forward(String(tg["TargetGroupArn"])) });
    await assert.rejects(elb.createRule({ ListenerArn: l["ListenerArn"], Priority: 5, Conditions: conditions, Actions: forward(String(tg["TargetGroupArn"])) }), { name: "PriorityInUse" });
    await assert.rejects(elb.createRule({ ListenerArn: "arn:nope", Priority: 6, Conditions: conditions, Actions: [] }), { name: "ListenerNotFound" });
    await assert.rejects(elb.deleteTargetGroup(tg["TargetGroupArn"]), { name: "ResourceInUse" });
    await assert.rejects(elb.modifyTargetGroupAttributes(tg["TargetGroupArn"], [{ Key: "nope", Value: "1" }]), { name: "ValidationError" });
  });

  it("deletes rules, listeners, load balancers and target groups; a group no listener forwards to has unused targets", async () => {
    const w = world();
    const elb = w.sim.world().elbv2;
    const lb = await elb.createLoadBalancer({ Name: "shop" });
    const tg = await elb.createTargetGroup(http("web"));
    const tgArn = String(tg["TargetGroupArn"]);
    const l = await elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, DefaultActions: forward(tgArn) });
    const r = await elb.createRule({ ListenerArn: l["ListenerArn"], Priority: 1, Conditions: [{ Field: "path-pattern", Values: ["/a"] }], Actions: forward(tgArn) });
    await w.sim.ports().ecs.registerTaskDefinition(taskdef("web", "web:1"));
    await w.sim.ports().ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: "web", desiredCount: 1, loadBalancers: [{ targetGroupArn: tgArn, containerName: "app", containerPort: 8080 }] });
    await w.until(async () => (await w.service("web")).deployments[0]!.rolloutState === "COMPLETED", 600_000);
    await elb.deleteRule(r["RuleArn"]);
    await assert.rejects(elb.deleteRule(r["RuleArn"]), { name: "RuleNotFound" });
    await assert.rejects(elb.deleteRule(String(l["ListenerArn"]).replace(":listener/", ":listener-rule/") + "/default"), { name: "OperationNotPermitted" });
    await elb.deleteLoadBalancer(lb["LoadBalancerArn"]);
    await elb.deleteLoadBalancer(lb["LoadBalancerArn"]);
    await assert.rejects(elb.describeLoadBalancers({ Names: ["shop"] }), { name: "LoadBalancerNotFound" });
    await assert.rejects(w.sim.ports().elbv2.describeListeners({ listenerArns: [String(l["ListenerArn"])] }), { name: "ListenerNotFound" });
    await w.run(1_000);
    assert.deepEqual((await w.sim.ports().elbv2.describeTargetHealth(tgArn)).map((h) => h.state), ["unused"]);
    await elb.deleteTargetGroup(tgArn);
    await assert.rejects(w.sim.ports().elbv2.describeTargetHealth(tgArn), { name: "TargetGroupNotFound" });
  });

  it("takes the deregistration delay from ModifyTargetGroupAttributes", async () => {
    const w = world();
    const elb = w.sim.world().elbv2;
    const lb = await elb.createLoadBalancer({ Name: "shop" });
    const tg = await elb.createTargetGroup(http("web"));
    const attrs = await elb.modifyTargetGroupAttributes(tg["TargetGroupArn"], [{ Key: "deregistration_delay.timeout_seconds", Value: "10" }, { Key: "stickiness.enabled", Value: "true" }]);
    assert.equal(attrs.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value, "10");
    assert.equal((await elb.describeTargetGroupAttributes(tg["TargetGroupArn"])).find((a) => a.Key === "stickiness.enabled")?.Value, "true");
    await elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 80, DefaultActions: forward(String(tg["TargetGroupArn"])) });
    const ecs = w.sim.ports().ecs;
    await ecs.registerTaskDefinition(taskdef("web", "web:1"));
    await ecs.createService({ cluster: "prod", serviceName: "web", taskDefinition: "web", desiredCount: 1, loadBalancers: [{ targetGroupArn: String(tg["TargetGroupArn"]), containerName: "app", containerPort: 8080 }] });
    await w.until(async () => (await w.service("web")).deployments[0]!.rolloutState === "COMPLETED", 600_000);
    await ecs.updateService({ cluster: "prod", service: "web", desiredCount: 0 });
    const drained = await w.until(async () => (await w.service("web")).deployments[0]!.runningCount === 0 && (await ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" })).length === 1 && (await ecs.describeTasks("prod", await ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" }))).tasks[0]!.lastStatus === "STOPPED", 600_000, 1_000);
    assert.ok(drained >= 10_000 && drained < 30_000, `drained after ${drained} ms: the 10 s delay, not ALB's default 300 s`);
  });
});

describe("world API: CloudWatch", () => {
  it("creates metric alarms INSUFFICIENT_DATA, sets their state, keeps it on update, and filters DescribeAlarms", async () => {
    const w = world();
    const cw = w.sim.world().cloudwatch;
    const alarm = { AlarmName: "web-5xx", MetricName: "HTTPCode_Target_5XX_Count", Namespace: "AWS/ApplicationELB", Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold", Tags: [{ Key: "a", Value: "b" }] };
    await cw.putMetricAlarm(alarm);
    let [rec] = (await cw.describeAlarms({ names: ["web-5xx"] })).metric;
    assert.equal(rec!["StateValue"], "INSUFFICIENT_DATA");
    assert.equal(rec!["Threshold"], 5);
    assert.equal(rec!["Tags"], undefined, "tags are not part of the alarm record");
    await cw.setAlarmState({ AlarmName: "web-5xx", StateValue: "ALARM", StateReason: "testing", StateReasonData: "{\"x\":1}" });
    await cw.putMetricAlarm({ ...alarm, Threshold: 10 });
    [rec] = (await cw.describeAlarms({ prefix: "web-" })).metric;
    assert.deepEqual([rec!["StateValue"], rec!["StateReason"], rec!["Threshold"]], ["ALARM", "testing", 10]);
    assert.deepEqual((await w.sim.ports().cloudwatch.describeAlarms(["web-5xx"])).map((a) => a.stateValue), ["ALARM"], "the engine's port sees it too");
    await cw.putCompositeAlarm({ AlarmName: "web-health", AlarmRule: 'ALARM("web-5xx")' });
    assert.deepEqual((await cw.describeAlarms({})).composite, [], "without AlarmTypes only metric alarms are described");
    const both = await cw.describeAlarms({ types: ["MetricAlarm", "CompositeAlarm"], state: "ALARM" });
    assert.deepEqual([both.metric.length, both.composite.map((c) => c["AlarmName"])], [1, ["web-health"]]);
    await assert.rejects(cw.setAlarmState({ AlarmName: "nope", StateValue: "OK", StateReason: "x" }), { name: "ResourceNotFound" });
    await assert.rejects(cw.setAlarmState({ AlarmName: "web-5xx", StateValue: "OK", StateReason: "x", StateReasonData: "{" }), { name: "InvalidFormat" });
    await assert.rejects(cw.putCompositeAlarm({ AlarmName: "bad", AlarmRule: "ALARM(web-5xx" }), { name: "InvalidParameterValue" });
    await assert.rejects(cw.putMetricAlarm({ AlarmName: "web-health", MetricName: "m", EvaluationPeriods: 1, ComparisonOperator: "GreaterThanThreshold" }), { name: "InvalidParameterValue" });
    await assert.rejects(cw.deleteAlarms(["web-5xx", "nope"]), { name: "ResourceNotFound" });
    assert.equal((await cw.describeAlarms({ names: ["web-5xx"] })).metric.length, 1, "nothing deleted when one name is unknown");
    await cw.deleteAlarms(["web-5xx", "web-health"]);
    assert.deepEqual(await cw.describeAlarms({ types: ["MetricAlarm", "CompositeAlarm"] }), { metric: [], composite: [] });
  });
});
