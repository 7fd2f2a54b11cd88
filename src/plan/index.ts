/** `src/plan/`: desired vs live, as a normalised diff. Pure: no AWS calls, no I/O. See docs/plan.md. */
export { normalizeServiceDefinition, dropServerChosen, taskDefinitionReference, hasRevision } from "./service.ts";
export { normalizeTaskDefinition, cpuUnits, memoryMiB } from "./task-definition.ts";
export { diffDefinitions } from "./diff.ts";
export { planObject } from "./plan.ts";
export { TASK_SET_MEMBERS } from "./shapes.ts";
export { MASK, MASK_CHANGED, looksSecret } from "../core/mask.ts";
export type * from "./types.ts";
