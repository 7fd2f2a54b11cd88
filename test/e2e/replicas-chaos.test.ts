/**
 * Chaos: one `flotilla sim serve`, three `flotilla serve` replicas on one PostgreSQL database, two
 * repositories with 10 blue/green and 10 rolling services, three commits touching all 20 objects
 * (create, then two updates). A seeded random killer sends `kill -9` to a random replica at random
 * instants while deployments run — at least 10 times — and restarts it under a new name. At the end:
 *
 * - every deployment Succeeded (or RolledBack), none is left running;
 * - each commit's object was deployed exactly once, and each repository's last processed commit is
 *   its head; ECS runs what Git says (each service's task definition has the head's image);
 * - each commit has exactly one commit record, whose every object names that one deployment (a
 *   commit processed again after a kill joined its deployments, never repeated them);
 * - each blue/green service has exactly one task set, PRIMARY, with running tasks, and every rule of
 *   its listener puts all of its weight on the primary's target group, whose targets are healthy;
 * - no AWS mutation for a deployment came from a process that did not own it then: the simulator's
 *   request log (who called what, when) against the ownership periods recorded with the fencing
 *   tokens (creation, `Adopted` events).
 *
 * Set FLOTILLA_CHAOS_SEED to replay another sequence of kills. Needs PostgreSQL
 * (FLOTILLA_TEST_POSTGRES_URL, see scripts/with-postgres.sh); CI runs it there.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { seededRandom } from "../../src/sim/ids.ts";
import { Fleet, MUTATIONS, ownerPeriods, type RequestRecord } from "../helpers/replicas.ts";
import { killServes, type ServeProcess } from "../helpers/serve.ts";
import { killSimServes } from "../helpers/sim-serve.ts";

const url = process.env["FLOTILLA_TEST_POSTGRES_URL"];
const SEED = Number(process.env["FLOTILLA_CHAOS_SEED"] ?? 11);
const KILLS = 10;
const VERSIONS = 3;
const BLUEGREEN = Array.from({ length: 10 }, (_, i) => `bg${i}`);
const ROLLING = Array.from({ length: 10 }, (_, i) => `ro${i}`);

let fleet: Fleet | undefined;
after(async () => {
  await fleet?.close().catch(() => undefined);
  killServes();
  killSimServes();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("chaos: three replicas killed at random while they deploy", () => {
  it(`every deployment ends, once, by its owner, and ECS matches Git (seed ${SEED})`, { skip: url ? false : "needs PostgreSQL: FLOTILLA_TEST_POSTGRES_URL (scripts/with-postgres.sh)" }, async (t) => {
    const began = Date.now();
    const random = seededRandom(SEED);
    const f = (fleet = await Fleet.start({ store: "postgres", speed: 20, bluegreen: BLUEGREEN, rolling: ROLLING, ttl: 2, heartbeat: 0.5, canaryWait: 1, repositories: 2 }));
    // Version 1 creates the services; 2 and 3 are pushed as soon as the one before is processed.
    const heads: string[][] = [f.push("1")];
    await f.register();
    const processed = async (shas: string[]) => {
      for (const [i, sha] of shas.entries()) if ((await f.store.getLastCommit(`apps${i}`, "main"))?.sha !== sha) return false;
      return true;
    };
    const pushNext = async () => {
      if (heads.length < VERSIONS && (await processed(heads.at(-1)!))) heads.push(f.push(String(heads.length + 1)));
    };
    const live = new Map<string, ServeProcess>();
    let generation = 0;
    const start = async (slot: string) => live.set(slot, await f.startReplica(`${slot}-g${++generation}`));
    await Promise.all(["r1", "r2", "r3"].map(start));

    const finished = async () => heads.length === VERSIONS && (await processed(heads.at(-1)!)) && (await f.store.activeDeployments()).length === 0;

    // The killer: at random instants while something is deploying, kill -9 a random live replica;
    // it comes back (a new process, a new owner) a moment later.
    const kills: { name: string; active: number; at: number }[] = [];
    const restarts: Promise<unknown>[] = [];
    while (kills.length < KILLS) {
      await sleep(400 + random() * 1000);
      await pushNext();
      const active = (await f.store.activeDeployments()).length;
      if (active === 0) {
        if (await finished()) break;
        continue;
      }
      const slots = [...live.keys()];
      if (slots.length === 0) continue;
      const slot = slots[Math.floor(random() * slots.length)]!;
      const victim = live.get(slot)!;
      live.delete(slot);
      kills.push({ name: slot, active, at: Date.now() });
      await victim.stop("SIGKILL");
      const delay = random() * 1000;
      restarts.push(sleep(delay).then(() => start(slot)));
    }
    await Promise.all(restarts);
    await f.until("every commit processed and every deployment ended", async () => (await pushNext(), (await finished()) ? true : undefined), 240_000);
    assert.ok(kills.length >= KILLS, `only ${kills.length} kills happened before everything ended: the run was too quick to be chaos`);

    const deployments = await f.deployments();
    // Every deployment ended, and ended well (else: what happened to the others, for the log).
    const bad = deployments.filter((d) => d.phase !== "Succeeded" && d.phase !== "RolledBack");
    for (const d of bad) t.diagnostic(`${d.id} ${d.object}: ${(await f.store.listEvents(d.id)).map((e) => `${new Date(e.at).toISOString()} ${e.type} ${e.message}`).join("\n  ")}`);
    if (bad.length) for (const r of await f.requests()) if (/Listener|Rule/.test(r.operation)) t.diagnostic(`${r.receivedAt} ${r.caller} ${r.operation} ${JSON.stringify(r.input)}`);
    assert.deepEqual(bad.map((d) => `${d.object}@${d.commitSha?.slice(0, 7)} ${d.phase} ${d.reason}: ${d.message}`), []);
    // Each commit's object was deployed exactly once.
    const perCommit = new Map<string, number>();
    for (const d of deployments) perCommit.set(`${d.commitSha} ${d.object}`, (perCommit.get(`${d.commitSha} ${d.object}`) ?? 0) + 1);
    assert.deepEqual([...perCommit].filter(([, n]) => n !== 1), [], "one deployment per object and commit");
    assert.equal(perCommit.size, VERSIONS * (BLUEGREEN.length + ROLLING.length));
    // Each commit was processed once: one record (written with the repository's advance, in one
    // transaction), naming those same deployments — a replica killed before that transaction left
    // the commit to the next owner, which joined its deployments, never repeated them.
    const records = await f.store.listCommitRecords({ afterSeq: 0, limit: 500 });
    const deploymentOf = new Map(deployments.map((d) => [`${d.commitSha} ${d.object}`, d.id]));
    for (const [i, shas] of heads.entries()) {
      for (const [r, sha] of shas.entries()) {
        const of = records.filter((c) => c.repository === `apps${r}` && c.sha === sha);
        assert.equal(of.length, 1, `version ${i + 1} of apps${r} has one commit record`);
        for (const c of of) {
          assert.equal(c.status, "ok");
          const named = c.objects.filter((o) => o.deploymentId !== null);
          assert.equal(named.length, c.objects.length, `every object of apps${r}@${sha.slice(0, 7)} was deployed: ${JSON.stringify(c.objects)}`);
          for (const o of named) assert.equal(o.deploymentId, deploymentOf.get(`${sha} ${o.object}`), `${o.object}@${sha.slice(0, 7)}: the commit's one deployment`);
        }
      }
    }

    // ECS runs what Git's head says; blue/green ends with one PRIMARY task set that has the traffic.
    const ECS = f.ecs();
    for (let i = 0; i < BLUEGREEN.length + ROLLING.length; i += 10) {
      const names = [...BLUEGREEN, ...ROLLING].slice(i, i + 10);
      for (const svc of (await ECS.send(new ecs.DescribeServicesCommand({ cluster: "apps", services: names }))).services ?? []) {
        const bluegreen = BLUEGREEN.includes(svc.serviceName!);
        const taskDefinition = bluegreen ? svc.taskSets!.find((s) => s.status === "PRIMARY")?.taskDefinition : svc.taskDefinition;
        const image = (await ECS.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition }))).taskDefinition!.containerDefinitions![0]!.image;
        assert.equal(image, `example/${svc.serviceName}:${VERSIONS}`, `${svc.serviceName} runs the head's image`);
        if (!bluegreen) continue;
        const sets = svc.taskSets!.filter((s) => s.status !== "DRAINING");
        assert.deepEqual(sets.map((s) => s.status), ["PRIMARY"], `${svc.serviceName}: one task set, PRIMARY`);
        assert.ok((sets[0]!.runningCount ?? 0) > 0, `${svc.serviceName}: the primary runs tasks`);
        // Every rule of its listener (the default one included) sends all of its weight to the
        // primary's target group, whose targets are the primary's running tasks, healthy.
        const primaryGroup = sets[0]!.loadBalancers![0]!.targetGroupArn!;
        const rules = (await f.elb().send(new elb.DescribeRulesCommand({ ListenerArn: f.listenerOf.get(svc.serviceName!)! }))).Rules ?? [];
        assert.ok(rules.length > 0);
        for (const rule of rules) {
          const weights = rule.Actions!.flatMap((a) => a.ForwardConfig?.TargetGroups ?? (a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 100 }] : []));
          assert.deepEqual(weights.filter((g) => (g.Weight ?? 0) > 0).map((g) => [g.TargetGroupArn, g.Weight]), [[primaryGroup, 100]], `${svc.serviceName}, rule ${rule.Priority}: all traffic on the primary's target group`);
        }
        const health = (await f.elb().send(new elb.DescribeTargetHealthCommand({ TargetGroupArn: primaryGroup }))).TargetHealthDescriptions ?? [];
        assert.ok(health.filter((h) => h.TargetHealth?.State === "healthy").length >= (sets[0]!.runningCount ?? 0), `${svc.serviceName}: the primary's running tasks are healthy targets of its group: ${JSON.stringify(health.map((h) => h.TargetHealth?.State))}`);
      }
    }

    // No AWS mutation for a deployment came from a process that did not own it at that instant.
    const serviceOf = (r: RequestRecord): string | undefined => {
      if (r.operation === "ModifyListener" || r.operation === "ModifyRule") return [...f.listenerOf].find(([, arn]) => arn === r.resource)?.[0];
      if (r.operation === "RegisterTaskDefinition") return r.resource;
      return r.resource?.split("/")[1];
    };
    const byService = new Map<string, { d: (typeof deployments)[number]; periods: ReturnType<typeof ownerPeriods> }[]>();
    for (const d of deployments) {
      const periods = ownerPeriods(d, await f.store.listEvents(d.id));
      for (let k = 1; k < periods.length; k++) assert.ok(periods[k - 1]!.to <= periods[k]!.from, `${d.id}: owner periods never overlap`);
      byService.set(d.service, [...(byService.get(d.service) ?? []), { d, periods }]);
    }
    const violations: string[] = [];
    let checked = 0;
    for (const r of await f.requests()) {
      if (!MUTATIONS.has(r.operation) || r.caller === "fleet-test") continue;
      const service = serviceOf(r);
      const t = Date.parse(r.receivedAt ?? r.wallTime); // when it reached AWS, before it waited its turn
      const owner = byService.get(service ?? "")?.find(({ d }) => d.createdAt <= t && t <= (d.finishedAt ?? Infinity))?.periods.find((p) => p.from <= t && t <= p.to);
      checked++;
      if (!owner || owner.owner.split("#")[0] !== r.caller) violations.push(`${r.wallTime} ${r.caller} ${r.operation} ${r.resource ?? ""}: owner then ${owner ? `${owner.owner} (token ${owner.token})` : "none"}`);
    }
    assert.ok(checked > 100, `${checked} mutations checked`);
    assert.deepEqual(violations, [], "every mutation came from the deployment's owner of that instant");
    const adoptions = (await Promise.all(deployments.map((d) => f.store.listEvents(d.id)))).flat().filter((e) => e.type === "Adopted").length;
    assert.ok(adoptions > 0, "killed replicas' deployments were adopted");
    const spans = heads.map((shas, v) => {
      const of = deployments.filter((d) => shas.includes(d.commitSha ?? ""));
      return `version ${v + 1}: ${Math.round((Math.min(...of.map((d) => d.createdAt)) - began) / 1000)}–${Math.round((Math.max(...of.map((d) => d.finishedAt ?? 0)) - began) / 1000)} s`;
    });
    t.diagnostic(`${spans.join(", ")}; kills at ${kills.map((k) => Math.round((k.at - began) / 1000)).join(", ")} s`);
    t.diagnostic(`${kills.length} kills, ${deployments.length} deployments, ${adoptions} adoptions, ${checked} mutations checked, ${Math.round((Date.now() - began) / 1000)} s`);
  });
});
