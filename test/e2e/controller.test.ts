/**
 * The controller end to end: a push to a real Git remote becomes deployments on the simulator —
 * a rolling service, then a blue/green canary — recorded with the repository and commit, and a
 * removed svcdef is a delete only when deletes are allowed.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Controller } from "../../src/controller/controller.ts";
import { bgWorld, type BgWorld } from "../helpers/engine.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function controllerFor(w: BgWorld, allowDelete = false): Controller {
  const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  return new Controller({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, dataDir, holder: "test", policy: TEST_POLICY, concurrency: 4, allowDelete, maxDeleteFraction: 0.5 });
}

function objects(w: BgWorld, image: string) {
  const tgBlue = w.tg("web-blue");
  const tgGreen = w.tg("web-green");
  return {
    "apps/api/api_svcdef.json": { cluster: "apps", serviceName: "api", desiredCount: 2, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } },
    "apps/api/api_taskdef.json": { family: "api", containerDefinitions: [{ name: "app", image, memory: 128 }] },
    "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 2, deploymentController: { type: "EXTERNAL" }, launchType: "EC2", loadBalancers: [{ targetGroupArn: tgBlue, containerName: "app", containerPort: 8080 }] },
    "apps/web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image, memory: 128, portMappings: [{ containerPort: 8080 }] }] },
    "apps/web/web_depdef.json": { targetGroupArnPairs: [[tgBlue, tgGreen]], alarms: { alarmNames: ["web-5xx"] }, trafficShiftingConfig: { type: "CANARY", percent: 10, waitInterval: 60 }, stabilityCheck: { pollInterval: 10 } },
  };
}

describe("controller", () => {
  it("Given a registered repository, When commits are pushed, Then each becomes deployments in order, recorded with repository and commit", async () => {
    const w = await bgWorld();
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    await w.store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 30 });
    const controller = controllerFor(w);
    const first = remote.push(objects(w, "app:1"), "Initial services");
    await controller.sources.queue.sync("apps", "manual");
    let page = await w.store.listDeployments({ repository: "apps" });
    assert.deepEqual(page.items.map((d) => [d.object, d.phase, d.commitSha]).sort(), [["apps/api/api", "Succeeded", first], ["apps/web/web", "Succeeded", first]]);
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, first);

    const second = remote.push(objects(w, "app:2"), "Ship app 2\n\nFlotilla-Override: all-at-once");
    await controller.sources.queue.sync("apps", "poll");
    page = await w.store.listDeployments({ repository: "apps", commitSha: second });
    assert.equal(page.items.length, 2);
    const web = page.items.find((d) => d.object === "apps/web/web")!;
    assert.equal(web.phase, "Succeeded", `${web.reason} ${web.message}`);
    assert.equal(web.strategy, "bluegreen");
    assert.deepEqual(web.overrides.map((o) => [o.name, o.source]), [["all-at-once", "trailer"]]);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 0, "web-green": 100 });
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, second);
    await controller.stop();
    await w.close();
  });

  it("a removed svcdef deletes the service only when deletes are allowed", async () => {
    const w = await bgWorld();
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    await w.store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 30 });
    remote.push(objects(w, "app:1"));
    const careful = controllerFor(w);
    await careful.sources.queue.sync("apps", "manual");
    remote.pushRemoval(["apps/api/api_svcdef.json", "apps/api/api_taskdef.json"]);
    await careful.sources.queue.sync("apps", "manual");
    assert.equal((await w.sim.ports().ecs.describeServices("apps", ["api"])).services[0]?.status, "ACTIVE", "kept: deletes are off");
    await careful.stop();
    await w.close();
  });
});
