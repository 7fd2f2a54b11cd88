/**
 * Issue 18, drift end to end on the simulator: a desiredCount changed by hand is reported as drift
 * (store, API, CLI, metrics, activity) with the normalised diff, secrets masked; with self-heal on,
 * the object is redeployed from Git (the override self-heal) and drift resolves; an object with a
 * deployment in flight is never judged nor touched.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { allowedEnvironment } from "../../src/config/inputs.ts";
import { SyncWindows } from "../../src/controller/sync-windows.ts";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, taskdef } from "../helpers/objects.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

const GIT_SECRET = "git-s3cret-value-1234";
const HAND_SECRET = "hand-s3cret-value-5678";

async function world(selfHeal: string[] = []): Promise<ControllerWorld> {
  const w = await controllerWorld({ controller: { drift: { intervalMs: 60_000, selfHealRepositories: selfHeal } } });
  worlds.push(w);
  const env = [{ name: "DB_PASSWORD", value: GIT_SECRET }];
  w.remote.push(rollingObject("apps/web/web", "web", { task: { containerDefinitions: [{ name: "app", image: "nginx:1", memory: 256, essential: true, environment: env }] } }), "web");
  await w.controller.sources.queue.sync("apps", "poll");
  return w;
}

const desired = async (w: ControllerWorld) => (await w.sim.ports().ecs.describeServices("apps", ["web"])).services[0]?.desiredCount;

describe("drift", () => {
  it("Given a deployed service, When its desiredCount is changed by hand, Then it is reported as drift everywhere, and nothing is changed without self-heal", async () => {
    const w = await world();
    const [clean] = await w.controller.checkDrift("apps");
    assert.deepEqual([clean?.object, clean?.status, clean?.detectedAt], ["apps/web/web", "in-sync", null]);
    // By hand: 5 tasks, and a task definition revision with another password.
    const ecs = w.sim.ports().ecs;
    const td = await ecs.registerTaskDefinition(taskdef("web", { containerDefinitions: [{ name: "app", image: "nginx:1", memory: 256, essential: true, environment: [{ name: "DB_PASSWORD", value: HAND_SECRET }] }] }));
    await ecs.updateService({ cluster: "apps", service: "web", desiredCount: 5, taskDefinition: td.taskDefinitionArn });
    const [d] = await w.controller.checkDrift("apps");
    assert.equal(d?.status, "drifted");
    assert.ok(d.detectedAt !== null);
    assert.ok(d.detail.reasons.some((r) => /desiredCount/.test(r)), d.detail.reasons.join("; "));
    assert.match(d.detail.service.text, /-\s+"desiredCount": 5,?\n[\s\S]*\+\s+"desiredCount": 2/);
    assert.ok(d.detail.taskDefinition.changed, "the password differs");
    const everything = JSON.stringify(d);
    assert.ok(!everything.includes(GIT_SECRET) && !everything.includes(HAND_SECRET), "secrets masked in the diff");
    assert.equal(await desired(w), 5, "no self-heal: nothing changed");
    // The API, the CLI, the metrics and the activity say so.
    const api = await w.api("GET", "/api/v1/drift?status=drifted", { token: w.reader });
    assert.deepEqual((api.json["items"] as { object: string; reasons: string[] }[]).map((x) => x.object), ["apps/web/web"]);
    assert.ok(!api.body.includes(GIT_SECRET) && !api.body.includes(HAND_SECRET));
    const text = await cli(["drift"], w.env(w.reader));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /apps\s+apps\/web\/web\s+drifted/);
    assert.match(text.stdout, /desiredCount/);
    assert.ok(!text.stdout.includes(GIT_SECRET) && !text.stdout.includes(HAND_SECRET));
    const json = JSON.parse((await cli(["drift", "--output", "json"], w.env(w.reader))).stdout) as { items: { status: string; diff: { service: { text: string } } }[] };
    assert.deepEqual(json.items.map((x) => x.status), ["drifted"]);
    const metrics = await w.api("GET", "/metrics");
    assert.match(metrics.body, /flotilla_drift_objects\{repository="apps",status="drifted"\} 1/);
    assert.deepEqual((await w.store.listActivity()).map((a) => [a.type, a.object]), [["drift-detected", "apps/web/web"]]);
    // A second check of the same drift records nothing new and keeps when it was found.
    const [again] = await w.controller.checkDrift("apps");
    assert.equal(again?.detectedAt, d.detectedAt);
    assert.equal((await w.store.listActivity()).length, 1);
  });

  it("Given self-heal on for the repository, When desiredCount drifts, Then the object is redeployed from Git with a recorded reason and drift resolves; an object with a deployment in flight is never touched", async () => {
    const w = await world(["apps"]);
    await w.sim.ports().ecs.updateService({ cluster: "apps", service: "web", desiredCount: 5 });
    // A deployment of the object in flight: neither judged nor healed.
    const busy = await w.store.createDeployment({ object: "apps/web/web", repository: "apps", branch: "main", strategy: "rolling", region: "us-east-1", cluster: "apps", service: "web", phase: "Deploying" });
    assert.deepEqual(await w.controller.checkDrift("apps"), []);
    assert.equal(await desired(w), 5);
    await w.store.updateDeployment(busy.id, busy.version, { phase: "Failed", reason: "Test", message: "done" });

    const [d] = await w.controller.checkDrift("apps");
    assert.equal(d?.status, "drifted");
    assert.ok(d.healDeploymentId, "a self-heal deployment started");
    await w.controller.runner.follow(d.healDeploymentId); // it runs on after the check, as any deployment
    const heal = await w.store.getDeployment(d.healDeploymentId);
    assert.equal(heal?.phase, "Succeeded", `${heal?.reason} ${heal?.message}`);
    assert.deepEqual(heal.overrides.map((o) => [o.name, o.setBy, o.source]), [["self-heal", "drift detection", "controller"]]);
    // Driven under this controller's lease, as any deployment (docs/store.md, "Several replicas").
    assert.equal(heal.owner?.id, "test");
    assert.ok(heal.owner.token >= 1);
    const why = (await w.store.listEvents(heal.id)).find((e) => e.type === "SelfHealRequested");
    assert.match(why?.message ?? "", /^self-heal: what runs drifted from [0-9a-f]{7} \(.*desiredCount.*\); redeploying from Git$/);
    assert.equal(heal.commitSha, (await w.store.getLastCommit("apps", "main"))?.sha);
    assert.equal(await desired(w), 2, "restored from Git");
    const [after] = await w.controller.checkDrift("apps");
    assert.equal(after?.status, "in-sync");
    const activity = (await w.store.listActivity()).map((a) => a.type).reverse();
    assert.deepEqual(activity, ["drift-detected", "drift-healed", "drift-resolved"]);
    const healed = (await w.store.listActivity()).find((a) => a.type === "drift-healed");
    assert.equal(healed?.data?.["deploymentId"], heal.id);
    assert.ok((healed?.data?.["reasons"] as string[]).some((r) => /desiredCount/.test(r)));
  });

  it("Given an object whose inputs come from the controller's environment (an ENV ref), Then drift renders it with the environment the controller deploys with: in sync, then drifted", async () => {
    const env = { IMAGE_TAG: "1.25" };
    const w = await controllerWorld({ controller: { drift: {}, inputEnvironment: allowedEnvironment(["IMAGE_TAG"], env, "inputs.allowedEnv") } });
    worlds.push(w);
    w.remote.push({ ...rollingObject("apps/web/web", "web", { task: { containerDefinitions: [{ name: "app", image: "nginx:{{ IMAGE_TAG }}", memory: 256, essential: true }] } }), "apps/web/web_input.json": { ref: { type: "ENV", keys: ["IMAGE_TAG"] } } }, "web");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal((await w.store.listDeployments({ object: "apps/web/web" })).items[0]?.phase, "Succeeded");
    const [clean] = await w.controller.checkDrift("apps");
    assert.deepEqual([clean?.object, clean?.status], ["apps/web/web", "in-sync"]);
    await w.sim.ports().ecs.updateService({ cluster: "apps", service: "web", desiredCount: 3 });
    const [d] = await w.controller.checkDrift("apps");
    assert.equal(d?.status, "drifted");
  });

  it("Given many objects in a cluster, When drift checks them, Then services are read together through the shared status sweep (DescribeServices for several at once) and each task definition revision is described once across passes", async () => {
    const w = await controllerWorld({ controller: { drift: {} } });
    worlds.push(w);
    const names = Array.from({ length: 23 }, (_, i) => `svc${String(i).padStart(2, "0")}`);
    w.remote.push(Object.assign({}, ...names.map((n) => rollingObject(`apps/${n}/${n}`, n))) as Record<string, object>, "23 services");
    await w.controller.sources.queue.sync("apps", "poll");
    const ecs = w.sim.ports().ecs;
    const asked: string[][] = [];
    let described = 0;
    const describeServices = ecs.describeServices.bind(ecs);
    const describeTaskDefinition = ecs.describeTaskDefinition.bind(ecs);
    ecs.describeServices = (cluster, services) => (asked.push([...services]), describeServices(cluster, services));
    ecs.describeTaskDefinition = (arn) => (described++, describeTaskDefinition(arn));
    const first = await w.controller.checkDrift("apps");
    assert.deepEqual(first.map((d) => d.status), names.map(() => "in-sync"));
    assert.deepEqual(asked.flat().sort(), names, "each service read once");
    assert.ok(asked.length <= 5 && asked.every((a) => a.length > 1), `shared rounds, not one call per service: ${asked.map((a) => a.length).join(", ")}`);
    assert.equal(described, 23);
    asked.length = 0;
    await w.controller.checkDrift("apps");
    assert.equal(asked.flat().length, 23);
    assert.equal(described, 23, "a revision never changes: not described again");
  });

  it("a depdef's selfHeal wins over the repository's setting, and the periodic check finds drift by itself", async () => {
    const w = await controllerWorld({ controller: { drift: { intervalMs: 60_000, selfHealRepositories: [] } } });
    worlds.push(w);
    w.remote.push({ ...rollingObject("apps/web/web", "web"), "apps/web/web_depdef.json": { selfHeal: true } }, "web heals itself");
    await w.controller.sources.queue.sync("apps", "poll");
    await w.sim.ports().ecs.updateService({ cluster: "apps", service: "web", desiredCount: 7 });
    w.controller.drift!.start();
    // Virtual minutes pass; git reads take real time: wait for the heal in both.
    const healed = async () => (await w.store.listActivity()).some((a) => a.type === "drift-healed");
    for (let i = 0; i < 1000 && !(await healed()); i++) {
      await w.clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    const heal = (await w.store.listActivity()).find((a) => a.type === "drift-healed")!;
    await w.controller.runner.follow(heal.data!["deploymentId"] as string);
    assert.equal(await desired(w), 2);
    await w.controller.drift!.stop();
  });

  it("self-heal waits while a sync window holds the object; a server without drift detection answers FLT-DRIFT-OFF", async () => {
    const windows = new SyncWindows([{ name: "always", kind: "deny", schedule: "0 0 * * *", durationMs: 24 * 3600_000, timeZone: "UTC", repositories: [], objects: ["apps/"], regions: [], clusters: [], accounts: [] }]);
    const w = await controllerWorld({ controller: { drift: { selfHealRepositories: ["apps"] }, syncWindows: windows } });
    worlds.push(w);
    w.remote.push(rollingObject("apps/web/web", "web"), "web\n\nFlotilla-Override: outside-window");
    await w.controller.sources.queue.sync("apps", "poll");
    await w.sim.ports().ecs.updateService({ cluster: "apps", service: "web", desiredCount: 4 });
    const [d] = await w.controller.checkDrift("apps");
    assert.deepEqual([d?.status, d?.healDeploymentId], ["drifted", null]);
    assert.match(d!.detail.message ?? "", /^self-heal waits: deny window always is open/);
    assert.equal(await desired(w), 4);
    assert.deepEqual((await w.store.listActivity()).map((a) => a.type).slice(0, 2), ["drift-heal-held", "drift-detected"]);

    const off = await controllerWorld();
    worlds.push(off);
    const r = await off.api("POST", "/api/v1/drift/check", { body: {} });
    assert.deepEqual([r.status, r.json["code"]], [409, "FLT-DRIFT-OFF"]);
  });
});
