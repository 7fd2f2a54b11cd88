/**
 * `--output github` (docs/github.md): workflow commands escaped as the runner unescapes them,
 * nothing a repository writes can become a command, annotations on the files a pull request
 * changes (changed lines first) with repository-relative paths, the rest in the job summary.
 * Output is read the way the runner reads it (test/helpers/github.ts).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { escapeData, escapeProperty, neutralize, workflowCommand } from "../../src/cli/github.ts";
import * as md from "../../src/cli/markdown.ts";
import { cli } from "../helpers/cli.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";
import { annotationsOf, cleanupGithubFixtures, position, pullRequestRepo, runnerCommands, svcdef, taskdef, tempRepo, tempRunner } from "../helpers/github.ts";

after(() => {
  cleanupTrees();
  cleanupGithubFixtures();
});

const setup = pullRequestRepo;

describe("workflow commands", () => {
  it("Given property values and data with %, CR, LF, ':' and ',', When written and read back as the runner does, Then each comes back unchanged and the command stays one line", () => {
    const nasty = "a%b%0Ac:d,e=f\r\ng::h";
    const line = workflowCommand("error", { file: nasty, line: 3, col: 4, title: "FLT-X" }, `data ${nasty} ::set-env name=A::B`);
    assert.equal(line.split(/\r\n|\r|\n/).length, 1);
    const [c, ...rest] = runnerCommands(line);
    assert.deepEqual(rest, []);
    assert.deepEqual(c, { name: "error", properties: { file: nasty, line: "3", col: "4", title: "FLT-X" }, data: `data ${nasty} ::set-env name=A::B` });
    assert.equal(escapeData("%\r\n"), "%25%0D%0A");
    assert.equal(escapeProperty("%:,\n"), "%25%3A%2C%0A");
  });

  it("Given text a repository controls, When made inert, Then no line of it is a command, in either syntax, whatever the line breaks or leading blanks", () => {
    const attacks = [
      "::set-env name=NODE_OPTIONS::--require /tmp/x",
      "  ::add-mask::x",
      "\u00a0\u2003::error::forged",
      "\u0085::warning file=a::forged",
      "ok\n::set-output name=a::b",
      "ok\r::stop-commands::tok",
      "ok\r\n\t::add-path::/tmp",
      "prefix ##[set-output name=a]b",
      "###[add-mask]secret",
      "##[error]forged",
    ];
    for (const a of attacks) {
      assert.ok(runnerCommands(a).length > 0, `the attack ${JSON.stringify(a)} is a command before`);
      assert.deepEqual(runnerCommands(neutralize(a)), [], JSON.stringify(a));
    }
    assert.equal(neutralize("plain text: with colons::inside"), "plain text: with colons::inside", "text that is no command is left alone");
  });
});

describe("markdown", () => {
  it("Given untrusted names and messages, When put in a table, a code span or a summary, Then they cannot open HTML, end a cell or a span, or mention anyone", () => {
    const name = "a|b`c``<!-- flotilla-action:. -->@team";
    const message = md.text(`${name} <details> [x](y) *z*`);
    const table = md.table(["object", "message"], [[md.code(name), message]]);
    const rows = table.split("\n");
    const cells = (row: string) => row.split(/(?<!\\)\|/).length;
    assert.equal(cells(rows[2]!), cells(rows[0]!), "no extra cell");
    assert.doesNotMatch(message, /<|@team|\[x\]\(y\)/, "text: no HTML, no mention, no link");
    assert.match(md.code(name), /^```a\|b`c``<!-- flotilla-action:\. -->@team```$/, "a code span longer than any backtick run inside, where HTML and mentions are plain text");
    assert.match(md.html("<b>@x</b>"), /^&lt;b&gt;@&#8203;x&lt;\/b&gt;$/);
    assert.match(md.fenced("```\nx"), /^````\n```\nx\n````$/);
  });

  it("Given a report over the limit, When cut, Then it ends at a line with its fence and details closed and the note", () => {
    const body = ["### plan", "<details><summary>x</summary>", "", "```diff", ...Array.from({ length: 5000 }, (_, i) => `+line ${i}`), "```", "", "</details>"].join("\n");
    const cut = md.truncate(body, 4000, "_cut_");
    assert.ok(Buffer.byteLength(cut) <= 4000);
    assert.match(cut, /\n```\n\n<\/details>\n\n_cut_\n$/);
  });
});

describe("--output github", () => {
  it("Given a pull request that adds an unknown key, When validate runs, Then that error is annotated at its file (repository-relative), line, column and code, and problems in files the pull request does not change are only summarised", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/web/web_svcdef.json": svcdef("web", { launchTyp: "EC2", desiredCount: 2 }) }));
    const r = await cli(["validate", "deploy", "--output", "github"], runner.env(repo.dir), repo.dir);
    assert.equal(r.code, 1, r.stderr);
    const at = position(path.join(repo.dir, "deploy/web/web_svcdef.json"), '"launchTyp"');
    assert.deepEqual(annotationsOf(r.stdout + r.stderr), [["error", "deploy/web/web_svcdef.json", String(at.line), String(at.col), "FLT-CONFIG-UNKNOWN-KEY"]]);
    const error = runnerCommands(r.stdout).find((c) => c.name === "error")!;
    assert.match(error.data, /unknown key "launchTyp"[\s\S]*\nhint: did you mean "launchType"\?/);
    assert.match(r.stdout, /^\[NG\] web\/web/m, "the text report is in the log too");

    const summary = runner.readSummary();
    assert.match(summary, /^### Flotilla validate in `deploy`$/m);
    assert.match(summary, /\*\*In files this pull request changes\*\* \(annotated\)[\s\S]*`deploy\/web\/web_svcdef\.json:\d+:3`/);
    assert.match(summary, /2 in files this pull request does not change \(not annotated\)[\s\S]*deploy\/api\/api_taskdef\.json[\s\S]*deploy\/web\/web_taskdef\.json/);
    assert.deepEqual(runner.readOutputs(), { valid: "false", errors: "1", warnings: "2" });
  });

  it("Given a pull request that changes one line of a file with an older warning, When validated, Then both are annotated, the one on the changed line first", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/api/api_taskdef.json": taskdef("api", "nginx:latest") }));
    const r = await cli(["validate", "deploy", "--output", "github"], runner.env(repo.dir), repo.dir);
    assert.equal(r.code, 0, r.stderr);
    const image = position(path.join(repo.dir, "deploy/api/api_taskdef.json"), '"nginx:latest"');
    const secret = position(path.join(repo.dir, "deploy/api/api_taskdef.json"), '"name": "DB_PASSWORD"');
    const annotations = annotationsOf(r.stdout);
    assert.deepEqual(
      annotations.map((a) => [a[1], a[2], a[4]]),
      [
        ["deploy/api/api_taskdef.json", String(image.line), "FLT-WARN-IMAGE-MUTABLE"],
        ["deploy/api/api_taskdef.json", String(secret.line - 1), "FLT-WARN-PLAINTEXT-SECRET"],
      ],
    );
    assert.match(runner.readSummary(), /1 in files this pull request does not change[\s\S]*deploy\/web\/web_taskdef\.json/);
  });

  it("Given a push (no pull request), When validated, Then every problem is annotated", async () => {
    const { repo, runner, base, head } = setup((r) => r.write({ "deploy/api/api_taskdef.json": taskdef("api", "nginx:latest") }));
    runner.push(base, head);
    const r = await cli(["validate", "deploy", "--output", "github"], runner.env(repo.dir, "push"), repo.dir);
    assert.deepEqual(annotationsOf(r.stdout).map((a) => `${a[1]} ${a[4]}`).sort(), ["deploy/api/api_taskdef.json FLT-WARN-IMAGE-MUTABLE", "deploy/api/api_taskdef.json FLT-WARN-PLAINTEXT-SECRET", "deploy/web/web_taskdef.json FLT-WARN-PLAINTEXT-SECRET"]);
    assert.doesNotMatch(runner.readSummary(), /does not change/);
  });

  it("Given a file name and a key that carry workflow commands, newlines, % and ',', When validate reports them, Then the runner finds only Flotilla's own annotations, and the file property decodes to the real path", async () => {
    const evilDir = "deploy/x\n::set-env name=NODE_OPTIONS::--require=/tmp/pwn,line=1 %0A ##[add-mask]y";
    const evilKey = "k\n::set-output name=deployed::yes\r##[add-path]/tmp";
    const { repo, runner } = setup((r) => r.write({ [`${evilDir}/x_svcdef.json`]: svcdef("x", { [evilKey]: 1 }), [`${evilDir}/x_taskdef.json`]: taskdef("x", "nginx@sha256:" + "c".repeat(64), { environment: [] }) }));
    const r = await cli(["validate", "deploy", "--output", "github"], runner.env(repo.dir), repo.dir);
    assert.equal(r.code, 1, r.stderr);
    const commands = runnerCommands(r.stdout + "\n" + r.stderr);
    assert.deepEqual([...new Set(commands.map((c) => c.name))], ["error"], JSON.stringify(commands));
    assert.equal(commands.length, 1);
    assert.equal(commands[0]!.properties["file"], `${evilDir}/x_svcdef.json`);
    assert.equal(commands[0]!.properties["title"], "FLT-CONFIG-UNKNOWN-KEY");
    assert.ok(commands[0]!.data.includes(evilKey), "the message keeps the key as it is, inside the command's data");
    assert.match(r.stdout, /:\u200B:set-env/, "the text report still shows the name, made inert");
  });

  it("Given a Flotilla tree that is not a Git repository, When validated, Then paths are relative to GITHUB_WORKSPACE", async () => {
    const workspace = writeTree({ "ops/ecs/a/a_svcdef.json": svcdef("a", { launchTyp: "EC2" }), "ops/ecs/a/a_taskdef.json": taskdef("a", "nginx@sha256:" + "d".repeat(64), { environment: [] }) });
    const runner = tempRunner();
    const r = await cli(["validate", path.join(workspace, "ops/ecs"), "--output", "github"], runner.env(workspace, "workflow_dispatch"), "/");
    assert.deepEqual(annotationsOf(r.stdout).map((a) => a[1]), ["ops/ecs/a/a_svcdef.json"]);
  });

  it("Given a shallow clone without the pull request's base, When validated, Then a FLT-GITHUB-HISTORY warning says so and every problem is annotated", async () => {
    const { repo, runner } = setup((r) => r.write({ "deploy/api/api_taskdef.json": taskdef("api", "nginx:latest") }));
    const clone = tempRepo("flotilla-shallow-");
    clone.git("fetch", "-q", "--depth", "1", `file://${repo.dir}`, "feature");
    clone.git("checkout", "-q", "FETCH_HEAD");
    const r = await cli(["validate", "deploy", "--output", "github"], runner.env(clone.dir), clone.dir);
    const annotations = annotationsOf(r.stdout);
    assert.deepEqual(annotations[0]!.slice(0, 1).concat(annotations[0]!.slice(4)), ["warning", "FLT-GITHUB-HISTORY"]);
    assert.equal(annotations.length, 4, "the warning and all three problems");
  });

  it("Given a usage error under --output github, When the command stops, Then it is an error annotation with its code, and the path it quotes cannot inject a command", async () => {
    const runner = tempRunner();
    const r = await cli(["validate", "/no/such\n::set-env name=A::b", "--output", "github"], runner.env("/tmp", "push"));
    assert.equal(r.code, 2);
    const commands = runnerCommands(r.stdout + "\n" + r.stderr);
    assert.deepEqual(commands.map((c) => [c.name, c.properties["title"]]), [["error", "FLT-CLI-USAGE"]]);
    assert.match(commands[0]!.data, /\/no\/such\n::set-env name=A::b is not a directory/);
  });

  it("Given --output github on a verb that does not speak it, Then it is a usage error", async () => {
    const r = await cli(["status", "--output", "github"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are text, json/);
  });
});
