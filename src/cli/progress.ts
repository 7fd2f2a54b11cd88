/** Live progress of running deployments on stderr: one line per timeline event. */
import { defaultMasker } from "../core/mask.ts";
import { isTerminal, type Deployment, type NewEvent } from "../store/types.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Clock } from "../core/clock.ts";
import { paint, type CliIO } from "./io.ts";

const PHASE_COLOUR: Record<string, Parameters<typeof paint>[1]> = { Succeeded: "green", Failed: "red", RolledBack: "yellow", Aborted: "yellow", RollingBack: "yellow" };

/** How long a running deployment may go without a line before `waiting()` says where it stands. */
export const QUIET_MS = 60_000;

export interface ProgressPrinter {
  (d: Deployment, events: readonly NewEvent[]): void;
  /**
   * A `Waiting` line for each unfinished deployment that printed nothing for QUIET_MS: its counts
   * and what it waits for. An endpoint that never progresses a deployment (moto, a stuck ECS) shows
   * that Flotilla is still watching until the stability timeout ends it, instead of going silent.
   */
  waiting(): void;
}

export function progressPrinter(io: CliIO, clock: Clock): ProgressPrinter {
  const seen = new Map<string, { d: Deployment; printedAt: number }>();
  const line = (d: Deployment, type: string, message: string) => {
    const at = new Date(clock.now()).toISOString().slice(11, 19);
    io.err(`${paint(io, "dim", at)} ${d.object.padEnd(24)} ${paint(io, PHASE_COLOUR[type] ?? "reset", type.padEnd(18))} ${message}\n`);
  };
  const printer = (d: Deployment, events: readonly NewEvent[]) => {
    if (isTerminal(d.phase)) seen.delete(d.id);
    else seen.set(d.id, { d, printedAt: events.length ? clock.now() : (seen.get(d.id)?.printedAt ?? clock.now()) });
    for (const e of events) {
      let message = defaultMasker.text(e.message);
      const state = d.machineState as { deadline?: number; spec?: DeploySpec };
      if (e.type === "Progress" && state.deadline) message += paint(io, "dim", ` — ${formatLeft(state.deadline - clock.now())} left of the stability window`);
      if (e.type === "Shifted" || e.type === "Baking") {
        const wait = e.type === "Baking" ? state.spec?.depdef.bakeTime : state.spec?.depdef.trafficShiftingConfig.waitInterval;
        if (wait) message += paint(io, "dim", ` — next step in ${formatLeft(wait * 1000)}`);
      }
      line(d, e.type, message);
    }
  };
  printer.waiting = () => {
    const now = clock.now();
    for (const entry of seen.values()) {
      if (now - entry.printedAt < QUIET_MS) continue;
      entry.printedAt = now;
      line(entry.d, "Waiting", waitingText(entry.d, now));
    }
  };
  return printer;
}

/** "Stabilizing: 0/2 running, 2 pending — 3m20s left of the stability window", from the record and its machine's deadline. */
function waitingText(d: Deployment, now: number): string {
  const state = d.machineState as { deadline?: number; waitUntil?: number };
  const c = d.counts;
  const counts = `${c.running}/${c.desired} running${c.pending ? `, ${c.pending} pending` : ""}${c.failed ? `, ${c.failed} failed` : ""}${trafficText(d)}`;
  const left = state.waitUntil !== undefined && state.waitUntil > now ? ` — next step in ${formatLeft(state.waitUntil - now)}` : state.deadline !== undefined ? ` — ${formatLeft(state.deadline - now)} left of the stability window` : "";
  return `still ${d.phase}: ${counts}${left}`;
}

export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

const RAINBOW: ReadonlySet<string> = new Set(["rainbow", "cutover", "cleanup"]);

export function resultLine(io: CliIO, d: Deployment): string {
  const colour = PHASE_COLOUR[d.phase] ?? "reset";
  const counts = `${d.counts.running}/${d.counts.desired} running${d.counts.failed ? `, ${d.counts.failed} failed` : ""}${trafficText(d)}`;
  // A rainbow operation's success says what it did: the version's URL, the cutover, what was removed.
  const said = d.message && (d.phase !== "Succeeded" || RAINBOW.has(d.strategy));
  return `${paint(io, colour, d.phase.padEnd(10))} ${d.object.padEnd(24)} ${counts}${d.reason ? ` — ${d.reason}` : ""}${said ? `: ${defaultMasker.text(d.message!)}` : ""}`;
}

/** Where the traffic is, for a deployment that moves it: ", 20% on green" (blue/green), ", 25% of production on the new revision" (ECS-managed). */
export function trafficText(d: { strategy: string; trafficWeight: number | null }): string {
  if (d.trafficWeight === null) return "";
  if (d.strategy === "bluegreen") return `, ${d.trafficWeight}% on green`;
  if (d.strategy === "ecs-managed") return `, ${d.trafficWeight}% of production on the new revision`;
  return "";
}
