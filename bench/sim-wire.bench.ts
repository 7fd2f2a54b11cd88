/**
 * The simulator's wire front door (`flotilla sim serve`): requests per second through HTTP and the
 * AWS SDK's own client (ECS DescribeServices and ELBv2 DescribeTargetHealth, 16 callers at once), and
 * how fast a `--state` journal replays on restart. Client and server share this process, so the
 * request rates are a floor.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeServicesCommand, ECSClient } from "@aws-sdk/client-ecs";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SimServer } from "../src/sim/wire/server.ts";
import type { BenchFigure } from "./run.ts";

const SCENARIO = {
  throttling: false,
  clusters: ["bench"],
  taskDefinitions: [{ family: "app", containerDefinitions: [{ name: "app", image: "bench/app:1", essential: true }] }],
  targetGroups: [{ name: "app" }],
  loadBalancers: [{ name: "lb", listeners: [{ port: 80, defaultActions: [{ targetGroup: "app" }] }] }],
  services: Array.from({ length: 10 }, (_, i) => ({ cluster: "bench", serviceName: `svc-${i}`, taskDefinition: "app:1", desiredCount: 3, loadBalancers: [{ targetGroup: "app", containerName: "app", containerPort: 80 }] })),
};

async function hammer(total: number, callers: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < total) await call(next++);
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

export default async function (): Promise<BenchFigure[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "flotilla-sim-wire-bench-"));
  const state = path.join(dir, "world.jsonl");
  try {
    const server = await SimServer.start({ scenarios: [{ data: SCENARIO, label: "bench" }], statePath: state });
    const cfg = { region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: "bench", secretAccessKey: "x" }, maxAttempts: 1 };
    const ecs = new ECSClient(cfg);
    const elb = new ElasticLoadBalancingV2Client(cfg);
    const tg = server.sim.elb.targetGroupArn("app");
    await hammer(200, 16, (i) => ecs.send(new DescribeServicesCommand({ cluster: "bench", services: [`svc-${i % 10}`] })));
    const json = await hammer(3000, 16, (i) => ecs.send(new DescribeServicesCommand({ cluster: "bench", services: [`svc-${i % 10}`, `svc-${(i + 1) % 10}`] })));
    const query = await hammer(3000, 16, () => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg })));
    await server.close();

    const replayStart = performance.now();
    const again = await SimServer.start({ scenarios: [{ data: SCENARIO, label: "bench" }], statePath: state });
    const replayMs = performance.now() - replayStart;
    const replayed = again.replayed;
    await again.close();
    ecs.destroy();
    elb.destroy();
    return [
      { name: "ECS DescribeServices through the wire (JSON 1.1, SDK client, 16 callers)", value: json, unit: "requests/s" },
      { name: "ELBv2 DescribeTargetHealth through the wire (Query/XML, SDK client, 16 callers)", value: query, unit: "requests/s" },
      { name: "--state journal replay on restart", value: replayed / (replayMs / 1000), unit: "calls/s", note: `${replayed} calls in ${Math.round(replayMs)} ms` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
