import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { commitFiles, listBranchCommits, newCommits, readCommit, rewrittenProblem } from "../../src/controller/commits.ts";
import { branchHead, isAncestor } from "../../src/git/read.ts";
import { Mirror } from "../../src/controller/mirror.ts";
import { VirtualClock } from "../../src/core/clock.ts";
import { TestRemote } from "../helpers/git-remote.ts";
import { rollingObject } from "../helpers/objects.ts";
import { TEST_POLICY } from "../helpers/policy.ts";

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));
const clock = new VirtualClock();

function setup(): { r: TestRemote; m: Mirror } {
  const r = new TestRemote();
  const dataDir = mkdtempSync(path.join(tmpdir(), "flotilla-data-"));
  cleanups.push(() => r.cleanup(), () => rmSync(dataDir, { recursive: true, force: true }));
  return { r, m: new Mirror({ name: "apps", url: r.bare, credentials: null }, { dataDir, policy: TEST_POLICY }) };
}

describe("new commits, in order, from the last processed one", () => {
  it("given nothing processed yet, then the head alone is listed, as every file added", async () => {
    const { r, m } = setup();
    r.push({ "a.txt": "1" }, "one");
    const head = r.push(rollingObject("a/a", "a"), "two");
    await m.sync();
    const found = await newCommits(m.gitDir, "main", undefined, { clock });
    assert.equal(found.kind, "initial");
    assert.deepEqual(found.kind === "initial" && found.commits.map((c) => c.sha), [head]);
  });

  it("given several pushed commits, then they are listed oldest first with author, date, message and override trailers", async () => {
    const { r, m } = setup();
    const first = r.push({ "a.txt": "1" }, "one");
    const c2 = r.push({ "a.txt": "2" }, "two");
    const c3 = r.push({ "a.txt": "3" }, "three\n\nFix prod.\n\nFlotilla-Override: skip-alarms, bogus\nFlotilla-Override: all-at-once");
    const c4 = r.push({ "a.txt": "4" }, "four");
    await m.sync();
    const found = await newCommits(m.gitDir, "main", first, { clock });
    assert.equal(found.kind, "new");
    if (found.kind !== "new") return;
    assert.deepEqual(found.commits.map((c) => c.sha), [c2, c3, c4]);
    assert.equal(found.head, c4);
    const third = found.commits[1]!;
    assert.equal(third.subject, "three");
    assert.match(third.message, /Fix prod\./);
    assert.deepEqual(third.author, { name: "Flotilla Test", email: "test@flotilla.invalid" });
    assert.ok(third.date > Date.UTC(2020, 0, 1));
    assert.deepEqual(third.parents, [c2]);
    assert.deepEqual(
      third.overrides.map((o) => [o.name, o.source, o.setBy, o.at]),
      [
        ["skip-alarms", "trailer", `commit ${c3.slice(0, 7)}`, clock.now()],
        ["all-at-once", "trailer", `commit ${c3.slice(0, 7)}`, clock.now()],
      ],
    );
    assert.deepEqual(found.commits[0]!.overrides, []);
  });

  it("given a merge, then only the branch's first-parent commits are listed", async () => {
    const { r, m } = setup();
    const base = r.push({ "a.txt": "1" }, "base");
    r.work.git("checkout", "-q", "-b", "feature");
    r.work.write({ "f.txt": "f1" });
    r.work.commit("feature 1");
    r.work.write({ "f.txt": "f2" });
    r.work.commit("feature 2");
    r.work.git("checkout", "-q", "main");
    r.work.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature");
    r.work.git("push", "-q", "origin", "main");
    const merge = r.work.git("rev-parse", "HEAD");
    await m.sync();
    const found = await newCommits(m.gitDir, "main", base, { clock });
    assert.deepEqual(found.kind === "new" && found.commits.map((c) => c.subject), ["merge feature"]);
    assert.equal(found.kind === "new" && found.commits[0]!.sha, merge);
  });

  it("given the head already processed, then up-to-date", async () => {
    const { r, m } = setup();
    const head = r.push({ "a.txt": "1" });
    await m.sync();
    assert.deepEqual(await newCommits(m.gitDir, "main", head, { clock }), { kind: "up-to-date", head });
  });

  it("given a force-push that drops the last processed commit, then it is reported as rewritten, not skipped", async () => {
    const { r, m } = setup();
    const base = r.push({ "a.txt": "1" }, "base");
    const processed = r.push({ "a.txt": "2" }, "will be dropped");
    await m.sync();
    const rewritten = r.forcePush(base, { "a.txt": "other" });
    await m.sync();
    const found = await newCommits(m.gitDir, "main", processed, { clock });
    assert.deepEqual(found, { kind: "rewritten", lastProcessed: processed, head: rewritten, reason: "not-ancestor" });
    if (found.kind !== "rewritten") return;
    const problem = rewrittenProblem("apps", "main", found);
    assert.equal(problem.code, "FLT-GIT-HISTORY-REWRITTEN");
    assert.match(problem.message, /rewritten/);
  });

  it("given a last processed commit that no longer exists at all, then rewritten (missing)", async () => {
    const { r, m } = setup();
    const head = r.push({ "a.txt": "1" });
    await m.sync();
    const ghost = "0123456789abcdef0123456789abcdef01234567";
    assert.deepEqual(await newCommits(m.gitDir, "main", ghost, { clock }), { kind: "rewritten", lastProcessed: ghost, head, reason: "missing" });
  });

  it("given a branch that was deleted, then FLT-GIT-BRANCH-MISSING", async () => {
    const { r, m } = setup();
    r.push({ "a.txt": "1" }, "x", "main");
    r.push({ "b.txt": "1" }, "y", "release");
    await m.sync();
    r.work.git("push", "-q", "origin", "--delete", "release");
    await m.sync();
    await assert.rejects(newCommits(m.gitDir, "release", undefined, { clock }), (e: { code?: string }) => e.code === "FLT-GIT-BRANCH-MISSING");
    await assert.rejects(branchHead(m.gitDir, "nope"), (e: { code?: string }) => e.code === "FLT-GIT-BRANCH-MISSING");
  });

  it("reads one commit and answers ancestry", async () => {
    const { r, m } = setup();
    const a = r.push({ "a.txt": "1" }, "a");
    const b = r.push({ "a.txt": "2" }, "b");
    await m.sync();
    assert.equal((await readCommit(m.gitDir, b, 0)).subject, "b");
    assert.equal(await isAncestor(m.gitDir, a, b), true);
    assert.equal(await isAncestor(m.gitDir, b, a), false);
    await assert.rejects(readCommit(m.gitDir, "f".repeat(40), 0), (e: { code?: string }) => e.code === "FLT-GIT-UNKNOWN-REVISION");
    assert.equal(execFileSync("git", ["rev-parse", "--is-bare-repository"], { cwd: m.gitDir, encoding: "utf8" }).trim(), "true");
  });

  it("lists the branch newest first, marking what is processed", async () => {
    const { r, m } = setup();
    const a = r.push({ "a.txt": "1" }, "a");
    const b = r.push({ "a.txt": "2" }, "b");
    const c = r.push({ "a.txt": "3" }, "c");
    await m.sync();
    const listed = await listBranchCommits(m.gitDir, "main", { limit: 10, lastProcessed: b, clock });
    assert.deepEqual(listed.map((x) => [x.sha, x.processed]), [[c, false], [b, true], [a, true]]);
    assert.deepEqual((await listBranchCommits(m.gitDir, "main", { limit: 2, clock })).map((x) => [x.subject, x.processed]), [["c", false], ["b", false]]);
  });

  it("lists a commit's Flotilla files below the sub-path, with how the commit changed each", async () => {
    const { r, m } = setup();
    const first = r.push({ ...rollingObject("ecs/a/a", "a"), ...rollingObject("ecs/b/b", "b"), "ecs/README.md": "x", "other/c/c_svcdef.json": {} });
    r.work.write({ "ecs/a/a_input.json": { x: 1 } });
    r.work.remove("ecs/b/b_taskdef.json");
    const second = r.work.commit("second");
    r.work.git("push", "-q", "origin", "HEAD:refs/heads/main");
    await m.sync();
    assert.deepEqual((await commitFiles(m.gitDir, second, "ecs")).map((f) => `${f.path} ${f.object} ${f.kind} ${f.change}`), [
      "a/a_input.json a/a input added",
      "a/a_svcdef.json a/a svcdef unchanged",
      "a/a_taskdef.json a/a taskdef unchanged",
      "b/b_svcdef.json b/b svcdef unchanged",
      "b/b_taskdef.json b/b taskdef deleted",
    ]);
    assert.ok((await commitFiles(m.gitDir, first.slice(0, 10), "ecs/")).every((f) => f.change === "added"));
    assert.equal((await commitFiles(m.gitDir, first)).length, 5, "without a sub-path, the whole repository");
  });
});
