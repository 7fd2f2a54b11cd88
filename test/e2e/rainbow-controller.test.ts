/**
 * A rainbow object through the GitOps controller and its API: each commit that bumps the version
 * input deploys a new version beside the others; the API and the CLI cut over, list and clean up;
 * removing the svcdef deletes every version, only with deletes allowed and under the mass-delete
 * guard. Given/When/Then.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { isTerminal, type Deployment } from "../../src/store/types.ts";
import { allowedEnvironment } from "../../src/config/inputs.ts";
import { defaultVpc } from "../../src/sim/vpc.ts";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject } from "../helpers/objects.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** A controller world with an ALB `public` whose HTTPS listener answers 404 until a version is live. */
async function world(options: Parameters<typeof controllerWorld>[0] = {}): Promise<{ w: ControllerWorld; listenerArn: string }> {
  const w = await controllerWorld(options);
  worlds.push(w);
  const elb = w.sim.world().elbv2;
  const lb = await elb.createLoadBalancer({ Name: "public" });
  const l = await elb.createListener({ LoadBalancerArn: lb["LoadBalancerArn"], Port: 443, Protocol: "HTTPS", Certificates: [{ CertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/1" }], DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404" } }] });
  return { w, listenerArn: String(l["ListenerArn"]) };
}

/** The four files of a rainbow object whose version comes from its input file. */
function rainbowObject(listenerArn: string, version: string, extra: { depdef?: Record<string, unknown> } = {}): Record<string, object> {
  return {
    "apps/web/web_svcdef.json": {
      cluster: "apps",
      serviceName: "web",
      desiredCount: 2,
      launchType: "FARGATE",
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      loadBalancers: [{ containerName: "app", containerPort: 8080 }],
    },
    "apps/web/web_taskdef.json": { family: "web", networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image: "web:{{ version }}", essential: true, portMappings: [{ containerPort: 8080 }] }] },
    "apps/web/web_depdef.json": {
      stabilityCheck: { pollInterval: 10, timeout: 600 },
      rainbow: {
        version: "{{ version }}",
        listeners: [{ listenerArn }],
        route: { hostHeader: "{version}.app.example.com" },
        targetGroup: { vpcId: defaultVpc("us-east-1", "123456789012").vpcId, healthCheck: { intervalSeconds: 10, healthyThresholdCount: 2 } },
        cleanup: { automatic: false },
      },
      ...extra.depdef,
    },
    "apps/web/web_input.json": { version },
  };
}

const FILES = ["apps/web/web_svcdef.json", "apps/web/web_taskdef.json", "apps/web/web_depdef.json", "apps/web/web_input.json"];

async function until(w: ControllerWorld, id: string): Promise<Deployment> {
  for (;;) {
    const d = (await w.store.getDeployment(id))!;
    if (isTerminal(d.phase)) return d;
    await w.clock.sleep(5_000);
  }
}

const reach = (w: ControllerWorld, host: string) => w.sim.route({ loadBalancer: "public", port: 443, host }).services;

describe("rainbow objects through the controller", () => {
  it("Given a rainbow object in Git, When commits bump its version, Then each deploys a version beside the others; the API cuts over and back, audited, and the CLI lists the versions", async () => {
    const { w, listenerArn } = await world();
    w.remote.push(rainbowObject(listenerArn, "v1"), "v1");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.push(rainbowObject(listenerArn, "v2"), "v2");
    await w.controller.sources.queue.sync("apps", "poll");
    const deployed = (await w.store.listDeployments({ object: "apps/web/web" })).items;
    assert.deepEqual(deployed.map((d) => [d.strategy, d.phase]), [["rainbow", "Succeeded"], ["rainbow", "Succeeded"]]);
    assert.deepEqual(reach(w, "v1.app.example.com"), ["web-v1"]);
    assert.deepEqual(reach(w, "v2.app.example.com"), ["web-v2"]);
    assert.equal(w.sim.route({ loadBalancer: "public", port: 443, host: "app.example.com" }).status, 404);

    const cut = await w.api("POST", "/api/v1/cutover", { body: { object: "apps/web/web", version: "v2" } });
    assert.equal(cut.status, 202, cut.body);
    const d = await until(w, String(cut.json["id"]));
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.deepEqual(reach(w, "app.example.com"), ["web-v2"]);
    const audit = w.logs.map((l) => JSON.parse(l) as { audit?: { action: string; by: string; target: Record<string, unknown> } }).find((l) => l.audit?.action === "object.cutover")!.audit!;
    assert.deepEqual([audit.by, audit.target], ["alice", { object: "apps/web/web", version: "v2" }]);

    const back = await cli(["cutover", "apps/web/web", "v1"], w.env());
    assert.equal(back.code, 0, back.stderr);
    const id = /deployment (\w+)/.exec(back.stdout)![1]!;
    assert.equal((await until(w, id)).phase, "Succeeded");
    assert.deepEqual(reach(w, "app.example.com"), ["web-v1"]);

    const listed = await cli(["versions", "apps/web/web"], w.env(w.reader));
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^v1\s+live\s+ACTIVE\s+2\/2\s+https:\/\/v1\.app\.example\.com\/$/m);
    assert.match(listed.stdout, /^v2\s+ACTIVE\s+2\/2\s+https:\/\/v2\.app\.example\.com\/$/m);
    assert.match(listed.stdout, /last cutover: to v1 by alice/);
    const dry = await cli(["cleanup", "apps/web/web", "--dry-run", "-o", "json"], w.env());
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout), { dryRun: true, object: "apps/web/web", remove: [], kept: [{ version: "v1", why: "live" }, { version: "v2", why: "one of the 1 newest versions that are not live" }] });
  });

  it("Given deletes off, When the svcdef is removed, Then the delete waits; with deletes allowed, every version's rule, service and target group goes, the live one's group kept while the listener forwards to it", async () => {
    const { w, listenerArn } = await world();
    w.remote.push(rainbowObject(listenerArn, "v1"), "v1");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.push(rainbowObject(listenerArn, "v2"), "v2");
    await w.controller.sources.queue.sync("apps", "poll");
    const cut = await w.api("POST", "/api/v1/cutover", { body: { object: "apps/web/web", version: "v1" } });
    await until(w, String(cut.json["id"]));
    w.remote.pushRemoval(FILES, "remove web");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.deepEqual((await w.store.listPendingDeletes()).map((p) => [p.object, p.reason]), [["apps/web/web", "deletes-off"]]);
    assert.deepEqual(reach(w, "v2.app.example.com"), ["web-v2"], "nothing deleted yet");

    const confirm = await w.api("POST", "/api/v1/pending-deletes/confirm", { body: { repository: "apps", object: "apps/web/web" } });
    assert.equal(confirm.status, 202, confirm.body);
    const d = await until(w, String(confirm.json["id"]));
    assert.equal(d.strategy, "delete");
    assert.equal(d.phase, "Succeeded", `${d.reason} ${d.message}`);
    assert.equal(d.reason, "CleanupIncomplete");
    assert.match(d.message ?? "", /deleted versions v1, v2 of apps\/web\/web; but target group web-v1 was kept: a listener or rule still forwards to it/);
    await w.clock.sleep(900_000);
    const services = await w.sim.ports().ecs.describeServices("apps", ["web-v1", "web-v2"]);
    assert.deepEqual(services.services.map((s) => s.status), ["INACTIVE", "INACTIVE"]);
    assert.equal(w.sim.elb.rules.size, 0);
    assert.deepEqual([...w.sim.elb.targetGroups.values()].map((t) => t.name), ["web-v1"]);
  });

  it("Given deletes allowed and a rainbow and a rolling object, When a commit removes both, Then the mass-delete guard holds them", async () => {
    const { w, listenerArn } = await world({ controller: { allowDelete: true } });
    w.remote.push({ ...rainbowObject(listenerArn, "v1"), ...rollingObject("apps/api/api", "api") }, "two");
    await w.controller.sources.queue.sync("apps", "manual");
    w.remote.pushRemoval([...FILES, "apps/api/api_svcdef.json", "apps/api/api_taskdef.json"], "remove both");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.deepEqual((await w.store.listPendingDeletes()).map((p) => [p.object, p.reason]), [["apps/api/api", "mass-delete"], ["apps/web/web", "mass-delete"]]);
    assert.deepEqual(reach(w, "v1.app.example.com"), ["web-v1"]);
  });

  it("Given drift detection with self-heal, Then a rainbow object is judged by its commit's version's service: in sync while it runs (whatever its count), missing when it was deleted by hand, and not redeployed under the same version name (its rule and target group remain)", async () => {
    const { w, listenerArn } = await world({ controller: { drift: { selfHealRepositories: ["apps"] } } });
    w.remote.push(rainbowObject(listenerArn, "v1"), "v1");
    await w.controller.sources.queue.sync("apps", "manual");
    const ecs = w.sim.ports().ecs;
    // A cutover scales a version to the live count: a count is no drift for a version.
    await ecs.updateService({ cluster: "apps", service: "web-v1", desiredCount: 3 });
    const [clean] = await w.controller.checkDrift("apps");
    assert.deepEqual([clean?.status, clean?.service, clean?.healDeploymentId, clean?.detail.reasons], ["in-sync", "web-v1", null, ["version v1 runs as service web-v1"]]);

    await ecs.deleteService({ cluster: "apps", service: "web-v1", force: true });
    await w.clock.sleep(900_000);
    const [gone] = await w.controller.checkDrift("apps");
    assert.deepEqual([gone?.status, gone?.service, gone?.healDeploymentId], ["missing", "web-v1", null]);
    assert.match(gone!.detail.message ?? "", /^self-heal does not redeploy a rainbow version/);
    assert.equal((await w.store.listDeployments({ object: "apps/web/web" })).items.length, 1, "no heal started");
    assert.deepEqual((await w.store.listActivity()).map((a) => a.type).slice(0, 2), ["drift-heal-held", "drift-detected"]);
    await w.controller.checkDrift("apps");
    assert.equal((await w.store.listActivity()).length, 2, "said once");
  });

  it("Given the version and image from the controller's environment (an ENV ref, as ecs-utils' .env), Then only with the variables allowed does the commit deploy, with their values; otherwise the commit is recorded invalid with the code, file and path", async () => {
    const env = { RELEASE: "r7", IMAGE_TAG: "7.0.1", AWS_SECRET_ACCESS_KEY: "never-read" };
    const { w, listenerArn } = await world({ controller: { inputEnvironment: allowedEnvironment(["RELEASE"], env, "inputs.allowedEnv") } });
    const files = rainbowObject(listenerArn, "unused");
    const swap = (file: string, from: string, to: string) => JSON.parse(JSON.stringify(files[file]).replace(from, to)) as object;
    const object = { ...files, "apps/web/web_input.json": { ref: { type: "ENV", keys: ["RELEASE", "IMAGE_TAG"] } }, "apps/web/web_depdef.json": swap("apps/web/web_depdef.json", "{{ version }}", "{{ RELEASE }}"), "apps/web/web_taskdef.json": swap("apps/web/web_taskdef.json", "web:{{ version }}", "web:{{ IMAGE_TAG }}") };
    const sha = w.remote.push(object, "release from the environment");
    await w.controller.sources.queue.sync("apps", "manual");
    const record = (await w.store.getCommitRecord("apps", sha))!;
    assert.equal(record.status, "invalid");
    assert.deepEqual(record.problems.map((p) => [p.code, p.file, p.path]), [["FLT-INPUT-ENV-NOT-ALLOWED", "apps/web/web_input.json", "$.ref.keys[1]"]]);
    assert.equal((await w.store.listDeployments({ object: "apps/web/web" })).items.length, 0);

    await w.restart({ inputEnvironment: allowedEnvironment(["RELEASE", "IMAGE_TAG"], env, "inputs.allowedEnv") });
    w.remote.push({ "apps/web/web_svcdef.json": { ...files["apps/web/web_svcdef.json"], desiredCount: 1 } }, "again, allowed");
    await w.controller.sources.queue.sync("apps", "poll");
    const [d] = (await w.store.listDeployments({ object: "apps/web/web" })).items;
    assert.equal(d?.phase, "Succeeded", `${d?.reason} ${d?.message}`);
    assert.deepEqual(reach(w, "r7.app.example.com"), ["web-r7"]);
    const td = await w.sim.ports().ecs.describeTaskDefinition(d.newTaskDefinitionArn!);
    assert.equal(td.containerDefinitions[0]!.image, "web:7.0.1");
  });
});
