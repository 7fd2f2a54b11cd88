/**
 * Dashboard sign-in. A person pastes a token once; `POST /api/v1/session` exchanges it for a session
 * whose random secret travels only in an httpOnly, SameSite=Strict cookie (the page's scripts never
 * see it, and nothing is kept in localStorage). The store keeps the secret's hash and the hash the
 * token had, so rotating or revoking the token ends its sessions at the next request.
 *
 * Changes made with the cookie are CSRF-safe three ways: the browser sends a SameSite=Strict cookie
 * only with same-site requests; every such change must carry `X-CSRF-Token`, derived from the
 * session's secret and readable only by a same-origin script (`GET /api/v1/session`); and an
 * `Origin` header, when the browser sends one, must be the server's own.
 */
import { createHash, timingSafeEqual } from "node:crypto";
// The cookie plugin's typings (request.cookies, reply.setCookie), also where server.ts is not part of the program.
import type {} from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/store.ts";
import type { Session } from "../store/types.ts";
import { ApiError } from "./errors.ts";

export const SESSION_COOKIE = "flotilla_session";
export const CSRF_HEADER = "x-csrf-token";
/** How long a session lasts (absolute, from sign-in). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** What `GET /api/v1/session` answers: who is signed in, and what the page needs to make changes. */
export interface SessionInfo {
  name: string;
  role: "read-only" | "operator";
  /** `session`: the dashboard's cookie; `bearer`: an Authorization header. */
  via: "session" | "bearer";
  /** ISO 8601; null for a bearer token. */
  expiresAt: string | null;
  /** Send as `X-CSRF-Token` with every change made through the session; null for a bearer token. */
  csrfToken: string | null;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set when the request was authenticated by a dashboard session cookie. */
    session: (Session & { secret: string }) | null;
  }
  interface FastifyContextConfig {
    /** A route under /api/v1 that answers without a token (sign-in, sign-out). */
    public?: boolean;
  }
}

/** The CSRF token of a session: a hash of its secret, so nothing more is stored and it cannot be guessed. */
export function csrfToken(secret: string): string {
  return createHash("sha256").update(`flotilla-csrf\0${secret}`, "utf8").digest("base64url");
}

/** Refuses a cookie-authenticated change without the session's CSRF token, or from another origin. */
export function checkCsrf(request: FastifyRequest, secret: string): void {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "null" && origin !== ownOrigin(request)) {
    throw new ApiError(403, "FLT-API-CSRF", `a change with a session cookie from another origin (${origin.slice(0, 200)}) is refused`);
  }
  if (origin === "null") throw new ApiError(403, "FLT-API-CSRF", "a change with a session cookie from an opaque origin is refused");
  const sent = request.headers[CSRF_HEADER];
  const expected = Buffer.from(csrfToken(secret));
  const given = Buffer.from(typeof sent === "string" ? sent : "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(403, "FLT-API-CSRF", "a change with a session cookie needs the session's X-CSRF-Token header", "the dashboard sends it by itself; scripts should use `Authorization: Bearer <token>`");
  }
}

function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  void reply.setCookie(SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: "strict",
    path: "/",
    // Over plain HTTP (a loopback address, a TLS-terminating proxy) a Secure cookie would not come back.
    secure: request.protocol === "https",
    maxAge: maxAgeSeconds,
  });
}

function info(session: Session, via: "session" | "bearer", secret: string | null): SessionInfo {
  return {
    name: session.token.name,
    role: session.token.role,
    via,
    expiresAt: via === "session" ? new Date(session.expiresAt).toISOString() : null,
    csrfToken: secret ? csrfToken(secret) : null,
  };
}

const signInBody = {
  type: "object",
  required: ["token"],
  additionalProperties: false,
  properties: { token: { type: "string", minLength: 1, maxLength: 512 } },
} as const;
const noQuery = { type: "object", additionalProperties: false, properties: {} } as const;

/** `/session` routes under the /api/v1 prefix (the auth hook lets the public ones through). */
export function sessionRoutes(app: FastifyInstance, store: Store): void {
  app.post<{ Body: { token: string } }>("/session", { config: { public: true }, schema: { body: signInBody, querystring: noQuery } }, async (request, reply) => {
    // Login CSRF: a page elsewhere must not sign this browser in with its own token.
    const origin = request.headers.origin;
    if (typeof origin === "string" && origin !== ownOrigin(request)) throw new ApiError(403, "FLT-API-CSRF", "sign-in from another origin is refused");
    const created = await store.createSession(request.body.token.trim(), SESSION_TTL_MS);
    if (!created) throw new ApiError(401, "FLT-API-UNAUTHORIZED", "the token is not valid (unknown, rotated or revoked)");
    request.token = created.session.token;
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await store.deleteSession(previous);
    setCookie(request, reply, created.secret, Math.floor(SESSION_TTL_MS / 1000));
    void reply.header("cache-control", "no-store");
    return reply.code(201).send(info(created.session, "session", created.secret));
  });

  app.get("/session", { schema: { querystring: noQuery } }, (request, reply) => {
    void reply.header("cache-control", "no-store");
    if (request.session) return info(request.session, "session", request.session.secret);
    const token = request.token!;
    return info({ token, createdAt: token.createdAt, expiresAt: 0 }, "bearer", null);
  });

  // Sign-out works whatever state the session is in: the cookie is cleared either way.
  app.delete("/session", { config: { public: true }, schema: { querystring: noQuery } }, async (request, reply) => {
    const secret = request.cookies[SESSION_COOKIE];
    if (secret) {
      const session = await store.verifySession(secret);
      if (session) request.token = session.token;
      await store.deleteSession(secret);
    }
    setCookie(request, reply, "", 0);
    return reply.code(204).send();
  });
}
