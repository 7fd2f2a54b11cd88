/**
 * The value model of the template sandbox. A template works on JSON data (null, booleans, numbers,
 * strings, arrays, plain objects) plus a handful of values of our own (strict-undefined, macros,
 * globals, namespace, joiner, cycler, the loop variable). Nothing else exists for it: member access
 * reads only an object's own data properties, and every operation that builds a string or a list
 * is charged to a per-file budget first, so a hostile template fails with a coded error instead of
 * hanging the controller or exhausting its memory.
 */

// ---------------------------------------------------------------------------------------------
// Limits

export interface TemplateLimits {
  /** Evaluation steps per file (each node evaluated is one; building big strings or lists costs more). */
  steps: number;
  /** Loop iterations per file, all loops together. */
  iterations: number;
  /** Characters of rendered output, and of any single string a template builds. */
  outputChars: number;
  /** Items of any list a template builds (range, +, *, filters). */
  items: number;
  /** Macro calls nested inside each other (recursion). */
  callDepth: number;
  /** Nesting of the template's syntax tree (deeply nested expressions or blocks). */
  nesting: number;
  /** Wall time per file, in milliseconds. */
  millis: number;
  /** Characters of template source. */
  sourceChars: number;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  steps: 1_000_000,
  iterations: 100_000,
  outputChars: 1024 * 1024,
  items: 100_000,
  callDepth: 50,
  nesting: 200,
  millis: 2_000,
  sourceChars: 1024 * 1024,
});

// ---------------------------------------------------------------------------------------------
// Errors

export type FaultCode = "FLT-TEMPLATE-FORBIDDEN" | "FLT-TEMPLATE-LIMIT" | "FLT-TEMPLATE-RENDER" | "FLT-TEMPLATE-SYNTAX";

/** A coded failure of one template; the evaluator attaches the innermost node's position. */
export class TemplateFault extends Error {
  readonly code: FaultCode;
  readonly hint: string | undefined;
  line: number | undefined;
  column: number | undefined;
  constructor(code: FaultCode, message: string, hint?: string) {
    super(message);
    this.name = "TemplateFault";
    this.code = code;
    this.hint = hint;
  }
}

export const forbidden = (message: string, hint?: string) => new TemplateFault("FLT-TEMPLATE-FORBIDDEN", message, hint);
export const limit = (message: string, hint?: string) => new TemplateFault("FLT-TEMPLATE-LIMIT", message, hint);
export const renderError = (message: string, hint?: string) => new TemplateFault("FLT-TEMPLATE-RENDER", message, hint);

/** Jinja's StrictUndefined: a missing variable may be passed around, and fails where it is used. */
export class Undef {
  readonly name: string;
  /** 1-based position where the missing value was read. */
  readonly line: number;
  readonly column: number;
  constructor(name: string, line: number, column: number) {
    this.name = name;
    this.line = line;
    this.column = column;
  }
}

export class UndefinedUse extends Error {
  readonly variable: string;
  readonly use: string;
  readonly line: number;
  readonly column: number;
  constructor(u: Undef, use: string) {
    super(`'${u.name}' is undefined (${use})`);
    this.name = "UndefinedUse";
    this.variable = u.name;
    this.use = use;
    this.line = u.line;
    this.column = u.column;
  }
}

export function useOf(v: unknown, use: string): void {
  if (v instanceof Undef) throw new UndefinedUse(v, use);
}

// ---------------------------------------------------------------------------------------------
// Values of our own

/** `namespace(...)`: the one mutable object, written only through `{% set ns.attr = ... %}`. */
export class Namespace {
  readonly attrs = new Map<string, unknown>();
}

/** `cycler(...)`: `.next()`, `.reset()`, `.current`. */
export class Cycler {
  readonly items: unknown[];
  pos = 0;
  constructor(items: unknown[]) {
    this.items = items;
  }
}

/** `joiner(sep)`: called, returns "" the first time and `sep` after. */
export class Joiner {
  readonly sep: string;
  used = false;
  constructor(sep: string) {
    this.sep = sep;
  }
}

/** The `loop` variable of a `{% for %}`. */
export class LoopInfo {
  readonly items: readonly unknown[];
  readonly depth0: number;
  index0 = 0;
  lastChanged: unknown[] | undefined;
  constructor(items: readonly unknown[], depth0: number) {
    this.items = items;
    this.depth0 = depth0;
  }
}

/** A global function (range, dict, namespace, joiner, cycler). */
export class Builtin {
  readonly name: string;
  readonly fn: (rt: Runtime, args: unknown[], kwargs: Map<string, unknown>) => unknown;
  constructor(name: string, fn: (rt: Runtime, args: unknown[], kwargs: Map<string, unknown>) => unknown) {
    this.name = name;
    this.fn = fn;
  }
}

/** What the evaluator offers builtins: the budget, member lookup, filters and tests by name. */
export interface Runtime {
  budget: Budget;
  member(obj: unknown, key: unknown, described: string): unknown;
  filter(name: string, value: unknown, args: unknown[], kwargs: Map<string, unknown>): unknown;
  test(name: string, value: unknown, args: unknown[]): boolean;
  /** Strict-undefined of a computed name, positioned at the node being evaluated. */
  undef(name: string): Undef;
}

// ---------------------------------------------------------------------------------------------
// Budget

export class Budget {
  readonly limits: TemplateLimits;
  private readonly now: () => number;
  private readonly deadline: number;
  private steps = 0;
  private nextClockCheck = 1024;
  private iterations = 0;
  callDepth = 0;
  evalDepth = 0;

  constructor(limits: TemplateLimits, now: () => number) {
    this.limits = limits;
    this.now = now;
    this.deadline = now() + limits.millis;
  }

  /** One unit of work; every ~1,000 units the wall clock is read. */
  step(cost = 1): void {
    this.steps += cost;
    if (this.steps > this.limits.steps) throw limit(`the template needs more than ${fmt(this.limits.steps)} evaluation steps`, "templates substitute values; heavy computation belongs outside the repository");
    if (this.steps >= this.nextClockCheck) {
      this.nextClockCheck = this.steps + 1024;
      if (this.now() > this.deadline) throw limit(`rendering took longer than ${fmt(this.limits.millis)} ms`);
    }
  }

  iteration(): void {
    if (++this.iterations > this.limits.iterations) throw limit(`the template's loops run more than ${fmt(this.limits.iterations)} iterations`);
    this.step();
  }

  /** Before building a string of `length` characters. */
  string(length: number): void {
    this.fits(length);
    this.step(1 + (length >> 4));
  }

  /** While a string grows piece by piece: check its running length (each piece is charged with `string`). */
  fits(length: number): void {
    if (length > this.limits.outputChars) throw limit(`the template builds a string of more than ${fmt(this.limits.outputChars)} characters`);
  }

  /** Before building a list of `length` items. */
  list(length: number): void {
    if (length > this.limits.items) throw limit(`the template builds a list of more than ${fmt(this.limits.items)} items`);
    this.step(1 + (length >> 4));
  }

  enterCall(): void {
    if (++this.callDepth > this.limits.callDepth) throw limit(`macros call each other more than ${fmt(this.limits.callDepth)} levels deep`);
  }
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

// ---------------------------------------------------------------------------------------------
// Data: what a template may read

/** A plain JSON object (from an input file or built by the template). */
export function isDict(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A value from the data or built by the template; anything else reaching us is a host object. */
export function checkData(v: unknown, what: string): unknown {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return v;
    case "object":
      if (v === null || Array.isArray(v) || isDict(v) || v instanceof Undef || v instanceof Namespace || v instanceof Cycler || v instanceof Joiner || v instanceof LoopInfo) return v;
      break;
    default:
  }
  throw forbidden(`${what} is not JSON data, and templates see only JSON data`);
}

/** An own data property of a plain object, or undefined. Never a getter, never the prototype chain. */
export function ownData(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  return d && "value" in d ? d.value : undefined;
}

/** A new dict: no prototype, so even a key named `__proto__` stays data. */
export function newDict(entries: Iterable<[string, unknown]> = []): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Names that only make sense as a way into the host language (JavaScript's constructor and
 * prototype, Python's dunders and frame/function internals). Our lookups never leave an object's
 * own data, so reading any other missing name is just undefined; reading one of these is an escape
 * attempt and is refused outright, whatever object it is read from.
 */
const HOST_NAMES = new Set<string>(["constructor", "prototype", "mro", "func_globals", "func_code", "f_globals", "f_locals", "f_back", "f_builtins", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "tb_frame", "tb_next", "im_func", "im_self", "im_class"]);

export function isHostName(key: unknown): boolean {
  return typeof key === "string" && (HOST_NAMES.has(key) || key.startsWith("__"));
}

// ---------------------------------------------------------------------------------------------
// Python-like semantics: truth, equality, ordering, str()

export function truthy(v: unknown): boolean {
  useOf(v, "tested as a condition");
  if (v === null || v === false || v === 0 || v === "" || Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) {
    for (const k in v) if (Object.hasOwn(v, k)) return true;
    return false;
  }
  return true;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : undefined);

/** Both sides of a comparison, checked and charged; as numbers where they are (Python's bool is an int). */
function operands(a: unknown, b: unknown, budget: Budget): [number | undefined, number | undefined] {
  useOf(a, "compared");
  useOf(b, "compared");
  budget.step();
  return [num(a), num(b)];
}

export function equals(a: unknown, b: unknown, budget: Budget): boolean {
  const [na, nb] = operands(a, b, budget);
  if (na !== undefined || nb !== undefined) return na === nb;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equals(x, b[i], budget));
  if (isDict(a)) {
    if (!isDict(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equals(a[k], b[k], budget));
  }
  return a === b;
}

export function compare(a: unknown, b: unknown, budget: Budget): number {
  const [na, nb] = operands(a, b, budget);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i], budget);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw renderError(`cannot order ${typeName(a)} and ${typeName(b)}`);
}

export function typeName(v: unknown): string {
  if (v === null) return "none";
  if (Array.isArray(v)) return "list";
  if (isDict(v)) return "dict";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (v instanceof Undef) return "undefined";
  if (v instanceof Builtin) return "function";
  if (v instanceof Namespace) return "namespace";
  if (v instanceof LoopInfo) return "loop";
  if (v instanceof Cycler) return "cycler";
  if (v instanceof Joiner) return "joiner";
  return "macro";
}

/** Python's str(): what `{{ x }}`, `~`, `join` and `string` write. */
export function toStr(v: unknown, budget: Budget, use = "printed"): string {
  if (typeof v === "string") return v;
  useOf(v, use);
  return repr(v, budget, false);
}

/** Python's repr() of data (inside lists and dicts, strings are quoted). */
function repr(v: unknown, budget: Budget, quote: boolean): string {
  if (typeof v === "string") return quote ? pyQuote(v) : v;
  if (typeof v === "number") return pyNumber(v);
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null) return "None";
  if (v instanceof Undef) throw new UndefinedUse(v, "printed inside a list or dict");
  const parts: string[] = [];
  let length = 2;
  const add = (s: string) => {
    length += s.length + 2;
    budget.fits(length);
    budget.step(1 + (s.length >> 4));
    parts.push(s);
  };
  if (Array.isArray(v)) {
    for (const x of v) add(repr(x, budget, true));
    return `[${parts.join(", ")}]`;
  }
  if (isDict(v)) {
    for (const k of Object.keys(v)) add(`${pyQuote(k)}: ${repr(v[k], budget, true)}`);
    return `{${parts.join(", ")}}`;
  }
  throw renderError(`a ${typeName(v)} cannot be written out`);
}

export function pyNumber(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n)) return String(n);
  return String(n).replace(/e([+-])(\d)$/, "e$10$2");
}

function pyQuote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === q || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch < " " || ch === "\x7f") out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + q;
}

/** JSON text of data, charged to the budget as it grows (a shared sub-list can't blow up unnoticed). */
export function toJson(v: unknown, budget: Budget, indent?: number | string): string {
  const pad = typeof indent === "number" ? " ".repeat(Math.max(0, Math.min(10, Math.trunc(indent)))) : typeof indent === "string" ? indent.slice(0, 10) : "";
  let length = 0;
  const emit = (s: string) => {
    length += s.length;
    budget.fits(length);
    budget.step(1 + (s.length >> 4));
    return s;
  };
  const walk = (x: unknown, depth: string): string => {
    if (x instanceof Undef) throw new UndefinedUse(x, "passed to tojson");
    if (x === null || typeof x === "boolean") return emit(String(x));
    if (typeof x === "number") {
      if (!Number.isFinite(x)) throw renderError("a number that is not finite cannot be written as JSON");
      return emit(String(x));
    }
    if (typeof x === "string") return emit(JSON.stringify(x));
    const inner = pad ? `${depth}${pad}` : "";
    const nl = pad ? "\n" : "";
    if (Array.isArray(x)) {
      if (x.length === 0) return emit("[]");
      const items = x.map((e) => emit(inner) + walk(e, inner));
      return `[${nl}${items.join(emit(`,${nl}`))}${nl}${pad ? depth : ""}]`;
    }
    if (isDict(x)) {
      const keys = Object.keys(x);
      if (keys.length === 0) return emit("{}");
      const items = keys.map((k) => `${emit(inner)}${emit(JSON.stringify(k))}${emit(pad ? ": " : ":")}${walk(x[k], inner)}`);
      return `{${nl}${items.join(emit(`,${nl}`))}${nl}${pad ? depth : ""}}`;
    }
    throw renderError(`a ${typeName(x)} cannot be written as JSON`);
  };
  return walk(v, "");
}

/** Items a `for` loop (or a filter) walks: lists, a dict's keys, a string's characters. */
export function iterate(v: unknown, use = "iterated"): unknown[] {
  useOf(v, use);
  if (Array.isArray(v)) return v;
  if (isDict(v)) return Object.keys(v);
  if (typeof v === "string") return [...v];
  throw renderError(`a ${typeName(v)} cannot be iterated`);
}
