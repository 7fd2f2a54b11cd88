/**
 * `GET /api/v1/events`: deployment events as server-sent events, from the moment of connecting
 * (or after `Last-Event-ID`), optionally for one deployment or one object. See ../events.ts for
 * how the stream reads the store and what its ids mean.
 */
import type { FastifyInstance } from "fastify";
import { defaultMasker } from "../../core/mask.ts";
import { activityRecord, commitRecordJson, eventRecord } from "../../store/record.ts";
import type { ServerDeps } from "../deps.ts";
import { ApiError, notFound } from "../errors.ts";
import { EventCursor, parsePosition, type StreamFilter } from "../events.ts";
import { eventsQuery } from "../schemas.ts";

export interface OpenStreams {
  readonly controllers: Set<AbortController>;
}

export function eventRoutes(app: FastifyInstance, deps: ServerDeps, streams: OpenStreams): void {
  const { store, clock } = deps;
  const masker = deps.masker ?? defaultMasker;
  const pollMs = deps.options?.pollIntervalMs ?? 1000;
  const heartbeatMs = deps.options?.heartbeatMs ?? 15_000;

  app.get<{ Querystring: { deployment?: string; object?: string; type?: "deployment" | "commit" | "activity"; limit?: number }; Headers: { "last-event-id"?: string } }>(
    "/events",
    { schema: { querystring: eventsQuery, headers: { type: "object", properties: { "last-event-id": { type: "string", maxLength: 8192 } } } } },
    async (request, reply) => {
      const q = request.query;
      const filter: StreamFilter = { ...(q.deployment ? { deployment: q.deployment } : {}), ...(q.object ? { object: q.object } : {}), ...(q.type ? { type: q.type } : {}) };
      if (filter.deployment && !(await store.getDeployment(filter.deployment))) throw notFound(`deployment ${filter.deployment}`);
      const lastId = request.headers["last-event-id"];
      let cursor: EventCursor;
      if (lastId !== undefined && lastId.trim() !== "") {
        const position = parsePosition(lastId);
        if (!position) throw new ApiError(400, "FLT-API-INVALID-REQUEST", "invalid request: Last-Event-ID is not an id this stream sent");
        cursor = EventCursor.resume(store, filter, position);
      } else {
        cursor = await EventCursor.fromNow(store, filter, clock.now());
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write(`retry: ${Math.max(1000, pollMs)}\n: connected\n\n`);

      const done = new AbortController();
      streams.controllers.add(done);
      const stop = () => done.abort();
      request.raw.on("close", stop);
      res.on("close", stop);
      let wake: AbortController | undefined;
      let woken = false;
      const unsubscribe = deps.events?.subscribe(() => {
        woken = true;
        wake?.abort();
      });

      const run = async () => {
        let sent = 0;
        let lastWrite = clock.now();
        let lastCheck = clock.now();
        try {
          while (!done.signal.aborted) {
            woken = false;
            const batch = await cursor.poll();
            // A stream outlives the request that opened it: it ends when its token or session does
            // (checked before anything is sent, and from time to time while nothing is).
            if (request.stillAuthorized && (batch.length > 0 || clock.now() - lastCheck >= heartbeatMs)) {
              lastCheck = clock.now();
              if (!(await request.stillAuthorized())) {
                res.write(`event: error\ndata: ${JSON.stringify({ code: "FLT-API-UNAUTHORIZED", message: "the token or session of this stream is no longer valid" })}\n\n`);
                return;
              }
            }
            for (const s of batch) {
              if (done.signal.aborted) return;
              const data = s.kind === "commit" ? masker.answer(commitRecordJson(s.record)) : s.kind === "activity" ? masker.answer(activityRecord(s.activity)) : masker.answer({ ...eventRecord(s.event), object: s.deployment.object, repository: s.deployment.repository, phase: s.deployment.phase });
              res.write(`id: ${s.id}\nevent: ${s.kind}\ndata: ${JSON.stringify(data)}\n\n`);
              lastWrite = clock.now();
              if (q.limit !== undefined && ++sent >= q.limit) return;
            }
            if (clock.now() - lastWrite >= heartbeatMs) {
              res.write(": keepalive\n\n");
              lastWrite = clock.now();
            }
            if (woken) continue;
            wake = new AbortController();
            try {
              await clock.sleep(pollMs, AbortSignal.any([done.signal, wake.signal]));
            } catch {
              // woken by the bus, or the stream ended
            }
          }
        } catch (e) {
          request.log.error({ err: e }, "event stream failed");
          if (!res.writableEnded) res.write(`event: error\ndata: ${JSON.stringify({ code: "FLT-API-UNAVAILABLE", message: "the event stream failed; reconnect with Last-Event-ID" })}\n\n`);
        } finally {
          unsubscribe?.();
          streams.controllers.delete(done);
          done.abort();
          if (!res.writableEnded) res.end();
        }
      };
      void run();
    },
  );
}
