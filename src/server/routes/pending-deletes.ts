/**
 * Deletes the controller held back (docs/controller.md, "Pending deletes"): list them, confirm one
 * (the delete runs, recorded as a deployment; operator role, audited), or dismiss one (the service
 * stays and Flotilla forgets the delete).
 */
import type { FastifyInstance } from "fastify";
import { deploymentRecord, pendingDeleteRecord } from "../../store/record.ts";
import { auditDetail } from "../audit.ts";
import { actor } from "../auth.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { pendingDeleteBody, repositoryName } from "../schemas.ts";

export function pendingDeleteRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;
  const held = async (repository: string, object: string) => {
    const p = await store.getPendingDelete(repository, object);
    if (!p) throw notFound(`a pending delete of ${object} in ${repository}`);
    return p;
  };

  app.get<{ Querystring: { repository?: string } }>("/pending-deletes", { schema: { querystring: { type: "object", additionalProperties: false, properties: { repository: repositoryName } } } }, async (request) => {
    const items = await store.listPendingDeletes(request.query.repository !== undefined ? { repository: request.query.repository } : {});
    return { items: items.map(pendingDeleteRecord) };
  });

  app.post<{ Body: { repository: string; object: string } }>("/pending-deletes/confirm", { schema: { body: pendingDeleteBody } }, async (request, reply) => {
    const { repository, object } = request.body;
    if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot delete");
    await held(repository, object);
    const repo = await store.getRepository(repository);
    if (!repo) throw notFound(`repository "${repository}"`);
    const by = actor(request);
    const d = await deps.controller.confirmPendingDelete(repo, object, by);
    auditDetail(request, { created: d.id });
    return reply.code(202).send(deploymentRecord(d));
  });

  app.post<{ Body: { repository: string; object: string } }>("/pending-deletes/dismiss", { schema: { body: pendingDeleteBody } }, async (request) => {
    const { repository, object } = request.body;
    const p = await held(repository, object);
    await store.removePendingDelete(repository, object);
    return { ...pendingDeleteRecord(p), dismissedBy: actor(request) };
  });
}
