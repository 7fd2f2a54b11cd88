/**
 * What counts as the new revision's failed tasks (sweep.ts: `isFailedTask` and the counting behind
 * `StatusSweep.status`): the number Flotilla's circuit breaker compares with its threshold. Stopped
 * tasks of the new task definition, of this service (or this task set), that started at or after
 * the deployment began and stopped by failing; not the old revision's, not tasks stopped on
 * purpose, not tasks from before, not another service's.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AwsPorts, Task } from "../../src/aws/ports.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { isFailedTask, StatusSweep, type FailureScope } from "../../src/deploy/sweep.ts";
import { NEW_TD, OLD_TD, T0, s, service } from "./harness.ts";

let n = 0;
function task(over: Partial<Task>): Task {
  return { taskArn: `arn:task/${++n}`, clusterArn: "arn:cluster/apps", taskDefinitionArn: NEW_TD, group: "service:web", lastStatus: "STOPPED", desiredStatus: "STOPPED", healthStatus: "UNKNOWN", containers: [], createdAt: T0 + s(5), ...over };
}

/** Ports whose cluster holds exactly these stopped tasks (and the service web). */
function portsWith(tasks: Task[]): AwsPorts {
  const ecs = {
    describeServices: (_cluster: string, names: readonly string[]) => Promise.resolve({ services: names.map((name) => service({ serviceName: name })), failures: [] }),
    listTasks: () => Promise.resolve(tasks.map((t) => t.taskArn)),
    describeTasks: (_cluster: string, arns: readonly string[]) => Promise.resolve({ tasks: tasks.filter((t) => arns.includes(t.taskArn)), failures: [] }),
  };
  return { region: "us-east-1", ecs } as unknown as AwsPorts;
}

async function count(tasks: Task[], whose: { serviceName: string } | { startedBy: string } = { serviceName: "web" }) {
  const sweep = new StatusSweep({ clock: new VirtualClock({ start: T0 + s(100), autoAdvance: true }) });
  const scope: FailureScope = { ...whose, taskDefinition: NEW_TD, since: T0 };
  return (await sweep.status(portsWith(tasks), "apps", "web", scope)).failures;
}

describe("a failed task (isFailedTask)", () => {
  it("failed to start, an essential container exited, failed health checks, a pull or init error, out of memory: failed", () => {
    const failed: Partial<Task>[] = [
      { stopCode: "TaskFailedToStart" },
      { stopCode: "EssentialContainerExited" },
      { stopCode: "ServiceSchedulerInitiated", stoppedReason: "Task failed ELB health checks in (target-group arn:tg/web-green)" },
      { stopCode: "ServiceSchedulerInitiated", stoppedReason: "Task failed container health checks" },
      { stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)" },
      { stoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth" },
      { stoppedReason: "OutOfMemoryError: Container killed due to memory usage" },
      { stoppedReason: "Essential container in task exited" },
    ];
    for (const f of failed) assert.equal(isFailedTask(task(f)), true, JSON.stringify(f));
  });

  it("scaled in, replaced by a deployment, stopped by a user: not failed", () => {
    const fine: Partial<Task>[] = [
      { stopCode: "ServiceSchedulerInitiated", stoppedReason: "Scaling activity initiated by (deployment ecs-svc/123)" },
      { stopCode: "UserInitiated", stoppedReason: "Task stopped by user" },
      { stopCode: "ServiceSchedulerInitiated", stoppedReason: "Deployment ecs-svc/2 replaced this task" },
      {},
    ];
    for (const f of fine) assert.equal(isFailedTask(task(f)), false, JSON.stringify(f));
  });
});

describe("counting the new revision's failed tasks", () => {
  it("counts the service's failed tasks of the new revision started at or after the start; the last reason and stop time are those of the one stopped last", async () => {
    const failures = await count([
      task({ stopCode: "TaskFailedToStart", stoppedReason: "first", createdAt: T0, stoppedAt: T0 + s(20) }),
      task({ stopCode: "EssentialContainerExited", stoppedReason: "latest", createdAt: T0 + s(30), stoppedAt: T0 + s(60) }),
      task({ stopCode: "EssentialContainerExited", stoppedReason: "middle", createdAt: T0 + s(10), stoppedAt: T0 + s(40) }),
      task({ stopCode: "EssentialContainerExited", taskDefinitionArn: OLD_TD, stoppedReason: "the old revision's" }),
      task({ stopCode: "EssentialContainerExited", createdAt: T0 - 1, stoppedReason: "from before the deployment" }),
      task({ stopCode: "EssentialContainerExited", group: "service:api", stoppedReason: "another service's" }),
      task({ stopCode: "ServiceSchedulerInitiated", stoppedReason: "Scaling activity initiated by (deployment ecs-svc/1)" }),
    ]);
    assert.deepEqual(failures, { count: 3, lastReason: "latest", lastStoppedAt: T0 + s(60) });
  });

  it("a task set's failed tasks are those it started", async () => {
    const failures = await count([task({ stopCode: "TaskFailedToStart", group: undefined, startedBy: "ecs-svc/green" }), task({ stopCode: "TaskFailedToStart", group: undefined, startedBy: "ecs-svc/blue" })], { startedBy: "ecs-svc/green" });
    assert.deepEqual(failures, { count: 1 });
  });

  it("no stopped task: 0", async () => {
    assert.deepEqual(await count([]), { count: 0 });
  });
});
