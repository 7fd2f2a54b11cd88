import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dropServerChosen, normalizeServiceDefinition } from "../../src/plan/service.ts";
import { diffDefinitions } from "../../src/plan/diff.ts";
import { SERVICE_RESPONSE_ONLY } from "../../src/plan/shapes.ts";
import type { JsonRecord, ServiceContext } from "../../src/plan/types.ts";
import { ACCOUNT, desiredService, liveService } from "./fixtures.ts";

/** As planObject compares them: both sides normalised, then what ECS chose itself set aside. */
function diff(desired: JsonRecord, live: JsonRecord, context: ServiceContext = {}) {
  const d = normalizeServiceDefinition(desired, context);
  const l = normalizeServiceDefinition(live, context);
  dropServerChosen(d, l);
  return diffDefinitions(d, l);
}
function paths(desired: JsonRecord, live: JsonRecord, context: ServiceContext = {}): string[] {
  return diff(desired, live, context).changes.map((c) => c.path);
}

describe("service normalisation", () => {
  it("given a svcdef and its DescribeServices entry, then nothing differs", () => {
    const d = diff(desiredService(), liveService());
    assert.deepEqual(d.changes, []);
    assert.equal(d.text, "");
  });

  it("takes the response-only members from the SDK's shapes and drops them", () => {
    for (const member of ["serviceArn", "clusterArn", "status", "runningCount", "pendingCount", "deployments", "events", "createdAt", "createdBy", "taskSets", "roleArn"]) {
      assert.ok(SERVICE_RESPONSE_ONLY.has(member), member);
    }
    const n = normalizeServiceDefinition(liveService());
    for (const member of SERVICE_RESPONSE_ONLY) assert.equal(n[member], undefined, member);
    assert.equal(n["cluster"], undefined);
  });

  it("given ECS defaults written out in the svcdef, then nothing differs", () => {
    const desired = {
      ...desiredService(),
      schedulingStrategy: "REPLICA",
      propagateTags: "NONE",
      enableECSManagedTags: false,
      enableExecuteCommand: false,
      platformVersion: "LATEST",
      deploymentController: { type: "ECS" },
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true } },
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"], securityGroups: ["sg-0123456789abcdef0"], assignPublicIp: "DISABLED" } },
      placementConstraints: [],
      serviceRegistries: [],
    };
    assert.deepEqual(paths(desired, liveService()), []);
  });

  it("given subnets and security groups in another order, then nothing differs", () => {
    const live = liveService();
    const vpc = (live["networkConfiguration"] as { awsvpcConfiguration: JsonRecord }).awsvpcConfiguration;
    vpc["securityGroups"] = ["sg-0ffffffffffffffff", "sg-0123456789abcdef0"];
    const desired = desiredService();
    (desired["networkConfiguration"] as { awsvpcConfiguration: JsonRecord }).awsvpcConfiguration["securityGroups"] = ["sg-0123456789abcdef0", "sg-0ffffffffffffffff"];
    assert.deepEqual(paths(desired, live), []);
  });

  it("given a public IP or a new desired count, then each is a change at its path", () => {
    const desired = desiredService();
    desired["desiredCount"] = 4;
    (desired["networkConfiguration"] as { awsvpcConfiguration: JsonRecord }).awsvpcConfiguration["assignPublicIp"] = "ENABLED";
    const d = diff(desired, liveService());
    assert.deepEqual(d.changes, [
      { path: "$.desiredCount", kind: "changed", desired: 4, live: 2 },
      { path: "$.networkConfiguration.awsvpcConfiguration.assignPublicIp", kind: "added", desired: "ENABLED" },
    ]);
  });

  it("compares the task definition by family: the live revision ARN matches the family, another family does not", () => {
    assert.deepEqual(paths({ ...desiredService(), taskDefinition: "web" }, liveService()), []);
    assert.deepEqual(paths({ ...desiredService(), taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:3` }, liveService()), []);
    const d = diff({ ...desiredService(), taskDefinition: "api" }, liveService());
    assert.deepEqual(d.changes, [{ path: "$.taskDefinition", kind: "changed", desired: "api", live: "web" }]);
  });

  it("compares a pinned revision exactly when asked to", () => {
    const byRevision: ServiceContext = { taskDefinitionBy: "revision" };
    assert.deepEqual(paths({ ...desiredService(), taskDefinition: "web:7" }, liveService(), byRevision), []);
    assert.deepEqual(paths({ ...desiredService(), taskDefinition: "web:8" }, liveService(), byRevision), ["$.taskDefinition"]);
  });

  it("drops the service-linked role and compares any other role by name, whether given as a name or an ARN", () => {
    const live = { ...liveService(), roleArn: `arn:aws:iam::${ACCOUNT}:role/ecsServiceRole` };
    assert.deepEqual(paths({ ...desiredService(), role: "ecsServiceRole" }, live), []);
    assert.deepEqual(paths({ ...desiredService(), role: `arn:aws:iam::${ACCOUNT}:role/ecsServiceRole` }, live), []);
    assert.deepEqual(paths(desiredService(), live), ["$.role"]);
  });

  it("treats a bare EC2 launch type as the default, and a strategy equal to the cluster's default as one", () => {
    const ec2Live: JsonRecord = { ...liveService(), launchType: "EC2" };
    delete ec2Live["platformVersion"];
    const desired = desiredService();
    delete desired["launchType"];
    assert.deepEqual(paths(desired, ec2Live), []);

    const strategy = [{ capacityProvider: "FARGATE_SPOT", weight: 3 }, { capacityProvider: "FARGATE", weight: 1, base: 1 }];
    const cpLive: JsonRecord = { ...liveService(), capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 1 }, { capacityProvider: "FARGATE_SPOT", weight: 3, base: 0 }] };
    delete cpLive["launchType"];
    assert.deepEqual(paths(desired, cpLive), ["$.capacityProviderStrategy"], "unknown cluster default: reported");
    assert.deepEqual(paths(desired, cpLive, { clusterDefaultCapacityProviderStrategy: strategy }), []);
    assert.deepEqual(paths({ ...desired, capacityProviderStrategy: strategy }, cpLive), [], "same strategy in another order, base 0 written out");
    assert.deepEqual(paths({ ...desiredService() }, cpLive).sort(), ["$.capacityProviderStrategy", "$.launchType"]);
  });

  it("for a DAEMON service, ignores the desired count and knows its 100/0 deployment default", () => {
    const live = { ...liveService(), schedulingStrategy: "DAEMON", desiredCount: 5, deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    const desired: JsonRecord = { ...desiredService(), schedulingStrategy: "DAEMON" };
    delete desired["desiredCount"];
    assert.deepEqual(paths(desired, live), []);
  });

  it("given a circuit breaker that is off or does not roll back live, then the change is at its path", () => {
    const off = liveService();
    (off["deploymentConfiguration"] as JsonRecord)["deploymentCircuitBreaker"] = { enable: false, rollback: false };
    // Off is ECS's default, so the live deploymentConfiguration is all defaults and normalises away.
    assert.deepEqual(diff(desiredService(), off).changes, [{ path: "$.deploymentConfiguration", kind: "added", desired: { deploymentCircuitBreaker: { enable: true, rollback: true } } }]);
    const noRollback = liveService();
    (noRollback["deploymentConfiguration"] as JsonRecord)["deploymentCircuitBreaker"] = { enable: true, rollback: false };
    assert.deepEqual(diff(desiredService(), noRollback).changes, [{ path: "$.deploymentConfiguration.deploymentCircuitBreaker.rollback", kind: "changed", desired: true, live: false }]);
  });

  it("keeps the order of placement strategies (ECS applies them in order) but not of constraints", () => {
    const spread = { type: "spread", field: "attribute:ecs.availability-zone" };
    const binpack = { type: "binpack", field: "memory" };
    const c1 = { type: "memberOf", expression: "attribute:ecs.instance-type =~ t3.*" };
    const c2 = { type: "distinctInstance" };
    const live = { ...liveService(), placementStrategy: [spread, binpack], placementConstraints: [c1, c2] };
    assert.deepEqual(paths({ ...desiredService(), placementStrategy: [spread, binpack], placementConstraints: [c2, c1] }, live), []);
    assert.notDeepEqual(paths({ ...desiredService(), placementStrategy: [binpack, spread], placementConstraints: [c1, c2] }, live), []);
  });

  it("reads Service Connect from the PRIMARY deployment, where DescribeServices reports it", () => {
    const sc = { enabled: true, namespace: "dev.local", services: [{ portName: "http", clientAliases: [{ port: 80, dnsName: "web" }] }] };
    const live = liveService();
    const deployments = live["deployments"] as JsonRecord[];
    deployments[0]!["serviceConnectConfiguration"] = sc;
    deployments.push({ id: "ecs-svc/old", status: "ACTIVE", serviceConnectConfiguration: { enabled: false } });
    assert.deepEqual(paths({ ...desiredService(), serviceConnectConfiguration: sc }, live), []);
    assert.deepEqual(paths({ ...desiredService(), serviceConnectConfiguration: { ...sc, namespace: "prod.local" } }, live), ["$.serviceConnectConfiguration.namespace"]);
  });

  it("sets aside what ECS chose itself when the svcdef leaves it out (desiredCount, availabilityZoneRebalancing)", () => {
    const desired = desiredService();
    delete desired["desiredCount"];
    const live = { ...liveService(), desiredCount: 7 };
    assert.deepEqual(paths(desired, live), []);
    assert.deepEqual(paths({ ...desired, availabilityZoneRebalancing: "DISABLED" }, live), ["$.availabilityZoneRebalancing"]);
    const plain = diffDefinitions(normalizeServiceDefinition(desired), normalizeServiceDefinition(live));
    assert.deepEqual(plain.changes.map((c) => c.path), ["$.availabilityZoneRebalancing", "$.desiredCount"], "without dropServerChosen both show");
  });

  it("given tags in another order, then nothing differs; a changed tag value is a change", () => {
    const desired = { ...desiredService(), tags: [{ key: "team", value: "web" }, { key: "env", value: "dev" }] };
    const live = { ...liveService(), tags: [{ key: "env", value: "dev" }, { key: "team", value: "web" }] };
    assert.deepEqual(paths(desired, live), []);
    assert.deepEqual(paths({ ...desired, tags: [{ key: "team", value: "payments" }, { key: "env", value: "dev" }] }, live), ["$.tags[1].value"]);
  });
});
