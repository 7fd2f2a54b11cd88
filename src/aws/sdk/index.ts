/**
 * The AWS SDK v3 adapter: one client set per Region behind the ports.
 *
 * Credentials: the SDK's default provider chain (environment, SSO and profiles in ~/.aws,
 * web identity, ECS container and EC2 instance roles) — we pass no credentials.
 * Endpoints: the SDK itself honours `AWS_ENDPOINT_URL` and the per-service variables
 * `AWS_ENDPOINT_URL_ECS`, `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2` and
 * `AWS_ENDPOINT_URL_CLOUDWATCH` (and `endpoint_url` in the shared config file, ignored when
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), so we add nothing of our own.
 * Retries: the SDK clients make one attempt; `callWithRetry` retries around them, because it must
 * share the per-family token bucket and wait on the injected clock (see src/aws/retry.ts).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SystemClock, type Clock } from "../../core/clock.ts";
import type { AwsPorts, AwsPortsFactory } from "../ports.ts";
import type { RetryPolicy } from "../retry.ts";
import type { BucketFamily, BucketSpec } from "../rate-limits.ts";
import { RateLimiter } from "../token-bucket.ts";
import { makeCaller, type AwsCallObserver } from "./call.ts";
import { SdkCloudWatch } from "./cloudwatch.ts";
import { SdkEcs } from "./ecs.ts";
import { SdkElbv2 } from "./elbv2.ts";
import { keepErrorBody } from "./errors.ts";

export interface SdkClients {
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
}

export interface SdkPortsOptions {
  region: string;
  clock?: Clock;
  /** Injected clients (tests); otherwise created for the Region. */
  clients?: SdkClients;
  retry?: Partial<RetryPolicy>;
  /** Override bucket sizes, e.g. after AWS raised the account's quotas. */
  buckets?: Partial<Record<BucketFamily, BucketSpec>>;
  /** Coalescing window for status reads; 0 = the same event-loop turn. */
  batchWindowMs?: number;
  random?: () => number;
  /** An explicit endpoint for all three services (normally left to the SDK's own AWS_ENDPOINT_URL handling). */
  endpoint?: string;
  /** Observe every AWS request made (benchmarks, debugging). */
  onCall?: (service: string, operation: string) => void;
  /** Told after every attempt whether AWS throttled it (the controller's /metrics). */
  observe?: AwsCallObserver;
}

/** Extra client settings (request handler, credentials) for tests and special set-ups. */
export type ClientExtras = Omit<ConstructorParameters<typeof ECSClient>[0], "region" | "maxAttempts" | "endpoint">;

export function createClients(region: string, endpoint?: string, extras: ClientExtras = {}): SdkClients {
  // maxAttempts 1: retries happen in callWithRetry, which owns the rate limiter.
  const config = { ...extras, region, maxAttempts: 1, ...(endpoint ? { endpoint } : {}) };
  const clients = { ecs: new ECSClient(config), elbv2: new ElasticLoadBalancingV2Client(config), cloudwatch: new CloudWatchClient(config) };
  // Keep the body of answers the SDK may not be able to read, so the error can quote it (errors.ts).
  for (const client of Object.values(clients)) {
    (client.middlewareStack as unknown as { add(mw: typeof keepErrorBody, options: { step: "deserialize"; priority: "low"; name: string }): void }).add(keepErrorBody, {
      step: "deserialize",
      priority: "low",
      name: "flotillaKeepErrorBody",
    });
  }
  return clients;
}

export function createSdkPorts(options: SdkPortsOptions): AwsPorts {
  const clock = options.clock ?? new SystemClock();
  const clients = options.clients ?? createClients(options.region, options.endpoint);
  const limiter = new RateLimiter(clock, options.buckets);
  const ctx = { clock, limiter, ...(options.retry ? { policy: options.retry } : {}), ...(options.random ? { random: options.random } : {}) };
  const batching = { clock, ...(options.batchWindowMs !== undefined ? { windowMs: options.batchWindowMs } : {}) };
  const observe = (service: string) => (options.onCall ? (op: string) => options.onCall!(service, op) : undefined);
  return {
    region: options.region,
    ecs: new SdkEcs(clients.ecs, makeCaller("ECS", ctx, observe("ECS"), options.observe), batching),
    elbv2: new SdkElbv2(clients.elbv2, makeCaller("ELBv2", ctx, observe("ELBv2"), options.observe)),
    cloudwatch: new SdkCloudWatch(clients.cloudwatch, makeCaller("CloudWatch", ctx, observe("CloudWatch"), options.observe), batching),
  };
}

/** One port bundle (clients, limiter, batchers) per Region, created on first use. */
export function sdkPortsFactory(options: Omit<SdkPortsOptions, "region" | "clients"> = {}): AwsPortsFactory {
  const cache = new Map<string, AwsPorts>();
  return (region) => {
    let ports = cache.get(region);
    if (!ports) {
      ports = createSdkPorts({ ...options, region });
      cache.set(region, ports);
    }
    return ports;
  };
}
