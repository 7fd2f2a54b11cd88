/**
 * The registry of reasons and event types (src/deploy/registry.ts) against docs/deployments.md and
 * the code: the page lists exactly the registry's entries with their messages and meanings, and no
 * event or reason is written as a bare string the registry does not hold.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { EVENTS, REASONS, because, event, render } from "../../src/deploy/registry.ts";

const doc = readFileSync(new URL("../../docs/deployments.md", import.meta.url), "utf8");
type Table = Record<string, { message: string | Readonly<Record<string, string>>; doc: string }>;

/** The rows of the table under `### heading`, as name → [message, meaning]. */
function tableUnder(heading: string): Map<string, [string, string]> {
  const start = doc.indexOf(`### ${heading}\n`);
  assert.ok(start >= 0, `docs/deployments.md has a "### ${heading}" section`);
  const rows = new Map<string, [string, string]>();
  for (const line of doc.slice(start).split("\n").slice(1)) {
    if (line.startsWith("#")) break;
    const m = /^\| `(\w+)` \| (.*) \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1]!, [m[2]!, m[3]!]);
  }
  return rows;
}

const shown = (m: string | Readonly<Record<string, string>>) => (typeof m === "string" ? m : Object.values(m).join(" <br> "));

function checkAgainstDocs(table: Table, heading: string) {
  const rows = tableUnder(heading);
  const expected = (name: string) => `| \`${name}\` | ${shown(table[name]!.message)} | ${table[name]!.doc} |`;
  assert.deepEqual(Object.keys(table).filter((n) => !rows.has(n)).map(expected), [], `rows missing from "${heading}" in docs/deployments.md`);
  assert.deepEqual([...rows.keys()].filter((n) => !(n in table)), [], `"${heading}" lists names the registry does not hold`);
  for (const [name, [message, meaning]] of rows) assert.equal(`| \`${name}\` | ${message} | ${meaning} |`, expected(name), `the row for ${name}`);
}

/** Every .ts file under src/, with its text. */
function sources(): [string, string][] {
  const root = new URL("../../src/", import.meta.url).pathname;
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".ts")) out.push([path.relative(root, full), readFileSync(full, "utf8")]);
    }
  };
  walk(root);
  return out;
}

describe("the registry of reasons and events", () => {
  it("docs/deployments.md lists every reason with its message and meaning, and nothing else", () => checkAgainstDocs(REASONS, "Reasons"));
  it("docs/deployments.md lists every event type with its message and meaning, and nothing else", () => checkAgainstDocs(EVENTS, "Events"));

  it("every entry has a doc line and a non-empty message in each shape", () => {
    for (const [name, e] of [...Object.entries(REASONS), ...Object.entries(EVENTS)] as [string, Table[string]][]) {
      assert.ok(e.doc.length > 10 && e.doc.endsWith("."), `${name}: a sentence`);
      for (const m of typeof e.message === "string" ? [e.message] : Object.values(e.message)) assert.ok(m.length > 0, name);
    }
  });

  it("renders a template's slots, picks a variant, and refuses a missing value", () => {
    assert.deepEqual(because("CircuitBreakerTripped", { failed: 3, which: "new", threshold: 3, last: "; last: OOM" }), { reason: "CircuitBreakerTripped", message: "3 new tasks failed (Flotilla's circuit breaker threshold is 3); last: OOM" });
    assert.deepEqual(event("Shifted", { weight: 20, step: 1, steps: 2 }, { weight: 20 }), { type: "Shifted", message: "20% of traffic on green (step 1 of 2)", data: { weight: 20 } });
    assert.deepEqual(event("Resumed", { variant: "operator", by: "alice" }), { type: "Resumed", message: "resumed by alice" });
    assert.throws(() => render("{a} and {b}", { a: 1 }), /no value for \{b\}/);
  });

  it("no event type or reason in src/ is a bare string the registry does not hold", () => {
    const unknown: string[] = [];
    for (const [file, text] of sources()) {
      // The simulator and the AWS adapter speak AWS's vocabulary (a failure's reason MISSING), not ours.
      if (file === "deploy/registry.ts" || file.startsWith("sim/") || file.startsWith("aws/")) continue;
      // Events written as object literals (outside the machines, which use event()).
      for (const m of text.matchAll(/\{\s*type:\s*"([A-Z]\w+)",\s*message\b/g)) if (!(m[1]! in EVENTS)) unknown.push(`${file}: event ${m[1]}`);
      for (const m of text.matchAll(/\breason:\s*"([A-Z]\w+)"/g)) if (!(m[1]! in REASONS)) unknown.push(`${file}: reason ${m[1]}`);
    }
    assert.deepEqual(unknown, []);
  });

  it("the machines name reasons and events only through the registry", () => {
    const bare: string[] = [];
    for (const [file, text] of sources()) {
      if (!file.startsWith("deploy/") || file === "deploy/registry.ts") continue;
      for (const m of text.matchAll(/\{\s*type:\s*"[A-Z]\w+",\s*message\b|\breason:\s*"[A-Z]\w+"/g)) bare.push(`${file}: ${m[0]}`);
    }
    assert.deepEqual(bare, []);
  });
});
