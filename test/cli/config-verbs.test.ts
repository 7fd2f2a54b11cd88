import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../helpers/cli.ts";
import { TestRepo } from "../helpers/git-repo.ts";
import { rollingObject, svcdef } from "../helpers/objects.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const repos: TestRepo[] = [];
after(() => {
  cleanupTrees();
  repos.forEach((r) => r.cleanup());
});

describe("flotilla validate", () => {
  it("passes on the bundled examples (warnings allowed) with exit 0", async () => {
    const r = await cli(["validate", EXAMPLES]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /7 objects: valid — 0 errors/);
    assert.match(r.stdout, /\[OK\] prod\/web\/web blue\/green · web in prod-apps \(us-west-2\)/);
    assert.match(r.stdout, /\[OK\] dev\/checkout\/checkout ECS-managed LINEAR · checkout in dev-apps \(us-east-1\)/);
  });
  it("exits 1 on an error and prints a checklist line with code, file:line:col and path", async () => {
    const dir = writeTree({ ...rollingObject("a/a", "a"), "a/a_depdef.json": '{\n  "bakeTme": 5\n}' });
    const r = await cli(["validate", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\[NG\] a\/a/);
    assert.match(r.stdout, /error FLT-CONFIG-UNKNOWN-KEY a\/a_depdef\.json:2:3 \$\.bakeTme/);
    assert.match(r.stdout, /did you mean "bakeTime"\?/);
  });
  it("--output json prints one document with problems as objects", async () => {
    const dir = writeTree({ "a/a_svcdef.json": svcdef("a") });
    const r = await cli(["validate", dir, "--output", "json"]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as { valid: boolean; problems: Record<string, unknown>[]; objects: { object: string }[] };
    assert.equal(doc.valid, false);
    assert.deepEqual(doc.objects.map((o) => o.object), ["a/a"]);
    const p = doc.problems.find((x) => x["code"] === "FLT-OBJECT-NO-TASKDEF")!;
    assert.deepEqual([p["severity"], p["file"], p["path"]], ["error", "a/a_svcdef.json", "$"]);
    assert.equal(typeof p["message"], "string");
  });
  it("writes no colour codes when not on a TTY", async () => {
    const r = await cli(["validate", EXAMPLES]);
    assert.doesNotMatch(r.stdout, /\u001b\[/);
  });
});

describe("flotilla render", () => {
  it("prints the rendered definitions with depdef defaults filled in, masking sensitive values", async () => {
    const dir = writeTree({
      "a/a_svcdef.json": '{"serviceName": "a", "cluster": "c", "desiredCount": 1, "launchType": "EC2", "tags": [{"key": "db", "value": "{{ db }}"}]}',
      "a/a_taskdef.json": rollingObject("a", "a")["a_taskdef.json"]!,
      "a/a_input.json": { ref: { file: ["tf.json"], type: "TERRAFORM" } },
      "tf.json": { db: { value: "postgres://u:hunter2@db/x", sensitive: true } },
    });
    const r = await cli(["render", dir, "a/a", "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { svcdef: { tags: { value: string }[] }; depdef: { stabilityCheck: { timeout: number }; trafficShiftingConfig: { type: string } } };
    assert.equal(doc.svcdef.tags[0]!.value, "****");
    assert.equal(doc.depdef.stabilityCheck.timeout, 300);
    assert.equal(doc.depdef.trafficShiftingConfig.type, "CANARY");
    assert.doesNotMatch(r.stdout, /hunter2/);
    const shown = await cli(["render", dir, "a/a_svcdef.json", "--output", "json", "--show-sensitive"]);
    assert.match(shown.stdout, /hunter2/);
  });
  it("Given only failureThresholdPercent 50 at desired 20, Then render shows the circuit breaker in effect (min(5, 10) = 5) and validate warns", async () => {
    const dir = writeTree({ ...rollingObject("a/a", "a", { svc: { desiredCount: 20 } }), "a/a_depdef.json": { gmDeploymentCircuitBreaker: { failureThresholdPercent: 50 } } });
    const text = await cli(["render", dir, "a/a"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /# in effect at desiredCount 20\nFlotilla's circuit breaker: fails the deployment at 5 failed new tasks — min\(5, 10\) = 5 at desired 20\nstability timeout: 300s/);
    const json = JSON.parse((await cli(["render", dir, "a/a", "--output", "json"])).stdout) as { effective: unknown };
    assert.deepEqual(json.effective, { desiredCount: 20, circuitBreaker: { threshold: 5, explained: "min(5, 10) = 5 at desired 20" }, stabilityTimeoutSeconds: 300 });
    const v = await cli(["validate", dir]);
    assert.equal(v.code, 0, "a warning, not an error");
    assert.match(v.stdout, /warning FLT-WARN-BREAKER-CAPPED a\/a_depdef\.json:\d+:\d+ \$\.gmDeploymentCircuitBreaker\.failureThresholdPercent/);
    assert.match(v.stdout, /threshold is min\(5, 10\) = 5 at desired 20/);
  });
  it("Given examples/README's masking example, When the api object is rendered, Then its sensitive Terraform output is masked, and shown only with --show-sensitive", async () => {
    const r = await cli(["render", EXAMPLES, "dev/api/api", "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const env = (JSON.parse(r.stdout) as { taskdef: { containerDefinitions: { environment: { name: string; value: string }[] }[] } }).taskdef.containerDefinitions[0]!.environment;
    assert.deepEqual(env.find((e) => e.name === "DATABASE_HOST"), { name: "DATABASE_HOST", value: "****" });
    assert.doesNotMatch(r.stdout, /db\.dev\.internal/);
    assert.match((await cli(["render", EXAMPLES, "dev/api/api", "--show-sensitive"])).stdout, /"value": "db\.dev\.internal:5432"/);
    assert.match(readFileSync(path.join(EXAMPLES, "README.md"), "utf8"), /`database_host` output is marked sensitive/, "the README describes this object");
  });
  it("an unknown object is a coded usage error with a suggestion", async () => {
    const r = await cli(["render", EXAMPLES, "prod/web/wbe"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-OBJECT-NOT-FOUND/);
    assert.match(r.stderr, /did you mean "prod\/web\/web"/);
  });
});

describe("flotilla changes", () => {
  it("shows per object what a commit does, as JSON with object and action", async () => {
    const repo = new TestRepo();
    repos.push(repo);
    repo.write({ ...rollingObject("a/a", "a"), ...rollingObject("b/b", "b"), "b/b_depdef.json": {} });
    repo.commit();
    repo.write({ "a/a_svcdef.json": svcdef("a", { desiredCount: 3 }), "b/b_depdef.json": { bakeTime: 1 } });
    repo.commit();
    const r = await cli(["changes", repo.dir, "--output", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { changes: { object: string; action: string; reason: string }[] };
    assert.deepEqual(doc.changes.map((c) => [c.object, c.action, c.reason]), [["a/a", "deploy", "changed"], ["b/b", "none", "depdef-only"]]);
    const text = await cli(["changes", repo.dir, "--from", "HEAD~1", "--to", "HEAD"]);
    assert.match(text.stdout, /deploy a\/a/);
    const initial = await cli(["changes", repo.dir, "--initial", "--output", "json"]);
    assert.equal((JSON.parse(initial.stdout) as { changes: unknown[] }).changes.length, 2);
  });
  it("an unknown revision exits 2 with its code", async () => {
    const repo = new TestRepo();
    repos.push(repo);
    repo.write(rollingObject("a/a", "a")).commit();
    const r = await cli(["changes", repo.dir, "--from", "nope"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-GIT-UNKNOWN-REVISION/);
  });
  it("outside a Git repository exits 2 with its code", async () => {
    const r = await cli(["changes", writeTree({ "x.txt": "x" })]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FLT-GIT-NOT-A-REPOSITORY/);
  });
});

describe("flotilla demo", () => {
  it("tells the story: validate, deploy dev, a good update, a bad image rolled back", async () => {
    const r = await cli(["demo", "--instant"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /7 objects, 0 errors/);
    assert.match(r.stdout, /ECS-managed LINEAR · checkout in dev-apps/);
    assert.match(r.stdout, /== 3\. A good image[\s\S]*Succeeded +dev\/api\/api +3\/3 running/);
    assert.match(r.stdout, /== 4\. A bad image[\s\S]*RolledBack dev\/api\/api/);
    assert.match(r.stderr, /EcsRolledBack|CircuitBreakerTripped/);
    // ECS runs checkout's LINEAR deployment; Flotilla follows it, then reports ECS's alarm rollback.
    assert.match(r.stdout, /== 7\. checkout ships with ECS's own LINEAR deployment[\s\S]*Succeeded +dev\/checkout\/checkout +2\/2 running, 100% of production on the new revision/);
    assert.match(r.stdout, /== 8\. A checkout beta[\s\S]*RolledBack dev\/checkout\/checkout .*EcsAlarmRolledBack: ECS rolled the deployment back: alarm dev-checkout-5xx went into ALARM in PRODUCTION_TRAFFIC_SHIFT/);
    for (const weight of [25, 50, 75, 100]) assert.match(r.stderr, new RegExp(`dev/checkout/checkout +ProductionTraffic +${weight}% of production traffic on the new revision`));
    const rainbow = r.stdout.slice(r.stdout.indexOf("== 9. Rainbow"));
    assert.match(rainbow, /Succeeded +dev\/shop\/shop .*version v1 is up at https:\/\/v1\.shop\.dev\.example\.com\//);
    assert.match(rainbow, /GET https:\/\/v2\.shop\.dev\.example\.com\/ → 200 \(answered by shop-v2\)/);
    assert.match(rainbow, /version v2 is live \(was the listener's fixed response\)[\s\S]*GET https:\/\/shop\.dev\.example\.com\/ → 200 \(answered by shop-v2\)[\s\S]*version v1 is live \(was v2\)[\s\S]*GET https:\/\/shop\.dev\.example\.com\/ → 200 \(answered by shop-v1\)/);
    assert.match(rainbow, /removed version v2/);
  });
});

describe("flotilla apply / status / history on the simulator", () => {
  it("applies the examples in a rehearsal, prints JSON records, and keeps them in the store", async () => {
    const dir = writeTree({ "x.txt": "" });
    const scenarios = ["dev", "prod"].map((e) => `${EXAMPLES}scenarios/${e}.json`).join(",");
    const store = `${dir}/flotilla.db`;
    const r = await cli(["apply", EXAMPLES, "--simulator", scenarios, "--store", store, "--output", "json"]);
    const doc = JSON.parse(r.stdout) as { decisions: { object: string; action: string }[]; deployments: { object: string; phase: string; reason: string | null; failedTasks: number }[] };
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      doc.deployments.map((d) => [d.object, d.phase]),
      ["dev/api/api", "dev/checkout/checkout", "dev/web/web", "dev/worker/worker", "prod/api/api", "prod/web/web", "prod/worker/worker"].map((o) => [o, "Succeeded"]),
    );
    assert.ok(doc.deployments.every((d) => d.failedTasks === 0 && "reason" in d));
    assert.ok(doc.decisions.every((d) => d.action === "create"));
    const status = await cli(["status", "--store", store, "--output", "json"]);
    const objects = (JSON.parse(status.stdout) as { objects: { object: string; strategy: string }[] }).objects;
    assert.equal(objects.length, 7);
    assert.equal(objects.find((o) => o.object === "dev/checkout/checkout")?.strategy, "ecs-managed", "status names the strategy");
    const text = await cli(["status", "--store", store]);
    assert.match(text.stdout, /Succeeded +dev\/checkout\/checkout .* ECS-managed LINEAR · \w+/);
    assert.match(text.stdout, /Succeeded +dev\/web\/web .* blue\/green · \w+/);
    const history = await cli(["history", "dev/api/api", "--store", store]);
    assert.match(history.stdout, /timeline of/);
    assert.match(history.stdout, /ServiceCreated/);
  });
  it("promote/abort/pause/resume write a control for the object's running deployment, and refuse when none runs", async () => {
    const dir = writeTree({ "x.txt": "" });
    const store = `${dir}/c.db`;
    const none = await cli(["abort", "dev/web/web", "--store", store]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /FLT-STORE-NOT-FOUND/);
    const { openSqliteStore } = await import("../../src/store/sqlite.ts");
    const s = await openSqliteStore({ path: store });
    const d = await s.createDeployment({ object: "dev/web/web", strategy: "bluegreen", region: "us-east-1", cluster: "c", service: "web", phase: "Shifting" });
    await s.close();
    const r = await cli(["promote", "dev/web/web", "--store", store, "--output", "json"], { FLOTILLA_USER: "erin" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { control: 1, action: "promote", deployment: d.id, object: "dev/web/web", requestedBy: "erin" });
    const s2 = await openSqliteStore({ path: store });
    assert.deepEqual((await s2.pendingControls(d.id)).map((c) => [c.action, c.requestedBy]), [["promote", "erin"]]);
    await s2.close();
  });
  it("token create prints the token once, list never shows it, rotate replaces it, revoke removes it, and the store verifies it", async () => {
    const store = `${writeTree({ "x.txt": "" })}/t.db`;
    const created = await cli(["token", "create", "ci-bot", "--role", "operator", "--store", store, "--output", "json"]);
    assert.equal(created.code, 0, created.stderr);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const listed = await cli(["token", "list", "--store", store]);
    assert.match(listed.stdout, /ci-bot +operator +never used/);
    assert.doesNotMatch(listed.stdout, new RegExp(token));
    const { openSqliteStore } = await import("../../src/store/sqlite.ts");
    const s = await openSqliteStore({ path: store });
    assert.equal((await s.verifyToken(token))?.role, "operator");
    await s.close();
    const rotated = await cli(["token", "rotate", "ci-bot", "--store", store]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.split("\n")[0]!;
    assert.match(fresh, /^flt_/);
    assert.match(rotated.stdout, /rotated; the old value no longer works/);
    const s3 = await openSqliteStore({ path: store });
    assert.equal(await s3.verifyToken(token), undefined, "the old value stops working at once");
    assert.deepEqual(await s3.verifyToken(fresh).then((t) => t && [t.name, t.role]), ["ci-bot", "operator"]);
    await s3.close();
    const unknown = await cli(["token", "rotate", "nobody", "--store", store]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /FLT-STORE-NOT-FOUND/);
    assert.equal((await cli(["token", "revoke", "ci-bot", "--store", store])).code, 0);
    assert.equal((await cli(["token", "revoke", "ci-bot", "--store", store])).code, 2);
    assert.equal((await cli(["token", "create", "x", "--role", "admin", "--store", store])).code, 2);
  });
  it("--dry-run changes nothing", async () => {
    const dir = writeTree({ "x.txt": "" });
    const r = await cli(["apply", EXAMPLES, "--simulator", `${EXAMPLES}scenarios/dev.json,${EXAMPLES}scenarios/prod.json`, "--store", `${dir}/s.db`, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plan \(dry run: nothing is changed\)/);
    const status = await cli(["status", "--store", `${dir}/s.db`]);
    assert.match(status.stdout, /no deployments recorded yet/);
  });
});
