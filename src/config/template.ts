/**
 * Jinja2-compatible templates, rendered in a sandbox (docs/format.md, "Templates are sandboxed").
 *
 * Repository files are untrusted, so templates are never compiled to JavaScript (which is what
 * nunjucks does, and why a template reaching `range.constructor` ran arbitrary code). We keep
 * nunjucks' parser only — it gives Jinja syntax with line and column numbers — and evaluate its
 * syntax tree ourselves (template-eval.ts): a template sees JSON data, our filters, tests and
 * globals, and an allow-list of methods; it has no loader (include/import/extends are refused);
 * and each file has a budget (steps, loop iterations, output size, macro depth, nesting, wall
 * time). Undefined variables follow Jinja's StrictUndefined: using one is an error naming it, its
 * line and column, while `| default` and `is defined` still work on it.
 */
import { createRequire } from "node:module";
import type { Problem, ProblemCode } from "../core/problems.ts";
import { METHODS_HINT, FILTERS, TESTS, DICT_METHODS, LIST_METHODS, STRING_METHODS, LOOP_METHODS, CYCLER_METHODS } from "./template-builtins.ts";
import { Evaluator, LOADER_HINT, LOADER_NODES, type TNode } from "./template-eval.ts";
import { Budget, DEFAULT_TEMPLATE_LIMITS, isHostName, TemplateFault, UndefinedUse, type TemplateLimits } from "./template-runtime.ts";
import { substitutePlaceholders } from "./template-substitute.ts";

export { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits };

const require = createRequire(import.meta.url);

interface Token {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface ParserInstance {
  extensions: unknown[];
  parseAsRoot(): TNode;
  peekToken(): Token;
  nextToken(): Token;
  skip(type: string): boolean;
  skipValue(type: string, value: string): boolean;
  expect(type: string): Token;
  fail(message: string, lineno?: number, colno?: number): never;
  parseExpression(): TNode;
  parseSignature(): TNode;
  parseSubscript(open: Token): TNode;
}
type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => TNode;
interface Extendable<T> {
  extend(name: string, props: Record<string, unknown>): T;
}
const lexer = require("nunjucks/src/lexer") as Record<string, string> & { lex(src: string, opts: unknown): unknown };
const nodes = require("nunjucks/src/nodes") as Record<string, NodeClass> & { Node: Extendable<NodeClass> };
const { Parser } = require("nunjucks/src/parser") as { Parser: Extendable<new (tokens: unknown) => ParserInstance> };

/** `x[start:stop:step]` (Jinja's slices). */
const Slice = nodes.Node.extend("Slice", { fields: ["start", "stop", "step"] });

/**
 * nunjucks' parser, with Jinja's subscripts and slices read in one pass. (nunjucks' own
 * jinja-compat adds slices by re-parsing a failed `[...]` as a slice; nested brackets make that
 * exponential — 20 levels took 40 s — and it patches nunjucks globally.)
 */
const JinjaParser = Parser.extend("JinjaParser", {
  parsePostfix(this: ParserInstance, start: TNode): TNode {
    let node = start;
    for (let tok = this.peekToken(); tok; tok = this.peekToken()) {
      if (tok.type === lexer["TOKEN_LEFT_PAREN"]) {
        node = new nodes["FunCall"]!(tok.lineno, tok.colno, node, this.parseSignature());
      } else if (tok.type === lexer["TOKEN_LEFT_BRACKET"]) {
        this.nextToken();
        node = new nodes["LookupVal"]!(tok.lineno, tok.colno, node, this.parseSubscript(tok));
      } else if (tok.type === lexer["TOKEN_OPERATOR"] && tok.value === ".") {
        this.nextToken();
        const name = this.nextToken();
        if (name.type !== lexer["TOKEN_SYMBOL"]) this.fail(`expected name as lookup value, got ${name.value}`, name.lineno, name.colno);
        node = new nodes["LookupVal"]!(tok.lineno, tok.colno, node, new nodes["Literal"]!(name.lineno, name.colno, name.value));
      } else break;
    }
    return node;
  },
  /** After `[`: an index expression, or up to three slice parts separated by `:`; then `]`. */
  parseSubscript(this: ParserInstance, open: Token): TNode {
    const colon = () => this.skip(lexer["TOKEN_COLON"]!);
    const ends = () => [lexer["TOKEN_COLON"], lexer["TOKEN_RIGHT_BRACKET"]].includes(this.peekToken().type);
    const first = ends() ? null : this.parseExpression();
    if (!colon()) {
      if (!first) return this.fail("expected an index", open.lineno, open.colno);
      this.expect(lexer["TOKEN_RIGHT_BRACKET"]!);
      return first;
    }
    const stop = ends() ? null : this.parseExpression();
    const step = colon() && !ends() ? this.parseExpression() : null;
    this.expect(lexer["TOKEN_RIGHT_BRACKET"]!);
    return new Slice(open.lineno, open.colno, first, stop, step);
  },
});

function parseJinja(text: string): TNode {
  const p = new JinjaParser(lexer.lex(text, {}));
  p.extensions = [];
  return p.parseAsRoot();
}

export interface RenderResult {
  text?: string;
  problems: Problem[];
}

export interface RenderOptions {
  /** Per-file budget; the defaults are documented in docs/format.md. */
  limits?: Partial<TemplateLimits>;
  /** Monotonic milliseconds for the wall-time limit (tests inject one). */
  now?: () => number;
  /**
   * Placeholder-only templates are substituted without the parser and evaluator
   * (template-substitute.ts), with the same result; false sends every template through the
   * evaluator (the tests compare the two).
   */
  fastPath?: boolean;
}

/** True when the text contains any Jinja syntax, i.e. rendering could change it. */
export function isTemplate(text: string): boolean {
  return text.includes("{{") || text.includes("{%") || text.includes("{#");
}

interface Parsed {
  root: TNode;
  depth: number;
}
const cache = new Map<string, Parsed | Problem>();
const CACHE_LIMIT = 5000;

/**
 * Render one file. `context` are the object's input values (JSON data). Problems carry the
 * template's line and column; the caller keeps the file name relative to the repository.
 */
export function renderTemplate(text: string, context: Record<string, unknown>, file: string, options: RenderOptions = {}): RenderResult {
  if (!isTemplate(text)) return { text, problems: [] };
  const limits: TemplateLimits = { ...DEFAULT_TEMPLATE_LIMITS, ...options.limits };
  if (text.length > limits.sourceChars) {
    return { problems: [{ code: "FLT-TEMPLATE-LIMIT", severity: "error", file, message: `the template has ${text.length.toLocaleString("en-US")} characters, more than the ${limits.sourceChars.toLocaleString("en-US")} allowed` }] };
  }
  if (options.fastPath !== false) {
    const substituted = substitutePlaceholders(text, context, limits, options.now ?? (() => performance.now()));
    if (substituted !== undefined) return { text: substituted, problems: [] };
  }
  const parsed = parse(text);
  if (!("root" in parsed)) return { problems: [{ ...parsed, file }] };
  if (parsed.depth > limits.nesting) {
    return { problems: [{ code: "FLT-TEMPLATE-LIMIT", severity: "error", file, message: `the template nests ${parsed.depth} levels deep, more than the ${limits.nesting} allowed` }] };
  }
  try {
    const budget = new Budget(limits, options.now ?? (() => performance.now()));
    return { text: new Evaluator(context, budget).render(parsed.root), problems: [] };
  } catch (e) {
    return { problems: [problemOf(e, file)] };
  }
}

/**
 * What can be known of a template without its data: syntax, forbidden constructs, nesting. For
 * templates rendered later with data that does not exist yet (notification bodies).
 */
export function checkTemplate(text: string, options: RenderOptions = {}): Problem | undefined {
  if (!isTemplate(text)) return undefined;
  const limits: TemplateLimits = { ...DEFAULT_TEMPLATE_LIMITS, ...options.limits };
  if (text.length > limits.sourceChars) return { code: "FLT-TEMPLATE-LIMIT", severity: "error", message: `the template has more than ${limits.sourceChars.toLocaleString("en-US")} characters` };
  const parsed = parse(text);
  if (!("root" in parsed)) return parsed;
  if (parsed.depth > limits.nesting) return { code: "FLT-TEMPLATE-LIMIT", severity: "error", message: `the template nests ${parsed.depth} levels deep, more than the ${limits.nesting} allowed` };
  return undefined;
}

function parse(text: string): Parsed | Problem {
  const hit = cache.get(text);
  if (hit) {
    cache.delete(text); // keep most recently used last
    cache.set(text, hit);
    return hit;
  }
  let result: Parsed | Problem;
  try {
    const unclosed = unclosedRaw(text);
    if (unclosed) {
      result = { code: "FLT-TEMPLATE-SYNTAX", severity: "error", ...unclosed, message: "{% raw %} (or {% verbatim %}) has no matching {% endraw %}" };
    } else {
      const raw = parseJinja(text);
      const depth = depthOf(raw);
      if (depth > MAX_NESTING) result = { code: "FLT-TEMPLATE-LIMIT", severity: "error", message: `the template nests ${depth} levels deep` };
      else {
        const root = compact(raw);
        result = check(root) ?? { root, depth };
      }
    }
  } catch (e) {
    result = problemOf(e, "", "FLT-TEMPLATE-SYNTAX");
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, result);
  return result;
}

/**
 * nunjucks finds the end of a raw block with an unanchored regular expression; with no end tag
 * that search is quadratic in the file's length (a 100 KB file takes seconds). Find the end tag
 * ourselves, linearly, the same way the parser will, and refuse a raw block that has none.
 */
function unclosedRaw(text: string): { line: number; column: number } | undefined {
  const opener = /\{%-?\s*(raw|verbatim)\s*-?%\}/g;
  for (let m = opener.exec(text); m; m = opener.exec(text)) {
    const tag = m[1]!;
    const inner = new RegExp(`\\{%\\s*(${tag}|end${tag})\\s*%\\}`, "g");
    inner.lastIndex = m.index + m[0].length;
    let level = 1;
    let end: RegExpExecArray | null = null;
    while (level > 0 && (end = inner.exec(text))) level += end[1] === tag ? 1 : -1;
    if (level > 0) {
      const before = text.slice(0, m.index);
      const line = before.split("\n").length;
      return { line, column: m.index - before.lastIndexOf("\n") };
    }
    opener.lastIndex = end!.index + end![0].length;
  }
  return undefined;
}

const UNSUPPORTED = new Set(["Switch", "IfAsync", "AsyncEach", "AsyncAll", "CallExtension", "CallExtensionAsync", "FilterAsync"]);
const METHOD_NAMES = new Set([...DICT_METHODS.keys(), ...LIST_METHODS.keys(), ...STRING_METHODS.keys(), ...LOOP_METHODS.keys(), ...CYCLER_METHODS.keys()]);

/** Refusals that need no data: what a template may never contain, even in a branch not taken. */
function check(root: TNode): Problem | undefined {
  const at = (n: TNode) => ({ line: n.lineno + 1, column: n.colno + 1 });
  const fail = (code: ProblemCode, n: TNode, message: string, hint?: string): Problem => ({ code, severity: "error", ...at(n), message, ...(hint ? { hint } : {}) });
  const stack: TNode[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (LOADER_NODES.has(n.typename)) return fail("FLT-TEMPLATE-FORBIDDEN", n, `{% ${n.typename === "FromImport" ? "from" : n.typename === "Super" ? "super()" : n.typename.toLowerCase()} %} is not available`, LOADER_HINT);
    if (UNSUPPORTED.has(n.typename)) return fail("FLT-TEMPLATE-SYNTAX", n, `'${n.typename}' is a nunjucks extension, not Jinja, and is not supported`);
    if (n.typename === "Literal" && n.value !== null && typeof n.value === "object") return fail("FLT-TEMPLATE-FORBIDDEN", n, "regular expression literals are not available");
    if (n.typename === "LookupVal" && n.val?.typename === "Literal" && isHostName(n.val.value)) {
      return fail("FLT-TEMPLATE-FORBIDDEN", n.val, `'${String(n.val.value)}' cannot be read: templates see only JSON data, not the objects of the language underneath`);
    }
    if (n.typename === "FunCall" && n.name?.typename === "LookupVal" && n.name.val?.typename === "Literal" && !METHOD_NAMES.has(String(n.name.val.value))) {
      return fail("FLT-TEMPLATE-FORBIDDEN", n.name.val, `'.${String(n.name.val.value)}()' cannot be called: it is not one of the methods templates may call`, METHODS_HINT);
    }
    if (n.typename === "Filter" && !FILTERS.has(String(n.name?.value))) return fail("FLT-TEMPLATE-RENDER", n, `no filter named '${String(n.name?.value)}'`, "see docs/format.md for the filters templates can use");
    if (n.typename === "Is" && n.right?.typename === "Symbol" && !TESTS.has(String(n.right.value))) return fail("FLT-TEMPLATE-RENDER", n.right, `no test named '${String(n.right.value)}'`, "see docs/format.md for the tests templates can use");
    for (const c of childrenOf(n)) stack.push(c);
  }
  return undefined;
}

/** Beyond any per-call limit: deeper trees are refused before they are walked recursively. */
const MAX_NESTING = 5000;

/**
 * The parser's nodes as plain objects holding only what is set, with flat strings: the parser's
 * strings keep large chunks of its input alive, and a cached tree lives as long as the cache.
 */
function compact(n: TNode): TNode {
  const out: Record<string, unknown> = { typename: n.typename, lineno: n.lineno, colno: n.colno };
  for (const f of FIELDS) {
    const v = (n as unknown as Record<string, unknown>)[f];
    if (v === undefined) continue;
    if (Array.isArray(v)) out[f] = (v as unknown[]).map((c) => (isNode(c) ? compact(c) : c));
    else if (isNode(v)) out[f] = compact(v);
    else out[f] = typeof v === "string" ? flat(v) : v;
  }
  return out as unknown as TNode;
}

/** A copy of the string that shares no memory with the parser's input. */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

const FIELDS = ["children", "target", "val", "name", "args", "body", "else_", "cond", "arr", "expr", "ops", "left", "right", "key", "value", "targets", "start", "stop", "step", "template", "names", "type"] as const;
function childrenOf(n: TNode): TNode[] {
  const out: TNode[] = [];
  const rec = n as unknown as Record<string, unknown>;
  for (const f of FIELDS) {
    const v = rec[f];
    if (Array.isArray(v)) out.push(...v.filter(isNode));
    else if (isNode(v)) out.push(v);
  }
  return out;
}
function isNode(v: unknown): v is TNode {
  return typeof v === "object" && v !== null && typeof (v as TNode).typename === "string" && typeof (v as TNode).lineno === "number";
}

function depthOf(root: TNode): number {
  let max = 0;
  const stack: [TNode, number][] = [[root, 1]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (d > max) max = d;
    for (const c of childrenOf(n)) stack.push([c, d + 1]);
  }
  return max;
}

function problemOf(e: unknown, file: string, fallback: ProblemCode = "FLT-TEMPLATE-RENDER"): Problem {
  if (e instanceof UndefinedUse) {
    return {
      code: "FLT-TEMPLATE-UNDEFINED",
      severity: "error",
      file,
      line: e.line,
      column: e.column,
      message: `undefined variable '${e.variable}' (${e.use})`,
      hint: `define '${e.variable.split(/[.[]/)[0]}' in the object's _input.json (or a file its ref names), or use '| default(...)'`,
    };
  }
  if (e instanceof TemplateFault) {
    return { code: e.code, severity: "error", file, ...(e.line !== undefined ? { line: e.line, column: e.column! } : {}), message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return { code: "FLT-TEMPLATE-LIMIT", severity: "error", file, message: "the template nests too deeply" };
  }
  // nunjucks' parser errors carry 1-based positions and prefix the message with them.
  const err = e as { lineno?: number; colno?: number; message?: string };
  const location = typeof err.lineno === "number" && err.lineno > 0 ? { line: err.lineno, ...(typeof err.colno === "number" ? { column: err.colno } : {}) } : {};
  return { code: fallback, severity: "error", file, ...location, message: cleanNunjucksMessage(err.message ?? String(e)) };
}

/** nunjucks prefixes messages with "(file) [Line n, Column m]" and "Error: "; we report those separately. */
function cleanNunjucksMessage(message: string): string {
  return message
    .replace(/^\(.*?\)(\s*\[Line \d+, Column \d+\])?\s*/s, "")
    .replace(/^(Template render error:\s*)/i, "")
    .replace(/^\s*(Error|TypeError|Template render error): /, "")
    .trim();
}
