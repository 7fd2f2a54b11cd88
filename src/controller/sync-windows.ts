/**
 * Sync windows (docs/controller.md, Sync windows): schedules, decided by the server's operator,
 * during which the controller may or may not deploy. A window opens at each time its cron schedule
 * names (in its time zone) and stays open for its duration. It covers the objects its selectors
 * match (repositories, object name prefixes such as an environment's folder, regions, clusters, the
 * depdef's environment.account;
 * none given: everything). For one object at one instant:
 *
 *   - an open `deny` window that covers it holds it;
 *   - else, when `allow` windows cover it, it is held unless one of them is open;
 *   - else it may deploy.
 *
 * A commit waits while any object it would deploy or delete is held. Every time decision reads the
 * injected clock.
 */
import { Cron } from "croner";
import type { SyncWindowState } from "../api/types.ts";
import type { HoldingWindow } from "../store/types.ts";

export interface SyncWindowConfig {
  name: string;
  kind: "allow" | "deny";
  /** Five-field cron: when each occurrence opens. */
  schedule: string;
  durationMs: number;
  /** IANA time zone the schedule is read in (default UTC). */
  timeZone: string;
  /** Selectors; an empty list matches everything. */
  repositories: string[];
  /** Object name prefixes by whole segments (`prod/` or `prod` covers `prod/web/web`). */
  objects: string[];
  regions: string[];
  clusters: string[];
  /** AWS accounts, as the depdef's `environment.account` names them. */
  accounts: string[];
}

/** What a window is asked about: one object a commit would deploy or delete. */
export interface WindowSubject {
  repository: string;
  object: string;
  /** Absent for an object that does not read (only the name selectors apply). */
  region?: string;
  cluster?: string;
  /** The depdef's environment.account, when it names one. */
  account?: string;
}

export interface WindowVerdict {
  held: boolean;
  windows: HoldingWindow[];
  /** The held objects. */
  objects: string[];
  /** When the verdict may change next (a deny window closes, an allow window opens); null: never. */
  until: number | null;
  message: string;
}


/** Parses `90s`, `30m`, `2h`, `1d`, `1h30m` into milliseconds; undefined when malformed or zero. */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?(?:(\d{1,7})s)?$/.exec(text.trim());
  if (!m || text.trim() === "") return undefined;
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  const ms = (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
  return ms > 0 ? ms : undefined;
}

/** Why a schedule or time zone is unusable (for the configuration's problems), or undefined. */
export function scheduleProblem(schedule: string, timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
  } catch {
    return `unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin, or UTC)`;
  }
  try {
    const cron = new Cron(schedule, { timezone: timeZone, mode: "5-part" });
    if (!cron.nextRun(new Date(0))) return "the schedule never fires";
  } catch (e) {
    return `not a five-field cron schedule (minute hour day-of-month month day-of-week): ${e instanceof Error ? e.message.replace(/^CronPattern: /, "") : String(e)}`;
  }
  return undefined;
}

/** Whole path segments: `prod` and `prod/` cover `prod/web/web`, not `production/web`. */
function underPrefix(object: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, "");
  return p === "" || object === p || object.startsWith(`${p}/`);
}

interface Compiled {
  config: SyncWindowConfig;
  cron: Cron;
}

/** Occurrences a window may chain (overlapping ones) before an end is taken as found. */
const MAX_CHAIN = 1000;

export class SyncWindows {
  private readonly windows: Compiled[];

  /** Throws on a schedule the configuration check should have refused. */
  constructor(configs: readonly SyncWindowConfig[]) {
    this.windows = configs.map((config) => ({ config, cron: new Cron(config.schedule, { timezone: config.timeZone, mode: "5-part" }) }));
  }

  get size(): number {
    return this.windows.length;
  }

  /** Open at `t` (the latest occurrence at or before `t` has not ended), with when that changes. */
  private openAt(w: Compiled, t: number): { open: boolean; next: number | null } {
    const [latest] = w.cron.previousRuns(1, new Date(t + 1));
    let end = latest ? latest.getTime() + w.config.durationMs : undefined;
    if (end !== undefined && t < end) {
      // Occurrences that start before this one ends extend it.
      for (let i = 0, from = latest!.getTime(); i < MAX_CHAIN; i++) {
        const next = w.cron.nextRun(new Date(from))?.getTime();
        if (next === undefined || next >= end) break;
        end = Math.max(end, next + w.config.durationMs);
        from = next;
      }
      return { open: true, next: end };
    }
    return { open: false, next: w.cron.nextRun(new Date(t))?.getTime() ?? null };
  }

  private covers(w: Compiled, s: WindowSubject): boolean {
    const c = w.config;
    if (c.repositories.length && !c.repositories.includes(s.repository)) return false;
    if (c.objects.length && !c.objects.some((p) => underPrefix(s.object, p))) return false;
    if (c.regions.length && (s.region === undefined || !c.regions.includes(s.region))) return false;
    if (c.clusters.length && (s.cluster === undefined || !c.clusters.includes(s.cluster))) return false;
    if (c.accounts.length && (s.account === undefined || !c.accounts.includes(s.account))) return false;
    return true;
  }

  /** Whether a commit that would deploy or delete these objects may run now. */
  verdict(subjects: readonly WindowSubject[], now: number): WindowVerdict {
    const holding = new Map<string, { w: Compiled; next: number | null }>();
    const objects: string[] = [];
    const states = new Map(this.windows.map((w) => [w, this.openAt(w, now)]));
    for (const s of subjects) {
      const covering = this.windows.filter((w) => this.covers(w, s));
      const deny = covering.filter((w) => w.config.kind === "deny" && states.get(w)!.open);
      const allow = covering.filter((w) => w.config.kind === "allow");
      const by = deny.length ? deny : allow.length && !allow.some((w) => states.get(w)!.open) ? allow : [];
      if (!by.length) continue;
      objects.push(s.object);
      for (const w of by) holding.set(w.config.name, { w, next: states.get(w)!.next });
    }
    if (!objects.length) return { held: false, windows: [], objects: [], until: null, message: "no sync window holds it" };
    const nexts = [...holding.values()].map((h) => h.next).filter((n): n is number => n !== null);
    const until = nexts.length ? Math.min(...nexts) : null;
    const parts = [...holding.values()].map(({ w, next }) =>
      w.config.kind === "deny" ? `deny window ${w.config.name} is open${next !== null ? ` until ${iso(next)}` : ""}` : `allow window ${w.config.name} is closed${next !== null ? ` until ${iso(next)}` : ""}`,
    );
    return {
      held: true,
      windows: [...holding.values()].map(({ w }) => ({ name: w.config.name, kind: w.config.kind })),
      objects,
      until,
      message: `${parts.join("; ")} (${objects.length === 1 ? objects[0] : `${objects.length} objects`})`,
    };
  }

  /** Every window as configured, open or closed now, and when that changes. */
  states(now: number): SyncWindowState[] {
    return this.windows.map((w) => {
      const { open, next } = this.openAt(w, now);
      const c = w.config;
      return { name: c.name, kind: c.kind, schedule: c.schedule, timeZone: c.timeZone, durationSeconds: c.durationMs / 1000, open, nextChange: next === null ? null : iso(next), repositories: c.repositories, objects: c.objects, regions: c.regions, clusters: c.clusters, accounts: c.accounts };
    });
  }
}

const iso = (t: number) => new Date(t).toISOString();
