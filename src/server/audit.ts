/**
 * The audit log: one line per request that changes something or was refused, written when the answer
 * has been sent — every `/api/v1` mutation whatever its outcome, every `/api/v1` request refused for
 * its token (401/403), and every webhook delivery (a bad signature is a refused one). Each line says
 * who (the token's *name*, never the token), what (action, method, route pattern, target), the
 * outcome (`ok`, `refused` for a 4xx, `failed` for a 5xx), the status and code, and the request id
 * (also sent back as `X-Request-Id`). Bodies, headers and query strings are never logged.
 *
 * Other requests get one `debug` line (method, route, status, time), so a busy dashboard does not
 * flood the log at `info`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ProblemCode } from "../core/codes.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The problem code of the error answer, set by the error handler. */
    problemCode: ProblemCode | null;
    /** What a route adds to its audit line (a created deployment's id, a webhook's outcome, ...). */
    auditDetail: Record<string, unknown> | null;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Stable action names for the routes that change something. */
function actionOf(method: string, route: string, params: Record<string, unknown>): string {
  switch (`${method} ${route}`) {
    case "POST /api/v1/repositories":
      return "repository.add";
    case "PATCH /api/v1/repositories/:name":
      return "repository.update";
    case "DELETE /api/v1/repositories/:name":
      return "repository.remove";
    case "POST /api/v1/repositories/:name/commits/:sha/deploy":
      return "commit.deploy";
    case "POST /api/v1/deployments/:id/:action":
      return typeof params["action"] === "string" && /^[a-z]{1,16}$/.test(params["action"]) ? `deployment.${params["action"]}` : "deployment.control";
    case "POST /api/v1/rollback":
      return "object.rollback";
    case "POST /api/v1/cutover":
      return "object.cutover";
    case "POST /api/v1/cleanup":
      return "object.cleanup";
    case "POST /api/v1/session":
      return "session.create";
    case "DELETE /api/v1/session":
      return "session.delete";
    case "POST /api/v1/pending-deletes/confirm":
      return "pending-delete.confirm";
    case "POST /api/v1/pending-deletes/dismiss":
      return "pending-delete.dismiss";
    case "POST /api/v1/waiting-commits/release":
      return "waiting-commit.release";
    case "POST /api/v1/drift/check":
      return "drift.check";
    case "POST /webhooks/github":
      return "webhook.github";
    default:
      return SAFE.has(method) ? "read" : "change";
  }
}

/** What the request acts on, from its route parameters and the few body fields that name a target. */
function targetOf(request: FastifyRequest): Record<string, unknown> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const body = request.body && typeof request.body === "object" && !Array.isArray(request.body) ? (request.body as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === "string" && v.length <= 1024 ? v : undefined);
  const target: Record<string, unknown> = {};
  const repository = text(params["name"]) ?? (request.routeOptions.url === "/api/v1/repositories" ? text(body["name"]) : text(body["repository"]));
  if (repository) target["repository"] = repository;
  if (text(params["sha"])) target["commit"] = params["sha"];
  if (text(params["id"])) target["deployment"] = params["id"];
  if (text(body["object"])) target["object"] = body["object"];
  if (request.method === "PATCH" && Object.keys(body).length) target["fields"] = Object.keys(body).slice(0, 20);
  if (Array.isArray(body["overrides"])) target["overrides"] = body["overrides"].filter((o) => typeof o === "string").slice(0, 10);
  if (body["force"] === true) target["force"] = true;
  if (text(body["version"])) target["version"] = body["version"];
  if (body["dryRun"] === true) target["dryRun"] = true;
  return target;
}

function audited(request: FastifyRequest, status: number): boolean {
  const url = request.routeOptions.url ?? "";
  if (url === "/webhooks/github") return true;
  if (!request.url.startsWith("/api/v1")) return false;
  return !SAFE.has(request.method) || status === 401 || status === 403;
}

function onResponse(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const status = reply.statusCode;
  const route = request.routeOptions.url ?? request.url.split("?")[0] ?? "";
  if (!audited(request, status)) {
    request.log.debug({ requestId: request.id, method: request.method, route, status, ms: Math.round(reply.elapsedTime) }, "request");
    return done();
  }
  const outcome = status >= 500 ? "failed" : status >= 400 ? "refused" : "ok";
  const action = actionOf(request.method, route, (request.params ?? {}) as Record<string, unknown>);
  const audit = {
    requestId: request.id,
    action,
    by: request.token?.name ?? null,
    ...(request.session ? { via: "session" } : {}),
    method: request.method,
    route,
    target: targetOf(request),
    outcome,
    status,
    ...(request.problemCode ? { code: request.problemCode } : {}),
    ...(request.auditDetail ?? {}),
    remoteAddress: request.ip,
  };
  const line = `audit ${action} ${outcome}`;
  if (outcome === "ok") request.log.info({ audit }, line);
  else if (outcome === "refused") request.log.warn({ audit }, line);
  else request.log.error({ audit }, line);
  done();
}

/** Registers the audit hook and the request-id answer header on the whole server. */
export function registerAudit(app: FastifyInstance): void {
  app.decorateRequest("problemCode", null);
  app.decorateRequest("auditDetail", null);
  app.addHook("onSend", (request, reply, payload, done) => {
    void reply.header("x-request-id", request.id);
    done(null, payload);
  });
  app.addHook("onResponse", onResponse);
}

/** Adds fields to the request's audit line. */
export function auditDetail(request: FastifyRequest, detail: Record<string, unknown>): void {
  request.auditDetail = { ...(request.auditDetail ?? {}), ...detail };
}
