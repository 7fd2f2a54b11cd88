/**
 * `POST /webhooks/github`: GitHub push webhooks. Signature checking needs the exact bytes GitHub
 * signed, so this route lives in its own scope with a raw-body parser instead of the API's JSON one.
 * No bearer token: the HMAC signature (X-Hub-Signature-256) is the authentication. The body limit
 * (default 5 MiB; GitHub caps deliveries at 25 MB and a push event is far smaller) applies before the
 * HMAC is checked, so an unauthenticated sender is bounded too.
 */
import type { FastifyInstance } from "fastify";
import type { GithubWebhookPort } from "../api/ports.ts";
import type { WebhookOutcome } from "../api/types.ts";
import { DEFAULTS } from "../controller/server-config.ts";
import { auditDetail } from "./audit.ts";

/**
 * The HTTP status of each outcome. GitHub marks a delivery failed on anything but 2xx, so only a
 * refusal is one: a forged or unsigned delivery 401, a body that is no push event 400, webhooks not
 * configured 404, shutting down 503 (the next poll catches up); what was taken in is 202 (queued) or
 * 200 (nothing to do).
 */
export const WEBHOOK_STATUS: Readonly<Record<WebhookOutcome, number>> = {
  queued: 202,
  "bad-signature": 401,
  invalid: 400,
  disabled: 404,
  stopping: 503,
  duplicate: 200,
  ping: 200,
  "not-a-push": 200,
  "not-a-branch": 200,
  "no-match": 200,
  "already-processed": 200,
};

export function registerGithubWebhook(app: FastifyInstance, handler: GithubWebhookPort, options: { bodyLimit?: number } = {}): void {
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
    scope.post("/webhooks/github", { bodyLimit: options.bodyLimit ?? DEFAULTS.webhookBodyLimit }, async (request, reply) => {
      const r = await handler.handleGithubWebhook({ headers: request.headers, rawBody: typeof request.body === "string" ? request.body : "" });
      const header = (name: string) => (typeof request.headers[name] === "string" ? (request.headers[name]).slice(0, 100) : undefined);
      auditDetail(request, { webhook: { outcome: r.outcome, event: header("x-github-event"), delivery: header("x-github-delivery"), repositories: r.repositories } });
      return reply.code(WEBHOOK_STATUS[r.outcome]).send({ outcome: r.outcome, message: r.message, repositories: r.repositories });
    });
    done();
  });
}
