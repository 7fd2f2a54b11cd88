/**
 * Sync windows and what they hold (docs/controller.md, Sync windows): the configured windows, open
 * or closed now; the commits that wait; releasing one (operator role, audited: an override recorded
 * on the activity stream and on the deployments it starts); and the controller's activity.
 */
import type { FastifyInstance } from "fastify";
import { activityRecord, waitingCommitRecord } from "../../store/record.ts";
import { auditDetail } from "../audit.ts";
import { actor } from "../auth.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { commitPrefix, repositoryName } from "../schemas.ts";

const repositoryQuery = { type: "object", additionalProperties: false, properties: { repository: repositoryName } } as const;

export function windowRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;

  app.get<{ Querystring: { repository?: string } }>("/sync-windows", { schema: { querystring: repositoryQuery } }, async (request) => {
    const filter = request.query.repository !== undefined ? { repository: request.query.repository } : {};
    return { windows: deps.controller?.syncWindows() ?? [], waiting: (await store.listWaitingCommits(filter)).map(waitingCommitRecord) };
  });

  app.get<{ Querystring: { repository?: string } }>("/waiting-commits", { schema: { querystring: repositoryQuery } }, async (request) => {
    const filter = request.query.repository !== undefined ? { repository: request.query.repository } : {};
    return { items: (await store.listWaitingCommits(filter)).map(waitingCommitRecord) };
  });

  app.post<{ Body: { repository: string; sha?: string } }>(
    "/waiting-commits/release",
    { schema: { body: { type: "object", required: ["repository"], additionalProperties: false, properties: { repository: repositoryName, sha: commitPrefix } } } },
    async (request) => {
      if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot release a commit");
      const repo = await store.getRepository(request.body.repository);
      if (!repo) throw notFound(`repository "${request.body.repository}"`);
      const released = await deps.controller.releaseWaitingCommit(repo, request.body.sha, actor(request));
      auditDetail(request, { override: "outside-window", commit: released.sha });
      return waitingCommitRecord(released);
    },
  );

  app.get<{ Querystring: { repository?: string; limit?: number; after?: number } }>(
    "/activity",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { repository: repositoryName, limit: { type: "integer", minimum: 1, maximum: 500, default: 100 }, after: { type: "integer", minimum: 0 } },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const items = await store.listActivity({ ...(q.repository !== undefined ? { repository: q.repository } : {}), ...(q.after !== undefined ? { afterSeq: q.after } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) });
      return { items: items.map(activityRecord) };
    },
  );
}
