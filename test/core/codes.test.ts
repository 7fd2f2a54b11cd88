import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { PROBLEM_CODES } from "../../src/core/codes.ts";

describe("problem codes", () => {
  it("docs/errors.md lists every code", () => {
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const missing = Object.keys(PROBLEM_CODES).filter((c) => !doc.includes(`\`${c}\``));
    assert.deepEqual(missing, []);
  });
  it("every code used in src/ is declared (a typo would otherwise be a type error; this guards string building)", () => {
    const root = new URL("../../src/", import.meta.url).pathname;
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.name.endsWith(".ts")) for (const m of readFileSync(full, "utf8").matchAll(/"(FLT-[A-Z0-9]+-[A-Z0-9-]+)"/g)) used.add(m[1]!);
      }
    };
    walk(root);
    assert.deepEqual([...used].filter((c) => !(c in PROBLEM_CODES)), []);
  });
});
