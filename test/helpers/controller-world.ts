/**
 * The controller as `flotilla serve` wires it, for end-to-end tests: a Git remote, the simulator on
 * a virtual clock, a SQLite store (a file, so CLI verbs can read it too), the Controller with the
 * server's metrics, and the HTTP API listening on a loopback port with its log captured.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { simulatedEngine } from "../../src/app/simulated.ts";
import type { AwsPorts } from "../../src/aws/ports.ts";
import type { Controller, ControllerOptions } from "../../src/controller/controller.ts";
import type { VirtualClock } from "../../src/core/clock.ts";
import { buildServer, createMetrics, DeploymentEventBus, type PromMetrics } from "../../src/server/index.ts";
import type { Simulator } from "../../src/sim/simulator.ts";
import type { Store } from "../../src/store/store.ts";
import { TestRemote } from "./git-remote.ts";
import { TEST_POLICY } from "./policy.ts";

export interface ControllerWorld {
  clock: VirtualClock;
  sim: Simulator;
  store: Store;
  /** The store's file (for `--store` in CLI verbs). */
  storeFile: string;
  remote: TestRemote;
  controller: Controller;
  app: ReturnType<typeof buildServer>;
  metrics: PromMetrics;
  /** The API's base URL on 127.0.0.1. */
  base: string;
  operator: string;
  reader: string;
  /** Log lines the server wrote (JSON). */
  logs: string[];
  /** Warnings the controller reported. */
  warnings: string[];
  api(method: string, url: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: string; json: Record<string, unknown> }>;
  /** Stop this controller and start another on the same store, mirrors and server (a restart). */
  restart(options?: Partial<ControllerOptions>): Promise<Controller>;
  /** Environment for CLI verbs that go through the server. */
  env(token?: string): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function controllerWorld(options: { controller?: Partial<ControllerOptions>; clock?: VirtualClock; register?: boolean; sim?: (clock: VirtualClock) => Simulator; wrap?: (ports: AwsPorts) => AwsPorts; resilient?: boolean } = {}): Promise<ControllerWorld> {
  const dir = mkdtempSync(path.join(tmpdir(), "flotilla-world-"));
  const storeFile = path.join(dir, "flotilla.db");
  // The world's AWS: given (a scenario), or an empty Region with cluster `apps`; the bare simulator's
  // ports unless `resilient` (batching, retries and the rate limiter, as `serve` has them).
  const engine = await simulatedEngine({ ...(options.clock ? { clock: options.clock } : {}), ...(options.sim ? { sim: options.sim } : { clusters: ["apps"] }), ...(options.wrap ? { wrap: options.wrap } : {}), storePath: storeFile, resilient: options.resilient ?? false });
  const { clock, sim, store } = engine;
  const remote = new TestRemote();
  const metrics = createMetrics();
  const events = new DeploymentEventBus();
  const logs: string[] = [];
  const warnings: string[] = [];
  const make = (over: Partial<ControllerOptions> = {}) =>
    engine.controller({
      dataDir: path.join(dir, "data"),
      holder: "test",
      policy: TEST_POLICY,
      concurrency: 4,
      allowDelete: false,
      maxDeleteFraction: 0.5,
      metrics,
      onUpdate: (d) => events.notify(d.id),
      onWarning: (m) => warnings.push(m),
      ...options.controller,
      ...over,
    });
  let controller = make();
  // The server reaches the controller through a port that follows restarts.
  const port = new Proxy({} as Controller, { get: (_t, key) => { const v = (controller as unknown as Record<PropertyKey, unknown>)[key]; return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(controller) : v; } });
  const app = buildServer({ store, clock, controller: port, metrics, events, policy: TEST_POLICY, options: { logger: { level: "info", stream: { write: (m: string) => void logs.push(m) } } } });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const operator = (await store.createToken("alice", "operator")).token;
  const reader = (await store.createToken("dashboard", "read-only")).token;
  if (options.register !== false) await store.addRepository({ name: "apps", url: remote.bare, branch: "main", pollIntervalSeconds: 3600 });
  return {
    clock,
    sim,
    store,
    storeFile,
    remote,
    get controller() {
      return controller;
    },
    app,
    metrics,
    base,
    operator,
    reader,
    logs,
    warnings,
    async api(method, url, o = {}) {
      const r = await app.inject({
        method: method as "GET",
        url,
        headers: { authorization: `Bearer ${o.token ?? operator}`, ...(o.body !== undefined ? { "content-type": "application/json" } : {}), ...o.headers },
        ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
      });
      let json: Record<string, unknown> = {};
      try {
        json = r.json<Record<string, unknown>>();
      } catch {
        // an empty or streamed answer
      }
      return { status: r.statusCode, body: r.body, json };
    },
    async restart(over = {}) {
      await controller.stop();
      controller = make(over);
      return controller;
    },
    env: (token?: string) => ({ FLOTILLA_SERVER: base, FLOTILLA_TOKEN: token ?? operator }),
    async close() {
      await controller.stop();
      await app.close();
      await store.close();
      remote.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
