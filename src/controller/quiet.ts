/**
 * Deployments that wait quietly. A deployment's log lines come from its events, so one that waits
 * without a new event (an endpoint that never starts its tasks, a long bake, a PAUSE hook nobody
 * continues) says nothing until its timeout ends it. `QuietWatch` follows the records the runner
 * persists (no AWS call of its own) and, once a deployment has been quiet for `quietMs`, reports
 * where it stands once per quiet period: a line each, or — when more than `summaryAbove` wait at
 * once — one summary per period, so a fleet of waiting deployments does not flood the log.
 */
import type { Clock } from "../core/clock.ts";
import { formatLeft, waitingFacts, waitingText, type WaitingFacts } from "../deploy/waiting.ts";
import { isTerminal, type Deployment, type NewEvent } from "../store/types.ts";

/** How long a deployment may go without a line before it is reported as waiting. */
export const QUIET_MS = 60_000;
/** Above this many quiet deployments at once, one summary line per period instead of a line each. */
export const SUMMARY_ABOVE = 20;
/** How many of the deployments nearest their timeout a summary names. */
const SUMMARY_NAMES = 5;

export interface WaitingDeployment {
  deployment: Deployment;
  facts: WaitingFacts;
}

export interface WaitingSummary {
  /** How many deployments have been quiet for the period. */
  deployments: number;
  /** How many of them are in each phase. */
  phases: Record<string, number>;
  /** The ones nearest their timeout (at most five), nearest first. */
  soonest: WaitingDeployment[];
}

export type QuietReport = { kind: "deployment"; waiting: WaitingDeployment } | { kind: "summary"; summary: WaitingSummary };

export interface QuietWatchOptions {
  clock: Clock;
  quietMs?: number;
  /** Infinity: a line for each, however many (the CLI, whose reader watches one apply). */
  summaryAbove?: number;
  /** Whether this process still drives the deployment (a handed-over one is another's to report). */
  drives?: (deploymentId: string) => boolean;
}

interface Entry {
  d: Deployment;
  /** The last event of the deployment. */
  eventAt: number;
  /** The last event or report that mentioned it. */
  saidAt: number;
}

export class QuietWatch {
  readonly quietMs: number;
  readonly summaryAbove: number;
  private readonly o: QuietWatchOptions;
  private readonly entries = new Map<string, Entry>();
  private summaryAt = -Infinity;
  private loop: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(options: QuietWatchOptions) {
    this.o = options;
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.summaryAbove = options.summaryAbove ?? SUMMARY_ABOVE;
  }

  /** Every persisted step of a deployment (the runner's onUpdate): its latest record, and whether it said something. */
  seen(d: Deployment, events: readonly NewEvent[]): void {
    if (isTerminal(d.phase)) {
      this.entries.delete(d.id);
      return;
    }
    const now = this.o.clock.now();
    const known = this.entries.get(d.id);
    const eventAt = events.length || !known ? now : known.eventAt;
    this.entries.set(d.id, { d, eventAt, saidAt: events.length || !known ? now : known.saidAt });
  }

  /** What is due now: a report for each deployment quiet for a period since it was last mentioned, or one summary. */
  look(): QuietReport[] {
    const now = this.o.clock.now();
    for (const [id, e] of this.entries) if (isTerminal(e.d.phase) || (this.o.drives && !this.o.drives(id))) this.entries.delete(id);
    const quiet = [...this.entries.values()].filter((e) => now - e.eventAt >= this.quietMs);
    if (quiet.length > this.summaryAbove) {
      if (now - this.summaryAt < this.quietMs) return [];
      this.summaryAt = now;
      for (const e of quiet) e.saidAt = now;
      return [{ kind: "summary", summary: summarize(quiet.map((e) => ({ deployment: e.d, facts: waitingFacts(e.d, now) }))) }];
    }
    const due = quiet.filter((e) => now - e.saidAt >= this.quietMs);
    for (const e of due) e.saidAt = now;
    return due.map((e) => ({ kind: "deployment", waiting: { deployment: e.d, facts: waitingFacts(e.d, now) } }));
  }

  /** Look every `everyMs` of the clock's time and hand what is due to `report`, until `stop`. */
  start(everyMs: number, report: (r: QuietReport) => void): void {
    if (this.loop) return;
    const ac = new AbortController();
    this.loop = ac;
    this.running = (async () => {
      for (;;) {
        try {
          await this.o.clock.sleep(everyMs, ac.signal);
        } catch {
          return;
        }
        for (const r of this.look()) report(r);
      }
    })();
  }

  async stop(): Promise<void> {
    this.loop?.abort();
    this.loop = undefined;
    await this.running;
  }
}

function summarize(waiting: WaitingDeployment[]): WaitingSummary {
  const phases: Record<string, number> = {};
  for (const w of waiting) phases[w.facts.phase] = (phases[w.facts.phase] ?? 0) + 1;
  const left = (w: WaitingDeployment) => w.facts.timeoutInMs ?? Infinity;
  const soonest = waiting
    .filter((w) => left(w) !== Infinity)
    .sort((a, b) => left(a) - left(b) || a.deployment.object.localeCompare(b.deployment.object))
    .slice(0, SUMMARY_NAMES);
  return { deployments: waiting.length, phases, soonest };
}

/**
 * A report as a structured log line (serve's log): the fields a log search filters on — the
 * deployment's id and object, or the summary's counts — and the sentence an operator reads.
 */
export function reportLine(r: QuietReport, summaryAbove = SUMMARY_ABOVE): { fields: Record<string, unknown>; message: string } {
  if (r.kind === "deployment") {
    const { deployment: d, facts } = r.waiting;
    return { fields: { deployment: d.id, object: d.object, waiting: waitingFields(facts) }, message: `${d.object} Waiting: ${waitingText(d, facts)}; waiting for ${facts.waitingFor}` };
  }
  const s = r.summary;
  const phases = Object.entries(s.phases)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([p, n]) => `${n} ${p}`)
    .join(", ");
  const soonest = s.soonest.map((w) => `${w.deployment.object} in ${formatLeft(w.facts.timeoutInMs!)}`).join(", ");
  return {
    fields: { waiting: { deployments: s.deployments, phases: s.phases, soonest: s.soonest.map((w) => ({ deployment: w.deployment.id, object: w.deployment.object, ...waitingFields(w.facts) })) } },
    message: `${s.deployments} deployments waiting without news (${phases})${soonest ? `; nearest their timeout: ${soonest}` : ""} — with more than ${summaryAbove} waiting, one line for all instead of a line each`,
  };
}

function waitingFields(f: WaitingFacts): Record<string, unknown> {
  return {
    phase: f.phase,
    for: f.waitingFor,
    counts: f.counts,
    ...(f.trafficWeight !== null ? { trafficWeight: f.trafficWeight } : {}),
    ...(f.nextStepInMs !== undefined ? { nextStepInSeconds: Math.round(f.nextStepInMs / 1000) } : {}),
    ...(f.timeoutInMs !== undefined ? { timeoutInSeconds: Math.round(f.timeoutInMs / 1000) } : {}),
  };
}
