/**
 * The SDK adapter against a mocked ECS client:
 *  - requests per status-poll round for 100 concurrent deployments in one cluster (batched into
 *    DescribeServices of 10) against the naive one DescribeServices per deployment;
 *  - 1,000 UpdateService calls through the client-side rate limiter on a virtual clock, against
 *    the bucket's theoretical minimum ((1000 − burst) / refill rate).
 */
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { VirtualClock } from "../src/core/clock.ts";
import { createSdkPorts } from "../src/aws/sdk/index.ts";
import { ECS_BUCKETS } from "../src/aws/rate-limits.ts";
import type { BenchFigure } from "./run.ts";

function service(name: string) {
  return { serviceName: name, serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`, status: "ACTIVE", desiredCount: 1, deployments: [] };
}

export default async function (): Promise<BenchFigure[]> {
  const ecsMock = mockClient(ECSClient);
  let describeCalls = 0;
  ecsMock.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    describeCalls++;
    return { services: input.services.map(service), failures: [] };
  });
  let updates = 0;
  ecsMock.on(UpdateServiceCommand).callsFake((input: { service: string }) => {
    updates++;
    return { service: service(input.service) };
  });
  const clients = { ecs: new ECSClient({ region: "us-east-1" }), elbv2: new ElasticLoadBalancingV2Client({ region: "us-east-1" }), cloudwatch: new CloudWatchClient({ region: "us-east-1" }) };

  // Poll round: 100 deployments each asking for their own service in the same tick.
  const pollClock = new VirtualClock({ autoAdvance: true });
  const pollPorts = createSdkPorts({ region: "us-east-1", clock: pollClock, clients });
  await Promise.all(Array.from({ length: 100 }, (_, i) => pollPorts.ecs.describeServices("prod", [`svc-${i}`])));
  const batched = describeCalls;

  // 1,000 UpdateService calls at once through the limiter.
  const clock = new VirtualClock({ autoAdvance: true });
  const ports = createSdkPorts({ region: "us-east-1", clock, clients });
  const t0 = clock.now();
  const wall0 = performance.now();
  await Promise.all(Array.from({ length: 1000 }, (_, i) => ports.ecs.updateService({ cluster: "prod", service: `svc-${i}`, desiredCount: 2 })));
  const wallMs = performance.now() - wall0;
  const elapsed = (clock.now() - t0) / 1000;
  const b = ECS_BUCKETS["service-modify"];
  const theoretical = (1000 - b.burst) / b.refillPerSecond;
  ecsMock.restore();
  return [
    { name: "DescribeServices requests per poll round, 100 deployments, batched", value: batched, unit: "requests" },
    { name: "DescribeServices requests per poll round, one per deployment", value: 100, unit: "requests" },
    { name: "1,000 UpdateService through the limiter: simulated time", value: elapsed, unit: "s", note: `${updates} sent, 0 throttled; ${Math.round(wallMs)} ms wall` },
    { name: "1,000 UpdateService: bucket's theoretical minimum", value: theoretical, unit: "s", note: `(1000 − burst ${b.burst}) / ${b.refillPerSecond} per s` },
    { name: "1,000 UpdateService: limiter time / theoretical minimum", value: elapsed / theoretical, unit: "×" },
  ];
}
