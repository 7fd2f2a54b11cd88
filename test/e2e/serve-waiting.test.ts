/**
 * serve's log while a deployment waits without news: an endpoint that never starts the new tasks
 * (here the simulator's image fault, as moto does) leaves a rollout quiet until its stability
 * timeout. Through serve's composition root (src/app/serve.ts), on the simulator in virtual time:
 * the log gets an info line a quiet minute for that deployment with where it stands, and none
 * once it has ended.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "../../src/app/serve.ts";
import { simulatedEngine } from "../../src/app/simulated.ts";
import { parseServerConfig } from "../../src/controller/server-config.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { createMetrics } from "../../src/server/index.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Line {
  time: string;
  level: string;
  msg: string;
  deployment?: string;
  object?: string;
  event?: string;
  waiting?: { phase: string; for: string; counts: { desired: number; running: number; pending: number; failed: number }; timeoutInSeconds?: number };
}

describe("serve's log for a deployment that waits quietly", () => {
  it("Given tasks that never start, Then serve logs where the rollout stands once a quiet minute — id, object, what it waits for, counts, time left — and nothing once it has timed out", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "flotilla-serve-waiting-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const remote = new TestRemote();
    cleanups.push(() => remote.cleanup());
    const clock = new VirtualClock({ start: Date.UTC(2026, 0, 6, 10, 0) });
    const engine = await simulatedEngine({ clock, clusters: ["apps"], storePath: path.join(dir, "flotilla.db"), resilient: false });
    cleanups.push(() => engine.close());
    engine.sim.faults.addImageFault({ image: "web:never", startDelayMs: 24 * 3600_000 });
    const config = parseServerConfig([`dataDir: ${JSON.stringify(path.join(dir, "data"))}`, `allowedLocalRoots: [${JSON.stringify(tmpdir())}]`].join("\n"), { file: path.join(dir, "flotilla.yaml"), baseDir: dir });
    await engine.store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 3600 });
    const raw: string[] = [];
    const server = await startServer({ engine, config, host: "127.0.0.1", port: 0, metrics: createMetrics(), env: {}, logTo: { write: (l) => raw.push(l) }, concurrency: 4, allowDelete: false, maxDeleteFraction: 0.5, simulator: true });
    cleanups.push(() => server.stop());

    const sha = remote.push(rollingObject("dev/web/web", "web", { task: { containerDefinitions: [{ name: "app", image: "web:never", memory: 256, essential: true }] } }), "web");
    void server.controller.sources.queue.sync("apps", "poll");
    const finished = async () => {
      const [d] = (await engine.store.listDeployments({ repository: "apps", commitSha: sha })).items;
      return d !== undefined && d.finishedAt !== null;
    };
    const limit = clock.now() + 3600_000;
    while (!(await finished())) {
      assert.ok(clock.now() < limit, "the deployment ends within an hour");
      if (clock.pending > 0) await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 2));
    }
    // A few quiet minutes more: nothing about a finished deployment.
    for (let i = 0; i < 180; i++) await clock.advance(1000);

    const [d] = (await engine.store.listDeployments({ repository: "apps", commitSha: sha })).items;
    assert.deepEqual([d!.phase, d!.reason], ["Failed", "StabilityTimeout"]);
    const lines = raw.map((l) => JSON.parse(l) as Line).filter((l) => l.deployment === d!.id);
    const at = (l: Line) => Date.parse(l.time);
    const waiting = lines.filter((l) => l.waiting);
    const events = lines.filter((l) => l.event);
    assert.ok(waiting.length >= 3, `a line a quiet minute over a five-minute timeout, got ${waiting.length}:\n${lines.map((l) => l.msg).join("\n")}`);
    for (const w of waiting) {
      assert.equal(w.level, "info");
      assert.equal(w.object, "dev/web/web");
      assert.equal(w.waiting!.phase, "Stabilizing");
      assert.equal(w.waiting!.for, "the new tasks to run and stay healthy");
      assert.deepEqual(w.waiting!.counts, { desired: 2, running: 0, pending: 2, failed: 0 });
      assert.match(w.msg, /^dev\/web\/web Waiting: still Stabilizing: 0\/2 running, 2 pending — (\d+m)?\d+s left of the stability window; waiting for the new tasks to run and stay healthy$/);
      // Quiet: a minute or more after the last line about it, and at most one look (5 s) later.
      const before = lines.filter((l) => at(l) < at(w)).at(-1)!;
      const gap = at(w) - at(before);
      assert.ok(gap >= 60_000 && gap <= 65_000, `${gap} ms after "${before.msg}"`);
    }
    // The time left counts down to the timeout that ends it.
    const lefts = waiting.map((w) => w.waiting!.timeoutInSeconds!);
    assert.deepEqual(
      lefts.slice(1).map((l, i) => lefts[i]! - l),
      lefts.slice(1).map((_, i) => Math.round((at(waiting[i + 1]!) - at(waiting[i]!)) / 1000)),
    );
    const end = events.find((l) => l.event === "Failed")!;
    // The last comes within a minute of the deadline, and the timeout ends the deployment at the first poll past it.
    const deadline = at(waiting.at(-1)!) + lefts.at(-1)! * 1000;
    assert.ok(lefts.at(-1)! <= 65 && at(end) >= deadline, `${lefts.at(-1)} s left at ${waiting.at(-1)!.time}, ended at ${end.time}`);
    assert.ok(waiting.every((w) => at(w) < at(end)), "nothing once it has ended");
  });
});
