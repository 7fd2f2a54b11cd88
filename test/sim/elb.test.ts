import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld, WEB_TG } from "./world.ts";
import type { Action } from "../../src/aws/ports.ts";

function alb() {
  return scenarioWorld({
    clusters: ["prod"],
    targetGroups: [WEB_TG, { ...WEB_TG, name: "web-green" }, { ...WEB_TG, name: "other" }],
    loadBalancers: [
      {
        name: "lb",
        listeners: [
          {
            port: 443,
            protocol: "HTTPS",
            defaultActions: [{ targetGroups: [{ targetGroup: "web", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }],
            rules: [{ priority: 10, conditions: [{ Field: "path-pattern", Values: ["/api/*"] }], actions: [{ targetGroup: "web" }] }],
          },
        ],
      },
      { name: "lb2", listeners: [{ port: 80, defaultActions: [{ targetGroup: "other" }] }] },
    ],
  });
}

const forward = (pairs: [string, number][]): Action[] => [{ type: "forward", forwardConfig: { targetGroups: pairs.map(([targetGroupArn, weight]) => ({ targetGroupArn, weight })) } }];

describe("ALB listeners and rules", () => {
  it("describes listeners, rules (with the default rule last) and target groups", async () => {
    const w = alb();
    const lbArn = w.sim.elb.loadBalancers.values().next().value!.arn;
    const [l] = await w.elbv2.describeListeners({ loadBalancerArn: lbArn });
    assert.equal(l!.port, 443);
    const rules = await w.elbv2.describeRules({ listenerArn: l!.listenerArn });
    assert.deepEqual(rules.map((r) => [r.priority, r.isDefault]), [["10", false], ["default", true]]);
    const tgs = await w.elbv2.describeTargetGroups({ names: ["web", "web-green"] });
    assert.deepEqual(tgs.map((t) => t.loadBalancerArns), [[lbArn], [lbArn]]);
    await assert.rejects(w.elbv2.describeTargetGroups({ names: ["nope"] }), { name: "TargetGroupNotFound", message: "One or more target groups not found" });
  });

  it("shifts forward weights with ModifyListener and ModifyRule", async () => {
    const w = alb();
    const blue = w.sim.elb.targetGroupArn("web");
    const green = w.sim.elb.targetGroupArn("web-green");
    const l = [...w.sim.elb.listeners.values()][0]!;
    const after = await w.elbv2.modifyListener({ listenerArn: l.arn, defaultActions: forward([[blue, 80], [green, 20]]) });
    assert.deepEqual(after.defaultActions[0]!.forwardConfig!.targetGroups.map((g) => g.weight), [80, 20]);
    assert.equal(w.sim.elb.trafficShare(green), 0.2);
    const [rule] = await w.elbv2.describeRules({ listenerArn: l.arn });
    const r = await w.elbv2.modifyRule({ ruleArn: rule!.ruleArn, actions: forward([[blue, 0], [green, 999]]) });
    assert.deepEqual(r.actions[0]!.forwardConfig!.targetGroups.map((g) => g.weight), [0, 999]);
  });

  it("validates weights and target groups with AWS's errors", async () => {
    const w = alb();
    const blue = w.sim.elb.targetGroupArn("web");
    const green = w.sim.elb.targetGroupArn("web-green");
    const l = [...w.sim.elb.listeners.values()][0]!;
    const modify = (a: Action[]) => w.elbv2.modifyListener({ listenerArn: l.arn, defaultActions: a });
    await assert.rejects(modify(forward([[blue, 1000], [green, 0]])), {
      name: "ValidationError",
      message: "1 validation error detected: Value '1000' at 'defaultActions.1.member.forwardConfig.targetGroups.1.member.weight' failed to satisfy constraint: Member must have value less than or equal to 999",
    });
    await assert.rejects(modify(forward([[blue, 5], [green, -1]])), { name: "ValidationError", message: /targetGroups\.2\.member\.weight' failed to satisfy constraint: Member must have value greater than or equal to 0/ });
    await assert.rejects(modify(forward([[blue, 5], [blue, 5]])), { name: "ValidationError" });
    await assert.rejects(modify(forward([[blue.replace("/web/", "/ghost/"), 1]])), { name: "TargetGroupNotFound" });
    await assert.rejects(modify(forward([[w.sim.elb.targetGroupArn("other"), 1]])), { name: "TargetGroupAssociationLimit" });
    await assert.rejects(w.elbv2.modifyListener({ listenerArn: l.arn + "x", defaultActions: forward([[blue, 1]]) }), { name: "ListenerNotFound" });
    const rules = await w.elbv2.describeRules({ listenerArn: l.arn });
    await assert.rejects(w.elbv2.modifyRule({ ruleArn: rules.at(-1)!.ruleArn, actions: forward([[blue, 1]]) }), { name: "OperationNotPermitted" });
    // Nothing above changed the weights.
    assert.deepEqual((await w.elbv2.describeListeners({ listenerArns: [l.arn] }))[0]!.defaultActions[0]!.forwardConfig!.targetGroups.map((g) => g.weight), [100, 0]);
  });

  it("each task of every task set registers as its own target, initial until healthy", async () => {
    const w = scenarioWorld({
      clusters: ["prod"],
      taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "a", portMappings: [{ containerPort: 80 }] }] }],
      targetGroups: [WEB_TG],
      loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "web" }] }] }],
      services: [{ cluster: "prod", serviceName: "app", taskDefinition: "app:1", desiredCount: 1, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroup: "web", containerName: "app", containerPort: 80 }] }],
    });
    const web = w.sim.elb.targetGroupArn("web");
    await w.ecs.createTaskSet({ cluster: "prod", service: "app", taskDefinition: "app:1", loadBalancers: [{ targetGroupArn: web, containerName: "app", containerPort: 80 }] });
    await w.step(20_000);
    assert.deepEqual((await w.elbv2.describeTargetHealth(web)).map((t) => t.state).sort(), ["healthy", "initial"]);
    assert.equal((await w.elbv2.describeTargetHealth(web)).find((t) => t.state === "initial")!.reason, "Elb.RegistrationInProgress");
    await w.step(20_000);
    assert.deepEqual((await w.elbv2.describeTargetHealth(web)).map((t) => t.state), ["healthy", "healthy"]);
    await assert.rejects(w.elbv2.describeTargetHealth(web + "0"), { name: "TargetGroupNotFound" });
  });

  it("targets go 'unused' when no listener forwards to their group, and start over with initial checks when one does again", async () => {
    const w = scenarioWorld({
      clusters: ["prod"],
      taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "a", portMappings: [{ containerPort: 80 }] }] }],
      targetGroups: [WEB_TG, { ...WEB_TG, name: "green" }],
      loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroups: [{ targetGroup: "web", weight: 1 }, { targetGroup: "green", weight: 0 }] }] }] }],
      services: [{ cluster: "prod", serviceName: "app", taskDefinition: "app:1", desiredCount: 1, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroup: "web", containerName: "app", containerPort: 80 }] }],
    });
    const web = w.sim.elb.targetGroupArn("web");
    const green = w.sim.elb.targetGroupArn("green");
    const listenerArn = [...w.sim.elb.listeners.values()][0]!.arn;
    await w.ecs.createTaskSet({ cluster: "prod", service: "app", taskDefinition: "app:1", loadBalancers: [{ targetGroupArn: green, containerName: "app", containerPort: 80 }] });
    await w.step(60_000);
    assert.equal((await w.elbv2.describeTargetHealth(green))[0]!.state, "healthy");
    await w.elbv2.modifyListener({ listenerArn, defaultActions: forward([[web, 1]]) });
    const unused = (await w.elbv2.describeTargetHealth(green))[0]!;
    assert.deepEqual([unused.state, unused.reason], ["unused", "Target.NotInUse"]);
    await w.elbv2.modifyListener({ listenerArn, defaultActions: forward([[web, 1], [green, 0]]) });
    const again = (await w.elbv2.describeTargetHealth(green))[0]!;
    assert.deepEqual([again.state, again.reason], ["initial", "Elb.InitialHealthChecking"]);
    await w.step(19_000);
    assert.equal((await w.elbv2.describeTargetHealth(green))[0]!.state, "initial");
    await w.step(1_000);
    assert.equal((await w.elbv2.describeTargetHealth(green))[0]!.state, "healthy");
  });
});
