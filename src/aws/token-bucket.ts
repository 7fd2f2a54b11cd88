/**
 * The token-bucket algorithm ECS uses for API throttling: `burst` tokens at most, refilled
 * continuously at `refillPerSecond`. `TokenBucket` answers yes/no (the simulator's server side);
 * `RateLimiter` queues callers until a token is free (the adapter's client side).
 */
import type { Clock } from "../core/clock.ts";
import { BUCKETS, type BucketFamily, type BucketSpec } from "./rate-limits.ts";

export class TokenBucket {
  readonly burst: number;
  private rate: number;
  private tokens: number;
  private last: number;

  constructor(spec: Pick<BucketSpec, "burst" | "refillPerSecond">, now: number) {
    this.burst = spec.burst;
    this.rate = spec.refillPerSecond;
    this.tokens = spec.burst;
    this.last = now;
  }

  get refillPerSecond(): number {
    return this.rate;
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  tryTake(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens + 1e-9 < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens will be available. */
  waitTime(now: number, n = 1): number {
    this.refill(now);
    const missing = n - this.tokens;
    return missing <= 1e-9 ? 0 : Math.ceil((missing / this.rate) * 1000);
  }

  /**
   * Take a token now or in the future: returns how many ms until it is granted. Later callers
   * queue behind earlier ones (the bucket goes into debt), so grants keep the sustained rate.
   */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  /** Empty the bucket: the server says we (or someone sharing the account) are over the limit. */
  drain(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}

/** Client-side limiter: one FIFO queue per bucket family, woken by the injected clock. */
export class RateLimiter {
  private readonly clock: Clock;
  private readonly buckets = new Map<BucketFamily, TokenBucket>();
  private readonly queues = new Map<BucketFamily, (() => void)[]>();
  private readonly pumping = new Set<BucketFamily>();
  private readonly specs: Record<BucketFamily, BucketSpec>;

  constructor(clock: Clock, overrides: Partial<Record<BucketFamily, BucketSpec>> = {}) {
    this.clock = clock;
    this.specs = { ...BUCKETS, ...overrides };
  }

  bucket(family: BucketFamily): TokenBucket {
    let b = this.buckets.get(family);
    if (!b) {
      b = new TokenBucket(this.specs[family], this.clock.now());
      this.buckets.set(family, b);
    }
    return b;
  }

  /** Resolves when a token of `family` has been taken for the caller. */
  acquire(family: BucketFamily): Promise<void> {
    const queue = this.queues.get(family) ?? [];
    this.queues.set(family, queue);
    if (queue.length === 0 && this.bucket(family).tryTake(this.clock.now())) return Promise.resolve();
    return new Promise<void>((resolve) => {
      queue.push(resolve);
      this.pump(family);
    });
  }

  /** The server throttled us anyway (the account's buckets are shared): start from empty. */
  penalize(family: BucketFamily): void {
    this.bucket(family).drain(this.clock.now());
  }

  private pump(family: BucketFamily): void {
    if (this.pumping.has(family)) return;
    this.pumping.add(family);
    const queue = this.queues.get(family)!;
    const bucket = this.bucket(family);
    const loop = async () => {
      try {
        while (queue.length > 0) {
          const wait = bucket.waitTime(this.clock.now());
          if (wait > 0) await this.clock.sleep(wait);
          if (bucket.tryTake(this.clock.now())) queue.shift()!();
        }
      } finally {
        this.pumping.delete(family);
      }
    };
    void loop();
  }
}
