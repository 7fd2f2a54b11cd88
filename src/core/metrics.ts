/**
 * What the engine reports for Prometheus, as a narrow interface so that `aws/`, `deploy/` and
 * `controller/` can count without importing the server (dependencies point one way). The
 * prom-client implementation is `src/server/metrics.ts`; `NOOP_METRICS` serves when nothing
 * scrapes (the CLI, tests).
 */

export interface MetricsSink {
  /** One AWS API call (after it returned or failed); `throttled` when AWS answered with a throttling error. */
  awsCall(service: string, operation: string, throttled: boolean): void;
  /** A deployment reached a terminal phase: counts it by result and strategy and records its duration. */
  deploymentFinished(d: { strategy: string; phase: string; createdAt: number; finishedAt: number | null }): void;
  /** Commits (or objects) waiting in the controller's queue; `repository` omitted for the total. */
  setQueueDepth(depth: number, repository?: string): void;
  /** The controller processed a commit of a repository: counted by result, with its invalid objects. */
  commitProcessed(repository: string, result: { status: "ok" | "invalid"; invalidObjects: number }): void;
}

export const NOOP_METRICS: MetricsSink = {
  awsCall() {},
  deploymentFinished() {},
  setQueueDepth() {},
  commitProcessed() {},
};
