import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VirtualClock } from "../../src/core/clock.ts";
import { RateLimiter, TokenBucket } from "../../src/aws/token-bucket.ts";
import { ECS_BUCKETS, familyOf } from "../../src/aws/rate-limits.ts";
import { callWithRetry } from "../../src/aws/retry.ts";
import { AwsError } from "../../src/aws/errors.ts";

describe("ECS request-rate buckets", () => {
  it("use the published figures for the families the engine calls", () => {
    assert.deepEqual([ECS_BUCKETS["service-modify"].burst, ECS_BUCKETS["service-modify"].refillPerSecond], [50, 5]);
    assert.deepEqual([ECS_BUCKETS["service-read"].burst, ECS_BUCKETS["service-read"].refillPerSecond], [100, 20]);
    assert.deepEqual([ECS_BUCKETS["cluster-resource-read"].burst, ECS_BUCKETS["cluster-resource-read"].refillPerSecond], [100, 20]);
    assert.deepEqual([ECS_BUCKETS["task-definition-modify"].burst, ECS_BUCKETS["task-definition-modify"].refillPerSecond], [20, 1]);
    assert.equal(familyOf("UpdateService"), "service-modify");
    assert.equal(familyOf("DescribeTasks"), "cluster-resource-read");
  });
});

describe("TokenBucket", () => {
  it("allows the burst, then refills at the sustained rate", () => {
    const b = new TokenBucket({ burst: 3, refillPerSecond: 2 }, 0);
    assert.equal([1, 2, 3, 4].filter(() => b.tryTake(0)).length, 3);
    assert.equal(b.waitTime(0), 500);
    assert.equal(b.tryTake(499), false);
    assert.equal(b.tryTake(500), true);
    assert.equal(b.available(100_000), 3, "never above the burst");
  });
  it("drain empties it", () => {
    const b = new TokenBucket({ burst: 5, refillPerSecond: 1 }, 0);
    b.drain(0);
    assert.equal(b.tryTake(0), false);
    assert.equal(b.waitTime(0), 1000);
  });
});

describe("RateLimiter", () => {
  it("lets the burst through at once and then one call per refill interval, in order", async () => {
    const clock = new VirtualClock({ start: 0, autoAdvance: true });
    const limiter = new RateLimiter(clock, { "service-modify": { burst: 2, refillPerSecond: 4, source: "assumed" } });
    const times: [number, number][] = [];
    await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
      await limiter.acquire("service-modify");
      times.push([i, clock.now()]);
    }));
    assert.deepEqual(times, [[0, 0], [1, 0], [2, 250], [3, 500], [4, 750]]);
  });
});

describe("callWithRetry", () => {
  const throttle = () => new AwsError({ name: "ThrottlingException", message: "Rate exceeded", service: "ECS", operation: "UpdateService" });

  it("retries throttling with growing, jittered delays on the clock", async () => {
    const clock = new VirtualClock({ start: 0, autoAdvance: true });
    let attempts = 0;
    const delays: number[] = [];
    const r = await callWithRetry("service-modify", () => {
      if (++attempts < 4) return Promise.reject(throttle());
      return Promise.resolve("ok");
    }, { clock, random: () => 0.5, onRetry: (_e, _n, d) => delays.push(d) });
    assert.equal(r, "ok");
    assert.equal(attempts, 4);
    assert.deepEqual(delays, [250, 500, 1000]);
    assert.equal(clock.now(), 1750);
  });

  it("does not retry a client error", async () => {
    const clock = new VirtualClock({ start: 0, autoAdvance: true });
    let attempts = 0;
    await assert.rejects(
      callWithRetry("service-modify", () => {
        attempts++;
        return Promise.reject(new AwsError({ name: "ServiceNotFoundException", message: "Service not found.", service: "ECS", operation: "UpdateService" }));
      }, { clock }),
      { name: "ServiceNotFoundException" },
    );
    assert.equal(attempts, 1);
  });

  it("gives up after the attempt limit and drains the family's bucket when throttled", async () => {
    const clock = new VirtualClock({ start: 0, autoAdvance: true });
    const limiter = new RateLimiter(clock);
    let attempts = 0;
    await assert.rejects(callWithRetry("service-modify", () => {
      attempts++;
      return Promise.reject(throttle());
    }, { clock, limiter, policy: { maxThrottledAttempts: 3 }, random: () => 0 }), { name: "ThrottlingException" });
    assert.equal(attempts, 3);
    assert.equal(limiter.bucket("service-modify").available(clock.now()) < 1, true);
  });

  it("classifies errors the same way whatever their source", () => {
    assert.equal(throttle().throttling, true);
    assert.equal(new AwsError({ name: "ServerException", message: "x", service: "ECS", operation: "X" }).retryable, true);
    assert.equal(new AwsError({ name: "InvalidParameterException", message: "x", service: "ECS", operation: "X" }).retryable, false);
    assert.equal(new AwsError({ name: "Weird", message: "x", service: "ECS", operation: "X", httpStatus: 503 }).retryable, true);
  });
});
