/**
 * Hand-written desired definitions and the DescribeServices / DescribeTaskDefinition answers ECS
 * gives for them, modelled on the ECS API reference examples: every response-only field, and the
 * defaults ECS fills in (cpu 0, essential true, protocol tcp, hostPort, empty lists, 200/100, …).
 * Each call returns a fresh copy, so a test can edit it.
 */
import type { JsonRecord } from "../../src/plan/types.ts";

export const ACCOUNT = "123456789012";
const ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}`;
export const TASK_DEFINITION_ARN = `${ARN}:task-definition/web:7`;
export const TARGET_GROUP = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-blue/0123456789abcdef`;
export const DB_PASSWORD = "hunter2-correct-horse";

export function desiredTaskDefinition(): JsonRecord {
  return {
    family: "web",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`,
    taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/web-task`,
    containerDefinitions: [
      {
        name: "web",
        image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2`,
        portMappings: [{ containerPort: 8080, name: "http", appProtocol: "http" }],
        environment: [
          { name: "LOG_LEVEL", value: "info" },
          { name: "DB_PASSWORD", value: DB_PASSWORD },
          { name: "FEATURE_FLAGS", value: "" },
        ],
        secrets: [{ name: "API_TOKEN", valueFrom: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:web/api-token-AbCdEf` }],
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web" } },
        healthCheck: { command: ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], startPeriod: 10 },
        dependsOn: [{ containerName: "log-router", condition: "START" }],
      },
      {
        name: "log-router",
        image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
        memoryReservation: 50,
        firelensConfiguration: { type: "fluentbit" },
      },
    ],
    tags: [
      { key: "team", value: "web" },
      { key: "env", value: "dev" },
    ],
  };
}

/** DescribeTaskDefinition with include: ["TAGS"] for the revision registered from desiredTaskDefinition(). */
export function liveTaskDefinition(): JsonRecord {
  return {
    taskDefinition: {
      taskDefinitionArn: TASK_DEFINITION_ARN,
      containerDefinitions: [
        {
          name: "web",
          image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2`,
          cpu: 0,
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: "tcp", name: "http", appProtocol: "http" }],
          essential: true,
          environment: [
            { name: "DB_PASSWORD", value: DB_PASSWORD },
            { name: "FEATURE_FLAGS", value: "" },
            { name: "LOG_LEVEL", value: "info" },
          ],
          mountPoints: [],
          volumesFrom: [],
          secrets: [{ name: "API_TOKEN", valueFrom: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:web/api-token-AbCdEf` }],
          dependsOn: [{ containerName: "log-router", condition: "START" }],
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web" }, secretOptions: [] },
          healthCheck: { command: ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], interval: 30, timeout: 5, retries: 3, startPeriod: 10 },
          systemControls: [],
        },
        {
          name: "log-router",
          image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
          cpu: 0,
          memoryReservation: 50,
          portMappings: [],
          essential: true,
          environment: [],
          mountPoints: [],
          volumesFrom: [],
          firelensConfiguration: { type: "fluentbit" },
          systemControls: [],
        },
      ],
      family: "web",
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/web-task`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`,
      networkMode: "awsvpc",
      revision: 7,
      volumes: [],
      status: "ACTIVE",
      requiresAttributes: [
        { name: "com.amazonaws.ecs.capability.logging-driver.awslogs" },
        { name: "ecs.capability.execution-role-awslogs" },
        { name: "com.amazonaws.ecs.capability.docker-remote-api.1.19" },
        { name: "ecs.capability.secrets.asm.environment-variables" },
        { name: "ecs.capability.firelens.fluentbit" },
        { name: "ecs.capability.container-health-check" },
        { name: "ecs.capability.task-eni" },
        { name: "ecs.capability.container-ordering" },
      ],
      placementConstraints: [],
      compatibilities: ["EC2", "FARGATE"],
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      registeredAt: "2026-11-20T10:15:42.123Z",
      registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/flotilla`,
      enableFaultInjection: false,
    },
    tags: [
      { key: "env", value: "dev" },
      { key: "team", value: "web" },
    ],
  };
}

export function desiredService(): JsonRecord {
  return {
    serviceName: "web",
    cluster: "dev",
    taskDefinition: "web",
    desiredCount: 2,
    launchType: "FARGATE",
    loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: "web", containerPort: 8080 }],
    networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"], securityGroups: ["sg-0123456789abcdef0"] } },
    healthCheckGracePeriodSeconds: 30,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    tags: [{ key: "team", value: "web" }],
  };
}

/** One element of DescribeServices' `services` (include: ["TAGS"]) for desiredService(). */
export function liveService(): JsonRecord {
  const network = { awsvpcConfiguration: { subnets: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"], securityGroups: ["sg-0123456789abcdef0"], assignPublicIp: "DISABLED" } };
  return {
    serviceArn: `${ARN}:service/dev/web`,
    serviceName: "web",
    clusterArn: `${ARN}:cluster/dev`,
    loadBalancers: [{ targetGroupArn: TARGET_GROUP, containerName: "web", containerPort: 8080 }],
    serviceRegistries: [],
    status: "ACTIVE",
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: "FARGATE",
    platformVersion: "LATEST",
    platformFamily: "Linux",
    taskDefinition: TASK_DEFINITION_ARN,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      alarms: { alarmNames: [], rollback: false, enable: false },
      strategy: "ROLLING",
    },
    deployments: [
      {
        id: "ecs-svc/1234567890123456789",
        status: "PRIMARY",
        taskDefinition: TASK_DEFINITION_ARN,
        desiredCount: 2,
        pendingCount: 0,
        runningCount: 2,
        failedTasks: 0,
        createdAt: "2026-11-20T10:16:01.000Z",
        updatedAt: "2026-11-20T10:19:44.000Z",
        launchType: "FARGATE",
        platformVersion: "1.4.0",
        platformFamily: "Linux",
        networkConfiguration: network,
        rolloutState: "COMPLETED",
        rolloutStateReason: "ECS deployment ecs-svc/1234567890123456789 completed.",
      },
    ],
    roleArn: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    events: [
      { id: "6f1a2b3c-0000-4000-8000-000000000001", createdAt: "2026-11-20T10:19:44.000Z", message: "(service web) has reached a steady state." },
      { id: "6f1a2b3c-0000-4000-8000-000000000002", createdAt: "2026-11-20T10:16:30.000Z", message: "(service web) has started 2 tasks: (task 0a1b) (task 2c3d)." },
    ],
    createdAt: "2026-11-01T08:00:00.000Z",
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: network,
    healthCheckGracePeriodSeconds: 30,
    schedulingStrategy: "REPLICA",
    deploymentController: { type: "ECS" },
    tags: [{ key: "team", value: "web" }],
    createdBy: `arn:aws:iam::${ACCOUNT}:role/deployer`,
    enableECSManagedTags: false,
    propagateTags: "NONE",
    enableExecuteCommand: false,
    availabilityZoneRebalancing: "ENABLED",
  };
}

/** Shorthand for editing nested fixture values in a test. */
export function container(td: JsonRecord, index: number): JsonRecord {
  const inner = (td["taskDefinition"] as JsonRecord | undefined) ?? td;
  return (inner["containerDefinitions"] as JsonRecord[])[index]!;
}
