/**
 * The depdef's `rainbow` block: its schema, the rules that make every version's names, rule and URL
 * valid, and the naming functions every part of Flotilla shares. Given/When/Then.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rainbowSchema, versionConditions, versionOfConditions, versionTargetGroupName, versionUrl, versionServiceName, versionFromCommit } from "../../src/config/rainbow.ts";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";
import { taskdef } from "../helpers/objects.ts";

after(cleanupTrees);

const LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/public/0123456789abcdef/fedcba9876543210";

export function rainbowBlock(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "v1",
    listeners: [{ listenerArn: LISTENER }],
    route: { hostHeader: "v{version}.app.example.com" },
    targetGroup: { vpcId: "vpc-0abc1234" },
    ...extra,
  };
}

function svc(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cluster: "apps", serviceName: "web", desiredCount: 2, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }, loadBalancers: [{ containerName: "app", containerPort: 80 }], ...extra };
}

async function load(rainbow: unknown, over: { svc?: Record<string, unknown>; depdef?: Record<string, unknown> } = {}) {
  const repo = await loadTree({
    "a/web_svcdef.json": svc(over.svc),
    "a/web_taskdef.json": taskdef("web"),
    "a/web_depdef.json": JSON.stringify({ rainbow, ...over.depdef }, null, 2),
  });
  return repo.objects[0]!;
}

const errors = (o: Awaited<ReturnType<typeof load>>) => o.problems.filter((p) => p.severity === "error").map((p) => [p.code, p.path, p.file]);

describe("depdef rainbow block", () => {
  it("Given a complete block, When validated, Then the object is valid, deploys as rainbow, and the defaults are filled in", async () => {
    const o = await load(rainbowBlock());
    assert.deepEqual(errors(o), []);
    assert.equal(o.strategy, "rainbow");
    const r = o.depdef.rainbow!;
    assert.equal(r.cutover, "MANUAL");
    assert.equal(r.scaleToLive, true);
    assert.deepEqual(r.cleanup, { automatic: true, keep: 1, olderThan: 0, exclude: [] });
    assert.deepEqual(r.rulePriorities, { from: 1, to: 50000 });
    assert.equal(r.targetGroup.protocol, "HTTP");
  });

  it("Given an unknown key inside the block, Then FLT-CONFIG-UNKNOWN-KEY names the depdef, the JSON path and a did-you-mean", async () => {
    const o = await load(rainbowBlock({ cutovr: "AUTOMATIC" }));
    const p = o.problems.find((x) => x.code === "FLT-CONFIG-UNKNOWN-KEY")!;
    assert.equal(p.file, "a/web_depdef.json");
    assert.equal(p.path, "$.rainbow.cutovr");
    assert.match(p.hint ?? "", /cutover/);
    assert.ok(p.line! > 1);
    assert.equal(o.valid, false);
  });

  it("Given wrong types and values (cutover mode, keep, vpcId), Then each is an error at its path", async () => {
    const o = await load(rainbowBlock({ cutover: "SOMETIMES", cleanup: { keep: -1 }, targetGroup: { vpcId: "my-vpc" } }));
    const codes = errors(o);
    assert.ok(codes.some(([c, p]) => c === "FLT-CONFIG-ENUM" && p === "$.rainbow.cutover"), JSON.stringify(codes));
    assert.ok(codes.some(([c, p]) => c === "FLT-CONFIG-RANGE" && p === "$.rainbow.cleanup.keep"), JSON.stringify(codes));
    assert.ok(codes.some(([c, p]) => c === "FLT-CONFIG-RANGE" && p === "$.rainbow.targetGroup.vpcId"), JSON.stringify(codes));
  });

  it("Given a version that cannot be a host label or ELB name, Then FLT-RAINBOW-VERSION at $.rainbow.version", async () => {
    for (const version of ["V1", "v_1", "-v1", "x".repeat(21), ""]) {
      const o = await load(rainbowBlock({ version }));
      assert.deepEqual(errors(o), [["FLT-RAINBOW-VERSION", "$.rainbow.version", "a/web_depdef.json"]], version);
    }
  });

  it("Given a version from the inputs, Then the rendered value is what is checked", async () => {
    const repo = await loadTree({
      "a/web_svcdef.json": svc(),
      "a/web_taskdef.json": taskdef("web"),
      "a/web_input.json": { version: "v42" },
      "a/web_depdef.json": JSON.stringify({ rainbow: rainbowBlock({ version: "{{ version }}" }) }),
    });
    assert.equal(repo.objects[0]!.depdef.rainbow!.version, "v42");
  });

  it("Given a route that does not tell versions apart or is no valid condition, Then FLT-RAINBOW-ROUTE at its path", async () => {
    const cases: [unknown, string][] = [
      [{}, "$.rainbow.route"],
      [{ hostHeader: "app.example.com" }, "$.rainbow.route"],
      [{ hostHeader: "v{version}.app_example.com" }, "$.rainbow.route.hostHeader"],
      [{ hostHeader: "{name}.example.com" }, "$.rainbow.route.hostHeader"],
      [{ pathPattern: "v/{version}/*" }, "$.rainbow.route.pathPattern"],
      [{ hostHeader: `${"a".repeat(110)}{version}.com` }, "$.rainbow.route.hostHeader"],
      [{ httpHeader: { name: "X Version", value: "{version}" } }, "$.rainbow.route.httpHeader.name"],
    ];
    for (const [route, path] of cases) {
      const o = await load(rainbowBlock({ route, url: "https://app.example.com/" }));
      assert.ok(errors(o).some(([c, p]) => c === "FLT-RAINBOW-ROUTE" && p === path), `${JSON.stringify(route)}: ${JSON.stringify(errors(o))}`);
    }
  });

  it("Given path or header routing without a url, or a url that is not http(s), Then FLT-RAINBOW-URL", async () => {
    let o = await load(rainbowBlock({ route: { pathPattern: "/v/{version}/*" } }));
    assert.deepEqual(errors(o), [["FLT-RAINBOW-URL", "$.rainbow", "a/web_depdef.json"]]);
    o = await load(rainbowBlock({ route: { pathPattern: "/v/{version}/*" }, url: "ftp://app.example.com/v/{version}/" }));
    assert.deepEqual(errors(o), [["FLT-RAINBOW-URL", "$.rainbow.url", "a/web_depdef.json"]]);
    o = await load(rainbowBlock({ route: { pathPattern: "/v/{version}/*" }, url: "https://app.example.com/v/{version}/" }));
    assert.deepEqual(errors(o), []);
  });

  it("Given a listener ARN that is not one, a live rule of another listener, or a listener twice, Then FLT-RAINBOW-LISTENER", async () => {
    const otherRule = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/public/0123456789abcdef/aaaaaaaaaaaaaaaa/0000000000000001";
    const ownRule = LISTENER.replace(":listener/", ":listener-rule/") + "/0000000000000001";
    let o = await load(rainbowBlock({ listeners: [{ listenerArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/public/0123456789abcdef" }] }));
    assert.deepEqual(errors(o), [["FLT-RAINBOW-LISTENER", "$.rainbow.listeners[0].listenerArn", "a/web_depdef.json"]]);
    o = await load(rainbowBlock({ listeners: [{ listenerArn: LISTENER, liveRuleArn: otherRule }] }));
    assert.deepEqual(errors(o), [["FLT-RAINBOW-LISTENER", "$.rainbow.listeners[0].liveRuleArn", "a/web_depdef.json"]]);
    o = await load(rainbowBlock({ listeners: [{ listenerArn: LISTENER }, { listenerArn: LISTENER }] }));
    assert.deepEqual(errors(o), [["FLT-RAINBOW-LISTENER", "$.rainbow.listeners[1].listenerArn", "a/web_depdef.json"]]);
    o = await load(rainbowBlock({ listeners: [{ listenerArn: LISTENER, liveRuleArn: ownRule }] }));
    assert.deepEqual(errors(o), []);
  });

  it("Given a listener in another region than the object, Then FLT-SVC-REGION-MISMATCH at the listener", async () => {
    const o = await load(rainbowBlock({ listeners: [{ listenerArn: LISTENER.replace("us-east-1", "eu-west-1") }] }));
    assert.deepEqual(errors(o), [["FLT-SVC-REGION-MISMATCH", "$.rainbow.listeners[0].listenerArn", "a/web_depdef.json"]]);
  });

  it("Given a svcdef that cannot be a version's service, Then FLT-RAINBOW-SERVICE at the svcdef's path", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ deploymentController: { type: "EXTERNAL" } }, "$.deploymentController.type"],
      [{ deploymentConfiguration: { strategy: "LINEAR" } }, "$.deploymentConfiguration.strategy"],
      [{ loadBalancers: [{ targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef", containerName: "app", containerPort: 80 }] }, "$.loadBalancers[0].targetGroupArn"],
      [{ loadBalancers: [] }, "$.loadBalancers"],
      [{ serviceName: "w".repeat(253) }, "$.serviceName"],
    ];
    for (const [extra, path] of cases) {
      const o = await load(rainbowBlock(), { svc: extra });
      assert.ok(errors(o).some(([c, p, f]) => c === "FLT-RAINBOW-SERVICE" && p === path && f === "a/web_svcdef.json"), `${JSON.stringify(extra)}: ${JSON.stringify(errors(o))}`);
    }
  });

  it("Given blue/green-only settings beside the block, Then they are warned about as not applicable; bakeTime is not (it is the alarm watch after a cutover)", async () => {
    const o = await load(rainbowBlock(), { depdef: { trafficShiftingConfig: { type: "LINEAR" }, bakeTime: 120 } });
    assert.equal(o.valid, true);
    const warned = o.problems.filter((p) => p.code === "FLT-DEPDEF-NOT-APPLICABLE").map((p) => p.path);
    assert.deepEqual(warned, ["$.trafficShiftingConfig"]);
  });

  it("Given priorities from above to, Then FLT-CONFIG-RANGE", async () => {
    const o = await load(rainbowBlock({ rulePriorities: { from: 100, to: 10 } }));
    assert.deepEqual(errors(o), [["FLT-CONFIG-RANGE", "$.rainbow.rulePriorities", "a/web_depdef.json"]]);
  });
});

describe("rainbow naming", () => {
  const cfg = rainbowSchema.parse(rainbowBlock({ route: { hostHeader: "v{version}.app.example.com", pathPattern: "/api/*", httpHeader: { name: "X-Env", value: "{version}" } } }));

  it("names a version's service and target group within ECS's and ELB's limits, apart for long names that start alike", () => {
    assert.equal(versionServiceName("web", "v3"), "web-v3");
    assert.equal(versionTargetGroupName(cfg, "web", "v3"), "web-v3");
    const a = versionTargetGroupName(cfg, "payments-service-for-europe-a", "abcdef12");
    const b = versionTargetGroupName(cfg, "payments-service-for-europe-b", "abcdef12");
    assert.ok(a.length <= 32 && b.length <= 32, `${a} ${b}`);
    assert.notEqual(a, b);
    assert.match(a, /-abcdef12$/);
    assert.equal(versionTargetGroupName(rainbowSchema.parse(rainbowBlock({ targetGroup: { vpcId: "vpc-1", namePrefix: "shop" } })), "web", "v3"), "shop-v3");
    assert.equal(versionFromCommit("0123456789ABCDEF"), "01234567");
  });

  it("builds the rule's conditions and recognises them again, for that version only", () => {
    const conditions = versionConditions(cfg, "v7");
    assert.deepEqual(conditions, [
      { Field: "host-header", HostHeaderConfig: { Values: ["vv7.app.example.com"] } },
      { Field: "path-pattern", PathPatternConfig: { Values: ["/api/*"] } },
      { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Env", Values: ["v7"] } },
    ]);
    assert.equal(versionOfConditions(cfg, conditions), "v7");
    assert.equal(versionOfConditions(cfg, conditions.slice(0, 2)), undefined, "a condition missing");
    const mixed = [...versionConditions(cfg, "v7").slice(0, 2), versionConditions(cfg, "v8")[2]!];
    assert.equal(versionOfConditions(cfg, mixed), undefined, "two versions in one rule");
    assert.equal(versionOfConditions(cfg, [{ Field: "host-header", HostHeaderConfig: { Values: ["app.example.com"] } }]), undefined);
  });

  it("builds a version's URL from the host header and the listener, or from url", () => {
    const host = rainbowSchema.parse(rainbowBlock());
    assert.equal(versionUrl(host, "v2", { protocol: "HTTPS", port: 443 }), "https://vv2.app.example.com/");
    assert.equal(versionUrl(host, "v2", { protocol: "HTTP", port: 8080 }), "http://vv2.app.example.com:8080/");
    const path = rainbowSchema.parse(rainbowBlock({ route: { hostHeader: "app.example.com", pathPattern: "/v/{version}/*" } }));
    assert.equal(versionUrl(path, "v2", { protocol: "HTTPS", port: 443 }), "https://app.example.com/v/v2/");
    const given = rainbowSchema.parse(rainbowBlock({ url: "https://{version}.preview.example.com/" }));
    assert.equal(versionUrl(given, "v2"), "https://v2.preview.example.com/");
  });
});
