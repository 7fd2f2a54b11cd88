/**
 * From a svcdef (a CreateService request) to the calls that make ECS match it. An update carries
 * only what UpdateService accepts (derived from the SDK's shapes); a difference ECS cannot apply
 * in place is reported before anything is touched.
 */
import { UPDATE_SERVICE_MEMBERS } from "../config/shapes.ts";
import type { Service } from "../aws/ports.ts";
import type { DeploySpec } from "./spec.ts";

export function createServiceRequest(spec: DeploySpec, taskDefinitionArn: string, clientToken: string): Record<string, unknown> {
  return { ...spec.svcdef, cluster: spec.cluster, serviceName: spec.service, taskDefinition: taskDefinitionArn, clientToken };
}

export function updateServiceRequest(spec: DeploySpec, taskDefinitionArn: string): Record<string, unknown> {
  const request: Record<string, unknown> = { cluster: spec.cluster, service: spec.service };
  for (const [key, value] of Object.entries(spec.svcdef)) {
    if (UPDATE_SERVICE_MEMBERS.has(key) && key !== "cluster" && key !== "deploymentController") request[key] = value;
  }
  request["taskDefinition"] = taskDefinitionArn;
  return request;
}

export interface Blocker {
  field: string;
  message: string;
  hint: string;
}

/** Differences between the svcdef and the live service that UpdateService cannot apply. */
export function inPlaceBlockers(spec: DeploySpec, live: Service): Blocker[] {
  const blockers: Blocker[] = [];
  const wantController = ((spec.svcdef["deploymentController"] as { type?: string } | undefined)?.type ?? "ECS").toUpperCase();
  const liveController = live.deploymentController.type;
  if (wantController !== liveController) {
    blockers.push({
      field: "deploymentController",
      message: `the live service uses the ${liveController} deployment controller and the svcdef asks for ${wantController}; Flotilla does not switch a live service's deployment controller (task-set blue/green is EXTERNAL; rolling and ECS-managed blue/green, linear and canary are ECS)`,
      hint: "deploy it as a new service (another serviceName), move traffic, then remove the old object — or keep the current controller (docs/ecs-managed.md, \"Moving a service between them\")",
    });
  }
  const wantLaunch = spec.svcdef["launchType"] as string | undefined;
  if (wantLaunch && live.launchType && wantLaunch !== live.launchType) {
    blockers.push({
      field: "launchType",
      message: `launchType cannot change on a live service (${live.launchType} → ${wantLaunch})`,
      hint: "use capacityProviderStrategy instead of launchType, or create a new service",
    });
  }
  return blockers;
}
