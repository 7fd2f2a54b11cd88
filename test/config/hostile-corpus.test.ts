/**
 * The hostile corpus through `flotilla validate`: every payload fails with its code on the file
 * that carries it, writes no file, opens no connection, and ends (each within its budget; the
 * test's timeout only turns a hang into a failure).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { validateDir } from "../../src/cli/validate.ts";
import { hostileCorpus, NetworkWatch } from "../helpers/hostile.ts";
import { cleanupTrees, writeTree } from "../helpers/tree.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "flotilla-hostile-"));
const marker = path.join(scratch, "MARKER");
const watch = new NetworkWatch();
let port = 0;
before(async () => (port = await watch.start()));
after(async () => {
  await watch.stop();
  cleanupTrees();
  rmSync(scratch, { recursive: true, force: true });
});

describe("hostile corpus: flotilla validate", () => {
  it("has at least 25 payloads over all four files", () => {
    const corpus = hostileCorpus({ marker, port: 1 });
    assert.ok(corpus.length >= 25, `${corpus.length} cases`);
    for (const kind of ["svcdef", "taskdef", "depdef", "input"]) assert.ok(corpus.filter((c) => c.kind === kind).length >= 5, kind);
    assert.equal(new Set(corpus.map((c) => c.technique)).size, corpus.length, "each case is a different technique");
  });

  // The port is only known once the listener runs; the cases' shape is known before.
  for (const [i, c] of hostileCorpus({ marker, port: 1 }).entries()) {
    it(`${c.kind} · ${c.technique} → ${c.code}`, { timeout: 60_000 }, async () => {
      const hostile = hostileCorpus({ marker, port })[i]!;
      const dir = writeTree(hostile.files);
      const { report } = await watch.during(() => validateDir(dir));
      assert.equal(existsSync(marker), false, "the payload wrote a file");
      assert.deepEqual(watch.attempts, [], "the payload opened a connection");
      assert.equal(watch.connections, 0, "the listener was reached");
      const file = hostile.reportedIn;
      assert.equal(report.valid, false);
      const mine = report.problems.filter((p) => p.severity === "error");
      assert.ok(
        mine.some((p) => p.code === hostile.code && p.file === file),
        `expected ${hostile.code} on ${file}, got ${JSON.stringify(mine.map((p) => [p.code, p.file, p.message.slice(0, 120)]))}`,
      );
    });
  }
});
