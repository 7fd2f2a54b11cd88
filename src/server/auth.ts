/**
 * Bearer-token authentication for /api/v1. Tokens are verified by the store (SHA-256 hash,
 * constant-time comparison); the token's name is what every mutation records. Roles: `read-only`
 * may use safe methods (GET, HEAD), `operator` may also change things.
 */
import type { FastifyRequest } from "fastify";
import type { Store } from "../store/store.ts";
import type { ApiToken } from "../store/types.ts";
import { ApiError } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated token (set by the /api/v1 auth hook). */
    token: ApiToken | null;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function authHook(store: Store) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const m = typeof header === "string" ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!m) {
      throw new ApiError(401, "FLT-API-UNAUTHORIZED", "a bearer token is required: send `Authorization: Bearer <token>`", "tokens are created by an administrator (Store.createToken); each has the role read-only or operator");
    }
    const token = await store.verifyToken(m[1]!);
    if (!token) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "the bearer token is not valid (unknown or revoked)");
    request.token = token;
    if (!SAFE.has(request.method) && token.role !== "operator") {
      throw new ApiError(403, "FLT-API-FORBIDDEN", `token "${token.name}" is read-only; this request needs an operator token`);
    }
  };
}

/** The name mutations record (requestedBy / setBy). */
export function actor(request: FastifyRequest): string {
  if (!request.token) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "a bearer token is required");
  return request.token.name;
}
