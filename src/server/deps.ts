/**
 * What the HTTP API needs from the rest of Flotilla, injected so that tests (and `serve
 * --simulator`) can wire anything behind it. The server itself only reads and writes the store;
 * everything that touches Git goes through `ControllerPort` (src/api/ports.ts), which the
 * controller implements.
 */
import type { ControllerPort } from "../api/ports.ts";
import type { RepositoryPolicy } from "../controller/server-config.ts";
import type { Masker } from "../core/mask.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "./log.ts";
import type { MetricsSink } from "../core/metrics.ts";
import type { Store } from "../store/store.ts";
import type { DeploymentEventBus } from "./events.ts";
import type { PromMetrics } from "./metrics.ts";
import type { DashboardOptions } from "./web.ts";

export interface ServerDeps {
  store: Store;
  /** What repositories may be (URL forms, local roots, named credentials); default: https and ssh only, no credentials. */
  policy?: RepositoryPolicy;
  /** Time for SSE polling, heartbeats and ages (a VirtualClock in tests). */
  clock: Clock;
  /** Absent: the commit and rollback routes answer 503 FLT-API-UNAVAILABLE (e.g. an API over a store only). */
  controller?: ControllerPort;
  /** Defaults to a fresh prom-client registry (`createMetrics()`); pass the one the engine reports to. */
  metrics?: PromMetrics;
  /** In-process wake-ups for the events stream: a notified stream polls at once instead of waiting for its next tick. */
  events?: DeploymentEventBus;
  /** Masks every API answer and event (src/core/mask.ts); the default rules when absent. */
  masker?: Masker;
  options?: ServerOptions;
}

export interface ServerOptions {
  /** SSE poll interval on `clock` (default 1000 ms). */
  pollIntervalMs?: number;
  /** SSE comment line sent when nothing else was for this long (default 15000 ms). */
  heartbeatMs?: number;
  /** The server's logger (serve passes the one from createLogger, with its secrets); else built from `logger`. */
  log?: Logger;
  /**
   * A logger built with createLogger for this destination, or false (default) for no logs.
   * Credential fields are always redacted and every line masked, whatever is given here.
   */
  logger?: false | { level?: string; stream?: { write(msg: string): void } };
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** The dashboard at `/` (default: the built assets in dist/web); false for none. */
  web?: DashboardOptions | false;
}

export type { MetricsSink };
