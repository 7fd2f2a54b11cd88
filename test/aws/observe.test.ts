import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeCaller } from "../../src/aws/sdk/call.ts";
import { resilientPorts } from "../../src/aws/resilient.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { Simulator } from "../../src/sim/simulator.ts";

describe("AWS call observation (for /metrics)", () => {
  it("the SDK caller reports every attempt, throttled ones as such, and retries them", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const seen: [string, string, boolean][] = [];
    const call = makeCaller("ECS", { clock }, undefined, (s, op, t) => seen.push([s, op, t]));
    let n = 0;
    const result = await call("DescribeServices", () => {
      if (n++ === 0) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
      return Promise.resolve("ok");
    });
    assert.equal(result, "ok");
    assert.deepEqual(seen, [["ECS", "DescribeServices", true], ["ECS", "DescribeServices", false]]);
  });

  it("resilient ports over the simulator report each call with its service and operation", async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const sim = new Simulator({ clock, throttling: false });
    sim.addCluster("apps");
    const seen: string[] = [];
    const ports = resilientPorts(sim.ports(), { clock, observe: (s, op, t) => seen.push(`${s}.${op}${t ? " throttled" : ""}`) });
    await ports.ecs.describeServices("apps", ["nope"]);
    await ports.cloudwatch.describeAlarms(["a"]);
    await assert.rejects(ports.ecs.updateService({ cluster: "apps", service: "nope", desiredCount: 1 }));
    assert.deepEqual(seen, ["ECS.DescribeServices", "CloudWatch.DescribeAlarms", "ECS.UpdateService"]);
  });
});
