/**
 * Issue 18 through serve's composition root (src/app/serve.ts) and a server configuration as an
 * operator writes it: GitHub's API (a receiver on loopback) gets the commit statuses, a deny window
 * holds a commit until an operator releases it over the HTTP API, and the periodic drift check
 * finds a desiredCount changed by hand and self-heal restores it — on the simulator, in virtual time.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { startServer } from "../../src/app/serve.ts";
import { simulatedEngine } from "../../src/app/simulated.ts";
import { parseServerConfig } from "../../src/controller/server-config.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { createMetrics } from "../../src/server/index.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";
import { receiver } from "../helpers/receiver.ts";

const TOKEN = "ghs_serveStatusToken_0123456789abcdef";
const ADMIN = "admin-token-serve-gitops-0123456789";
/** Monday 2026-01-05, 09:00 UTC: inside the freeze (Mondays 09:00-13:00 UTC). */
const MONDAY_9 = Date.UTC(2026, 0, 5, 9, 0);

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** One step: a virtual second (when anything sleeps on the clock), and a moment of real time for git and HTTP. */
async function step(clock: VirtualClock): Promise<void> {
  if (clock.pending > 0) await clock.advance(1000);
  await new Promise((r) => setTimeout(r, 2));
}

/** Steps until `done` holds (at most an hour of virtual time). */
async function until(clock: VirtualClock, done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const limit = clock.now() + 3600_000;
  while (!(await done())) {
    if (clock.now() >= limit) throw new Error(`${what}: not within an hour`);
    await step(clock);
  }
}

describe("serve with commit statuses, a sync window and drift self-heal", () => {
  it("Given the server configuration, Then GitHub gets each commit's statuses, a prod commit waits in the freeze until released over the API, and a desiredCount changed by hand is restored by the periodic drift check", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-gitops-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const gh = await receiver((_req, res) => res.writeHead(201).end("{}"));
    cleanups.push(() => gh.close());
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    const clock = new VirtualClock({ start: MONDAY_9 });
    const engine = await simulatedEngine({ clock, clusters: ["apps"], storePath: path.join(dir, "flotilla.db"), resilient: false });
    cleanups.push(() => engine.close());
    const yaml = [
      `dataDir: ${JSON.stringify(path.join(dir, "data"))}`,
      `allowedLocalRoots: [${JSON.stringify(tmpdir())}]`,
      "publicUrl: https://flotilla.example.com",
      "credentials:",
      "  gh: { type: token-env, env: GH_TOKEN, hosts: [127.0.0.1] }",
      `github: { apiUrl: "${gh.url}", credential: gh, context: flotilla/deploy, repositories: { apps: octo/apps } }`,
      "syncWindows:",
      '  - { name: monday-freeze, kind: deny, schedule: "0 9 * * 1", duration: 4h, timeZone: UTC, objects: [prod/] }',
      "drift: { interval: 30s, selfHeal: { repositories: [apps] } }",
    ].join("\n");
    const config = parseServerConfig(yaml, { file: path.join(dir, "flotilla.yaml"), baseDir: dir });
    await engine.store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 3600 });
    const logs: string[] = [];
    const server = await startServer({ engine, config, host: "127.0.0.1", port: 0, metrics: createMetrics(), env: { GH_TOKEN: TOKEN, FLOTILLA_ADMIN_TOKEN: ADMIN }, logTo: { write: (l) => logs.push(l) }, concurrency: 4, allowDelete: false, maxDeleteFraction: 0.5, simulator: true });
    cleanups.push(() => server.stop());
    const base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const { store } = engine;
    const queue = server.controller.sources.queue;
    const statuses = (sha: string) => gh.got.filter((g) => g.path === `/repos/octo/apps/statuses/${sha}`).map((g) => JSON.parse(g.body) as Record<string, string>);
    const processed = async (sha: string) => (await store.getLastCommit("apps", "main"))?.sha === sha;

    // A commit outside the window deploys; GitHub hears pending, then success linking to the deployment.
    const dev = remote.push(rollingObject("dev/web/web", "web"), "web");
    void queue.sync("apps", "poll");
    await until(clock, async () => (await processed(dev)) && statuses(dev).length === 2, "the dev commit and its statuses");
    const [deployed] = (await store.listDeployments({ repository: "apps", commitSha: dev })).items;
    assert.equal(deployed?.phase, "Succeeded");
    assert.deepEqual(statuses(dev).map((s) => [s.state, s.context, s.target_url]), [
      ["pending", "flotilla/deploy", `https://flotilla.example.com/repositories/apps/commits/${dev}`],
      ["success", "flotilla/deploy", `https://flotilla.example.com/deployments/${deployed.id}`],
    ]);
    assert.equal(gh.got[0]!.headers.authorization, `Bearer ${TOKEN}`);

    // A prod commit waits in the freeze, its status pending; an operator releases it over the API.
    const prod = remote.push(rollingObject("prod/api/api", "api"), "api");
    void queue.sync("apps", "poll");
    await until(clock, async () => (await store.listWaitingCommits()).length === 1 && statuses(prod).length === 1, "the prod commit waiting");
    assert.match(statuses(prod)[0]!.description!, /^waiting: deny window monday-freeze is open/);
    const release = await fetch(`${base}/api/v1/waiting-commits/release`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ repository: "apps" }) });
    assert.equal(release.status, 200, await release.text());
    // The release syncs the repository by itself.
    await until(clock, async () => (await processed(prod)) && statuses(prod).at(-1)?.state === "success", "the released commit");
    const [api] = (await store.listDeployments({ repository: "apps", commitSha: prod })).items;
    assert.deepEqual(api?.overrides.map((o) => [o.name, o.setBy, o.source]), [["outside-window", "admin", "api"]]);
    assert.ok(logs.some((l) => /"action":"waiting-commit.release"/.test(l) && /"outcome":"ok"/.test(l)), "the release is an audit line");

    // A desiredCount changed by hand: the next drift pass reports it and self-heal restores it.
    const ecs = engine.sim.ports().ecs;
    await ecs.updateService({ cluster: "apps", service: "web", desiredCount: 5 });
    const desired = async () => (await ecs.describeServices("apps", ["web"])).services[0]?.desiredCount;
    await until(clock, async () => (await store.listActivity()).some((a) => a.type === "drift-healed") && (await desired()) === 2, "self-heal");
    const healed = (await store.listActivity()).find((a) => a.type === "drift-healed")!;
    const heal = (await store.getDeployment(String(healed.data?.["deploymentId"])))!;
    assert.deepEqual([heal.object, heal.overrides.map((o) => o.name)], ["dev/web/web", ["self-heal"]]);
    await until(clock, async () => (await store.getDeployment(heal.id))?.finishedAt !== null, "the heal to end");
    assert.equal((await store.getDeployment(heal.id))?.phase, "Succeeded");
    const drift = await fetch(`${base}/api/v1/drift`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(drift.status, 200);
    assert.ok(logs.some((l) => /"type":"drift-detected"/.test(l)), "drift is in serve's log");
    assert.ok(!logs.join("\n").includes(TOKEN) && !logs.join("\n").includes(ADMIN), "no token in the log");
  });
});
