/**
 * The hostile corpus pushed to a repository that the controller watches (the `flotilla serve`
 * machinery on the simulator): every object of the commit is reported invalid with its code,
 * nothing deploys, nothing in AWS changes, and the host is untouched. A commit over the object
 * limit is refused as a whole.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Controller } from "../../src/controller/controller.ts";
import type { SourceEvent } from "../../src/controller/source-events.ts";
import { DEFAULT_INPUT_LIMITS } from "../../src/config/limits.ts";
import { FlotillaError } from "../../src/core/problems.ts";
import { bgWorld, type BgWorld } from "../helpers/engine.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { hostileCorpus, NetworkWatch } from "../helpers/hostile.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "flotilla-hostile-e2e-"));
const marker = path.join(scratch, "MARKER");
const cleanups: (() => void | Promise<void>)[] = [];
const watch = new NetworkWatch();
let port = 0;
before(async () => (port = await watch.start()));
after(async () => {
  for (const c of cleanups) await c();
  await watch.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A simulated world, a Git remote registered as `name`, and a controller watching it. */
async function watchedRepository(name: string) {
  const w = await bgWorld();
  cleanups.push(() => w.close());
  const remote = new TestRemote();
  cleanups.push(() => remote.cleanup());
  await w.store.addRepository({ name, url: remote.bare, branch: "main", pollIntervalSeconds: 30 });
  return { w, remote, ...watched(w) };
}

function watched(w: BgWorld) {
  const dataDir = mkdtempSync(path.join(scratch, "data-"));
  const warnings: string[] = [];
  const events: SourceEvent[] = [];
  const controller = new Controller({
    store: w.store,
    aws: w.sim.portsFactory(),
    clock: w.clock,
    dataDir,
    holder: "test",
    policy: TEST_POLICY,
    concurrency: 4,
    allowDelete: true,
    maxDeleteFraction: 1,
    onWarning: (m) => warnings.push(m),
    onSourceEvent: (e) => events.push(e),
  });
  return { controller, warnings, events };
}

/** Nothing was asked of AWS beyond reads: no task definition, no service, no change. */
function assertAwsUntouched(w: BgWorld): void {
  const writes = [...w.sim.calls.keys()].filter((op) => /^(Register|Create|Update|Delete|Modify|Put|Deregister)/.test(op));
  assert.deepEqual(writes, []);
  assert.equal(w.sim.taskDefs.size, 0);
  assert.equal(w.sim.clusters.get("apps")?.services.size ?? 0, 0);
}

describe("hostile corpus: a watched repository", () => {
  it("Given a watched repository, When the corpus is pushed in one commit, Then every object is reported invalid with its code, nothing deploys and the host is untouched", { timeout: 300_000 }, async () => {
    const { w, remote, controller, warnings, events } = await watchedRepository("hostile");
    const corpus = hostileCorpus({ marker, port });
    const sha = remote.push(Object.assign({}, ...corpus.map((c) => c.files)) as Record<string, string>, "hostile objects");

    // What the controller reports for the pushed commit before it runs it (the API's dry run): each object invalid, with its code.
    const repo = (await w.store.getRepository("hostile"))!;
    const dry = await watch.during(() => controller.dryRun(repo, sha, { rendered: false }));
    for (const c of corpus) {
      const action = dry.actions.find((a) => a.object === `hostile/${c.id}/${c.id}`);
      assert.equal(action?.action, "invalid", c.id);
      assert.ok(dry.problems.some((p) => p.code === c.code && p.file === c.reportedIn), `${c.id}: expected ${c.code} on ${c.reportedIn}`);
    }

    // The controller runs the commit.
    await watch.during(() => controller.sources.queue.sync("hostile", "manual"));

    // The commit was read and processed, every object refused by name.
    const processed = events.find((e) => e.type === "commit-processed");
    assert.ok(processed && processed.type === "commit-processed" && processed.sha === sha, JSON.stringify(events));
    for (const c of corpus) assert.ok(warnings.some((m) => m.includes(`hostile/${c.id}/${c.id} is invalid and is not deployed`)), `${c.id}: ${warnings.join("\n")}`);
    assert.equal((await w.store.listDeployments({ repository: "hostile" })).items.length, 0);
    assertAwsUntouched(w);

    assert.equal(existsSync(marker), false, "a payload wrote a file");
    assert.deepEqual(watch.attempts, [], "a payload opened a connection");
    assert.equal(watch.connections, 0);
    await controller.stop();
  });

  it("Given a watched repository, When a commit holds more objects than the limit, Then the commit is refused with FLT-COMMIT-TOO-MANY-OBJECTS and nothing deploys", { timeout: 300_000 }, async () => {
    const { w, remote, controller } = await watchedRepository("many");
    const svcdef = JSON.stringify({ cluster: "apps", serviceName: "s", desiredCount: 1, launchType: "EC2", taskDefinition: "s:1" });
    const files = Object.fromEntries(Array.from({ length: DEFAULT_INPUT_LIMITS.objects + 1 }, (_, i) => [`s/${i}/o${i}_svcdef.json`, svcdef]));
    remote.push(files, "too many objects");

    await assert.rejects(controller.sources.queue.sync("many", "manual"), (e: unknown) => e instanceof FlotillaError && e.code === "FLT-COMMIT-TOO-MANY-OBJECTS");
    assert.equal(await w.store.getLastCommit("many", "main"), undefined, "the commit is not marked processed");
    assert.equal((await w.store.listDeployments({ repository: "many" })).items.length, 0);
    assertAwsUntouched(w);
    await controller.stop();
  });
});
