/** The dashboard's words and chart series, computed without a browser. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chartData, markers } from "../../src/web/chart-data.ts";
import { duration, explainFailure, shortArn, triggerOf } from "../../src/web/format.ts";
import type { DeploymentRecord, EventRecord, SampleRecord } from "../../src/store/record.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

function deployment(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id: "01D",
    object: "dev/web/web",
    repository: "apps",
    branch: "main",
    commitSha: "abcdef1234567890",
    strategy: "bluegreen",
    region: "us-east-1",
    cluster: "dev",
    service: "web",
    phase: "Succeeded",
    reason: null,
    message: null,
    trafficWeight: 100,
    failedTasks: 0,
    counts: { desired: 2, running: 2, pending: 0, failed: 0 },
    oldTaskDefinitionArn: null,
    newTaskDefinitionArn: null,
    overrides: [],
    paused: null,
    createdAt: iso(0),
    updatedAt: iso(0),
    finishedAt: iso(600),
    version: 1,
    owner: null,
    ...over,
  };
}
const event = (seq: number, at: number, type: string, message: string, data: EventRecord["data"] = null): EventRecord => ({ deploymentId: "01D", seq, at: iso(at), type, message, data });

describe("dashboard words", () => {
  it("explains a failure: which check, when, at what weight", () => {
    const d = deployment({ phase: "RolledBack", reason: "AlarmFired", message: "alarm dev-web-5xx went into ALARM at 10% on green: 5xx; blue serves all traffic" });
    const timeline = [event(1, 0, "Pending", "queued"), event(9, 130, "Failed", "alarm dev-web-5xx went into ALARM at 10% on green: 5xx", { reason: "AlarmFired", weight: 10 }), event(10, 131, "RestoringBlue", "moving traffic back")];
    const f = explainFailure(d, timeline)!;
    assert.equal(f.check, "an alarm check");
    assert.equal(f.weight, 10);
    assert.equal(f.afterMs, 130_000);
    assert.equal(f.at, iso(130));
    assert.match(f.sentence, /^The check that failed: an alarm check at \d\d:\d\d:\d\d \(2m 10s after it began\), with 10% of traffic on green\. It was rolled back\. Traffic went back to blue\.$/);
    assert.equal(explainFailure(deployment(), timeline), undefined, "a success needs no explanation");
  });

  it("explains a rolling failure without a weight, and an abort as an operator's", () => {
    const rolling = explainFailure(deployment({ strategy: "rolling", phase: "RolledBack", reason: "CircuitBreakerTripped", trafficWeight: null }), [event(4, 75, "Failed", "5 new tasks failed", { reason: "CircuitBreakerTripped" })])!;
    assert.match(rolling.sentence, /^The check that failed: Flotilla's circuit breaker \(failed tasks\) at .* \(1m 15s after it began\)\. It was rolled back\.$/);
    const aborted = explainFailure(deployment({ phase: "Aborted", reason: "Aborted" }), [event(7, 60, "Failed", "aborted by alice", { reason: "Aborted", weight: 50 })])!;
    assert.match(aborted.sentence, /^Aborted by an operator at .* with 50% of traffic on green\. Traffic went back to blue\.$/);
  });

  it("says who or what started a deployment", () => {
    assert.equal(triggerOf(deployment()).text, "commit abcdef1");
    assert.deepEqual(triggerOf(deployment({ overrides: [{ name: "rollback", setBy: "alice", source: "api", at: iso(0) }] })), { kind: "rollback", by: "alice", text: "rollback by alice" });
    assert.deepEqual(triggerOf(deployment({ strategy: "cutover", commitSha: null, overrides: [{ name: "cutover", setBy: "bob", source: "api", at: iso(0) }] })), { kind: "manual", by: "bob", text: "cutover by bob" });
    assert.equal(triggerOf(deployment({ overrides: [{ name: "skip-alarms", setBy: "commit abcdef1", source: "trailer", at: iso(0) }] })).text, "commit abcdef1 with skip-alarms (commit abcdef1, trailer)");
    assert.equal(triggerOf(deployment({ commitSha: null, repository: null })).text, "a CLI apply");
    assert.deepEqual(triggerOf(deployment({ overrides: [{ name: "deploy-requested", setBy: "bob", source: "api", at: iso(0) }] })), { kind: "manual", by: "bob", text: "commit abcdef1, deployed by bob" });
    assert.equal(triggerOf(deployment({ overrides: [{ name: "skip-alarms", setBy: "bob", source: "api", at: iso(0) }, { name: "deploy-requested", setBy: "bob", source: "api", at: iso(0) }] })).text, "commit abcdef1, deployed by bob with skip-alarms (bob, api)");
  });

  it("shortens ARNs and durations", () => {
    assert.equal(shortArn("arn:aws:ecs:us-east-1:111111111111:task-definition/dev-web:2"), "dev-web:2");
    assert.equal(shortArn("arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/dev-web-blue/0123456789abcdef"), "dev-web-blue");
    assert.deepEqual([duration(45_000), duration(130_000), duration(3_900_000), duration(3 * 86_400_000)], ["45s", "2m 10s", "1h 5m", "3d 0h"]);
  });
});

describe("chart series", () => {
  const blue = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-blue/0000000000000001";
  const green = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-green/0000000000000002";
  const sample = (seq: number, at: number, weight: number, alarm: string, greenRunning: number | null): SampleRecord => ({
    seq,
    at: iso(at),
    weights: { [blue]: 100 - weight, [green]: weight },
    sets: [
      { role: "blue", id: "ts-b", targetGroups: [blue], desired: 2, running: 2, pending: 0, healthy: 2, failed: 0 },
      { role: "green", id: "ts-g", targetGroups: [green], desired: 2, running: greenRunning, pending: 0, healthy: null, failed: 1 },
    ],
    alarms: [{ name: "web-5xx", state: alarm }],
  });

  it("has a series per target group and per set and metric, extended to the end, with the target groups' roles", () => {
    const data = chartData([sample(1, 0, 0, "OK", 0), sample(2, 60, 10, "OK", 2), sample(3, 90, 10, "ALARM", 2)], [], [], T0 + 120_000);
    assert.deepEqual(data.xs, [0, 60, 90, 120].map((s) => (T0 + s * 1000) / 1000));
    assert.deepEqual(data.weights.map((s) => [s.label, s.values]), [
      ["web-blue (blue)", [100, 90, 90, 90]],
      ["web-green (green)", [0, 10, 10, 10]],
    ]);
    // green healthy is never known: no such series, rather than a line at 0.
    assert.deepEqual(data.tasks.map((s) => s.label), ["blue running", "blue healthy", "blue failed", "green running", "green failed"]);
    assert.deepEqual(data.tasks.find((s) => s.label === "green running")!.values, [0, 2, 2, 2]);
  });

  it("marks alarm changes, operator actions and the failure, in time order", () => {
    const m = markers(
      [sample(1, 0, 0, "OK", 2), sample(2, 60, 10, "OK", 2), sample(3, 90, 10, "ALARM", 2), sample(4, 95, 0, "ALARM", 2)],
      [event(5, 40, "ManualChange", "weights changed"), event(9, 91, "Failed", "alarm", { reason: "AlarmFired", weight: 10 })],
      [{ id: 1, action: "pause", requestedBy: "alice", requestedAt: iso(30), consumedAt: iso(31) }],
    );
    assert.deepEqual(
      m.map((x) => [(x.at - T0) / 1000, x.kind, x.label]),
      [
        [30, "operator", "pause by alice"],
        [40, "operator", "weights changed outside Flotilla: paused"],
        [90, "alarm", "web-5xx OK → ALARM"],
        [91, "failure", "failed: AlarmFired"],
      ],
    );
    assert.deepEqual(markers([sample(1, 0, 0, "INSUFFICIENT_DATA", 2)], [], []).map((x) => x.label), ["web-5xx INSUFFICIENT_DATA"], "an alarm first seen not OK is marked");
  });
});
