/**
 * The traffic-router seam: routes and weights as pure data (route.ts), the ALB router against the
 * simulator (discover, read, apply with read-back), and a blue/green deployment whose weight change
 * does not read back as written.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Action } from "../../src/aws/ports.ts";
import { Runner } from "../../src/deploy/runner.ts";
import { AlbRouter } from "../../src/deploy/traffic/alb.ts";
import { describeDrift, drift, forwardsTo, routesAt, shareOf, type Route } from "../../src/deploy/traffic/route.ts";
import { TrafficNotVerified } from "../../src/deploy/traffic/router.ts";
import { bgSpec, bgWorld, withElbv2, type BgWorld } from "../helpers/engine.ts";

const BLUE = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-blue/1";
const GREEN = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-green/2";
const OTHER = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/other/3";
const weights = (...tgs: [string, number][]): Action => ({ type: "forward", forwardConfig: { targetGroups: tgs.map(([targetGroupArn, weight]) => ({ targetGroupArn, weight })) } });
const route = (actions: Action[], arn = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/lb/1/443"): Route => ({ kind: "listener", arn, actions });

describe("routes as data", () => {
  it("shareOf: a single forward sends everything; weights count relative to their total; other actions send nothing", () => {
    const cases: [string, Action[], string, number][] = [
      ["single forward", [{ type: "forward", targetGroupArn: BLUE }], BLUE, 100],
      ["single forward, other group", [{ type: "forward", targetGroupArn: BLUE }], GREEN, 0],
      ["80/20", [weights([BLUE, 80], [GREEN, 20])], GREEN, 20],
      ["200/0 is 100/0", [weights([BLUE, 200], [GREEN, 0])], BLUE, 100],
      ["1/1 is half", [weights([BLUE, 1], [GREEN, 1])], GREEN, 50],
      ["all weights 0", [weights([BLUE, 0], [GREEN, 0])], BLUE, 0],
      ["a redirect", [{ type: "redirect", other: { Host: "x" } }], BLUE, 0],
    ];
    for (const [label, actions, tg, share] of cases) assert.equal(shareOf({ actions }, tg), share, label);
  });

  it("forwardsTo sees a group at weight 0 and a plain forward, not other groups or other action types", () => {
    const pair = new Set([BLUE, GREEN]);
    assert.equal(forwardsTo([weights([BLUE, 100], [GREEN, 0])], new Set([GREEN])), true);
    assert.equal(forwardsTo([{ type: "forward", targetGroupArn: BLUE }], pair), true);
    assert.equal(forwardsTo([{ type: "forward", targetGroupArn: OTHER }], pair), false);
    assert.equal(forwardsTo([{ type: "fixed-response", other: {} }], pair), false);
  });

  it("routesAt puts the weight on green and the rest on blue, always summing to 100, and leaves everything else alone", () => {
    const stickiness = { enabled: true, durationSeconds: 60 };
    const before = route([
      { type: "authenticate-oidc", order: 1, other: { Issuer: "x" } },
      { type: "forward", order: 2, targetGroupArn: BLUE, forwardConfig: { targetGroups: [{ targetGroupArn: BLUE, weight: 1 }], stickiness } },
    ]);
    for (const weight of [0, 1, 20, 99, 100]) {
      const [after] = routesAt([before], [{ blue: BLUE, green: GREEN }], weight);
      assert.deepEqual(after!.actions[0], before.actions[0], "a non-forward action is kept");
      const forward = after!.actions[1]!;
      assert.equal(forward.targetGroupArn, undefined, "the single target group gives way to weights");
      assert.equal(forward.order, 2);
      assert.deepEqual(forward.forwardConfig, { stickiness, targetGroups: [{ targetGroupArn: BLUE, weight: 100 - weight }, { targetGroupArn: GREEN, weight }] });
      assert.equal(forward.forwardConfig.targetGroups.reduce((s, t) => s + t.weight, 0), 100);
    }
    assert.deepEqual(routesAt([route([{ type: "forward", targetGroupArn: OTHER }])], [{ blue: BLUE, green: GREEN }], 50)[0]!.actions, [{ type: "forward", targetGroupArn: OTHER }], "a forward outside the pairs is untouched");
    assert.deepEqual(routesAt([route([weights([BLUE, 100])])], [{ blue: BLUE, green: BLUE }], 100)[0]!.actions[0]!.forwardConfig!.targetGroups, [{ targetGroupArn: BLUE, weight: 100 }], "a first task set's pair has one member");
    assert.deepEqual(
      routesAt([route([weights([BLUE, 100], [GREEN, 0])])], [{ blue: BLUE, green: BLUE }], 100)[0]!.actions[0]!.forwardConfig!.targetGroups,
      [{ targetGroupArn: BLUE, weight: 100 }, { targetGroupArn: GREEN, weight: 0 }],
      "a first task set's pair keeps the other group at weight 0: dropped, it would lose its load balancer and the next green could not be created on it",
    );
  });

  it("drift names the first route that forwards differently, the group, and both shares; a missing route is gone", () => {
    const expected = [route(routesAt([route([weights([BLUE, 100], [GREEN, 0])])], [{ blue: BLUE, green: GREEN }], 20)[0]!.actions)];
    assert.equal(drift(expected, [route([weights([BLUE, 160], [GREEN, 40])])]), undefined, "the same split with other numbers is no change");
    const d = drift(expected, [route([weights([BLUE, 50], [GREEN, 50])])], [GREEN, BLUE]);
    assert.deepEqual(d, { route: { kind: "listener", arn: expected[0]!.arn }, targetGroupArn: GREEN, share: 50, expected: 20 });
    assert.equal(describeDrift(d), "listener listener/app/lb/1/443 sends 50% to web-green, expected 20%");
    assert.deepEqual(drift(expected, []), { route: { kind: "listener", arn: expected[0]!.arn }, gone: true });
    assert.deepEqual(drift(expected, [{ ...expected[0]!, kind: "rule" }]), { route: { kind: "listener", arn: expected[0]!.arn }, gone: true }, "a rule of the same ARN is not the listener");
    const third = drift(expected, [route([weights([BLUE, 80], [GREEN, 20], [OTHER, 10])])]);
    assert.ok(third && !third.gone && third.share !== third.expected, "a third group taking traffic is a change");
    assert.deepEqual(drift(expected, [route([weights([BLUE, 79], [GREEN, 21])])], [GREEN, BLUE]), { route: { kind: "listener", arn: expected[0]!.arn }, targetGroupArn: GREEN, share: 21, expected: 20 }, "1% more on green is a change");
  });
});

describe("the ALB router on the simulator", () => {
  let w: BgWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("discovers the listener and the path rule that forward to the pair (not the default rule, not the other listener), with the groups' health-check intervals", async () => {
    w = await bgWorld();
    const router = new AlbRouter(w.sim.ports().elbv2);
    const found = await router.discover([w.tg("web-blue"), w.tg("web-green")]);
    assert.deepEqual(found.routes.map((r) => r.kind), ["listener", "rule"]);
    assert.ok(found.routes.every((r) => forwardsTo(r.actions, new Set([w!.tg("web-blue")]))));
    assert.deepEqual(found.healthCheckIntervals, [10, 10]);
    assert.deepEqual((await router.discover([w.tg("api-green")])).routes.map((r) => r.kind), ["listener"], "a group at weight 0 is found");
  });

  it("apply sets the weights and they read back; a route removed meanwhile is absent from read", async () => {
    w = await bgWorld();
    const router = new AlbRouter(w.sim.ports().elbv2);
    const { routes } = await router.discover([w.tg("web-blue"), w.tg("web-green")]);
    await router.apply(routesAt(routes, [{ blue: w.tg("web-blue"), green: w.tg("web-green") }], 30));
    assert.deepEqual((await w.weights())["443"], { "web-blue": 70, "web-green": 30 });
    assert.deepEqual(await w.ruleWeights(), { "10": { "web-blue": 70, "web-green": 30 } });
    const read = await router.read(routes);
    assert.deepEqual(read.map((r) => shareOf(r, w!.tg("web-green"))), [30, 30]);
  });

  it("apply throws TrafficNotVerified, naming the route and what it now sends, when the endpoint accepts the change but does not make it", async () => {
    w = await bgWorld();
    const ports = withElbv2(w.sim.portsFactory(), (elbv2) => ({ modifyListener: async (input) => (await elbv2.describeListeners({ listenerArns: [input.listenerArn] }))[0]! }))("us-east-1");
    const router = new AlbRouter(ports.elbv2);
    const { routes } = await router.discover([w.tg("web-blue"), w.tg("web-green")]);
    const err = await router.apply(routesAt(routes, [{ blue: w.tg("web-blue"), green: w.tg("web-green") }], 20)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof TrafficNotVerified, String(err));
    assert.equal(err.name, "TrafficNotVerified");
    assert.match(err.message, /^reading the routes back shows listener listener\/app\/public\/\S+ sends 100% to web-blue, expected 80%$/);
  });
});

describe("blue/green through the router", () => {
  let w: BgWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it("Given an endpoint that ignores ModifyListener, When the first shift does not read back, Then the deployment stops with TrafficNotVerified and rolls back to blue", async () => {
    w = await bgWorld();
    await w.deploy(bgSpec(w, "web:1"));
    const aws = withElbv2(w.sim.portsFactory(), (elbv2) => ({ modifyListener: async (input) => (await elbv2.describeListeners({ listenerArns: [input.listenerArn] }))[0]! }));
    const runner = new Runner({ store: w.store, aws, clock: w.clock });
    const d = await runner.run(await runner.create(bgSpec(w, "web:2"), { strategy: "bluegreen" }));
    assert.equal(d.phase, "RolledBack", `${d.reason}: ${d.message}`);
    assert.equal(d.reason, "TrafficNotVerified");
    assert.match(d.message ?? "", /set to 20% on green, but reading the routes back shows listener \S+ sends 100% to web-blue, expected 80%/);
    assert.deepEqual((await w.weights())["443"], { "web-blue": 100, "web-green": 0 });
    assert.deepEqual(await w.ruleWeights(), { "10": { "web-blue": 100, "web-green": 0 } }, "the rule, which did move, is moved back");
  });
});
