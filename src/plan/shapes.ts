/**
 * Which live fields are response-only, derived from the ECS shapes of the SDK we ship rather than
 * copied by hand: a member of the describe shape (Service, TaskDefinition) that is not a member of
 * the matching request shape (CreateService, RegisterTaskDefinition) is something ECS reports, not
 * something a user can set. A new ECS release extends these lists when we upgrade the SDK.
 */
import { CreateServiceRequest$, CreateTaskSetRequest$, RegisterTaskDefinitionRequest$, Service$, TaskDefinition$, Deployment$ } from "@aws-sdk/client-ecs";
import { NormalizedSchema } from "@smithy/core/schema";

type Schema = Parameters<typeof NormalizedSchema.of>[0];

function members(schema: unknown): Set<string> {
  return new Set([...NormalizedSchema.of(schema as Schema).structIterator()].map(([name]) => name));
}

function without(all: Set<string>, known: Set<string>): ReadonlySet<string> {
  return new Set([...all].filter((m) => !known.has(m)));
}

export const CREATE_SERVICE_MEMBERS: ReadonlySet<string> = members(CreateServiceRequest$);
export const REGISTER_TASK_DEFINITION_MEMBERS: ReadonlySet<string> = members(RegisterTaskDefinitionRequest$);

/** serviceArn, clusterArn, status, runningCount, deployments, events, roleArn, createdAt, … */
export const SERVICE_RESPONSE_ONLY = without(members(Service$), members(CreateServiceRequest$));
/** taskDefinitionArn, revision, status, requiresAttributes, compatibilities, registeredAt, … */
export const TASK_DEFINITION_RESPONSE_ONLY = without(members(TaskDefinition$), members(RegisterTaskDefinitionRequest$));

/**
 * CreateService members that DescribeServices reports on the service's deployments rather than on
 * the service itself (serviceConnectConfiguration, volumeConfigurations, vpcLatticeConfigurations).
 */
export const SERVICE_MEMBERS_ON_DEPLOYMENT: ReadonlySet<string> = new Set(
  [...CREATE_SERVICE_MEMBERS].filter((m) => !members(Service$).has(m) && members(Deployment$).has(m)),
);

/**
 * CreateService members that DescribeServices does not report at all, so a plan cannot compare
 * them (apart from cluster, clientToken and role, which the normaliser handles itself).
 */
export const SERVICE_MEMBERS_NOT_DESCRIBED: ReadonlySet<string> = new Set(
  [...CREATE_SERVICE_MEMBERS].filter((m) => !members(Service$).has(m) && !SERVICE_MEMBERS_ON_DEPLOYMENT.has(m) && !["cluster", "clientToken", "role"].includes(m)),
);

/**
 * CreateService members that a blue/green (EXTERNAL) service keeps on its task sets: those
 * CreateTaskSet takes too (taskDefinition, loadBalancers, networkConfiguration, launchType,
 * capacityProviderStrategy, platformVersion, serviceRegistries), less identity, idempotency and
 * the set's own tags.
 */
export const TASK_SET_MEMBERS: ReadonlySet<string> = new Set([...members(CreateTaskSetRequest$)].filter((m) => CREATE_SERVICE_MEMBERS.has(m) && !["cluster", "service", "clientToken", "tags"].includes(m)));
