/**
 * Drift (docs/controller.md, Drift): the last check of each object against what runs — its status,
 * the reasons and the normalised diffs, masked like every answer — and a check asked for now
 * (operator role: it reads AWS and may start self-heal deployments).
 */
import type { FastifyInstance } from "fastify";
import type { DriftStatus } from "../../store/types.ts";
import { driftRecord } from "../../store/record.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { repositoryName } from "../schemas.ts";

const STATUSES = ["in-sync", "drifted", "missing", "unknown"] as const;

export function driftRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;

  app.get<{ Querystring: { repository?: string; status?: DriftStatus } }>(
    "/drift",
    { schema: { querystring: { type: "object", additionalProperties: false, properties: { repository: repositoryName, status: { type: "string", enum: STATUSES } } } } },
    async (request) => {
      const q = request.query;
      const items = await store.listDrift({ ...(q.repository !== undefined ? { repository: q.repository } : {}), ...(q.status !== undefined ? { status: q.status } : {}) });
      return { items: items.map(driftRecord) };
    },
  );

  app.post<{ Body: { repository?: string } }>(
    "/drift/check",
    { schema: { body: { type: "object", additionalProperties: false, properties: { repository: repositoryName } } } },
    async (request) => {
      if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot check drift");
      const { repository } = request.body;
      if (repository !== undefined && !(await store.getRepository(repository))) throw notFound(`repository "${repository}"`);
      const items = await deps.controller.checkDrift(repository);
      return { items: items.map(driftRecord) };
    },
  );
}
