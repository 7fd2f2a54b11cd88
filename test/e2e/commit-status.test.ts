/**
 * Issue 18: the controller posts a commit status for each commit it processes, to a receiver on
 * loopback standing in for GitHub's API — pending while the deployments run, then success or
 * failure linking to the dashboard.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GithubStatusReporter } from "../../src/controller/commit-status.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, taskdef } from "../helpers/objects.ts";
import { receiver, type Receiver } from "../helpers/receiver.ts";

const TOKEN = "ghs_e2eStatusToken_abcdef0123456789";
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function world(answer?: Parameters<typeof receiver>[0]): Promise<{ w: ControllerWorld; gh: Receiver; statuses: GithubStatusReporter; warnings: string[] }> {
  const gh = await receiver(answer ?? ((_req, res) => res.writeHead(201).end("{}")));
  const warnings: string[] = [];
  const clock = new VirtualClock({ autoAdvance: true });
  const statuses = new GithubStatusReporter({
    clock,
    config: { apiUrl: gh.url, credential: "gh", context: "flotilla/deploy", repositories: { apps: "octo/apps" }, host: "github.com" },
    credential: { type: "token-env", env: "GH_TOKEN", username: "x-access-token", hosts: ["127.0.0.1"] },
    publicUrl: "https://flotilla.example.com",
    env: { GH_TOKEN: TOKEN },
    onWarning: (m) => warnings.push(m),
  });
  const w = await controllerWorld({ clock, controller: { statuses } });
  cleanups.push(async () => {
    await w.close();
    await gh.close();
  });
  return { w, gh, statuses, warnings };
}

const states = (gh: Receiver, sha: string) => gh.got.filter((g) => g.path === `/repos/octo/apps/statuses/${sha}`).map((g) => JSON.parse(g.body) as Record<string, string>);

describe("commit statuses from the controller", () => {
  it("Given a commit that deploys one service, Then GitHub gets pending, then success linking to its deployment", async () => {
    const { w, gh, statuses } = await world();
    const sha = w.remote.push(rollingObject("apps/web/web", "web"), "web");
    await w.controller.sources.queue.sync("apps", "poll");
    await statuses.drain();
    const [deployment] = (await w.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.equal(deployment?.phase, "Succeeded");
    assert.deepEqual(states(gh, sha), [
      { state: "pending", description: "deploying 1 object", context: "flotilla/deploy", target_url: `https://flotilla.example.com/repositories/apps/commits/${sha}` },
      { state: "success", description: "deployed 1 object", context: "flotilla/deploy", target_url: `https://flotilla.example.com/deployments/${deployment.id}` },
    ]);
    assert.equal(gh.got[0]!.headers.authorization, `Bearer ${TOKEN}`);
  });

  it("Given a commit whose deployment rolls back and an invalid object, Then the status is failure and says why", async () => {
    const { w, gh, statuses } = await world();
    w.remote.push({ ...rollingObject("apps/web/web", "web"), ...rollingObject("apps/api/api", "api") }, "two");
    await w.controller.sources.queue.sync("apps", "poll");
    w.sim.faults.addImageFault({ image: "nginx:crash", exitAfterMs: 1000 });
    const sha = w.remote.push({ "apps/web/web_taskdef.json": taskdef("web", { containerDefinitions: [{ name: "app", image: "nginx:crash", memory: 256, essential: true }] }), "apps/api/api_svcdef.json": "{ not json" }, "crash web, break api");
    await w.controller.sources.queue.sync("apps", "poll");
    await statuses.drain();
    const [pending, final] = states(gh, sha);
    assert.equal(pending?.state, "pending");
    assert.equal(final?.state, "failure");
    assert.match(final.description!, /^apps\/web\/web (RolledBack|Failed)/);
    assert.match(final.description!, /1 invalid object not deployed/);
  });

  it("Given a GitHub that never answers in time, Then the commit is processed all the same", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const { w, gh, statuses } = await world((_req, res) => void held.then(() => res.writeHead(201).end()));
    const sha = w.remote.push(rollingObject("apps/web/web", "web"), "web");
    await w.controller.sources.queue.sync("apps", "poll");
    assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, sha, "processed while the first status is still in flight");
    release();
    await statuses.drain();
    assert.deepEqual(states(gh, sha).map((s) => s.state), ["pending", "success"]);
  });
});
