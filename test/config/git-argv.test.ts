/** Revisions reach git after `--end-of-options`: a revision that looks like an option is a revision, never an option. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { commitExists, diffCommits, isAncestor, listTree, resolveRevision } from "../../src/git/read.ts";
import { TestRepo } from "../helpers/git-repo.ts";

const repos: TestRepo[] = [];
after(() => repos.forEach((r) => r.cleanup()));

describe("git argv safety", () => {
  it("an option-looking revision is refused as an unknown revision, and never acts as an option (diff --output would write a file)", async () => {
    const r = new TestRepo();
    repos.push(r);
    r.write({ "a.txt": "a" });
    const sha = r.commit("first");
    const marker = path.join(r.dir, "MARKER");
    const option = `--output=${marker}`;
    await assert.rejects(diffCommits(r.dir, option, sha), (e: { code?: string }) => e.code === "FLT-GIT-FAILED");
    await assert.rejects(diffCommits(r.dir, sha, option), (e: { code?: string }) => e.code === "FLT-GIT-FAILED");
    await assert.rejects(listTree(r.dir, option), (e: { code?: string }) => e.code === "FLT-GIT-FAILED");
    await assert.rejects(resolveRevision(r.dir, option), (e: { code?: string }) => e.code === "FLT-GIT-UNKNOWN-REVISION");
    assert.equal(await commitExists(r.dir, option), false);
    await assert.rejects(isAncestor(r.dir, option, sha));
    assert.equal(existsSync(marker), false, "no option was applied");
    // Real revisions still work.
    assert.deepEqual([...(await listTree(r.dir, sha)).keys()], ["a.txt"]);
  });
});
