/** Repositories (list, get, add, update, remove) and their commits (list, files, deploy, dry run). */
import type { FastifyInstance } from "fastify";
import type { Store } from "../../store/store.ts";
import type { NewRepository, Repository, RepositoryPatch } from "../../store/types.ts";
import { checkRepository } from "../../controller/repository-policy.ts";
import { commitResult } from "../../store/record.ts";
import { DEFAULT_POLICY } from "../../controller/server-config.ts";
import { auditDetail } from "../audit.ts";
import { actor } from "../auth.ts";
import type { ControllerPort } from "../../api/ports.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { commitSha, deployBody, newRepositoryBody, repositoryName, repositoryPatchBody } from "../schemas.ts";

const nameParams = { type: "object", required: ["name"], additionalProperties: false, properties: { name: repositoryName } } as const;
const commitParams = { type: "object", required: ["name", "sha"], additionalProperties: false, properties: { name: repositoryName, sha: commitSha } } as const;

/** The public shape: credentials only by name (or, for a row stored before names, its old reference), never a value. */
export async function repositoryRecord(store: Store, r: Repository) {
  const last = await store.getLastCommit(r.name, r.branch);
  return {
    name: r.name,
    url: r.url,
    branch: r.branch,
    path: r.path,
    pollIntervalSeconds: r.pollIntervalSeconds,
    credentials: r.credentials,
    lastCommit: last ? { sha: last.sha, processedAt: new Date(last.processedAt).toISOString() } : null,
    /** Deletes held back for this repository (GET /pending-deletes?repository=NAME lists them). */
    pendingDeletes: (await store.listPendingDeletes({ repository: r.name })).length,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

export function repositoryRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;
  const policy = deps.policy ?? DEFAULT_POLICY;
  const load = async (name: string): Promise<Repository> => {
    const repo = await store.getRepository(name);
    if (!repo) throw notFound(`repository "${name}"`);
    return repo;
  };
  const controller = (): ControllerPort => {
    if (!deps.controller) throw new ApiError(503, "FLT-API-UNAVAILABLE", "no controller is attached to this server, so it cannot read commits or deploy");
    return deps.controller;
  };

  app.get("/repositories", { schema: { querystring: { type: "object", additionalProperties: false, properties: {} } } }, async () => {
    const repos = await store.listRepositories();
    return { items: await Promise.all(repos.map((r) => repositoryRecord(store, r))) };
  });

  app.get<{ Params: { name: string } }>("/repositories/:name", { schema: { params: nameParams } }, async (request) => repositoryRecord(store, await load(request.params.name)));

  app.post<{ Body: NewRepository }>("/repositories", { schema: { body: newRepositoryBody } }, async (request, reply) => {
    await checkRepository(request.body, policy);
    const repo = await store.addRepository(request.body);
    deps.controller?.watchRepository(repo.name);
    return reply.code(201).send(await repositoryRecord(store, repo));
  });

  app.patch<{ Params: { name: string }; Body: RepositoryPatch }>("/repositories/:name", { schema: { params: nameParams, body: repositoryPatchBody } }, async (request) => {
    // The repository as it would be after the change passes the same checks as a new one.
    await checkRepository({ ...(await load(request.params.name)), ...request.body }, policy);
    const repo = await store.updateRepository(request.params.name, request.body);
    deps.controller?.watchRepository(repo.name);
    return repositoryRecord(store, repo);
  });

  app.delete<{ Params: { name: string } }>("/repositories/:name", { schema: { params: nameParams } }, async (request, reply) => {
    if (!(await store.removeRepository(request.params.name))) throw notFound(`repository "${request.params.name}"`);
    return reply.code(204).send();
  });

  app.get<{ Params: { name: string }; Querystring: { limit: number } }>(
    "/repositories/:name/commits",
    { schema: { params: nameParams, querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 20 } } } } },
    async (request) => {
      const repo = await load(request.params.name);
      const items = await controller().listCommits(repo, { limit: request.query.limit });
      // How the controller's processing of each went (null: not processed here, or before records).
      const records = new Map((await store.listCommitRecords({ repository: repo.name, shas: items.map((c) => c.sha), limit: 500 })).map((r) => [r.sha, commitResult(r)]));
      return { items: items.map((c) => ({ ...c, result: records.get(c.sha) ?? null })) };
    },
  );

  app.get<{ Params: { name: string; sha: string } }>("/repositories/:name/commits/:sha/files", { schema: { params: commitParams } }, async (request) => {
    const repo = await load(request.params.name);
    return { sha: request.params.sha, items: await controller().commitFiles(repo, request.params.sha) };
  });

  app.get<{ Params: { name: string; sha: string }; Querystring: { rendered: boolean } }>(
    "/repositories/:name/commits/:sha/dryrun",
    { schema: { params: commitParams, querystring: { type: "object", additionalProperties: false, properties: { rendered: { type: "boolean", default: false } } } } },
    async (request) => {
      const repo = await load(request.params.name);
      return controller().dryRun(repo, request.params.sha, { rendered: request.query.rendered });
    },
  );

  app.post<{ Params: { name: string; sha: string }; Body: { force: boolean; overrides: string[] } | undefined }>(
    "/repositories/:name/commits/:sha/deploy",
    { schema: { params: commitParams, body: deployBody } },
    async (request, reply) => {
      const repo = await load(request.params.name);
      const requestedBy = actor(request);
      const body = request.body ?? { force: false, overrides: [] };
      const accepted = await controller().deployCommit(repo, request.params.sha, { force: body.force, requestedBy, overrides: body.overrides });
      auditDetail(request, { commit: accepted.sha });
      return reply.code(202).send({ ...accepted, requestedBy });
    },
  );
}
