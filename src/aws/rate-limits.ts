/**
 * Request-rate buckets, shared by the adapter's client-side limiter (which waits) and the
 * simulator (which answers ThrottlingException). ECS figures are AWS's published per-account,
 * per-Region token buckets: "Request throttling for the Amazon ECS API",
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 */

export interface BucketSpec {
  /** Bucket maximum capacity (burst). */
  burst: number;
  /** Tokens added per second (sustained rate). */
  refillPerSecond: number;
  /** Where the figures come from. */
  source: "published" | "assumed";
}

export const ECS_BUCKETS = {
  "cluster-read": { burst: 50, refillPerSecond: 20, source: "published" },
  "task-definition-modify": { burst: 20, refillPerSecond: 1, source: "published" },
  "task-definition-read": { burst: 50, refillPerSecond: 20, source: "published" },
  "cluster-resource-read": { burst: 100, refillPerSecond: 20, source: "published" },
  "service-modify": { burst: 50, refillPerSecond: 5, source: "published" },
  "service-read": { burst: 100, refillPerSecond: 20, source: "published" },
  // The published table does not list the task-set actions; we charge them to buckets of the same
  // size as the service buckets, which is the conservative reading.
  "task-set-modify": { burst: 50, refillPerSecond: 5, source: "assumed" },
  "task-set-read": { burst: 100, refillPerSecond: 20, source: "assumed" },
  // CreateCluster/DeleteCluster: not in the table we follow; sized like the service-modify bucket.
  "cluster-modify": { burst: 50, refillPerSecond: 5, source: "assumed" },
} as const satisfies Record<string, BucketSpec>;

/**
 * Fargate's task launch rate per account and Region ("AWS Fargate throttling quotas", ECS
 * Developer Guide): 100 tasks at once, 20 per second sustained. The simulator delays launches
 * beyond it; real ECS retries them itself.
 */
export const FARGATE_TASK_LAUNCH: BucketSpec = { burst: 100, refillPerSecond: 20, source: "published" };

/**
 * ELBv2 and CloudWatch do not publish token buckets in the same form. CloudWatch's service quotas
 * list DescribeAlarms at 9 transactions per second; for ELBv2 we pick a modest client-side rate.
 */
export const OTHER_BUCKETS = {
  "elbv2-read": { burst: 20, refillPerSecond: 10, source: "assumed" },
  "elbv2-modify": { burst: 10, refillPerSecond: 5, source: "assumed" },
  "cloudwatch-describe-alarms": { burst: 9, refillPerSecond: 9, source: "assumed" },
  // PutMetricAlarm, PutCompositeAlarm, SetAlarmState and DeleteAlarms: 3 transactions per second each in CloudWatch's quotas.
  "cloudwatch-modify-alarms": { burst: 3, refillPerSecond: 3, source: "assumed" },
} as const satisfies Record<string, BucketSpec>;

export const BUCKETS: Record<BucketFamily, BucketSpec> = { ...ECS_BUCKETS, ...OTHER_BUCKETS };
export type BucketFamily = keyof typeof ECS_BUCKETS | keyof typeof OTHER_BUCKETS;

/** AWS operation name → the bucket it draws from. */
export const OPERATION_FAMILY: Record<string, BucketFamily> = {
  RegisterTaskDefinition: "task-definition-modify",
  DeregisterTaskDefinition: "task-definition-modify",
  DescribeTaskDefinition: "task-definition-read",
  ListTaskDefinitions: "task-definition-read",
  CreateService: "service-modify",
  UpdateService: "service-modify",
  DeleteService: "service-modify",
  DescribeServices: "service-read",
  ListServices: "service-read",
  DescribeTasks: "cluster-resource-read",
  ListTasks: "cluster-resource-read",
  DescribeClusters: "cluster-read",
  ListClusters: "cluster-read",
  CreateCluster: "cluster-modify",
  DeleteCluster: "cluster-modify",
  CreateTaskSet: "task-set-modify",
  UpdateTaskSet: "task-set-modify",
  DeleteTaskSet: "task-set-modify",
  UpdateServicePrimaryTaskSet: "task-set-modify",
  DescribeTaskSets: "task-set-read",
  // Service deployments and revisions are not in the published table; they describe and change a
  // service's deployment, so they draw from the service buckets.
  ListServiceDeployments: "service-read",
  DescribeServiceDeployments: "service-read",
  DescribeServiceRevisions: "service-read",
  StopServiceDeployment: "service-modify",
  ContinueServiceDeployment: "service-modify",
  DescribeTargetGroups: "elbv2-read",
  DescribeListeners: "elbv2-read",
  DescribeRules: "elbv2-read",
  DescribeTargetHealth: "elbv2-read",
  ModifyListener: "elbv2-modify",
  ModifyRule: "elbv2-modify",
  DescribeLoadBalancers: "elbv2-read",
  DescribeTargetGroupAttributes: "elbv2-read",
  CreateLoadBalancer: "elbv2-modify",
  CreateTargetGroup: "elbv2-modify",
  CreateListener: "elbv2-modify",
  CreateRule: "elbv2-modify",
  ModifyTargetGroupAttributes: "elbv2-modify",
  DeleteLoadBalancer: "elbv2-modify",
  DeleteTargetGroup: "elbv2-modify",
  DeleteListener: "elbv2-modify",
  DeleteRule: "elbv2-modify",
  DescribeAlarms: "cloudwatch-describe-alarms",
  PutMetricAlarm: "cloudwatch-modify-alarms",
  PutCompositeAlarm: "cloudwatch-modify-alarms",
  SetAlarmState: "cloudwatch-modify-alarms",
  DeleteAlarms: "cloudwatch-modify-alarms",
};

export function familyOf(operation: string): BucketFamily {
  const f = OPERATION_FAMILY[operation];
  if (!f) throw new Error(`no rate bucket for operation ${operation}`);
  return f;
}
