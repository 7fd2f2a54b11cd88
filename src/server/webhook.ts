/**
 * `POST /webhooks/github`: GitHub push webhooks. Signature checking needs the exact bytes GitHub
 * signed, so this route lives in its own scope with a raw-body parser instead of the API's JSON one.
 * No bearer token: the HMAC signature (X-Hub-Signature-256) is the authentication. The body limit
 * (default 5 MiB; GitHub caps deliveries at 25 MB and a push event is far smaller) applies before the
 * HMAC is checked, so an unauthenticated sender is bounded too.
 */
import type { FastifyInstance } from "fastify";
import { DEFAULTS } from "../controller/server-config.ts";
import { auditDetail } from "./audit.ts";

export interface GithubWebhookHandler {
  handleGithubWebhook(request: { headers: Record<string, string | string[] | undefined>; rawBody: string }): Promise<{ status: number; outcome: string; message: string; repositories: string[] }>;
}

export function registerGithubWebhook(app: FastifyInstance, handler: GithubWebhookHandler, options: { bodyLimit?: number } = {}): void {
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
    scope.post("/webhooks/github", { bodyLimit: options.bodyLimit ?? DEFAULTS.webhookBodyLimit }, async (request, reply) => {
      const r = await handler.handleGithubWebhook({ headers: request.headers, rawBody: typeof request.body === "string" ? request.body : "" });
      const header = (name: string) => (typeof request.headers[name] === "string" ? (request.headers[name]).slice(0, 100) : undefined);
      auditDetail(request, { webhook: { outcome: r.outcome, event: header("x-github-event"), delivery: header("x-github-delivery"), repositories: r.repositories } });
      return reply.code(r.status).send({ outcome: r.outcome, message: r.message, repositories: r.repositories });
    });
    done();
  });
}
