/**
 * The controller as `flotilla serve` runs it, end to end: the real HTTP API on a loopback port, a
 * repository registered through it, a push announced by a signed GitHub webhook, a blue/green
 * deployment on the simulator, and the API showing it to the end.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Controller } from "../../src/controller/controller.ts";
import { signGithubPayload } from "../../src/controller/github-webhook.ts";
import { buildServer, DeploymentEventBus } from "../../src/server/index.ts";
import { registerGithubWebhook } from "../../src/server/webhook.ts";
import { bgWorld } from "../helpers/engine.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { cli } from "../helpers/cli.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("serve end to end", () => {
  it("a webhook-announced push becomes a blue/green deployment that the API shows to the end", async () => {
    const w = await bgWorld();
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const events = new DeploymentEventBus();
    const controller = new Controller({ store: w.store, aws: w.sim.portsFactory(), clock: w.clock, dataDir, holder: "e2e", policy: TEST_POLICY, webhookSecret: "s3cret", concurrency: 4, allowDelete: false, maxDeleteFraction: 0.5, onUpdate: (d) => events.notify(d.id) });
    const app = buildServer({ store: w.store, clock: w.clock, controller, events, policy: TEST_POLICY });
    registerGithubWebhook(app, controller.sources.webhooks);
    await app.listen({ host: "127.0.0.1", port: 0 });
    cleanups.push(async () => {
      await controller.stop();
      await app.close();
      await w.close();
    });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const { token } = await w.store.createToken("ci", "operator");
    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    // Given a registered repository whose first commit is deployed
    const blue = w.tg("web-blue");
    const green = w.tg("web-green");
    const files = (image: string) => ({
      "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 2, deploymentController: { type: "EXTERNAL" }, launchType: "EC2", loadBalancers: [{ targetGroupArn: blue, containerName: "app", containerPort: 8080 }] },
      "apps/web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image, memory: 128, portMappings: [{ containerPort: 8080 }] }] },
      "apps/web/web_depdef.json": { targetGroupArnPairs: [[blue, green]], alarms: { alarmNames: ["web-5xx"] }, trafficShiftingConfig: { type: "LINEAR", percent: 50, waitInterval: 60 }, stabilityCheck: { pollInterval: 10 } },
    });
    remote.push(files("web:1"), "initial");
    const added = await api("POST", "/api/v1/repositories", { name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 3600 });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    await controller.sources.queue.sync("apps", "manual");

    // When a new commit is pushed and GitHub announces it
    const sha = remote.push(files("web:2"), "web 2");
    const payload = JSON.stringify({ ref: "refs/heads/main", after: sha, repository: { clone_url: remote.bare, full_name: "acme/apps" } });
    const hook = await fetch(`${base}/webhooks/github`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "d-1", "x-hub-signature-256": signGithubPayload("s3cret", payload) }, body: payload });
    assert.equal(hook.status, 202);
    const unsigned = await fetch(`${base}/webhooks/github`, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "d-2" }, body: payload });
    assert.equal(unsigned.status, 401);

    // Then `flotilla deployment watch` follows the blue/green deployment of that commit to the end
    let deployment: Record<string, unknown> | undefined;
    for (let i = 0; i < 600 && !deployment; i++) {
      await w.clock.sleep(1_000);
      deployment = ((await api("GET", `/api/v1/deployments?repository=apps&commit=${sha}`)).json["items"] as Record<string, unknown>[])[0];
    }
    assert.ok(deployment, "a deployment of the pushed commit appears");
    const watched = await cli(["deployment", "watch", String(deployment["id"])], { FLOTILLA_SERVER: base, FLOTILLA_TOKEN: token });
    assert.equal(watched.code, 0, watched.stdout + watched.stderr);
    for (const t of ["GreenCreated", "Shifted", "Succeeded"]) assert.match(watched.stdout, new RegExp(t));
    assert.doesNotMatch(watched.stdout + watched.stderr, new RegExp(token), "the token is never printed");
    // And the API shows it finished
    deployment = (await api("GET", `/api/v1/deployments/${String(deployment["id"])}`)).json;
    assert.equal(deployment?.["phase"], "Succeeded", JSON.stringify(deployment));
    assert.equal(deployment["strategy"], "bluegreen");
    const detail = await api("GET", `/api/v1/deployments/${String(deployment["id"])}`);
    const timeline = (detail.json["timeline"] as { type: string }[]).map((e) => e.type);
    for (const t of ["Started", "GreenCreated", "Shifted", "GreenPrimary", "Succeeded"]) assert.ok(timeline.includes(t), `${t} in ${timeline.join(",")}`);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 0, "web-green": 100 });
    const repo = await api("GET", "/api/v1/repositories/apps");
    assert.equal((repo.json["lastCommit"] as { sha: string } | null)?.sha, sha);
  });
});
