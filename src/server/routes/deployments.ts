/** Deployments (list with filters and cursor, get with timeline), operator controls, rollback. */
import type { FastifyInstance } from "fastify";
import { controlRecord, deploymentRecord, eventRecord, sampleRecord } from "../../store/record.ts";
import type { ControlAction, DeploymentFilter, Phase } from "../../store/types.ts";
import { auditDetail } from "../audit.ts";
import { actor } from "../auth.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { resolveCommit } from "./commits.ts";
import { controlParams, deploymentId, deploymentsQuery, emptyBody, objectName, rollbackBody } from "../schemas.ts";

interface DeploymentsQuery {
  repository?: string;
  commit?: string;
  region?: string;
  cluster?: string;
  service?: string;
  object?: string;
  phase?: Phase[];
  status?: "active" | "finished";
  limit: number;
  cursor?: string;
}

const idParams = { type: "object", required: ["id"], additionalProperties: false, properties: { id: deploymentId } } as const;

export function deploymentRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;

  app.get<{ Querystring: DeploymentsQuery }>("/deployments", { schema: { querystring: deploymentsQuery } }, async (request) => {
    const q = request.query;
    // The CLI prints abbreviated commits: a unique prefix names its commit.
    const commit = q.commit === undefined ? undefined : await resolveCommit(store, q.commit, q.repository);
    if (q.commit !== undefined && commit === undefined) return { items: [], nextCursor: null };
    const filter: DeploymentFilter = {
      ...(q.repository !== undefined ? { repository: q.repository } : {}),
      ...(commit !== undefined ? { commitSha: commit } : {}),
      ...(q.region !== undefined ? { region: q.region } : {}),
      ...(q.cluster !== undefined ? { cluster: q.cluster } : {}),
      ...(q.service !== undefined ? { service: q.service } : {}),
      ...(q.object !== undefined ? { object: q.object } : {}),
      ...(q.phase?.length ? { phase: q.phase } : {}),
      ...(q.status !== undefined ? { active: q.status === "active" } : {}),
      limit: q.limit,
      ...(q.cursor !== undefined ? { before: q.cursor } : {}),
    };
    const page = await store.listDeployments(filter);
    return { items: page.items.map(deploymentRecord), nextCursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>("/deployments/:id", { schema: { params: idParams } }, async (request) => {
    const d = await store.getDeployment(request.params.id);
    if (!d) throw notFound(`deployment ${request.params.id}`);
    const [events, controls] = await Promise.all([store.listEvents(d.id), store.listControls(d.id)]);
    return { ...deploymentRecord(d), timeline: events.map(eventRecord), controls: controls.map(controlRecord) };
  });

  app.get<{ Params: { id: string }; Querystring: { after: number; limit: number } }>(
    "/deployments/:id/events",
    {
      schema: {
        params: idParams,
        querystring: { type: "object", additionalProperties: false, properties: { after: { type: "integer", minimum: 0, default: 0 }, limit: { type: "integer", minimum: 1, maximum: 1000, default: 1000 } } },
      },
    },
    async (request) => {
      const d = await store.getDeployment(request.params.id);
      if (!d) throw notFound(`deployment ${request.params.id}`);
      const events = await store.listEvents(d.id, { afterSeq: request.query.after, limit: request.query.limit });
      return { items: events.map(eventRecord) };
    },
  );

  // Samples of the deployment over time (weights per target group, tasks per task set, alarm states): the dashboard's chart.
  app.get<{ Params: { id: string }; Querystring: { after: number; limit: number } }>(
    "/deployments/:id/samples",
    {
      schema: {
        params: idParams,
        querystring: { type: "object", additionalProperties: false, properties: { after: { type: "integer", minimum: 0, default: 0 }, limit: { type: "integer", minimum: 1, maximum: 10000, default: 10000 } } },
      },
    },
    async (request) => {
      const d = await store.getDeployment(request.params.id);
      if (!d) throw notFound(`deployment ${request.params.id}`);
      const samples = await store.listSamples(d.id, { afterSeq: request.query.after, limit: request.query.limit });
      return { items: samples.map(sampleRecord) };
    },
  );

  app.post<{ Params: { id: string; action: ControlAction } }>("/deployments/:id/:action", { schema: { params: controlParams, body: emptyBody } }, async (request, reply) => {
    const { id, action } = request.params;
    const d = await store.getDeployment(id);
    if (!d) throw notFound(`deployment ${id}`);
    const by = actor(request);
    const control = await store.requestControl(id, action, by);
    auditDetail(request, { control: control.id });
    return reply.code(202).send({ deploymentId: id, ...controlRecord(control) });
  });

  app.get<{ Querystring: { object: string } }>(
    "/plan",
    { schema: { querystring: { type: "object", required: ["object"], additionalProperties: false, properties: { object: objectName } } } },
    async (request) => {
      if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot plan");
      return deps.controller.planObject(request.query.object);
    },
  );

  app.post<{ Body: { object: string } }>("/rollback", { schema: { body: rollbackBody } }, async (request, reply) => {
    if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot roll back");
    const by = actor(request);
    const d = await deps.controller.rollback(request.body.object, by);
    auditDetail(request, { created: d.id });
    return reply.code(202).send(deploymentRecord(d));
  });
}
