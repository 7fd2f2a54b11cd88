/**
 * Where a quiet deployment stands, from its record alone (no AWS call): what it waits for, its task
 * counts and traffic, and how long until its next step or its timeout. What `apply`'s Waiting lines
 * and `serve`'s waiting log lines say about a deployment that recorded nothing for a while (an
 * endpoint that never starts its tasks, a long bake, a PAUSE hook nobody continues).
 */
import type { Deployment, TaskCounts } from "../store/types.ts";

export interface WaitingFacts {
  phase: Deployment["phase"];
  /** In words: "the new tasks to run and stay healthy", "the next traffic step", ... */
  waitingFor: string;
  counts: TaskCounts;
  trafficWeight: number | null;
  /** Until the wait in progress ends (a traffic step, a bake), when the machine sleeps to a time. */
  nextStepInMs?: number;
  /** Until the machine's deadline: the stability timeout (or the drain's, a delete's) ends the deployment then. */
  timeoutInMs?: number;
}

interface Recorded {
  deadline?: number;
  waitUntil?: number;
  /** Blue/green: what the wait in progress is for. */
  waiting?: "step" | "bake";
  paused?: { by: string };
  /** ECS-managed: PAUSE hooks that wait for ContinueServiceDeployment, and ECS's lifecycle stage. */
  awaiting?: string[];
  stage?: unknown;
}

const BY_PHASE: Partial<Record<Deployment["phase"], string>> = {
  Pending: "its turn to start",
  Registering: "the task definition to be registered",
  Deploying: "ECS to take the change",
  Stabilizing: "the new tasks to run and stay healthy",
  Shifting: "the next traffic step",
  Baking: "the bake time to end",
  RollingBack: "the rollback to finish",
};

export function waitingFacts(d: Deployment, now: number): WaitingFacts {
  const state = (d.machineState ?? {}) as Recorded;
  const facts: WaitingFacts = { phase: d.phase, waitingFor: waitingFor(d, state), counts: d.counts, trafficWeight: d.trafficWeight };
  if (state.waitUntil !== undefined && state.waitUntil > now) facts.nextStepInMs = state.waitUntil - now;
  else if (state.deadline !== undefined) facts.timeoutInMs = Math.max(0, state.deadline - now);
  return facts;
}

function waitingFor(d: Deployment, state: Recorded): string {
  if (state.paused) return `an operator to resume it (paused by ${state.paused.by})`;
  if (state.awaiting?.length) return `ContinueServiceDeployment on PAUSE hook ${state.awaiting.join(", ")} (resume or promote)`;
  if (state.waiting === "bake") return "the bake time to end";
  if (state.waiting === "step") return "the next traffic step";
  if (d.strategy === "ecs-managed" && typeof state.stage === "string" && d.phase !== "RollingBack") return `ECS's service deployment (${state.stage})`;
  if (d.strategy === "delete") return "the service to drain and become INACTIVE";
  return BY_PHASE[d.phase] ?? "its next step";
}

/** "0/2 running, 2 pending, 20% on green" */
export function countsText(d: Pick<Deployment, "counts" | "strategy" | "trafficWeight">): string {
  const c = d.counts;
  return `${c.running}/${c.desired} running${c.pending ? `, ${c.pending} pending` : ""}${c.failed ? `, ${c.failed} failed` : ""}${trafficText(d)}`;
}

/** "still Stabilizing: 0/2 running, 2 pending — 4m00s left of the stability window" */
export function waitingText(d: Deployment, facts: WaitingFacts): string {
  const left = facts.nextStepInMs !== undefined ? ` — next step in ${formatLeft(facts.nextStepInMs)}` : facts.timeoutInMs !== undefined ? ` — ${formatLeft(facts.timeoutInMs)} left of the stability window` : "";
  return `still ${facts.phase}: ${countsText(d)}${left}`;
}

export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Where the traffic is, for a deployment that moves it: ", 20% on green" (blue/green), ", 25% of production on the new revision" (ECS-managed). */
export function trafficText(d: { strategy: string; trafficWeight: number | null }): string {
  if (d.trafficWeight === null) return "";
  if (d.strategy === "bluegreen") return `, ${d.trafficWeight}% on green`;
  if (d.strategy === "ecs-managed") return `, ${d.trafficWeight}% of production on the new revision`;
  return "";
}
