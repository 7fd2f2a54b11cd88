/**
 * Issue 12, item 15: `flotilla deployment list --commit` accepts the abbreviated SHA the CLI prints
 * (a unique prefix of at least 7 hex digits; an ambiguous one is a coded 400), and a repository
 * registered through the API is fetched at once, not after the poller's next refresh (30 s).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject } from "../helpers/objects.ts";
import { harness, newDeployment } from "../server/helpers.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

/** Wait (bounded, on real time) for a condition that does not need the virtual clock to move. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("abbreviated commits and newly registered repositories", () => {
  it("Given a deployed commit, When `deployment list --commit` gets the 12 digits the CLI prints, Then it lists that commit's deployments", async () => {
    const w = await controllerWorld();
    worlds.push(w);
    const sha = w.remote.push(rollingObject("apps/web/web", "web"), "web");
    await w.controller.sources.queue.sync("apps", "manual");
    const r = await cli(["deployment", "list", "--commit", sha.slice(0, 12), "-o", "json"], w.env(w.reader));
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: { object: string; commitSha: string }[] }).items;
    assert.deepEqual(items.map((d) => [d.object, d.commitSha]), [["apps/web/web", sha]]);
    const text = await cli(["deployment", "list", "--commit", sha.slice(0, 7)], w.env(w.reader));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /apps\/web\/web/);
  });

  it("Given deployments of two commits sharing a 7-digit prefix, When the list is asked for that prefix, Then a coded 400; a longer unique prefix resolves; fewer than 7 digits is a 400", async () => {
    const h = await harness();
    try {
      const a = "abcdef0" + "1".repeat(33);
      const b = "abcdef0" + "2".repeat(33);
      await h.store.createDeployment(newDeployment({ commitSha: a }));
      await h.store.createDeployment(newDeployment({ commitSha: b }));
      const ambiguous = await h.req({ method: "GET", url: "/api/v1/deployments?commit=abcdef0", token: h.reader });
      assert.equal(ambiguous.statusCode, 400, ambiguous.body);
      assert.equal(ambiguous.json<{ code: string }>().code, "FLT-COMMIT-AMBIGUOUS");
      assert.match(ambiguous.json<{ message: string }>().message, /abcdef01111/);
      const unique = await h.req({ method: "GET", url: "/api/v1/deployments?commit=ABCDEF02", token: h.reader });
      assert.equal(unique.statusCode, 200, unique.body);
      assert.deepEqual(unique.json<{ items: { commitSha: string }[] }>().items.map((d) => d.commitSha), [b]);
      const none = await h.req({ method: "GET", url: "/api/v1/deployments?commit=0123456", token: h.reader });
      assert.deepEqual(none.json<{ items: unknown[] }>().items, []);
      const short = await h.req({ method: "GET", url: "/api/v1/deployments?commit=abcdef", token: h.reader });
      assert.equal(short.statusCode, 400, short.body);
      assert.equal(short.json<{ code: string }>().code, "FLT-API-INVALID-REQUEST");
    } finally {
      await h.close();
    }
  });

  it("Given a running controller whose poller has just looked for repositories, When a repository is registered through the API, Then its head is fetched and deployed at once, before any time passes", async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const w = await controllerWorld({ clock, register: false });
    worlds.push(w);
    const sha = w.remote.push(rollingObject("apps/web/web", "web"), "web");
    w.controller.start();
    await until("the poller to wait for its next refresh", () => Promise.resolve(clock.pending > 0));
    const registeredAt = clock.now();
    const added = await w.api("POST", "/api/v1/repositories", { body: { name: "apps", url: w.remote.bare, branch: "main", pollIntervalSeconds: 30 } });
    assert.equal(added.status, 201, added.body);
    await until("the new repository's head to be deployed", async () => (await w.store.listDeployments({ repository: "apps" })).items.length > 0);
    const [d] = (await w.store.listDeployments({ repository: "apps" })).items;
    assert.equal(d!.commitSha, sha);
    assert.equal(d!.createdAt, registeredAt, "no virtual time passed: not the next 30 s refresh");
    clock.setAutoAdvance(true);
  });
});
