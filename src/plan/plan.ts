/**
 * What `flotilla plan` and `flotilla apply` decide for one object: create, update or nothing,
 * with the normalised diffs of its service and task definition and the reasons in words.
 */
import { diffDefinitions } from "./diff.ts";
import { isRecord } from "./json.ts";
import { dropServerChosen, hasRevision, normalizeServiceDefinition, taskDefinitionReference } from "./service.ts";
import { SERVICE_MEMBERS_NOT_DESCRIBED, TASK_SET_MEMBERS } from "./shapes.ts";
import { normalizeTaskDefinition } from "./task-definition.ts";
import type { Diff, JsonRecord, MaskOptions, Plan, PlanInput, ServiceContext } from "./types.ts";

const NO_DIFF: Diff = { changed: false, changes: [], text: "" };

export function planObject(input: PlanInput): Plan {
  const mask: MaskOptions = { sensitive: input.sensitive ?? [], ...(input.secretNames ? { secretNames: input.secretNames } : {}) };
  const notCompared: string[] = [];
  const liveService = input.live.service;
  const desiredTd = input.desired.taskDefinition;

  // With a taskdef file the service must point at its family (a new revision is registered on
  // every deploy); without one, at the svcdef's reference, exactly when it names a revision.
  const reference = typeof input.desired.service["taskDefinition"] === "string" ? input.desired.service["taskDefinition"] : undefined;
  const family = typeof desiredTd?.["family"] === "string" ? desiredTd["family"] : undefined;
  const desiredSvc: JsonRecord = family ? { ...input.desired.service, taskDefinition: family } : input.desired.service;
  const context: ServiceContext = {
    taskDefinitionBy: !family && reference && hasRevision(reference) ? "revision" : "family",
    ...(input.clusterDefaultCapacityProviderStrategy ? { clusterDefaultCapacityProviderStrategy: input.clusterDefaultCapacityProviderStrategy } : {}),
  };

  const desired = normalizeServiceDefinition(desiredSvc, context);
  const notDescribed = [...SERVICE_MEMBERS_NOT_DESCRIBED].filter((k) => input.desired.service[k] !== undefined);
  if (notDescribed.length) notCompared.push(`${notDescribed.join(", ")}: DescribeServices does not return ${notDescribed.length > 1 ? "them" : "it"}`);

  const exists = liveService !== undefined && (liveService["status"] === undefined || liveService["status"] === "ACTIVE");
  const live = exists ? normalizeServiceDefinition(liveService, context) : undefined;
  // A blue/green service without a PRIMARY task set runs nothing: its task-set members have nothing to compare with.
  const noPrimary = exists ? input.live.withoutPrimaryTaskSet : undefined;
  if (live && noPrimary) {
    const onTaskSets = [...TASK_SET_MEMBERS].filter((k) => desired[k] !== undefined);
    for (const k of TASK_SET_MEMBERS) {
      delete desired[k];
      delete live[k];
    }
    if (onTaskSets.length) notCompared.push(`${onTaskSets.join(", ")}: a blue/green service keeps ${onTaskSets.length > 1 ? "them" : "it"} on its PRIMARY task set, and it has none`);
  }
  if (live && liveService) {
    dropServerChosen(desired, live);
    if (!input.liveIncludesTags && !("tags" in liveService)) skipTags(desired, "service", notCompared);
  }
  const labels = { live: liveService && typeof liveService["serviceArn"] === "string" ? liveService["serviceArn"] : "live", desired: "svcdef" };
  const service = diffDefinitions(desired, live, { ...mask, labels });

  const taskDefinition = desiredTd ? diffTaskDefinitions(desiredTd, exists && !noPrimary ? input.live.taskDefinition : undefined, { mask, liveIncludesTags: input.liveIncludesTags ?? false }, notCompared) : NO_DIFF;

  const reasons: string[] = [];
  if (!exists) {
    reasons.push(liveService ? `the service is ${String(liveService["status"])}: it will be created again` : "no such service in the cluster: it will be created");
    return { action: "create", service, taskDefinition, reasons, notCompared };
  }
  if (noPrimary) {
    const sets = noPrimary.taskSets.length ? `; ${noPrimary.taskSets.length > 1 ? "task sets" : "task set"} ${noPrimary.taskSets.join(", ")} ${noPrimary.taskSets.length > 1 ? "are" : "is"} not primary` : "";
    reasons.push(`the blue/green service has no PRIMARY task set, so nothing runs to compare with (a first deployment that failed or has not finished, or task sets deleted by hand${sets}): the deployment creates the first task set from these definitions`);
    if (service.changed) reasons.push(`the service differs: ${summarize(service)}`);
    return { action: "update", service, taskDefinition, reasons, notCompared };
  }
  if (service.changed) reasons.push(`the service differs: ${summarize(service)}`);
  if (taskDefinition.changed) reasons.push(`the task definition differs: ${summarize(taskDefinition)}`);
  if (!desiredTd && reference) {
    reasons.push(`no taskdef file: the service is compared with the svcdef's taskDefinition "${taskDefinitionReference(reference, context.taskDefinitionBy ?? "family")}"`);
  }
  const changed = service.changed || taskDefinition.changed;
  if (!changed) reasons.push("the service and its task definition match the definitions");
  return { action: changed ? "update" : "none", service, taskDefinition, reasons, notCompared };
}

function diffTaskDefinitions(desiredTd: JsonRecord, liveTd: JsonRecord | undefined, how: { mask: MaskOptions; liveIncludesTags: boolean }, notCompared: string[]): Diff {
  const desired = normalizeTaskDefinition(desiredTd);
  const live = liveTd ? normalizeTaskDefinition(liveTd) : undefined;
  // DescribeTaskDefinition returns tags only with include: ["TAGS"], beside the definition.
  if (liveTd && !how.liveIncludesTags && !("tags" in liveTd)) skipTags(desired, "task definition", notCompared);
  const inner = liveTd && isRecord(liveTd["taskDefinition"]) ? liveTd["taskDefinition"] : liveTd;
  const arn = inner && typeof inner["taskDefinitionArn"] === "string" ? inner["taskDefinitionArn"] : "live";
  return diffDefinitions(desired, live, { ...how.mask, labels: { live: arn, desired: "taskdef" } });
}

function skipTags(desired: JsonRecord, what: string, notCompared: string[]): void {
  if (desired["tags"] === undefined) return;
  delete desired["tags"];
  notCompared.push(`${what} tags: the live description has none (describe with include: ["TAGS"])`);
}

function summarize(diff: Diff): string {
  const shown = diff.changes.slice(0, 3).map((c) => `${c.path} ${c.kind}`);
  return shown.join(", ") + (diff.changes.length > 3 ? ` and ${diff.changes.length - 3} more` : "");
}
