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

/**
 * Creates that are not safe to send again blindly after an answer that may hide success (a 5xx, a
 * network error): AWS makes them idempotent through their clientToken, but AWS-compatible endpoints
 * may ignore it (moto does) and make a second task set or service each time. Here only throttling,
 * which guarantees nothing happened, is retried; anything else goes to the deployment, which looks
 * for what the call may have made before it sends the call again (steps.ts, reissue).
 */
const CHECK_BEFORE_REPEATING: ReadonlySet<string> = new Set(["CreateService", "CreateTaskSet", "CreateRule"]);

/** Run `fn` (one AWS call), taking a token of `family` before every attempt. */
export async function callWithRetry<T>(family: BucketFamily, fn: () => Promise<T>, ctx: RetryContext, operation?: string): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...ctx.policy };
  const random = ctx.random ?? Math.random;
  const onlyThrottling = operation !== undefined && CHECK_BEFORE_REPEATING.has(operation);
  for (let attempt = 1; ; attempt++) {
    if (ctx.limiter) await ctx.limiter.acquire(family);
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof AwsError) || !e.retryable || (onlyThrottling && !e.throttling)) throw e;
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
