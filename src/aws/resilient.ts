/**
 * Client-side manners for any port bundle: a rate limiter per API family and retries with jitter.
 * The SDK adapter applies these per AWS request internally; wrap the simulator's ports with
 * `resilientPorts` to give the engine the same behaviour there (the simulator throttles and
 * injects errors like AWS does, so an engine on bare simulator ports sees ThrottlingException).
 */
import type { Clock } from "../core/clock.ts";
import type { AwsPorts, CloudWatchPort, EcsPort, Elbv2Port } from "./ports.ts";
import { callWithRetry, type RetryPolicy } from "./retry.ts";
import { familyOf } from "./rate-limits.ts";
import { RateLimiter } from "./token-bucket.ts";

const OPERATION: Record<string, string> = {
  registerTaskDefinition: "RegisterTaskDefinition",
  describeTaskDefinition: "DescribeTaskDefinition",
  createService: "CreateService",
  updateService: "UpdateService",
  deleteService: "DeleteService",
  describeServices: "DescribeServices",
  listTasks: "ListTasks",
  describeTasks: "DescribeTasks",
  createTaskSet: "CreateTaskSet",
  updateTaskSet: "UpdateTaskSet",
  deleteTaskSet: "DeleteTaskSet",
  describeTaskSets: "DescribeTaskSets",
  updateServicePrimaryTaskSet: "UpdateServicePrimaryTaskSet",
  describeTargetGroups: "DescribeTargetGroups",
  describeListeners: "DescribeListeners",
  describeRules: "DescribeRules",
  describeTargetHealth: "DescribeTargetHealth",
  modifyListener: "ModifyListener",
  modifyRule: "ModifyRule",
  describeAlarms: "DescribeAlarms",
};

function wrap<T extends object>(port: T, ctx: Parameters<typeof callWithRetry>[2]): T {
  const out: Record<string, unknown> = {};
  for (const [method, operation] of Object.entries(OPERATION)) {
    const fn = (port as Record<string, unknown>)[method];
    if (typeof fn !== "function") continue;
    out[method] = (...args: unknown[]) => callWithRetry(familyOf(operation), () => (fn as (...a: unknown[]) => Promise<unknown>).apply(port, args), ctx);
  }
  return out as T;
}

export function resilientPorts(ports: AwsPorts, options: { clock: Clock; retry?: Partial<RetryPolicy>; random?: () => number }): AwsPorts {
  const ctx = { clock: options.clock, limiter: new RateLimiter(options.clock), ...(options.retry ? { policy: options.retry } : {}), ...(options.random ? { random: options.random } : {}) };
  return {
    region: ports.region,
    ecs: wrap<EcsPort>(ports.ecs, ctx),
    elbv2: wrap<Elbv2Port>(ports.elbv2, ctx),
    cloudwatch: wrap<CloudWatchPort>(ports.cloudwatch, ctx),
  };
}
