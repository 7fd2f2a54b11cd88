/**
 * Plain JSON shapes for `src/plan/`. Both sides of a comparison are records with ECS's own field
 * names: the desired side is the rendered svcdef/taskdef (CreateService / RegisterTaskDefinition
 * requests), the live side is what DescribeServices / DescribeTaskDefinition return. No SDK types:
 * the plan must read whatever a newer ECS returns without a code change.
 */
import type { MaskRules } from "../core/mask.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonRecord = Record<string, unknown>;

export interface ServiceContext {
  /**
   * How the service's `taskDefinition` reference is compared. "family" (the default): Flotilla
   * registers a new revision on every deploy, so only the family can say whether the service
   * points at the right task definition (the task definition itself is diffed separately).
   * "revision": the svcdef pins `family:revision` (or an ARN) and there is no taskdef file.
   */
  taskDefinitionBy?: "family" | "revision";
  /**
   * The cluster's default capacity provider strategy, when known. A service created with neither
   * `launchType` nor `capacityProviderStrategy` gets it, so a live strategy equal to it is a default.
   */
  clusterDefaultCapacityProviderStrategy?: readonly JsonRecord[];
}

export type ChangeKind = "added" | "removed" | "changed";

export interface Change {
  /** JSONPath into the canonical documents, e.g. `$.containerDefinitions[0].image`. */
  path: string;
  kind: ChangeKind;
  desired?: unknown;
  live?: unknown;
}

export interface Diff {
  changed: boolean;
  changes: Change[];
  /** Unified diff of the canonical JSON documents (live → desired); empty when nothing changed. */
  text: string;
}

/** What to hide besides the built-in rules: sensitive strings and extra secret names (src/core/mask.ts). */
export type MaskOptions = MaskRules;

export interface DiffOptions extends MaskOptions {
  /** File names for the unified diff header. */
  labels?: { live?: string; desired?: string };
}

export interface PlanInput extends MaskRules {
  desired: {
    /** The rendered svcdef (a CreateService request). */
    service: JsonRecord;
    /** The rendered taskdef (a RegisterTaskDefinition request); absent when the svcdef's `taskDefinition` is used. */
    taskDefinition?: JsonRecord;
  };
  live: {
    /** One element of DescribeServices' `services` (with `include: ["TAGS"]` for tags to be compared). */
    service?: JsonRecord;
    /** DescribeTaskDefinition's output (`{ taskDefinition, tags }`) or its `taskDefinition` member. */
    taskDefinition?: JsonRecord;
    /**
     * The service is blue/green (EXTERNAL) and has no PRIMARY task set, so no revision of it runs:
     * what it keeps on task sets (TASK_SET_MEMBERS) is not compared, the task definition is compared
     * with nothing, and the plan is `update`, the deployment creating the first task set. `taskSets`
     * names the sets it has all the same, as `id (STATUS)`.
     */
    withoutPrimaryTaskSet?: { taskSets: readonly string[] };
  };
  clusterDefaultCapacityProviderStrategy?: readonly JsonRecord[];
  /**
   * The live descriptions were asked for tags (`include: ["TAGS"]`), so a missing `tags` means
   * "no tags". Otherwise tags are compared only when the live side has a `tags` member.
   */
  liveIncludesTags?: boolean;
}

export type PlanAction = "create" | "update" | "none";

export interface Plan {
  action: PlanAction;
  service: Diff;
  taskDefinition: Diff;
  /** Why this action, in words a user can act on. */
  reasons: string[];
  /** Fields the plan could not compare, and why (e.g. tags not returned by the describe call). */
  notCompared: string[];
}
