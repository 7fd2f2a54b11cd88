/** Live progress of running deployments on stderr: one line per timeline event. */
import { defaultMasker } from "../core/mask.ts";
import type { Deployment, NewEvent } from "../store/types.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Clock } from "../core/clock.ts";
import { paint, type CliIO } from "./io.ts";

const PHASE_COLOUR: Record<string, Parameters<typeof paint>[1]> = { Succeeded: "green", Failed: "red", RolledBack: "yellow", Aborted: "yellow", RollingBack: "yellow" };

export function progressPrinter(io: CliIO, clock: Clock): (d: Deployment, events: readonly NewEvent[]) => void {
  return (d, events) => {
    for (const e of events) {
      let message = defaultMasker.text(e.message);
      const state = d.machineState as { deadline?: number; spec?: DeploySpec };
      if (e.type === "Progress" && state.deadline) message += paint(io, "dim", ` — ${formatLeft(state.deadline - clock.now())} left of the stability window`);
      if (e.type === "Shifted" || e.type === "Baking") {
        const wait = e.type === "Baking" ? state.spec?.depdef.bakeTime : state.spec?.depdef.trafficShiftingConfig.waitInterval;
        if (wait) message += paint(io, "dim", ` — next step in ${formatLeft(wait * 1000)}`);
      }
      const at = new Date(clock.now()).toISOString().slice(11, 19);
      io.err(`${paint(io, "dim", at)} ${d.object.padEnd(24)} ${paint(io, PHASE_COLOUR[e.type] ?? "reset", e.type.padEnd(18))} ${message}\n`);
    }
  };
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
