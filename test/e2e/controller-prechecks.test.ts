/**
 * The controller pre-checks what each deployment of a commit needs in AWS, as `flotilla apply`
 * does (pass.ts's `precheck`): an object whose target group is missing is blocked — recorded with
 * its code, file and JSON path, no deployment started and nothing changed in AWS for it — while the
 * commit's other objects deploy; the commit that fixes it deploys it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CommitStatusSink, CommitStatusUpdate } from "../../src/controller/commit-status.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { mutationsMentioning, recordCalls, type AwsCall } from "../helpers/aws-calls.ts";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, taskdef } from "../helpers/objects.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** Cluster `apps`, target group `checkout` behind the HTTP listener of load balancer `public`, and `late` behind none yet. */
function aws(clock: VirtualClock): Simulator {
  const tg = (name: string) => ({ name, port: 80, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 0 });
  return loadScenario(
    parseScenario({
      throttling: false,
      clusters: ["apps"],
      targetGroups: [tg("checkout"), tg("late")],
      loadBalancers: [{ name: "public", listeners: [{ port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "checkout", weight: 100 }] }] }] }],
    }),
    clock,
  );
}

async function world(): Promise<{ w: ControllerWorld; calls: AwsCall[]; statuses: (CommitStatusUpdate & { sha: string })[] }> {
  const calls: AwsCall[] = [];
  const statuses: (CommitStatusUpdate & { sha: string })[] = [];
  const sink: CommitStatusSink = { report: (_repo, sha, update) => void statuses.push({ sha, ...update }) };
  const w = await controllerWorld({ sim: aws, wrap: recordCalls(calls), controller: { statuses: sink } });
  worlds.push(w);
  return { w, calls, statuses };
}

const CHECKOUT = "apps/checkout/checkout";

/** The checkout service behind a target group. */
const checkout = (targetGroupArn: string, image = "nginx@sha256:" + "c".repeat(64)) =>
  rollingObject(CHECKOUT, "checkout", { svc: { loadBalancers: [{ targetGroupArn, containerName: "app", containerPort: 80 }] }, task: { containerDefinitions: [{ name: "app", image, memory: 256, essential: true, portMappings: [{ containerPort: 80 }] }] } });

/** Attach target group `late` to the listener (as Terraform would, after the commit that needs it). */
async function attachLate(sim: Simulator): Promise<void> {
  const listener = [...sim.elb.listeners.values()][0]!;
  const forward = (name: string) => ({ targetGroupArn: sim.elb.targetGroupArn(name), weight: name === "checkout" ? 100 : 0 });
  await sim.ports().elbv2.modifyListener({ listenerArn: listener.arn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [forward("checkout"), forward("late")] } }] });
}

const live = async (sim: Simulator, service: string) => (await sim.ports().ecs.describeServices("apps", [service])).services.filter((s) => s.status === "ACTIVE").length;

describe("the controller pre-checks what a deployment needs, as apply does", () => {
  it("Given a commit whose checkout service names a missing target group, When the controller processes it, Then checkout is blocked with FLT-PLAN-TARGET-GROUP-MISSING at its file and JSON path and nothing is changed in AWS for it, web deploys, and every view and the commit status say so; When a commit points it at a target group that exists, Then it deploys", async () => {
    const { w, calls, statuses } = await world();
    const missing = w.sim.elb.targetGroupArn("checkout").replace(/targetgroup\/checkout\//, "targetgroup/checkout-gone/");
    // Given / When
    const sha = w.remote.push({ ...rollingObject("apps/web/web", "web"), ...checkout(missing) }, "web and checkout");
    await w.controller.sources.queue.sync("apps", "poll");

    // Then: recorded as blocked, with the code, file and JSON path
    const record = (await w.store.getCommitRecord("apps", sha))!;
    const byObject = Object.fromEntries(record.objects.map((o) => [o.object, o]));
    assert.equal(byObject[CHECKOUT]?.action, "blocked");
    assert.equal(byObject[CHECKOUT]?.deploymentId, null);
    assert.match(byObject[CHECKOUT].description, /^not deployed: the target group .*checkout-gone.* does not exist/);
    assert.equal(byObject["apps/web/web"]?.action, "deploy");
    const [problem] = record.problems;
    assert.deepEqual(
      record.problems.map((p) => ({ code: p.code, severity: p.severity, object: p.object, file: p.file, path: p.path })),
      [{ code: "FLT-PLAN-TARGET-GROUP-MISSING", severity: "error", object: CHECKOUT, file: "apps/checkout/checkout_svcdef.json", path: "$.loadBalancers[0].targetGroupArn" }],
    );
    assert.equal(record.status, "invalid");
    assert.equal(record.errors, 1);
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, sha, "the commit is processed: a later one is not stuck behind it");

    // ...no deployment started and no call changed anything for checkout; web deployed
    const deployments = (await w.store.listDeployments({ repository: "apps" })).items;
    assert.deepEqual(deployments.map((d) => [d.object, d.phase]), [["apps/web/web", "Succeeded"]]);
    assert.deepEqual(mutationsMentioning(calls, "checkout"), []);
    assert.ok(calls.some((c) => c.call === "ecs.createService" && c.args.includes('"web"')), "web was created");
    assert.ok(calls.some((c) => c.call === "elbv2.describeTargetGroups" && c.args.includes("checkout-gone")), "the target group was looked up");
    assert.equal(await live(w.sim, "checkout"), 0);
    assert.equal(await live(w.sim, "web"), 1);
    assert.ok(w.warnings.some((m) => m.includes(`${CHECKOUT} is blocked`) && m.includes("FLT-PLAN-TARGET-GROUP-MISSING apps/checkout/checkout_svcdef.json $.loadBalancers[0].targetGroupArn")), w.warnings.join("\n"));

    // ...the commit status says failure and names the object and the code
    assert.deepEqual(statuses.filter((s) => s.sha === sha).map((s) => [s.state, s.description]), [
      ["pending", "deploying 1 object"],
      ["failure", `deployed 1 object; ${CHECKOUT} blocked (FLT-PLAN-TARGET-GROUP-MISSING), not deployed`],
    ]);

    // ...the API's commit detail and the CLI show it like an invalid object, with the problem
    const detail = await w.api("GET", `/api/v1/repositories/apps/commits/${sha}`);
    assert.equal(detail.status, 200, detail.body);
    assert.deepEqual((detail.json["objects"] as { object: string; action: string }[]).map((o) => [o.object, o.action]), [[CHECKOUT, "blocked"], ["apps/web/web", "deploy"]]);
    assert.deepEqual((detail.json["problems"] as { code: string; path: string }[]).map((p) => [p.code, p.path]), [[problem!.code, problem!.path]]);
    const show = await cli(["commit", "show", "apps", sha.slice(0, 12)], w.env());
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /blocked\s+apps\/checkout\/checkout: not deployed: the target group/);
    assert.match(show.stdout, /FLT-PLAN-TARGET-GROUP-MISSING apps\/checkout\/checkout_svcdef\.json \$\.loadBalancers\[0\]\.targetGroupArn/);

    // When a commit points checkout at the target group that exists
    const fixed = w.remote.push(checkout(w.sim.elb.targetGroupArn("checkout")), "checkout behind its target group");
    await w.controller.sources.queue.sync("apps", "poll");
    // Then it deploys, and the commit is ok
    const after = (await w.store.getCommitRecord("apps", fixed))!;
    assert.deepEqual([after.status, after.objects.map((o) => [o.object, o.action])], ["ok", [[CHECKOUT, "deploy"]]]);
    const d = await w.store.latestDeployment(CHECKOUT, "apps");
    assert.deepEqual([d?.commitSha, d?.phase], [fixed, "Succeeded"]);
    assert.equal(await live(w.sim, "checkout"), 1);
    assert.equal(statuses.at(-1)?.state, "success");
  });

  it("Given checkout blocked because its target group is behind no listener, When the next commit changes only web, Then checkout is blocked again; When the target group is attached in AWS and another commit changes only web, Then that commit deploys checkout too, with no change to it in Git", async () => {
    const { w, calls } = await world();
    const late = w.sim.elb.targetGroupArn("late");
    w.remote.push({ ...rollingObject("apps/web/web", "web"), ...checkout(late) }, "web and checkout");
    await w.controller.sources.queue.sync("apps", "poll");
    const web = (cpu: string) => ({ "apps/web/web_taskdef.json": taskdef("web", { cpu }) });
    // When the next commit changes only web, while the target group is still behind no listener
    const second = w.remote.push(web("256"), "web: cpu 256");
    await w.controller.sources.queue.sync("apps", "poll");
    // Then checkout is tried again and blocked again: nothing started or changed for it
    let record = (await w.store.getCommitRecord("apps", second))!;
    assert.deepEqual(record.objects.map((o) => [o.object, o.action, o.reason]), [[CHECKOUT, "blocked", "blocked-before"], ["apps/web/web", "deploy", "changed"]]);
    assert.deepEqual(record.problems.map((p) => [p.code, p.path]), [["FLT-PLAN-TARGET-GROUP-NO-LISTENER", "$.loadBalancers[0].targetGroupArn"]]);
    assert.deepEqual(mutationsMentioning(calls, "checkout"), []);
    // When the target group is attached, and a commit changes only web
    await attachLate(w.sim);
    const third = w.remote.push(web("512"), "web: cpu 512");
    await w.controller.sources.queue.sync("apps", "poll");
    // Then checkout deploys with that commit
    record = (await w.store.getCommitRecord("apps", third))!;
    assert.deepEqual([record.status, record.objects.map((o) => [o.object, o.action, o.reason])], ["ok", [[CHECKOUT, "deploy", "blocked-before"], ["apps/web/web", "deploy", "changed"]]]);
    const d = await w.store.latestDeployment(CHECKOUT, "apps");
    assert.deepEqual([d?.commitSha, d?.phase], [third, "Succeeded"]);
    assert.equal(await live(w.sim, "checkout"), 1);
    // ...and the commit after that leaves it alone: it is no longer owed a deployment
    const fourth = w.remote.push(web("1024"), "web: cpu 1024");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.deepEqual((await w.store.getCommitRecord("apps", fourth))!.objects.map((o) => o.object), ["apps/web/web"]);
  });

  it("Given checkout blocked at the last processed commit, When its target group is attached and an operator redeploys that commit (not forced), Then checkout deploys and web, unchanged, is not deployed again", async () => {
    const { w } = await world();
    const sha = w.remote.push({ ...rollingObject("apps/web/web", "web"), ...checkout(w.sim.elb.targetGroupArn("late")) }, "web and checkout");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal((await w.store.getCommitRecord("apps", sha))!.objects.find((o) => o.object === CHECKOUT)?.action, "blocked");
    // The dry run says what a redeploy would do: checkout, blocked again while its group is behind no listener
    const dryRun = async () => {
      const dry = await w.api("GET", `/api/v1/repositories/apps/commits/${sha}/dryrun`);
      assert.equal(dry.status, 200, dry.body);
      return dry.json as { actions: { object: string; blocked?: string }[]; problems: { code: string; path: string }[] };
    };
    let dry = await dryRun();
    assert.deepEqual(dry.actions.map((a) => [a.object, a.blocked?.split(":")[0]]), [[CHECKOUT, "FLT-PLAN-TARGET-GROUP-NO-LISTENER apps/checkout/checkout_svcdef.json $.loadBalancers[0].targetGroupArn"]]);
    assert.deepEqual(dry.problems.map((p) => [p.code, p.path]), [["FLT-PLAN-TARGET-GROUP-NO-LISTENER", "$.loadBalancers[0].targetGroupArn"]]);
    await attachLate(w.sim);
    dry = await dryRun();
    assert.deepEqual(dry.actions.map((a) => [a.object, a.blocked]), [[CHECKOUT, undefined]]);
    const result = await w.controller.sources.manual.deployCommit("apps", sha);
    assert.deepEqual(result.plan.deploy.map((c) => [c.object, c.reason]), [[CHECKOUT, "blocked-before"]]);
    const deployments = (await w.store.listDeployments({ repository: "apps" })).items;
    assert.deepEqual(deployments.map((d) => [d.object, d.phase]).sort(), [[CHECKOUT, "Succeeded"], ["apps/web/web", "Succeeded"]]);
    assert.equal((await w.store.getCommitRecord("apps", sha))!.objects.find((o) => o.object === CHECKOUT)?.action, "deploy", "the commit's newest record");
  });

  it("Given self-heal on and checkout blocked (its target group behind no listener), When drift finds its service missing, Then self-heal waits with the pre-check's code and changes nothing; When the target group is attached, Then the next check redeploys it", async () => {
    const calls: AwsCall[] = [];
    const w = await controllerWorld({ sim: aws, wrap: recordCalls(calls), controller: { drift: { intervalMs: 3_600_000, selfHealRepositories: ["apps"] } } });
    worlds.push(w);
    w.remote.push({ ...rollingObject("apps/web/web", "web"), ...checkout(w.sim.elb.targetGroupArn("late")) }, "web and checkout");
    await w.controller.sources.queue.sync("apps", "poll");
    // When drift checks the repository
    let drift = Object.fromEntries((await w.controller.checkDrift("apps")).map((d) => [d.object, d]));
    await w.controller.sources.queue.idle();
    // Then checkout is missing, and its heal waits for what it needs: nothing started or changed
    assert.equal(drift[CHECKOUT]?.status, "missing");
    assert.equal(drift[CHECKOUT]?.healDeploymentId, null);
    assert.match(drift[CHECKOUT]?.detail.message ?? "", /^self-heal waits: what it needs is missing in AWS: FLT-PLAN-TARGET-GROUP-NO-LISTENER apps\/checkout\/checkout_svcdef\.json \$\.loadBalancers\[0\]\.targetGroupArn/);
    const held = (await w.store.listActivity()).find((a) => a.type === "drift-heal-held" && a.object === CHECKOUT);
    assert.deepEqual(held?.data?.["problems"], [{ code: "FLT-PLAN-TARGET-GROUP-NO-LISTENER", file: "apps/checkout/checkout_svcdef.json", path: "$.loadBalancers[0].targetGroupArn" }]);
    assert.deepEqual(mutationsMentioning(calls, "checkout"), []);
    assert.deepEqual((await w.store.listDeployments({ object: CHECKOUT })).items, []);
    // When the target group is attached, Then the next check heals it
    await attachLate(w.sim);
    drift = Object.fromEntries((await w.controller.checkDrift("apps")).map((d) => [d.object, d]));
    assert.ok(drift[CHECKOUT]?.healDeploymentId, "a self-heal deployment started");
    await w.controller.runner.follow(drift[CHECKOUT].healDeploymentId);
    assert.equal((await w.store.getDeployment(drift[CHECKOUT].healDeploymentId))?.phase, "Succeeded");
    assert.equal(await live(w.sim, "checkout"), 1);
  });

  it("Given a commit of twenty services behind twenty target groups, one of them missing, When the controller processes it, Then the target groups are described in one batch plus one call each for the batch that named the missing one, and only that service is blocked", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const calls: AwsCall[] = [];
    const w = await controllerWorld({
      // With the ports' batching of DescribeServices, as `serve` has it.
      resilient: true,
      wrap: recordCalls(calls),
      sim: (clock) =>
        loadScenario(
          parseScenario({
            throttling: false,
            clusters: ["apps"],
            targetGroups: names.map((name) => ({ name, port: 80 })),
            loadBalancers: [{ name: "public", listeners: names.map((name, i) => ({ port: 8000 + i, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: name, weight: 100 }] }] })) }],
          }),
          clock,
        ),
    });
    worlds.push(w);
    const arn = (name: string) => (name === "s7" ? w.sim.elb.targetGroupArn(name).replace("/s7/", "/s7-gone/") : w.sim.elb.targetGroupArn(name));
    const files = Object.fromEntries(names.flatMap((name) => Object.entries(rollingObject(`apps/${name}/${name}`, name, { svc: { desiredCount: 1, loadBalancers: [{ targetGroupArn: arn(name), containerName: "app", containerPort: 80 }] } }))));
    const sha = w.remote.push(files, "twenty services");
    await w.controller.sources.queue.sync("apps", "poll");
    const record = (await w.store.getCommitRecord("apps", sha))!;
    assert.deepEqual(record.objects.filter((o) => o.action !== "deploy").map((o) => [o.object, o.action]), [["apps/s7/s7", "blocked"]]);
    assert.deepEqual(record.problems.map((p) => [p.object, p.code]), [["apps/s7/s7", "FLT-PLAN-TARGET-GROUP-MISSING"]]);
    // The pre-check asked for the twenty target groups in one call; that call failed on the missing
    // one, so each was asked again alone. Each deployment then reads its own (health checks).
    const groupCalls = calls.filter((c) => c.call === "elbv2.describeTargetGroups").map((c) => (JSON.parse(c.args) as [{ targetGroupArns: string[] }])[0].targetGroupArns);
    assert.deepEqual(groupCalls.filter((arns) => arns.length > 1).map((arns) => arns.length), [20]);
    assert.deepEqual(groupCalls.filter((arns) => arns.some((a) => a.includes("/s7-gone/"))).map((arns) => arns.length), [20, 1]);
    for (const name of names.filter((n) => n !== "s7")) assert.equal(groupCalls.filter((arns) => arns.includes(arn(name))).length, 3, name);
    // Their services were described ten at a time (the ports' batching), before any deployment.
    const serviceCalls = calls.filter((c) => c.call === "ecs.describeServices").map((c) => (JSON.parse(c.args) as [string, string[]])[1]);
    assert.deepEqual(serviceCalls.slice(0, 2).map((s) => s.length), [10, 10]);
  });
});
