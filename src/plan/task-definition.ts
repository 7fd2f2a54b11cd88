/**
 * The canonical form of a task definition: a taskdef (RegisterTaskDefinition request) and the
 * DescribeTaskDefinition answer for the revision it registered normalise to the same JSON.
 * Rules and sources: docs/plan.md.
 */
import { canonicalize, copy, dropDefault, isRecord, sortedBy, sortedStrings } from "./json.ts";
import { TASK_DEFINITION_RESPONSE_ONLY } from "./shapes.ts";
import type { JsonRecord } from "./types.ts";

/** Accepts a taskdef, a DescribeTaskDefinition `taskDefinition`, or the whole output (`{ taskDefinition, tags }`). */
export function normalizeTaskDefinition(def: JsonRecord): JsonRecord {
  const td = copy(unwrapDescribeOutput(def));
  for (const key of TASK_DEFINITION_RESPONSE_ONLY) delete td[key];

  const networkMode = typeof td["networkMode"] === "string" ? td["networkMode"] : "bridge";
  dropDefault(td, "networkMode", "bridge"); // the Linux default when none is given
  if (td["cpu"] !== undefined) td["cpu"] = cpuUnits(td["cpu"]);
  if (td["memory"] !== undefined) td["memory"] = memoryMiB(td["memory"]);
  dropDefault(td, "enableFaultInjection", false);
  if (isRecord(td["ephemeralStorage"])) dropDefault(td["ephemeralStorage"], "sizeInGiB", 20); // Fargate's default

  td["requiresCompatibilities"] = sortedStrings(td["requiresCompatibilities"]);
  td["volumes"] = sortedBy(td["volumes"], "name");
  td["placementConstraints"] = sortedBy(td["placementConstraints"], "type", "expression");
  td["inferenceAccelerators"] = sortedBy(td["inferenceAccelerators"], "deviceName");
  td["tags"] = sortedBy(td["tags"], "key");
  const proxy = td["proxyConfiguration"];
  if (isRecord(proxy)) proxy["properties"] = sortedBy(proxy["properties"], "name");

  // Container order is kept: it is the user's, ECS preserves it, and a reorder is a new revision.
  if (Array.isArray(td["containerDefinitions"])) td["containerDefinitions"] = td["containerDefinitions"].map((c: unknown) => (isRecord(c) ? normalizeContainer(c, networkMode) : c));
  return (canonicalize(td) as JsonRecord | undefined) ?? {};
}

function unwrapDescribeOutput(def: JsonRecord): JsonRecord {
  const inner = def["taskDefinition"];
  if (!isRecord(inner) || def["containerDefinitions"] !== undefined) return def;
  return def["tags"] !== undefined ? { ...inner, tags: def["tags"] } : inner;
}

function normalizeContainer(c: JsonRecord, networkMode: string): JsonRecord {
  dropDefault(c, "essential", true);
  dropDefault(c, "cpu", 0); // DescribeTaskDefinition reports 0 for a container without cpu
  for (const flag of ["privileged", "readonlyRootFilesystem", "disableNetworking", "interactive", "pseudoTerminal"]) dropDefault(c, flag, false);
  dropDefault(c, "versionConsistency", "enabled");

  if (Array.isArray(c["portMappings"])) c["portMappings"] = sortedBy(c["portMappings"].map((p: unknown) => (isRecord(p) ? normalizePortMapping(p, networkMode) : p)), "containerPort", "protocol", "containerPortRange");
  c["environment"] = sortedBy(c["environment"], "name");
  c["secrets"] = sortedBy(c["secrets"], "name");
  c["mountPoints"] = sortedBy(withoutFalse(c["mountPoints"], "readOnly"), "sourceVolume", "containerPath");
  c["volumesFrom"] = sortedBy(withoutFalse(c["volumesFrom"], "readOnly"), "sourceContainer");
  c["ulimits"] = sortedBy(c["ulimits"], "name");
  c["systemControls"] = sortedBy(c["systemControls"], "namespace");
  c["resourceRequirements"] = sortedBy(c["resourceRequirements"], "type");
  c["dependsOn"] = sortedBy(c["dependsOn"], "containerName");
  c["extraHosts"] = sortedBy(c["extraHosts"], "hostname");

  const health = c["healthCheck"];
  if (isRecord(health)) {
    dropDefault(health, "interval", 30);
    dropDefault(health, "timeout", 5);
    dropDefault(health, "retries", 3);
    dropDefault(health, "startPeriod", 0);
  }
  const log = c["logConfiguration"];
  if (isRecord(log)) log["secretOptions"] = sortedBy(log["secretOptions"], "name");
  const linux = c["linuxParameters"];
  if (isRecord(linux)) {
    dropDefault(linux, "initProcessEnabled", false);
    linux["tmpfs"] = sortedBy(linux["tmpfs"], "containerPath");
    const caps = linux["capabilities"];
    if (isRecord(caps)) {
      caps["add"] = sortedStrings(caps["add"]);
      caps["drop"] = sortedStrings(caps["drop"]);
    }
  }
  const restart = c["restartPolicy"];
  if (isRecord(restart) && restart["enabled"] === false) delete c["restartPolicy"]; // its other fields only apply when enabled
  return c;
}

/**
 * `protocol` defaults to tcp. Under awsvpc and host networking the host port is the container
 * port (ECS fills it in); under bridge networking 0 (or none) means a dynamic host port.
 */
function normalizePortMapping(p: JsonRecord, networkMode: string): JsonRecord {
  const m = { ...p };
  dropDefault(m, "protocol", "tcp");
  if ((networkMode === "awsvpc" || networkMode === "host") && m["hostPort"] === m["containerPort"]) delete m["hostPort"];
  if (networkMode === "bridge") dropDefault(m, "hostPort", 0);
  return m;
}

function withoutFalse(list: unknown, key: string): unknown {
  return Array.isArray(list) ? list.map((item: unknown) => (isRecord(item) && item[key] === false ? Object.fromEntries(Object.entries(item).filter(([k]) => k !== key)) : item)) : list;
}

/** Task-level cpu as CPU units: "1 vCPU", "0.25 vcpu", 1024 and "1024" are all "1024". */
export function cpuUnits(v: unknown): unknown {
  const text = String(v).trim();
  const vcpu = /^(\d*\.?\d+)\s*vcpu$/i.exec(text);
  if (vcpu?.[1]) return String(Math.round(Number(vcpu[1]) * 1024));
  return /^\d+$/.test(text) ? String(Number(text)) : v;
}

/** Task-level memory in MiB: "1 GB", "1gb", 1024 and "1024" are all "1024". */
export function memoryMiB(v: unknown): unknown {
  const text = String(v).trim();
  const gb = /^(\d*\.?\d+)\s*gb$/i.exec(text);
  if (gb?.[1]) return String(Math.round(Number(gb[1]) * 1024));
  const mib = /^(\d+)\s*(?:mib|mb)?$/i.exec(text);
  return mib?.[1] ? String(Number(mib[1])) : v;
}
