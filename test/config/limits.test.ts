/**
 * Input limits: file size, objects per commit, JSON nesting depth. Each has its own code and
 * names the file (and the JSON path for depth); an oversized file is refused without being read.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { classifyChanges } from "../../src/config/changes.ts";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "../../src/config/limits.ts";
import { loadOptions, loadRepository } from "../../src/config/repository.ts";
import { GitCommitSource, WorkingTreeSource, type RepoSource } from "../../src/config/source.ts";
import { FlotillaError, type Problem } from "../../src/core/problems.ts";
import { TestRepo } from "../helpers/git-repo.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

after(cleanupTrees);
const repos: TestRepo[] = [];
after(() => repos.forEach((r) => r.cleanup()));

const svcdef = (name: string, extra: Record<string, unknown> = {}) => ({ cluster: "apps", serviceName: name, desiredCount: 1, launchType: "EC2", taskDefinition: `${name}:1`, ...extra });
const limits = (over: Partial<InputLimits>): InputLimits => ({ ...DEFAULT_INPUT_LIMITS, ...over });

/** A source that records which files were read in full. */
function recording(source: RepoSource): RepoSource & { read: string[] } {
  const read: string[] = [];
  return { label: source.label, read, listFiles: () => source.listFiles(), size: (f) => source.size(f), readFile: (f) => (read.push(f), source.readFile(f)) };
}

function only(problems: Problem[], code: string): Problem[] {
  return problems.filter((p) => p.code === code);
}

describe("limits: file size", () => {
  it("a working tree is read with the limit: over it the size is told and nothing read, at it the text; missing files and folders are not files", async () => {
    const dir = writeTree({ "a.json": "x".repeat(100), "b.json": "y".repeat(101), "sub/c.json": "{}", "node_modules/m.json": "{}", ".git/HEAD": "ref", "sub/.flotilla/s.json": "{}" });
    const source = new WorkingTreeSource(dir);
    assert.deepEqual(await source.readWithin("a.json", 100), { text: "x".repeat(100) });
    assert.deepEqual(await source.readWithin("b.json", 100), { tooLarge: 101 });
    assert.equal(await source.readWithin("nope.json", 100), undefined);
    assert.equal(await source.readWithin("sub", 100), undefined);
    assert.equal(await source.readWithin("../outside.json", 100), undefined);
    assert.equal(await source.size("b.json"), 101);
    assert.equal(await source.readFile("sub/c.json"), "{}");
    assert.deepEqual(await source.listFiles(), ["a.json", "b.json", "sub/c.json"], "never .git, node_modules or .flotilla");
  });

  it("a definition file over the default limit is FLT-FILE-TOO-LARGE, naming it, and is never read", async () => {
    const big = JSON.stringify(svcdef("web", { tags: [{ key: "pad", value: "x".repeat(DEFAULT_INPUT_LIMITS.fileBytes) }] }));
    const source = recording(new WorkingTreeSource(writeTree({ "apps/web/web_svcdef.json": big })));
    const repo = await loadRepository(source, loadOptions());
    const [p] = only(repo.objects[0]!.problems, "FLT-FILE-TOO-LARGE");
    assert.equal(p?.file, "apps/web/web_svcdef.json");
    assert.match(p.message, /has 4,194,\d{3} bytes, more than the 4,194,304 allowed/);
    assert.equal(repo.objects[0]!.valid, false);
    assert.deepEqual(source.read, []);
  });

  it("an input file and a ref file: each names itself; other objects are unaffected", async () => {
    const dir = writeTree({
      "infra/tf.json": JSON.stringify({ cluster: { value: "apps" }, pad: { value: "x".repeat(3000) } }),
      "apps/a/a_svcdef.json": '{"cluster": "{{ cluster }}", "serviceName": "a", "desiredCount": 1, "launchType": "EC2", "taskDefinition": "a:1"}',
      "apps/a/a_input.json": { ref: { file: ["infra/tf.json"], type: "TERRAFORM" } },
      "apps/b/b_svcdef.json": svcdef("b"),
      "apps/b/b_input.json": { pad: "y".repeat(3000) },
      "apps/c/c_svcdef.json": svcdef("c"),
    });
    const source = recording(new WorkingTreeSource(dir));
    const repo = await loadRepository(source, loadOptions({ limits: limits({ fileBytes: 2048 }) }));
    const [a, b, c] = repo.objects;
    assert.deepEqual(only(a!.problems, "FLT-FILE-TOO-LARGE").map((p) => p.file), ["infra/tf.json"]);
    assert.deepEqual(only(b!.problems, "FLT-FILE-TOO-LARGE").map((p) => p.file), ["apps/b/b_input.json"]);
    assert.equal(c!.valid, true);
    assert.ok(!source.read.includes("infra/tf.json") && !source.read.includes("apps/b/b_input.json"));
  });

  it("in a commit, the size comes from git's tree: the blob is not read", async () => {
    const repo = new TestRepo();
    repos.push(repo);
    repo.write({ "apps/web/web_svcdef.json": JSON.stringify(svcdef("web", { tags: [{ key: "pad", value: "x".repeat(5000) }] })) });
    const sha = repo.commit();
    const source = new GitCommitSource(repo.dir, sha);
    const spy = recording(source);
    try {
      assert.ok(((await source.size("apps/web/web_svcdef.json")) ?? 0) > 5000);
      const loaded = await loadRepository(spy, loadOptions({ limits: limits({ fileBytes: 4096 }) }));
      assert.equal(only(loaded.objects[0]!.problems, "FLT-FILE-TOO-LARGE").length, 1);
      assert.deepEqual(spy.read, []);
    } finally {
      source.close();
    }
  });
});

describe("limits: JSON nesting depth", () => {
  it("an input nested deeper than the limit is FLT-JSON-TOO-DEEP with the file, the JSON path and the line", async () => {
    let deep = "0";
    for (let i = 0; i < 70; i++) deep = i % 2 ? `{"k": ${deep}}` : `[${deep}]`;
    const dir = writeTree({ "apps/web/web_svcdef.json": svcdef("web"), "apps/web/web_input.json": `{\n  "ok": 1,\n  "deep": ${deep}\n}` });
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const [p] = only(repo.objects[0]!.problems, "FLT-JSON-TOO-DEEP");
    assert.equal(p?.file, "apps/web/web_input.json");
    assert.equal(p.line, 3);
    // The path leads to the container at depth 65: the input's root holds "deep", then k, [0], k, ...
    assert.match(p.path!, /^\$\.deep\.k(\[0\]\.k)+$/);
    assert.equal((p.path!.match(/\.k|\[0\]|\.deep/g) ?? []).length, DEFAULT_INPUT_LIMITS.jsonDepth);
    assert.equal(repo.objects[0]!.valid, false);
  });

  it("a million levels fail the same way, without overflowing the parser's stack", async () => {
    const dir = writeTree({ "apps/web/web_svcdef.json": svcdef("web"), "apps/web/web_input.json": `{"x": ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}` });
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    assert.equal(only(repo.objects[0]!.problems, "FLT-JSON-TOO-DEEP").length, 1);
  });

  it("a rendered definition is checked too: a template can generate the nesting", async () => {
    const dir = writeTree({ "apps/web/web_svcdef.json": '{"serviceName": "web", "tags": {% for i in range(5000) %}[{% endfor %}{% for i in range(5000) %}]{% endfor %}}' });
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const [p] = only(repo.objects[0]!.problems, "FLT-JSON-TOO-DEEP");
    assert.equal(p?.file, "apps/web/web_svcdef.json");
    assert.match(p.path!, /^\$\.tags\[0\]/);
  });

  it("brackets inside strings do not count", async () => {
    const dir = writeTree({ "apps/web/web_svcdef.json": svcdef("web", { tags: [{ key: "k", value: "[".repeat(500) + '\\"{' }] }) });
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    assert.deepEqual(repo.objects[0]!.problems.filter((p) => p.severity === "error"), []);
  });
});

describe("limits: objects per commit", () => {
  const tree = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`apps/s${i}/s${i}_svcdef.json`, svcdef(`s${i}`)]));

  it("a tree with more objects than allowed is refused as a whole, naming the first object past the limit", async () => {
    const dir = writeTree(tree(5));
    await assert.rejects(loadRepository(new WorkingTreeSource(dir), loadOptions({ limits: limits({ objects: 4 }) })), (e: unknown) => {
      assert.ok(e instanceof FlotillaError);
      assert.equal(e.code, "FLT-COMMIT-TOO-MANY-OBJECTS");
      assert.equal(e.problem.file, "apps/s4/s4_svcdef.json");
      assert.match(e.message, /holds 5 deployment objects, more than the 4 allowed/);
      return true;
    });
    assert.equal((await loadRepository(new WorkingTreeSource(dir), loadOptions({ limits: limits({ objects: 5 }) }))).objects.length, 5);
  });

  it("a commit with more objects than allowed plans nothing (no deploy, no delete)", async () => {
    const repo = new TestRepo();
    repos.push(repo);
    repo.write(tree(3));
    const first = repo.commit();
    repo.write(tree(6));
    const second = repo.commit();
    await assert.rejects(classifyChanges({ dir: repo.dir, from: first, to: second, load: { limits: limits({ objects: 5 }) } }), /FLT-COMMIT-TOO-MANY-OBJECTS|more than the 5 allowed/);
    const ok = await classifyChanges({ dir: repo.dir, from: first, to: second, load: { limits: limits({ objects: 6 }) } });
    assert.equal(ok.changes.filter((c) => c.action === "deploy").length, 3);
  });
});

describe("limits: input keys", () => {
  it("an input key __proto__ is a variable like any other: it does not replace the inputs' prototype", async () => {
    const dir = writeTree({
      "apps/web/web_svcdef.json": '{"cluster": "apps", "serviceName": "{{ polluted }}", "desiredCount": 1, "launchType": "EC2", "taskDefinition": "web:1"}',
      "apps/web/web_input.json": '{"__proto__": {"polluted": "web"}, "constructor": {"name": "x"}}',
    });
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const p = repo.objects[0]!.problems.find((x) => x.severity === "error");
    assert.equal(p?.code, "FLT-TEMPLATE-UNDEFINED");
    assert.match(p.message, /'polluted'/);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});
