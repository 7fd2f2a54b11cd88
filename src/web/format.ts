/**
 * Words and numbers for the dashboard: times, durations, short ids, and the sentences that explain a
 * deployment (why it failed, who started it). Pure functions without the DOM, so they are unit-tested
 * under Node (test/web/format.test.ts).
 */
import type { Reason } from "../deploy/registry.ts";
import type { DeploymentRecord, EventRecord } from "../store/record.ts";

export const TERMINAL = new Set(["Succeeded", "Failed", "RolledBack", "Aborted"]);
export const BAD = new Set(["Failed", "RolledBack", "Aborted"]);

export function isActive(d: Pick<DeploymentRecord, "phase">): boolean {
  return !TERMINAL.has(d.phase);
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "—";
}

/** `family:revision` of a task definition ARN; the ARN's last part for anything else. */
export function shortArn(arn: string | null | undefined): string {
  if (!arn) return "—";
  const td = /task-definition\/(.+)$/.exec(arn);
  if (td) return td[1]!;
  const tg = /targetgroup\/([^/]+)/.exec(arn);
  if (tg) return tg[1]!;
  return arn.split(/[:/]/).at(-1) ?? arn;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `2026-11-23 12:03:04` in the viewer's time zone. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `2m 10s`, `1h 4m`, `45s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `3 minutes ago`-style age of a time, against `now` (epoch ms). */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const ms = now - Date.parse(iso);
  return ms < 5000 ? "just now" : `${duration(ms)} ago`;
}

/** The check behind each reason that ends a deployment, in words (typed against the engine's registry of reasons). */
const CHECKS: Partial<Record<Reason, string>> = {
  AlarmFired: "an alarm check",
  CircuitBreakerTripped: "Flotilla's circuit breaker (failed tasks)",
  EcsDeploymentFailed: "ECS's deployment (ECS reported it failed)",
  EcsCircuitBreakerRolledBack: "ECS's deployment circuit breaker (ECS rolled back)",
  EcsAlarmRolledBack: "ECS's deployment alarms (ECS rolled back)",
  LifecycleHookFailed: "a lifecycle hook (ECS rolled back)",
  EcsDeploymentRolledBack: "ECS's service deployment (ECS rolled back)",
  EcsDeploymentStopped: "ECS's service deployment (ECS stopped it)",
  ListenerRulesInvalid: "the listener rules of the ECS-managed deployment",
  TrafficNotVerified: "the traffic weights read back after a shift",
  AwsUnavailable: "reaching AWS (retries ran out)",
  Superseded: "a newer deployment of the same service",
  ShiftFailed: "shifting traffic (the load balancer refused the weights)",
  CreateTaskSetRejected: "creating the green task set",
  DescribeAlarmsFailed: "reading the alarms",
  ServiceGone: "the service's presence",
  StabilityTimeout: "the stability check (tasks did not become healthy in time)",
  Aborted: "an operator's abort",
  GreenTaskSetGone: "the green task set's presence",
  ManualChange: "the traffic weights (changed outside Flotilla)",
  DescribeFailed: "reading the deployment's state from AWS",
  TaskDefinitionRejected: "registering the task definition",
  CreateServiceRejected: "creating the service",
  UpdateServiceRejected: "updating the service",
  PromoteFailed: "making green primary",
  PromoteNotConfirmed: "confirming green as primary",
};

/** What a named reason checked, in words (the reason itself when it is not one Flotilla names). */
export function checkName(reason: string): string {
  return CHECKS[reason as Reason] ?? reason.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

export interface FailureExplanation {
  /** The check that failed, in words. */
  check: string;
  reason: string;
  /** The engine's own sentence. */
  message: string;
  /** When it failed (ISO), and how long after the deployment began. */
  at: string | null;
  afterMs: number | null;
  /** Percent of traffic on green at that moment; null for a rolling deployment or when unknown. */
  weight: number | null;
  /** One sentence: which check, when, at what weight. */
  sentence: string;
}

/**
 * Why a deployment did not succeed, from its record and timeline: the check that failed, when, and at
 * what traffic weight. Undefined for a deployment that has not failed.
 */
export function explainFailure(d: DeploymentRecord, timeline: readonly EventRecord[]): FailureExplanation | undefined {
  if (!BAD.has(d.phase) && d.phase !== "RollingBack") return undefined;
  const failed = [...timeline].reverse().find((e) => e.type === "Failed" || e.type === "EcsRolledBack");
  const data = (failed?.data ?? {}) as { reason?: unknown; weight?: unknown };
  const reason = typeof data.reason === "string" ? data.reason : (d.reason ?? d.phase);
  const weight = typeof data.weight === "number" ? data.weight : null;
  const at = failed?.at ?? d.finishedAt;
  const afterMs = at ? Date.parse(at) - Date.parse(d.createdAt) : null;
  const message = failed?.message ?? d.message ?? "";
  const when = at ? ` at ${time(at)}${afterMs !== null ? ` (${duration(afterMs)} after it began)` : ""}` : "";
  const where = weight === null ? "" : d.strategy === "bluegreen" ? `, with ${weight}% of traffic on green` : d.strategy === "ecs-managed" ? `, with ${weight}% of production traffic on the new revision` : "";
  const back = d.strategy === "bluegreen" ? " Traffic went back to blue." : d.strategy === "ecs-managed" && d.phase === "RolledBack" ? " ECS moved production traffic back to the previous revision." : "";
  const sentence =
    reason === "Aborted"
      ? `Aborted by an operator${when}${where}.${back}`
      : `The check that failed: ${checkName(reason)}${when}${where}.${d.phase === "RolledBack" ? ` It was rolled back.${back}` : d.phase === "RollingBack" ? " It is rolling back." : ""}`;
  return { check: checkName(reason), reason, message, at: at ?? null, afterMs, weight, sentence };
}

export interface Trigger {
  kind: "commit" | "rollback" | "override" | "delete" | "manual";
  /** Who: a token's name, a user, or `commit abc1234` for a trailer. */
  by: string | null;
  text: string;
}

/** Who or what started a deployment: a commit, a rollback, an override (with who set it), a confirmed delete. */
export function triggerOf(d: Pick<DeploymentRecord, "commitSha" | "overrides" | "repository" | "strategy">): Trigger {
  const rollback = d.overrides.find((o) => o.name === "rollback");
  if (rollback) return { kind: "rollback", by: rollback.setBy, text: `rollback by ${rollback.setBy}` };
  // A rainbow cutover or cleanup an operator asked for (a cutover after a deploy is the commit's).
  const rainbow = d.overrides.find((o) => o.name === "cutover" || o.name === "cleanup");
  if (rainbow) return { kind: "manual", by: rainbow.setBy, text: `${rainbow.name} by ${rainbow.setBy}` };
  const confirmed = d.overrides.find((o) => o.name === "delete-confirmed");
  if (confirmed) return { kind: "delete", by: confirmed.setBy, text: `delete confirmed by ${confirmed.setBy}` };
  const requested = d.overrides.find((o) => o.name === "deploy-requested");
  const overrides = d.overrides.filter((o) => o.name !== "deploy-requested");
  const commit = `${d.commitSha ? `commit ${shortSha(d.commitSha)}` : d.repository ? "the controller" : "a CLI apply"}${requested ? `, deployed by ${requested.setBy}` : ""}`;
  if (overrides.length) {
    return { kind: "override", by: overrides[0]!.setBy, text: `${commit} with ${overrides.map((o) => `${o.name} (${o.setBy}${o.source ? `, ${o.source}` : ""})`).join(", ")}` };
  }
  return { kind: requested ? "manual" : d.commitSha ? "commit" : "manual", by: requested?.setBy ?? null, text: commit };
}

/** A phase as a short word for badges. */
export function phaseLabel(phase: string, weight: number | null): string {
  return phase === "Shifting" && weight !== null ? `Shifting ${weight}%` : phase;
}

/** A strategy as people say it: "blue/green", "ECS-managed", "rolling". */
export function strategyName(strategy: string): string {
  return strategy === "bluegreen" ? "blue/green" : strategy === "ecs-managed" ? "ECS-managed" : strategy;
}
