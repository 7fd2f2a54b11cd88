/**
 * What the controller recorded about processed commits: one commit's record (status, what it did per
 * object, its problems) and the resolution of abbreviated commit ids against what the store knows.
 * Read from the store, so they answer without a controller attached.
 */
import type { FastifyInstance } from "fastify";
import { commitRecordJson } from "../../store/record.ts";
import type { Store } from "../../store/store.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { commitSha, repositoryName } from "../schemas.ts";

const FULL = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The full sha an abbreviation names among the store's deployments and commit records (of one
 * repository, when given): undefined when none has it, FLT-COMMIT-AMBIGUOUS when several do.
 */
export async function resolveCommit(store: Store, sha: string, repository?: string): Promise<string | undefined> {
  const prefix = sha.toLowerCase();
  if (FULL.test(prefix)) return prefix;
  const found = await store.commitsWithPrefix(prefix, { ...(repository !== undefined ? { repository } : {}), limit: 3 });
  if (found.length > 1) {
    throw new ApiError(400, "FLT-COMMIT-AMBIGUOUS", `the commit id ${sha} is ambiguous: ${found.map((s) => s.slice(0, 12)).join(", ")}${found.length > 2 ? ", ..." : ""}`, "give more digits of the commit id");
  }
  return found[0];
}

export function commitRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { store } = deps;
  app.get<{ Params: { name: string; sha: string } }>(
    "/repositories/:name/commits/:sha",
    { schema: { params: { type: "object", required: ["name", "sha"], additionalProperties: false, properties: { name: repositoryName, sha: commitSha } } } },
    async (request) => {
      const { name, sha } = request.params;
      if (!(await store.getRepository(name))) throw notFound(`repository "${name}"`);
      const full = await resolveCommit(store, sha, name);
      const record = full === undefined ? undefined : await store.getCommitRecord(name, full);
      if (!record) throw notFound(`a processed commit ${sha} of ${name}`);
      return commitRecordJson(record);
    },
  );
}
