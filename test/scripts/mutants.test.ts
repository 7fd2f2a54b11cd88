/**
 * The hand-made mutants (scripts/mutation/mutants.ts) stay applicable: `npm run mutation` takes
 * minutes and runs by hand, so a change that moves a mutant's text would otherwise go unnoticed
 * until then. And `--match` selects mutants by id (docs/deployments.md, "Mutation testing").
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MUTANTS } from "../../scripts/mutation/mutants.ts";
import { selectMutants } from "../../scripts/mutation/run.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("mutation testing's mutants", () => {
  it("each one's text occurs exactly once in its file, on one line, and the mutant changes it; ids are unique", () => {
    const bad: string[] = [];
    for (const m of MUTANTS) {
      const text = readFileSync(`${root}${m.file}`, "utf8");
      const count = text.split(m.from).length - 1;
      if (count !== 1 || m.from.includes("\n") || m.from === m.to) bad.push(`${m.id}: occurs ${count} times in ${m.file}`);
    }
    assert.deepEqual(bad, [], "update the mutant with the code it mutates");
    assert.equal(new Set(MUTANTS.map((m) => m.id)).size, MUTANTS.length);
  });

  it("--match selects by id pattern, beside ids given by name; nothing given selects all", () => {
    const ids = (ms: { id: string }[]) => ms.map((m) => m.id);
    const managed = selectMutants(MUTANTS, [], [/^managed-/]);
    assert.ok(managed.length >= 10 && managed.every((m) => m.id.startsWith("managed-")));
    assert.deepEqual(ids(selectMutants(MUTANTS, ["rolling-breaker-late"], [/^rainbow-/])), ["rolling-breaker-late", ...ids(MUTANTS.filter((m) => m.id.startsWith("rainbow-")))]);
    assert.equal(selectMutants(MUTANTS, [], []).length, MUTANTS.length);
  });
});
