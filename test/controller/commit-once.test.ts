/**
 * Each commit processed once, whenever the replica processing it dies: two controllers (the engine
 * of two `flotilla serve` replicas) on one store and one simulated AWS, in virtual time.
 *
 * Given replica A processing a commit that deploys two services, when A dies
 *  - while the commit's deployments run (started, in the store with the commit's sha, no record),
 *  - once they have ended, as it writes the commit's record (the record and the repository's
 *    advance are one transaction: A dies before it reaches the store),
 *  - or just after that transaction (A never does anything after it),
 * then replica B, once A's repository lease has run out, leaves the commit with exactly one record,
 * exactly one deployment per object (joined, never repeated), the commit as the repository's last
 * processed one, and deploys the commit pushed after it.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Store } from "../../src/store/store.ts";
import { engine, type Engine as World } from "../helpers/engine.ts";
import { rollingObject } from "../helpers/objects.ts";
import { registeredRemote, untilVirtual, virtualReplica, type VirtualReplica } from "../helpers/virtual-replicas.ts";

const TTL = 30_000;
const HEARTBEAT = 10_000;

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

type CrashPoint = "while its deployments run" | "as it writes the record" | "just after the record and the advance";

/**
 * A replica whose store and AWS calls pass through its switch. Once `crashAt` is set, the switch is
 * thrown at that point of the commit's end: on the call that writes the record (before it reaches
 * the store) or as that call answers (after its transaction committed).
 */
function replica(w: World, holder: string): VirtualReplica & { crashAt: (point: CrashPoint) => void; crashed: () => boolean } {
  let crash: CrashPoint | undefined;
  let crashed = false;
  const crashing = (store: Store, sw: VirtualReplica["sw"]): Store =>
    new Proxy(store, {
      get: (t, key) => {
        const value: unknown = Reflect.get(t, key, t);
        if (key !== "markProcessed" || typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          if (crash === "as it writes the record") {
            crashed = true;
            sw.kill();
          }
          const answer: unknown = await (value as (...a: unknown[]) => Promise<unknown>)(...args);
          if (crash === "just after the record and the advance") {
            crashed = true;
            sw.kill();
            return new Promise(() => undefined); // dead: nothing after the transaction runs
          }
          return answer;
        };
      },
    });
  const r = virtualReplica(w, holder, { leaseTtlMs: TTL, heartbeatMs: HEARTBEAT, store: crashing });
  cleanups.push(() => r.cleanup());
  return { ...r, crashAt: (point) => (crash = point), crashed: () => crashed };
}

/** Two services at `image`. */
function files(image: string): Record<string, object> {
  const task = { containerDefinitions: [{ name: "app", image, memory: 256, essential: true }] };
  return { ...rollingObject("apps/web/web", "web", { task }), ...rollingObject("apps/api/api", "api", { task }) };
}

const until = <T>(w: World, what: string, check: () => Promise<T | undefined>): Promise<T> => untilVirtual(w.clock, what, check);

describe("each commit processed once (virtual time)", () => {
  for (const crash of ["while its deployments run", "as it writes the record", "just after the record and the advance"] as const) {
    it(`A dies ${crash}: the commit ends with one record and one deployment per object, and B carries on`, async () => {
      const w = await engine();
      const remote = await registeredRemote(w.store);
      cleanups.push(() => remote.cleanup());
      let b: ReturnType<typeof replica> | undefined;
      try {
        const a = replica(w, "a#1");
        const v1 = remote.push(files("web:1"), "version 1");
        await a.controller.sources.queue.sync("apps", "manual");

        // Given A processing version 2
        const v2 = remote.push(files("web:2"), "version 2");
        a.crashAt(crash);
        void a.controller.sources.queue.sync("apps", "manual").catch(() => undefined); // never settles when A dies in it
        const started = await until(w, "version 2's deployments", async () => {
          const items = (await w.store.listDeployments({ commitSha: v2 })).items;
          return items.length === 2 ? items : undefined;
        });
        // When A dies at the crash point
        if (crash === "while its deployments run") {
          assert.ok(started.every((d) => d.finishedAt === null), "both still running");
          a.sw.kill();
        } else {
          await until(w, `A ${crash}`, () => Promise.resolve(a.crashed() || undefined));
        }
        const recordsAtDeath = (await w.store.listCommitRecords({ afterSeq: 0 })).filter((r) => r.sha === v2).length;
        const advancedAtDeath = (await w.store.getLastCommit("apps", "main"))?.sha === v2;
        assert.equal(recordsAtDeath, advancedAtDeath ? 1 : 0, "the record and the advance are written together");
        assert.equal(advancedAtDeath, crash === "just after the record and the advance");
        b = replica(w, "b#1");
        b.controller.start();
        const v3 = remote.push(files("web:3"), "version 3");

        // Then B takes the repository over and processes what is left, once
        await until(w, "version 3 processed", async () => ((await w.store.getLastCommit("apps", "main"))?.sha === v3 && (await w.store.activeDeployments()).length === 0) || undefined);
        const records = await w.store.listCommitRecords({ afterSeq: 0 });
        assert.deepEqual(
          [v1, v2, v3].map((sha) => records.filter((r) => r.sha === sha).length),
          [1, 1, 1],
          "one record per commit",
        );
        const second = (await w.store.listDeployments({ commitSha: v2 })).items;
        assert.deepEqual(second.map((d) => d.id).sort(), started.map((d) => d.id).sort(), "version 2's deployments joined, not repeated");
        assert.ok(second.every((d) => d.phase === "Succeeded"));
        const record = records.find((r) => r.sha === v2)!;
        assert.deepEqual(
          record.objects.map((o) => [o.object, o.deploymentId]).sort(),
          second.map((d) => [d.object, d.id]).sort(),
          "the record names the deployments",
        );
        assert.equal(record.status, "ok");
        const third = (await w.store.listDeployments({ commitSha: v3 })).items;
        assert.deepEqual(third.map((d) => [d.phase, d.owner?.id]), [["Succeeded", "b#1"], ["Succeeded", "b#1"]]);
        const ecs = w.sim.ports().ecs;
        for (const svc of (await ecs.describeServices("apps", ["web", "api"])).services) {
          assert.equal((await ecs.describeTaskDefinition(svc.taskDefinition!)).containerDefinitions[0]?.image, "web:3");
        }
      } finally {
        await b?.controller.stop();
        await w.close();
      }
    });
  }
});
