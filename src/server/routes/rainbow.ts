/**
 * Rainbow objects (docs/api.md "Rainbow"): cut over to a version, clean up by the policy (or see
 * what a cleanup would remove), list the versions. The controller decides what each does; these
 * routes only adapt it to HTTP.
 */
import type { FastifyInstance } from "fastify";
import { MAX_VERSION_LENGTH, VERSION_PATTERN } from "../../controller/rainbow.ts";
import { deploymentRecord } from "../../store/record.ts";
import { auditDetail } from "../audit.ts";
import { actor } from "../auth.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { objectName } from "../schemas.ts";

const version = { type: "string", minLength: 1, maxLength: MAX_VERSION_LENGTH, pattern: VERSION_PATTERN.source } as const;
const cutoverBody = { type: "object", required: ["object", "version"], additionalProperties: false, properties: { object: objectName, version } } as const;
const cleanupBody = { type: "object", required: ["object"], additionalProperties: false, properties: { object: objectName, dryRun: { type: "boolean", default: false } } } as const;
const objectQuery = { type: "object", required: ["object"], additionalProperties: false, properties: { object: objectName } } as const;

export function rainbowRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const controller = () => {
    if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot act on rainbow versions");
    return deps.controller;
  };

  app.post<{ Body: { object: string; version: string } }>("/cutover", { schema: { body: cutoverBody } }, async (request, reply) => {
    const d = await controller().cutover(request.body.object, request.body.version, actor(request));
    auditDetail(request, { created: d.id, version: request.body.version });
    return reply.code(202).send(deploymentRecord(d));
  });

  app.post<{ Body: { object: string; dryRun: boolean } }>("/cleanup", { schema: { body: cleanupBody } }, async (request, reply) => {
    if (request.body.dryRun) return reply.code(200).send(await controller().planCleanup(request.body.object));
    const d = await controller().cleanup(request.body.object, actor(request));
    auditDetail(request, { created: d.id });
    return reply.code(202).send(deploymentRecord(d));
  });

  app.get<{ Querystring: { object: string } }>("/versions", { schema: { querystring: objectQuery } }, async (request) => controller().versions(request.query.object));
}
