import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld, WEB_LB, WEB_TG } from "./world.ts";
import type { Task } from "../../src/aws/ports.ts";

function base(image: string, fault: Record<string, unknown> | undefined, opts: { lb?: boolean; grace?: number; healthCheck?: boolean } = {}) {
  return scenarioWorld({
    clusters: ["prod"],
    taskDefinitions: [
      {
        family: "app",
        containerDefinitions: [
          { name: "app", image, portMappings: [{ containerPort: 80 }], ...(opts.healthCheck ? { healthCheck: { command: ["CMD", "true"], interval: 10, retries: 3, startPeriod: 5 } } : {}) },
        ],
      },
    ],
    targetGroups: [WEB_TG],
    loadBalancers: [WEB_LB],
    faults: { images: fault ? [{ image, ...fault }] : [] },
  });
}

async function launchOne(w: ReturnType<typeof base>, opts: { lb?: boolean; grace?: number } = {}) {
  await w.ecs.createService({
    cluster: "prod",
    serviceName: "app",
    taskDefinition: "app",
    desiredCount: 1,
    ...(opts.lb ? { loadBalancers: [{ targetGroupArn: w.sim.elb.targetGroupArn("web"), containerName: "app", containerPort: 80 }] } : {}),
    ...(opts.grace !== undefined ? { healthCheckGracePeriodSeconds: opts.grace } : {}),
  });
  await w.step(0);
}

/** Watch the first task second by second; returns [second, lastStatus] at each change. */
async function watch(w: ReturnType<typeof base>, seconds: number): Promise<{ changes: [number, string][]; task: Task }> {
  const changes: [number, string][] = [];
  let task!: Task;
  const [first] = await w.ecs.listTasks({ cluster: "prod" });
  for (let s = 0; s <= seconds; s++) {
    task = (await w.ecs.describeTasks("prod", [first!])).tasks[0]!;
    if (changes.at(-1)?.[1] !== task.lastStatus) changes.push([s, task.lastStatus]);
    await w.step();
  }
  return { changes, task };
}

describe("task lifecycle", () => {
  it("PROVISIONING → PENDING → RUNNING on the documented timing", async () => {
    const w = base("app:1", undefined);
    await launchOne(w);
    const { changes, task } = await watch(w, 20);
    assert.deepEqual(changes, [[0, "PROVISIONING"], [5, "PENDING"], [15, "RUNNING"]]);
    assert.equal(task.desiredStatus, "RUNNING");
    assert.equal(task.startedBy?.startsWith("ecs-svc/"), true);
  });

  it("an image that fails to pull stops with CannotPullContainerError and never runs", async () => {
    const w = base("app:1", { pullFails: true });
    await launchOne(w);
    const { changes, task } = await watch(w, 20);
    assert.deepEqual(changes.map((c) => c[1]), ["PROVISIONING", "PENDING", "DEPROVISIONING", "STOPPED"]);
    assert.equal(task.stopCode, "TaskFailedToStart");
    assert.match(task.stoppedReason!, /^CannotPullContainerError: .*app:1/);
    assert.equal(task.startedAt, undefined);
  });

  it("an image that exits after N seconds stops with 'Essential container in task exited' and its exit code", async () => {
    const w = base("app:1", { exitAfter: "30s", exitCode: 137 });
    await launchOne(w);
    const { task } = await watch(w, 50);
    assert.equal(task.lastStatus, "STOPPED");
    assert.equal(task.stoppedReason, "Essential container in task exited");
    assert.equal(task.stopCode, "EssentialContainerExited");
    assert.equal(task.containers[0]!.exitCode, 137);
    assert.equal(task.stoppingAt! - task.startedAt!, 30_000);
  });

  it("a slow image starts later", async () => {
    const w = base("app:1", { startDelay: "45s" });
    await launchOne(w);
    const { changes } = await watch(w, 70);
    assert.deepEqual(changes.slice(0, 3), [[0, "PROVISIONING"], [5, "PENDING"], [60, "RUNNING"]]);
  });

  it("load-balancer target: initial → healthy after healthyThreshold × interval", async () => {
    const w = base("app:1", undefined);
    await launchOne(w, { lb: true });
    const tg = w.sim.elb.targetGroupArn("web");
    const states: [number, string][] = [];
    for (let s = 0; s <= 40; s++) {
      const h = await w.elbv2.describeTargetHealth(tg);
      const st = h[0]?.state ?? "none";
      if (states.at(-1)?.[1] !== st) states.push([s, st]);
      await w.step();
    }
    assert.deepEqual(states, [[0, "none"], [15, "initial"], [35, "healthy"]]);
  });

  it("failing load-balancer health checks stop the task after the grace period, with ECS's reason", async () => {
    const w = base("app:1", { failsHealthChecks: true });
    await launchOne(w, { lb: true, grace: 60 });
    const { task } = await watch(w, 120);
    const tg = w.sim.elb.targetGroupArn("web");
    assert.equal(task.stoppedReason, `Task failed ELB health checks in (target-group ${tg})`);
    // RUNNING at 15 s; unhealthy at 15 + 2×10 = 35 s, but the 60 s grace period holds it until 75 s.
    assert.equal(task.stoppingAt! - task.startedAt!, 60_000);
  });

  it("failing container health checks stop the task with 'Task failed container health checks'", async () => {
    const w = scenarioWorld({
      clusters: ["prod"],
      taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "app:1", healthCheck: { command: ["CMD", "false"], interval: 10, retries: 3, startPeriod: 5 } }] }],
      faults: { images: [{ image: "app:1", failsHealthChecks: true }] },
    });
    await w.ecs.createService({ cluster: "prod", serviceName: "app", taskDefinition: "app", desiredCount: 1 });
    await w.step(60_000);
    const stopped = await w.ecs.describeTasks("prod", await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" }));
    assert.equal(stopped.tasks[0]?.stoppedReason, "Task failed container health checks");
    assert.equal(stopped.tasks[0]?.healthStatus, "UNHEALTHY");
  });

  it("a task stopped behind a load balancer drains (DEACTIVATING, target draining) for the deregistration delay", async () => {
    const w = base("app:1", undefined);
    await launchOne(w, { lb: true });
    await w.step(60_000);
    await w.ecs.updateService({ cluster: "prod", service: "app", desiredCount: 0 });
    await w.step(1000);
    const arn = (await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" }))[0]!;
    let t = (await w.ecs.describeTasks("prod", [arn])).tasks[0]!;
    assert.equal(t.lastStatus, "DEACTIVATING");
    assert.equal(t.desiredStatus, "STOPPED");
    assert.match(t.stoppedReason!, /^Scaling activity initiated by \(deployment ecs-svc\/\d+\)$/);
    assert.equal((await w.elbv2.describeTargetHealth(w.sim.elb.targetGroupArn("web")))[0]!.state, "draining");
    await w.step(28_000);
    t = (await w.ecs.describeTasks("prod", [arn])).tasks[0]!;
    assert.equal(t.lastStatus, "DEACTIVATING");
    await w.step(10_000);
    t = (await w.ecs.describeTasks("prod", [arn])).tasks[0]!;
    assert.equal(t.lastStatus, "STOPPED");
  });
});

describe("ListTasks", () => {
  it("by service and by startedBy lists what a filter of the whole cluster would, STOPPED tasks until forgotten, never an earlier service's of the same name", async () => {
    const w = scenarioWorld({ clusters: ["prod"], taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "app:1" }] }] });
    for (const name of ["a", "b"]) await w.ecs.createService({ cluster: "prod", serviceName: name, taskDefinition: "app", desiredCount: 2 });
    await w.step(60_000);
    await w.ecs.updateService({ cluster: "prod", service: "a", desiredCount: 0 });
    await w.ecs.deleteService({ cluster: "prod", service: "a" });
    await w.step(60_000);
    await w.ecs.createService({ cluster: "prod", serviceName: "a", taskDefinition: "app", desiredCount: 1 }); // same name, new service
    await w.step(60_000);
    const all = async (desiredStatus: "RUNNING" | "STOPPED") => (await w.ecs.describeTasks("prod", await w.ecs.listTasks({ cluster: "prod", desiredStatus }))).tasks;
    const stopped = await all("STOPPED");
    const running = await all("RUNNING");
    assert.equal(stopped.length, 2, "the first a's two tasks, stopped and still listed");
    assert.equal(running.length, 3);
    const newA = (await w.service("a")).deployments[0]!.id;
    const byService = async (serviceName: string, desiredStatus: "RUNNING" | "STOPPED") => w.ecs.listTasks({ cluster: "prod", serviceName, desiredStatus });
    assert.deepEqual(await byService("a", "STOPPED"), [], "the stopped tasks belong to the deleted service, not to the new one of that name");
    assert.deepEqual(await byService("a", "RUNNING"), running.filter((t) => t.startedBy === newA).map((t) => t.taskArn));
    assert.deepEqual(await byService("b", "RUNNING"), running.filter((t) => t.group === "service:b").map((t) => t.taskArn));
    const oldA = stopped[0]!.startedBy!;
    assert.deepEqual(await w.ecs.listTasks({ cluster: "prod", startedBy: oldA, desiredStatus: "STOPPED" }), stopped.map((t) => t.taskArn));
    assert.deepEqual(await w.ecs.listTasks({ cluster: "prod", serviceName: "b", startedBy: oldA }), [], "both filters apply");
    await w.step(3_600_000); // STOPPED tasks are kept for an hour
    assert.deepEqual(await w.ecs.listTasks({ cluster: "prod", desiredStatus: "STOPPED" }), []);
    assert.deepEqual(await w.ecs.listTasks({ cluster: "prod", startedBy: oldA, desiredStatus: "STOPPED" }), []);
    assert.equal(w.sim.clusters.get("prod")!.startedBy.has(oldA), false, "a forgotten deployment leaves no index entry behind");
  });
});
