/**
 * Blue/green: AWS calls for one LINEAR deployment, and how long traffic stays on a bad green after
 * its alarm fires (simulated seconds), for several poll intervals.
 */
import { depdefSchema } from "../src/config/depdef.ts";
import { simulatedEngine } from "../src/app/simulated.ts";
import type { DeploySpec } from "../src/deploy/spec.ts";
import { loadScenario, parseScenario } from "../src/sim/scenario.ts";
import type { BenchFigure } from "./run.ts";
import { countingPorts, total } from "./counting.ts";

export async function world(alarm: unknown) {
  const tg = (name: string) => ({ name, port: 8080, healthCheck: { intervalSeconds: 10, healthyThreshold: 2 }, deregistrationDelaySeconds: 30 });
  const scenario = parseScenario({
    throttling: false,
    clusters: ["apps"],
    targetGroups: [tg("web-blue"), tg("web-green")],
    loadBalancers: [{ name: "lb", listeners: [{ port: 443, defaultActions: [{ type: "forward", targetGroups: [{ targetGroup: "web-blue", weight: 100 }, { targetGroup: "web-green", weight: 0 }] }] }] }],
    alarms: [alarm],
  });
  const calls = new Map<string, number>();
  // Every call the runner makes is counted: no batching beneath it.
  const engine = await simulatedEngine({ sim: (clock) => loadScenario(scenario, clock), resilient: false, wrap: (ports) => countingPorts(ports, calls) });
  const { clock, sim, store } = engine;
  return { clock, sim, calls, store, engine, runner: engine.runner({ sampling: false }) };
}

export function spec(sim: { elb: { targetGroupArn(n: string): string } }, image: string, pollInterval: number): DeploySpec {
  return {
    object: "apps/web/web",
    region: "us-east-1",
    cluster: "apps",
    service: "web",
    svcdef: { cluster: "apps", serviceName: "web", desiredCount: 10, deploymentController: { type: "EXTERNAL" }, launchType: "FARGATE", loadBalancers: [{ targetGroupArn: sim.elb.targetGroupArn("web-blue"), containerName: "app", containerPort: 8080 }] },
    taskdef: { family: "web", containerDefinitions: [{ name: "app", image, essential: true, portMappings: [{ containerPort: 8080 }] }] },
    depdef: depdefSchema.parse({
      stabilityCheck: { pollInterval },
      trafficShiftingConfig: { type: "LINEAR", percent: 20, waitInterval: 120 },
      bakeTime: 300,
      targetGroupArnPairs: [[sim.elb.targetGroupArn("web-blue"), sim.elb.targetGroupArn("web-green")]],
      alarms: { alarmNames: ["web-5xx"] },
    }),
  };
}

export default async function (): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  {
    const w = await world({ name: "web-5xx" });
    await w.runner.run(await w.runner.create(spec(w.sim, "web:1", 10), { strategy: "bluegreen" }));
    w.calls.clear();
    const start = w.clock.now();
    const d = await w.runner.run(await w.runner.create(spec(w.sim, "web:2", 10), { strategy: "bluegreen" }));
    if (d.phase !== "Succeeded") throw new Error(`${d.reason}: ${d.message}`);
    const top = [...w.calls.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v}`).join(", ");
    figures.push({ name: "AWS calls for one LINEAR 20% blue/green deployment (10 tasks)", value: total(w.calls), unit: "calls", note: top });
    figures.push({ name: "  its simulated duration (5 steps × 120 s, bake 300 s)", value: (w.clock.now() - start) / 1000, unit: "s" });
    await w.store.close();
  }
  for (const [poll, period] of [[5, 10], [10, 10], [30, 10], [10, 60]] as const) {
    // The alarm fires when the bad image has served ≥1% of traffic for 33 s (not a multiple of any
    // poll interval). A 10 s period is a high-resolution alarm (read every poll), 60 s a standard
    // one (read once a minute: CloudWatch evaluates it no more often).
    const w = await world({ name: "web-5xx", period, when: { imageServing: "web:bad", minTrafficPercent: 1, for: "33s" } });
    await w.runner.run(await w.runner.create(spec(w.sim, "web:1", poll), { strategy: "bluegreen" }));
    let firedAt: number | undefined;
    let restoredAt: number | undefined;
    const runner = w.engine.runner({
      sampling: false,
      onUpdate: (_d, events) => {
        for (const e of events) {
          if (e.type === "Shifted" && firedAt === undefined) firedAt = w.clock.now() + 33_000; // the alarm's rule: 33 s after traffic arrives
          if (e.type === "TrafficRestored") restoredAt = w.clock.now();
        }
      },
    });
    const d = await runner.run(await runner.create(spec(w.sim, "web:bad", poll), { strategy: "bluegreen" }));
    if (d.phase !== "RolledBack" || firedAt === undefined || restoredAt === undefined) throw new Error(`expected a rollback: ${d.phase} ${d.message}`);
    figures.push({ name: `alarm fired → traffic back on blue, pollInterval ${poll} s, alarm period ${period} s`, value: (restoredAt - firedAt) / 1000, unit: "s (simulated)", note: `bounded by the watch interval, max(poll, ${period < 60 ? 10 : 60} s)` });
    await w.store.close();
  }
  return figures;
}
