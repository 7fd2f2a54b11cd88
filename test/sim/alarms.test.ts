import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scenarioWorld, WEB_TG } from "./world.ts";
import { evaluate, parseAlarmRule } from "../../src/sim/alarms.ts";
import type { AlarmState } from "../../src/aws/ports.ts";

describe("composite alarm rules", () => {
  it("parse and evaluate with NOT over AND over OR", () => {
    const states: Record<string, AlarmState> = { a: "ALARM", b: "OK", c: "INSUFFICIENT_DATA" };
    const ev = (s: string) => evaluate(parseAlarmRule(s), (n) => states[n] ?? "INSUFFICIENT_DATA");
    assert.equal(ev('ALARM("a") OR ALARM("b")'), true);
    assert.equal(ev('ALARM("a") AND ALARM("b")'), false);
    assert.equal(ev('ALARM("b") OR ALARM("a") AND OK("b")'), true);
    assert.equal(ev('NOT ALARM("a") OR INSUFFICIENT_DATA("c")'), true);
    assert.equal(ev('(ALARM("b") OR TRUE) AND NOT OK("a")'), true);
    assert.equal(ev("FALSE"), false);
    assert.throws(() => parseAlarmRule('ALARM("a" OR'));
    assert.throws(() => parseAlarmRule('ALARM(a)'));
  });
});

describe("CloudWatch alarms in the simulator", () => {
  it("follow a scripted timeline and fault windows, to the second", async () => {
    const w = scenarioWorld({
      alarms: [
        { name: "5xx", timeline: [{ at: "2m", state: "ALARM", reason: "5xx above 1%" }, { at: "4m", state: "OK" }] },
        { name: "latency" },
        { name: "any", type: "composite", alarmRule: 'ALARM("5xx") OR ALARM("latency")' },
      ],
      faults: { alarms: [{ alarm: "latency", at: "10m", until: "11m" }] },
    });
    const states = async () => Object.fromEntries((await w.cloudwatch.describeAlarms(["5xx", "latency", "any", "unknown"])).map((a) => [a.alarmName, a.stateValue]));
    assert.deepEqual(await states(), { "5xx": "OK", latency: "OK", any: "OK" });
    await w.step(119_000);
    assert.equal((await states())["5xx"], "OK");
    await w.step(1_000);
    const five = (await w.cloudwatch.describeAlarms(["5xx"]))[0]!;
    assert.deepEqual([five.stateValue, five.stateReason, five.stateUpdatedAt - w.sim.startedAt], ["ALARM", "5xx above 1%", 120_000]);
    assert.equal((await states())["any"], "ALARM");
    await w.step(120_000);
    assert.deepEqual(await states(), { "5xx": "OK", latency: "OK", any: "OK" });
    await w.step(6 * 60_000 + 30_000);
    assert.deepEqual(await states(), { "5xx": "OK", latency: "ALARM", any: "ALARM" });
    await w.step(60_000);
    assert.equal((await states())["latency"], "OK");
  });

  it("a rule alarm fires when a bad image has served traffic for the given time", async () => {
    const w = scenarioWorld({
      clusters: ["prod"],
      taskDefinitions: [
        { family: "app", containerDefinitions: [{ name: "app", image: "app:1", portMappings: [{ containerPort: 80 }] }] },
        { family: "app", containerDefinitions: [{ name: "app", image: "app:2-bad", portMappings: [{ containerPort: 80 }] }] },
      ],
      targetGroups: [WEB_TG, { ...WEB_TG, name: "green" }],
      loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroups: [{ targetGroup: "web", weight: 100 }, { targetGroup: "green", weight: 0 }] }] }] }],
      services: [{ cluster: "prod", serviceName: "app", taskDefinition: "app:1", desiredCount: 2, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroup: "web", containerName: "app", containerPort: 80 }] }],
      alarms: [{ name: "errors", when: { imageServing: "*-bad", minTrafficPercent: 1, for: "60s" } }],
    });
    const state = async () => (await w.cloudwatch.describeAlarms(["errors"]))[0]!.stateValue;
    const green = w.sim.elb.targetGroupArn("green");
    await w.ecs.createTaskSet({ cluster: "prod", service: "app", taskDefinition: "app:2", loadBalancers: [{ targetGroupArn: green, containerName: "app", containerPort: 80 }] });
    await w.step(120_000);
    assert.equal(await state(), "OK", "healthy but taking no traffic");
    const listener = [...w.sim.elb.listeners.values()][0]!;
    await w.elbv2.modifyListener({ listenerArn: listener.arn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: w.sim.elb.targetGroupArn("web"), weight: 90 }, { targetGroupArn: green, weight: 10 }] } }] });
    await w.step(59_000);
    assert.equal(await state(), "OK");
    await w.step(1_000);
    assert.equal(await state(), "ALARM");
    await w.elbv2.modifyListener({ listenerArn: listener.arn, defaultActions: [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: w.sim.elb.targetGroupArn("web"), weight: 100 }, { targetGroupArn: green, weight: 0 }] } }] });
    await w.step(1_000);
    assert.equal(await state(), "OK");
  });
});
