/**
 * Deployment notifications: webhooks called when a deployment starts, succeeds, fails, rolls back
 * or is aborted. Targets come from the server's configuration (trusted: the operator wrote them) and
 * from each object's depdef (untrusted: whoever can push wrote them, so only URLs the operator's
 * policy allows, see egress.ts). The body is a JSON summary of the deployment, or the target's Jinja
 * `template` rendered with `event` and `deployment` (e.g. a Slack message), masked like every output.
 * Header values may name `${NAME}` variables of the server's environment that the policy lists, so
 * tokens stay out of Git without a repository being able to read any other variable.
 * Deliveries are retried with backoff on the injected clock and run beside the deployment: a failing
 * or refused target never blocks or fails it; refusals and failures go to the deployment's timeline.
 */
import type { Clock } from "../core/clock.ts";
import type { ProblemCode } from "../core/codes.ts";
import { defaultMasker, type Masker } from "../core/mask.ts";
import type { DepDef } from "../config/depdef.ts";
import { checkNotificationTarget, ENV_REFERENCE, parseTargetUrl } from "../config/notification-target.ts";
import { renderTemplate } from "../config/template.ts";
import { deploymentRecord } from "../store/record.ts";
import type { Deployment, NewEvent } from "../store/types.ts";
import { DEFAULT_NOTIFICATION_POLICY, EgressGuard, EgressRefused, pinnedConnector, type Connector, type NotificationPolicy, type Resolver } from "./egress.ts";

export type { NotificationPolicy } from "./egress.ts";
export type NotificationEvent = "started" | "succeeded" | "failed" | "rolledBack" | "aborted";
export type NotificationTarget = DepDef["notifications"][number];

const TERMINAL: Record<string, NotificationEvent> = { Succeeded: "succeeded", Failed: "failed", RolledBack: "rolledBack", Aborted: "aborted" };

/** Largest request body sent (a Slack message is at most 40,000 characters). */
const MAX_BODY_BYTES = 64 * 1024;
/** Bytes of an answer read before the connection is dropped (only the status matters). */
const MAX_RESPONSE_BYTES = 16 * 1024;

export interface NotifierOptions {
  clock: Clock;
  /** Targets for every deployment (the server's configuration): trusted, not matched against allowedTargets. */
  targets?: NotificationTarget[];
  /** What depdef targets may reach and which variables headers may name (default: nothing). */
  policy?: Partial<NotificationPolicy>;
  env?: NodeJS.ProcessEnv;
  /** Attempts per delivery (default 5), with backoff 1 s, 2 s, 4 s, … */
  attempts?: number;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
  /** The server's own addresses (its listen address), refused like loopback. */
  ownAddresses?: readonly string[];
  resolve?: Resolver;
  connect?: Connector;
  /** Masks bodies and messages (default rules when absent). */
  masker?: Masker;
  /** Puts a refusal or failure on the deployment's timeline (serve and apply: the store's appendEvents). */
  record?: (deploymentId: string, event: NewEvent) => Promise<unknown>;
  onWarning?: (message: string) => void;
}

/** A delivery that will not be retried, with its code. */
class NotSent extends Error {
  readonly code: ProblemCode;
  constructor(code: ProblemCode, message: string) {
    super(message);
    this.code = code;
  }
}

export class Notifier {
  private readonly o: NotifierOptions;
  private readonly guard: EgressGuard;
  private readonly allowedEnv: ReadonlySet<string>;
  private readonly masker: Masker;
  private readonly inFlight = new Set<Promise<void>>();

  /** Throws FLT-NOTIFY-POLICY-INVALID when the policy has a malformed entry. */
  constructor(options: NotifierOptions) {
    this.o = options;
    const policy = { ...DEFAULT_NOTIFICATION_POLICY, ...options.policy };
    this.guard = new EgressGuard(policy, { ...(options.resolve ? { resolve: options.resolve } : {}), ...(options.ownAddresses ? { ownAddresses: options.ownAddresses } : {}) });
    this.allowedEnv = new Set(policy.allowedEnv);
    this.masker = options.masker ?? defaultMasker;
  }

  /** Feed every persisted step here (the runner's onUpdate); deliveries start in the background. */
  onUpdate(d: Deployment, events: readonly NewEvent[]): void {
    const event = events.some((e) => e.type === "Started") ? "started" : d.finishedAt !== null && events.some((e) => e.type === d.phase) ? TERMINAL[d.phase] : undefined;
    if (!event) return;
    const spec = (d.machineState as { spec?: { depdef?: DepDef } } | undefined)?.spec;
    const targets = [...(this.o.targets ?? []).map((t) => ({ target: t, trusted: true })), ...(spec?.depdef?.notifications ?? []).map((t) => ({ target: t, trusted: false }))];
    for (const { target, trusted } of targets) {
      if (target.events && !target.events.includes(event)) continue;
      const p = this.deliver(target, trusted, event, d)
        .catch((e: unknown) => this.o.onWarning?.(this.masker.text(`notification ${event} of ${d.object}: ${String(e)}`)))
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Wait for deliveries under way (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async deliver(target: NotificationTarget, trusted: boolean, event: NotificationEvent, d: Deployment): Promise<void> {
    const where = safeUrl(target.url);
    try {
      const { url, headers, body } = this.prepare(target, trusted, event, d);
      await this.send(url, headers, body, trusted);
    } catch (e) {
      if (!(e instanceof NotSent)) throw e;
      const message = this.masker.text(`notification ${event} of ${d.object} to ${where} ${e.code === "FLT-NOTIFY-FAILED" ? "failed" : "not sent"}: ${e.message} (${e.code})`);
      this.o.onWarning?.(message);
      await this.o.record?.(d.id, { type: e.code === "FLT-NOTIFY-FAILED" ? "NotificationFailed" : "NotificationRefused", message, data: { code: e.code, event, target: where } });
    }
  }

  /** Everything decided before any connection: target allowed, headers substituted, body built and small enough. */
  private prepare(target: NotificationTarget, trusted: boolean, event: NotificationEvent, d: Deployment): { url: URL; headers: Record<string, string>; body: string } {
    // Errors only: an address the guard refuses is decided below, where allowPrivateAddresses applies.
    const issue = checkNotificationTarget(target).find((i) => i.severity === "error");
    if (issue) throw new NotSent(issue.code, issue.message);
    const url = parseTargetUrl(target.url) as URL;
    if (!trusted && !this.guard.allowsTarget(url)) throw new NotSent("FLT-NOTIFY-TARGET-NOT-ALLOWED", "the notification policy does not allow this URL (allowedTargets: serve's notifications configuration, apply --notify-allow)");
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "flotilla" };
    for (const [name, value] of Object.entries(target.headers ?? {})) headers[name.toLowerCase()] = this.substitute(name, value);
    const deployment = this.masker.answer(deploymentRecord(d));
    let body: string;
    if (target.template) {
      const r = renderTemplate(target.template, { event, deployment }, `notification template for ${safeUrl(target.url)}`);
      if (r.text === undefined) {
        const p = r.problems[0];
        throw new NotSent(p?.code ?? "FLT-TEMPLATE-RENDER", `its template failed: ${p?.message ?? "render error"}`);
      }
      body = this.masker.text(r.text);
    } else {
      body = JSON.stringify({ event, deployment });
    }
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw new NotSent("FLT-NOTIFY-TOO-LARGE", `the body is larger than ${MAX_BODY_BYTES} bytes`);
    return { url, headers, body };
  }

  /**
   * `${NAME}` → the variable, only for names the policy lists; anything else refuses the whole
   * notification (never sent literally, never another variable), so a repository cannot read the
   * server's environment and an author learns at once why the header is missing.
   */
  private substitute(header: string, value: string): string {
    return value.replace(ENV_REFERENCE, (_m, name: string) => {
      if (!this.allowedEnv.has(name)) throw new NotSent("FLT-NOTIFY-ENV-NOT-ALLOWED", `header "${header}" names \${${name}}, which the notification policy does not allow (allowedEnv: serve's notifications configuration, apply --notify-env)`);
      const v = this.o.env?.[name];
      if (v === undefined || v === "") throw new NotSent("FLT-NOTIFY-ENV-UNSET", `header "${header}" names \${${name}}, which is not set on the server`);
      return v;
    });
  }

  private async send(url: URL, headers: Record<string, string>, body: string, trusted: boolean): Promise<void> {
    const attempts = this.o.attempts ?? 5;
    const connect = this.o.connect ?? pinnedConnector;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        // Resolved and checked on every attempt, and the connection goes to the address checked.
        const address = await this.guard.destination(url, trusted);
        const res = await connect({ url, address, headers, body, timeoutMs: this.o.timeoutMs ?? 10_000, maxResponseBytes: MAX_RESPONSE_BYTES });
        if (res.status >= 200 && res.status < 300) return;
        if (res.status >= 300 && res.status < 400) throw new NotSent("FLT-NOTIFY-REDIRECT", `the target answered HTTP ${res.status} (a redirect); redirects are not followed`);
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // the target refuses this request: retrying won't help
      } catch (e) {
        if (e instanceof EgressRefused) throw new NotSent(e.code, e.message);
        if (e instanceof NotSent) throw e;
        last = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      }
      if (attempt < attempts) await this.o.clock.sleep(1000 * 2 ** (attempt - 1));
    }
    throw new NotSent("FLT-NOTIFY-FAILED", last);
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
