/**
 * The simulator as an AWS endpoint (`flotilla sim serve`): one HTTP port speaking the wire
 * protocols the AWS SDK uses for ECS (JSON 1.1), ELBv2 (Query/XML), CloudWatch (JSON 1.0 with
 * query compatibility, and Query) and EC2's default-VPC calls, so any process with
 * `AWS_ENDPOINT_URL` pointing here talks to the same simulated world. One model, two front doors:
 * every call goes through the simulator's own API layer (src/sim/ecs-api.ts, elb-api.ts), the
 * same one the in-process ports use.
 *
 * Time is real time × speed. Calls are taken one at a time in arrival order (the "lane"): time is
 * moved to now, the call is journaled (with --state) and started, and the next waits until it has
 * run or is waiting on the simulated clock (injected latency). That order is what the journal
 * records, so replaying it rebuilds the same world (journal.ts).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { loadScenario, runScriptStep, type ScriptStep } from "../scenario.ts";
import type { Simulator } from "../simulator.ts";
import { snapshot } from "../snapshot.ts";
import { RouteError } from "../routing.ts";
import { parseDuration } from "../ids.ts";
import { SteppedClock } from "./clock.ts";
import { ec2Describe } from "./ec2.ts";
import { renderError, WireError } from "./errors.ts";
import { Journal, type JournalEntry, type JournalHeader } from "./journal.ts";
import type { Rec } from "./operation.ts";
import { classify, operationSchema, SERVICES, shapesOf, type Caller, type WireCall } from "./protocol.ts";
import { RequestLog, resourceOf, type RequestRecord } from "./request-log.ts";
import { mergeScenarios, type ScenarioSource } from "./scenarios.ts";
import { outputSchema, queryResponseXml, toJson } from "./serde.ts";

export interface SimServerOptions {
  scenarios?: readonly ScenarioSource[];
  /** Simulated seconds per real second (default 1). */
  speed?: number;
  /** Persist the world to this journal and continue from it on the next start. */
  statePath?: string;
  host?: string;
  /** 0 picks a free port; read it from `url`. */
  port?: number;
  /** Real time, epoch ms (tests inject their own). */
  realNow?: () => number;
  requestLogSize?: number;
  /** Told about every answered request (`--verbose`). */
  onRequest?: (r: RequestRecord) => void;
  onWarning?: (message: string) => void;
}

const MAX_BODY = 8 * 1024 * 1024;
const TICK_MS = 20;
const FLUSH_MS = 1_000;

/** Run one call against the simulator: the one path for live requests and journal replay. */
export function dispatch(sim: Simulator, call: WireCall): Promise<Rec | undefined> {
  const handler = SERVICES[call.service].operations[call.operation];
  if (!handler) return Promise.reject(new WireError("UnknownOperationException", `${call.service} ${call.operation} is not modelled`, 400));
  return handler(sim, call.input);
}

export class SimServer {
  readonly sim: Simulator;
  readonly clock: SteppedClock;
  readonly log: RequestLog;
  readonly speed: number;
  /** How many journaled calls the start replayed (0 for a fresh world). */
  readonly replayed: number;
  private readonly http: Server;
  private readonly journal: Journal | undefined;
  private readonly realNow: () => number;
  private readonly steps: (ScriptStep & { atMs: number })[];
  private nextStep: number;
  private base = 0;
  private realBase = 0;
  private lane: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly onRequest: ((r: RequestRecord) => void) | undefined;
  url = "";

  private constructor(init: { sim: Simulator; clock: SteppedClock; journal: Journal | undefined; steps: (ScriptStep & { atMs: number })[]; nextStep: number; replayed: number; options: SimServerOptions }) {
    this.sim = init.sim;
    this.clock = init.clock;
    this.journal = init.journal;
    this.steps = init.steps;
    this.nextStep = init.nextStep;
    this.replayed = init.replayed;
    this.speed = init.options.speed ?? 1;
    this.realNow = init.options.realNow ?? Date.now;
    this.log = new RequestLog(init.options.requestLogSize);
    this.onRequest = init.options.onRequest;
    this.http = createServer((req, res) => void this.onHttp(req, res));
    this.http.keepAliveTimeout = 65_000;
  }

  /** Build the world (from the scenarios, or by replaying the state file), then listen. */
  static async start(options: SimServerOptions = {}): Promise<SimServer> {
    const speed = options.speed ?? 1;
    if (!(speed > 0)) throw new RangeError("speed must be a positive number");
    const realNow = options.realNow ?? Date.now;
    const given = options.scenarios ?? [];
    const fresh = mergeScenarios(given);
    const header: JournalHeader = {
      format: "flotilla-sim-state",
      version: 1,
      start: fresh.scenario.start ? Date.parse(fresh.scenario.start) : realNow(),
      scenarios: given.map((s) => s.data),
      labels: given.map((s) => s.label),
    };
    let journal: Journal | undefined;
    let entries: JournalEntry[] = [];
    let saved = header;
    if (options.statePath) {
      const opened = Journal.open(options.statePath, header);
      journal = opened.journal;
      entries = opened.entries;
      saved = opened.header;
      if (opened.resumed && given.length > 0 && JSON.stringify(saved.scenarios) !== JSON.stringify(header.scenarios)) {
        options.onWarning?.(`${options.statePath} holds a world built from other scenarios (${saved.labels.join(", ") || "none"}); continuing that world (delete the file to start over)`);
      }
    }
    const { scenario, label } = mergeScenarios(saved.scenarios.map((data, i) => ({ data, label: saved.labels[i] ?? `scenario ${i + 1}` })));
    const clock = new SteppedClock(saved.start);
    const sim = loadScenario(scenario, clock, label);
    const steps = scenario.script.map((s) => ({ ...s, atMs: parseDuration(s.at) })).sort((a, b) => a.atMs - b.atMs);

    // Replay: the same calls at the same instants, in the same order, through the same path.
    let nextStep = 0;
    for (const e of entries) {
      if ("now" in e) {
        await clock.advanceTo(e.now);
        continue;
      }
      await clock.advanceTo(e.t);
      await clock.start<unknown>(() => ("call" in e ? dispatch(sim, e.call) : runScriptStep(sim, sim.ports(), steps[e.script]!)));
      if ("script" in e) nextStep = e.script + 1;
    }

    const server = new SimServer({ sim, clock, journal, steps, nextStep, replayed: entries.filter((e) => !("now" in e)).length, options });
    server.base = clock.now();
    server.realBase = realNow();
    await new Promise<void>((resolve, reject) => {
      server.http.once("error", reject);
      server.http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.http.off("error", reject);
        resolve();
      });
    });
    const addr = server.http.address() as AddressInfo;
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    server.url = `http://${host}:${addr.port}`;
    server.timers = [
      setInterval(() => server.tick(), TICK_MS),
      setInterval(() => void server.flush().catch(() => undefined), FLUSH_MS),
    ];
    for (const t of server.timers) t.unref();
    return server;
  }

  /** The simulated instant real time has reached. */
  target(): number {
    return this.base + Math.floor((this.realNow() - this.realBase) * this.speed);
  }

  private step<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lane.then(fn);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Move simulated time to `t`, running the scenario's script steps that fall due on the way, each at its own instant. */
  private async catchUp(t: number): Promise<void> {
    for (let s = this.steps[this.nextStep]; s && this.sim.startedAt + s.atMs <= t; s = this.steps[this.nextStep]) {
      const index = this.nextStep++;
      await this.clock.advanceTo(this.sim.startedAt + s.atMs);
      this.journal?.append({ t: this.clock.now(), script: index });
      await this.clock.start(() => runScriptStep(this.sim, this.sim.ports(), s));
    }
    await this.clock.advanceTo(t);
  }

  /** Wake sleepers and run script steps that real time has reached, even with no request coming in. */
  private tick(): void {
    const t = this.target();
    const wake = this.clock.nextWake();
    const step = this.steps[this.nextStep];
    if ((wake !== undefined && wake <= t) || (step && this.sim.startedAt + step.atMs <= t)) void this.step(() => this.catchUp(t));
  }

  /** Mark how far time got and flush the journal to disk. */
  private flush(): Promise<void> {
    if (!this.journal) return Promise.resolve();
    return this.step(async () => {
      await this.catchUp(this.target());
      this.journal?.append({ now: this.clock.now() });
      this.journal?.sync();
    });
  }

  /** Take a call in its turn; resolves with its outcome once it has run. */
  private async execute(call: WireCall): Promise<{ t: number; outcome: Promise<Rec | undefined> }> {
    return this.step(async () => {
      await this.catchUp(this.target());
      const t = this.clock.now();
      this.journal?.append({ t, call });
      const { outcome } = await this.clock.start(() => dispatch(this.sim, call));
      return { t, outcome };
    });
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const received = this.realNow();
    try {
      const url = new URL(req.url ?? "/", "http://simulator");
      if (url.pathname.startsWith("/_flotilla/")) return await this.admin(url, res);
      if (req.method !== "POST") return send(res, 404, { "content-type": "application/json" }, JSON.stringify({ message: "AWS API calls are POST requests; /_flotilla/health, /_flotilla/requests, /_flotilla/world and /_flotilla/route are the simulator's own pages." }));
      const body = await readBody(req);
      const c = classify(req.headers, body, this.sim.region);
      if (c.request instanceof WireError) {
        const r = renderError(c.request, c.style, c.shapes, requestId);
        this.record(c.caller, "?", targetOperation(req, body), this.clock.now(), r.status, c.request.code);
        return send(res, r.status, r.headers, r.body);
      }
      if (c.request.kind === "ec2") {
        const { operation, params } = c.request;
        try {
          const xml = ec2Describe(operation, params, this.sim.region, this.sim.account, requestId);
          this.record(c.caller, "EC2", operation, this.clock.now(), 200);
          return send(res, 200, { "content-type": "text/xml", "x-amzn-requestid": requestId }, xml);
        } catch (e) {
          const r = renderError(e, c.style, c.shapes, requestId);
          this.record(c.caller, "EC2", operation, this.clock.now(), r.status, e instanceof WireError ? e.code : "InternalError");
          return send(res, r.status, r.headers, r.body);
        }
      }
      const { call, protocol } = c.request;
      const { t, outcome } = await this.execute(call);
      let output: Rec | undefined;
      try {
        output = await outcome;
      } catch (e) {
        const r = renderError(e, c.style, c.shapes, requestId);
        this.record(c.caller, call.service, call.operation, t, r.status, errorCode(e), call.input, received);
        return send(res, r.status, r.headers, r.body);
      }
      const schema = outputSchema(operationSchema(call.service, call.operation)!);
      const service = SERVICES[call.service];
      this.record(c.caller, call.service, call.operation, t, 200, undefined, call.input, received);
      if (protocol === "json") return send(res, 200, { "content-type": service.json!.contentType, "x-amzn-requestid": requestId }, JSON.stringify(toJson(schema, output ?? {}) ?? {}));
      return send(res, 200, { "content-type": "text/xml", "x-amzn-requestid": requestId }, queryResponseXml(call.operation, service.query!.xmlns, schema, output, requestId));
    } catch (e) {
      if (e instanceof WireError) return send(res, e.status, { "content-type": "application/json" }, JSON.stringify({ __type: e.code, message: e.message }));
      const r = renderError(e, { kind: "json", contentType: "application/json", queryCompatible: false }, shapesOf("ECS"), requestId);
      return send(res, r.status, r.headers, r.body);
    }
  }

  private record(caller: Caller, service: string, operation: string, t: number, status: number, error?: string, input?: Rec, received?: number): void {
    const resource = input ? resourceOf(input) : undefined;
    const r = this.log.add({
      at: new Date(t).toISOString(),
      wallTime: new Date(this.realNow()).toISOString(),
      ...(received !== undefined ? { receivedAt: new Date(received).toISOString() } : {}),
      service,
      operation,
      caller: caller.id,
      ...(caller.app ? { app: caller.app } : {}),
      status,
      ...(error ? { error } : {}),
      ...(resource ? { resource } : {}),
      ...(input ? { input } : {}),
    });
    this.onRequest?.(r);
  }

  private async admin(url: URL, res: ServerResponse): Promise<void> {
    const json = (status: number, v: unknown) => send(res, status, { "content-type": "application/json" }, JSON.stringify(v));
    switch (url.pathname) {
      case "/_flotilla/health":
        return json(200, { ok: true, region: this.sim.region, account: this.sim.account, speed: this.speed, now: new Date(this.clock.now()).toISOString(), startedAt: new Date(this.sim.startedAt).toISOString() });
      case "/_flotilla/requests": {
        const q = url.searchParams;
        const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
        const since = num("since");
        const limit = num("limit");
        return json(200, this.log.query({
          ...(since !== undefined ? { since } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(q.get("service") ? { service: q.get("service")! } : {}),
          ...(q.get("operation") ? { operation: q.get("operation")! } : {}),
          ...(q.get("caller") ? { caller: q.get("caller")! } : {}),
          inputs: q.get("inputs") === "1" || q.get("inputs") === "true",
        }));
      }
      case "/_flotilla/route": {
        // Which listener rule, target groups and services a request would reach (routing.ts).
        const q = url.searchParams;
        const port = q.get("port");
        const headers: Record<string, string> = {};
        for (const h of q.getAll("header")) {
          const i = h.indexOf(":");
          if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
        }
        const host = q.get("host");
        if (!host) return json(400, { message: "give host=, and path=, header=Name:Value, loadBalancer=, port= as needed" });
        const answer = await this.step(async () => {
          await this.catchUp(this.target());
          try {
            return { ok: true as const, route: this.sim.route({ host, ...(q.get("path") ? { path: q.get("path")! } : {}), ...(q.get("loadBalancer") ? { loadBalancer: q.get("loadBalancer")! } : {}), ...(port ? { port: Number(port) } : {}), ...(q.get("method") ? { method: q.get("method")! } : {}), headers }) };
          } catch (e) {
            if (e instanceof RouteError) return { ok: false as const, message: e.message };
            throw e;
          }
        });
        return answer.ok ? json(200, answer.route) : json(400, { message: answer.message });
      }
      case "/_flotilla/world": {
        const picture = await this.step(async () => {
          await this.catchUp(this.target());
          this.sim.sync();
          return snapshot(this.sim);
        });
        return json(200, picture);
      }
      default:
        return json(404, { message: `no such page: ${url.pathname}` });
    }
  }

  /** Stop listening, mark the time reached and close the journal. Calls in flight are cut off. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await this.flush();
    await closed;
    this.journal?.close();
  }
}

function errorCode(e: unknown): string {
  return e instanceof Error && "name" in e && e.name !== "Error" ? (e instanceof WireError ? e.code : e.name) : "InternalFailure";
}

/** For the log of requests that could not be read: the operation they named, if any. */
function targetOperation(req: IncomingMessage, body: string): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.slice(target.lastIndexOf(".") + 1);
  return new URLSearchParams(body).get("Action") ?? "?";
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new WireError("RequestEntityTooLarge", `The request body is larger than ${MAX_BODY} bytes.`, 413);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  return (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
}
