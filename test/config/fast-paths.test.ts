/**
 * The config pipeline's fast paths against the full ones, answer for answer: placeholder-only
 * templates substituted without the parser and evaluator, and JSON read with JSON.parse with the
 * position tree built only when needed. Each must give exactly what the full path gives (text,
 * problems, codes, messages, lines, columns) over every template and JSON file the repository
 * carries (examples, the tests' own fixtures, the hostile corpus) and a generated corpus.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadInputs, RefCache } from "../../src/config/inputs.ts";
import { JsonDocument, type PathSegment } from "../../src/config/json-document.ts";
import { DEFAULT_INPUT_LIMITS } from "../../src/config/limits.ts";
import { WorkingTreeSource } from "../../src/config/source.ts";
import { DEFAULT_TEMPLATE_LIMITS, renderTemplate, type TemplateLimits } from "../../src/config/template.ts";
import { substitutePlaceholders } from "../../src/config/template-substitute.ts";
import { hostileCorpus } from "../helpers/hostile.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    const full = path.join(e.parentPath, e.name);
    if (e.isFile() && keep(full)) out.push(full);
  }
  return out.sort();
}

/** String literals in the tests' sources (quoted and template literals without substitutions). */
function literalsIn(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(/"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\$]|\\.|\$(?!\{))*)`/g)) {
    const raw = m[1] ?? m[2] ?? m[3] ?? "";
    try {
      out.push(m[3] !== undefined ? raw.replace(/\\`/g, "`").replace(/\\\\/g, "\\") : (JSON.parse(`"${raw.replace(/\\'/g, "'").replace(/(?<!\\)"/g, '\\"')}"`) as string));
    } catch {
      out.push(raw);
    }
  }
  return out;
}

/** mulberry32: the generated corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMITS: Partial<TemplateLimits>[] = [{}, { outputChars: 40 }, { steps: 6 }, { steps: 30 }, { nesting: 4 }, { nesting: 3 }];

function sameRender(text: string, context: Record<string, unknown>, label: string, limits: Partial<TemplateLimits> = {}): boolean {
  const fast = renderTemplate(text, context, "dev/web/web_svcdef.json", { limits, now: () => 0 });
  const full = renderTemplate(text, context, "dev/web/web_svcdef.json", { limits, now: () => 0, fastPath: false });
  assert.deepEqual(fast, full, `${label} with limits ${JSON.stringify(limits)}:\n${text.slice(0, 300)}`);
  return substitutePlaceholders(text, context, { ...DEFAULT_TEMPLATE_LIMITS, ...limits }, () => 0) !== undefined;
}

/** A context holding every name a template mentions, as several kinds of data. */
function contextsFor(text: string, r: () => number): Record<string, unknown>[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g)) names.add(m[0]);
  const out: Record<string, unknown>[] = [{}];
  for (let k = 0; k < 3; k++) {
    const ctx: Record<string, unknown> = {};
    for (const n of names) setPath(ctx, n.split("."), value(r, 2));
    out.push(ctx);
  }
  return out;
}

function setPath(ctx: Record<string, unknown>, parts: string[], v: unknown): void {
  let cur = ctx;
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1) {
      if (!Object.hasOwn(cur, p)) Object.defineProperty(cur, p, { value: v, enumerable: true, writable: true, configurable: true });
      return;
    }
    const next = Object.hasOwn(cur, p) ? cur[p] : undefined;
    if (typeof next !== "object" || next === null || Array.isArray(next)) Object.defineProperty(cur, p, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[p] as Record<string, unknown>;
  }
}

const STRINGS = ["", "web", "a b", 'quo"te', "it's", "ünïcødé ✓", "line\nbreak", "{{ not a tag }}", "x".repeat(70), "<b>&amp;</b>", "\\", "None"];
function value(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 0 ? 14 : 10));
  switch (pick) {
    case 0:
    case 1:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 2:
      return Math.floor(r() * 2000) - 1000;
    case 3:
      return [1.5, -0, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53 + 2, Infinity, 100.0, -2.5e-3][Math.floor(r() * 9)];
    case 4:
      return r() < 0.5;
    case 5:
      return null;
    case 6:
      return Object.create(null) as object;
    case 7:
      return JSON.parse('{"__proto__": "data", "k": 1}') as unknown;
    case 8:
      return [];
    case 9:
      return "y".repeat(Math.floor(r() * 200));
    default: {
      if (r() < 0.5) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth - 1));
      const o: Record<string, unknown> = {};
      for (const k of ["a", "b", "name"].slice(0, 1 + Math.floor(r() * 3))) o[k] = value(r, depth - 1);
      return o;
    }
  }
}

const NAMES = ["name", "image", "count", "a", "a.b", "a.b.c", "env.vars.LOG", "x1", "_u", "True", "none", "true", "not", "if", "range", "dict", "loop", "constructor", "__proto__", "a.constructor", "a.__class__", "a.name", "missing", "a.b.c.d.e", "Ünï"];
const SPACES = ["", " ", "  ", "\t", "\n", " \n "];
const TEXTS = ['{"cluster": "', '", "count": ', "}", "{", "}}", "{ {", "# x", "%", "\n", "plain text ", "✓", "", "{}", "#}", "{#", "{%", "-", "x" + "y".repeat(80)];

function generated(r: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    if (r() < 0.45) parts.push(TEXTS[Math.floor(r() * TEXTS.length)]!);
    const s1 = SPACES[Math.floor(r() * SPACES.length)]!;
    const s2 = SPACES[Math.floor(r() * SPACES.length)]!;
    const name = NAMES[Math.floor(r() * NAMES.length)]!;
    const tail = r() < 0.1 ? [" | tojson", " | default('d')", "-", "()", "[0]", " ~ 'x'"][Math.floor(r() * 6)]! : "";
    parts.push(`{{${r() < 0.05 ? "-" : ""}${s1}${name}${tail}${s2}}}`);
  }
  return parts.join("");
}

describe("placeholder-only templates: the fast path answers as the evaluator does", () => {
  it("the examples, rendered with their own inputs and with generated ones", async () => {
    const r = rng(7);
    const source = new WorkingTreeSource(path.join(ROOT, "examples"));
    let fast = 0;
    const files = (await source.listFiles()).filter((f) => /_(svcdef|taskdef|depdef)\.json$/.test(f));
    assert.ok(files.length >= 12);
    for (const f of files) {
      const text = (await source.readFile(f))!;
      const input = f.replace(/_(svcdef|taskdef|depdef)\.json$/, "_input.json");
      const own = (await loadInputs(source, input, new RefCache())).values;
      for (const ctx of [own, ...contextsFor(text, r)]) for (const limits of LIMITS) if (sameRender(text, ctx, f, limits)) fast++;
    }
    assert.ok(fast > 20, `the fast path answered ${fast} times`);
  });

  it("every template in the tests' own fixtures and the hostile corpus", () => {
    const r = rng(11);
    const texts = new Set<string>();
    for (const f of filesUnder("test", (p) => p.endsWith(".ts"))) for (const s of literalsIn(f)) if (s.includes("{{") || s.includes("{%")) texts.add(s);
    for (const c of hostileCorpus({ marker: "/nonexistent/marker", port: 1 })) for (const t of Object.values(c.files)) texts.add(t);
    assert.ok(texts.size > 100, `${texts.size} templates`);
    let fast = 0;
    for (const text of texts) for (const ctx of contextsFor(text, r)) if (sameRender(text, ctx, "fixture")) fast++;
    assert.ok(fast > 50, `the fast path answered ${fast} times`);
  });

  it("a generated corpus of placeholders, near-placeholders, keywords, host names and limits", () => {
    const r = rng(42);
    let fast = 0;
    let cases = 0;
    for (let i = 0; i < 1500; i++) {
      const text = generated(r);
      for (const ctx of contextsFor(text, r)) {
        const limits = LIMITS[Math.floor(r() * LIMITS.length)]!;
        cases++;
        if (sameRender(text, ctx, `case ${i}`, limits)) fast++;
      }
    }
    assert.ok(fast > cases / 20, `the fast path answered ${fast} of ${cases}`);
  });

  it("what the fast path leaves to the evaluator still gets the evaluator's error and position", () => {
    const text = '{"cluster": "{{ cluster }}",\n  "serviceName": "{{ svc.name }}"}';
    const r = renderTemplate(text, { cluster: "apps", svc: {} }, "f.json");
    assert.equal(r.problems[0]?.code, "FLT-TEMPLATE-UNDEFINED");
    assert.deepEqual([r.problems[0]?.line, r.problems[0]?.column], [2, 22]);
    assert.equal(substitutePlaceholders(text, { cluster: "apps", svc: {} }, DEFAULT_TEMPLATE_LIMITS, () => 0), undefined);
    assert.equal(substitutePlaceholders(text, { cluster: "apps", svc: { name: "web" } }, DEFAULT_TEMPLATE_LIMITS, () => 0), '{"cluster": "apps",\n  "serviceName": "web"}');
  });
});

/** Paths to ask a document for: every path of its value, plus some that do not exist. */
function pathsOf(v: unknown, prefix: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  out.push(prefix);
  if (out.length > 200) return out;
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v && typeof v === "object") for (const k of Object.keys(v)) pathsOf((v as Record<string, unknown>)[k], [...prefix, k], out);
  out.push([...prefix, "nope"], [...prefix, 99]);
  return out;
}

function sameDocument(text: string, label: string, maxDepth?: number): boolean {
  const options = maxDepth !== undefined ? { maxDepth } : {};
  const fast = new JsonDocument("f.json", text, options);
  const full = new JsonDocument("f.json", text, { ...options, eager: true });
  assert.deepEqual(fast.value, full.value, `${label}: value\n${text.slice(0, 200)}`);
  assert.deepEqual(fast.object, full.object, `${label}: object`);
  assert.deepEqual(fast.problems, full.problems, `${label}: problems\n${text.slice(0, 200)}`);
  for (const p of pathsOf(full.value)) {
    assert.deepEqual(fast.locate(p), full.locate(p), `${label}: locate ${JSON.stringify(p)}`);
    assert.deepEqual(fast.locate(p, true), full.locate(p, true), `${label}: locate key ${JSON.stringify(p)}`);
  }
  return fast.problems.length === 0;
}

const JSON_PIECES = ['{"a": 1}', '{"a": 1, "a": 2}', "[1, 2, ]", '{"a": 1,}', "// c\n{}", "/* c */ {}", '{"s": "\u0001"}', '{"s": "\u2028\u2029"}', "\ufeff{}", '{"n": 01}', '{"n": -0, "m": 1e400, "k": 1.0, "e": 1E+2}', '{"__proto__": {"x": 1}}', '{"": ""}', "{\u00a0}", '{"a":{"b":{"c":[[[]]]}}}', "", "   ", "null", "[]", '"str"', '{"esc": "\\u00e9\\n\\"\\\\\\/"}', '{"bad": "\\x"}', '{"k": tru}', "{'a': 1}", '{"a" 1}', '{"a": [1 2]}', "{}}", '{"big": 12345678901234567890}', '{"x": "\\ud800"}', '{"a":\r\n1}', '{"a": 1}\n\n', '{"1": 1, "0": 0, "b": 2}'];

describe("JSON: JSON.parse first, the tree only when needed", () => {
  it("every JSON file in examples and the tests answers as the full parser does", () => {
    let n = 0;
    for (const f of [...filesUnder("examples", (p) => p.endsWith(".json")), ...filesUnder("test", (p) => p.endsWith(".json"))]) {
      sameDocument(readFileSync(f, "utf8"), f);
      n++;
    }
    for (const f of filesUnder("test", (p) => p.endsWith(".ts"))) {
      for (const s of literalsIn(f)) {
        if (!/^\s*[[{]/.test(s)) continue;
        sameDocument(s, f);
        n++;
      }
    }
    assert.ok(n > 100, `${n} documents`);
  });

  it("a generated corpus: duplicates, syntax errors, comments, odd whitespace and characters, numbers, depth", () => {
    const r = rng(3);
    let clean = 0;
    for (const p of JSON_PIECES) sameDocument(p, JSON.stringify(p));
    for (let i = 0; i < 2000; i++) {
      const doc = JSON.stringify(value(r, 3), null, r() < 0.5 ? 2 : undefined) ?? "null";
      let text = doc;
      // Mutate: splice a piece in, duplicate a key, drop a character.
      const roll = r();
      const at = Math.floor(r() * (text.length + 1));
      if (roll < 0.25) text = text.slice(0, at) + JSON_PIECES[Math.floor(r() * JSON_PIECES.length)] + text.slice(at);
      else if (roll < 0.4) text = text.replace(/"(\w+)":/, '"$1": 0, "$1":');
      else if (roll < 0.55) text = text.slice(0, at) + text.slice(at + 1);
      else if (roll < 0.6) text = "[".repeat(70) + text + "]".repeat(70);
      if (sameDocument(text, `case ${i}`, r() < 0.2 ? 3 : undefined)) clean++;
    }
    assert.ok(clean > 200, `${clean} documents without problems`);
  });

  it("a file with a duplicate key still names it, where it is", () => {
    const doc = new JsonDocument("f.json", '{\n  "a": 1,\n  "a": 2\n}');
    assert.deepEqual(doc.problems.map((p) => [p.code, p.path, p.line, p.column]), [["FLT-JSON-DUPLICATE-KEY", "$.a", 3, 3]]);
    assert.equal(DEFAULT_INPUT_LIMITS.jsonDepth > 3, true);
  });
});
