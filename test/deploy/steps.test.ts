/**
 * The building blocks every machine shares (steps.ts) and the numbers a deployment is judged by
 * (spec.ts): retries and their cap, back-off, finishing, and the stability timeout, breaker
 * threshold and dwell at their boundaries.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deleteService, startDelete, type DeleteState } from "../../src/deploy/delete.ts";
import { finish, go, handleCommon, isStep, reissue, retry, success, withRecord, type BaseState } from "../../src/deploy/steps.ts";
import { because } from "../../src/deploy/registry.ts";
import { containerHealthCheckIntervals, failureThreshold, stabilityTimeoutMs, stableDwellMs, targetGroupArns } from "../../src/deploy/spec.ts";
import type { Effect, Input } from "../../src/deploy/machine.ts";
import { I, T0, depdef, rollingSpec, s } from "./harness.ts";

type Toy = BaseState<"work" | "done">;
const describeEffect: Effect = { type: "describeService", cluster: "apps", service: "web" };
const toy = (over: Partial<Toy> = {}): Toy => ({ step: "work", retries: 0, inFlight: describeEffect, ...over });
const throttled = I.error("ThrottlingException", "Rate exceeded", true) as Extract<Input, { type: "error" }>;

describe("retries (steps.ts)", () => {
  it("backs off 1, 2, 4, 8, 16, 30, 30, 30 s and gives up on the 9th error with AwsUnavailable after 8 retries", () => {
    let state = toy();
    const delays: number[] = [];
    for (let n = 0; n < 8; n++) {
      const step = retry(state, throttled, "done");
      assert.equal(step.effect?.type, "sleep", `error ${n + 1} is retried`);
      delays.push((step.effect as { ms: number }).ms / 1000);
      assert.equal(step.state.retries, n + 1);
      assert.deepEqual(step.state.pendingRetry, describeEffect, "the failed effect waits to be re-issued");
      assert.equal(step.record.events?.[0]?.message, `ThrottlingException: retrying in ${delays.at(-1)}s`);
      state = step.state;
    }
    assert.deepEqual(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    const gaveUp = retry(state, throttled, "done");
    assert.equal(gaveUp.effect, undefined);
    assert.equal(gaveUp.record.phase, "Failed");
    assert.equal(gaveUp.record.reason, "AwsUnavailable");
    assert.equal(gaveUp.record.message, "ThrottlingException: Rate exceeded (gave up after 8 retries)");
    assert.equal(gaveUp.state.step, "done");
    assert.equal(gaveUp.state.inFlight, undefined);
  });

  it("the failed call's operation, when known, leads the Retrying and AwsUnavailable messages", () => {
    const html500 = { type: "error", error: { name: "InvalidResponse", message: "the endpoint answered HTTP 500 (text/html), not an AWS answer", retryable: true, operation: "ListServiceDeployments" } } as const;
    assert.equal(retry(toy(), html500, "done").record.events?.[0]?.message, "ListServiceDeployments: InvalidResponse: retrying in 1s");
    assert.equal(retry(toy({ retries: 8 }), html500, "done").record.message, "ListServiceDeployments: InvalidResponse: the endpoint answered HTTP 500 (text/html), not an AWS answer (gave up after 8 retries)");
  });

  it("with nothing in flight there is nothing to retry: it fails at once", () => {
    const step = retry(toy({ inFlight: undefined }), throttled, "done");
    assert.equal(step.record.reason, "AwsUnavailable");
    assert.match(step.record.message ?? "", /gave up after 0 retries/);
  });

  it("after the back-off sleep the same effect goes again; without a pending retry there is nothing to re-issue", () => {
    const waiting = retry(toy(), throttled, "done").state;
    const again = reissue(waiting)!;
    assert.deepEqual(again.effect, describeEffect);
    assert.deepEqual(again.state.inFlight, describeEffect);
    assert.equal(again.state.pendingRetry, undefined);
    assert.equal(again.state.retries, 1, "the count survives until a real answer");
    assert.equal(reissue(toy()), undefined);
  });

  it("a second error while retrying keeps the first failed effect, not the sleep", () => {
    const first = retry(toy(), throttled, "done").state;
    const second = retry(first, throttled, "done").state;
    assert.deepEqual(second.pendingRetry, describeEffect);
  });
});

describe("the common preamble (handleCommon)", () => {
  const handlers = {
    done: "done" as const,
    answers: ["service"] as Input["type"][],
    resume: (st: Toy) => ({ state: st, record: { message: "resumed" } }),
    control: (st: Toy) => ({ state: st, record: { message: "control" } }),
  };
  it("routes each kind of input", () => {
    const cases: [string, Toy, Input, (r: ReturnType<typeof handleCommon<Toy>>) => void][] = [
      ["finished: ignored", toy({ step: "done" }), I.start, (r) => assert.ok(isStep(r) && r.effect === undefined && Object.keys(r.record).length === 0)],
      ["resume", toy(), I.resume, (r) => assert.ok(isStep(r) && r.record.message === "resumed")],
      ["control", toy(), I.control("abort"), (r) => assert.ok(isStep(r) && r.record.message === "control")],
      ["retryable error: back off", toy(), throttled, (r) => assert.ok(isStep(r) && r.effect?.type === "sleep")],
      ["non-retryable error: the machine decides", toy(), I.error("ServiceNotFoundException"), (r) => assert.ok(!isStep(r))],
      ["slept after a back-off: re-issue", toy({ pendingRetry: describeEffect, inFlight: { type: "sleep", ms: 1000 }, retries: 1 }), I.slept, (r) => assert.ok(isStep(r) && r.effect === describeEffect)],
      ["slept without a retry pending: the machine's", toy(), I.slept, (r) => assert.ok(!isStep(r))],
      ["an answer resets the retry count", toy({ retries: 3 }), I.service(undefined), (r) => assert.ok(!isStep(r) && r.retries === 0)],
      ["a non-answer keeps it", toy({ retries: 3 }), I.done, (r) => assert.ok(!isStep(r) && r.retries === 3)],
    ];
    for (const [label, state, input, check] of cases) {
      const r = handleCommon(state, input, T0, handlers);
      assert.doesNotThrow(() => check(r), label);
    }
  });

  it("a machine gives up after the cap and not before (delete, end to end through its preamble)", () => {
    let state: DeleteState = deleteService.next(startDelete(rollingSpec()), I.start, T0).state;
    for (let n = 1; n <= 8; n++) {
      const backOff = deleteService.next(state, throttled, T0);
      assert.equal(backOff.effect?.type, "sleep", `error ${n}`);
      state = deleteService.next(backOff.state, I.slept, T0).state;
    }
    const last = deleteService.next(state, throttled, T0);
    assert.equal(last.record.reason, "AwsUnavailable");
  });
});

describe("finishing and recording (steps.ts)", () => {
  it("finish ends the machine with the phase, the reason, the message and the phase's event carrying the reason", () => {
    const step = finish(toy({ pendingRetry: describeEffect }), "done", "Failed", because("ScaleDownFailed", { error: "boom" }), [{ type: "Progress", message: "x" }]);
    assert.equal(step.effect, undefined);
    assert.deepEqual(step.state, { step: "done", retries: 0 });
    assert.deepEqual(step.record, {
      phase: "Failed",
      reason: "ScaleDownFailed",
      message: "UpdateService desiredCount 0 failed: boom",
      events: [{ type: "Progress", message: "x" }, { type: "Failed", message: "UpdateService desiredCount 0 failed: boom", data: { reason: "ScaleDownFailed" } }],
    });
    assert.deepEqual(finish(toy(), "done", "Succeeded", success("ok")).record.events, [{ type: "Succeeded", message: "ok" }], "a plain success has no reason data");
  });

  it("go keeps the retry count within a step and resets it on a new one", () => {
    assert.equal(go(toy({ retries: 2 }), "work", describeEffect).state.retries, 2);
    assert.equal(go(toy({ retries: 2 }), "done", describeEffect).state.retries, 0);
  });

  it("withRecord adds fields and events; the step's own win", () => {
    const step = { state: toy(), record: { phase: "Deploying" as const, events: [{ type: "B", message: "b" }] } };
    assert.deepEqual(withRecord(step, { phase: "Stabilizing", trafficWeight: 5, events: [{ type: "A", message: "a" }] }).record, { phase: "Deploying", trafficWeight: 5, events: [{ type: "A", message: "a" }, { type: "B", message: "b" }] });
  });
});

describe("the numbers (spec.ts)", () => {
  it("stability timeout is max(timeout, timeoutPerTask × desired), in ms, at its boundaries", () => {
    const cases: [number, number, number, number][] = [
      // timeout, timeoutPerTask, desired, expected seconds
      [300, 0, 10, 300],
      [300, 30, 10, 300], // equal: either
      [300, 31, 10, 310],
      [300, 29, 10, 300],
      [60, 60, 0, 60],
      [60, 60, 1, 60],
      [60, 60, 2, 120],
    ];
    for (const [timeout, timeoutPerTask, desired, expected] of cases) assert.equal(stabilityTimeoutMs(depdef({ stabilityCheck: { timeout, timeoutPerTask } }), desired), s(expected), `${timeout}/${timeoutPerTask}×${desired}`);
  });

  it("breaker threshold: min(failureThreshold, ceil(percent × desired)), rounding up, only the settings above 0", () => {
    const cases: [Record<string, unknown>, number, number][] = [
      [{}, 10, 5],
      [{ failureThreshold: 5, failureThresholdPercent: 25 }, 10, 3], // ceil(2.5)
      [{ failureThreshold: 0, failureThresholdPercent: 25 }, 10, 3],
      [{ failureThreshold: 0, failureThresholdPercent: 7 }, 100, 7], // not 8 from 0.07 × 100
      [{ failureThreshold: 0, failureThresholdPercent: 50 }, 3, 2],
      [{ failureThreshold: 0, failureThresholdPercent: 10 }, 1, 1],
      [{ failureThreshold: 0, failureThresholdPercent: 0.5 }, 4, 1], // never below 1
      [{ failureThreshold: 2, failureThresholdPercent: 50 }, 10, 2],
      [{ failureThreshold: 0, failureThresholdPercent: 0 }, 10, 0],
      [{ failureThreshold: 3, failureThresholdPercent: 50 }, Number.POSITIVE_INFINITY, 3], // size unknown: the absolute one
    ];
    for (const [cb, desired, expected] of cases) assert.equal(failureThreshold(depdef({ gmDeploymentCircuitBreaker: cb }), desired), expected, `${JSON.stringify(cb)} at ${desired}`);
  });

  it("dwell: grace period + the longest health-check interval, 30 s when none, never below one poll", () => {
    const d = (poll: number) => depdef({ stabilityCheck: { pollInterval: poll } });
    assert.equal(stableDwellMs(d(10), 0, []), s(30));
    assert.equal(stableDwellMs(d(10), 60, [10, 15]), s(75));
    assert.equal(stableDwellMs(d(10), 0, [5]), s(10), "one poll at least");
    assert.equal(stableDwellMs(d(60), 0, [5]), s(60));
    assert.equal(stableDwellMs(d(10), 0, [11]), s(11));
  });

  it("container health-check intervals (30 s when a check gives none) and the svcdef's target groups", () => {
    assert.deepEqual(containerHealthCheckIntervals({ containerDefinitions: [{ name: "a" }, { name: "b", healthCheck: { command: ["x"] } }, { name: "c", healthCheck: { interval: 5 } }, { name: "d", healthCheck: { interval: 0 } }] }), [30, 5, 30]);
    assert.deepEqual(containerHealthCheckIntervals(undefined), []);
    assert.deepEqual(targetGroupArns({ loadBalancers: [{ targetGroupArn: "a" }, { loadBalancerName: "classic" }, { targetGroupArn: "b" }] }), ["a", "b"]);
    assert.deepEqual(targetGroupArns({}), []);
  });
});
