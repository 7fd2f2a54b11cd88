/**
 * Failover: how long after `kill -9` of the replica driving a deployment another replica adopts it.
 * Real processes: one `flotilla sim serve`, two `flotilla serve` replicas on one store (PostgreSQL
 * when FLOTILLA_TEST_POSTGRES_URL is set, else a SQLite file), a blue/green canary killed in its wait
 * at a random point of the heartbeat, several times. The delay runs from the kill to the adoption
 * recorded on the deployment's timeline; it must stay within the lease TTL plus one heartbeat.
 */
import type { Deployment } from "../src/store/types.ts";
import { seededRandom } from "../src/sim/ids.ts";
import { Fleet } from "../test/helpers/replicas.ts";
import type { ServeProcess } from "../test/helpers/serve.ts";
import type { BenchFigure } from "./run.ts";

const TTL_S = 3;
const HEARTBEAT_S = 1;
const RUNS = 7;

export default async function (): Promise<BenchFigure[]> {
  const random = seededRandom(7);
  const f = await Fleet.start({ store: process.env["FLOTILLA_TEST_POSTGRES_URL"] ? "postgres" : "sqlite", speed: 20, bluegreen: ["web"], rolling: [], ttl: TTL_S, heartbeat: HEARTBEAT_S });
  try {
    const deploymentOf = (sha: string, what: string, check: (d: Deployment) => boolean) => f.until(what, async () => (await f.store.listDeployments({ commitSha: sha })).items.find(check), 300_000);
    const [v1] = f.push("1", 1);
    await f.register();
    const live = new Map<string, ServeProcess>();
    let generation = 0;
    const start = async () => {
      const name = `r${++generation}`;
      live.set(name, await f.startReplica(name));
    };
    await Promise.all([start(), start()]);
    await deploymentOf(v1!, "the first deployment", (d) => d.finishedAt !== null);
    const delays: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // A canary that would wait ten minutes: killed in that wait, at a random point of the heartbeat.
      const [sha] = f.push(String(run + 2), 600);
      const shifting = await deploymentOf(sha!, "the canary's wait", (d) => d.phase === "Shifting" && d.trafficWeight === 20);
      await new Promise((r) => setTimeout(r, random() * HEARTBEAT_S * 1000));
      const name = shifting.owner!.id.split("#")[0]!;
      const killedAt = Date.now();
      await live.get(name)!.stop("SIGKILL");
      live.delete(name);
      const adopted = await f.until("the adoption", async () => (await f.store.listEvents(shifting.id)).find((e) => e.type === "Adopted"), 300_000);
      delays.push(adopted.at - killedAt);
      await start();
      await f.store.requestControl(shifting.id, "promote", "bench");
      await deploymentOf(sha!, "the end of the canary", (d) => d.finishedAt !== null);
    }
    delays.sort((a, b) => a - b);
    const bound = (TTL_S + HEARTBEAT_S) * 1000;
    const note = `${RUNS} kills mid-canary; lease TTL ${TTL_S} s, heartbeat ${HEARTBEAT_S} s (serve --lease-ttl/--heartbeat); ${f.options.store}`;
    return [
      { name: "adoption delay after kill -9 of the owner, median", value: delays[Math.floor(delays.length / 2)]!, unit: "ms", note, goal: { direction: "at most", value: bound } },
      { name: "adoption delay after kill -9 of the owner, maximum", value: delays.at(-1)!, unit: "ms", note: `min ${delays[0]} ms`, goal: { direction: "at most", value: bound } },
    ];
  } finally {
    await f.close();
  }
}
