/**
 * The pure rules of a rainbow object's world (deploy/rainbow/world.ts): which priority a new rule
 * takes, which version is live, which versions a cleanup removes — at their boundaries.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chooseForCleanup, freePriority, liveVersions, referencedElsewhere, type RainbowWorld, type VersionView } from "../../src/deploy/rainbow/world.ts";

const HOUR = 3_600_000;
const NOW = 100 * HOUR;
const tg = (v: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-${v}/0123456789abcdef`;

function version(v: string, createdHoursAgo: number, extra: Partial<VersionView> = {}): VersionView {
  return {
    version: v,
    serviceName: `web-${v}`,
    targetGroupName: `web-${v}`,
    targetGroupArn: tg(v),
    rules: [{ listenerArn: "l", ruleArn: `rule-${v}`, priority: 1 }],
    service: { serviceName: `web-${v}`, status: "ACTIVE", desiredCount: 2, runningCount: 2, createdAt: NOW - createdHoursAgo * HOUR, protected: false },
    ...extra,
  };
}

function world(live: string | undefined, versions: VersionView[], extraRules: { ruleArn: string; forwardsTo: string[] }[] = []): RainbowWorld {
  return {
    listeners: [
      {
        listenerArn: "l",
        live: { kind: "listener", arn: "l", actions: live ? [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: tg(live), weight: 1 }] } }] : [{ type: "fixed-response" }] },
        rules: [...versions.flatMap((v) => v.rules.map((r) => ({ ruleArn: r.ruleArn, priority: r.priority, conditions: [], forwardsTo: [v.targetGroupArn!] }))), ...extraRules.map((r) => ({ ...r, priority: 900, conditions: [] }))],
      },
    ],
    versions,
  };
}

const policy = (over: Partial<{ keep: number; olderThan: number; exclude: string[] }> = {}) => ({ automatic: false, keep: 0, olderThan: 0, exclude: [], ...over });
const removed = (w: RainbowWorld, p = policy(), keepAlso: string[] = []) => chooseForCleanup(w, p, NOW, keepAlso).remove.map((v) => v.version);

describe("rainbow world", () => {
  it("freePriority: the lowest number of the range no rule has, or none when the range is full", () => {
    const rules = (ps: number[]) => ({ rules: ps.map((priority) => ({ ruleArn: "", priority, conditions: [], forwardsTo: [] })) });
    assert.equal(freePriority(rules([]), { from: 1, to: 50000 }), 1);
    assert.equal(freePriority(rules([1, 2, 4]), { from: 1, to: 50000 }), 3);
    assert.equal(freePriority(rules([10]), { from: 10, to: 11 }), 11);
    assert.equal(freePriority(rules([10, 11]), { from: 10, to: 11 }), undefined);
    assert.equal(freePriority(rules([10]), { from: 10, to: 12 }, [11]), 12, "priorities taken meanwhile count");
  });

  it("the live version is the one a live route sends traffic to; a weight of 0 is not live", () => {
    const w = world("v2", [version("v1", 3), version("v2", 2)]);
    assert.deepEqual(liveVersions(w).map((v) => v.version), ["v2"]);
    w.listeners[0]!.live.actions = [{ type: "forward", forwardConfig: { targetGroups: [{ targetGroupArn: tg("v1"), weight: 0 }, { targetGroupArn: tg("v2"), weight: 1 }] } }];
    assert.deepEqual(liveVersions(w).map((v) => v.version), ["v2"]);
    assert.ok(referencedElsewhere(w).has(tg("v1")), "but a weight-0 forward still holds the target group");
  });

  it("cleanup: the live, a protected, an excluded and a hand-routed version always stay; keep N counts the newest of the rest", () => {
    const versions = [version("v1", 5), version("v2", 4, { service: { ...version("v2", 4).service!, protected: true } }), version("v3", 3), version("v4", 2), version("v5", 1)];
    const w = world("v5", versions, [{ ruleArn: "hand", forwardsTo: [tg("v4")] }]);
    assert.deepEqual(removed(w), ["v1", "v3"]);
    assert.deepEqual(removed(w, policy({ keep: 1 })), ["v1"]);
    assert.deepEqual(removed(w, policy({ exclude: ["v1"] })), ["v3"]);
    assert.deepEqual(removed(w, policy({ keep: 5 })), []);
  });

  it("cleanup: olderThan keeps versions exactly that old, removes older ones; a version without a service counts as oldest", () => {
    const half = version("v0", 0, { service: undefined });
    const w = world("v4", [half, version("v1", 3), version("v2", 2), version("v3", 1), version("v4", 0)]);
    assert.deepEqual(removed(w, policy({ olderThan: 2 * 3600 })), ["v0", "v1"], "v2 is exactly 2 h old: it stays");
    assert.deepEqual(removed(w, policy({ keep: 1, olderThan: 1 })), ["v0", "v1", "v2"], "keep 1 keeps v3, the newest not live");
  });

  it("cleanup after a cutover: the version it left is kept first and counts as one of `keep`; with keep 0 it goes too", () => {
    const w = world("v3", [version("v1", 3), version("v2", 2), version("v3", 1)]);
    assert.deepEqual(removed(w, policy({ keep: 1 }), ["v1"]), ["v2"]);
    assert.deepEqual(removed(w, policy({ keep: 2 }), ["v1"]), []);
    assert.deepEqual(removed(w, policy({ keep: 0 }), ["v1"]), ["v1", "v2"]);
  });
});
