/**
 * Deployment notifications: webhooks called when a deployment starts, succeeds, fails, rolls back
 * or is aborted. Targets come from the server's configuration and from each object's depdef
 * (`notifications`). The body is a JSON summary of the deployment, or the target's Jinja
 * `template` rendered with `event` and `deployment` (e.g. a Slack message). Deliveries are retried
 * with backoff on the injected clock and run beside the deployment: a failing target never blocks it.
 * Header values written `${NAME}` are read from the controller's environment, so tokens stay out of Git.
 */
import type { Clock } from "../core/clock.ts";
import type { DepDef } from "../config/depdef.ts";
import { renderTemplate } from "../config/template.ts";
import { deploymentRecord } from "../store/record.ts";
import type { Deployment, NewEvent } from "../store/types.ts";

export type NotificationEvent = "started" | "succeeded" | "failed" | "rolledBack" | "aborted";
export type NotificationTarget = DepDef["notifications"][number];

const TERMINAL: Record<string, NotificationEvent> = { Succeeded: "succeeded", Failed: "failed", RolledBack: "rolledBack", Aborted: "aborted" };

export interface NotifierOptions {
  clock: Clock;
  /** Targets for every deployment (server configuration). */
  targets?: NotificationTarget[];
  env?: NodeJS.ProcessEnv;
  /** Attempts per delivery (default 5), with backoff 1 s, 2 s, 4 s, … */
  attempts?: number;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  onWarning?: (message: string) => void;
}

export class Notifier {
  private readonly o: NotifierOptions;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: NotifierOptions) {
    this.o = options;
  }

  /** Feed every persisted step here (the runner's onUpdate); deliveries start in the background. */
  onUpdate(d: Deployment, events: readonly NewEvent[]): void {
    const event = events.some((e) => e.type === "Started") ? "started" : d.finishedAt !== null && events.some((e) => e.type === d.phase) ? TERMINAL[d.phase] : undefined;
    if (!event) return;
    const spec = (d.machineState as { spec?: { depdef?: DepDef } } | undefined)?.spec;
    const targets = [...(this.o.targets ?? []), ...(spec?.depdef?.notifications ?? [])];
    for (const target of targets) {
      if (target.events && !target.events.includes(event)) continue;
      const p = this.deliver(target, event, d).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Wait for deliveries under way (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async deliver(target: NotificationTarget, event: NotificationEvent, d: Deployment): Promise<void> {
    const deployment = deploymentRecord(d);
    let body: string;
    if (target.template) {
      const r = renderTemplate(target.template, { event, deployment }, `notification template for ${safeUrl(target.url)}`);
      if (r.text === undefined) {
        this.o.onWarning?.(`notification to ${safeUrl(target.url)} not sent: its template failed: ${r.problems[0]?.message ?? "render error"}`);
        return;
      }
      body = r.text;
    } else {
      body = JSON.stringify({ event, deployment });
    }
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "flotilla" };
    for (const [k, v] of Object.entries(target.headers ?? {})) headers[k.toLowerCase()] = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => this.o.env?.[name] ?? "");
    const attempts = this.o.attempts ?? 5;
    const doFetch = this.o.fetch ?? fetch;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await doFetch(target.url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // the target refuses this request: retrying won't help
      } catch (e) {
        last = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      }
      if (attempt < attempts) await this.o.clock.sleep(1000 * 2 ** (attempt - 1));
    }
    this.o.onWarning?.(`notification ${event} of ${d.object} to ${safeUrl(target.url)} failed: ${last}`);
  }
}

/** A URL for messages: no userinfo, no query string (either may carry a secret). */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
