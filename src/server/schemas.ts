/** JSON Schemas shared by the routes. Every route validates its params, query and body. */
import { CONTROL_ACTIONS, PHASES } from "../store/types.ts";
import { CREDENTIAL_NAME } from "../store/validate.ts";

export const repositoryName = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$" } as const;
/** Full or abbreviated hex commit id (SHA-1 or SHA-256). */
export const commitSha = { type: "string", pattern: "^[0-9a-fA-F]{4,64}$" } as const;
/** A full commit id or an abbreviation of at least 7 hex digits (what the CLI prints), resolved when unique. */
export const commitPrefix = { type: "string", pattern: "^[0-9a-fA-F]{7,64}$" } as const;
export const deploymentId = { type: "string", pattern: "^[0-9A-Za-z]{1,64}$" } as const;
/** A deployment object: a path prefix such as `dev/web/web`. */
export const objectName = { type: "string", minLength: 1, maxLength: 1024, pattern: "^[^\\u0000-\\u001f]+$" } as const;
const branch = { type: "string", minLength: 1, maxLength: 255, pattern: "^[^\\s~^:?*\\[\\\\]+$" } as const;

/** The name of a credential defined in the server configuration, or null for none; never a secret or a reference. */
const credentials = { anyOf: [{ type: "null" }, { type: "string", pattern: CREDENTIAL_NAME.source }] } as const;

const repositoryFields = {
  url: { type: "string", minLength: 1, maxLength: 4096 },
  branch,
  path: { anyOf: [{ type: "null" }, { type: "string", minLength: 1, maxLength: 1024 }] },
  pollIntervalSeconds: { type: "integer", minimum: 1, maximum: 86400 },
  credentials,
} as const;

export const newRepositoryBody = {
  type: "object",
  required: ["name", "url", "branch"],
  additionalProperties: false,
  properties: { name: repositoryName, ...repositoryFields },
} as const;

export const repositoryPatchBody = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: repositoryFields,
} as const;

export const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;

export const deployBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    force: { type: "boolean", default: false },
    overrides: { type: "array", maxItems: 10, uniqueItems: true, items: { type: "string", enum: ["skip-alarms", "all-at-once", "outside-window"] }, default: [] },
  },
} as const;

export const deploymentsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    repository: repositoryName,
    commit: commitPrefix,
    region: { type: "string", pattern: "^[a-z0-9-]{1,32}$" },
    cluster: { type: "string", minLength: 1, maxLength: 255 },
    service: { type: "string", minLength: 1, maxLength: 255 },
    object: objectName,
    phase: { type: "array", maxItems: PHASES.length, items: { type: "string", enum: [...PHASES] } },
    status: { type: "string", enum: ["active", "finished"] },
    limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
    cursor: deploymentId,
  },
} as const;

export const controlParams = {
  type: "object",
  required: ["id", "action"],
  additionalProperties: false,
  properties: { id: deploymentId, action: { type: "string", enum: [...CONTROL_ACTIONS] } },
} as const;

export const rollbackBody = {
  type: "object",
  required: ["object"],
  additionalProperties: false,
  properties: { object: objectName },
} as const;

export const eventsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    deployment: deploymentId,
    object: objectName,
    /** Only deployment events, or only processed commits. */
    type: { type: "string", enum: ["deployment", "commit", "activity"] },
    /** Close the stream after this many events (scripts, tests). */
    limit: { type: "integer", minimum: 1, maximum: 100000 },
  },
} as const;

/** A held delete: which repository's, which object. */
export const pendingDeleteBody = {
  type: "object",
  required: ["repository", "object"],
  additionalProperties: false,
  properties: { repository: repositoryName, object: objectName },
} as const;
