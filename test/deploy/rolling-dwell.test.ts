/**
 * The rolling dwell counts from when ECS marked our deployment COMPLETED (its updatedAt), not from
 * when a poll happened to see it: a deployment completed between two polls succeeds a dwell after
 * completing. What that must not cost: a new task that failed after ECS completed it, or during the
 * dwell, starts the steady run over; a completion time before our deployment is not believed; and
 * success always rests on two steady reads. The machine is called directly (test/deploy/harness.ts).
 *
 * The scenario: service web, 4 tasks, revision 2 rolling out after UpdateService at T0; poll 10 s,
 * no health checks, so the dwell is 30 s.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Deployment } from "../../src/aws/ports.ts";
import type { Input } from "../../src/deploy/machine.ts";
import { rolling, startRolling, type RollingState } from "../../src/deploy/rolling.ts";
import { I, NEW_TD, OLD_TD, T0, drive, ecsDeployment, rollingSpec, s, service } from "./harness.ts";

const ours = (over: Partial<Deployment> = {}) => ecsDeployment({ id: "ecs-svc/new", createdAt: T0 + s(1), ...over });
/** Revision 2 running 4/4 and COMPLETED by ECS at `completedAt`. */
const completed = (completedAt: number) => service({ taskDefinition: NEW_TD, deployments: [ours({ runningCount: 4, rolloutState: "COMPLETED", updatedAt: completedAt })] });
const failures = (count: number, lastStoppedAt?: number): { count: number; lastStoppedAt?: number } => ({ count, ...(lastStoppedAt !== undefined ? { lastStoppedAt } : {}) });
const read = (svc = completed(T0 + s(15)), f = failures(0)): Input => ({ type: "service", service: svc, failures: f });

/** Following revision 2: UpdateService answered at T0. */
function following(): RollingState {
  const old = service({ taskDefinition: OLD_TD });
  const script: [Input, number][] = [
    [I.start, T0],
    [I.service(old), T0],
    [I.taskDefinition(), T0],
    [I.service(service({ taskDefinition: NEW_TD, deployments: [ours()] })), T0],
  ];
  return drive(rolling, startRolling(rollingSpec(), "t"), script).last.state;
}

describe("rolling: the dwell counts from ECS's completion", () => {
  it("Given ECS completed the deployment at +15 s and a poll sees it at +20 s, Then it succeeds at +45 s — a dwell after completing — on its fourth steady read, the last exactly when the dwell ends", () => {
    const { steps, last } = drive(rolling, following(), [
      [read(), T0 + s(20)],
      [I.slept, T0 + s(30)],
      [read(), T0 + s(30)],
      [I.slept, T0 + s(40)],
      [read(), T0 + s(40)],
      [I.slept, T0 + s(45)],
      [read(), T0 + s(45)],
    ]);
    assert.equal(steps[0]!.state.steadySince, T0 + s(15), "steady since ECS marked it COMPLETED");
    assert.deepEqual(steps[4]!.effect, { type: "sleep", ms: s(5) }, "the rest of the dwell, exactly");
    assert.equal(last.record.phase, "Succeeded");
    assert.match(last.record.message ?? "", /healthy for 30s$/);
  });

  it("Given a new task that failed after ECS completed the deployment, Then the dwell counts from the poll that saw it steady", () => {
    const { steps } = drive(rolling, following(), [[read(completed(T0 + s(15)), failures(1, T0 + s(17))), T0 + s(20)]]);
    assert.equal(steps[0]!.state.steadySince, T0 + s(20));
  });

  it("Given a new task that fails during the dwell, Then the steady run starts over", () => {
    const { steps } = drive(rolling, following(), [
      [read(), T0 + s(20)],
      [I.slept, T0 + s(30)],
      // One failed task, stopped at +27 s: after the deployment became steady (+15 s).
      [read(completed(T0 + s(15)), failures(1, T0 + s(27))), T0 + s(30)],
    ]);
    assert.equal(steps[2]!.state.steadySince, undefined);
    assert.equal(steps[2]!.record.phase, undefined);
  });

  it("Given a completion time from before our deployment began, Then it is not believed: the dwell counts from the poll", () => {
    const { steps } = drive(rolling, following(), [[read(completed(T0 - s(600))), T0 + s(20)]]);
    assert.equal(steps[0]!.state.steadySince, T0 + s(20));
  });

  it("Given a deployment completed long before the first steady read, Then it still needs a second steady read to succeed", () => {
    const { steps, last } = drive(rolling, following(), [
      [read(completed(T0 + s(2))), T0 + s(60)],
      [I.slept, T0 + s(70)],
      [read(completed(T0 + s(2))), T0 + s(70)],
    ]);
    assert.equal(steps[0]!.record.phase, undefined, "one read is not enough");
    assert.equal(steps[0]!.effect?.type, "sleep");
    assert.equal(last.record.phase, "Succeeded");
  });
});
