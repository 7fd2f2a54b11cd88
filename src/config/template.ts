/**
 * Jinja2-compatible rendering with Jinja's StrictUndefined semantics.
 *
 * nunjucks is the closest maintained-enough Jinja port, but it renders a missing variable as an
 * empty string. Gitmoxi (Python Jinja2) repositories rely on StrictUndefined: a missing variable is
 * an error when it is *used* (printed, iterated, compared, tested for truth, attribute-accessed),
 * yet `x | default(...)` and `x is defined` still work and unused branches are not checked.
 * We get exactly that by compiling templates with a small Compiler subclass that routes every
 * variable and member lookup through `__fltVar` / `__fltMember`, which return a "strict undefined"
 * sentinel that throws, naming the variable, on any use. nunjucks attaches the line and column.
 */
import { createRequire } from "node:module";
import nunjucks from "nunjucks";
import type { Problem } from "../core/problems.ts";

const require = createRequire(import.meta.url);

interface NunjucksNode {
  typename: string;
  value?: unknown;
  target?: NunjucksNode;
  val?: NunjucksNode;
  cond?: NunjucksNode;
  expr?: NunjucksNode;
  ops?: { expr: NunjucksNode }[];
  left?: NunjucksNode;
  right?: NunjucksNode;
}
interface CompilerInstance {
  _emit(code: string): void;
  compile(node: unknown, frame: unknown): void;
  getCode(): string;
}
type CompilerClass = new (name: string, throwOnUndefined: boolean) => CompilerInstance;

const nodes = require("nunjucks/src/nodes") as Record<string, new (...a: unknown[]) => NunjucksNode>;
const { Compiler } = require("nunjucks/src/compiler") as { Compiler: CompilerClass };
const parser = require("nunjucks/src/parser") as { parse(src: string, extensions: unknown[], opts: unknown): unknown };
const transformer = require("nunjucks/src/transformer") as { transform(ast: unknown, asyncFilters: unknown[], name: string): unknown };
const runtime = require("nunjucks/src/runtime") as { memberLookup(obj: unknown, key: unknown, ...rest: unknown[]): unknown };

nunjucks.installJinjaCompat(); // True/False/None, dict.items(), list slices, ...

// ---------------------------------------------------------------------------------------------
// The strict-undefined sentinel

const STRICT = Symbol("flotilla.strictUndefined");
const sentinels = new WeakSet<object>();

export class UndefinedVariableError extends Error {
  readonly variable: string;
  constructor(variable: string, use: string) {
    super(`'${variable}' is undefined (${use})`);
    this.name = "UndefinedVariableError";
    this.variable = variable;
  }
}

/** The most recent undefined-variable error of the current (synchronous) render. */
let lastUndefined: UndefinedVariableError | undefined;

function raise(name: string, use: string): never {
  lastUndefined = new UndefinedVariableError(name, use);
  throw lastUndefined;
}

function strictUndefined(name: string): object {
  const proxy = new Proxy(
    {},
    {
      get(_t, key) {
        if (key === STRICT) return name;
        if (key === Symbol.toPrimitive) return () => raise(name, "used as a value");
        if (typeof key === "symbol") return undefined;
        if (key === "toString" || key === "valueOf" || key === "toJSON") return () => raise(name, "used as a value");
        return raise(name, `reading '${key}'`);
      },
      has: () => raise(name, "iterated or searched"),
      ownKeys: () => raise(name, "iterated"),
      set: () => raise(name, "assigned to"),
    },
  );
  sentinels.add(proxy);
  return proxy;
}

export function isStrictUndefined(v: unknown): boolean {
  return typeof v === "object" && v !== null && sentinels.has(v);
}
function nameOf(v: object): string {
  return (v as Record<symbol, string>)[STRICT]!;
}
function isMissing(v: unknown): boolean {
  return v === undefined || isStrictUndefined(v);
}

/** Checks used by the compiled code. They pass values through unchanged so `a or b` keeps Jinja semantics. */
const guards = {
  __fltVar(name: string, value: unknown): unknown {
    return value === undefined ? strictUndefined(name) : value;
  },
  __fltMember(described: string, obj: unknown, key: unknown, ...rest: unknown[]): unknown {
    if (isStrictUndefined(obj)) raise(nameOf(obj as object), `reading '${String(key)}'`);
    if (obj === null || obj === undefined) raise(described, `it is none, so '${String(key)}' cannot be read`);
    const v = runtime.memberLookup(obj, key, ...rest);
    return v === undefined ? strictUndefined(`${described}.${String(key)}`) : v;
  },
  __fltTruthy(v: unknown): unknown {
    if (isStrictUndefined(v)) raise(nameOf(v as object), "tested as a condition");
    return v;
  },
};

// ---------------------------------------------------------------------------------------------
// The compiler

function describe(node: NunjucksNode | undefined): string {
  if (!node) return "value";
  if (node.typename === "Symbol") return String(node.value);
  if (node.typename === "Literal") return String(node.value);
  if (node.typename === "LookupVal") return `${describe(node.target)}.${describe(node.val)}`;
  return "value";
}

class StrictCompiler extends Compiler {
  private wrap(fn: string, node: unknown, frame: unknown): void {
    this._emit(`env.getGlobal("${fn}")(`);
    this.compile(node, frame);
    this._emit(")");
  }
}
const base = Compiler.prototype as unknown as Record<string, (this: StrictCompiler, node: NunjucksNode, frame: unknown, ...rest: unknown[]) => void>;
const proto = StrictCompiler.prototype as unknown as Record<string, (this: StrictCompiler, node: NunjucksNode, frame: unknown, ...rest: unknown[]) => void>;
const wrapOf = (c: StrictCompiler) => (c as unknown as { wrap(fn: string, node: unknown, frame: unknown): void }).wrap.bind(c);

/** nunjucks only records positions at function calls; we record them at every guarded lookup. */
function at(node: NunjucksNode): string {
  const n = node as unknown as { lineno: number; colno: number };
  return `lineno = ${n.lineno}, colno = ${n.colno}, `;
}

proto["compileSymbol"] = function (node, frame) {
  this._emit(`(${at(node)}env.getGlobal("__fltVar")(${JSON.stringify(node.value)}, `);
  base["compileSymbol"]!.call(this, node, frame);
  this._emit("))");
};
proto["compileLookupVal"] = function (node, frame) {
  // `described` goes first: jinja-compat compiles slices (`x[1:]`) as extra trailing arguments.
  this._emit(`(${at(node)}env.getGlobal("__fltMember")(${JSON.stringify(describe(node.target))}, (`);
  this.compile(node.target, frame);
  this._emit("),");
  this.compile(node.val, frame);
  this._emit("))");
};
// Truth tests: wrap the condition so that a strict-undefined raises instead of counting as true.
for (const method of ["compileIf", "compileIfAsync", "compileInlineIf"]) {
  proto[method] = function (node, frame, ...rest) {
    const cond = node.cond;
    const wrapped = Object.create(Object.getPrototypeOf(node) as object) as NunjucksNode;
    Object.assign(wrapped, node, { cond: truthyCall(cond!) });
    base[method]!.call(this, wrapped, frame, ...rest);
  };
}
proto["compileNot"] = function (node, frame) {
  this._emit("!");
  wrapOf(this)("__fltTruthy", node.target, frame);
};
for (const method of ["compileOr", "compileAnd"]) {
  const op = method === "compileOr" ? " || " : " && ";
  proto[method] = function (node, frame) {
    wrapOf(this)("__fltTruthy", node.left, frame);
    this._emit(op);
    wrapOf(this)("__fltTruthy", node.right, frame);
  };
}
// Comparisons: Jinja's StrictUndefined raises on ==, <, ... ; JS would just answer false.
proto["compileCompare"] = function (node, frame) {
  const w = wrapOf(this);
  w("__fltTruthy", node.expr, frame);
  const ops = { "==": "==", "===": "===", "!=": "!=", "!==": "!==", "<": "<", ">": ">", "<=": "<=", ">=": ">=" } as Record<string, string>;
  for (const op of node.ops as unknown as { type: string; expr: NunjucksNode }[]) {
    this._emit(` ${ops[op.type] ?? op.type} `);
    w("__fltTruthy", op.expr, frame);
  }
};

function truthyCall(cond: NunjucksNode): NunjucksNode {
  const { FunCall, Symbol: Sym, NodeList } = nodes as Record<string, new (...a: unknown[]) => NunjucksNode>;
  const c = cond as unknown as { lineno: number; colno: number };
  const args = new NodeList!(c.lineno, c.colno, [cond]);
  return new FunCall!(c.lineno, c.colno, new Sym!(c.lineno, c.colno, "__fltTruthyFn"), args);
}

// ---------------------------------------------------------------------------------------------
// Environment: filters Jinja has and nunjucks lacks, and strict versions of default/defined

function createEnvironment(): nunjucks.Environment {
  // dev: keep nunjucks' own error object, which carries the line and column.
  const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false, trimBlocks: false, lstripBlocks: false, dev: true });
  for (const [k, v] of Object.entries(guards)) env.addGlobal(k, v);
  env.addGlobal("__fltTruthyFn", (v: unknown) => guards.__fltTruthy(v));

  const def = (value: unknown, fallback: unknown = "", boolean = false) => (isMissing(value) || (boolean && !value) ? fallback : value);
  env.addFilter("default", def);
  env.addFilter("d", def);
  const tests = env as unknown as { addTest(name: string, fn: (v: unknown) => boolean): void }; // missing from @types/nunjucks
  tests.addTest("defined", (v: unknown) => !isMissing(v));
  tests.addTest("undefined", (v: unknown) => isMissing(v));
  env.addFilter("tojson", (value: unknown, indent?: number) => {
    assertNoUndefined(value);
    return JSON.stringify(value, null, indent);
  });
  env.addFilter("items", (value: Record<string, unknown>) => Object.entries(value));
  env.addFilter("map", (value: unknown[], ...args: unknown[]) => {
    const kw = args.at(-1) as { attribute?: string; default?: unknown; __keywords?: boolean } | undefined;
    if (kw && typeof kw === "object" && kw.__keywords) {
      if (kw.attribute === undefined) throw new Error("map() needs attribute= or a filter name");
      return value.map((item) => {
        const v = kw.attribute!.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], item);
        return v === undefined ? kw.default : v;
      });
    }
    const [filterName, ...filterArgs] = args as [string, ...unknown[]];
    const filter = env.getFilter(filterName) as (v: unknown, ...a: unknown[]) => unknown;
    return value.map((item) => filter(item, ...filterArgs));
  });
  env.addFilter("format", (fmt: string, ...args: unknown[]) => printf(String(fmt), args));
  env.addFilter("bool", (v: unknown) => (typeof v === "string" ? ["true", "yes", "on", "1"].includes(v.toLowerCase()) : Boolean(v)));
  env.addFilter("unique", (v: unknown[]) => [...new Set(v)]);
  return env;
}

/** Python's `%` formatting as Jinja's `format` filter uses it: %s %d %i %f (%.2f) %x %% and %(name)s. */
function printf(fmt: string, args: unknown[]): string {
  let i = 0;
  const named = args.length === 1 && typeof args[0] === "object" && args[0] !== null && !Array.isArray(args[0]) ? (args[0] as Record<string, unknown>) : undefined;
  return fmt.replace(/%(?:\(([^)]+)\))?([-+0 ]*)(\d+)?(?:\.(\d+))?([sdifxr%])/g, (_m, key: string | undefined, flags: string, width: string | undefined, precision: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    const value = key !== undefined && named ? named[key] : args[i++];
    assertNoUndefined(value);
    let out: string;
    if (conv === "d" || conv === "i") out = String(Math.trunc(Number(value)));
    else if (conv === "f") out = Number(value).toFixed(precision !== undefined ? Number(precision) : 6);
    else if (conv === "x") out = Math.trunc(Number(value)).toString(16);
    else out = typeof value === "string" ? value : JSON.stringify(value);
    if (width) out = flags.includes("-") ? out.padEnd(Number(width)) : out.padStart(Number(width), flags.includes("0") && conv !== "s" ? "0" : " ");
    return out;
  });
}

function assertNoUndefined(value: unknown): void {
  if (isStrictUndefined(value)) raise(nameOf(value as object), "passed to tojson");
}

const env = createEnvironment();

// ---------------------------------------------------------------------------------------------
// Public API

export interface RenderResult {
  text?: string;
  problems: Problem[];
}

type CompiledTemplate = nunjucks.Template;
const cache = new Map<string, CompiledTemplate | Problem>();
const CACHE_LIMIT = 5000;

/** True when the text contains any Jinja syntax, i.e. rendering could change it. */
export function isTemplate(text: string): boolean {
  return text.includes("{{") || text.includes("{%") || text.includes("{#");
}

function compile(text: string, file: string): CompiledTemplate | Problem {
  const key = text;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // keep most recently used last
    cache.set(key, hit);
    return hit;
  }
  let result: CompiledTemplate | Problem;
  try {
    const c = new StrictCompiler(file, false);
    c.compile(transformer.transform(parser.parse(text, [], (env as unknown as { opts: unknown }).opts), [], file), null);
    // This is how nunjucks itself loads compiled templates; the code comes from the compiler, not the user.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const props = (new Function(c.getCode()) as () => unknown)();
    result = new nunjucks.Template({ type: "code", obj: props } as unknown as string, env, file, true);
  } catch (e) {
    result = templateProblem(e, file, "FLT-TEMPLATE-SYNTAX");
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, result);
  return result;
}

/**
 * Render one file. `context` are the object's input values. Problems carry the template's line and
 * column; the caller keeps the file name relative to the repository.
 */
export function renderTemplate(text: string, context: Record<string, unknown>, file: string): RenderResult {
  if (!isTemplate(text)) return { text, problems: [] };
  const compiled = compile(text, file);
  if (!(compiled instanceof nunjucks.Template)) return { problems: [{ ...compiled, file }] };
  lastUndefined = undefined;
  try {
    return { text: compiled.render(context), problems: [] };
  } catch (e) {
    return { problems: [templateProblem(e, file, "FLT-TEMPLATE-RENDER")] };
  }
}

function templateProblem(e: unknown, file: string, code: "FLT-TEMPLATE-SYNTAX" | "FLT-TEMPLATE-RENDER"): Problem {
  const err = e as { lineno?: number; colno?: number; message?: string };
  // The parser reports 1-based positions; runtime errors carry the AST's 0-based ones.
  const offset = code === "FLT-TEMPLATE-RENDER" ? 1 : 0;
  const location = typeof err.lineno === "number" && (err.lineno > 0 || offset) ? { line: err.lineno + offset, ...(typeof err.colno === "number" ? { column: err.colno + offset } : {}) } : {};
  const undefinedVar = lastUndefined;
  lastUndefined = undefined;
  if (undefinedVar) {
    return {
      code: "FLT-TEMPLATE-UNDEFINED",
      severity: "error",
      file,
      ...location,
      message: `undefined variable '${undefinedVar.variable}': ${undefinedVar.message.replace(/^'[^']*' is undefined /, "")}`.replace(/: \((.*)\)$/, " ($1)"),
      hint: `define '${undefinedVar.variable.split(".")[0]}' in the object's _input.json (or a file its ref names), or use '| default(...)'`,
    };
  }
  return { code, severity: "error", file, ...location, message: cleanNunjucksMessage(err.message ?? String(e)) };
}

/** nunjucks prefixes messages with "(file) [Line n, Column m]" and "Error: "; we report those separately. */
function cleanNunjucksMessage(message: string): string {
  return message
    .replace(/^\(.*?\)(\s*\[Line \d+, Column \d+\])?\s*/s, "")
    .replace(/^(Template render error:\s*)/i, "")
    .replace(/^\s*(Error|TypeError|Template render error): /, "")
    .trim();
}
