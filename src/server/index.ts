/** The HTTP API: see docs/api.md. */
export { buildServer, REDACTED_LOG_PATHS } from "./server.ts";
export type { ServerDeps, ServerOptions } from "./deps.ts";
export { DeploymentEventBus, EventCursor, formatPosition, parsePosition } from "./events.ts";
export { PromMetrics, createMetrics } from "./metrics.ts";
export { ApiError, statusFor } from "./errors.ts";
