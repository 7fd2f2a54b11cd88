/**
 * Flotilla's circuit breaker as Gitmoxi documents it (DESIGN §2): the threshold rule, the default
 * failureThreshold of 5 inside the block, and the warnings that tell the user when it matters.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { breakerThreshold, depdefSchema } from "../../src/config/depdef.ts";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";
import { svcdef, taskdef } from "../helpers/objects.ts";

after(cleanupTrees);

const breaker = (cb: Record<string, unknown> | undefined) => depdefSchema.parse(cb === undefined ? {} : { gmDeploymentCircuitBreaker: cb });

async function problems(desiredCount: number, depdef: Record<string, unknown> | undefined) {
  const repo = await loadTree({ "a/a_svcdef.json": svcdef("a", { desiredCount }), "a/a_taskdef.json": taskdef("a"), ...(depdef ? { "a/a_depdef.json": JSON.stringify(depdef, null, 2) } : {}) });
  const o = repo.objects[0]!;
  assert.ok(o.valid, JSON.stringify(o.problems));
  return o.problems.filter((p) => p.code.startsWith("FLT-WARN-BREAKER"));
}

describe("Flotilla's circuit-breaker threshold", () => {
  it("is min(failureThreshold, ceil(percent × desired)), counting only settings above 0, as Gitmoxi documents it", () => {
    assert.equal(breakerThreshold(breaker({ failureThreshold: 5, failureThresholdPercent: 0 }), 10).threshold, 5);
    assert.equal(breakerThreshold(breaker({ failureThreshold: 0, failureThresholdPercent: 30 }), 10).threshold, 3, "Gitmoxi's example: 30% of 10 is 3");
    assert.equal(breakerThreshold(breaker({ failureThreshold: 5, failureThresholdPercent: 30 }), 10).threshold, 3);
    assert.equal(breakerThreshold(breaker({ failureThreshold: 0, failureThresholdPercent: 7 }), 100).threshold, 7, "7% of 100 is 7, not ceil(7.000000000000001) = 8");
    assert.equal(breakerThreshold(breaker({ failureThreshold: 0, failureThresholdPercent: 0 }), 10).threshold, 0, "both 0: off");
  });

  it("Given only failureThresholdPercent in the block, Then failureThreshold defaults to 5 and caps it; with no block at all the breaker is on at 5", () => {
    assert.deepEqual(breakerThreshold(breaker({ failureThresholdPercent: 50 }), 20), { threshold: 5, absolute: 5, fromPercent: 10, explained: "min(5, 10) = 5 at desired 20" });
    assert.equal(breakerThreshold(breaker(undefined), 20).threshold, 5);
  });
});

describe("validate: circuit-breaker warnings", () => {
  it("Given only failureThresholdPercent 50 at desired 20, When validated, Then a warning says the default caps it and how to raise it", async () => {
    const [w, ...more] = await problems(20, { gmDeploymentCircuitBreaker: { failureThresholdPercent: 50 } });
    assert.equal(more.length, 0);
    assert.equal(w?.code, "FLT-WARN-BREAKER-CAPPED");
    assert.equal(w.severity, "warning");
    assert.match(w.message, /threshold is min\(5, 10\) = 5 at desired 20/);
    assert.match(w.message, /set failureThreshold to raise it/);
    assert.equal(w.file, "a/a_depdef.json");
    assert.equal(w.path, "$.gmDeploymentCircuitBreaker.failureThresholdPercent");
    assert.equal(w.line, 3);
  });

  it("Given the percent below the cap, or failureThreshold written out, or no block, Then there is nothing to warn about", async () => {
    assert.deepEqual(await problems(20, { gmDeploymentCircuitBreaker: { failureThresholdPercent: 20 } }), [], "ceil(20% × 20) = 4 is below 5");
    assert.deepEqual(await problems(20, { gmDeploymentCircuitBreaker: { failureThreshold: 5, failureThresholdPercent: 50 } }), [], "min(5, 10) chosen on purpose");
    assert.deepEqual(await problems(20, { gmDeploymentCircuitBreaker: { failureThreshold: 0, failureThresholdPercent: 50 } }), [], "the percent alone");
    assert.deepEqual(await problems(20, undefined), []);
  });

  it("Given failureThresholdPercent 0.2, When validated, Then a warning says it is a percent and suggests 20", async () => {
    const found = await problems(10, { gmDeploymentCircuitBreaker: { failureThreshold: 5, failureThresholdPercent: 0.2 } });
    assert.deepEqual(found.map((p) => p.code), ["FLT-WARN-BREAKER-PERCENT"]);
    assert.match(found[0]!.message, /a percent, 0–100: .*did you mean 20\?/);
  });
});
