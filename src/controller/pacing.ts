/**
 * When the deployments of a pass (an `apply`, a commit) start, and how many run at once.
 *
 * A deployment spends seconds changing things and minutes waiting for ECS; what limits a large
 * pass is ECS's request rate, not the number of deployments waiting. So by default ("auto") a
 * deployment starts when the ECS bucket its first change draws from has a token —
 * RegisterTaskDefinition (20 at once, then 1 a second) for one that registers its task definition,
 * the service bucket (50, then 5 a second) for the others — with no cap on how many wait for
 * stability together: the slowest bucket stays saturated, and no call queues in the client-side
 * limiter behind a deployment that has not started. A number caps the deployments in flight as
 * well (`--concurrency 1` deploys one at a time); they still start no faster than the buckets.
 *
 * The buckets are per account and Region, so one pacer serves every pass of a process
 * (the controller keeps one for all repositories).
 */
import { ECS_BUCKETS } from "../aws/rate-limits.ts";
import { TokenBucket } from "../aws/token-bucket.ts";
import type { Clock } from "../core/clock.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Strategy } from "../store/types.ts";

export type Concurrency = number | "auto";

/** What `apply` and `serve` use unless told otherwise. */
export const DEFAULT_CONCURRENCY: Concurrency = "auto";

/** `--concurrency` as given: a whole number of 1 or more, or `auto`. */
export function parseConcurrency(value: string | undefined): Concurrency {
  if (value === undefined || value.trim() === "auto") return "auto";
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 ? n : "auto";
}

/** Which bucket a deployment's first change draws from. */
export type FirstChange = "register" | "service";

/** A delete's first change is UpdateService (scale to 0); a deployment's, registering its taskdef when it has one. */
export function firstChange(spec: DeploySpec, strategy: Strategy): FirstChange {
  return strategy !== "delete" && spec.taskdef ? "register" : "service";
}

export class StartPacer {
  private readonly clock: Clock;
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Resolves when a deployment in `region` whose first change is `first` may start; callers start in the order they asked. */
  async admit(region: string, first: FirstChange): Promise<void> {
    const key = `${region}\u0000${first}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(first === "register" ? ECS_BUCKETS["task-definition-modify"] : ECS_BUCKETS["service-modify"], this.clock.now());
      this.buckets.set(key, bucket);
    }
    const wait = bucket.reserve(this.clock.now());
    if (wait > 0) await this.clock.sleep(wait);
  }
}

/** At most `limit` holders at once ("auto": no limit). */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: Concurrency) {
    this.free = limit === "auto" ? Number.POSITIVE_INFINITY : limit;
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * Starts deployments of one pass: each `start(region, first, run)` waits for a slot (when a number
 * caps the pass), then for the pacer, then runs. Slots are taken in the order starts are asked for.
 */
export class PassStarter {
  private readonly slots: Slots;
  private readonly pacer: StartPacer;

  constructor(concurrency: Concurrency, pacer: StartPacer) {
    this.slots = new Slots(concurrency);
    this.pacer = pacer;
  }

  async start<R>(region: string, first: FirstChange, run: () => Promise<R>): Promise<R> {
    await this.slots.take();
    try {
      await this.pacer.admit(region, first);
      return await run();
    } finally {
      this.slots.give();
    }
  }
}
