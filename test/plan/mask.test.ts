import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { planObject } from "../../src/plan/plan.ts";
import { diffDefinitions } from "../../src/plan/diff.ts";
import { normalizeTaskDefinition } from "../../src/plan/task-definition.ts";
import { looksSecret, MASK, MASK_CHANGED } from "../../src/core/mask.ts";
import type { JsonRecord } from "../../src/plan/types.ts";
import { container, DB_PASSWORD, desiredService, desiredTaskDefinition, liveTaskDefinition } from "./fixtures.ts";

function everything(plan: ReturnType<typeof planObject>): string {
  return JSON.stringify(plan);
}

describe("masking secrets in plans", () => {
  it("masks environment values whose names look secret, in the text and in change values", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: {} });
    assert.ok(!everything(plan).includes(DB_PASSWORD));
    assert.match(plan.taskDefinition.text, /"name": "DB_PASSWORD",\n\+\s+"value": "\*\*\*\*"/);
    assert.match(plan.taskDefinition.text, /"value": "info"/, "other values stay readable");
  });

  it("detects a changed secret value but shows neither value", () => {
    const desired = desiredTaskDefinition();
    const env = container(desired, 0)["environment"] as JsonRecord[];
    env.find((e) => e["name"] === "DB_PASSWORD")!["value"] = "new-secret-value";
    const d = diffDefinitions(normalizeTaskDefinition(desired), normalizeTaskDefinition(liveTaskDefinition()));
    assert.equal(d.changed, true);
    assert.deepEqual(d.changes, [{ path: "$.containerDefinitions[0].environment[0].value", kind: "changed", desired: MASK_CHANGED, live: MASK }]);
    assert.ok(!d.text.includes("new-secret-value") && !d.text.includes(DB_PASSWORD));
    assert.match(d.text, /^-\s+"value": "\*\*\*\*"$/m);
    assert.match(d.text, /^\+\s+"value": "\*\*\*\* \(changed\)"$/m);
  });

  it("shows secrets' valueFrom ARNs", () => {
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desiredTaskDefinition() }, live: {} });
    assert.match(plan.taskDefinition.text, /"valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:web\/api-token-AbCdEf"/);
  });

  it("masks the given sensitive strings anywhere, even inside other strings", () => {
    const desired = desiredTaskDefinition();
    container(desired, 0)["command"] = ["serve", "--license=LIC-8f3a9c"];
    const plan = planObject({ desired: { service: desiredService(), taskDefinition: desired }, live: {}, sensitive: ["LIC-8f3a9c"] });
    assert.ok(!everything(plan).includes("LIC-8f3a9c"));
    assert.match(plan.taskDefinition.text, /"--license=\*\*\*\*"/);
  });

  it("masks log driver options with secret-looking keys and passwords in URLs", () => {
    const desired = desiredTaskDefinition();
    const web = container(desired, 0);
    web["logConfiguration"] = { logDriver: "splunk", options: { "splunk-url": "https://splunk.example.com:8088", "splunk-token": "00000000-aaaa-bbbb-cccc-111111111111" } };
    web["environment"] = [{ name: "DATABASE_URL", value: "postgres://app:s3cr3t@db.internal:5432/app" }];
    const d = diffDefinitions(normalizeTaskDefinition(desired), undefined);
    assert.ok(!d.text.includes("00000000-aaaa") && !d.text.includes("s3cr3t"), d.text);
    assert.match(d.text, /"splunk-token": "\*\*\*\*"/);
    assert.match(d.text, /postgres:\/\/app:\*\*\*\*@db\.internal:5432\/app/);
    assert.match(d.text, /"splunk-url": "https:\/\/splunk\.example\.com:8088"/);
  });

  it("recognises the usual secret names and leaves ordinary ones alone", () => {
    for (const name of ["DB_PASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "api_key", "SESSION_COOKIE_SECRET", "PRIVATE_KEY_PEM"]) assert.ok(looksSecret(name), name);
    for (const name of ["LOG_LEVEL", "PORT", "REGION", "FEATURE_FLAGS"]) assert.ok(!looksSecret(name), name);
  });
});
