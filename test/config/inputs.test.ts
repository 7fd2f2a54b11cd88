import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cleanupTrees, loadTree } from "../helpers/tree.ts";
import { taskdef } from "../helpers/objects.ts";

after(cleanupTrees);

const svc = '{"cluster": "{{ cluster }}", "serviceName": "{{ name }}", "desiredCount": {{ count }}, "launchType": "EC2", "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}}';

describe("inputs and refs", () => {
  it("TERRAFORM refs expose each output's value, keeping lists and maps", async () => {
    const repo = await loadTree({
      "a/a_svcdef.json": '{"cluster": "{{ cluster }}", "serviceName": "a", "desiredCount": {{ subnets | length }}, "launchType": "EC2", "tags": [{"key": "tg", "value": "{{ tgs[\'blue-tg\'] }}"}]}',
      "a/a_taskdef.json": taskdef("a"),
      "a/a_input.json": { ref: { file: ["infra/tf.json"], type: "TERRAFORM" } },
      "infra/tf.json": { cluster: { value: "prod", type: "string", sensitive: false }, subnets: { value: ["s1", "s2", "s3"] }, tgs: { value: { "blue-tg": "arn:b" } } },
    });
    const o = repo.objects[0]!;
    assert.equal(o.svcdef!["cluster"], "prod");
    assert.equal(o.svcdef!["desiredCount"], 3);
    assert.deepEqual(o.svcdef!["tags"], [{ key: "tg", value: "arn:b" }]);
  });

  it("CDK refs expose each stack as a variable holding its outputs", async () => {
    const repo = await loadTree({
      "a/a_svcdef.json": '{"cluster": "{{ AppStack.ClusterName }}", "serviceName": "a", "desiredCount": 1, "launchType": "EC2"}',
      "a/a_taskdef.json": taskdef("a"),
      "a/a_input.json": { ref: { file: ["cdk/outputs.json"], type: "CDK" } },
      "cdk/outputs.json": { AppStack: { ClusterName: "cdk-cluster" } },
    });
    assert.equal(repo.objects[0]!.svcdef!["cluster"], "cdk-cluster");
  });

  it("JSON refs use top-level keys; the legacy string form with no type means JSON", async () => {
    const repo = await loadTree({
      "a/a_svcdef.json": svc,
      "a/a_taskdef.json": taskdef("a"),
      "a/a_input.json": { ref: { file: "shared/values.json" }, count: 2 },
      "shared/values.json": { cluster: "c1", name: "from-json" },
    });
    assert.deepEqual([repo.objects[0]!.svcdef!["cluster"], repo.objects[0]!.svcdef!["serviceName"]], ["c1", "from-json"]);
  });

  it("precedence: later ref files override earlier ones, and the input file's own keys win", async () => {
    const repo = await loadTree({
      "a/a_svcdef.json": svc,
      "a/a_taskdef.json": taskdef("a"),
      "a/a_input.json": { ref: { file: ["one.json", "two.json"], type: "JSON" }, count: 9 },
      "one.json": { cluster: "one", name: "one", count: 1 },
      "two.json": { cluster: "two" },
    });
    const s = repo.objects[0]!.svcdef!;
    assert.deepEqual([s["cluster"], s["serviceName"], s["desiredCount"]], ["two", "one", 9]);
  });

  it("the `ref` key itself is not a template variable", async () => {
    const repo = await loadTree({ "a/a_svcdef.json": '{"serviceName": "{{ ref }}"}', "a/a_input.json": { ref: { file: [], type: "JSON" } } });
    assert.ok(repo.objects[0]!.problems.some((p) => p.code === "FLT-TEMPLATE-UNDEFINED" && p.message.includes("'ref'")));
  });

  it("one ref file shared by many objects is read once and feeds them all", async () => {
    const files: Record<string, string | object> = { "tf.json": { cluster: { value: "shared" } } };
    for (let i = 0; i < 20; i++) {
      files[`s${i}/s_svcdef.json`] = `{"cluster": "{{ cluster }}", "serviceName": "s${i}", "desiredCount": 1, "launchType": "EC2", "taskDefinition": "s:1"}`;
      files[`s${i}/s_input.json`] = { ref: { file: ["tf.json"], type: "TERRAFORM" } };
    }
    const repo = await loadTree(files);
    assert.equal(repo.objects.length, 20);
    assert.ok(repo.objects.every((o) => o.svcdef!["cluster"] === "shared"));
  });

  it("sensitive Terraform outputs are remembered for masking", async () => {
    const repo = await loadTree({
      "a/a_svcdef.json": '{"serviceName": "a", "cluster": "c", "desiredCount": 1, "launchType": "EC2"}',
      "a/a_taskdef.json": taskdef("a"),
      "a/a_input.json": { ref: { file: ["tf.json"], type: "TERRAFORM" } },
      "tf.json": { db: { value: "postgres://u:hunter2@h/db", sensitive: true } },
    });
    assert.deepEqual(repo.objects[0]!.sensitive, ["postgres://u:hunter2@h/db"]);
  });

  it("an undefined variable names the variable, and the file and line of the template", async () => {
    const repo = await loadTree({ "a/a_svcdef.json": '{\n  "serviceName": "a",\n  "cluster": "{{ clustr }}"\n}', "a/a_input.json": { cluster: "x" } });
    const p = repo.objects[0]!.problems.find((x) => x.code === "FLT-TEMPLATE-UNDEFINED")!;
    assert.deepEqual([p.file, p.line], ["a/a_svcdef.json", 3]);
    assert.match(p.message, /'clustr'/);
  });
});

describe("warnings for risky practice (valid objects, exit 0)", () => {
  const rolling = (over: Record<string, unknown> = {}, task?: Record<string, unknown>) => ({
    "a/a_svcdef.json": { cluster: "c", serviceName: "a", desiredCount: 2, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } }, ...over },
    "a/a_taskdef.json": task ?? taskdef("a"),
  });
  const codes = async (files: Record<string, string | object>) => {
    const o = (await loadTree(files)).objects[0]!;
    assert.equal(o.valid, true, JSON.stringify(o.problems));
    return o.problems.map((p) => p.code);
  };
  it("image tagged latest, untagged, or pinned only by tag", async () => {
    const img = (image: string) => codes(rolling({}, { family: "a", containerDefinitions: [{ name: "c", image, memory: 64 }] }));
    assert.deepEqual(await img("nginx:latest"), ["FLT-WARN-IMAGE-MUTABLE"]);
    assert.deepEqual(await img("nginx"), ["FLT-WARN-IMAGE-MUTABLE"]);
    assert.deepEqual(await img("registry.example.com:5000/team/nginx"), ["FLT-WARN-IMAGE-MUTABLE"]);
    assert.deepEqual(await img("nginx:1.27"), ["FLT-WARN-IMAGE-NO-DIGEST"]);
    assert.deepEqual(await img("nginx@sha256:" + "c".repeat(64)), []);
  });
  it("blue/green without alarms", async () => {
    const tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef";
    const tg2 = tg.replace("/b/", "/g/");
    const files = { ...rolling({ deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: undefined, loadBalancers: [{ targetGroupArn: tg, containerName: "app", containerPort: 80 }] }), "a/a_depdef.json": { targetGroupArnPairs: [[tg, tg2]] } };
    assert.deepEqual(await codes(files), ["FLT-WARN-BG-NO-ALARMS"]);
  });
  it("rolling without ECS's circuit breaker", async () => {
    assert.deepEqual(await codes(rolling({ deploymentConfiguration: undefined })), ["FLT-WARN-ROLLING-NO-CIRCUIT-BREAKER"]);
  });
  it("a plaintext secret in the environment", async () => {
    const task = { family: "a", containerDefinitions: [{ name: "c", image: "nginx@sha256:" + "c".repeat(64), memory: 64, environment: [{ name: "DB_PASSWORD", value: "hunter2" }] }] };
    assert.deepEqual(await codes(rolling({}, task)), ["FLT-WARN-PLAINTEXT-SECRET"]);
  });
  it("legacy Gitmoxi depdef keys are accepted with a deprecation warning and translated", async () => {
    const tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/0123456789abcdef";
    const tg2 = tg.replace("/b/", "/g/");
    const files = {
      ...rolling({ deploymentController: { type: "EXTERNAL" }, deploymentConfiguration: undefined, loadBalancers: [{ targetGroupArn: tg, containerName: "app", containerPort: 80 }] }),
      "a/a_depdef.json": { targetGroupArns: [tg, tg2], deleteOldUponSuccess: true, alarms: { alarmNames: ["x"], enable: true } },
    };
    const repo = await loadTree(files);
    assert.equal(repo.objects[0]!.valid, true);
    assert.deepEqual(repo.objects[0]!.depdef.targetGroupArnPairs, [[tg, tg2]]);
    assert.equal(repo.objects[0]!.problems.filter((p) => p.code === "FLT-DEPDEF-DEPRECATED").length, 3);
  });
  it("a definition file with no svcdef is an orphan warning", async () => {
    const repo = await loadTree({ ...rolling(), "b/b_depdef.json": {} });
    assert.deepEqual(repo.problems.map((p) => [p.code, p.file]), [["FLT-OBJECT-ORPHAN-FILE", "b/b_depdef.json"]]);
  });
  it("two objects managing one service is an error on the second", async () => {
    const repo = await loadTree({ ...rolling(), "b/b_svcdef.json": { cluster: "c", serviceName: "a", desiredCount: 1, taskDefinition: "a:1" } });
    assert.equal(repo.objects.find((o) => o.name === "b/b")!.valid, false);
    assert.ok(repo.problems.some((p) => p.code === "FLT-OBJECT-DUPLICATE-SERVICE"));
  });
  it("a cluster given as an ARN is the same cluster as its name", async () => {
    const repo = await loadTree({ ...rolling(), "b/b_svcdef.json": { cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/c", serviceName: "a", desiredCount: 1, taskDefinition: "a:1" } });
    assert.ok(repo.problems.some((p) => p.code === "FLT-OBJECT-DUPLICATE-SERVICE"));
  });
});
