/**
 * One decision path (src/controller/pass.ts): `flotilla apply` and the controller decide what a
 * pass does to each object the same way — the strategy of each deployment, the pre-check of what
 * it needs in AWS (a missing target group, cluster, alarm or listener blocks it), which deletes run
 * and which wait (the mass-delete guard exactly at its limit and one over it), and how many
 * deployments run at once. The same repository goes through both, commit by commit: apply on a
 * working tree, the controller from a Git remote, each on its own simulator of the same AWS.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { apply } from "../../src/controller/apply.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { Runner, type MachineState } from "../../src/deploy/runner.ts";
import { loadScenario, parseScenario } from "../../src/sim/scenario.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { isTerminal, type Deployment } from "../../src/store/types.ts";
import type { Problem } from "../../src/core/problems.ts";
import { controllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, svcdef, taskdef } from "../helpers/objects.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

after(cleanupTrees);

/**
 * The AWS both paths deploy to: cluster `apps`, a blue/green target-group pair behind a listener, an
 * alarm; target group `svc` behind a listener of its own and `lonely` behind none.
 */
function world(clock: VirtualClock): Simulator {
  const tg = (name: string) => ({ name, port: 80, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 0 });
  return loadScenario(
    parseScenario({
      throttling: false,
      clusters: ["apps"],
      targetGroups: [tg("web-blue"), tg("web-green"), tg("svc"), tg("lonely")],
      loadBalancers: [
        {
          name: "public",
          listeners: [
            { port: 443, protocol: "HTTPS", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "web-blue", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }] },
            { port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "svc", weight: 100 }] }] },
          ],
        },
      ],
      alarms: [{ name: "web-5xx" }],
    }),
    clock,
  );
}

const ROLLING = ["a", "b", "c", "d", "e"];
const CONCURRENCY = 2;
const MAX_DELETE_FRACTION = 0.5;

/** The repository's files: five rolling services, a blue/green one, and one that cannot be read. */
function files(sim: Simulator, webImage = "nginx:1"): Record<string, string | object> {
  const blue = sim.elb.targetGroupArn("web-blue");
  const green = sim.elb.targetGroupArn("web-green");
  const out: Record<string, string | object> = {
    "apps/web/web_svcdef.json": svcdef("web", { deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: undefined, loadBalancers: [{ targetGroupArn: blue, containerName: "app", containerPort: 80 }] }),
    "apps/web/web_taskdef.json": taskdef("web", { containerDefinitions: [{ name: "app", image: webImage, memory: 256, essential: true, portMappings: [{ containerPort: 80 }] }] }),
    "apps/web/web_depdef.json": { targetGroupArnPairs: [[blue, green]], alarms: { alarmNames: ["web-5xx"] }, trafficShiftingConfig: { type: "ALL_AT_ONCE" }, bakeTime: 1 },
    "apps/broken/broken_svcdef.json": '{ "cluster": "apps", }',
  };
  for (const n of ROLLING) Object.assign(out, rollingObject(`apps/${n}/${n}`, n));
  return out;
}

const removal = (names: readonly string[]) => names.flatMap((n) => Object.keys(rollingObject(`apps/${n}/${n}`, n)));

/** One pass's decisions on the objects a commit changed, in words both paths share. */
type Decisions = Record<string, string>;

/** The problems that blocked an object: `code file path`, as both paths report them. */
const blockedBy = (problems: readonly Problem[], object: string) => problems.filter((p) => p.object === object && p.severity === "error").map((p) => `${p.code} ${p.file} ${p.path}`);

/** How many deployments ran at once, at most, seen from the runner's updates. */
function concurrencyProbe(): { onUpdate: (d: Deployment) => void; max: () => number } {
  const active = new Set<string>();
  let max = 0;
  return {
    onUpdate: (d) => {
      if (isTerminal(d.phase)) active.delete(d.id);
      else active.add(d.id);
      max = Math.max(max, active.size);
    },
    max: () => max,
  };
}

async function liveServices(sim: Simulator): Promise<string[]> {
  const names = ["web", "broken", ...ROLLING];
  return (await sim.ports().ecs.describeServices("apps", names)).services.filter((s) => s.status === "ACTIVE").map((s) => s.serviceName).sort();
}

interface Path {
  /** Run a pass after the commit that writes `write` and removes `remove`; the decisions on those objects. */
  pass(write: Record<string, string | object>, remove: readonly string[], changed: readonly string[]): Promise<Decisions>;
  /** After a pass: what blocked each object it blocked. */
  blocked: Record<string, string[]>;
  sim: Simulator;
  store: Store;
  maxConcurrent(): number;
  close(): Promise<void>;
}

/** `flotilla apply` on a working tree. */
async function applyPath(): Promise<Path> {
  const clock = new VirtualClock({ autoAdvance: true });
  const sim = world(clock);
  const store = await openSqliteStore({ path: ":memory:", clock });
  const probe = concurrencyProbe();
  const runner = new Runner({ store, aws: sim.portsFactory(), clock, onUpdate: probe.onUpdate });
  const dir = writeTree({});
  const blocked: Record<string, string[]> = {};
  return {
    sim,
    store,
    blocked,
    maxConcurrent: probe.max,
    async pass(write, remove, changed) {
      for (const [file, content] of Object.entries(write)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), typeof content === "string" ? content : JSON.stringify(content));
      }
      for (const file of remove) rmSync(path.join(dir, file));
      const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }));
      const r = await apply(repo.objects, { store, aws: sim.portsFactory(), runner, allowDelete: true, maxDeleteFraction: MAX_DELETE_FRACTION, confirmMassDelete: false, concurrency: CONCURRENCY });
      assert.deepEqual(r.errors, []);
      const out: Decisions = {};
      for (const d of r.decisions) {
        if (!changed.includes(d.object)) continue;
        if (d.action === "create" || d.action === "update") out[d.object] = `deploy ${d.job.strategy}`;
        else if (d.action === "delete") out[d.object] = d.held ? `delete held: ${d.held.reason}` : "delete";
        else out[d.object] = d.action;
        if (d.action === "blocked") blocked[d.object] = blockedBy(d.problems, d.object);
      }
      return out;
    },
    close: () => store.close(),
  };
}

/** The controller, processing the same changes as commits pushed to its repository. */
async function controllerPath(): Promise<Path> {
  const probe = concurrencyProbe();
  const w = await controllerWorld({ sim: world, controller: { allowDelete: true, maxDeleteFraction: MAX_DELETE_FRACTION, concurrency: CONCURRENCY, onUpdate: probe.onUpdate } });
  const blocked: Record<string, string[]> = {};
  return {
    sim: w.sim,
    store: w.store,
    blocked,
    maxConcurrent: probe.max,
    async pass(write, remove, changed) {
      // One commit, as a working tree changes at once.
      const sha = w.remote.pushChange(write, [...remove]);
      await w.controller.sources.queue.sync("apps", "poll");
      const record = (await w.store.getCommitRecord("apps", sha))!;
      const pending = await w.store.listPendingDeletes({ repository: "apps" });
      const out: Decisions = {};
      for (const o of record.objects) {
        if (!changed.includes(o.object)) continue;
        const d = o.deploymentId ? await w.store.getDeployment(o.deploymentId) : undefined;
        if (o.action === "deploy") out[o.object] = `deploy ${d!.strategy}`;
        else if (o.action === "delete-held") out[o.object] = `delete held: ${pending.find((p) => p.object === o.object)!.reason}`;
        else out[o.object] = o.action;
        if (o.action === "blocked") blocked[o.object] = blockedBy(record.problems, o.object);
      }
      return out;
    },
    close: () => w.close(),
  };
}

interface Step {
  name: string;
  write: (sim: Simulator) => Record<string, string | object>;
  remove: readonly string[];
  /** The objects the step's commit changes: the controller decides on those, apply on every object. */
  changed: readonly string[];
  expected: Decisions;
  /** What blocked each blocked object (`code file path`); none by default. */
  blocked?: Record<string, string[]>;
}

/** Each step through both paths: the same decisions, and the same services running after it. */
async function bothPaths(steps: readonly Step[]): Promise<{ apply: Path; controller: Path }> {
  const paths = { apply: await applyPath(), controller: await controllerPath() };
  try {
    for (const step of steps) {
      const seen: Record<string, Decisions> = {};
      for (const [name, p] of Object.entries(paths)) {
        for (const o of step.changed) delete p.blocked[o];
        const deployments = async () => Promise.all(Object.keys(step.blocked ?? {}).map(async (o) => (await p.store.listDeployments({ object: o })).items.length));
        const before = await deployments();
        seen[name] = await p.pass(step.write(p.sim), step.remove, step.changed);
        assert.deepEqual(await deployments(), before, `${step.name}: ${name} started no deployment of a blocked object`);
      }
      assert.deepEqual(seen["apply"], step.expected, `${step.name}: apply`);
      assert.deepEqual(seen["controller"], step.expected, `${step.name}: the controller`);
      assert.deepEqual(paths.apply.blocked, step.blocked ?? {}, `${step.name}: what blocked apply`);
      assert.deepEqual(paths.controller.blocked, step.blocked ?? {}, `${step.name}: what blocked the controller`);
      assert.deepEqual(await liveServices(paths.controller.sim), await liveServices(paths.apply.sim), `${step.name}: the same services run`);
    }
    return paths;
  } finally {
    for (const p of Object.values(paths)) await p.close();
  }
}

const name = (n: string) => `apps/${n}/${n}`;

const SVC = name("svc");
const SVCDEF = "apps/svc/svc_svcdef.json";
const DEPDEF = "apps/svc/svc_depdef.json";
/** An ARN like the simulator's, of nothing it has. */
const gone = (arn: string) => arn.replace(/\/[0-9a-f]+$/, "/0000000000000000");

/** `apps/svc/svc`, rolling, behind the target group `targetGroupArn`. */
const rollingBehind = (targetGroupArn: string, svc: Record<string, unknown> = {}) => rollingObject(SVC, "svc", { svc: { loadBalancers: [{ targetGroupArn, containerName: "app", containerPort: 80 }], ...svc } });

/** `apps/svc/svc`, blue/green on the web pair (the idle member given), with these alarms. */
function blueGreen(sim: Simulator, options: { green?: string; alarms?: string[]; image?: string } = {}): Record<string, object> {
  const blue = sim.elb.targetGroupArn("web-blue");
  return {
    [SVCDEF]: svcdef("svc", { deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: undefined, loadBalancers: [{ targetGroupArn: blue, containerName: "app", containerPort: 80 }] }),
    "apps/svc/svc_taskdef.json": taskdef("svc", { containerDefinitions: [{ name: "app", image: options.image ?? "nginx:1", memory: 256, essential: true, portMappings: [{ containerPort: 80 }] }] }),
    [DEPDEF]: { targetGroupArnPairs: [[blue, options.green ?? sim.elb.targetGroupArn("web-green")]], alarms: { alarmNames: options.alarms ?? ["web-5xx"] }, trafficShiftingConfig: { type: "ALL_AT_ONCE" }, bakeTime: 1 },
  };
}

/** `apps/svc/svc` as a rainbow object whose versions get rules on `listenerArn`. */
function rainbow(listenerArn: string): Record<string, object> {
  return {
    [SVCDEF]: svcdef("svc", { launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } }, loadBalancers: [{ containerName: "app", containerPort: 80 }] }),
    "apps/svc/svc_taskdef.json": taskdef("svc", { networkMode: "awsvpc", cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image: "nginx:1", essential: true, portMappings: [{ containerPort: 80 }] }] }),
    [DEPDEF]: { rainbow: { version: "v1", listeners: [{ listenerArn }], route: { hostHeader: "{version}.app.example.com" }, targetGroup: { vpcId: "vpc-0123abcd", healthCheck: { path: "/health" } } } },
  };
}

const firstListener = (sim: Simulator) => [...sim.elb.listeners.values()][0]!.arn;

/** `apps/svc/svc`, ECS-managed blue/green from `svc` to `alternate`, switched by the production rule given. */
function managed(sim: Simulator, alternate: string, productionListenerRule: string): Record<string, object> {
  const advancedConfiguration = { alternateTargetGroupArn: alternate, productionListenerRule, roleArn: "arn:aws:iam::123456789012:role/ecs-elb" };
  return rollingObject(SVC, "svc", { svc: { deploymentController: { type: "ECS" }, deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 1 }, loadBalancers: [{ targetGroupArn: sim.elb.targetGroupArn("svc"), containerName: "app", containerPort: 80, advancedConfiguration }] } });
}

/** One object's pre-check through both paths: the decision, and what blocked it. */
const precheckCases: { name: string; steps: Omit<Step, "changed">[] }[] = [
  { name: "everything it needs exists", steps: [{ name: "behind svc", write: (sim) => rollingBehind(sim.elb.targetGroupArn("svc")), remove: [], expected: { [SVC]: "deploy rolling" } }] },
  {
    name: "its target group is missing",
    steps: [{ name: "behind a missing group", write: (sim) => rollingBehind(gone(sim.elb.targetGroupArn("svc"))), remove: [], expected: { [SVC]: "blocked" }, blocked: { [SVC]: [`FLT-PLAN-TARGET-GROUP-MISSING ${SVCDEF} $.loadBalancers[0].targetGroupArn`] } }],
  },
  {
    name: "its target group is behind no listener",
    steps: [{ name: "behind lonely", write: (sim) => rollingBehind(sim.elb.targetGroupArn("lonely")), remove: [], expected: { [SVC]: "blocked" }, blocked: { [SVC]: [`FLT-PLAN-TARGET-GROUP-NO-LISTENER ${SVCDEF} $.loadBalancers[0].targetGroupArn`] } }],
  },
  {
    name: "its cluster is missing",
    steps: [{ name: "in cluster elsewhere", write: () => rollingObject(SVC, "svc", { svc: { cluster: "elsewhere" } }), remove: [], expected: { [SVC]: "blocked" }, blocked: { [SVC]: [`FLT-PLAN-CLUSTER-MISSING ${SVCDEF} $.cluster`] } }],
  },
  {
    name: "a blue/green alarm is missing",
    steps: [{ name: "watching gone-5xx", write: (sim) => blueGreen(sim, { alarms: ["web-5xx", "gone-5xx"] }), remove: [], expected: { [SVC]: "blocked" }, blocked: { [SVC]: [`FLT-PLAN-ALARM-MISSING ${DEPDEF} $.alarms.alarmNames[1]`] } }],
  },
  {
    // The first deployment uses only the svcdef's group: the idle member is needed from the next one on.
    name: "the idle member of a blue/green pair is missing",
    steps: [
      { name: "created", write: (sim) => blueGreen(sim, { green: gone(sim.elb.targetGroupArn("web-green")) }), remove: [], expected: { [SVC]: "deploy bluegreen" } },
      {
        name: "updated",
        write: (sim) => blueGreen(sim, { green: gone(sim.elb.targetGroupArn("web-green")), image: "nginx:2" }),
        remove: [],
        expected: { [SVC]: "blocked" },
        blocked: { [SVC]: [`FLT-PLAN-TARGET-GROUP-MISSING ${DEPDEF} $.targetGroupArnPairs[0][1]`] },
      },
    ],
  },
  {
    name: "an ECS-managed alternate target group and production rule are missing",
    steps: [
      {
        name: "to nothing",
        write: (sim) => managed(sim, gone(sim.elb.targetGroupArn("lonely")), `${firstListener(sim).replace(":listener/", ":listener-rule/")}/0000000000000000`),
        remove: [],
        expected: { [SVC]: "blocked" },
        blocked: { [SVC]: [`FLT-PLAN-TARGET-GROUP-MISSING ${SVCDEF} $.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn`, `FLT-PLAN-LISTENER-RULES ${SVCDEF} $.loadBalancers[0].advancedConfiguration`] },
      },
    ],
  },
  {
    name: "a rainbow listener is missing",
    steps: [{ name: "on a missing listener", write: (sim) => rainbow(gone(firstListener(sim))), remove: [], expected: { [SVC]: "blocked" }, blocked: { [SVC]: [`FLT-PLAN-LISTENER-MISSING ${DEPDEF} $.rainbow.listeners[0].listenerArn`] } }],
  },
];

describe("one decision path for apply and the controller", () => {
  it("Given the same repository through apply and through the controller, When it is created, changed, and services are removed exactly at the mass-delete limit and then one over it, Then both decide the same for every object at every step and run at most --concurrency deployments at once", async () => {
    const paths = await bothPaths([
      {
        name: "first pass",
        write: (sim) => files(sim),
        remove: [],
        changed: [name("web"), name("broken"), ...ROLLING.map(name)],
        expected: { [name("web")]: "deploy bluegreen", [name("broken")]: "invalid", ...Object.fromEntries(ROLLING.map((n) => [name(n), "deploy rolling"])) },
      },
      {
        // Six services managed; three removed is half of them: at the limit, not over it.
        name: "3 of 6 removed, web changed, broken fixed",
        write: (sim) => ({ "apps/web/web_taskdef.json": files(sim, "nginx:2")["apps/web/web_taskdef.json"]!, ...rollingObject(name("broken"), "broken") }),
        remove: removal(["a", "b", "c"]),
        changed: [name("web"), name("broken"), name("a"), name("b"), name("c")],
        expected: { [name("web")]: "deploy bluegreen", [name("broken")]: "deploy rolling", [name("a")]: "delete", [name("b")]: "delete", [name("c")]: "delete" },
      },
      {
        // Four managed (web, broken, d, e): the limit is two; three is one over it, and all three wait.
        name: "3 of 4 removed",
        write: () => ({}),
        remove: removal(["d", "e", "broken"]),
        changed: [name("d"), name("e"), name("broken")],
        expected: { [name("d")]: "delete held: mass-delete", [name("e")]: "delete held: mass-delete", [name("broken")]: "delete held: mass-delete" },
      },
    ]);
    assert.deepEqual(await liveServices(paths.apply.sim), ["broken", "d", "e", "web"]);
    for (const [label, p] of Object.entries(paths)) assert.equal(p.maxConcurrent(), CONCURRENCY, `${label}: deployments in flight at once`);
  });

  it("Given a deployment of service a still running, When a commit changes a and b, Then b deploys and a waits for that deployment, the commit unprocessed; When that deployment has ended, Then a deploys and the commit is processed", async () => {
    const w = await controllerWorld();
    try {
      w.remote.push({ ...rollingObject(name("a"), "a"), ...rollingObject(name("b"), "b") }, "two services");
      await w.controller.sources.queue.sync("apps", "manual");
      const before = (await w.store.getLastCommit("apps", "main"))!.sha;
      // Another deployment of a is in flight (an operator's rollback, say): the runner has recorded it, not run it yet.
      const running = await w.controller.runner.create(((await w.store.latestDeployment(name("a"), "apps"))!.machineState as MachineState).spec, { strategy: "rolling", repository: "apps" });
      const image = "nginx@sha256:" + "b".repeat(64);
      const sha = w.remote.push({ ...rollingObject(name("a"), "a", { task: { containerDefinitions: [{ name: "app", image, memory: 256, essential: true }] } }), ...rollingObject(name("b"), "b", { task: { containerDefinitions: [{ name: "app", image, memory: 256, essential: true }] } }) }, "new image");
      const syncing = w.controller.sources.queue.sync("apps", "poll");
      let b = await w.store.latestDeployment(name("b"), "apps");
      for (let i = 0; i < 3600 && !(b?.commitSha === sha && b.finishedAt !== null); i++) {
        await w.clock.sleep(1000);
        b = await w.store.latestDeployment(name("b"), "apps");
      }
      assert.deepEqual([b?.commitSha, b?.phase], [sha, "Succeeded"], "the pass's other deployment ran to its end");
      assert.equal((await w.store.latestDeployment(name("a"), "apps"))!.id, running.id, "a's deployment waits: nothing was started beside the one in progress");
      assert.equal((await w.store.getLastCommit("apps", "main"))!.sha, before, "the commit is not processed while it waits");
      await w.controller.runner.run(running);
      await syncing;
      assert.equal((await w.store.getLastCommit("apps", "main"))!.sha, sha);
      const a = await w.store.latestDeployment(name("a"), "apps");
      assert.deepEqual([a?.commitSha, a?.phase], [sha, "Succeeded"]);
    } finally {
      await w.close();
    }
  });

  for (const c of precheckCases) {
    it(`Given an object where ${c.name}, When it goes through apply and through the controller, Then both give the same verdict, a blocked one blocked by the same code, file and JSON path and with no deployment started`, async () => {
      await bothPaths(c.steps.map((step) => ({ ...step, changed: [SVC] })));
    });
  }

  it("Given two services through apply and through the controller, When one is removed while the other's svcdef breaks, Then both hold the delete as unsafe: the unreadable object may now manage that service", async () => {
    await bothPaths([
      {
        name: "two services",
        write: () => ({ ...rollingObject(name("a"), "a"), ...rollingObject(name("b"), "b") }),
        remove: [],
        changed: [name("a"), name("b")],
        expected: { [name("a")]: "deploy rolling", [name("b")]: "deploy rolling" },
      },
      {
        name: "a removed, b broken",
        write: () => ({ "apps/b/b_svcdef.json": '{ "cluster": "apps", }' }),
        remove: removal(["a"]),
        changed: [name("a"), name("b")],
        expected: { [name("a")]: "delete held: unsafe", [name("b")]: "invalid" },
      },
    ]);
  });
});
