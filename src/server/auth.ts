/**
 * Authentication for /api/v1: a bearer token (scripts, the CLI) or a dashboard session cookie
 * (session.ts). Tokens are verified by the store (SHA-256 hash, constant-time comparison); a session
 * stands for the token it was made from and ends when that token is rotated or revoked. The token's
 * name is what every mutation records. Roles: `read-only` may use safe methods (GET, HEAD),
 * `operator` may also change things. Changes made with a session cookie must pass the CSRF check.
 */
import type { FastifyRequest } from "fastify";
import type { Store } from "../store/store.ts";
import type { ApiToken } from "../store/types.ts";
import { ApiError } from "./errors.ts";
import { checkCsrf, SESSION_COOKIE } from "./session.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated token (set by the /api/v1 auth hook). */
    token: ApiToken | null;
    /** Whether what authenticated this request is still valid (a long-lived stream asks from time to time). */
    stillAuthorized: (() => Promise<boolean>) | null;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function authHook(store: Store) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.routeOptions.config.public) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = typeof header === "string" ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
      if (!m) throw unauthorized();
      const plaintext = m[1]!;
      const token = await store.verifyToken(plaintext);
      if (!token) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "the bearer token is not valid (unknown or revoked)");
      request.token = token;
      request.stillAuthorized = async () => (await store.verifyToken(plaintext)) !== undefined;
    } else {
      const secret = request.cookies[SESSION_COOKIE];
      if (!secret) throw unauthorized();
      const session = await store.verifySession(secret);
      if (!session) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "the session has ended (signed out, expired, or its token was rotated or revoked): sign in again");
      request.token = session.token;
      request.session = { ...session, secret };
      request.stillAuthorized = async () => (await store.verifySession(secret)) !== undefined;
      if (!SAFE.has(request.method)) checkCsrf(request, secret);
    }
    if (!SAFE.has(request.method) && request.token.role !== "operator") {
      throw new ApiError(403, "FLT-API-FORBIDDEN", `token "${request.token.name}" is read-only; this request needs an operator token`);
    }
  };
}

function unauthorized(): ApiError {
  return new ApiError(401, "FLT-API-UNAUTHORIZED", "a bearer token is required: send `Authorization: Bearer <token>` (or sign in to the dashboard)", "tokens are created by an administrator (flotilla token create); each has the role read-only or operator");
}

/** The name mutations record (requestedBy / setBy). */
export function actor(request: FastifyRequest): string {
  if (!request.token) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "a bearer token is required");
  return request.token.name;
}
