import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpuUnits, memoryMiB, normalizeTaskDefinition } from "../../src/plan/task-definition.ts";
import { diffDefinitions } from "../../src/plan/diff.ts";
import { TASK_DEFINITION_RESPONSE_ONLY } from "../../src/plan/shapes.ts";
import type { JsonRecord } from "../../src/plan/types.ts";
import { container, desiredTaskDefinition, liveTaskDefinition } from "./fixtures.ts";

function diff(desired: JsonRecord, live: JsonRecord) {
  return diffDefinitions(normalizeTaskDefinition(desired), normalizeTaskDefinition(live));
}

describe("task definition normalisation", () => {
  it("given a taskdef and its DescribeTaskDefinition answer, then nothing differs", () => {
    const d = diff(desiredTaskDefinition(), liveTaskDefinition());
    assert.deepEqual(d.changes, []);
    assert.equal(d.changed, false);
    assert.equal(d.text, "");
  });

  it("takes the response-only members from the SDK's shapes", () => {
    for (const member of ["taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy", "deregisteredAt"]) {
      assert.ok(TASK_DEFINITION_RESPONSE_ONLY.has(member), member);
    }
    assert.ok(!TASK_DEFINITION_RESPONSE_ONLY.has("containerDefinitions"));
    const n = normalizeTaskDefinition(liveTaskDefinition());
    for (const member of TASK_DEFINITION_RESPONSE_ONLY) assert.equal(n[member], undefined, member);
  });

  it("accepts the inner taskDefinition member as well as the whole DescribeTaskDefinition output", () => {
    const inner = liveTaskDefinition()["taskDefinition"] as JsonRecord;
    const { tags: _tags, ...withoutTags } = desiredTaskDefinition();
    assert.deepEqual(normalizeTaskDefinition(inner), normalizeTaskDefinition(withoutTags));
  });

  it("given a new image, then the change is at $.containerDefinitions[0].image with both values", () => {
    const desired = desiredTaskDefinition();
    container(desired, 0)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.5.0";
    const d = diff(desired, liveTaskDefinition());
    assert.equal(d.changed, true);
    assert.deepEqual(d.changes, [
      { path: "$.containerDefinitions[0].image", kind: "changed", desired: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.5.0", live: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2" },
    ]);
  });

  it("given the environment in another order, then nothing differs", () => {
    const desired = desiredTaskDefinition();
    (container(desired, 0)["environment"] as unknown[]).reverse();
    assert.equal(diff(desired, liveTaskDefinition()).changed, false);
  });

  it("given the secrets, tags and requiresCompatibilities in another order, then nothing differs", () => {
    const desired = desiredTaskDefinition();
    container(desired, 0)["secrets"] = [
      { name: "Z_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/z" },
      ...(container(desired, 0)["secrets"] as unknown[]),
    ];
    desired["requiresCompatibilities"] = ["FARGATE", "EC2"];
    const live = liveTaskDefinition();
    const liveWeb = container(live, 0);
    liveWeb["secrets"] = [...(liveWeb["secrets"] as unknown[]), { name: "Z_KEY", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/z" }];
    (live["taskDefinition"] as JsonRecord)["requiresCompatibilities"] = ["EC2", "FARGATE"];
    (live["tags"] as unknown[]).reverse();
    assert.equal(diff(desired, live).changed, false);
  });

  it("given the containers in another order, then it is a change", () => {
    const desired = desiredTaskDefinition();
    (desired["containerDefinitions"] as unknown[]).reverse();
    const d = diff(desired, liveTaskDefinition());
    assert.equal(d.changed, true);
    assert.ok(d.changes.every((c) => c.path.startsWith("$.containerDefinitions[")), JSON.stringify(d.changes));
  });

  it("given ECS defaults written out in the taskdef, then nothing differs", () => {
    const desired = desiredTaskDefinition();
    const web = container(desired, 0);
    Object.assign(web, { essential: true, cpu: 0, privileged: false, readonlyRootFilesystem: false, mountPoints: [], volumesFrom: [] });
    web["portMappings"] = [{ containerPort: 8080, hostPort: 8080, protocol: "tcp", name: "http", appProtocol: "http" }];
    web["healthCheck"] = { command: ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], interval: 30, timeout: 5, retries: 3, startPeriod: 10 };
    Object.assign(desired, { volumes: [], placementConstraints: [], enableFaultInjection: false });
    assert.equal(diff(desired, liveTaskDefinition()).changed, false);
  });

  it("given defaults in neither the taskdef nor the live one, then nothing differs either way round", () => {
    const live = liveTaskDefinition();
    const web = container(live, 0);
    delete web["essential"];
    delete web["cpu"];
    web["portMappings"] = [{ containerPort: 8080, name: "http", appProtocol: "http" }];
    const desired = desiredTaskDefinition();
    container(desired, 1)["essential"] = true;
    assert.equal(diff(desired, live).changed, false);
  });

  it("given a non-default value, then it is a change (essential false, a longer health-check interval)", () => {
    const desired = desiredTaskDefinition();
    container(desired, 1)["essential"] = false;
    (container(desired, 0)["healthCheck"] as JsonRecord)["interval"] = 60;
    const paths = diff(desired, liveTaskDefinition()).changes.map((c) => [c.path, c.kind]);
    assert.deepEqual(paths, [
      ["$.containerDefinitions[0].healthCheck.interval", "added"],
      ["$.containerDefinitions[1].essential", "added"],
    ]);
  });

  it("given cpu and memory as '0.25 vCPU' / '0.5 GB' or as numbers, then they equal ECS's unit strings", () => {
    for (const [cpu, memory] of [["0.25 vCPU", "0.5 GB"], [256, 512], ["256", "512 MiB"], [".25 vcpu", "0.5gb"]] as const) {
      const desired = { ...desiredTaskDefinition(), cpu, memory };
      assert.equal(diff(desired, liveTaskDefinition()).changed, false, `${cpu} / ${memory}`);
    }
    assert.equal(cpuUnits("1 vCPU"), "1024");
    assert.equal(memoryMiB("2 GB"), "2048");
  });

  it("given more memory, then the change is at $.memory", () => {
    const d = diff({ ...desiredTaskDefinition(), memory: "1 GB" }, liveTaskDefinition());
    assert.deepEqual(d.changes, [{ path: "$.memory", kind: "changed", desired: "1024", live: "512" }]);
  });

  it("given an added and a removed environment variable, then each has its own path and kind", () => {
    const desired = desiredTaskDefinition();
    const env = container(desired, 0)["environment"] as JsonRecord[];
    container(desired, 0)["environment"] = [...env.filter((e) => e["name"] !== "LOG_LEVEL"), { name: "REGION", value: "us-east-1" }];
    const d = diff(desired, liveTaskDefinition());
    // Canonical order: DB_PASSWORD, FEATURE_FLAGS, LOG_LEVEL (live) / REGION (desired).
    assert.deepEqual(d.changes, [
      { path: "$.containerDefinitions[0].environment[2]", kind: "removed", live: { name: "LOG_LEVEL", value: "info" } },
      { path: "$.containerDefinitions[0].environment[2]", kind: "added", desired: { name: "REGION", value: "us-east-1" } },
    ]);
    const removedOnly = desiredTaskDefinition();
    container(removedOnly, 0)["environment"] = env.filter((e) => e["name"] !== "LOG_LEVEL");
    assert.deepEqual(diff(removedOnly, liveTaskDefinition()).changes, [{ path: "$.containerDefinitions[0].environment[2]", kind: "removed", live: { name: "LOG_LEVEL", value: "info" } }]);
  });

  it("under bridge networking, hostPort 0 is the dynamic default but a fixed host port is a change", () => {
    const base = (): JsonRecord => ({ family: "w", containerDefinitions: [{ name: "w", image: "nginx", memory: 128, portMappings: [{ containerPort: 80 }] }] });
    const live = { taskDefinition: { ...base(), networkMode: "bridge", containerDefinitions: [{ name: "w", image: "nginx", memory: 128, cpu: 0, essential: true, portMappings: [{ containerPort: 80, hostPort: 0, protocol: "tcp" }] }] } };
    assert.equal(diff(base(), live).changed, false);
    const fixed = base();
    container(fixed, 0)["portMappings"] = [{ containerPort: 80, hostPort: 80 }];
    assert.deepEqual(diff(fixed, live).changes.map((c) => c.path), ["$.containerDefinitions[0].portMappings[0].hostPort"]);
  });

  it("sorts proxy properties and is idempotent", () => {
    const proxy = (order: string[]): JsonRecord => ({
      ...desiredTaskDefinition(),
      proxyConfiguration: { type: "APPMESH", containerName: "envoy", properties: order.map((name) => ({ name, value: name === "ProxyIngressPort" ? "15000" : "15001" })) },
    });
    assert.equal(diff(proxy(["ProxyIngressPort", "ProxyEgressPort"]), proxy(["ProxyEgressPort", "ProxyIngressPort"])).changed, false);
    const once = normalizeTaskDefinition(liveTaskDefinition());
    assert.deepEqual(normalizeTaskDefinition(once), once);
  });

  it("does not change its input", () => {
    const live = liveTaskDefinition();
    const before = JSON.stringify(live);
    normalizeTaskDefinition(live);
    assert.equal(JSON.stringify(live), before);
  });
});
