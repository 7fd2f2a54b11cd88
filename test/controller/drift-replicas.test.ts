/**
 * Drift with several replicas: two controllers (the engine of two `flotilla serve` replicas) on one
 * store and one simulated AWS, in virtual time, both with drift detection and self-heal on.
 *
 * - At most one drift pass per repository per interval across both, each run by the replica holding
 *   the repository's lease at that moment (the pass is the repository's work, as its commits are).
 * - A drifted object is healed once, by the replica whose pass found it: no heal is refused, and
 *   no replica warns.
 * - A commit processed by one replica is what the other compares with (its mirror had never seen
 *   it: it is fetched).
 * - When the replica whose turn it is dies, the other one's passes start (once the dead one's turn
 *   has run out), and it heals what drifts next.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { commitExists } from "../../src/git/read.ts";
import { driftLeaseKey, repositoryLeaseKey, type Store } from "../../src/store/store.ts";
import { engine } from "../helpers/engine.ts";
import { rollingObject } from "../helpers/objects.ts";
import { registeredRemote, untilVirtual, virtualReplica, type VirtualReplica } from "../helpers/virtual-replicas.ts";

const TTL = 30_000;
const HEARTBEAT = 10_000;
const INTERVAL = 60_000;

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

/** A drift pass: who took the repository's turn, when, and how many objects it checked. */
interface Pass {
  replica: string;
  at: number;
  checked: number;
}

/** Two services at `image`. */
function files(image: string): Record<string, object> {
  const task = { containerDefinitions: [{ name: "app", image, memory: 256, essential: true }] };
  return { ...rollingObject("apps/web/web", "web", { task }), ...rollingObject("apps/api/api", "api", { task }) };
}

describe("drift with several replicas (virtual time)", () => {
  it("at most one pass per interval, on the replica holding the repository's lease; heals never refused; the other replica takes over when it dies", async () => {
    const w = await engine();
    const remote = await registeredRemote(w.store, 86_400); // polled at start only
    cleanups.push(() => remote.cleanup());
    const passes: Pass[] = [];
    const warnings: string[] = [];
    const outsideLease: string[] = [];
    const checks: { replica: string; at: number }[] = [];
    /** Records each drift turn taken and each object checked, and whether the repository's lease was this replica's then. */
    const watching = (holder: string) => (store: Store): Store =>
      new Proxy(store, {
        get: (t, key) => {
          const value: unknown = Reflect.get(t, key, t);
          if (typeof value !== "function") return value;
          const call = value as (...a: unknown[]) => Promise<unknown>;
          if (key === "acquireLease")
            return async (...args: unknown[]) => {
              const lease = await call.apply(t, args);
              if (lease && args[0] === driftLeaseKey("apps", "main")) passes.push({ replica: holder, at: w.clock.now(), checked: 0 });
              return lease;
            };
          if (key === "putDrift")
            return async (...args: unknown[]) => {
              const lease = await w.store.getLease(repositoryLeaseKey("apps", "main"));
              if (lease?.holder !== holder || lease.expiresAt <= w.clock.now()) outsideLease.push(`${holder} at ${w.clock.now()}`);
              checks.push({ replica: holder, at: w.clock.now() });
              const pass = passes.findLast((p) => p.replica === holder);
              if (pass) pass.checked++;
              return call.apply(t, args);
            };
          return value;
        },
      });
    const replica = (holder: string): VirtualReplica => {
      const r = virtualReplica(w, holder, {
        leaseTtlMs: TTL,
        heartbeatMs: HEARTBEAT,
        drift: { intervalMs: INTERVAL, selfHealRepositories: ["apps"] },
        onWarning: (m) => warnings.push(`${holder}: ${m}`),
        store: watching(holder),
      });
      cleanups.push(() => r.cleanup());
      return r;
    };
    const until = <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => untilVirtual(w.clock, what, check);
    const ecs = w.sim.ports().ecs;
    const desired = async (service: string) => (await ecs.describeServices("apps", [service])).services[0]?.desiredCount;
    const heals = async () => (await w.store.listDeployments({ repository: "apps" })).items.filter((d) => d.overrides.some((o) => o.name === "self-heal"));
    const made = (passes: Pass[]) => passes.filter((p) => p.checked > 0);

    const replicas = { a: replica("a#1"), b: replica("b#1") };
    let survivor: VirtualReplica | undefined;
    try {
      remote.push(files("web:1"), "version 1");
      await replicas.a.controller.sources.queue.sync("apps", "manual");
      replicas.a.controller.start();
      replicas.b.controller.start();

      // Given both replicas running, Then the repository is checked by one of them at a time, at
      // most once an interval (virtual time runs on while git works, so what is counted is passes,
      // not intervals)
      await until("four passes", () => Promise.resolve(made(passes).length >= 4 || undefined));
      const first = made(passes);
      for (let i = 1; i < first.length; i++) assert.ok(first[i]!.at - first[i - 1]!.at >= INTERVAL, `passes at least an interval apart: ${JSON.stringify(first)}`);
      assert.ok(first.every((p) => p.checked === 2), "each pass checks both objects");

      // When an object drifts by hand, Then the pass that finds it heals it, once, and nobody warns
      await ecs.updateService({ cluster: "apps", service: "web", desiredCount: 5 });
      await until("web healed", async () => ((await heals()).some((d) => d.phase === "Succeeded") && (await desired("web")) === 2) || undefined);
      assert.equal((await heals()).length, 1);
      assert.equal(warnings.length, 0, warnings.join("\n"));

      // When one replica processes a commit, Then the other compares with it at its next check,
      // although its own mirror never fetched it
      const v2 = remote.push(files("web:2"), "version 2");
      await replicas.a.controller.sources.queue.sync("apps", "manual");
      assert.equal((await w.store.getLastCommit("apps", "main"))?.sha, v2);
      const repo = (await w.store.getRepository("apps"))!;
      assert.equal(await commitExists(replicas.b.controller.sources.mirrors.of(repo).gitDir, v2), false);
      const checked = await until("a check by b", async () => {
        const r = await replicas.b.controller.checkDrift("apps");
        return r.length === 2 ? r : undefined;
      });
      assert.deepEqual(checked.map((r) => [r.sha, r.status]), [[v2, "in-sync"], [v2, "in-sync"]]);
      assert.equal(warnings.length, 0, warnings.join("\n"));

      // When the replica whose turn it is dies, Then the other one's passes start and it heals what drifts next
      const checker = (await w.store.getLease(driftLeaseKey("apps", "main")))?.holder === "a#1" ? replicas.a : replicas.b;
      const other = checker === replicas.a ? replicas.b : replicas.a;
      checker.sw.kill();
      const killedAt = w.clock.now();
      survivor = other;
      await ecs.updateService({ cluster: "apps", service: "api", desiredCount: 6 });
      await until("api healed", async () => ((await heals()).filter((d) => d.phase === "Succeeded").length === 2 && (await desired("api")) === 2) || undefined);
      const survivorName = other === replicas.a ? "a#1" : "b#1";
      const after = checks.filter((c) => c.at > killedAt);
      assert.ok(after.length > 0 && after.every((c) => c.replica === survivorName), JSON.stringify(after));
      const healedApi = (await heals()).find((d) => d.object === "apps/api/api")!;
      assert.equal(healedApi.owner?.id, survivorName);
      assert.deepEqual(outsideLease, [], "every check ran on the replica holding the repository's lease");
      assert.deepEqual(warnings.filter((m) => m.startsWith(survivorName)), []);
    } finally {
      await (survivor ?? replicas.b).controller.stop();
      if (!survivor) await replicas.a.controller.stop();
      await w.close();
    }
  });
});
