/**
 * Retries with capped exponential backoff and full jitter ("Exponential backoff and jitter",
 * AWS Architecture Blog), waiting on the injected clock. Throttling gets a longer base delay and
 * drains the client-side bucket, so every caller of that family slows down together (adaptive).
 */
import type { Clock } from "../core/clock.ts";
import { AwsError } from "./errors.ts";
import type { BucketFamily } from "./rate-limits.ts";
import type { RateLimiter } from "./token-bucket.ts";

export interface RetryPolicy {
  /** Attempts in all, for transient errors (5xx, network). */
  maxAttempts: number;
  /** Attempts in all when throttled; higher, because throttling always clears. */
  maxThrottledAttempts: number;
  baseDelayMs: number;
  throttlingBaseDelayMs: number;
  maxDelayMs: number;
}

// Base delays as in the AWS SDKs' standard retry mode (100 ms, 500 ms when throttled, 20 s cap).
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  maxThrottledAttempts: 12,
  baseDelayMs: 100,
  throttlingBaseDelayMs: 500,
  maxDelayMs: 20_000,
};

export interface RetryContext {
  clock: Clock;
  limiter?: RateLimiter;
  policy?: Partial<RetryPolicy>;
  random?: () => number;
  onRetry?: (e: AwsError, attempt: number, delayMs: number) => void;
}

/** Run `fn` (one AWS call), taking a token of `family` before every attempt. */
export async function callWithRetry<T>(family: BucketFamily, fn: () => Promise<T>, ctx: RetryContext): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...ctx.policy };
  const random = ctx.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    if (ctx.limiter) await ctx.limiter.acquire(family);
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof AwsError) || !e.retryable) throw e;
      const limit = e.throttling ? policy.maxThrottledAttempts : policy.maxAttempts;
      if (attempt >= limit) throw e;
      if (e.throttling) ctx.limiter?.penalize(family);
      const base = e.throttling ? policy.throttlingBaseDelayMs : policy.baseDelayMs;
      const cap = Math.min(policy.maxDelayMs, base * 2 ** (attempt - 1));
      const delay = Math.floor(random() * cap);
      ctx.onRetry?.(e, attempt, delay);
      await ctx.clock.sleep(delay);
    }
  }
}
