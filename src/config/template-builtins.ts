/**
 * Everything a template can call: Jinja's filters and tests (the ones that make sense for JSON
 * definitions), the globals range/dict/namespace/joiner/cycler, and an allow-list of Jinja-compatible
 * methods on strings, lists, dicts, `loop` and cyclers. They are our own implementations over our
 * value model: a template never reaches a JavaScript function by name, and each one charges what
 * it builds to the budget before building it.
 */
import {
  Builtin,
  compare,
  Cycler,
  equals,
  isDict,
  iterate,
  Joiner,
  type LoopInfo,
  Namespace,
  newDict,
  pyNumber,
  renderError,
  toJson,
  toStr,
  truthy,
  typeName,
  Undef,
  useOf,
  type Budget,
  type Runtime,
} from "./template-runtime.ts";

type Kw = Map<string, unknown>;
export interface FilterDef {
  fn: (rt: Runtime, value: unknown, args: unknown[], kwargs: Kw) => unknown;
  /** `default` and friends work on an undefined value; every other filter fails on one. */
  acceptsUndefined?: boolean;
}

/**
 * Positional and keyword arguments bound to named parameters, Python style: too many, an unknown
 * keyword or one given twice is an error naming the callee.
 */
function bind(callee: string, params: readonly string[], args: unknown[], kwargs: Kw, defaults: unknown[] = []): unknown[] {
  if (args.length > params.length) throw renderError(`${callee} takes at most ${params.length} argument${params.length === 1 ? "" : "s"}, got ${args.length}`);
  const out = params.map((_, i) => (i < args.length ? args[i] : defaults[i]));
  for (const [k, v] of kwargs) {
    const i = params.indexOf(k);
    if (i < 0) throw renderError(`${callee} has no argument '${k}'`, params.length ? `its arguments are ${params.join(", ")}` : undefined);
    if (i < args.length) throw renderError(`${callee} got '${k}' twice`);
    out[i] = v;
  }
  return out;
}

function str(v: unknown, callee: string): string {
  if (typeof v !== "string") throw renderError(`${callee} needs a string, not a ${typeName(v)}`);
  return v;
}
function int(v: unknown, callee: string): number {
  if (typeof v === "boolean") return Number(v);
  if (typeof v !== "number" || !Number.isInteger(v)) throw renderError(`${callee} needs an integer, not ${typeof v === "number" ? v : `a ${typeName(v)}`}`);
  return v;
}
function number(v: unknown, callee: string): number {
  if (typeof v === "boolean") return Number(v);
  if (typeof v !== "number") throw renderError(`${callee} needs a number, not a ${typeName(v)}`);
  return v;
}
function list(v: unknown, callee: string): unknown[] {
  useOf(v, `passed to ${callee}`);
  return iterate(v, `passed to ${callee}`);
}

/** `attribute="a.b"` (or an integer index) read the way a template reads it. */
function attributeGetter(rt: Runtime, attribute: unknown, fallback?: unknown): (item: unknown) => unknown {
  if (attribute === undefined || attribute === null) return (x) => x;
  if (typeof attribute !== "string" && typeof attribute !== "number") throw renderError(`attribute must be a name or an index, not a ${typeName(attribute)}`);
  const path = typeof attribute === "number" ? [attribute] : attribute.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return (item) => {
    let v = item;
    for (const key of path) v = rt.member(v, key, String(attribute));
    return v instanceof Undef && fallback !== undefined ? fallback : v;
  };
}

function lowerIf(v: unknown, caseSensitive: unknown): unknown {
  return !caseSensitive && typeof v === "string" ? v.toLowerCase() : v;
}

function sortBy(rt: Runtime, items: unknown[], key: (x: unknown) => unknown, reverse: boolean): unknown[] {
  rt.budget.list(items.length);
  rt.budget.step(items.length * Math.ceil(Math.log2(items.length + 1)));
  const keyed = items.map((x) => [key(x), x] as const);
  keyed.sort((a, b) => compare(a[0], b[0], rt.budget) * (reverse ? -1 : 1));
  return keyed.map((k) => k[1]);
}

function pad(s: string, width: number, fill: string, where: "left" | "right" | "center", budget: Budget): string {
  if (fill.length !== 1) throw renderError("the fill character must be exactly one character");
  const missing = width - s.length;
  if (missing <= 0) return s;
  budget.string(width);
  if (where === "left") return fill.repeat(missing) + s;
  if (where === "right") return s + fill.repeat(missing);
  const left = Math.floor(missing / 2) + (missing & width & 1);
  return fill.repeat(left) + s + fill.repeat(missing - left);
}

/** Python's str.replace, sized before it is built (old "" inserts between every character). */
export function replace(s: string, old: string, repl: string, count: number, budget: Budget): string {
  const max = count < 0 ? Infinity : count;
  if (old === "") {
    const n = Math.min(max, s.length + 1);
    budget.string(s.length + n * repl.length);
    const chars = [...s];
    let out = "";
    for (let i = 0; i <= chars.length; i++) out += (i < n ? repl : "") + (chars[i] ?? "");
    return out;
  }
  let hits = 0;
  for (let i = s.indexOf(old); i >= 0 && hits < max; i = s.indexOf(old, i + old.length)) hits++;
  budget.string(s.length + hits * (repl.length - old.length));
  let done = 0;
  let out = "";
  let from = 0;
  for (let i = s.indexOf(old); i >= 0 && done < hits; i = s.indexOf(old, from)) {
    out += s.slice(from, i) + repl;
    from = i + old.length;
    done++;
  }
  return out + s.slice(from);
}

function strip(s: string, chars: unknown, side: "both" | "left" | "right"): string {
  const set = chars === undefined || chars === null ? undefined : new Set(str(chars, "strip"));
  const drop = (c: string) => (set ? set.has(c) : /\s/.test(c));
  let a = 0;
  let b = s.length;
  if (side !== "right") while (a < b && drop(s[a]!)) a++;
  if (side !== "left") while (b > a && drop(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function split(rt: Runtime, s: string, sep: unknown, maxsplit: unknown, fromRight: boolean): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : int(maxsplit, "split");
  let parts: string[];
  if (sep === undefined || sep === null) {
    parts = s.trim() === "" ? [] : s.trim().split(/\s+/);
    if (max >= 0 && parts.length > max + 1) {
      // Rejoin the remainder as Python keeps it (approximately: whitespace runs collapse to one space).
      parts = fromRight ? [parts.slice(0, parts.length - max).join(" "), ...parts.slice(parts.length - max)] : [...parts.slice(0, max), parts.slice(max).join(" ")];
    }
  } else {
    const d = str(sep, "split");
    if (d === "") throw renderError("empty separator");
    parts = s.split(d);
    if (max >= 0 && parts.length > max + 1) parts = fromRight ? [parts.slice(0, parts.length - max).join(d), ...parts.slice(parts.length - max)] : [...parts.slice(0, max), parts.slice(max).join(d)];
  }
  rt.budget.list(parts.length);
  return parts;
}

function joinText(rt: Runtime, items: unknown[], sep: string): string {
  let length = 0;
  const parts = items.map((x, i) => {
    const s = toStr(x, rt.budget, "joined");
    length += s.length + (i ? sep.length : 0);
    rt.budget.fits(length);
    rt.budget.step(1 + (s.length >> 4));
    return s;
  });
  return parts.join(sep);
}

function titleCase(s: string): string {
  return s.replace(/[^\W\d_]+/gu, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
}
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" })[c]!);
}

/** Python's round(), half to even, as Jinja's `round` filter uses it. */
function roundHalfEven(x: number, digits: number): number {
  const f = 10 ** digits;
  const v = x * f;
  const r = Math.round(v);
  const half = Math.abs(v % 1) === 0.5;
  return (half && r % 2 !== 0 ? r - 1 : r) / f;
}

/** Python `%` formatting as Jinja's `format` filter and the `%` operator use it: %s %r %d %i %f %x %o %e %% and %(name)s. */
export function printf(rt: Runtime, fmt: string, args: unknown[]): string {
  let i = 0;
  const named = args.length === 1 && isDict(args[0]) ? args[0] : undefined;
  const out = fmt.replace(/%(?:\(([^)]+)\))?([-+0 #]*)(\d+)?(?:\.(\d+))?([sdifxXoeEr%])/g, (_m, key: string | undefined, flags: string, width: string | undefined, precision: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    if (key !== undefined && !named) throw renderError("format requires a mapping for %(name)s");
    if (key === undefined && i >= args.length) throw renderError("not enough arguments for format string");
    const value = key !== undefined ? (Object.hasOwn(named!, key) ? named![key] : rt.undef(key)) : args[i++];
    useOf(value, "formatted");
    let s: string;
    const n = () => number(value, "format");
    if (conv === "d" || conv === "i") s = String(Math.trunc(n()));
    else if (conv === "f") s = n().toFixed(Math.min(precision !== undefined ? Number(precision) : 6, 100));
    else if (conv === "e" || conv === "E") s = n().toExponential(Math.min(precision !== undefined ? Number(precision) : 6, 100)).replace(/e([+-])(\d)$/, "e$10$2");
    else if (conv === "x" || conv === "X") s = Math.trunc(n()).toString(16);
    else if (conv === "o") s = Math.trunc(n()).toString(8);
    else if (conv === "r") s = typeof value === "string" ? `'${value}'` : toStr(value, rt.budget);
    else s = toStr(value, rt.budget);
    if (conv === "X" || conv === "E") s = s.toUpperCase();
    if (conv === "s" && precision !== undefined) s = s.slice(0, Number(precision));
    if (flags.includes("+") && conv !== "s" && !s.startsWith("-")) s = `+${s}`;
    if (width) {
      const w = Number(width);
      rt.budget.string(w);
      s = flags.includes("-") ? s.padEnd(w) : s.padStart(w, flags.includes("0") && conv !== "s" ? "0" : " ");
    }
    return s;
  });
  rt.budget.string(out.length);
  return out;
}

function toInt(v: unknown, fallback: unknown, base: number): unknown {
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : fallback;
  if (typeof v === "boolean") return Number(v);
  if (typeof v !== "string") return fallback;
  const s = v.trim().replace(/_/g, "");
  if (base === 10) {
    if (/^[-+]?\d+$/.test(s)) return Number(s);
    const f = Number(s);
    return s !== "" && Number.isFinite(f) ? Math.trunc(f) : fallback;
  }
  const prefixed = s.replace(/^([-+]?)0[xob]/i, "$1");
  const n = parseInt(prefixed, base);
  return Number.isNaN(n) ? fallback : n;
}

function toFloat(v: unknown, fallback: unknown): unknown {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return Number(v);
  if (typeof v !== "string" || v.trim() === "") return fallback;
  const n = Number(v.trim());
  return Number.isFinite(n) ? n : fallback;
}

function selectWith(rt: Runtime, items: unknown[], get: (x: unknown) => unknown, args: unknown[], keep: boolean): unknown[] {
  const [testName, ...testArgs] = args;
  const out: unknown[] = [];
  for (const x of items) {
    rt.budget.step();
    const v = get(x);
    const ok = testName === undefined ? truthy(v) : rt.test(str(testName, "select"), v, testArgs);
    if (ok === keep) out.push(x);
  }
  return out;
}

function uniqueKey(v: unknown, rt: Runtime): string {
  return typeof v === "string" ? `s${v}` : toJson(v, rt.budget);
}

// ---------------------------------------------------------------------------------------------
// Filters

export const FILTERS = new Map<string, FilterDef>();
const filter = (names: string | string[], fn: FilterDef["fn"], acceptsUndefined = false) => {
  for (const n of typeof names === "string" ? [names] : names) FILTERS.set(n, { fn, acceptsUndefined });
};

filter(["default", "d"], (_rt, v, args, kw) => {
  const [fallback, boolean] = bind("default", ["default_value", "boolean"], args, kw, ["", false]);
  return v instanceof Undef || (boolean && !truthy(v)) ? fallback : v;
}, true);
filter("abs", (_rt, v) => Math.abs(number(v, "abs")));
filter("attr", (rt, v, args, kw) => rt.member(v, bind("attr", ["name"], args, kw)[0], "attr"));
filter("batch", (rt, v, args, kw) => {
  const [size, fill] = bind("batch", ["linecount", "fill_with"], args, kw, [undefined, null]);
  const n = int(size, "batch");
  if (n < 1) throw renderError("batch size must be at least 1");
  const items = list(v, "batch");
  const out: unknown[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  const last = out.at(-1);
  if (last && fill !== null && last.length < n) {
    rt.budget.list(n);
    while (last.length < n) last.push(fill);
  }
  return out;
});
filter("capitalize", (_rt, v) => capitalize(str(v, "capitalize")));
filter("center", (rt, v, args, kw) => pad(toStr(v, rt.budget), int(bind("center", ["width"], args, kw, [80])[0], "center"), " ", "center", rt.budget));
filter(["count", "length"], (_rt, v) => {
  useOf(v, "measured");
  if (typeof v === "string" || Array.isArray(v)) return [...(typeof v === "string" ? v : v)].length;
  if (isDict(v)) return Object.keys(v).length;
  throw renderError(`a ${typeName(v)} has no length`);
});
filter("dictsort", (rt, v, args, kw) => {
  const [caseSensitive, by, reverse] = bind("dictsort", ["case_sensitive", "by", "reverse"], args, kw, [false, "key", false]);
  if (!isDict(v)) throw renderError(`dictsort needs a dict, not a ${typeName(v)}`);
  const pos = by === "value" ? 1 : by === "key" ? 0 : undefined;
  if (pos === undefined) throw renderError("dictsort: by must be 'key' or 'value'");
  return sortBy(rt, Object.entries(v), (e) => lowerIf((e as unknown[])[pos], caseSensitive), Boolean(reverse));
});
filter(["escape", "e", "forceescape"], (rt, v) => escapeHtml(toStr(v, rt.budget)));
filter("first", (rt, v) => {
  const items = list(v, "first");
  return items.length ? items[0] : rt.undef("first item of an empty sequence");
});
filter("last", (rt, v) => {
  const items = list(v, "last");
  return items.length ? items.at(-1) : rt.undef("last item of an empty sequence");
});
filter("float", (_rt, v, args, kw) => toFloat(v, bind("float", ["default"], args, kw, [0])[0]));
filter("int", (_rt, v, args, kw) => {
  const [fallback, base] = bind("int", ["default", "base"], args, kw, [0, 10]);
  return toInt(v, fallback, int(base, "int"));
});
filter("format", (rt, v, args, kw) => printf(rt, str(v, "format"), kw.size ? [newDict(kw)] : args));
filter("groupby", (rt, v, args, kw) => {
  const [attribute, fallback, caseSensitive] = bind("groupby", ["attribute", "default", "case_sensitive"], args, kw, [undefined, undefined, false]);
  const get = attributeGetter(rt, attribute, fallback);
  const sorted = sortBy(rt, list(v, "groupby"), (x) => lowerIf(get(x), caseSensitive), false);
  const groups: [unknown, unknown[]][] = [];
  for (const x of sorted) {
    const k = get(x);
    const last = groups.at(-1);
    if (last && equals(lowerIf(last[0], caseSensitive), lowerIf(k, caseSensitive), rt.budget)) last[1].push(x);
    else groups.push([k, [x]]);
  }
  return groups;
});
filter("indent", (rt, v, args, kw) => {
  const [width, first, blank] = bind("indent", ["width", "first", "blank"], args, kw, [4, false, false]);
  const prefix = typeof width === "string" ? width : " ".repeat(Math.max(0, Math.min(int(width, "indent"), 1000)));
  const s = toStr(v, rt.budget);
  const lines = s.split("\n");
  rt.budget.string(s.length + lines.length * prefix.length);
  return lines.map((l, i) => ((i === 0 && !first) || (!blank && l.trim() === "") ? l : prefix + l)).join("\n");
});
filter("items", (rt, v) => {
  useOf(v, "passed to items");
  if (!isDict(v)) throw renderError(`items needs a dict, not a ${typeName(v)}`);
  const entries = Object.entries(v);
  rt.budget.list(entries.length);
  return entries;
});
filter("join", (rt, v, args, kw) => {
  const [sep, attribute] = bind("join", ["d", "attribute"], args, kw, ["", undefined]);
  return joinText(rt, list(v, "join").map(attributeGetter(rt, attribute)), toStr(sep, rt.budget));
});
filter("list", (rt, v) => {
  const items = [...list(v, "list")];
  rt.budget.list(items.length);
  return items;
});
filter("lower", (rt, v) => toStr(v, rt.budget).toLowerCase());
filter("upper", (rt, v) => toStr(v, rt.budget).toUpperCase());
filter("map", (rt, v, args, kw) => {
  const items = list(v, "map");
  if (kw.has("attribute")) {
    const [attribute, fallback] = bind("map", ["attribute", "default"], [], kw);
    const get = attributeGetter(rt, attribute, fallback);
    return items.map((x) => (rt.budget.step(), get(x)));
  }
  const [name, ...rest] = args;
  if (name === undefined) throw renderError("map needs a filter name or attribute=");
  return items.map((x) => (rt.budget.step(), rt.filter(str(name, "map"), x, rest, kw)));
});
for (const [name, sign] of [["max", 1], ["min", -1]] as const) {
  filter(name, (rt, v, args, kw) => {
    const [caseSensitive, attribute] = bind(name, ["case_sensitive", "attribute"], args, kw, [false, undefined]);
    const get = attributeGetter(rt, attribute);
    let best: unknown = rt.undef(`${name} of an empty sequence`);
    let bestKey: unknown;
    for (const x of list(v, name)) {
      const k = lowerIf(get(x), caseSensitive);
      if (best instanceof Undef || compare(k, bestKey, rt.budget) * sign > 0) [best, bestKey] = [x, k];
    }
    return best;
  });
}
filter("reject", (rt, v, args) => selectWith(rt, list(v, "reject"), (x) => x, args, false));
filter("select", (rt, v, args) => selectWith(rt, list(v, "select"), (x) => x, args, true));
filter("rejectattr", (rt, v, args) => selectWith(rt, list(v, "rejectattr"), attributeGetter(rt, args[0]), args.slice(1), false));
filter("selectattr", (rt, v, args) => selectWith(rt, list(v, "selectattr"), attributeGetter(rt, args[0]), args.slice(1), true));
filter("replace", (rt, v, args, kw) => {
  const [old, repl, count] = bind("replace", ["old", "new", "count"], args, kw, [undefined, undefined, null]);
  return replace(toStr(v, rt.budget), toStr(old, rt.budget), toStr(repl, rt.budget), count === null ? -1 : int(count, "replace"), rt.budget);
});
filter("reverse", (rt, v) => {
  if (typeof v === "string") return [...v].reverse().join("");
  const items = [...list(v, "reverse")].reverse();
  rt.budget.list(items.length);
  return items;
});
filter("round", (_rt, v, args, kw) => {
  const [precision, method] = bind("round", ["precision", "method"], args, kw, [0, "common"]);
  const x = number(v, "round");
  const p = Math.max(0, Math.min(int(precision, "round"), 15));
  const f = 10 ** p;
  if (method === "ceil") return Math.ceil(x * f) / f;
  if (method === "floor") return Math.floor(x * f) / f;
  if (method !== "common") throw renderError("round: method must be 'common', 'ceil' or 'floor'");
  return roundHalfEven(x, p);
});
filter("safe", (_rt, v) => v);
filter("slice", (rt, v, args, kw) => {
  const [slices, fill] = bind("slice", ["slices", "fill_with"], args, kw, [undefined, null]);
  const n = int(slices, "slice");
  if (n < 1) throw renderError("slice count must be at least 1");
  const items = list(v, "slice");
  rt.budget.list(items.length + n);
  const per = Math.floor(items.length / n);
  const extra = items.length % n;
  const out: unknown[][] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const size = per + (i < extra ? 1 : 0);
    const part = items.slice(offset, offset + size);
    offset += size;
    if (fill !== null && i >= extra && extra > 0) part.push(fill);
    out.push(part);
  }
  return out;
});
filter("sort", (rt, v, args, kw) => {
  const [reverse, caseSensitive, attribute] = bind("sort", ["reverse", "case_sensitive", "attribute"], args, kw, [false, false, undefined]);
  const get = attributeGetter(rt, attribute);
  return sortBy(rt, list(v, "sort"), (x) => lowerIf(get(x), caseSensitive), Boolean(reverse));
});
filter("string", (rt, v) => toStr(v, rt.budget));
filter("sum", (rt, v, args, kw) => {
  const [attribute, start] = bind("sum", ["attribute", "start"], args, kw, [undefined, 0]);
  const get = attributeGetter(rt, attribute);
  let total = number(start, "sum");
  for (const x of list(v, "sum")) {
    rt.budget.step();
    total += number(get(x), "sum");
  }
  return total;
});
filter("title", (rt, v) => titleCase(toStr(v, rt.budget)));
filter("trim", (rt, v, args, kw) => strip(toStr(v, rt.budget), bind("trim", ["chars"], args, kw)[0], "both"));
filter("truncate", (rt, v, args, kw) => {
  const [length, killwords, end, leeway] = bind("truncate", ["length", "killwords", "end", "leeway"], args, kw, [255, false, "...", 5]);
  const s = toStr(v, rt.budget);
  const n = int(length, "truncate");
  const e = toStr(end, rt.budget);
  if (s.length <= n + int(leeway, "truncate")) return s;
  if (killwords) return s.slice(0, Math.max(0, n - e.length)) + e;
  const cut = s.slice(0, Math.max(0, n - e.length));
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : cut) + e;
});
filter("unique", (rt, v, args, kw) => {
  const [caseSensitive, attribute] = bind("unique", ["case_sensitive", "attribute"], args, kw, [false, undefined]);
  const get = attributeGetter(rt, attribute);
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const x of list(v, "unique")) {
    const k = uniqueKey(lowerIf(get(x), caseSensitive), rt);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(x);
    }
  }
  return out;
});
filter("urlencode", (rt, v) => {
  const q = (x: unknown) => encodeURIComponent(toStr(x, rt.budget)).replace(/%2F/g, "/");
  if (typeof v === "string") return q(v);
  const pairs = isDict(v) ? Object.entries(v) : list(v, "urlencode").map((p) => (Array.isArray(p) && p.length === 2 ? (p as [unknown, unknown]) : [p, ""]));
  return joinText(rt, pairs.map(([k, x]) => `${q(k)}=${q(x)}`), "&");
});
filter("wordcount", (rt, v) => (toStr(v, rt.budget).match(/\w+/gu) ?? []).length);
filter(["tojson", "dump"], (rt, v, args, kw) => toJson(v, rt.budget, bind("tojson", ["indent"], args, kw)[0] as number | string | undefined));
filter("bool", (_rt, v) => (typeof v === "string" ? ["true", "yes", "on", "1"].includes(v.toLowerCase()) : truthy(v)));

// ---------------------------------------------------------------------------------------------
// Tests (`x is name`)

export const TESTS = new Map<string, { fn: (rt: Runtime, v: unknown, args: unknown[]) => boolean; acceptsUndefined?: boolean }>();
const test = (names: string[], fn: (rt: Runtime, v: unknown, args: unknown[]) => boolean, acceptsUndefined = false) => {
  for (const n of names) TESTS.set(n, { fn, acceptsUndefined });
};
const arg = (args: unknown[], test: string): unknown => {
  if (args.length !== 1) throw renderError(`the test '${test}' takes one argument`);
  useOf(args[0], `passed to the test '${test}'`);
  return args[0];
};
test(["defined"], (_rt, v) => !(v instanceof Undef), true);
test(["undefined"], (_rt, v) => v instanceof Undef, true);
test(["none"], (_rt, v) => v === null);
test(["boolean"], (_rt, v) => typeof v === "boolean");
test(["true"], (_rt, v) => v === true);
test(["false"], (_rt, v) => v === false);
test(["number"], (_rt, v) => typeof v === "number");
test(["integer"], (_rt, v) => typeof v === "number" && Number.isInteger(v));
test(["float"], (_rt, v) => typeof v === "number" && !Number.isInteger(v));
test(["string"], (_rt, v) => typeof v === "string");
test(["mapping"], (_rt, v) => isDict(v));
test(["sequence"], (_rt, v) => typeof v === "string" || Array.isArray(v) || isDict(v));
test(["iterable"], (_rt, v) => typeof v === "string" || Array.isArray(v) || isDict(v));
test(["callable"], (_rt, v) => v instanceof Builtin || v instanceof Joiner || typeName(v) === "macro");
test(["escaped"], () => false);
test(["even"], (_rt, v) => int(v, "even") % 2 === 0);
test(["odd"], (_rt, v) => Math.abs(int(v, "odd") % 2) === 1);
test(["divisibleby"], (_rt, v, args) => {
  const d = int(arg(args, "divisibleby"), "divisibleby");
  if (d === 0) throw renderError("division by zero");
  return int(v, "divisibleby") % d === 0;
});
test(["eq", "equalto", "=="], (rt, v, args) => equals(v, arg(args, "eq"), rt.budget));
test(["ne", "!="], (rt, v, args) => !equals(v, arg(args, "ne"), rt.budget));
test(["lt", "lessthan", "<"], (rt, v, args) => compare(v, arg(args, "lt"), rt.budget) < 0);
test(["le", "<="], (rt, v, args) => compare(v, arg(args, "le"), rt.budget) <= 0);
test(["gt", "greaterthan", ">"], (rt, v, args) => compare(v, arg(args, "gt"), rt.budget) > 0);
test(["ge", ">="], (rt, v, args) => compare(v, arg(args, "ge"), rt.budget) >= 0);
test(["in"], (rt, v, args) => contains(arg(args, "in"), v, rt.budget));
test(["sameas"], (_rt, v, args) => v === arg(args, "sameas"));
test(["lower"], (_rt, v) => typeof v === "string" && v === v.toLowerCase());
test(["upper"], (_rt, v) => typeof v === "string" && v === v.toUpperCase());
test(["filter"], (_rt, _v, args) => FILTERS.has(String(arg(args, "filter"))));
test(["test"], (_rt, _v, args) => TESTS.has(String(arg(args, "test"))));

/** `needle in haystack`: substring, list member or dict key. */
export function contains(haystack: unknown, needle: unknown, budget: Budget): boolean {
  useOf(haystack, "searched");
  useOf(needle, "searched for");
  if (typeof haystack === "string") {
    if (typeof needle !== "string") throw renderError(`'in <string>' needs a string on the left, not a ${typeName(needle)}`);
    budget.step(1 + (haystack.length >> 6));
    return haystack.includes(needle);
  }
  if (Array.isArray(haystack)) return haystack.some((x) => equals(x, needle, budget));
  if (isDict(haystack)) return typeof needle === "string" && Object.hasOwn(haystack, needle);
  throw renderError(`cannot search in a ${typeName(haystack)}`);
}

// ---------------------------------------------------------------------------------------------
// Methods: the allow-list of what `x.name(...)` may call, per type

type Method = (rt: Runtime, self: never, args: unknown[], kwargs: Kw) => unknown;
const methods = <T>(m: Record<string, (rt: Runtime, self: T, args: unknown[], kwargs: Kw) => unknown>) => new Map(Object.entries(m) as [string, Method][]);

export const DICT_METHODS = methods<Record<string, unknown>>({
  items: (rt, d, a, kw) => (bind("items", [], a, kw), rt.budget.list(Object.keys(d).length), Object.entries(d)),
  keys: (rt, d, a, kw) => (bind("keys", [], a, kw), rt.budget.list(Object.keys(d).length), Object.keys(d)),
  values: (rt, d, a, kw) => (bind("values", [], a, kw), rt.budget.list(Object.keys(d).length), Object.values(d)),
  get: (rt, d, a, kw) => {
    const [key, fallback] = bind("get", ["key", "default"], a, kw, [undefined, null]);
    useOf(key, "used as a key");
    const k = typeof key === "number" ? String(key) : key;
    return typeof k === "string" && Object.hasOwn(d, k) ? rt.member(d, k, "get") : fallback;
  },
});

export const LIST_METHODS = methods<unknown[]>({
  index: (rt, l, a, kw) => {
    const [x] = bind("index", ["value"], a, kw);
    const i = l.findIndex((y) => equals(y, x, rt.budget));
    if (i < 0) throw renderError(`${toStr(x, rt.budget)} is not in the list`);
    return i;
  },
  count: (rt, l, a, kw) => {
    const [x] = bind("count", ["value"], a, kw);
    return l.filter((y) => equals(y, x, rt.budget)).length;
  },
});

const strMethod = (fn: (rt: Runtime, s: string, a: unknown[], kw: Kw) => unknown) => fn;
export const STRING_METHODS = methods<string>({
  upper: strMethod((_rt, s) => s.toUpperCase()),
  lower: strMethod((_rt, s) => s.toLowerCase()),
  title: strMethod((_rt, s) => titleCase(s)),
  capitalize: strMethod((_rt, s) => capitalize(s)),
  swapcase: strMethod((_rt, s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("")),
  strip: strMethod((_rt, s, a, kw) => strip(s, bind("strip", ["chars"], a, kw)[0], "both")),
  lstrip: strMethod((_rt, s, a, kw) => strip(s, bind("lstrip", ["chars"], a, kw)[0], "left")),
  rstrip: strMethod((_rt, s, a, kw) => strip(s, bind("rstrip", ["chars"], a, kw)[0], "right")),
  split: strMethod((rt, s, a, kw) => {
    const [sep, max] = bind("split", ["sep", "maxsplit"], a, kw);
    return split(rt, s, sep, max, false);
  }),
  rsplit: strMethod((rt, s, a, kw) => {
    const [sep, max] = bind("rsplit", ["sep", "maxsplit"], a, kw);
    return split(rt, s, sep, max, true);
  }),
  splitlines: strMethod((rt, s, a, kw) => {
    bind("splitlines", [], a, kw);
    const lines = s.split(/\r\n|\r|\n/);
    if (lines.at(-1) === "") lines.pop();
    rt.budget.list(lines.length);
    return lines;
  }),
  startswith: strMethod((_rt, s, a, kw) => {
    const [p] = bind("startswith", ["prefix"], a, kw);
    return (Array.isArray(p) ? p : [p]).some((x) => s.startsWith(str(x, "startswith")));
  }),
  endswith: strMethod((_rt, s, a, kw) => {
    const [p] = bind("endswith", ["suffix"], a, kw);
    return (Array.isArray(p) ? p : [p]).some((x) => s.endsWith(str(x, "endswith")));
  }),
  replace: strMethod((rt, s, a, kw) => {
    const [old, repl, count] = bind("replace", ["old", "new", "count"], a, kw, [undefined, undefined, -1]);
    return replace(s, str(old, "replace"), str(repl, "replace"), int(count, "replace"), rt.budget);
  }),
  find: strMethod((_rt, s, a, kw) => s.indexOf(str(bind("find", ["sub"], a, kw)[0], "find"))),
  rfind: strMethod((_rt, s, a, kw) => s.lastIndexOf(str(bind("rfind", ["sub"], a, kw)[0], "rfind"))),
  count: strMethod((rt, s, a, kw) => {
    const sub = str(bind("count", ["sub"], a, kw)[0], "count");
    rt.budget.step(1 + (s.length >> 6));
    return sub === "" ? s.length + 1 : s.split(sub).length - 1;
  }),
  join: strMethod((rt, s, a, kw) => joinText(rt, list(bind("join", ["iterable"], a, kw)[0], "join"), s)),
  zfill: strMethod((rt, s, a, kw) => {
    const w = int(bind("zfill", ["width"], a, kw)[0], "zfill");
    const sign = /^[-+]/.test(s) ? s[0]! : "";
    return sign + pad(s.slice(sign.length), w - sign.length, "0", "left", rt.budget);
  }),
  ljust: strMethod((rt, s, a, kw) => {
    const [w, fill] = bind("ljust", ["width", "fillchar"], a, kw, [undefined, " "]);
    return pad(s, int(w, "ljust"), str(fill, "ljust"), "right", rt.budget);
  }),
  rjust: strMethod((rt, s, a, kw) => {
    const [w, fill] = bind("rjust", ["width", "fillchar"], a, kw, [undefined, " "]);
    return pad(s, int(w, "rjust"), str(fill, "rjust"), "left", rt.budget);
  }),
  center: strMethod((rt, s, a, kw) => {
    const [w, fill] = bind("center", ["width", "fillchar"], a, kw, [undefined, " "]);
    return pad(s, int(w, "center"), str(fill, "center"), "center", rt.budget);
  }),
  isdigit: strMethod((_rt, s) => /^\d+$/u.test(s)),
  isalpha: strMethod((_rt, s) => /^\p{L}+$/u.test(s)),
  isalnum: strMethod((_rt, s) => /^[\p{L}\d]+$/u.test(s)),
  isspace: strMethod((_rt, s) => /^\s+$/u.test(s)),
  islower: strMethod((_rt, s) => /\p{Ll}/u.test(s) && s === s.toLowerCase()),
  isupper: strMethod((_rt, s) => /\p{Lu}/u.test(s) && s === s.toUpperCase()),
});

export const LOOP_METHODS = methods<LoopInfo>({
  cycle: (_rt, loop, a) => {
    if (a.length === 0) throw renderError("loop.cycle needs at least one value");
    return a[loop.index0 % a.length];
  },
  changed: (rt, loop, a) => {
    const changed = !loop.lastChanged || !equals(loop.lastChanged, a, rt.budget);
    loop.lastChanged = a;
    return changed;
  },
});

export const CYCLER_METHODS = methods<Cycler>({
  next: (_rt, c) => {
    const v = c.items[c.pos];
    c.pos = (c.pos + 1) % c.items.length;
    return v;
  },
  reset: (_rt, c) => {
    c.pos = 0;
    return null;
  },
});

/** What `x.name` reads on our own objects (data objects expose only their own data). */
export function loopAttribute(loop: LoopInfo, key: string): unknown {
  const n = loop.items.length;
  const i = loop.index0;
  switch (key) {
    case "index":
      return i + 1;
    case "index0":
      return i;
    case "revindex":
      return n - i;
    case "revindex0":
      return n - i - 1;
    case "first":
      return i === 0;
    case "last":
      return i === n - 1;
    case "length":
      return n;
    case "depth":
      return loop.depth0 + 1;
    case "depth0":
      return loop.depth0;
    case "previtem":
      return i > 0 ? loop.items[i - 1] : undefined;
    case "nextitem":
      return i < n - 1 ? loop.items[i + 1] : undefined;
    default:
      return undefined;
  }
}

/** The hint of every refused call; the same list is in docs/format.md. */
const names = (m: Map<string, unknown>) => [...m.keys()].map((k) => `${k}()`).join(" ");
export const METHODS_HINT = `templates may call macros, range, dict, namespace, joiner, cycler and these methods — dict: ${names(DICT_METHODS)}; list: ${names(LIST_METHODS)}; str: ${names(STRING_METHODS)}; loop: ${names(LOOP_METHODS)}; cycler: ${names(CYCLER_METHODS)}`;

// ---------------------------------------------------------------------------------------------
// Globals

function range(rt: Runtime, args: unknown[], kwargs: Kw): unknown[] {
  if (kwargs.size) throw renderError("range takes no keyword arguments");
  if (args.length < 1 || args.length > 3) throw renderError("range takes 1 to 3 arguments");
  const [start, stop, step] = args.length === 1 ? [0, int(args[0], "range"), 1] : [int(args[0], "range"), int(args[1], "range"), args.length === 3 ? int(args[2], "range") : 1];
  if (step === 0) throw renderError("range() step must not be zero");
  const length = Math.max(0, Math.ceil((stop - start) / step));
  rt.budget.list(length);
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) out[i] = start + i * step;
  return out;
}

export const GLOBALS = new Map<string, unknown>([
  ["range", new Builtin("range", range)],
  ["dict", new Builtin("dict", (_rt, args, kwargs) => {
    if (args.length > 1) throw renderError("dict takes at most one positional argument");
    const pair = (p: unknown): [string, unknown] => {
      if (!Array.isArray(p) || p.length !== 2) throw renderError("dict() needs a dict or a list of pairs");
      return [toKey(p[0]), p[1]];
    };
    const base = args[0] === undefined ? [] : isDict(args[0]) ? Object.entries(args[0]) : iterate(args[0]).map(pair);
    return newDict([...base, ...kwargs]);
  })],
  ["namespace", new Builtin("namespace", (_rt, args, kwargs) => {
    const ns = new Namespace();
    if (args.length > 1 || (args.length === 1 && !isDict(args[0]))) throw renderError("namespace takes keyword arguments (or one dict)");
    for (const [k, v] of [...Object.entries((args[0] as Record<string, unknown> | undefined) ?? {}), ...kwargs]) ns.attrs.set(k, v);
    return ns;
  })],
  ["joiner", new Builtin("joiner", (rt, args, kwargs) => new Joiner(toStr(bind("joiner", ["sep"], args, kwargs, [", "])[0], rt.budget)))],
  ["cycler", new Builtin("cycler", (_rt, args, kwargs) => {
    if (kwargs.size || args.length === 0) throw renderError("cycler takes one or more values");
    return new Cycler(args);
  })],
  ["True", true],
  ["False", false],
  ["None", null],
]);

export function toKey(k: unknown): string {
  useOf(k, "used as a key");
  if (typeof k === "string") return k;
  if (typeof k === "number" || typeof k === "boolean" || k === null) return typeof k === "number" ? pyNumber(k) : String(k);
  throw renderError(`a ${typeName(k)} cannot be a dict key`);
}

