/** `src/plan/`: desired vs live, as a normalised diff. Pure: no AWS calls, no I/O. */
export { normalizeServiceDefinition, taskDefinitionReference } from "./service.ts";
export { normalizeTaskDefinition, cpuUnits, memoryMiB } from "./task-definition.ts";
export { diffDefinitions } from "./diff.ts";
export { planObject } from "./plan.ts";
export { MASK, looksSecret } from "./mask.ts";
export type * from "./types.ts";
