/**
 * `buildServer(deps)`: the HTTP API as a Fastify instance, not yet listening (tests use
 * `app.inject()`, `flotilla serve` calls `listen`). Routes: `/healthz`, `/readyz`, `/metrics`
 * without auth; everything under `/api/v1` with a bearer token or a dashboard session (see
 * docs/api.md); the dashboard's page and assets at `/` (web.ts, docs/dashboard.md).
 */
import { randomUUID } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import { Ajv } from "ajv";
import { DEFAULTS } from "../controller/server-config.ts";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { defaultMasker } from "../core/mask.ts";
import { registerAudit } from "./audit.ts";
import { authHook } from "./auth.ts";
import { createLogger } from "./log.ts";
import type { ServerDeps } from "./deps.ts";
import { ApiError, errorHandler } from "./errors.ts";
import { createMetrics, type PromMetrics } from "./metrics.ts";
import { commitRoutes } from "./routes/commits.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { eventRoutes, type OpenStreams } from "./routes/events.ts";
import { pendingDeleteRoutes } from "./routes/pending-deletes.ts";
import { rainbowRoutes } from "./routes/rainbow.ts";
import { repositoryRoutes } from "./routes/repositories.ts";
import { windowRoutes } from "./routes/windows.ts";
import { driftRoutes } from "./routes/drift.ts";
import { sessionRoutes } from "./session.ts";
import { registerDashboard } from "./web.ts";

export { REDACTED_LOG_PATHS } from "./log.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** The metrics this server exposes on /metrics (the engine reports to the same object). */
    metrics: PromMetrics;
  }
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const options = deps.options ?? {};
  const log =
    options.log ??
    (options.logger ? createLogger({ clock: deps.clock, destination: options.logger.stream ?? process.stderr, ...(options.logger.level ? { level: options.logger.level } : {}), ...(deps.masker ? { masker: deps.masker } : {}) }) : undefined);
  const app = Fastify({
    // Our own request lines and audit lines (audit.ts) replace Fastify's, which would log URLs and headers.
    ...(log ? { loggerInstance: log } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  registerAudit(app);
  // Unknown properties are rejected, never silently dropped. Query strings, params and headers are
  // text, so they are coerced ("10" → 10, one value → a one-element array); JSON bodies are not
  // ("42" is not a number, 42 is not a string).
  const lenient = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: "array", allErrors: false });
  const strict = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: false, allErrors: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? strict : lenient).compile(schema));
  const metrics = deps.metrics ?? createMetrics();
  metrics.attach(deps.store, deps.clock);
  app.decorate("metrics", metrics);
  app.decorateRequest("token", null);
  app.decorateRequest("session", null);
  app.decorateRequest("stillAuthorized", null);
  void app.register(fastifyCookie);
  if (options.web !== false) registerDashboard(app, options.web ?? {});
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new ApiError(404, "FLT-API-NOT-FOUND", `no route ${request.method} ${request.url.split("?")[0]}`);
  });

  const streams: OpenStreams = { controllers: new Set() };
  app.addHook("preClose", (done) => {
    for (const c of streams.controllers) c.abort();
    done();
  });

  app.get("/healthz", { schema: { querystring: { type: "object", additionalProperties: false, properties: {} } } }, () => ({ status: "ok" }));

  app.get("/readyz", { schema: { querystring: { type: "object", additionalProperties: false, properties: {} } } }, async (request, reply) => {
    try {
      await deps.store.getLease("flotilla:readyz");
      return { status: "ready", store: deps.store.kind };
    } catch (e) {
      request.log.warn({ err: e }, "store unreachable");
      return reply.code(503).send({ status: "unavailable", code: "FLT-API-UNAVAILABLE", message: "the store is unreachable" });
    }
  });

  app.get("/metrics", { schema: { querystring: { type: "object", additionalProperties: false, properties: {} } } }, async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });

  void app.register(
    (api, _opts, done) => {
      api.addHook("onRequest", authHook(deps.store));
      // The one masker over every answer, errors included: a URL with a password, a secret-named value.
      const masker = deps.masker ?? defaultMasker;
      api.addHook("preSerialization", (_request, _reply, payload, done) => done(null, masker.answer(payload)));
      // JSON only: a text/plain body is a 415, not a string that fails validation further on.
      api.removeContentTypeParser("text/plain");
      // A POST without a body counts as `{}` (curl -X POST ...), so its defaults apply.
      api.addHook("preValidation", (request, _reply, next) => {
        if (request.body === undefined && request.method === "POST") request.body = {};
        next();
      });
      sessionRoutes(api, deps.store);
      repositoryRoutes(api, deps);
      commitRoutes(api, deps);
      pendingDeleteRoutes(api, deps);
      windowRoutes(api, deps);
      driftRoutes(api, deps);
      deploymentRoutes(api, deps);
      rainbowRoutes(api, deps);
      eventRoutes(api, deps, streams);
      done();
    },
    { prefix: "/api/v1" },
  );
  return app;
}
