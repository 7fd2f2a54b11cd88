/**
 * A corpus of malformed inputs. Each case starts from a valid object, breaks one thing, and
 * asserts the exact code, file, JSON path and line of the error — and that the object is invalid,
 * so no malformed input passes silently.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadRepository, loadOptions } from "../../src/config/repository.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { TG_BLUE, TG_GREEN } from "../helpers/objects.ts";

const J = (v: unknown) => JSON.stringify(v, null, 2);
const IMAGE = "nginx@sha256:" + "a".repeat(64);

const base = {
  svcdef: {
    cluster: "apps",
    serviceName: "web",
    desiredCount: 2,
    launchType: "EC2",
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
  } as Record<string, unknown>,
  taskdef: { family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 256, portMappings: [{ containerPort: 80 }] }] } as Record<string, unknown>,
};
const fargate = {
  svcdef: { ...base.svcdef, launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } },
  taskdef: { family: "web", networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512", containerDefinitions: [{ name: "app", image: IMAGE, portMappings: [{ containerPort: 80 }] }] },
};
const bg = {
  svcdef: { ...base.svcdef, deploymentController: { type: "EXTERNAL" }, loadBalancers: [{ targetGroupArn: TG_BLUE, containerName: "app", containerPort: 80 }] },
  depdef: { targetGroupArnPairs: [[TG_BLUE, TG_GREEN]], alarms: { alarmNames: ["a"] } },
};

interface Case {
  name: string;
  files: Record<string, string>;
  code: string;
  file: string;
  path?: string;
  line?: number;
  column?: number;
}

const F = "svc/web_svcdef.json";
const T = "svc/web_taskdef.json";
const D = "svc/web_depdef.json";
const I = "svc/web_input.json";
const ok = (over: Record<string, string> = {}) => ({ [F]: J(base.svcdef), [T]: J(base.taskdef), ...over });

const cases: Case[] = [
  // JSON syntax, with positions
  { name: "trailing comma", files: ok({ [F]: '{\n  "serviceName": "web",\n}' }), code: "FLT-JSON-SYNTAX", file: F, line: 3, column: 1 },
  { name: "missing comma", files: ok({ [T]: '{\n  "family": "web"\n  "containerDefinitions": []\n}' }), code: "FLT-JSON-SYNTAX", file: T, line: 3 },
  { name: "unquoted key", files: ok({ [F]: "{\n  serviceName: 1\n}" }), code: "FLT-JSON-SYNTAX", file: F, line: 2, column: 3 },
  { name: "comment", files: ok({ [D]: '{\n  // no comments\n  "bakeTime": 1\n}' }), code: "FLT-JSON-SYNTAX", file: D, line: 2 },
  { name: "empty file", files: ok({ [D]: "" }), code: "FLT-JSON-SYNTAX", file: D, line: 1 },
  { name: "top-level array", files: ok({ [F]: "[]" }), code: "FLT-JSON-NOT-OBJECT", file: F, path: "$", line: 1 },
  { name: "duplicate key", files: ok({ [F]: '{\n  "serviceName": "a",\n  "serviceName": "b"\n}' }), code: "FLT-JSON-DUPLICATE-KEY", file: F, path: "$.serviceName", line: 3, column: 3 },
  { name: "invalid JSON in input", files: ok({ [I]: '{"a": }' }), code: "FLT-JSON-SYNTAX", file: I, line: 1 },
  // Templates
  { name: "undefined variable", files: ok({ [F]: '{\n  "cluster": "apps",\n  "serviceName": "{{ service_name }}"\n}' }), code: "FLT-TEMPLATE-UNDEFINED", file: F, line: 3, column: 22 },
  { name: "undefined member", files: ok({ [I]: J({ db: {} }), [T]: '{\n  "family": "{{ db.family }}"\n}' }), code: "FLT-TEMPLATE-UNDEFINED", file: T, line: 2 },
  { name: "template syntax error", files: ok({ [D]: '{\n  "bakeTime": {{ bake }\n}' }), code: "FLT-TEMPLATE-SYNTAX", file: D, line: 2 },
  { name: "unknown filter", files: ok({ [I]: J({ x: 1 }), [D]: '{"bakeTime": {{ x | frobnicate }}}' }), code: "FLT-TEMPLATE-RENDER", file: D },
  { name: "rendered to invalid JSON", files: ok({ [I]: J({ subnets: ["a", "b"] }), [F]: '{\n  "serviceName": "web",\n  "cluster": {{ subnets }}\n}' }), code: "FLT-JSON-SYNTAX", file: F, line: 3 },
  // Inputs and refs
  { name: "input is not an object", files: ok({ [I]: "[1]" }), code: "FLT-JSON-NOT-OBJECT", file: I, path: "$" },
  { name: "ref file missing", files: ok({ [I]: J({ ref: { file: ["infra/nope.json"], type: "TERRAFORM" } }) }), code: "FLT-INPUT-REF-FILE-MISSING", file: I, path: "$.ref.file[0]", line: 4 },
  { name: "ref type unknown", files: ok({ [I]: J({ ref: { file: ["x.json"], type: "PULUMI" } }), "x.json": "{}" }), code: "FLT-INPUT-REF-INVALID", file: I, path: "$.ref.type", line: 6 },
  { name: "ref not an object", files: ok({ [I]: J({ ref: "x.json" }) }), code: "FLT-INPUT-REF-INVALID", file: I, path: "$.ref", line: 2 },
  { name: "ref escapes the repository", files: ok({ [I]: J({ ref: { file: ["../secrets.json"], type: "JSON" } }) }), code: "FLT-INPUT-REF-INVALID", file: I, path: "$.ref.file[0]" },
  { name: "terraform output without value", files: ok({ [I]: J({ ref: { file: ["tf.json"], type: "TERRAFORM" } }), "tf.json": J({ cluster: { type: "string" } }) }), code: "FLT-INPUT-REF-KEY-MISSING", file: "tf.json", path: "$.cluster", line: 2 },
  { name: "ref with unknown key", files: ok({ [I]: J({ ref: { file: ["x.json"], type: "JSON", kind: 1 } }), "x.json": "{}" }), code: "FLT-CONFIG-UNKNOWN-KEY", file: I, path: "$.ref.kind" },
  // Shapes from the SDK
  { name: "unknown svcdef key with did-you-mean", files: ok({ [F]: J({ ...base.svcdef, desiredcount: 2 }) }), code: "FLT-CONFIG-UNKNOWN-KEY", file: F, path: "$.desiredcount", line: 12 },
  { name: "misspelled nested key", files: ok({ [F]: J({ ...base.svcdef, deploymentConfiguration: { maximumPercnt: 200 } }) }), code: "FLT-CONFIG-UNKNOWN-KEY", file: F, path: "$.deploymentConfiguration.maximumPercnt", line: 7 },
  { name: "unknown container key", files: ok({ [T]: J({ ...base.taskdef, containerDefinitions: [{ name: "app", image: IMAGE, memory: 256, portMapping: [] }] }) }), code: "FLT-CONFIG-UNKNOWN-KEY", file: T, path: "$.containerDefinitions[0].portMapping", line: 8 },
  { name: "string where a number belongs", files: ok({ [F]: J({ ...base.svcdef, desiredCount: "2" }) }), code: "FLT-CONFIG-TYPE", file: F, path: "$.desiredCount", line: 4 },
  { name: "number where a string belongs (task cpu)", files: ok({ [T]: J({ ...base.taskdef, cpu: 256 }) }), code: "FLT-CONFIG-TYPE", file: T, path: "$.cpu" },
  { name: "object where a list belongs", files: ok({ [F]: J({ ...base.svcdef, loadBalancers: {} }) }), code: "FLT-CONFIG-TYPE", file: F, path: "$.loadBalancers" },
  { name: "boolean as a string", files: ok({ [F]: J({ ...base.svcdef, enableExecuteCommand: "true" }) }), code: "FLT-CONFIG-TYPE", file: F, path: "$.enableExecuteCommand" },
  { name: "bad enum value", files: ok({ [F]: J({ ...base.svcdef, launchType: "fargate" }) }), code: "FLT-CONFIG-ENUM", file: F, path: "$.launchType", line: 5 },
  { name: "bad enum in a list", files: ok({ [T]: J({ ...base.taskdef, requiresCompatibilities: ["EC2", "LAMBDA"] }) }), code: "FLT-CONFIG-ENUM", file: T, path: "$.requiresCompatibilities[1]" },
  { name: "missing required family", files: ok({ [T]: J({ containerDefinitions: base.taskdef["containerDefinitions"] }) }), code: "FLT-CONFIG-REQUIRED", file: T, path: "$" },
  { name: "missing container image", files: ok({ [T]: J({ family: "web", containerDefinitions: [{ name: "app", memory: 256 }] }) }), code: "FLT-CONFIG-REQUIRED", file: T, path: "$.containerDefinitions[0]" },
  // Depdef
  { name: "unknown depdef key", files: ok({ [D]: J({ trafficShifting: {} }) }), code: "FLT-CONFIG-UNKNOWN-KEY", file: D, path: "$.trafficShifting", line: 2 },
  { name: "percent out of range", files: ok({ ...bgFiles(), [D]: J({ ...bg.depdef, trafficShiftingConfig: { percent: 150 } }) }), code: "FLT-CONFIG-RANGE", file: D, path: "$.trafficShiftingConfig.percent" },
  { name: "percent zero", files: ok({ ...bgFiles(), [D]: J({ ...bg.depdef, trafficShiftingConfig: { percent: 0 } }) }), code: "FLT-CONFIG-RANGE", file: D, path: "$.trafficShiftingConfig.percent" },
  { name: "unknown shifting type", files: ok({ [D]: J({ trafficShiftingConfig: { type: "EXPONENTIAL" } }) }), code: "FLT-CONFIG-ENUM", file: D, path: "$.trafficShiftingConfig.type" },
  { name: "negative timeout", files: ok({ [D]: J({ stabilityCheck: { timeout: -5 } }) }), code: "FLT-CONFIG-RANGE", file: D, path: "$.stabilityCheck.timeout" },
  { name: "steps not increasing", files: ok({ ...bgFiles(), [D]: J({ ...bg.depdef, trafficShiftingConfig: { steps: [10, 50, 30, 100] } }) }), code: "FLT-DEPDEF-SHIFTING", file: D, path: "$.trafficShiftingConfig.steps[2]" },
  { name: "steps not ending at 100", files: ok({ ...bgFiles(), [D]: J({ ...bg.depdef, trafficShiftingConfig: { steps: [10, 50] } }) }), code: "FLT-DEPDEF-SHIFTING", file: D, path: "$.trafficShiftingConfig.steps" },
  { name: "pair with one member", files: ok({ ...bgFiles(), [D]: J({ targetGroupArnPairs: [[TG_BLUE]] }) }), code: "FLT-CONFIG-RANGE", file: D, path: "$.targetGroupArnPairs[0]" },
  { name: "bad region", files: ok({ [D]: J({ environment: { region: "US East" } }) }), code: "FLT-CONFIG-RANGE", file: D, path: "$.environment.region" },
  // Cross-file rules
  { name: "no taskdef and no taskDefinition", files: { [F]: J(base.svcdef) }, code: "FLT-OBJECT-NO-TASKDEF", file: F, path: "$", line: 1 },
  { name: "no serviceName", files: ok({ [F]: J({ cluster: "apps", desiredCount: 1 }) }), code: "FLT-OBJECT-NO-SERVICE-NAME", file: F, path: "$" },
  { name: "CODE_DEPLOY controller", files: ok({ [F]: J({ ...base.svcdef, deploymentController: { type: "CODE_DEPLOY" } }) }), code: "FLT-SVC-CONTROLLER-UNSUPPORTED", file: F, path: "$.deploymentController.type" },
  { name: "launchType with capacity providers", files: ok({ [F]: J({ ...base.svcdef, capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] }) }), code: "FLT-SVC-LAUNCH-CONFLICT", file: F, path: "$.capacityProviderStrategy" },
  { name: "blue/green without pairs", files: ok({ [F]: J(bg.svcdef) }), code: "FLT-BG-TARGET-GROUPS", file: F },
  { name: "target group not in pairs", files: ok({ [F]: J(bg.svcdef), [D]: J({ targetGroupArnPairs: [[TG_GREEN, TG_GREEN.replace("app-green", "other")]] }) }), code: "FLT-BG-TARGET-GROUPS", file: F, path: "$.loadBalancers[0].targetGroupArn" },
  { name: "pair with the same target group twice", files: ok({ [F]: J(bg.svcdef), [D]: J({ targetGroupArnPairs: [[TG_BLUE, TG_BLUE]] }) }), code: "FLT-BG-TARGET-GROUPS", file: D, path: "$.targetGroupArnPairs[0]" },
  { name: "blue/green DAEMON", files: ok({ [F]: J({ ...bg.svcdef, schedulingStrategy: "DAEMON", desiredCount: undefined }), [D]: J(bg.depdef) }), code: "FLT-SVC-SCHEDULING", file: F, path: "$.schedulingStrategy" },
  { name: "load balancer container unknown", files: ok({ [F]: J({ ...base.svcdef, loadBalancers: [{ targetGroupArn: TG_BLUE, containerName: "web", containerPort: 80 }] }) }), code: "FLT-SVC-LOAD-BALANCER", file: F, path: "$.loadBalancers[0].containerName" },
  { name: "load balancer port not mapped", files: ok({ [F]: J({ ...base.svcdef, loadBalancers: [{ targetGroupArn: TG_BLUE, containerName: "app", containerPort: 8080 }] }) }), code: "FLT-SVC-LOAD-BALANCER", file: F, path: "$.loadBalancers[0].containerPort" },
  { name: "notification URL with another scheme", files: ok({ [D]: J({ notifications: [{ url: "file:///etc/passwd" }] }) }), code: "FLT-NOTIFY-URL-INVALID", file: D, path: "$.notifications[0].url", line: 4 },
  { name: "notification URL with user info", files: ok({ [D]: J({ notifications: [{ url: "https://hooks.example.com/x" }, { url: "https://user:pw@hooks.example.com/x" }] }) }), code: "FLT-NOTIFY-URL-INVALID", file: D, path: "$.notifications[1].url" },
  { name: "notification URL not absolute", files: ok({ [D]: J({ notifications: [{ url: "hooks.example.com/x" }] }) }), code: "FLT-NOTIFY-URL-INVALID", file: D, path: "$.notifications[0].url" },
  { name: "notification header Flotilla sets itself", files: ok({ [D]: J({ notifications: [{ url: "https://hooks.example.com/x", headers: { Host: "169.254.169.254" } }] }) }), code: "FLT-NOTIFY-HEADER-INVALID", file: D, path: "$.notifications[0].headers.Host" },
  { name: "notification header with a malformed variable", files: ok({ [D]: J({ notifications: [{ url: "https://hooks.example.com/x", headers: { Authorization: "Bearer ${ OPS TOKEN }" } }] }) }), code: "FLT-NOTIFY-HEADER-INVALID", file: D, path: "$.notifications[0].headers.Authorization" },
  { name: "not a target group ARN", files: ok({ [F]: J({ ...base.svcdef, loadBalancers: [{ targetGroupArn: "my-tg", containerName: "app", containerPort: 80 }] }) }), code: "FLT-SVC-LOAD-BALANCER", file: F, path: "$.loadBalancers[0].targetGroupArn" },
  { name: "Fargate without awsvpc", files: { [F]: J(fargate.svcdef), [T]: J({ ...fargate.taskdef, networkMode: "bridge" }) }, code: "FLT-SVC-NETWORK", file: T, path: "$.networkMode" },
  { name: "awsvpc without networkConfiguration", files: { [F]: J({ ...fargate.svcdef, networkConfiguration: undefined }), [T]: J(fargate.taskdef) }, code: "FLT-SVC-NETWORK", file: F, path: "$" },
  { name: "Fargate cpu/memory mismatch", files: { [F]: J(fargate.svcdef), [T]: J({ ...fargate.taskdef, memory: "4096" }) }, code: "FLT-TASKDEF-RESOURCES", file: T, path: "$.memory" },
  { name: "Fargate without task memory", files: { [F]: J(fargate.svcdef), [T]: J({ ...fargate.taskdef, memory: undefined }) }, code: "FLT-TASKDEF-RESOURCES", file: T, path: "$" },
  { name: "EC2 container without memory", files: ok({ [T]: J({ family: "web", containerDefinitions: [{ name: "app", image: IMAGE }] }) }), code: "FLT-TASKDEF-RESOURCES", file: T, path: "$.containerDefinitions[0]" },
  { name: "duplicate container names", files: ok({ [T]: J({ family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 1 }, { name: "app", image: IMAGE, memory: 1 }] }) }), code: "FLT-TASKDEF-CONTAINERS", file: T, path: "$.containerDefinitions[1].name" },
  { name: "no essential container", files: ok({ [T]: J({ family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 1, essential: false }] }) }), code: "FLT-TASKDEF-CONTAINERS", file: T, path: "$.containerDefinitions" },
  { name: "dependsOn an unknown container", files: ok({ [T]: J({ family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 1, dependsOn: [{ containerName: "db", condition: "START" }] }] }) }), code: "FLT-TASKDEF-CONTAINERS", file: T, path: "$.containerDefinitions[0].dependsOn" },
  { name: "min above max percent", files: ok({ [F]: J({ ...base.svcdef, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 50 } }) }), code: "FLT-SVC-DEPLOYMENT-CONFIG", file: F, path: "$.deploymentConfiguration.maximumPercent" },
  { name: "no room to replace a task", files: ok({ [F]: J({ ...base.svcdef, desiredCount: 1, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 150 } }) }), code: "FLT-SVC-DEPLOYMENT-CONFIG", file: F, path: "$.deploymentConfiguration.maximumPercent" },
  { name: "negative desiredCount", files: ok({ [F]: J({ ...base.svcdef, desiredCount: -1 }) }), code: "FLT-CONFIG-RANGE", file: F, path: "$.desiredCount" },
  { name: "missing desiredCount for REPLICA", files: ok({ [F]: J({ ...base.svcdef, desiredCount: undefined }) }), code: "FLT-CONFIG-REQUIRED", file: F, path: "$" },
  { name: "invalid serviceName", files: ok({ [F]: J({ ...base.svcdef, serviceName: "web app!" }) }), code: "FLT-CONFIG-RANGE", file: F, path: "$.serviceName" },
  { name: "ARN in another region", files: ok({ [F]: J({ ...base.svcdef, taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3" }), [D]: J({ environment: { region: "us-east-1" } }) }), code: "FLT-SVC-REGION-MISMATCH", file: F, path: "$.taskDefinition" },
  { name: "ARN in another account", files: ok({ [F]: J(bg.svcdef), [D]: J({ ...bg.depdef, environment: { account: "999999999999" } }) }), code: "FLT-SVC-REGION-MISMATCH", file: F, path: "$.loadBalancers[0].targetGroupArn" },
];

function bgFiles(): Record<string, string> {
  return { [F]: J(bg.svcdef) };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("malformed inputs: each yields its code and location, and the object is invalid", () => {
  it(`has at least 30 distinct cases (${cases.length})`, () => {
    assert.ok(cases.length >= 30);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });
  for (const c of cases) {
    it(c.name, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "flotilla-bad-"));
      dirs.push(dir);
      for (const [file, text] of Object.entries(c.files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }));
      const all = [...repo.problems, ...repo.objects.flatMap((o) => o.problems)];
      const match = all.find((p) => p.code === c.code && p.file === c.file && (c.path === undefined || p.path === c.path));
      assert.ok(match, `expected ${c.code} at ${c.file} ${c.path ?? ""}; got:\n${all.map((p) => `  ${p.code} ${p.file} ${p.path ?? ""} ${p.line ?? ""} ${p.message}`).join("\n")}`);
      assert.equal(match.severity, "error");
      assert.ok(match.message.length > 10, "the message says what is wrong");
      if (c.line !== undefined) assert.equal(match.line, c.line, "line");
      if (c.column !== undefined) assert.equal(match.column, c.column, "column");
      assert.equal(repo.objects.length, 1);
      assert.equal(repo.objects[0]!.valid, false, "a malformed object must never be valid");
    });
  }
  it("the valid baselines are valid (so each case fails for its own reason)", async () => {
    for (const files of [ok(), { [F]: J(fargate.svcdef), [T]: J(fargate.taskdef) }, ok({ [F]: J(bg.svcdef), [D]: J(bg.depdef) })]) {
      const dir = mkdtempSync(path.join(tmpdir(), "flotilla-ok-"));
      dirs.push(dir);
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ defaultRegion: "us-east-1" }));
      assert.deepEqual(repo.objects[0]!.problems.filter((p) => p.severity === "error"), []);
    }
  });
});
