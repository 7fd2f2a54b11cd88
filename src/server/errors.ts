/**
 * Every API error is JSON `{ code, message }` (plus `hint` when there is one), with a stable
 * problem code from src/core/codes.ts. FlotillaErrors from the store or the controller keep their
 * code and map to an HTTP status; anything unexpected is a 500 whose details stay in the log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { ProblemCode } from "../core/codes.ts";
import { FlotillaError, isFlotillaError } from "../core/problems.ts";

export class ApiError extends FlotillaError {
  readonly statusCode: number;
  constructor(statusCode: number, code: ProblemCode, message: string, hint?: string) {
    super({ code, message, ...(hint ? { hint } : {}) });
    this.name = "ApiError";
    this.statusCode = statusCode;
  }
}

const STATUS: Partial<Record<ProblemCode, number>> = {
  "FLT-API-UNAUTHORIZED": 401,
  "FLT-API-FORBIDDEN": 403,
  "FLT-API-INVALID-REQUEST": 400,
  "FLT-API-NOT-FOUND": 404,
  "FLT-API-UNAVAILABLE": 503,
  "FLT-STORE-NOT-FOUND": 404,
  "FLT-OBJECT-NOT-FOUND": 404,
  "FLT-GIT-UNKNOWN-REVISION": 404,
  "FLT-STORE-CONFLICT": 409,
  "FLT-STORE-ACTIVE-DEPLOYMENT": 409,
  "FLT-STORE-DEPLOYMENT-FINISHED": 409,
  "FLT-STORE-DUPLICATE": 409,
  "FLT-WINDOW-CLOSED": 409,
  "FLT-WINDOW-NOT-WAITING": 409,
  "FLT-DRIFT-OFF": 409,
  "FLT-STORE-INVALID": 400,
  "FLT-CLI-USAGE": 400,
  "FLT-COMMIT-AMBIGUOUS": 400,
  "FLT-REPO-URL-FORBIDDEN": 400,
  "FLT-REPO-BRANCH-INVALID": 400,
  "FLT-REPO-PATH-INVALID": 400,
  "FLT-CREDENTIAL-UNKNOWN": 400,
  "FLT-CREDENTIAL-TRANSPORT": 400,
  "FLT-CREDENTIAL-HOST": 400,
  "FLT-CREDENTIAL-LEGACY": 400,
  "FLT-API-BODY-TOO-LARGE": 413,
  "FLT-GIT-FAILED": 502,
  "FLT-INTERNAL": 500,
};

/** The HTTP status for a problem code (a FlotillaError not listed is a 422: understood, not processable). */
export function statusFor(code: ProblemCode): number {
  return STATUS[code] ?? 422;
}

export interface ErrorBody {
  code: ProblemCode;
  message: string;
  hint?: string;
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const send = (status: number, body: ErrorBody) => {
    request.problemCode = body.code;
    void reply.code(status).type("application/json").send(body);
  };
  if (error instanceof ApiError) {
    if (error.statusCode === 401) void reply.header("www-authenticate", "Bearer");
    return send(error.statusCode, body(error));
  }
  if (isFlotillaError(error)) return send(statusFor(error.code), body(error));
  const fe = error as FastifyError;
  if (fe.validation) {
    return send(400, { code: "FLT-API-INVALID-REQUEST", message: `invalid request: ${fe.message}` });
  }
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE" || fe.statusCode === 413) {
    return send(413, { code: "FLT-API-BODY-TOO-LARGE", message: "the request body is larger than this server accepts", hint: "the limits are http.bodyLimit (API) and http.webhookBodyLimit (webhooks) in the server configuration" });
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors: bad JSON, empty JSON body, unsupported media type.
    return send(fe.statusCode, { code: fe.statusCode === 404 ? "FLT-API-NOT-FOUND" : "FLT-API-INVALID-REQUEST", message: fe.message });
  }
  request.log.error({ err: error }, "unexpected error");
  send(500, { code: "FLT-INTERNAL", message: "internal error; the server log has the details" });
}

function body(e: FlotillaError): ErrorBody {
  return { code: e.code, message: e.problem.message, ...(e.problem.hint ? { hint: e.problem.hint } : {}) };
}

export function notFound(what: string): ApiError {
  return new ApiError(404, "FLT-API-NOT-FOUND", `${what} not found`);
}
