/**
 * `plan` and `apply` for an ECS-managed service, from a repository tree, on the simulator:
 * the strategy is named, an unchanged service plans `none`, a new image plans `update` with how ECS
 * will roll it out, and rules that cannot carry the deployment make the object `blocked`.
 */
import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { apply } from "../../src/controller/apply.ts";
import { planJson, planRepository } from "../../src/cli/plan.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { ELB_ROLE, managedWorld, type ManagedWorld } from "../helpers/managed.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

let w: ManagedWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});
after(cleanupTrees);

function tree(world: ManagedWorld, image: string): string {
  return writeTree({
    "apps/web/web_svcdef.json": {
      cluster: "apps",
      serviceName: "web",
      desiredCount: 2,
      launchType: "EC2",
      deploymentController: { type: "ECS" },
      deploymentConfiguration: { strategy: "CANARY", bakeTimeInMinutes: 1, canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 }, deploymentCircuitBreaker: { enable: true, rollback: true } },
      loadBalancers: [{ targetGroupArn: world.tgA, containerName: "app", containerPort: 8080, advancedConfiguration: { alternateTargetGroupArn: world.tgB, productionListenerRule: world.prodRule, testListenerRule: world.testRule, roleArn: ELB_ROLE } }],
    },
    "apps/web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image, memory: 256, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    "apps/web/web_depdef.json": { stabilityCheck: { pollInterval: 10, timeout: 600 } },
  });
}

const load = async (dir: string) => (await loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }))).objects;

describe("plan and apply for an ECS-managed service", () => {
  it("Given a repository with an ECS-managed CANARY service, When planned, applied and planned again, Then the strategy is named, apply deploys it with ECS and the second plan is none", async () => {
    w = await managedWorld();
    const dir = tree(w, "web:1");
    const objects = await load(dir);
    assert.equal(objects[0]!.valid, true, objects[0]!.problems.map((p) => p.message).join("; "));
    const [first] = await planRepository(objects, w.sim.portsFactory());
    assert.equal(first!.action, "create");
    assert.equal(first!.strategy, "ecs-managed");
    assert.equal(first!.label, "ECS-managed CANARY");
    const result = await apply(objects, { store: w.store, aws: w.sim.portsFactory(), runner: w.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 1 });
    assert.deepEqual(result.deployments.map((d) => [d.strategy, d.phase]), [["ecs-managed", "Succeeded"]]);
    const [again] = await planRepository(await load(dir), w.sim.portsFactory());
    assert.equal(again!.action, "none", `${again!.reasons.join("; ")}\n${again!.service.text}`);
  });

  it("Given a live ECS-managed service, When the image changes, Then plan says update, shows the image diff and how ECS will roll it out", async () => {
    w = await managedWorld();
    await apply(await load(tree(w, "web:1")), { store: w.store, aws: w.sim.portsFactory(), runner: w.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 1 });
    const [p] = await planRepository(await load(tree(w, "web:2")), w.sim.portsFactory());
    assert.equal(p!.action, "update");
    assert.ok(p!.taskDefinition.changes.some((c) => /image/.test(c.path)), JSON.stringify(p!.taskDefinition.changes));
    const json = planJson(p!);
    assert.equal(json.strategy, "ecs-managed");
    assert.equal(json.rollout, "ECS-managed CANARY: 10% of production traffic for 2 min, then the rest; bake 1 min; test listener first");
  });

  it("Given a production rule that forwards only to the first target group (no test rule), When planned, Then the object is blocked with FLT-PLAN-LISTENER-RULES at the advanced configuration", async () => {
    w = await managedWorld();
    await w.sim.ports().elbv2.modifyRule({ ruleArn: w.prodRule, actions: [{ type: "forward", targetGroupArn: w.tgA }] });
    await w.sim.ports().elbv2.modifyRule({ ruleArn: w.testRule, actions: [{ type: "fixed-response" }] });
    const [p] = await planRepository(await load(tree(w, "web:1")), w.sim.portsFactory());
    assert.equal(p!.action, "blocked");
    const problem = p!.problems.find((x) => x.code === "FLT-PLAN-LISTENER-RULES");
    assert.ok(problem, JSON.stringify(p!.problems));
    assert.equal(problem.path, "$.loadBalancers[0].advancedConfiguration");
    assert.equal(problem.file, "apps/web/web_svcdef.json");
  });
});
