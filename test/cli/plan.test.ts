/** `flotilla plan`: what apply would do, object by object, with the normalised live diff. Given/When/Then, on the simulator. */
import { after, afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { AwsError } from "../../src/aws/errors.ts";
import type { AwsPorts, AwsPortsFactory } from "../../src/aws/ports.ts";
import { apply } from "../../src/controller/apply.ts";
import { deployJob } from "../../src/controller/pass.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { Simulator } from "../../src/sim/simulator.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { planRepository } from "../../src/cli/plan.ts";
import { cli } from "../helpers/cli.ts";
import { bgSpec, bgWorld, engine, type Engine } from "../helpers/engine.ts";
import type { LoadedObject } from "../../src/config/load-object.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { describeLiveDefinitions, planFromLive } from "../../src/controller/plan.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

const svc = (name: string, over: Record<string, unknown> = {}) => ({ cluster: "apps", serviceName: name, desiredCount: 2, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }, ...over });
const task = (family: string, image: string) => ({ family, containerDefinitions: [{ name: "app", image, memory: 128, environment: [{ name: "DB_PASSWORD", value: "hunter2" }] }] });
const tree = () => writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": svc("b"), "b/b_taskdef.json": task("b", "nginx:1") });

interface JsonPlan {
  objects: { object: string; action: string; reasons: string[]; service: { changed: boolean; changes: { path: string; kind: string; desired?: unknown; live?: unknown }[] }; taskDefinition: { changed: boolean; changes: { path: string; desired?: unknown; live?: unknown }[] } }[];
}

let e: Engine | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});
after(cleanupTrees);

const load = (dir: string) => loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }));
async function deploy(dir: string): Promise<void> {
  const repo = await load(dir);
  const r = await apply(repo.objects, { store: e!.store, aws: e!.sim.portsFactory(), runner: e!.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 4 });
  assert.ok(r.deployments.every((d) => d.phase === "Succeeded"));
}

/** Ports whose every mutating call throws: planning must only describe. */
const MUTATIONS = /^(register|create|update|delete|modify|put|tag|untag|set)/;
function readOnly(aws: AwsPortsFactory, calls: string[]): AwsPortsFactory {
  const guard = <T extends object>(port: T, name: string): T =>
    new Proxy(port, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== "string" || typeof v !== "function") return v;
        return (...args: unknown[]) => {
          calls.push(`${name}.${prop}`);
          if (MUTATIONS.test(prop)) throw new Error(`plan called ${name}.${prop}, a mutating call`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return (region) => {
    const p: AwsPorts = aws(region);
    return { region: p.region, ecs: guard(p.ecs, "ecs"), elbv2: guard(p.elbv2, "elbv2"), cloudwatch: guard(p.cloudwatch, "cloudwatch") };
  };
}

describe("flotilla plan", () => {
  it("Given a fresh simulated world, When planned, Then every object is a create, and exit 0", async () => {
    const r = await cli(["plan", tree(), "--simulator", "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as JsonPlan;
    assert.deepEqual(plan.objects.map((o) => [o.object, o.action]), [["a/a", "create"], ["b/b", "create"]]);
    assert.match(plan.objects[0]!.reasons[0]!, /no such service/);
    assert.equal(plan.objects[0]!.service.changed, true);
    assert.ok(!r.stdout.includes("hunter2"), "secret values are masked");
  });

  it("Given a fresh world, When planned as text, Then each object shows its action and diff, uncoloured off a TTY, and a summary", async () => {
    const r = await cli(["plan", tree(), "--simulator", "--object", "a/a"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^create {3}a\/a · rolling$/m, "the action, the object and the strategy apply would use");
    assert.match(r.stdout, /^ {4}\+ {2}"serviceName": "a",$/m);
    assert.doesNotMatch(r.stdout, /b\/b/, "--object selects");
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour off a TTY");
    assert.doesNotMatch(r.stdout, /hunter2/);
    assert.match(r.stdout, /^1 object: 1 to create, 0 to update, 0 unchanged$/m);
  });

  it("Given a TTY, When planned, Then additions are green", async () => {
    let out = "";
    const io: CliIO = { out: (t) => (out += t), err: () => undefined, color: true, interactive: false, env: process.env, cwd: process.cwd() };
    assert.equal(await main(["plan", tree(), "--simulator", "--object", "a/a"], io), 0);
    assert.match(out, /\x1b\[32m\+ {2}"serviceName": "a",/);
  });

  it("Given deployed objects, When planned, Then nothing differs; a new image and a new desiredCount show as updates with their diffs", async () => {
    e = await engine();
    const dir = tree();
    await deploy(dir);
    const calls: string[] = [];
    const aws = readOnly(e.sim.portsFactory(), calls);

    const same = await planRepository((await load(dir)).objects, aws);
    assert.deepEqual(same.map((p) => [p.object, p.action]), [["a/a", "none"], ["b/b", "none"]], same.map((p) => p.service.text + p.taskDefinition.text).join(""));

    writeFileSync(path.join(dir, "a/a_taskdef.json"), JSON.stringify(task("a", "nginx:2")));
    writeFileSync(path.join(dir, "b/b_svcdef.json"), JSON.stringify(svc("b", { desiredCount: 5 })));
    const changed = await planRepository((await load(dir)).objects, aws);
    const a = changed.find((p) => p.object === "a/a")!;
    const b = changed.find((p) => p.object === "b/b")!;
    assert.equal(a.action, "update");
    assert.deepEqual(a.taskDefinition.changes, [{ path: "$.containerDefinitions[0].image", kind: "changed", desired: "nginx:2", live: "nginx:1" }]);
    assert.equal(a.service.changed, false);
    assert.match(a.taskDefinition.text, /^-\s+"image": "nginx:1",$/m);
    assert.match(a.taskDefinition.text, /^\+\s+"image": "nginx:2",$/m);
    assert.equal(b.action, "update");
    assert.deepEqual(b.service.changes, [{ path: "$.desiredCount", kind: "changed", desired: 5, live: 2 }]);
    assert.equal(b.taskDefinition.changed, false);
    assert.match(b.reasons.join(" "), /the service differs: \$\.desiredCount changed/);
    assert.ok(!a.taskDefinition.text.includes("hunter2"));

    assert.ok(calls.length > 0);
    assert.deepEqual([...new Set(calls)].sort(), ["ecs.describeServices", "ecs.describeTaskDefinition"], "only describes");
  });

  it("Given ports that refuse mutations, When a fresh world is planned, Then planning still works (it never mutates)", async () => {
    e = await engine();
    const calls: string[] = [];
    const plans = await planRepository((await load(tree())).objects, readOnly(e.sim.portsFactory(), calls));
    assert.deepEqual(plans.map((p) => p.action), ["create", "create"]);
    assert.deepEqual([...new Set(calls)], ["ecs.describeServices"]);
  });

  it("Given a blue/green service on its green target group, When planned, Then the PRIMARY task set stands in for the service: nothing differs", async () => {
    const w = await bgWorld();
    e = w;
    const asObject = (spec: DeploySpec): LoadedObject => ({ name: spec.object, files: { name: spec.object }, svcdef: spec.svcdef, ...(spec.taskdef ? { taskdef: spec.taskdef } : {}), depdef: spec.depdef, identity: { region: spec.region, cluster: spec.cluster, service: spec.service }, strategy: "bluegreen", sensitive: [], problems: [], valid: true }) as LoadedObject;
    assert.equal((await w.deploy(bgSpec(w, "web:1"))).phase, "Succeeded");
    assert.equal((await w.deploy(bgSpec(w, "web:2"))).phase, "Succeeded");
    assert.deepEqual((await w.taskSets()).filter((t) => t.status === "PRIMARY").map((t) => t.targetGroups), [["web-green"]]);
    const live = await describeLiveDefinitions(w.sim.ports(), "apps", "web");
    const same = planFromLive(asObject(bgSpec(w, "web:2")), live);
    assert.equal(same.action, "none", same.service.text + same.taskDefinition.text);
    const next = planFromLive(asObject(bgSpec(w, "web:3")), live);
    assert.deepEqual([next.action, next.service.changed, next.taskDefinition.changes.map((c) => c.path)], ["update", false, ["$.containerDefinitions[0].image"]]);
  });

  it("Given a blue/green service whose first deployment failed (no PRIMARY task set), When planned, Then it is an update that creates the first task set, not a list of task-set fields as added", async () => {
    const w = await bgWorld({ faults: { images: [{ image: "web:nopull", pullFails: true }] } });
    e = w;
    const asObject = (spec: DeploySpec): LoadedObject => ({ name: spec.object, files: { name: spec.object }, svcdef: spec.svcdef, ...(spec.taskdef ? { taskdef: spec.taskdef } : {}), depdef: spec.depdef, identity: { region: spec.region, cluster: spec.cluster, service: spec.service }, strategy: "bluegreen", sensitive: [], problems: [], valid: true }) as LoadedObject;
    const spec = bgSpec(w, "web:nopull", { depdef: { gmDeploymentCircuitBreaker: { failureThreshold: 3 } } });
    assert.equal((await w.deploy(spec)).phase, "Failed");
    assert.deepEqual((await w.taskSets()).filter((t) => t.status !== "DRAINING"), [], "the failed green was deleted");
    const live = await describeLiveDefinitions(w.sim.ports(), "apps", "web");
    assert.equal(live.service?.status, "ACTIVE");
    const plan = planFromLive(asObject(spec), live);
    assert.equal(plan.action, "update");
    assert.deepEqual(plan.service.changes, [], plan.service.text);
    assert.deepEqual(plan.taskDefinition.changes.map((c) => c.path), ["$"], "the task definition the first task set will run, whole");
    assert.match(plan.reasons.join("\n"), /^the blue\/green service has no PRIMARY task set, so nothing runs to compare with .*: the deployment creates the first task set from these definitions$/);
    assert.match(plan.notCompared.join("\n"), /taskDefinition, loadBalancers, launchType: a blue\/green service keeps them on its PRIMARY task set, and it has none/);
  });

  it("Given an invalid object, When planned, Then it is listed with its first error and the exit code is 1", async () => {
    const dir = writeTree({ "a/a_svcdef.json": svc("a"), "a/a_taskdef.json": task("a", "nginx:1"), "b/b_svcdef.json": { ...svc("b"), desiredCont: 1 } });
    const r = await cli(["plan", dir, "--simulator", "-o", "json"]);
    assert.equal(r.code, 1);
    const plan = JSON.parse(r.stdout) as JsonPlan;
    assert.deepEqual(plan.objects.map((o) => o.action), ["create", "invalid"]);
    assert.match(plan.objects[1]!.reasons[0]!, /desiredCont/);
    const text = await cli(["plan", dir, "--simulator"]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^invalid {2}b\/b$/m);
    assert.match(text.stdout, /1 invalid$/m);
  });

  it("Given a wrong --output, Then it is a usage error (exit 2)", async () => {
    const r = await cli(["plan", tree(), "--simulator", "--output", "yaml"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /argument 'yaml' is invalid\. Allowed choices are text, json/);
    const missing = await cli(["plan", path.join(tree(), "nowhere"), "--simulator"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is not a directory/);
  });
});

describe("plan checks what apply needs", () => {
  const EXAMPLES = path.join(path.dirname(new URL(import.meta.url).pathname), "../../examples");
  const scenarios = ["dev", "prod"].map((env) => path.join(EXAMPLES, "scenarios", `${env}.json`)).join(",");
  type Problem = { code: string; file?: string; path?: string; severity: string };
  type Planned = { object: string; action: string; wouldBe?: string; problems?: Problem[] };

  it("Given the example repository and a simulator without its target groups and alarms, When planned, Then what apply will refuse is blocked with a coded problem per missing thing, never 'create', and exit 1", async () => {
    const r = await cli(["plan", EXAMPLES, "--simulator", "--output", "json"]);
    assert.equal(r.code, 1, r.stderr);
    const plans = (JSON.parse(r.stdout) as { objects: Planned[] }).objects;
    const web = plans.find((p) => p.object === "dev/web/web")!;
    assert.equal(web.action, "blocked");
    assert.equal(web.wouldBe, "create");
    assert.deepEqual(
      web.problems!.map((p) => [p.code, p.file, p.path]),
      [
        ["FLT-PLAN-TARGET-GROUP-MISSING", "dev/web/web_svcdef.json", "$.loadBalancers[0].targetGroupArn"],
        ["FLT-PLAN-TARGET-GROUP-MISSING", "dev/web/web_depdef.json", "$.targetGroupArnPairs[0][1]"],
        ["FLT-PLAN-ALARM-MISSING", "dev/web/web_depdef.json", "$.alarms.alarmNames[0]"],
        ["FLT-PLAN-ALARM-MISSING", "dev/web/web_depdef.json", "$.alarms.alarmNames[1]"],
      ],
    );
    assert.deepEqual(plans.filter((p) => p.action === "create").map((p) => p.object), ["dev/worker/worker", "prod/worker/worker"], "objects without load balancers need nothing more");

    // And the deployments of exactly what the plan blocks fail when run anyway: the checks are what the engine meets.
    const clock = new VirtualClock({ autoAdvance: true });
    const sims = new Map<string, Simulator>();
    const aws: AwsPortsFactory = (region) => {
      if (!sims.has(region)) sims.set(region, Object.assign(new Simulator({ clock, region, throttling: false }), { createMissingClusters: true }));
      return sims.get(region)!.ports();
    };
    const store = await openSqliteStore({ path: ":memory:", clock });
    const runner = new Runner({ store, aws, clock });
    const failed: string[] = [];
    for (const o of (await load(EXAMPLES)).objects) {
      const job = deployJob(o);
      const d = await runner.run(await runner.create(job.spec, { strategy: job.strategy }));
      if (d.phase !== "Succeeded") failed.push(o.name);
    }
    await store.close();
    assert.deepEqual(failed.sort(), plans.filter((p) => p.action === "blocked").map((p) => p.object).sort());
  });

  it("Given the example repository and a simulator without its target groups and alarms, When apply --dry-run runs, Then it blocks exactly what plan blocks, with the same problems, never 'create'; When apply runs, Then it starts nothing for them, deploys the others and exits 1", async () => {
    const planned = (JSON.parse((await cli(["plan", EXAMPLES, "--simulator", "--output", "json"])).stdout) as { objects: Planned[] }).objects;
    type Decided = { object: string; action: string; wouldBe?: string; problems?: Problem[] };
    const dry = await cli(["apply", EXAMPLES, "--simulator", "--store", ":memory:", "--dry-run", "--output", "json"]);
    assert.equal(dry.code, 1, dry.stderr);
    const decided = (JSON.parse(dry.stdout) as { decisions: Decided[] }).decisions;
    const view = (xs: readonly (Planned | Decided)[]) => xs.map((x) => [x.object, x.action, x.wouldBe ?? null, (x.problems ?? []).map((p) => [p.code, p.severity, p.file, p.path])]);
    assert.deepEqual(view(decided), view(planned));
    assert.ok(decided.some((d) => d.action === "blocked") && decided.some((d) => d.action === "create"));

    const text = await cli(["apply", EXAMPLES, "--simulator", "--store", ":memory:", "--dry-run"]);
    assert.match(text.stdout, /blocked\s+dev\/web\/web .*\n\s+.*FLT-PLAN-TARGET-GROUP-MISSING/);

    const applied = await cli(["apply", EXAMPLES, "--simulator", "--store", ":memory:", "--output", "json"]);
    assert.equal(applied.code, 1, applied.stderr);
    const result = JSON.parse(applied.stdout) as { decisions: Decided[]; deployments: { object: string; phase: string }[] };
    const blocked = planned.filter((p) => p.action === "blocked").map((p) => p.object);
    assert.deepEqual(result.decisions.filter((d) => d.action === "blocked").map((d) => d.object), blocked);
    assert.deepEqual(result.deployments.map((d) => [d.object, d.phase]), planned.filter((p) => p.action === "create").map((p) => [p.object, "Succeeded"]), "nothing started for a blocked object");
  });

  it("Given the scenarios that model the example repository's AWS, When planned, Then nothing is missing: every object is a create, exit 0", async () => {
    const r = await cli(["plan", EXAMPLES, "--simulator", scenarios, "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const plans = (JSON.parse(r.stdout) as { objects: Planned[] }).objects;
    assert.deepEqual([...new Set(plans.map((p) => p.action))], ["create"]);
    assert.ok(plans.every((p) => !p.problems));
  });

  it("Given a cluster that does not exist (AWS creates none on demand), When planned or applied, Then FLT-PLAN-CLUSTER-MISSING on the svcdef's $.cluster and the object is blocked", async () => {
    e = await engine();
    const dir = writeTree({ "a/a_svcdef.json": svc("a", { cluster: "nowhere" }), "a/a_taskdef.json": task("a", "nginx:1") });
    const [plan] = await planRepository((await load(dir)).objects, e.sim.portsFactory());
    assert.equal(plan!.action, "blocked");
    assert.deepEqual(plan!.problems.map((p) => [p.code, p.file, p.path]), [["FLT-PLAN-CLUSTER-MISSING", "a/a_svcdef.json", "$.cluster"]]);
    // apply decides the same, instead of stopping the pass on ClusterNotFoundException
    const r = await apply((await load(dir)).objects, { store: e.store, aws: e.sim.portsFactory(), runner: e.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 1 });
    assert.deepEqual(r.decisions.map((d) => [d.object, d.action, d.action === "blocked" ? d.problems.map((p) => p.code) : null]), [["a/a", "blocked", ["FLT-PLAN-CLUSTER-MISSING"]]]);
    assert.deepEqual(r.deployments, []);
  });

  it("Given a blue/green pair whose green target group no listener forwards to, When planned, Then green is FLT-PLAN-TARGET-GROUP-NO-LISTENER: a warning for the first deployment (which only uses blue), blocking an update", async () => {
    const w = await bgWorld();
    e = w;
    w.sim.elb.addTargetGroup({ name: "web-orphan" });
    const blue = w.tg("web-blue");
    const orphan = w.tg("web-orphan");
    const files = (image: string) => ({
      "web/web_svcdef.json": svc("web", { deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: undefined, loadBalancers: [{ targetGroupArn: blue, containerName: "app", containerPort: 8080 }] }),
      "web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image, memory: 128, portMappings: [{ containerPort: 8080 }] }] },
      "web/web_depdef.json": { targetGroupArnPairs: [[blue, orphan]], alarms: { alarmNames: ["web-5xx"] } },
    });
    const dir = writeTree(files("nginx:1"));
    const [first] = await planRepository((await load(dir)).objects, w.sim.portsFactory());
    assert.equal(first!.action, "create", JSON.stringify(first!.problems));
    assert.deepEqual(first!.problems.map((p) => [p.code, p.severity, p.path]), [["FLT-PLAN-TARGET-GROUP-NO-LISTENER", "warning", "$.targetGroupArnPairs[0][1]"]]);
    await deploy(dir);

    writeFileSync(path.join(dir, "web/web_taskdef.json"), JSON.stringify(files("nginx:2")["web/web_taskdef.json"]));
    const [update] = await planRepository((await load(dir)).objects, w.sim.portsFactory());
    assert.equal(update!.action, "blocked");
    assert.equal(update!.wouldBe, "update");
    assert.deepEqual(update!.problems.map((p) => [p.code, p.severity]), [["FLT-PLAN-TARGET-GROUP-NO-LISTENER", "error"]]);
    // apply blocks it too, and starts nothing ...
    const repo = await load(dir);
    const r = await apply(repo.objects, { store: w.store, aws: w.sim.portsFactory(), runner: w.runner, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 1 });
    assert.deepEqual(r.decisions.map((d) => [d.action, d.action === "blocked" ? d.wouldBe : null]), [["blocked", "update"]]);
    assert.deepEqual(r.deployments, []);
    // ... where the deployment, run anyway, fails as the plan said
    const job = deployJob(repo.objects[0]!);
    const d = await w.runner.run(await w.runner.create(job.spec, { strategy: job.strategy }));
    assert.equal(d.phase, "Failed", d.message ?? "");
    assert.match(d.message ?? "", /does not have an associated load balancer/);
  });

  it("Given AWS refuses DescribeTargetGroups, When planned, Then the check is a warning (FLT-PLAN-NOT-CHECKED) and the plan still says what apply would do", async () => {
    const w = await bgWorld();
    e = w;
    const denied: AwsPortsFactory = (region) => {
      const p = w.sim.ports();
      return { ...p, region, elbv2: { ...p.elbv2, describeTargetGroups: () => Promise.reject(new AwsError({ name: "AccessDenied", message: "not authorized", service: "ELBv2", operation: "DescribeTargetGroups" })) } };
    };
    const dir = writeTree({ "a/a_svcdef.json": svc("a", { loadBalancers: [{ targetGroupArn: w.tg("api-blue"), containerName: "app", containerPort: 80 }] }), "a/a_taskdef.json": { family: "a", containerDefinitions: [{ name: "app", image: "nginx:1", memory: 128, portMappings: [{ containerPort: 80 }] }] } });
    const [plan] = await planRepository((await load(dir)).objects, denied);
    assert.equal(plan!.action, "create");
    assert.deepEqual(plan!.problems.map((p) => [p.code, p.severity]), [["FLT-PLAN-NOT-CHECKED", "warning"]]);
  });
});
