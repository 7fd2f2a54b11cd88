/**
 * The shared status sweep (src/deploy/sweep.ts): deployments in one cluster read their status in
 * one round of calls per poll, counted on the simulator's request log; failed tasks are counted
 * from one cluster-wide listing and still land on the right service; alarms are read 100 names a
 * call for every reader in the region; and every answer is fetched after it was asked for.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Alarm, AwsPorts, Service, Task } from "../../src/aws/ports.ts";
import { depdefSchema } from "../../src/config/depdef.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { onGrid, Runner } from "../../src/deploy/runner.ts";
import type { DeploySpec } from "../../src/deploy/spec.ts";
import { StatusSweep } from "../../src/deploy/sweep.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { fleetScenario } from "../helpers/fleet.ts";

const POLL_S = 15;

function spec(name: string, image: string): DeploySpec {
  return {
    object: `apps/${name}/${name}`,
    region: "us-east-1",
    cluster: "apps",
    service: name,
    svcdef: { cluster: "apps", serviceName: name, desiredCount: 2, launchType: "FARGATE", deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 } },
    taskdef: { family: name, containerDefinitions: [{ name: "app", image, essential: true }] },
    depdef: depdefSchema.parse({ stabilityCheck: { pollInterval: POLL_S, timeout: 1800 }, gmDeploymentCircuitBreaker: { failureThreshold: 2 } }),
  };
}

/** N services on app:1 in cluster `apps`; `faults` for the images deployed next. */
async function world(services: number, faults: unknown[] = []) {
  const clock = new VirtualClock({ autoAdvance: true });
  const sim = loadScenario(fleetScenario(services, { faults }), clock);
  const store = await openSqliteStore({ path: ":memory:", clock });
  const ports = sim.ports();
  const runner = new Runner({ store, aws: () => ports, clock });
  const calls = () => new Map(sim.calls);
  const since = (before: Map<string, number>, op: string) => (sim.calls.get(op) ?? 0) - (before.get(op) ?? 0);
  return { clock, sim, store, runner, calls, since };
}

describe("the shared status sweep", () => {
  it("Given 100 rolling deployments in one cluster waiting for slow tasks, Then each poll round costs 10 DescribeServices and one ListTasks on the simulator's request log, not one of each per deployment", async () => {
    const w = await world(100, [{ image: "app:2", startDelay: "8m" }]);
    try {
      const runs = Array.from({ length: 100 }, async (_, i) => w.runner.run(await w.runner.create(spec(`svc${i}`, "app:2"), { strategy: "rolling" })));
      // Registered, updated and polling; then half a poll off the grid, so the window holds whole rounds.
      await w.clock.sleep(120_000);
      await w.clock.sleep(POLL_S * 1000 - (w.clock.now() % (POLL_S * 1000)) + (POLL_S * 1000) / 2);
      const before = w.calls();
      const rounds = 10;
      await w.clock.sleep(rounds * POLL_S * 1000);
      assert.equal(w.since(before, "DescribeServices"), rounds * 10, "ceil(100/10) per round");
      assert.equal(w.since(before, "ListTasks"), rounds, "one cluster-wide listing of stopped tasks per round");
      assert.equal(w.since(before, "DescribeTasks"), 0, "no task stopped: nothing to describe");
      const done = await Promise.all(runs);
      assert.deepEqual([...new Set(done.map((d) => d.phase))], ["Succeeded"]);
    } finally {
      await w.store.close();
    }
  });

  it("Given two services deploying together, one whose new tasks crash, When failures are counted from the cluster's stopped tasks, Then only that one trips its breaker, and the other succeeds", async () => {
    const w = await world(6, [{ image: "app:crash", exitAfter: "20s", exitCode: 1 }]);
    try {
      const specs = [spec("svc0", "app:crash"), ...[1, 2, 3, 4, 5].map((i) => spec(`svc${i}`, "app:2"))];
      const before = w.calls();
      const start = w.clock.now();
      const done = await Promise.all(specs.map(async (s) => w.runner.run(await w.runner.create(s, { strategy: "rolling" }))));
      assert.equal(done[0]!.reason, "CircuitBreakerTripped", `${done[0]!.phase}: ${done[0]!.message}`);
      assert.ok(done[0]!.counts.failed >= 2);
      for (const d of done.slice(1)) {
        assert.equal(d.phase, "Succeeded", `${d.object}: ${d.message}`);
        assert.equal(d.counts.failed, 0, `${d.object} is not charged with svc0's failed tasks`);
      }
      // At most one stopped-task listing per poll round while they run together (plus svc0's rollback).
      const polls = Math.ceil((w.clock.now() - start) / (POLL_S * 1000)) + 1;
      assert.ok(w.since(before, "ListTasks") <= polls, `${w.since(before, "ListTasks")} ListTasks in ${polls} polls`);
    } finally {
      await w.store.close();
    }
  });
});

/** Ports that answer from tables and count calls; only what the sweep uses. */
function fakePorts(options: { stopped?: () => string[]; scoped?: (scope: object) => string[] } = {}) {
  const calls: { op: string; args: unknown }[] = [];
  let version = 0;
  const task = (arn: string): Task => ({ taskArn: arn, clusterArn: "c", taskDefinitionArn: "td:2", group: "service:web", lastStatus: "STOPPED", desiredStatus: "STOPPED", healthStatus: "UNKNOWN", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited", containers: [], createdAt: 10, stoppedAt: 20 });
  const ports = {
    region: "eu-west-1",
    ecs: {
      describeServices: (_cluster: string, names: readonly string[]) => {
        calls.push({ op: "DescribeServices", args: [...names] });
        version++;
        return Promise.resolve({ services: names.map((n) => ({ serviceName: n, serviceArn: `arn:${n}`, status: "ACTIVE", version }) as unknown as Service), failures: [] });
      },
      listTasks: (input: Record<string, unknown>) => {
        calls.push({ op: "ListTasks", args: input });
        return Promise.resolve(input["serviceName"] || input["startedBy"] ? (options.scoped?.(input) ?? []) : (options.stopped?.() ?? []));
      },
      describeTasks: (_cluster: string, arns: readonly string[]) => {
        calls.push({ op: "DescribeTasks", args: [...arns] });
        return Promise.resolve({ tasks: arns.map(task), failures: [] });
      },
    },
    cloudwatch: {
      describeAlarms: (names: readonly string[]) => {
        calls.push({ op: "DescribeAlarms", args: [...names] });
        return Promise.resolve(names.filter((n) => !n.startsWith("missing")).map((n) => ({ alarmName: n, stateValue: "OK" }) as Alarm));
      },
    },
    elbv2: {},
  } as unknown as AwsPorts;
  return { ports, calls, count: (op: string) => calls.filter((c) => c.op === op).length };
}

describe("the shared status sweep, call by call", () => {
  it("reads the alarms of every reader in the region in one round, 100 names a call, and gives each reader only its own", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sweep = new StatusSweep({ clock });
    const f = fakePorts();
    const many = Array.from({ length: 150 }, (_, i) => `a${i}`);
    const [one, two, three] = await Promise.all([sweep.alarms(f.ports, ["a1", "a2"]), sweep.alarms(f.ports, ["a2", "missing-x"]), sweep.alarms(f.ports, many)]);
    assert.equal(f.count("DescribeAlarms"), 2, "151 distinct names: two calls");
    assert.deepEqual(one.map((a) => a.alarmName), ["a1", "a2"]);
    assert.deepEqual(two.map((a) => a.alarmName), ["a2"], "a missing name is simply absent, as with AWS");
    assert.equal(three.length, 150);
    assert.deepEqual(await sweep.alarms(f.ports, []), []);
    assert.equal(f.count("DescribeAlarms"), 2, "no names, no call");
  });

  it("answers a reader that arrives while a round is in flight from the next round, fetched after it asked", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sweep = new StatusSweep({ clock, windowMs: 100 });
    const f = fakePorts();
    const first = sweep.status(f.ports, "c", "web");
    await clock.sleep(100); // the round has started: its DescribeServices is under way
    const second = sweep.status(f.ports, "c", "web");
    const a = (await first).service as unknown as { version: number };
    const b = (await second).service as unknown as { version: number };
    assert.equal(a.version, 1);
    assert.equal(b.version, 2, "a second DescribeServices, made after the second request");
  });

  it("waits for the other readers only on the poll grid: a read off it (a first look, the end of a wait) goes in the next turn", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sweep = new StatusSweep({ clock, windowMs: 5000 });
    const f = fakePorts();
    const t0 = clock.now();
    await sweep.status(f.ports, "c", "web", undefined, { gather: false });
    assert.equal(clock.now() - t0, 0);
    await sweep.status(f.ports, "c", "web", undefined, { gather: true });
    assert.equal(clock.now() - t0, 5000, "on the grid: the window for the others");
    await Promise.all([sweep.status(f.ports, "c", "a", undefined, { gather: false }), sweep.status(f.ports, "c", "b", undefined, { gather: false })]);
    assert.equal(f.count("DescribeServices"), 3, "reads of one turn still share a call");
    const t1 = clock.now();
    const onGrid = sweep.status(f.ports, "c", "grid", undefined, { gather: true });
    await sweep.status(f.ports, "c", "first-look", undefined, { gather: false });
    assert.equal(clock.now() - t1, 0, "a read off the grid does not wait for the grid's window");
    await onGrid;
  });

  it("lists the cluster's stopped tasks once for many readers, describes a stopped task only once, and lists per reader once the cluster-wide listing is longer than one page per reader", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sweep = new StatusSweep({ clock });
    let stopped = ["t1", "t2"];
    const f = fakePorts({ stopped: () => stopped, scoped: () => ["t1"] });
    const scope = (name: string) => ({ serviceName: name, taskDefinition: "td:2", since: 0 });
    const read = () => Promise.all(["web", "api", "jobs"].map((n) => sweep.status(f.ports, "c", n, scope(n))));
    const r1 = await read();
    assert.deepEqual([f.count("ListTasks"), f.count("DescribeTasks")], [1, 1], "one cluster-wide listing, one description");
    assert.deepEqual(r1.map((r) => r.failures?.count), [2, 0, 0], "the failed tasks are web's (their group), not api's or jobs'");
    assert.equal(r1[0]!.failures?.lastReason, "Essential container in task exited");
    await read();
    assert.deepEqual([f.count("ListTasks"), f.count("DescribeTasks")], [2, 1], "listed again, nothing new to describe");
    // The cluster keeps 250 stopped tasks: three pages for everyone is more than a listing per reader.
    stopped = Array.from({ length: 250 }, (_, i) => `t${i}`);
    await read();
    assert.equal(f.count("ListTasks"), 3);
    const listed = f.calls.length;
    await read();
    const after = f.calls.slice(listed).filter((c) => c.op === "ListTasks");
    assert.equal(after.length, 3, "one listing per reader");
    assert.ok(after.every((c) => (c.args as Record<string, unknown>)["serviceName"] !== undefined));
  });

  it("a DescribeServices error reaches the readers of that call; the others get their answers", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sweep = new StatusSweep({ clock });
    const f = fakePorts();
    const describeServices = f.ports.ecs.describeServices.bind(f.ports.ecs);
    f.ports.ecs.describeServices = async (cluster, names) => {
      if (names.includes("svc3")) throw Object.assign(new Error("boom"), { name: "ServerException" });
      return describeServices(cluster, names);
    };
    const names = Array.from({ length: 15 }, (_, i) => `svc${i}`);
    const answers = await Promise.allSettled(names.map((n) => sweep.status(f.ports, "c", n)));
    assert.deepEqual(
      answers.map((a) => a.status),
      names.map((_, i) => (i < 10 ? "rejected" : "fulfilled")),
      "the first call (svc0..svc9) failed, the second did not",
    );
  });
});

describe("poll waits end on the poll grid", () => {
  it("a wait of a poll ends on the grid between half a poll and a poll and a half away; a shorter wait never ends early", () => {
    const grid = 15_000;
    assert.equal(onGrid(30_000, 15_000, grid), 15_000, "on the grid: exactly one poll");
    assert.equal(onGrid(30_004, 15_000, grid), 14_996, "a few ms late: back on the grid");
    assert.equal(onGrid(3_000, 15_000, grid), 12_000, "off the grid: joins it at the nearest tick");
    assert.equal(onGrid(10_000, 15_000, grid), 20_000);
    assert.equal(onGrid(45_000, 6_000, grid), 15_000, "a remainder waits for the next tick, not less than asked");
    assert.equal(onGrid(44_000, 1_000, grid), 1_000);
    assert.equal(onGrid(0, 60_000, grid), 60_000);
  });
});
