/**
 * The simulator routes requests as an Application Load Balancer does: rules by priority, all of a
 * rule's conditions (host, path, header, method, query) must match, the default action otherwise,
 * and a forward reaches the healthy targets of its groups. Target groups and rules are made and
 * removed through the ports, with ELBv2's errors. Given/When/Then.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { AwsError } from "../../src/aws/errors.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import { defaultVpc } from "../../src/sim/vpc.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { SimServer } from "../../src/sim/wire/server.ts";

const isAws = (name: string) => (e: unknown) => e instanceof AwsError && e.name === name;

function world(): { sim: Simulator; clock: VirtualClock; listener: string } {
  const clock = new VirtualClock({ autoAdvance: true });
  const sim = loadScenario(
    parseScenario({
      throttling: false,
      clusters: ["apps"],
      taskDefinitions: [{ family: "web-live", containerDefinitions: [{ name: "app", image: "web:1", essential: true, portMappings: [{ containerPort: 8080 }] }] }],
      targetGroups: [{ name: "web-live", port: 8080, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 } }],
      loadBalancers: [{ name: "public", listeners: [{ port: 443, protocol: "HTTPS", defaultActions: [{ type: "forward", targetGroup: "web-live" }] }, { port: 80, defaultActions: [{ type: "fixed-response", fixedResponse: { statusCode: "404" } }] }] }],
      services: [{ cluster: "apps", serviceName: "web-live", taskDefinition: "web-live", desiredCount: 2, launchType: "FARGATE", loadBalancers: [{ targetGroup: "web-live", containerName: "app", containerPort: 8080 }] }],
    }),
    clock,
  );
  const listener = [...sim.elb.listeners.values()].find((l) => l.port === 443)!.arn;
  return { sim, clock, listener };
}

/** A version: its target group, a rule with these conditions, and a service of two tasks behind it. */
async function version(w: ReturnType<typeof world>, name: string, priority: number, conditions: Record<string, unknown>[]) {
  const ports = w.sim.ports();
  const tg = await ports.elbv2.createTargetGroup({ name, protocol: "HTTP", port: 8080, vpcId: defaultVpc(w.sim.region, w.sim.account).vpcId, targetType: "ip", healthCheck: { intervalSeconds: 10, healthyThresholdCount: 2 } });
  const rule = await ports.elbv2.createRule({ listenerArn: w.listener, priority, conditions, actions: [{ type: "forward", targetGroupArn: tg.targetGroupArn }] });
  const td = await ports.ecs.registerTaskDefinition({ family: name, containerDefinitions: [{ name: "app", image: `${name}:1`, essential: true, portMappings: [{ containerPort: 8080 }] }] });
  await ports.ecs.createService({ cluster: "apps", serviceName: name, taskDefinition: td.taskDefinitionArn, desiredCount: 2, launchType: "FARGATE", loadBalancers: [{ targetGroupArn: tg.targetGroupArn, containerName: "app", containerPort: 8080 }] });
  return { tg, rule };
}

const host = (h: string) => ({ Field: "host-header", HostHeaderConfig: { Values: [h] } });

describe("simulator: routing requests through listener rules", () => {
  it("Given rules by host, path and header, When requests are routed, Then each reaches the service its rule forwards to, and others the default action", async () => {
    const w = world();
    await version(w, "web-v1", 1, [host("v1.app.example.com")]);
    await version(w, "web-v2", 2, [{ Field: "path-pattern", PathPatternConfig: { Values: ["/v2/*"] } }]);
    await version(w, "web-v3", 3, [host("*.app.example.com"), { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Version", Values: ["v3"] } }]);
    await w.clock.sleep(120_000);
    const to = (r: Parameters<Simulator["route"]>[0]) => w.sim.route({ loadBalancer: "public", port: 443, ...r }).services;
    assert.deepEqual(to({ host: "v1.app.example.com" }), ["web-v1"]);
    assert.deepEqual(to({ host: "V1.App.Example.com:443", path: "/anything" }), ["web-v1"], "host matching ignores case and the port");
    assert.deepEqual(to({ host: "app.example.com", path: "/v2/orders?x=1" }), ["web-v2"]);
    assert.deepEqual(to({ host: "www.app.example.com", headers: { "x-version": "v3" } }), ["web-v3"]);
    assert.deepEqual(to({ host: "www.app.example.com", headers: { "x-version": "v4" } }), ["web-live"], "one condition of the rule fails: the default action");
    assert.deepEqual(to({ host: "v1.app.example.com", path: "/v2/x" }), ["web-v1"], "the lowest priority number wins");
    const r = w.sim.route({ loadBalancer: "public", port: 443, host: "app.example.com" });
    assert.equal(r.rule, "default");
    assert.equal(r.status, 200);
    assert.deepEqual(r.targetGroups.map((g) => [g.targetGroupName, g.percent, g.healthyTargets]), [["web-live", 100, 2]]);
    const closed = w.sim.route({ loadBalancer: "public", port: 80, host: "app.example.com" });
    assert.deepEqual([closed.action, closed.status, closed.services], ["fixed-response", 404, []]);
  });

  it("Given a version whose tasks have not started, Then its rule answers 503; once its targets are healthy, its service", async () => {
    const w = world();
    await version(w, "web-v1", 1, [host("v1.app.example.com")]);
    const before = w.sim.route({ loadBalancer: "public", port: 443, host: "v1.app.example.com" });
    assert.deepEqual([before.status, before.services], [503, []]);
    await w.clock.sleep(120_000);
    const after = w.sim.route({ loadBalancer: "public", port: 443, host: "v1.app.example.com" });
    assert.deepEqual([after.status, after.services, after.targetGroups[0]!.healthyTargets], [200, ["web-v1"], 2]);
  });

  it("Given weighted forwards, Then the answer gives each group's share", async () => {
    const w = world();
    const { tg } = await version(w, "web-v1", 1, [host("v1.app.example.com")]);
    const live = w.sim.elb.targetGroupArn("web-live");
    await w.sim.ports().elbv2.modifyListener({ listenerArn: w.listener, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: live, weight: 3 }, { targetGroupArn: tg.targetGroupArn, weight: 1 }] } }] });
    await w.clock.sleep(120_000);
    const r = w.sim.route({ loadBalancer: "public", port: 443, host: "app.example.com" });
    assert.deepEqual(r.targetGroups.map((g) => [g.targetGroupName, g.percent]), [["web-live", 75], ["web-v1", 25]]);
    assert.deepEqual(r.services, ["web-live", "web-v1"]);
  });

  it("Given a priority in use, Then CreateRule is PriorityInUse; a freed priority takes a new rule with a new ARN; the rule limit is TooManyRules", async () => {
    const w = world();
    const ports = w.sim.ports();
    const { tg, rule } = await version(w, "web-v1", 7, [host("v1.app.example.com")]);
    const forward = [{ type: "forward", targetGroupArn: tg.targetGroupArn }];
    await assert.rejects(ports.elbv2.createRule({ listenerArn: w.listener, priority: 7, conditions: [host("x.example.com")], actions: forward }), isAws("PriorityInUse"));
    await assert.rejects(ports.elbv2.createRule({ listenerArn: w.listener, priority: 8, conditions: [{ Field: "cookie", Values: ["a"] }], actions: forward }), isAws("ValidationError"));
    await ports.elbv2.deleteRule(rule.ruleArn);
    const again = await ports.elbv2.createRule({ listenerArn: w.listener, priority: 7, conditions: [host("v1.app.example.com")], actions: forward });
    assert.notEqual(again.ruleArn, rule.ruleArn, "a rule ARN is never handed out twice");
    for (let p = 10; p < 10 + 99; p++) await ports.elbv2.createRule({ listenerArn: w.listener, priority: p, conditions: [host(`h${p}.example.com`)], actions: forward });
    await assert.rejects(ports.elbv2.createRule({ listenerArn: w.listener, priority: 500, conditions: [host("full.example.com")], actions: forward }), isAws("TooManyRules"));
  });

  it("Given a target group, Then creating it again with the same settings answers it, other settings are DuplicateTargetGroupName, and it cannot be deleted while a rule forwards to it", async () => {
    const w = world();
    const ports = w.sim.ports();
    const vpcId = defaultVpc(w.sim.region, w.sim.account).vpcId;
    const tg = await ports.elbv2.createTargetGroup({ name: "web-v9", protocol: "HTTP", port: 8080, vpcId, targetType: "ip", tags: [{ key: "flotilla:version", value: "v9" }] });
    assert.equal((await ports.elbv2.createTargetGroup({ name: "web-v9", protocol: "HTTP", port: 8080, vpcId, targetType: "ip" })).targetGroupArn, tg.targetGroupArn);
    await assert.rejects(ports.elbv2.createTargetGroup({ name: "web-v9", protocol: "HTTP", port: 9090, vpcId, targetType: "ip" }), isAws("DuplicateTargetGroupName"));
    const rule = await ports.elbv2.createRule({ listenerArn: w.listener, priority: 1, conditions: [host("v9.example.com")], actions: [{ type: "forward", targetGroupArn: tg.targetGroupArn }] });
    await assert.rejects(ports.elbv2.deleteTargetGroup(tg.targetGroupArn), isAws("ResourceInUse"));
    await ports.elbv2.deleteRule(rule.ruleArn);
    await ports.elbv2.deleteTargetGroup(tg.targetGroupArn);
    await assert.rejects(ports.elbv2.deleteTargetGroup(tg.targetGroupArn), isAws("TargetGroupNotFound"));
  });

  it("Given sim serve, When /_flotilla/route is asked for a host and header, Then it answers the rule and the services, and a bad question is a 400", async () => {
    let now = Date.UTC(2026, 0, 1);
    const server = await SimServer.start({
      realNow: () => now,
      scenarios: [
        {
          label: "routes",
          data: {
            throttling: false,
            targetGroups: [{ name: "web-live" }, { name: "web-v2" }],
            loadBalancers: [{ name: "public", listeners: [{ port: 443, protocol: "HTTPS", defaultActions: [{ targetGroup: "web-live" }], rules: [{ priority: 5, conditions: [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Version", Values: ["v2"] } }], actions: [{ targetGroup: "web-v2" }] }] }] }],
            clusters: ["apps"],
            taskDefinitions: [{ family: "web", containerDefinitions: [{ name: "app", image: "web:1", essential: true, portMappings: [{ containerPort: 80 }] }] }],
            services: [
              { cluster: "apps", serviceName: "web-live", taskDefinition: "web", desiredCount: 1, loadBalancers: [{ targetGroup: "web-live", containerName: "app", containerPort: 80 }] },
              { cluster: "apps", serviceName: "web-v2", taskDefinition: "web", desiredCount: 1, loadBalancers: [{ targetGroup: "web-v2", containerName: "app", containerPort: 80 }] },
            ],
          },
        },
      ],
    });
    try {
      now += 60_000;
      const ask = async (q: string) => {
        const res = await fetch(`${server.url}/_flotilla/route?${q}`);
        return { status: res.status, body: (await res.json()) as { services?: string[]; rule?: unknown; message?: string } };
      };
      const v2 = await ask("host=app.example.com&header=X-Version:%20v2");
      assert.equal(v2.status, 200);
      assert.deepEqual(v2.body.services, ["web-v2"]);
      const live = await ask("host=app.example.com&path=/");
      assert.deepEqual([live.body.services, live.body.rule], [["web-live"], "default"]);
      assert.equal((await ask("path=/")).status, 400);
      const wrong = await ask("host=a&port=8080");
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.message ?? "", /no listener on port 8080/);
    } finally {
      await server.close();
    }
  });
});
