/** Injected faults: per image (what its tasks do), per API (errors, latency). SPEC.md §Faults. */

export interface ImageFault {
  /** Image reference; `*` matches any run of characters (e.g. `repo/app:v2*`). */
  image: string;
  /** The pull fails: the task stops with CannotPullContainerError and never runs. */
  pullFails?: boolean;
  /** The essential container exits this many seconds after RUNNING. */
  exitAfterMs?: number;
  exitCode?: number;
  /** Load-balancer and container health checks fail. */
  failsHealthChecks?: boolean;
  /** Extra time between PENDING and RUNNING. */
  startDelayMs?: number;
  /** Active only within [fromMs, untilMs) of simulated time since the scenario start. */
  fromMs?: number;
  untilMs?: number;
}

export interface ApiFault {
  /** AWS operation name (`UpdateService`) or `*`. */
  operation: string;
  /** Fraction of calls failing, 0–1. */
  errorRate?: number;
  /** Error name to fail with (default ServerException / InternalFailure). */
  error?: string;
  message?: string;
  /** Added to every matching call, on the simulator's clock. */
  latencyMs?: number;
  fromMs?: number;
  untilMs?: number;
}

/**
 * What a Lambda lifecycle hook answers (ECS-managed deployments): SUCCEEDED or FAILED, after
 * answering IN_PROGRESS until `afterMs` has passed since its first invocation. Without a matching
 * fault a hook answers SUCCEEDED at once.
 */
export interface HookFault {
  /** The hook's Lambda ARN; `*` matches any run of characters. */
  hook: string;
  /** Only at this lifecycle stage (default: every stage the hook runs at). */
  stage?: string;
  outcome: "SUCCEEDED" | "FAILED";
  afterMs?: number;
  /** The callBackDelay the hook returns with IN_PROGRESS (default 30 s, ECS's default). */
  callBackDelayMs?: number;
  fromMs?: number;
  untilMs?: number;
}

export interface ImageBehaviour {
  pullFails: boolean;
  exitAfterMs?: number;
  exitCode: number;
  failsHealthChecks: boolean;
  startDelayMs: number;
}

/** An image no fault names: it pulls, starts, stays healthy and keeps running. Shared, never changed. */
const HEALTHY_IMAGE: Readonly<ImageBehaviour> = Object.freeze({ pullFails: false, exitCode: 1, failsHealthChecks: false, startDelayMs: 0 });

function globToRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
}

export class Faults {
  private readonly images: { fault: ImageFault; re: RegExp }[];
  readonly apis: ApiFault[];
  private readonly hooks: { fault: HookFault; re: RegExp }[];

  constructor(images: ImageFault[] = [], apis: ApiFault[] = [], hooks: HookFault[] = []) {
    this.images = images.map((fault) => ({ fault, re: globToRegExp(fault.image) }));
    this.apis = apis;
    this.hooks = hooks.map((fault) => ({ fault, re: globToRegExp(fault.hook) }));
  }

  addHookFault(fault: HookFault): void {
    this.hooks.push({ fault, re: globToRegExp(fault.hook) });
  }

  /** The last matching fault for a hook invoked at `stage`, first invoked at `elapsedMs`. */
  hookFault(hookTargetArn: string, stage: string, elapsedMs: number): HookFault | undefined {
    return this.hooks.filter(({ fault, re }) => re.test(hookTargetArn) && (fault.stage === undefined || fault.stage === stage) && within(fault, elapsedMs)).at(-1)?.fault;
  }

  addImageFault(fault: ImageFault): void {
    this.images.push({ fault, re: globToRegExp(fault.image) });
  }

  addApiFault(fault: ApiFault): void {
    this.apis.push(fault);
  }

  /** What a task launched at `elapsedMs` with these containers' images does; every matching fault applies. */
  behaviour(containers: readonly { image: string }[], elapsedMs: number): Readonly<ImageBehaviour> {
    if (this.images.length === 0) return HEALTHY_IMAGE;
    const b: ImageBehaviour = { ...HEALTHY_IMAGE };
    for (const { fault, re } of this.images) {
      if (!containers.some((c) => re.test(c.image)) || !within(fault, elapsedMs)) continue;
      if (fault.pullFails) b.pullFails = true;
      if (fault.failsHealthChecks) b.failsHealthChecks = true;
      if (fault.exitAfterMs !== undefined) b.exitAfterMs = Math.min(b.exitAfterMs ?? Infinity, fault.exitAfterMs);
      if (fault.exitCode !== undefined) b.exitCode = fault.exitCode;
      if (fault.startDelayMs) b.startDelayMs += fault.startDelayMs;
    }
    return b;
  }

  apiFaults(operation: string, elapsedMs: number): ApiFault[] {
    return this.apis.filter((f) => (f.operation === "*" || f.operation === operation) && within(f, elapsedMs));
  }
}

function within(f: { fromMs?: number; untilMs?: number }, t: number): boolean {
  return (f.fromMs === undefined || t >= f.fromMs) && (f.untilMs === undefined || t < f.untilMs);
}
