/**
 * Validates a rendered svcdef/taskdef against the ECS request shapes of the AWS SDK we ship, so a
 * new ECS field is accepted the day we upgrade the SDK, and an unknown key (which the SDK would
 * silently drop) is an error with a did-you-mean. The schemas carry member names, types and the
 * number of required members; enum values come from the SDK's exported enum objects.
 */
import * as ecs from "@aws-sdk/client-ecs";
import { NormalizedSchema } from "@smithy/core/schema";
import type { Problem } from "../core/problems.ts";
import { didYouMean } from "../core/suggest.ts";
import { isJsonObject, type JsonDocument, type JsonValue, type PathSegment } from "./json-document.ts";

type Schema = Parameters<typeof NormalizedSchema.of>[0];

export const CREATE_SERVICE = ecs.CreateServiceRequest$ as Schema;
export const REGISTER_TASK_DEFINITION = ecs.RegisterTaskDefinitionRequest$ as Schema;

/** Enum-typed string members (`Shape.member`), with the SDK enum object holding their values. */
const ENUMS: Record<string, Record<string, string>> = {
  "CreateServiceRequest.launchType": ecs.LaunchType,
  "CreateServiceRequest.schedulingStrategy": ecs.SchedulingStrategy,
  "CreateServiceRequest.propagateTags": ecs.PropagateTags,
  "CreateServiceRequest.availabilityZoneRebalancing": ecs.AvailabilityZoneRebalancing,
  "DeploymentController.type": ecs.DeploymentControllerType,
  "DeploymentConfiguration.strategy": ecs.DeploymentStrategy,
  "AwsVpcConfiguration.assignPublicIp": ecs.AssignPublicIp,
  "PlacementStrategy.type": ecs.PlacementStrategyType,
  "PlacementConstraint.type": ecs.PlacementConstraintType,
  "RegisterTaskDefinitionRequest.networkMode": ecs.NetworkMode,
  "RegisterTaskDefinitionRequest.requiresCompatibilities": ecs.Compatibility,
  "RegisterTaskDefinitionRequest.pidMode": ecs.PidMode,
  "RegisterTaskDefinitionRequest.ipcMode": ecs.IpcMode,
  "PortMapping.protocol": ecs.TransportProtocol,
  "PortMapping.appProtocol": ecs.ApplicationProtocol,
  "LogConfiguration.logDriver": ecs.LogDriver,
  "ContainerDependency.condition": ecs.ContainerCondition,
  "RuntimePlatform.cpuArchitecture": ecs.CPUArchitecture,
  "RuntimePlatform.operatingSystemFamily": ecs.OSFamily,
  "ResourceRequirement.type": ecs.ResourceType,
  "Ulimit.name": ecs.UlimitName,
  "EnvironmentFile.type": ecs.EnvironmentFileType,
  "ContainerDefinition.versionConsistency": ecs.VersionConsistency,
};

/** Members that are strings in the API although people naturally write numbers. */
const NUMERIC_STRING_HINT = new Set(["RegisterTaskDefinitionRequest.cpu", "RegisterTaskDefinitionRequest.memory"]);

interface WalkContext {
  doc: JsonDocument;
  problems: Problem[];
}

export function validateShape(doc: JsonDocument, value: JsonValue, schema: Schema): Problem[] {
  const ctx: WalkContext = { doc, problems: [] };
  walk(ctx, value, NormalizedSchema.of(schema), [], undefined);
  return ctx.problems;
}

function kind(s: NormalizedSchema): string {
  if (s.isStructSchema()) return "an object";
  if (s.isListSchema()) return "an array";
  if (s.isMapSchema()) return "an object (map)";
  if (s.isBooleanSchema()) return "a boolean";
  if (s.isNumericSchema() || s.isBigIntegerSchema() || s.isBigDecimalSchema()) return "a number";
  if (s.isStringSchema() || s.isBlobSchema()) return "a string";
  if (s.isTimestampSchema()) return "a timestamp";
  return "a value";
}

function typeName(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function requiredCount(s: NormalizedSchema): number {
  const raw = s.getSchema() as unknown;
  return Array.isArray(raw) && raw.length >= 7 && typeof raw[6] === "number" ? raw[6] : 0;
}

function walk(ctx: WalkContext, value: JsonValue, schema: NormalizedSchema, path: PathSegment[], enumKey: string | undefined): void {
  const typeError = (extra = ""): void => {
    ctx.problems.push(
      ctx.doc.problemAt(path, {
        code: "FLT-CONFIG-TYPE",
        severity: "error",
        message: `${last(path)} must be ${kind(schema)}, not ${typeName(value)}${extra}`,
      }),
    );
  };

  if (schema.isDocumentSchema()) return;
  if (schema.isStructSchema() || schema.isUnionSchema()) {
    if (!isJsonObject(value)) return typeError();
    const members = new Map<string, NormalizedSchema>();
    for (const [name, member] of schema.structIterator()) members.set(name, member);
    const shape = schema.getName();
    for (const [key, v] of Object.entries(value)) {
      const member = members.get(key);
      if (!member) {
        const exact = [...members.keys()].find((m) => m.toLowerCase() === key.toLowerCase());
        const guess = exact ?? didYouMean(key, members.keys());
        ctx.problems.push(
          ctx.doc.problemAt(
            [...path, key],
            {
              code: "FLT-CONFIG-UNKNOWN-KEY",
              severity: "error",
              message: `unknown key "${key}" in ${shape ?? "this object"}${exact ? " (keys are case-sensitive)" : ""}`,
              ...(guess ? { hint: `did you mean "${guess}"?` } : { hint: `valid keys: ${[...members.keys()].join(", ")}` }),
            },
            true,
          ),
        );
        continue;
      }
      if (v === null) continue; // null is "not set" for the SDK's serializers
      walk(ctx, v, member, [...path, key], `${shape}.${key}`);
    }
    const required = [...members.keys()].slice(0, requiredCount(schema));
    for (const r of required) {
      if (value[r] === undefined || value[r] === null) {
        ctx.problems.push(
          ctx.doc.problemAt(path, { code: "FLT-CONFIG-REQUIRED", severity: "error", message: `missing required key "${r}" in ${shape ?? "this object"}` }),
        );
      }
    }
    if (schema.isUnionSchema() && Object.keys(value).length !== 1) {
      ctx.problems.push(ctx.doc.problemAt(path, { code: "FLT-CONFIG-TYPE", severity: "error", message: `${last(path)} must set exactly one of: ${[...members.keys()].join(", ")}` }));
    }
    return;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) return typeError();
    const item = schema.getValueSchema();
    value.forEach((v, i) => walk(ctx, v, item, [...path, i], enumKey));
    return;
  }
  if (schema.isMapSchema()) {
    if (!isJsonObject(value)) return typeError();
    const item = schema.getValueSchema();
    for (const [k, v] of Object.entries(value)) walk(ctx, v, item, [...path, k], undefined);
    return;
  }
  if (schema.isBooleanSchema()) {
    if (typeof value !== "boolean") typeError(typeof value === "string" ? ` (write ${value} without quotes)` : "");
    return;
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    if (typeof value !== "number") typeError(typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? ` (write ${value} without quotes)` : "");
    return;
  }
  if (schema.isStringSchema() || schema.isBlobSchema() || schema.isTimestampSchema()) {
    if (typeof value !== "string") {
      typeError(enumKey && NUMERIC_STRING_HINT.has(enumKey) && typeof value === "number" ? ` (ECS takes this as a string: "${value}")` : "");
      return;
    }
    const allowed = enumKey ? ENUMS[enumKey] : undefined;
    if (allowed) {
      const values = Object.values(allowed);
      if (!values.includes(value)) {
        const exact = values.find((v) => v.toLowerCase() === value.toLowerCase());
        ctx.problems.push(
          ctx.doc.problemAt(path, {
            code: "FLT-CONFIG-ENUM",
            severity: "error",
            message: `"${value}" is not a valid ${last(path)}; expected one of ${values.join(", ")}`,
            ...((exact ?? didYouMean(value, values)) ? { hint: `did you mean "${exact ?? didYouMean(value, values)}"?` } : {}),
          }),
        );
      }
    }
  }
}

function last(path: PathSegment[]): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return "the value";
}

/** Members of UpdateServiceRequest in the SDK we ship: what an update can carry. */
export const UPDATE_SERVICE_MEMBERS: ReadonlySet<string> = new Set([...NormalizedSchema.of(ecs.UpdateServiceRequest$ as Schema).structIterator()].map(([name]) => name));
