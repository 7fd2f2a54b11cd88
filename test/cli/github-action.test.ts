/**
 * The GitHub Action (action.yml → `flotilla github-action`, docs/github.md), run the way a runner
 * runs it: GITHUB_* variables, a fake pull_request event, $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT
 * files, a real git repository, and GITHUB_API_URL at a local receiver for the comment.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { cli, type CliResult } from "../helpers/cli.ts";
import { annotationsOf, cleanupGithubFixtures, GithubReceiver, position, pullRequestRepo, runnerCommands, svcdef, taskdef, tempRepo, type RunnerFiles } from "../helpers/github.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SECRET = "hunter2-do-not-print";
const TOKEN = "ghs_test_token_0123456789";
const NO_AWS = { AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "", AWS_WEB_IDENTITY_TOKEN_FILE: "", AWS_CONTAINER_CREDENTIALS_FULL_URI: "", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "" };

const github = new GithubReceiver();
let apiUrl = "";
before(async () => {
  apiUrl = await github.start();
});
after(async () => {
  await github.stop();
  cleanupGithubFixtures();
});

const setup = pullRequestRepo;

function action(runner: RunnerFiles, workspace: string, inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...NO_AWS, ...runner.env(workspace), GITHUB_API_URL: apiUrl, GITHUB_ACTOR: "octocat", ...extra };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase().replace(/-/g, "_")}`] = v;
  return cli(["github-action"], env, workspace);
}

const ours = () => github.comments.filter((c) => c.user.login === "github-actions[bot]");

describe("the GitHub Action", () => {
  it("Given a pull request with an error and a valid change, When checked, Then validate annotates changed files once, changes lists both deploys, plan is skipped without AWS credentials, and one comment is written, then updated in place", async () => {
    const { repo, runner, base } = setup((r) =>
      r.write({ "deploy/web/web_svcdef.json": svcdef("web", { launchTyp: "EC2" }), "deploy/api/api_taskdef.json": taskdef("api", "nginx@sha256:" + "e".repeat(64)) }),
    );
    const forged = github.addComment("<!-- flotilla-action:deploy -->\nI wrote this myself", "mallory");

    // When the check runs on the pull request
    const r = await action(runner, repo.dir, { path: "deploy", comment: "true", "github-token": TOKEN });

    // Then the error and the warning in changed files are annotated, once each (changes does not repeat validate's)
    assert.equal(r.code, 1, r.stderr);
    const at = position(path.join(repo.dir, "deploy/web/web_svcdef.json"), '"launchTyp"');
    const annotations = annotationsOf(r.stdout);
    assert.deepEqual(annotations[0], ["error", "deploy/web/web_svcdef.json", String(at.line), String(at.col), "FLT-CONFIG-UNKNOWN-KEY"]);
    assert.deepEqual(
      annotations.slice(1).map((a) => [a[0], a[1], a[4]]),
      [["warning", "deploy/api/api_taskdef.json", "FLT-WARN-PLAINTEXT-SECRET"]],
    );

    // And the summary has the header, validate, changes and a skipped plan
    const summary = runner.readSummary();
    assert.match(summary, new RegExp(`^## Flotilla\\n\\nPull request #7 \\(\`feature\` into \`main\`\\), changes from \`${base.slice(0, 12)}\` to \`[0-9a-f]{12}\`, tree \`deploy\`\\.`));
    assert.match(summary, /### Flotilla validate in `deploy`[\s\S]*### Flotilla changes in `deploy`[\s\S]*### Flotilla plan\n\nNot run: no AWS credentials/);
    assert.match(summary, /\| \*\*deploy\*\* \| `api\/api` \|[^\n]*`deploy\/api\/api_taskdef\.json` modified \|/);
    assert.match(summary, /\| \*\*deploy\*\* \(invalid\) \| `web\/web` \|/);
    const outputs = runner.readOutputs();
    assert.deepEqual(JSON.parse(outputs["deploys"]!), ["api/api", "web/web"]);
    assert.equal(outputs["deletes"], "[]");
    assert.equal(outputs["valid"], "false");

    // And one comment, written with the token, starting with the marker; the forged one untouched
    assert.equal(ours().length, 1);
    const comment = ours()[0]!;
    assert.ok(comment.body.startsWith("<!-- flotilla-action:deploy -->\n## Flotilla"));
    assert.match(comment.body, /### Flotilla changes[\s\S]*\[run\]\(https:\/\/github\.invalid\/acme\/deploy\/actions\/runs\/4242\)/);
    assert.equal(outputs["comment-url"], comment.html_url);
    assert.equal(forged.body, "<!-- flotilla-action:deploy -->\nI wrote this myself");
    const posts = github.requests.filter((q) => q.method === "POST");
    assert.deepEqual(posts.map((q) => [q.url, q.authorization]), [["/repos/acme/deploy/issues/7/comments", `Bearer ${TOKEN}`]]);
    assert.ok(![r.stdout, r.stderr, summary, comment.body].some((t) => t.includes(TOKEN)), "the token is never printed");

    // When the author fixes the error and the check runs again
    repo.write({ "deploy/web/web_svcdef.json": svcdef("web", { desiredCount: 2 }) });
    const head2 = repo.commit("fix");
    runner.reset().pullRequest(base, head2);
    const again = await action(runner, repo.dir, { path: "deploy", comment: "true", "github-token": TOKEN });

    // Then the same comment is updated in place
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(ours().length, 1, "still one comment");
    assert.equal(github.requests.filter((q) => q.method === "POST").length, 1, "no second POST");
    assert.deepEqual(github.requests.filter((q) => q.method === "PATCH").map((q) => q.url), [`/repos/acme/deploy/issues/comments/${comment.id}`]);
    assert.doesNotMatch(ours()[0]!.body, /FLT-CONFIG-UNKNOWN-KEY/);
    assert.match(ours()[0]!.body, new RegExp(head2.slice(0, 12)));
  });

  it("Given AWS stand-in scenarios, When the pull request is checked, Then plan shows the diff of the objects it changes only, with secrets masked everywhere", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/web/web_svcdef.json": svcdef("web", { desiredCount: 3 }) }));
    repo.write({
      "ci/sim.json": {
        region: "us-east-1",
        clusters: ["apps"],
        taskDefinitions: [taskdef("web", "nginx@sha256:" + "a".repeat(64))],
        services: [{ ...svcdef("web"), taskDefinition: "web:1" }],
      },
    });
    const r = await action(runner, repo.dir, { path: "deploy", simulator: "ci/sim.json", comment: "true", "github-token": TOKEN, "comment-key": "plan-test" });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const summary = runner.readSummary();
    assert.match(summary, /### Flotilla plan in `deploy` against the simulator\n\n\| {2}\| object \| why \|\n\| --- \| --- \| --- \|\n\| \*\*update\*\* \| `web\/web` \| the service differs: \$\.desiredCount changed \|\n\n/);
    assert.match(summary, /<details><summary><code>web\/web<\/code>: update, the diff<\/summary>\n\n```diff\n--- arn:aws:ecs:us-east-1:\d+:service\/apps\/web\n\+\+\+ svcdef\n[\s\S]*-  "desiredCount": 1,\n\+  "desiredCount": 3,/);
    assert.doesNotMatch(summary, /api\/api`: /, "api/api did not change: not planned");
    assert.deepEqual(JSON.parse(runner.readOutputs()["plan"]!), { "web/web": "update" });
    const comment = ours().find((c) => c.body.startsWith("<!-- flotilla-action:plan-test -->"))!;
    assert.match(comment.body, /\+  "desiredCount": 3,/);
    for (const text of [r.stdout, r.stderr, summary, comment.body]) assert.ok(!text.includes(SECRET), "the secret value is masked");
  });

  it("Given the apply mode on the simulator, When run from CI, Then every object deploys, the summary lists the deployments, the outputs say so, and overrides are recorded with the actor", async () => {
    const { repo, runner } = setup(() => undefined);
    runner.push("0".repeat(40), repo.git("rev-parse", "HEAD"));
    const r = await action(runner, repo.dir, { mode: "apply", path: "deploy", simulator: "true", override: "skip-alarms" }, { GITHUB_EVENT_NAME: "push" });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const summary = runner.readSummary();
    assert.match(summary, /### Flotilla apply in `deploy` against the simulator/);
    assert.match(summary, /\| \*\*create\*\* \| `api\/api` \| no such service yet \|/);
    assert.match(summary, /\| \*\*Succeeded\*\* \| `web\/web` \| `[0-9A-Z]{26}` \|/);
    const outputs = runner.readOutputs();
    assert.deepEqual((JSON.parse(outputs["deployments"]!) as { object: string; phase: string }[]).map((d) => [d.object, d.phase]).sort(), [["api/api", "Succeeded"], ["web/web", "Succeeded"]]);
    assert.equal(outputs["failed"], "0");
    const status = await cli(["status", "--rehearsal", "--output", "json"], {}, repo.dir);
    assert.match(status.stdout, /"setBy": "octocat \(GitHub Actions\)"/);
    assert.ok(!(r.stdout + r.stderr + summary).includes(SECRET));
  });

  it("Given a mode it does not know or a boolean that is not one, Then the run stops with FLT-GITHUB-INPUT as an annotation and exit 2", async () => {
    const { repo, runner } = setup(() => undefined);
    const typo = await action(runner, repo.dir, { mode: "chek" });
    assert.equal(typo.code, 2);
    const [c] = runnerCommands(typo.stdout);
    assert.equal(c?.properties["title"], "FLT-GITHUB-INPUT");
    assert.match(c.data, /unknown mode "chek"\nhint: did you mean "check"\?/);
    const yes = await action(runner, repo.dir, { comment: "yes" });
    assert.equal(yes.code, 2);
    assert.match(yes.stdout, /title=FLT-GITHUB-INPUT::input comment must be true or false/);
  });

  it("Given a token without pull-requests: write, When the comment is refused, Then a FLT-GITHUB-API warning says why, the summary is written and the exit code is the check's", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/web/web_svcdef.json": svcdef("web", { desiredCount: 2 }) }));
    github.failWith = 403;
    try {
      const r = await action(runner, repo.dir, { path: "deploy", comment: "true", "github-token": TOKEN, "comment-key": "refused" });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const warning = runnerCommands(r.stdout).find((c) => c.properties["title"] === "FLT-GITHUB-API");
      assert.match(warning?.data ?? "", /answered 403: Resource not accessible by integration\nhint: the job needs `permissions: pull-requests: write`/);
      assert.match(runner.readSummary(), /### Flotilla changes/);
      assert.equal(runner.readOutputs()["comment-url"], undefined);
    } finally {
      github.failWith = undefined;
    }
  });

  it("Given a shallow checkout of the pull request (actions/checkout's default depth), When checked, Then the action fetches the base and compares from it", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/web/web_svcdef.json": svcdef("web", { desiredCount: 2 }) }));
    const clone = tempRepo("flotilla-shallow-");
    clone.git("remote", "add", "origin", `file://${repo.dir}`);
    clone.git("fetch", "-q", "--no-tags", "--depth", "1", "origin", "feature");
    clone.git("checkout", "-q", "FETCH_HEAD");
    assert.equal(clone.git("rev-parse", "--is-shallow-repository"), "true");
    const r = await action(runner, clone.dir, { mode: "changes", path: "deploy" });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(runner.readOutputs()["deploys"]!), ["web/web"], "only what the pull request changed");
    assert.equal(clone.git("rev-parse", "--is-shallow-repository"), "false");
  });

  it("Given action.yml, Then every input reaches the entry point through the environment, no input is spliced into a script, and its run step works as a process", async () => {
    const yml = parse(readFileSync(path.join(ROOT, "action.yml"), "utf8")) as {
      inputs: Record<string, { description: string; default?: string }>;
      outputs: Record<string, { value: string }>;
      runs: { using: string; steps: { id?: string; run: string; env?: Record<string, string>; shell: string }[] };
    };
    assert.equal(yml.runs.using, "composite");
    const step = yml.runs.steps.find((s) => s.id === "flotilla")!;
    for (const [name, spec] of Object.entries(yml.inputs)) {
      assert.ok(spec.description, `${name} has a description`);
      assert.equal(step.env?.[`INPUT_${name.toUpperCase().replace(/-/g, "_")}`], `\${{ inputs.${name} }}`, `${name} is passed as an environment variable`);
    }
    for (const s of yml.runs.steps) assert.doesNotMatch(s.run, /\$\{\{/, "no expression inside a script (script injection)");
    for (const [name, o] of Object.entries(yml.outputs)) assert.equal(o.value, `\${{ steps.flotilla.outputs.${name} }}`);

    // When the run step runs as the runner would run it, with the inputs' defaults
    const { repo, runner } = setup((r) => r.write({ "deploy/web/web_svcdef.json": svcdef("web", { launchTyp: "EC2" }) }));
    const given: Record<string, string> = { path: "deploy" };
    const env: NodeJS.ProcessEnv = { ...process.env, ...NO_AWS, ...runner.env(repo.dir), GITHUB_API_URL: apiUrl, GITHUB_ACTION_PATH: ROOT };
    for (const [k, v] of Object.entries(step.env!)) {
      const input = /^\$\{\{ inputs\.([\w-]+) \}\}$/.exec(v)![1]!;
      env[k] = given[input] ?? String(yml.inputs[input]!.default ?? "").replace("${{ github.token }}", TOKEN);
    }
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn("bash", ["-e", "-c", step.run], { cwd: repo.dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.on("exit", (code) => resolve({ code, out }));
    });

    // Then it reports like the in-process runs: the annotation, the summary, the outputs
    assert.equal(r.code, 1, r.out);
    assert.deepEqual(annotationsOf(r.out).map((a) => [a[0], a[1], a[4]]), [["error", "deploy/web/web_svcdef.json", "FLT-CONFIG-UNKNOWN-KEY"]]);
    assert.match(runner.readSummary(), /^## Flotilla\n/);
    assert.equal(runner.readOutputs()["valid"], "false");
  });
});
