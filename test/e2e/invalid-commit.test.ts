/**
 * Issue 12, item 13: an invalid commit is recorded as such. A commit whose objects do not read (a
 * trailing comma, a template the sandbox refuses) used to be marked processed with one uncoded log
 * line. Its problems now go to the store, the API (commit list and detail), the CLI, the event
 * stream and the metrics, masked like every answer; the commit's valid objects still deploy.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cli } from "../helpers/cli.ts";
import { controllerWorld, type ControllerWorld } from "../helpers/controller-world.ts";
import { rollingObject, taskdef } from "../helpers/objects.ts";
import { parseSse } from "../server/helpers.ts";

const worlds: ControllerWorld[] = [];
after(async () => {
  for (const w of worlds) await w.close();
});

async function world(): Promise<ControllerWorld> {
  const w = await controllerWorld();
  worlds.push(w);
  return w;
}

const TRAILING_COMMA = '{\n  "cluster": "apps",\n  "serviceName": "api",\n  "desiredCount": 2,\n  "launchType": "EC2",\n}\n';

interface ProblemJson {
  code: string;
  severity: string;
  object?: string;
  file?: string;
  line?: number;
  path?: string;
  message: string;
}

describe("an invalid commit is recorded as such", () => {
  it("Given two deployed services, When a commit breaks one svcdef with a trailing comma and changes the other, Then the commit is recorded invalid with code, file, line, path and severity, and the valid object still deploys", async () => {
    const w = await world();
    // Given
    w.remote.push({ ...rollingObject("apps/api/api", "api"), ...rollingObject("apps/web/web", "web") }, "two services");
    await w.controller.sources.queue.sync("apps", "manual");
    // When
    const broken = w.remote.push({ "apps/api/api_svcdef.json": TRAILING_COMMA, "apps/web/web_taskdef.json": taskdef("web", { cpu: "256" }) }, "break api, change web");
    await w.controller.sources.queue.sync("apps", "poll");
    // Then: the store has the record
    const record = await w.store.getCommitRecord("apps", broken);
    assert.ok(record, "the commit is recorded");
    assert.equal(record.status, "invalid");
    assert.equal(record.trigger, "poll");
    const syntax = record.problems.find((p) => p.code === "FLT-JSON-SYNTAX");
    assert.ok(syntax, JSON.stringify(record.problems));
    assert.deepEqual({ object: syntax.object, file: syntax.file, line: syntax.line, path: syntax.path, severity: syntax.severity }, { object: "apps/api/api", file: "apps/api/api_svcdef.json", line: 6, path: "$", severity: "error" });
    assert.equal(record.errors, record.problems.filter((p) => p.severity === "error").length);
    const byObject = Object.fromEntries(record.objects.map((o) => [o.object, o]));
    assert.equal(byObject["apps/api/api"]?.action, "invalid");
    assert.equal(byObject["apps/web/web"]?.action, "deploy");
    // ...and the valid object deployed, as apply does
    const deployments = (await w.store.listDeployments({ repository: "apps", commitSha: broken })).items;
    assert.deepEqual(deployments.map((d) => [d.object, d.phase]), [["apps/web/web", "Succeeded"]]);
    assert.equal(byObject["apps/web/web"]?.deploymentId, deployments[0]!.id);
    // ...the warning carries the code and the place
    assert.ok(w.warnings.some((m) => m.includes("FLT-JSON-SYNTAX") && m.includes("apps/api/api_svcdef.json:6")), w.warnings.join("\n"));

    // The API: the commit list says how it went, the detail lists the problems
    const list = await w.api("GET", "/api/v1/repositories/apps/commits");
    assert.equal(list.status, 200, list.body);
    const items = list.json["items"] as { sha: string; result: { status: string; errors: number; warnings: number } | null }[];
    assert.equal(items.find((c) => c.sha === broken)?.result?.status, "invalid");
    assert.equal(items.find((c) => c.sha === broken)?.result?.errors, record.errors);
    assert.equal(items.find((c) => c.sha !== broken)?.result?.status, "ok");
    const detail = await w.api("GET", `/api/v1/repositories/apps/commits/${broken.slice(0, 7)}`);
    assert.equal(detail.status, 200, detail.body);
    assert.equal(detail.json["sha"], broken);
    assert.equal(detail.json["status"], "invalid");
    const problems = detail.json["problems"] as ProblemJson[];
    assert.ok(problems.some((p) => p.code === "FLT-JSON-SYNTAX" && p.file === "apps/api/api_svcdef.json" && p.line === 6 && p.path === "$"), detail.body);
    const unknown = await w.api("GET", "/api/v1/repositories/apps/commits/abcdef0123");
    assert.equal(unknown.status, 404, unknown.body);

    // The CLI: commit list shows "N problems", commit show lists them
    const cliList = await cli(["commit", "list", "apps"], w.env());
    assert.equal(cliList.code, 0, cliList.stderr);
    const line = cliList.stdout.split("\n").find((l) => l.startsWith(broken.slice(0, 12)));
    assert.match(line ?? "", new RegExp(`invalid: ${record.problems.length} problems`), cliList.stdout);
    const show = await cli(["commit", "show", "apps", broken.slice(0, 12)], w.env());
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /invalid/);
    assert.match(show.stdout, /FLT-JSON-SYNTAX apps\/api\/api_svcdef\.json:6:1 \$/);
    assert.match(show.stdout, /apps\/web\/web/);
    const showJson = await cli(["commit", "show", "apps", broken.slice(0, 12), "-o", "json"], w.env());
    assert.equal((JSON.parse(showJson.stdout) as { status: string }).status, "invalid");

    // Events: the stream carries the commit, from the start
    const stream = await w.api("GET", "/api/v1/events?type=commit&limit=2", { headers: { "last-event-id": "0~" } });
    assert.equal(stream.status, 200, stream.body);
    const commits = parseSse(stream.body).filter((m) => m.event === "commit").map((m) => m.data as { sha: string; status: string; problems: ProblemJson[] });
    assert.deepEqual(commits.map((c) => c.status), ["ok", "invalid"]);
    assert.equal(commits[1]!.sha, broken);
    assert.ok(commits[1]!.problems.some((p) => p.code === "FLT-JSON-SYNTAX"));

    // Metrics: commits by result, invalid objects per repository
    const metrics = await w.metrics.text();
    assert.match(metrics, /flotilla_commits_processed_total\{repository="apps",result="invalid"\} 1/);
    assert.match(metrics, /flotilla_commits_processed_total\{repository="apps",result="ok"\} 1/);
    assert.match(metrics, /flotilla_invalid_objects_total\{repository="apps"\} 1/);

    // A dry run of the processed commit says it was processed and shows what was recorded
    const dry = await cli(["commit", "dryrun", "apps", broken.slice(0, 12)], w.env());
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /processed .*invalid/);
    assert.match(dry.stdout, /FLT-JSON-SYNTAX/);
  });

  it("Given a deployed service, When a commit adds an object whose template reaches for the host (constructor), Then the commit records FLT-TEMPLATE-FORBIDDEN with file and line, nothing of it runs, and the other object deploys", async () => {
    const w = await world();
    w.remote.push(rollingObject("apps/web/web", "web"), "web");
    await w.controller.sources.queue.sync("apps", "manual");
    const hostile = '{\n  "cluster": "apps",\n  "serviceName": "{{ range.constructor(\'return process.exit(7)\')() }}",\n  "desiredCount": 1,\n  "launchType": "EC2"\n}\n';
    const sha = w.remote.push({ "apps/evil/evil_svcdef.json": hostile, "apps/evil/evil_taskdef.json": taskdef("evil"), "apps/web/web_taskdef.json": taskdef("web", { cpu: "256" }) }, "hostile template");
    await w.controller.sources.queue.sync("apps", "poll");
    const record = await w.store.getCommitRecord("apps", sha);
    assert.equal(record?.status, "invalid");
    const forbidden = record.problems.find((p) => p.code === "FLT-TEMPLATE-FORBIDDEN");
    assert.ok(forbidden, JSON.stringify(record.problems));
    assert.equal(forbidden.file, "apps/evil/evil_svcdef.json");
    assert.equal(forbidden.line, 3);
    assert.equal(forbidden.object, "apps/evil/evil");
    assert.deepEqual((await w.store.listDeployments({ repository: "apps", commitSha: sha })).items.map((d) => [d.object, d.phase]), [["apps/web/web", "Succeeded"]]);
    const detail = await w.api("GET", `/api/v1/repositories/apps/commits/${sha}`);
    assert.ok((detail.json["problems"] as ProblemJson[]).some((p) => p.code === "FLT-TEMPLATE-FORBIDDEN"), detail.body);
  });

  it("Given an object whose problem quotes a sensitive Terraform output and a URL password, When the commit is processed, Then neither is stored, logged, nor answered by the API or the event stream", async () => {
    const w = await world();
    const TF_SECRET = "tf-sensitive-launch-42";
    const URL_SECRET = "pg-url-pass-99";
    const sha = w.remote.push(
      {
        "apps/db/db_svcdef.json": '{\n  "cluster": "apps",\n  "serviceName": "db",\n  "desiredCount": 1,\n  "launchType": "{{ launch }}",\n  "schedulingStrategy": "postgres://app:' + URL_SECRET + '@db.internal/app"\n}\n',
        "apps/db/db_taskdef.json": taskdef("db"),
        "apps/db/db_input.json": { ref: { file: ["infra/outputs.json"], type: "TERRAFORM" } },
        "infra/outputs.json": { launch: { value: TF_SECRET, sensitive: true, type: "string" } },
      },
      "db",
    );
    await w.controller.sources.queue.sync("apps", "manual");
    const record = await w.store.getCommitRecord("apps", sha);
    assert.equal(record?.status, "invalid");
    assert.ok(record.problems.some((p) => p.code === "FLT-CONFIG-ENUM"), JSON.stringify(record.problems));
    const stored = JSON.stringify(record);
    for (const s of [TF_SECRET, URL_SECRET]) assert.ok(!stored.includes(s), `the store keeps ${s}: ${stored}`);
    assert.ok(w.warnings.some((m) => m.includes("FLT-CONFIG-ENUM")), w.warnings.join("\n"));
    for (const s of [TF_SECRET, URL_SECRET]) assert.ok(!w.warnings.join("\n").includes(s), `a warning shows ${s}`);
    const answers = [
      await w.api("GET", `/api/v1/repositories/apps/commits/${sha}`),
      await w.api("GET", "/api/v1/events?type=commit&limit=1", { headers: { "last-event-id": "0~" } }),
    ];
    for (const a of answers) {
      assert.equal(a.status, 200, a.body);
      assert.match(a.body, /FLT-CONFIG-ENUM/);
      for (const s of [TF_SECRET, URL_SECRET]) assert.ok(!a.body.includes(s), `an answer shows ${s}: ${a.body}`);
    }
  });
});
