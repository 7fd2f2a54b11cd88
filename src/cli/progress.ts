/** Live progress of running deployments on stderr: one line per timeline event. */
import { defaultMasker } from "../core/mask.ts";
import type { Deployment, NewEvent } from "../store/types.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Clock } from "../core/clock.ts";
import { QUIET_MS, QuietWatch } from "../controller/quiet.ts";
import { formatLeft, trafficText, waitingText } from "../deploy/waiting.ts";
import { paint, type CliIO } from "./io.ts";

export { QUIET_MS };

const PHASE_COLOUR: Record<string, Parameters<typeof paint>[1]> = { Succeeded: "green", Failed: "red", RolledBack: "yellow", Aborted: "yellow", RollingBack: "yellow" };

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
  // Whoever runs the command watches these deployments: a line for each that waits, however many.
  const quiet = new QuietWatch({ clock, summaryAbove: Infinity });
  const line = (d: Deployment, type: string, message: string) => {
    const at = new Date(clock.now()).toISOString().slice(11, 19);
    io.err(`${paint(io, "dim", at)} ${d.object.padEnd(24)} ${paint(io, PHASE_COLOUR[type] ?? "reset", type.padEnd(18))} ${message}\n`);
  };
  const printer = (d: Deployment, events: readonly NewEvent[]) => {
    quiet.seen(d, events);
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
    for (const r of quiet.look()) if (r.kind === "deployment") line(r.waiting.deployment, "Waiting", waitingText(r.waiting.deployment, r.waiting.facts));
  };
  return printer;
}

const RAINBOW: ReadonlySet<string> = new Set(["rainbow", "cutover", "cleanup"]);

export function resultLine(io: CliIO, d: Deployment): string {
  const colour = PHASE_COLOUR[d.phase] ?? "reset";
  const counts = `${d.counts.running}/${d.counts.desired} running${d.counts.failed ? `, ${d.counts.failed} failed` : ""}${trafficText(d)}`;
  // A rainbow operation's success says what it did: the version's URL, the cutover, what was removed.
  const said = d.message && (d.phase !== "Succeeded" || RAINBOW.has(d.strategy));
  return `${paint(io, colour, d.phase.padEnd(10))} ${d.object.padEnd(24)} ${counts}${d.reason ? ` — ${d.reason}` : ""}${said ? `: ${defaultMasker.text(d.message!)}` : ""}`;
}
