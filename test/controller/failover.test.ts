/**
 * Failover between two controllers (the engine of two `flotilla serve` replicas) on one store and
 * one simulated AWS, in virtual time, so the bound is checked in lease terms rather than on a wall
 * clock (the wall-clock figures are `npm run bench -- failover`):
 *
 * Given replica A driving a blue/green canary in its wait, with replica B running beside it, when
 * A dies (its store and AWS calls never answer again) at any point of its heartbeat, then
 *  - B adopts the deployment no earlier than A's lease allows and within the lease TTL plus one
 *    heartbeat of the kill, and finishes it;
 *  - the repository's queue moves to B: the commit A was processing is joined (not deployed twice)
 *    and the commit pushed after the kill is deployed by B.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../src/store/types.ts";
import { bgWorld, type BgWorld } from "../helpers/engine.ts";
import { registeredRemote, untilVirtual, virtualReplica, type VirtualReplica } from "../helpers/virtual-replicas.ts";

const TTL = 30_000;
const HEARTBEAT = 10_000;

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

/** A replica: a controller whose store and AWS calls pass through its switch. */
function replica(w: BgWorld, holder: string): VirtualReplica {
  const r = virtualReplica(w, holder, { leaseTtlMs: TTL, heartbeatMs: HEARTBEAT });
  cleanups.push(() => r.cleanup());
  return r;
}

/** The web service's files at `image`, with a canary that waits `wait` seconds. */
function files(w: BgWorld, image: string, wait: number): Record<string, object> {
  const [blue, green] = [w.tg("web-blue"), w.tg("web-green")];
  return {
    "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 2, deploymentController: { type: "EXTERNAL" }, launchType: "EC2", loadBalancers: [{ targetGroupArn: blue, containerName: "app", containerPort: 8080 }] },
    "apps/web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image, memory: 128, portMappings: [{ containerPort: 8080 }] }] },
    "apps/web/web_depdef.json": { targetGroupArnPairs: [[blue, green]], alarms: { alarmNames: ["web-5xx"] }, trafficShiftingConfig: { type: "CANARY", percent: 20, waitInterval: wait }, stabilityCheck: { pollInterval: 10 } },
  };
}

const until = <T>(w: BgWorld, what: string, check: () => Promise<T | undefined>): Promise<T> => untilVirtual(w.clock, what, check);

const ofCommit = async (w: BgWorld, sha: string): Promise<Deployment[]> => (await w.store.listDeployments({ commitSha: sha })).items;

describe("failover between controllers (virtual time)", () => {
  // Killed at several points of A's heartbeat after the canary began waiting, up to its end.
  for (const offset of [0, 3_000, 6_000, HEARTBEAT - 1]) {
    it(`A killed ${offset / 1000} s into its canary's wait: B adopts within the TTL plus one heartbeat, finishes, and takes the repository's queue`, async () => {
      const w = await bgWorld();
      const remote = await registeredRemote(w.store);
      cleanups.push(() => remote.cleanup());
      let b: ReturnType<typeof replica> | undefined;
      try {
        const a = replica(w, "a#1");
        remote.push(files(w, "web:1", 1), "version 1");
        await a.controller.sources.queue.sync("apps", "manual");

        // Given A in version 2's canary wait, and B running beside it
        const v2 = remote.push(files(w, "web:2", 600), "version 2");
        void a.controller.sources.queue.sync("apps", "manual").catch(() => undefined); // never settles: A dies in it
        const shifting = await until(w, "the canary's wait", async () => (await ofCommit(w, v2)).find((d) => d.phase === "Shifting" && d.trafficWeight === 20));
        b = replica(w, "b#1");
        b.controller.start();
        await w.clock.sleep(offset);

        // When A dies, and a commit is pushed after it
        a.sw.kill();
        const killedAt = w.clock.now();
        const leaseEnd = (await w.store.getDeployment(shifting.id))!.owner!.expiresAt;
        const v3 = remote.push(files(w, "web:3", 1), "version 3");

        // Then B adopts version 2's deployment once A's lease has ended, within the TTL plus one heartbeat of the kill
        const adopted = await until(w, "the adoption", async () => (await w.store.listEvents(shifting.id)).find((e) => e.type === "Adopted"));
        assert.ok(adopted.at >= leaseEnd, "not before A's lease ended");
        assert.ok(adopted.at - killedAt <= TTL + HEARTBEAT, `adopted ${(adopted.at - killedAt) / 1000} s after the kill`);
        assert.match(adopted.message, /^adopted by b#1 \(token 2\): the lease of a#1 ended at /);
        // And finishes it, and deploys the commit pushed after the kill: the repository's queue moved to B
        await until(w, "version 3 processed", async () => ((await w.store.getLastCommit("apps", "main"))?.sha === v3 && (await w.store.activeDeployments()).length === 0) || undefined);
        const [second, third] = [await ofCommit(w, v2), await ofCommit(w, v3)];
        assert.deepEqual(second.map((d) => [d.id, d.phase, d.owner?.id, d.owner?.token]), [[shifting.id, "Succeeded", "b#1", 2]], "version 2 deployed once: B joined A's deployment");
        assert.deepEqual(third.map((d) => [d.phase, d.owner?.id]), [["Succeeded", "b#1"]]);
        assert.deepEqual(a.sw.mutations.filter((m) => m.at > killedAt), [], "A sent nothing after its death");
        assert.deepEqual((await w.taskSets()).filter((s) => s.status !== "DRAINING").map((s) => [s.status, s.targetGroups]), [["PRIMARY", ["web-blue"]]]);
        assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
      } finally {
        await b?.controller.stop();
        await w.close();
      }
    });
  }
});
