/**
 * Replicas as real processes on one store (a SQLite file shared by two `flotilla serve` processes)
 * and one `flotilla sim serve`, all on loopback:
 *
 * - Given a replica shifting traffic for a blue/green deployment, when a second replica starts, then
 *   the second adopts nothing and sends AWS no mutation; the first finishes the deployment alone
 *   (one owner, one token) and the next commit deploys (issue 11, item 1).
 * - Given a replica in a canary's wait, when it gets SIGTERM, then it exits cleanly without waiting
 *   for the canary, having released the deployment, which the other replica adopts at once (long
 *   before the lease's TTL) and finishes.
 * - Given a replica whose AWS call is slow to answer, when it gets SIGTERM and then a second SIGTERM
 *   (or SIGINT), then it exits at once without waiting for the call; when it gets one SIGTERM and the
 *   hand-over outlasts --shutdown-timeout, then it exits at that deadline. Either way nothing is lost:
 *   the deployment's lease runs out and the other replica adopts it and finishes it.
 * - Given `flotilla apply` in a canary's wait, when it gets Ctrl-C, then it hands the deployment over
 *   and the next apply resumes it at once (not after the 30 s lease).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ecs from "@aws-sdk/client-ecs";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Deployment } from "../../src/store/types.ts";
import { Fleet, MUTATIONS, type FleetOptions } from "../helpers/replicas.ts";
import { killServes, type ServeProcess } from "../helpers/serve.ts";
import { killSimServes } from "../helpers/sim-serve.ts";
import { writeTree } from "../helpers/tree.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c()?.catch(() => undefined);
  killServes();
  killSimServes();
});

async function fleet(options: Partial<FleetOptions> & { ttl: number; heartbeat: number; canaryWait: number }): Promise<Fleet> {
  const f = await Fleet.start({ store: "sqlite", speed: 20, bluegreen: ["web"], rolling: [], ...options });
  cleanups.push(() => f.close());
  return f;
}

/** A fleet whose service replica `a` has deployed once (version 1). */
async function deployedByA(options: Partial<FleetOptions> & { ttl: number; heartbeat: number; canaryWait: number }): Promise<{ f: Fleet; a: ServeProcess }> {
  const f = await fleet(options);
  const [v1] = f.push("1");
  await f.register();
  const a = await f.startReplica("a");
  await deploymentOf(f, v1!, "the first deployment", (d) => d.phase === "Succeeded");
  return { f, a };
}

/** The deployment of `sha` once `check` holds for it. */
function deploymentOf(f: Fleet, sha: string, what: string, check: (d: Deployment) => boolean): Promise<Deployment> {
  return f.until(what, async () => (await f.store.listDeployments({ commitSha: sha })).items.find(check));
}

/** Blue/green end state: one task set, PRIMARY, on `tg`, running, and all the listener's traffic there. */
async function servesFrom(f: Fleet, service: string, tg: string): Promise<void> {
  const svc = (await f.ecs().send(new ecs.DescribeServicesCommand({ cluster: "apps", services: [service] }))).services![0]!;
  const live = svc.taskSets!.filter((s) => s.status !== "DRAINING");
  assert.deepEqual(live.map((s) => [s.status, s.loadBalancers?.[0]?.targetGroupArn]), [["PRIMARY", f.tg.get(tg)]]);
  assert.ok((live[0]!.runningCount ?? 0) > 0, "the task set with the traffic has running tasks");
  const listener = (await f.elb().send(new elb.DescribeListenersCommand({ ListenerArns: [f.listenerOf.get(service)!] }))).Listeners![0]!;
  const weights = new Map(listener.DefaultActions![0]!.ForwardConfig!.TargetGroups!.map((g) => [g.TargetGroupArn, g.Weight]));
  assert.equal(weights.get(f.tg.get(tg)), 100, JSON.stringify([...weights]));
}

describe("replicas as processes", () => {
  it("a replica started while another is mid-shift does nothing to that deployment", async () => {
    const { f, a } = await deployedByA({ ttl: 2, heartbeat: 0.5, canaryWait: 60 });

    // When a is shifting traffic for version 2 (20% on green, in the canary's wait)
    const [v2] = f.push("2");
    const shifting = await deploymentOf(f, v2!, "the canary at 20%", (d) => d.phase === "Shifting" && d.trafficWeight === 20);
    assert.match(shifting.owner!.id, /^a#/);
    // And b starts, and lives through several of its lease lifetimes
    const since = (await f.requests()).at(-1)!.seq;
    const b = await f.startReplica("b");
    await new Promise((r) => setTimeout(r, 3 * f.options.ttl * 1000));
    const meanwhile = (await f.store.getDeployment(shifting.id))!;
    assert.equal(meanwhile.phase, "Shifting", "b lived through the shift (the canary's wait outlasted it)");

    // Then b adopted nothing and sent AWS nothing that changes it
    const byB = (await f.requests()).filter((r) => r.seq > since && r.caller === "b");
    assert.deepEqual(byB.filter((r) => MUTATIONS.has(r.operation)).map((r) => `${r.operation} ${r.resource ?? ""}`), [], "b sent no mutation");
    assert.equal(meanwhile.owner!.id, shifting.owner!.id);
    assert.equal(meanwhile.owner!.token, 1);

    // And a finishes it (promoted, to skip the rest of the long wait), alone
    await f.store.requestControl(shifting.id, "promote", "test");
    const done = await deploymentOf(f, v2!, "the end of version 2", (d) => d.finishedAt !== null);
    assert.equal(done.phase, "Succeeded", `${done.reason} ${done.message}`);
    assert.deepEqual([done.owner!.id, done.owner!.token], [shifting.owner!.id, 1]);
    const timeline = (await f.store.listEvents(done.id)).map((e) => e.type);
    assert.deepEqual(timeline.filter((t) => ["Adopted", "Released", "OwnershipLost", "Interrupted"].includes(t)), [], timeline.join(","));
    await servesFrom(f, "web", "web-green");

    // And the next commit deploys (no task set left beside the primary, no conflict)
    const [v3] = f.push("3", 1);
    const next = await deploymentOf(f, v3!, "the end of version 3", (d) => d.finishedAt !== null);
    assert.equal(next.phase, "Succeeded", `${next.reason} ${next.message}`);
    await servesFrom(f, "web", "web-blue");
    for (const p of [a, b]) assert.equal(await p.stop(), 0);
    for (const p of [a, b]) assert.doesNotMatch(p.stderr(), /FLT-STORE-CONFLICT|FLT-STORE-FENCED|active beside the primary/);
  });

  it("SIGTERM mid-canary: the replica exits without waiting, another adopts at once and finishes", async () => {
    // A long TTL: an adoption within it can only come from the release.
    const { f, a } = await deployedByA({ ttl: 120, heartbeat: 0.5, canaryWait: 6 });
    const b = await f.startReplica("b");
    const [v2] = f.push("2");
    const shifting = await deploymentOf(f, v2!, "the canary at 20%", (d) => d.phase === "Shifting" && d.trafficWeight === 20);
    const owner = [a, b].find((p) => p === (shifting.owner!.id.startsWith("a#") ? a : b))!;
    const other = owner === a ? b : a;

    // When its owner gets SIGTERM in the canary's wait
    const code = await owner.stop("SIGTERM");
    const atExit = (await f.store.getDeployment(shifting.id))!;

    // Then it exited cleanly (not by the shutdown deadline) while the canary still had to wait
    assert.equal(code, 0, owner.stderr().split("\n").slice(-5).join("\n"));
    assert.equal(atExit.finishedAt, null, "the canary was not waited for");
    assert.match(owner.stderr(), /deployments handed over/);
    // And another replica adopted the released deployment — not after the 120 s lease — and finished it
    const done = await deploymentOf(f, v2!, "the end of version 2", (d) => d.finishedAt !== null);
    assert.equal(done.phase, "Succeeded", `${done.reason} ${done.message}`);
    const events = await f.store.listEvents(done.id);
    const released = events.find((e) => e.type === "Released")!;
    const adopted = events.find((e) => e.type === "Adopted")!;
    assert.ok(released && adopted && released.seq < adopted.seq, events.map((e) => e.type).join(","));
    assert.equal((adopted.data as { previous: { expiresAt: number } }).previous.expiresAt, released.at, "the lease ended at its release, not at its expiry");
    assert.ok(done.owner!.id.startsWith(owner === a ? "b#" : "a#"));
    assert.equal(done.owner!.token, 2);
    await servesFrom(f, "web", "web-green");
    assert.equal(await other.stop(), 0);
  });

  /**
   * A replica stopping while a ModifyListener is on its way: every ModifyListener takes 60 simulated
   * seconds (3 s of real time) to be answered, so the stop has an AWS call to let finish.
   */
  async function stoppingMidCall(extra: string[]): Promise<{ f: Fleet; owner: ServeProcess; other: ServeProcess; shifting: Deployment }> {
    const f = await fleet({ ttl: 3, heartbeat: 0.5, canaryWait: 2, faults: { apis: [{ operation: "ModifyListener", latency: "60s" }] } });
    const [v1] = f.push("1");
    await f.register();
    const a = await f.startReplica("a", extra);
    const b = await f.startReplica("b", extra);
    await deploymentOf(f, v1!, "the first deployment", (d) => d.phase === "Succeeded");
    const [v2] = f.push("2");
    // A shift of version 2: its state is recorded before the call is sent, and the call then takes 3 s
    const shifting = await deploymentOf(f, v2!, "the shift's ModifyListener on its way", (d) => (d.machineState as { inFlight?: { type?: string } }).inFlight?.type === "setRoutes");
    const owner = shifting.owner!.id.startsWith("a#") ? a : b;
    return { f, owner, other: owner === a ? b : a, shifting };
  }

  /** After a stop that did not release: the other replica adopts once the lease has run out, and finishes. */
  async function adoptedAfterTheLease(f: Fleet, shifting: Deployment, other: ServeProcess): Promise<void> {
    const done = await deploymentOf(f, shifting.commitSha!, "the end of version 2", (d) => d.finishedAt !== null);
    assert.equal(done.phase, "Succeeded", `${done.reason} ${done.message}`);
    const events = await f.store.listEvents(done.id);
    assert.ok(!events.some((e) => e.type === "Released"), "nothing was released: the process did not wait for the call");
    const adopted = events.find((e) => e.type === "Adopted")!;
    const previous = (adopted.data as { previous: { id: string; expiresAt: number } }).previous;
    assert.equal(previous.id, shifting.owner!.id, "adopted from the stopped replica");
    assert.ok(previous.expiresAt <= adopted.at, "once its lease had run out");
    await servesFrom(f, "web", "web-green");
    assert.equal(await other.stop(), 0);
  }

  for (const again of ["SIGTERM", "SIGINT"] as const) {
    it(`SIGTERM, then ${again} while an AWS call is on its way: the replica exits at once, and the deployment is adopted after its lease`, async () => {
      const { f, owner, other, shifting } = await stoppingMidCall([]);
      // When it gets SIGTERM, and then the second signal while it lets the call finish
      const exited = owner.stop("SIGTERM");
      await f.until("the stop begins", () => Promise.resolve(/stopping: no new work/.test(owner.stderr()) ? true : undefined));
      void owner.stop(again);
      // Then it exits at once, with an error, saying what happens to its deployments
      assert.equal(await exited, 1, owner.stderr().split("\n").slice(-5).join("\n"));
      assert.match(owner.stderr(), new RegExp(`${again} again: exiting now; deployments not yet released are adopted once their leases run out`));
      assert.doesNotMatch(owner.stderr(), /deployments handed over/, "it did not wait for the hand-over");
      // And the call it sent had not been answered: the process left while it was on its way
      const left = (await f.store.getDeployment(shifting.id))!;
      assert.equal((left.machineState as { inFlight?: { type?: string } }).inFlight?.type, "setRoutes", "the record still says the call may or may not have happened");
      await adoptedAfterTheLease(f, shifting, other);
    });
  }

  it("a hand-over that outlasts --shutdown-timeout: the replica exits at the deadline, and the deployment is adopted after its lease", async () => {
    const { f, owner, other, shifting } = await stoppingMidCall(["--shutdown-timeout", "0.2"]);
    // When it gets SIGTERM while the call takes longer than the timeout
    const code = await owner.stop("SIGTERM");
    // Then it exits at the deadline, with an error, saying so
    assert.equal(code, 1, owner.stderr().split("\n").slice(-5).join("\n"));
    assert.match(owner.stderr(), /not stopped within 0\.2 s: exiting; deployments not yet released are adopted once their leases run out/);
    assert.doesNotMatch(owner.stderr(), /deployments handed over/);
    await adoptedAfterTheLease(f, shifting, other);
  });

  it("Ctrl-C during flotilla apply hands the deployment over: the next apply resumes it at once", async () => {
    const f = await fleet({ ttl: 30, heartbeat: 10, canaryWait: 5 });
    const cwd = mkdtempSync(path.join(tmpdir(), "flotilla-apply-"));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const env = { ...process.env, ...f.sim.awsEnv("cli"), FLOTILLA_STORE: f.storeLocation, NO_COLOR: "1" };
    const apply = (dir: string) => {
      const child = spawn(process.execPath, [BIN, "apply", dir], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      return { child, output: () => out, exited: new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))) };
    };
    const first = apply(writeTree(f.files("1", 1)[0]!));
    assert.equal(await first.exited, 0, first.output());

    // When apply is in version 2's canary wait and gets Ctrl-C
    const second = apply(writeTree(f.files("2")[0]!));
    const shifting = await f.until("the canary at 20%", async () => (await f.store.listDeployments({ active: true })).items.find((d) => d.phase === "Shifting" && d.trafficWeight === 20));
    second.child.kill("SIGINT");
    assert.equal(await second.exited, 1, second.output());
    // Then it handed the deployment over, unfinished
    assert.match(second.output(), /handing the deployments? over|handed over/);
    const left = (await f.store.getDeployment(shifting.id))!;
    assert.equal(left.finishedAt, null);
    assert.ok((await f.store.listEvents(left.id)).some((e) => e.type === "Released"));
    // And the next apply resumes it at once and finishes it
    const third = apply(writeTree(f.files("2")[0]!));
    assert.equal(await third.exited, 0, third.output());
    assert.match(third.output(), /resumed an unfinished deployment/);
    const done = (await f.store.getDeployment(shifting.id))!;
    assert.equal(done.phase, "Succeeded", `${done.reason} ${done.message}`);
    await servesFrom(f, "web", "web-green");
  });
});
