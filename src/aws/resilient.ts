/**
 * Client-side manners for any port bundle: cross-caller batching of status reads, a rate
 * limiter per API family and retries with jitter. The SDK adapter does all three per AWS
 * request internally; wrap the simulator's ports with `resilientPorts` to give the engine the
 * same behaviour there (the simulator throttles and injects errors like AWS does, so an engine
 * on bare simulator ports sees ThrottlingException and pays one request per poll).
 */
import type { Clock } from "../core/clock.ts";
import { observed, type AwsCallObserver } from "./sdk/call.ts";
import { Batcher } from "./batcher.ts";
import type { Alarm, AwsPorts, CloudWatchPort, EcsPort, Elbv2Port, Failure, Service, Task } from "./ports.ts";
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
  listServiceDeployments: "ListServiceDeployments",
  describeServiceDeployments: "DescribeServiceDeployments",
  describeServiceRevisions: "DescribeServiceRevisions",
  stopServiceDeployment: "StopServiceDeployment",
  continueServiceDeployment: "ContinueServiceDeployment",
  describeTargetGroups: "DescribeTargetGroups",
  describeListeners: "DescribeListeners",
  describeRules: "DescribeRules",
  describeTargetHealth: "DescribeTargetHealth",
  modifyListener: "ModifyListener",
  modifyRule: "ModifyRule",
  createTargetGroup: "CreateTargetGroup",
  deleteTargetGroup: "DeleteTargetGroup",
  createRule: "CreateRule",
  deleteRule: "DeleteRule",
  describeAlarms: "DescribeAlarms",
};

function wrap<T extends object>(port: T, ctx: Parameters<typeof callWithRetry>[2], service: string, observe?: AwsCallObserver): T {
  const out: Record<string, unknown> = {};
  for (const [method, operation] of Object.entries(OPERATION)) {
    const fn = (port as Record<string, unknown>)[method];
    if (typeof fn !== "function") continue;
    out[method] = (...args: unknown[]) => callWithRetry(familyOf(operation), () => observed(observe, service, operation, () => (fn as (...a: unknown[]) => Promise<unknown>).apply(port, args)), ctx, operation);
  }
  return out as T;
}

type Found<T> = { found: T } | { missing: Failure };
const lastSegment = (s: string) => s.slice(s.lastIndexOf("/") + 1);

function split<T>(xs: Found<T>[]): { items: T[]; failures: Failure[] } {
  const items: T[] = [];
  const failures: Failure[] = [];
  for (const x of xs) {
    if ("found" in x) items.push(x.found);
    else failures.push(x.missing);
  }
  return { items, failures };
}

export function resilientPorts(ports: AwsPorts, options: { clock: Clock; retry?: Partial<RetryPolicy>; random?: () => number; batchWindowMs?: number; observe?: AwsCallObserver }): AwsPorts {
  const ctx = { clock: options.clock, limiter: new RateLimiter(options.clock), ...(options.retry ? { policy: options.retry } : {}), ...(options.random ? { random: options.random } : {}) };
  const ecs = wrap<EcsPort>(ports.ecs, ctx, "ECS", options.observe);
  const cloudwatch = wrap<CloudWatchPort>(ports.cloudwatch, ctx, "CloudWatch", options.observe);
  const batching = { clock: options.clock, ...(options.batchWindowMs !== undefined ? { windowMs: options.batchWindowMs } : {}) };
  const missingMatches = (f: Failure, id: string) => f.arn === id || lastSegment(f.arn) === lastSegment(id);
  const services = new Batcher<Found<Service>>({
    ...batching,
    maxBatch: 10,
    fetch: async (cluster, ids) => {
      const r = await ecs.describeServices(cluster, ids);
      return [...r.services.map((found) => ({ found })), ...r.failures.map((missing) => ({ missing }))];
    },
    matches: (r, id) => ("found" in r ? r.found.serviceName === id || r.found.serviceArn === id : missingMatches(r.missing, id)),
  });
  const tasks = new Batcher<Found<Task>>({
    ...batching,
    maxBatch: 100,
    fetch: async (cluster, ids) => {
      const r = await ecs.describeTasks(cluster, ids);
      return [...r.tasks.map((found) => ({ found })), ...r.failures.map((missing) => ({ missing }))];
    },
    matches: (r, id) => ("found" in r ? r.found.taskArn === id || lastSegment(r.found.taskArn) === id : missingMatches(r.missing, id)),
  });
  const alarms = new Batcher<Alarm>({ ...batching, maxBatch: 100, fetch: (_k, names) => cloudwatch.describeAlarms(names), matches: (a, n) => a.alarmName === n });
  return {
    region: ports.region,
    ecs: {
      ...ecs,
      describeServices: async (cluster, ids) => {
        const r = split(await services.load(cluster, ids));
        return { services: r.items, failures: r.failures };
      },
      describeTasks: async (cluster, ids) => {
        const r = split(await tasks.load(cluster, ids));
        return { tasks: r.items, failures: r.failures };
      },
    },
    elbv2: wrap<Elbv2Port>(ports.elbv2, ctx, "ELBv2", options.observe),
    cloudwatch: { describeAlarms: (names) => (names.length === 0 ? Promise.resolve([]) : alarms.load("", names)) },
  };
}
