/**
 * The template sandbox's evaluator: walks the syntax tree nunjucks' parser builds and computes the
 * output itself. No template code is ever compiled to JavaScript, so there is no path from a
 * template to a JavaScript function: every node type is handled here or refused, member access
 * reads only own data (template-runtime.ts), calls reach only macros, our globals and the
 * allow-listed methods (template-builtins.ts), and every step is charged to the file's budget.
 */
import { contains, CYCLER_METHODS, DICT_METHODS, FILTERS, GLOBALS, LIST_METHODS, LOOP_METHODS, loopAttribute, printf, STRING_METHODS, TESTS, toKey, METHODS_HINT } from "./template-builtins.ts";
import {
  type Budget,
  Builtin,
  checkData,
  compare,
  Cycler,
  equals,
  forbidden,
  isDict,
  isHostName,
  iterate,
  Joiner,
  limit,
  LoopInfo,
  Namespace,
  newDict,
  ownData,
  renderError,
  TemplateFault,
  toStr,
  truthy,
  typeName,
  Undef,
  useOf,
  type Runtime,
} from "./template-runtime.ts";

/** The fields of nunjucks' parser nodes we read (positions are 0-based). */
export interface TNode {
  typename: string;
  lineno: number;
  colno: number;
  children?: TNode[];
  value?: unknown;
  target?: TNode;
  val?: TNode;
  name?: TNode;
  args?: TNode;
  body?: TNode;
  else_?: TNode | null;
  cond?: TNode;
  arr?: TNode;
  expr?: TNode;
  ops?: TNode[];
  type?: string;
  left?: TNode;
  right?: TNode;
  key?: TNode;
  targets?: TNode[];
  start?: TNode;
  stop?: TNode;
  step?: TNode;
}

export const LOADER_NODES = new Set(["Include", "Import", "FromImport", "Extends", "Super"]);
export const LOADER_HINT = "a template is rendered on its own: include, import, extends and from read other templates and are not available; share values through the input file's ref instead";

/** A macro (or the `caller` of a `{% call %}` block): parameters, body and the scope it closes over. */
class Macro {
  readonly name: string;
  readonly params: { name: string; fallback?: TNode }[];
  readonly body: TNode;
  readonly closure: Scope;
  constructor(name: string, params: { name: string; fallback?: TNode }[], body: TNode, closure: Scope) {
    this.name = name;
    this.params = params;
    this.body = body;
    this.closure = closure;
  }
}

const MISSING = Symbol("missing");

class Scope {
  private readonly vars = new Map<string, unknown>();
  readonly parent: Scope | undefined;
  constructor(parent: Scope | undefined) {
    this.parent = parent;
  }
  get(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent ? this.parent.get(name) : MISSING;
  }
  set(name: string, v: unknown): void {
    this.vars.set(name, v);
  }
}

/** Where output goes: chunks plus a running length checked against the output limit. */
class Sink {
  private readonly parts: string[] = [];
  private length = 0;
  private readonly budget: Budget;
  constructor(budget: Budget) {
    this.budget = budget;
  }
  write(s: string): void {
    this.length += s.length;
    if (this.length > this.budget.limits.outputChars) throw limit(`the rendered output is larger than ${this.budget.limits.outputChars.toLocaleString("en-US")} characters`);
    this.budget.step(s.length >> 6);
    this.parts.push(s);
  }
  text(): string {
    return this.parts.join("");
  }
}

const pos = (n: TNode) => ({ line: n.lineno + 1, column: n.colno + 1 });

/** Where an expression starts (the variable of `a.b.c`): strict-undefined errors point there. */
function startOf(n: TNode): TNode {
  let cur = n;
  while (cur.typename === "LookupVal" && cur.target) cur = cur.target;
  return cur;
}

function describe(n: TNode | undefined): string {
  if (!n) return "value";
  if (n.typename === "Symbol") return String(n.value);
  if (n.typename === "Literal") return String(n.value);
  if (n.typename === "LookupVal") return `${describe(n.target)}${n.val?.typename === "Literal" ? `.${String(n.val.value)}` : "[...]"}`;
  if (n.typename === "FunCall") return `${describe(n.name)}(...)`;
  return "value";
}

export class Evaluator implements Runtime {
  readonly budget: Budget;
  private readonly context: Record<string, unknown>;
  /** The node being evaluated, for positions of strict-undefined values made by builtins. */
  private current: TNode | undefined;

  constructor(context: Record<string, unknown>, budget: Budget) {
    this.context = context;
    this.budget = budget;
  }

  render(root: TNode): string {
    const sink = new Sink(this.budget);
    this.statements(root, new Scope(undefined), sink, 0);
    return sink.text();
  }

  // ---- Runtime (what builtins may use) ----

  member(obj: unknown, key: unknown, described: string): unknown {
    useOf(obj, `reading '${String(key)}'`);
    const name = `${described}${typeof key === "number" ? `[${key}]` : `.${String(key)}`}`;
    if (typeof key === "string" && isHostName(key)) {
      // Own data of that name is data; anywhere else the name is a way into the host language.
      if (!(isDict(obj) && Object.hasOwn(obj, key))) throw forbidden(`'${key}' cannot be read: templates see only JSON data, not the objects of the language underneath`);
    }
    if (obj === null) return this.undef(name);
    if (Array.isArray(obj)) {
      if (typeof key === "number" || typeof key === "boolean") {
        const k = Number(key);
        if (!Number.isInteger(k)) throw renderError("list indices must be integers");
        const i = k < 0 ? obj.length + k : k;
        return i >= 0 && i < obj.length ? checkData(obj[i], name) : this.undef(name);
      }
      useOf(key, "used as an index");
      return this.undef(name);
    }
    if (typeof obj === "string") {
      if (typeof key === "number") {
        if (!Number.isInteger(key)) throw renderError("string indices must be integers");
        const chars = [...obj];
        const i = key < 0 ? chars.length + key : key;
        return i >= 0 && i < chars.length ? chars[i] : this.undef(name);
      }
      useOf(key, "used as an index");
      return this.undef(name);
    }
    if (isDict(obj)) {
      const k = toKey(key);
      const v = ownData(obj, k);
      return v === undefined ? this.undef(name) : checkData(v, name);
    }
    if (obj instanceof LoopInfo && typeof key === "string") {
      const v = loopAttribute(obj, key);
      return v === undefined ? this.undef(name) : v;
    }
    if (obj instanceof Namespace && typeof key === "string") return obj.attrs.has(key) ? obj.attrs.get(key) : this.undef(name);
    if (obj instanceof Cycler && key === "current") return obj.items[obj.pos];
    if (typeof obj === "number" || typeof obj === "boolean") return this.undef(name);
    throw forbidden(`a ${typeName(obj)} has no readable members ('${String(key)}')`);
  }

  filter(name: string, value: unknown, args: unknown[], kwargs: Map<string, unknown>): unknown {
    const f = FILTERS.get(name);
    if (!f) throw renderError(`no filter named '${name}'`, "see docs/format.md for the filters templates can use");
    if (!f.acceptsUndefined) useOf(value, `filtered with ${name}`);
    for (const a of args) useOf(a, `passed to ${name}`);
    this.budget.step();
    return f.fn(this, value, args, kwargs);
  }

  test(name: string, value: unknown, args: unknown[]): boolean {
    const t = TESTS.get(name);
    if (!t) throw renderError(`no test named '${name}'`, "see docs/format.md for the tests templates can use");
    if (!t.acceptsUndefined) useOf(value, `tested with '${name}'`);
    return t.fn(this, value, args);
  }

  undef(name: string): Undef {
    const at = this.current ? pos(startOf(this.current)) : { line: 1, column: 1 };
    return new Undef(name, at.line, at.column);
  }

  // ---- statements ----

  private statements(node: TNode | null | undefined, scope: Scope, out: Sink, loopDepth: number): void {
    if (!node) return;
    this.enter();
    try {
      this.statement(node, scope, out, loopDepth);
    } catch (e) {
      throw this.locate(e, node);
    } finally {
      this.budget.evalDepth--;
    }
  }

  private statement(node: TNode, scope: Scope, out: Sink, loopDepth: number): void {
    this.budget.step();
    switch (node.typename) {
      case "Root":
      case "NodeList":
        for (const c of node.children!) this.statements(c, scope, out, loopDepth);
        return;
      case "Output":
        for (const c of node.children!) {
          if (c.typename === "TemplateData") out.write(String(c.value));
          else out.write(toStr(this.expr(c, scope), this.budget));
        }
        return;
      case "If":
        if (truthy(this.expr(node.cond!, scope))) this.statements(node.body, scope, out, loopDepth);
        else this.statements(node.else_, scope, out, loopDepth);
        return;
      case "For":
        return this.forLoop(node, scope, out, loopDepth);
      case "Set":
        return this.set(node, scope);
      case "Macro": {
        const m = this.macro(node, scope);
        scope.set(m.name, m);
        return;
      }
      case "Block":
        return this.statements(node.body, scope, out, loopDepth);
      default:
        if (LOADER_NODES.has(node.typename)) throw forbidden(`{% ${node.typename.toLowerCase()} %} is not available`, LOADER_HINT);
        throw renderError(`'${node.typename}' is not supported in templates`);
    }
  }

  private forLoop(node: TNode, scope: Scope, out: Sink, loopDepth: number): void {
    const source = this.expr(node.arr!, scope);
    const names = node.name!.typename === "Array" ? node.name!.children! : [node.name!];
    // `for k, v in dict` walks key/value pairs (as nunjucks did); `for k in dict` walks keys (as Jinja).
    const items = names.length === 2 && isDict(source) ? Object.entries(source) : iterate(source);
    if (items.length === 0) return this.statements(node.else_, scope, out, loopDepth);
    const inner = new Scope(scope);
    const loop = new LoopInfo(items, loopDepth);
    inner.set("loop", loop);
    for (let i = 0; i < items.length; i++) {
      this.budget.iteration();
      loop.index0 = i;
      this.assignNames(names, items[i], inner);
      this.statements(node.body, inner, out, loopDepth + 1);
    }
  }

  private assignNames(names: TNode[], value: unknown, scope: Scope): void {
    if (names.length === 1) {
      scope.set(this.symbolName(names[0]!), value);
      return;
    }
    useOf(value, "unpacked");
    const parts = Array.isArray(value) ? value : typeof value === "string" ? [...value] : undefined;
    if (!parts || parts.length !== names.length) throw renderError(`cannot unpack ${typeName(value)} into ${names.length} names`);
    names.forEach((n, i) => scope.set(this.symbolName(n), parts[i]));
  }

  private symbolName(n: TNode): string {
    if (n.typename !== "Symbol") throw forbidden("only plain names can be assigned to");
    return String(n.value);
  }

  private set(node: TNode, scope: Scope): void {
    // `{% set x %}...{% endset %}` captures its body (a Capture node) as a string.
    const value = this.expr(node.value ? (node.value as TNode) : node.body!, scope);
    const targets = node.targets!;
    if (targets.length > 1) {
      const parts = Array.isArray(value) ? value : undefined;
      if (!parts || parts.length !== targets.length) throw renderError(`cannot unpack ${typeName(value)} into ${targets.length} names`);
      targets.forEach((t, i) => this.assign(t, parts[i], scope));
    } else this.assign(targets[0]!, value, scope);
  }

  private assign(target: TNode, value: unknown, scope: Scope): void {
    if (target.typename === "Symbol") {
      scope.set(String(target.value), value);
      return;
    }
    if (target.typename === "LookupVal" && target.val?.typename === "Literal" && typeof target.val.value === "string") {
      const ns = this.expr(target.target!, scope);
      if (ns instanceof Namespace) {
        if (isHostName(target.val.value)) throw forbidden(`'${target.val.value}' cannot be assigned`);
        ns.attrs.set(target.val.value, value);
        return;
      }
    }
    throw forbidden("only a name or an attribute of a namespace() can be assigned to", "use {% set ns = namespace(total=0) %} and {% set ns.total = ... %} to carry a value out of a loop");
  }

  private macro(node: TNode, scope: Scope): Macro {
    const params: { name: string; fallback?: TNode }[] = [];
    for (const a of node.args?.children ?? []) {
      if (a.typename === "Symbol") params.push({ name: String(a.value) });
      else if (a.typename === "KeywordArgs") for (const p of a.children!) params.push({ name: this.symbolName(p.key!), fallback: p.value as TNode });
      else throw renderError("macro parameters must be names, with optional defaults");
    }
    const name = node.typename === "Caller" ? "caller" : this.symbolName(node.name!);
    return new Macro(name, params, node.body!, scope);
  }

  private callMacro(m: Macro, args: unknown[], kwargs: Map<string, unknown>): string {
    this.budget.enterCall();
    try {
      const scope = new Scope(m.closure);
      const extra = new Map(kwargs);
      m.params.forEach((p, i) => {
        if (i < args.length) scope.set(p.name, args[i]);
        else if (extra.has(p.name)) scope.set(p.name, extra.get(p.name));
        else if (p.fallback) scope.set(p.name, this.expr(p.fallback, scope));
        else scope.set(p.name, this.undef(p.name));
        extra.delete(p.name);
      });
      if (extra.has("caller")) {
        scope.set("caller", extra.get("caller"));
        extra.delete("caller");
      }
      scope.set("varargs", args.slice(m.params.length));
      scope.set("kwargs", newDict(extra));
      const sink = new Sink(this.budget);
      this.statements(m.body, scope, sink, 0);
      return sink.text();
    } finally {
      this.budget.callDepth--;
    }
  }

  // ---- expressions ----

  private enter(): void {
    if (++this.budget.evalDepth > this.budget.limits.nesting * 4) {
      this.budget.evalDepth--;
      throw limit(`the template nests more than ${this.budget.limits.nesting * 4} levels deep while rendering`);
    }
  }

  /** Attach the innermost position to an error that has none yet. */
  private locate(e: unknown, node: TNode): unknown {
    if (e instanceof TemplateFault && e.line === undefined) {
      e.line = node.lineno + 1;
      e.column = node.colno + 1;
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      const f = limit("the template nests too deeply");
      f.line = node.lineno + 1;
      f.column = node.colno + 1;
      return f;
    }
    return e;
  }

  expr(node: TNode, scope: Scope): unknown {
    this.enter();
    const previous = this.current;
    this.current = node;
    try {
      this.budget.step();
      return this.value(node, scope);
    } catch (e) {
      throw this.locate(e, node);
    } finally {
      this.current = previous;
      this.budget.evalDepth--;
    }
  }

  private value(node: TNode, scope: Scope): unknown {
    switch (node.typename) {
      case "Literal": {
        const v = node.value;
        if (v !== null && typeof v === "object") throw forbidden("regular expression literals are not available");
        return v;
      }
      case "Symbol":
        return this.variable(String(node.value), scope, node);
      case "Group": {
        const c = node.children!;
        return c.length === 1 ? this.expr(c[0]!, scope) : this.list(c, scope);
      }
      case "Array":
        return this.list(node.children!, scope);
      case "Dict": {
        const entries: [string, unknown][] = node.children!.map((p) => [p.key!.typename === "Symbol" ? String(p.key!.value) : toKey(this.expr(p.key!, scope)), this.expr(p.value as TNode, scope)]);
        this.budget.list(entries.length);
        return newDict(entries);
      }
      case "LookupVal":
        return this.lookup(node, scope);
      case "FunCall":
        return this.call(node, scope);
      case "Filter": {
        const [subject, ...rest] = node.args!.children!;
        const { args, kwargs } = this.arguments(rest, scope);
        return this.filter(String(node.name!.value), this.expr(subject!, scope), args, kwargs);
      }
      case "Caller":
        return this.macro(node, scope);
      case "Capture": {
        const sink = new Sink(this.budget);
        this.statements(node.body, scope, sink, 0);
        return sink.text();
      }
      case "InlineIf":
        return truthy(this.expr(node.cond!, scope)) ? this.expr(node.body!, scope) : node.else_ ? this.expr(node.else_, scope) : "";
      case "Or": {
        const l = this.expr(node.left!, scope);
        return truthy(l) ? l : this.truthChecked(this.expr(node.right!, scope));
      }
      case "And": {
        const l = this.expr(node.left!, scope);
        return truthy(l) ? this.truthChecked(this.expr(node.right!, scope)) : l;
      }
      case "Not":
        return !truthy(this.expr(node.target!, scope));
      case "In":
        return contains(this.expr(node.right!, scope), this.expr(node.left!, scope), this.budget);
      case "Is":
        return this.is(node, scope);
      case "Compare":
        return this.compareChain(node, scope);
      case "Neg":
      case "Pos": {
        const v = this.expr(node.target!, scope);
        useOf(v, "used in arithmetic");
        if (typeof v !== "number" && typeof v !== "boolean") throw renderError(`bad operand for unary ${node.typename === "Neg" ? "-" : "+"}: ${typeName(v)}`);
        return node.typename === "Neg" ? -Number(v) : Number(v);
      }
      case "Concat": {
        const l = toStr(this.expr(node.left!, scope), this.budget, "concatenated");
        const r = toStr(this.expr(node.right!, scope), this.budget, "concatenated");
        this.budget.string(l.length + r.length);
        return l + r;
      }
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
      case "FloorDiv":
      case "Mod":
      case "Pow":
        return this.arithmetic(node.typename, this.expr(node.left!, scope), this.expr(node.right!, scope));
      default:
        if (LOADER_NODES.has(node.typename)) throw forbidden(`${node.typename.toLowerCase()} is not available`, LOADER_HINT);
        throw renderError(`'${node.typename}' is not supported in templates`);
    }
  }

  /** `a or b` yields b as is, but a strict-undefined b must still fail (Jinja's StrictUndefined). */
  private truthChecked(v: unknown): unknown {
    useOf(v, "tested as a condition");
    return v;
  }

  private list(children: TNode[], scope: Scope): unknown[] {
    this.budget.list(children.length);
    return children.map((c) => this.expr(c, scope));
  }

  private variable(name: string, scope: Scope, node: TNode): unknown {
    const local = scope.get(name);
    if (local !== MISSING) return local;
    if (Object.hasOwn(this.context, name)) {
      const v = ownData(this.context, name);
      if (v !== undefined) return checkData(v, name);
    }
    if (GLOBALS.has(name)) return GLOBALS.get(name);
    const at = pos(node);
    return new Undef(name, at.line, at.column);
  }

  private lookup(node: TNode, scope: Scope): unknown {
    const target = this.expr(node.target!, scope);
    const val = node.val!;
    if (val.typename === "Slice") return this.slice(target, val, scope);
    const key = val.typename === "Literal" ? val.value : this.expr(val, scope);
    useOf(key, "used as a key");
    return this.member(target, key, describe(node.target));
  }

  private slice(target: unknown, node: TNode, scope: Scope): unknown {
    useOf(target, "sliced");
    const seq = typeof target === "string" ? [...target] : Array.isArray(target) ? target : undefined;
    if (!seq) throw renderError(`a ${typeName(target)} cannot be sliced`);
    const bound = (n: TNode | undefined) => {
      const v = n ? this.expr(n, scope) : null;
      if (v === null) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) throw renderError("slice indices must be integers or none");
      return v;
    };
    const step = bound(node.step) ?? 1;
    if (step === 0) throw renderError("slice step cannot be zero");
    const n = seq.length;
    const norm = (v: number | undefined, dflt: number) => (v === undefined ? dflt : v < 0 ? Math.max(v + n, step < 0 ? -1 : 0) : Math.min(v, step < 0 ? n - 1 : n));
    const start = norm(bound(node.start), step < 0 ? n - 1 : 0);
    const stop = norm(bound(node.stop), step < 0 ? -1 : n);
    const out: unknown[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(seq[i]);
    this.budget.list(out.length);
    return typeof target === "string" ? out.join("") : out;
  }

  private arguments(nodes: TNode[], scope: Scope): { args: unknown[]; kwargs: Map<string, unknown> } {
    const args: unknown[] = [];
    const kwargs = new Map<string, unknown>();
    for (const n of nodes) {
      if (n.typename === "KeywordArgs") for (const p of n.children!) kwargs.set(this.symbolName(p.key!), this.expr(p.value as TNode, scope));
      else args.push(this.expr(n, scope));
    }
    this.budget.list(args.length + kwargs.size);
    return { args, kwargs };
  }

  private call(node: TNode, scope: Scope): unknown {
    const callee = node.name!;
    if (callee.typename === "LookupVal" && callee.val?.typename === "Literal" && typeof callee.val.value === "string") {
      const self = this.expr(callee.target!, scope);
      const { args, kwargs } = this.arguments(node.args!.children!, scope);
      return this.method(self, callee.val.value, args, kwargs, describe(callee.target));
    }
    const fn = this.expr(callee, scope);
    const { args, kwargs } = this.arguments(node.args!.children!, scope);
    if (fn instanceof Macro) return this.callMacro(fn, args, kwargs);
    if (fn instanceof Builtin) return fn.fn(this, args, kwargs);
    if (fn instanceof Joiner) {
      if (args.length || kwargs.size) throw renderError("a joiner takes no arguments");
      const first = !fn.used;
      fn.used = true;
      return first ? "" : fn.sep;
    }
    useOf(fn, "called");
    throw renderError(`'${describe(callee)}' is a ${typeName(fn)}, not something that can be called`);
  }

  private method(self: unknown, name: string, args: unknown[], kwargs: Map<string, unknown>, described: string): unknown {
    useOf(self, `calling .${name}()`);
    const table = typeof self === "string" ? STRING_METHODS : Array.isArray(self) ? LIST_METHODS : isDict(self) ? DICT_METHODS : self instanceof LoopInfo ? LOOP_METHODS : self instanceof Cycler ? CYCLER_METHODS : undefined;
    const m = table?.get(name);
    if (!m) {
      throw forbidden(`'${described}.${name}()' cannot be called: a ${typeName(self)} has no method '${name}' that templates may call`, METHODS_HINT);
    }
    for (const a of args) useOf(a, `passed to .${name}()`);
    this.budget.step();
    return m(this, self as never, args, kwargs);
  }

  private is(node: TNode, scope: Scope): boolean {
    const subject = this.expr(node.left!, scope);
    const right = node.right!;
    let name: string;
    let args: unknown[] = [];
    if (right.typename === "Symbol") name = String(right.value);
    else if (right.typename === "Literal" && (right.value === null || typeof right.value === "boolean")) name = right.value === null ? "none" : String(right.value);
    else if (right.typename === "FunCall" && right.name?.typename === "Symbol") {
      name = String(right.name.value);
      args = this.arguments(right.args!.children!, scope).args;
    } else if (right.typename === "Compare" && right.expr?.typename === "Symbol" && right.ops?.length === 1) {
      // `x is sameas y` / `x is eq 3`: the parser reads the test and its argument as a comparison.
      name = String(right.expr.value);
      args = [this.expr(right.ops[0]!.expr!, scope)];
    } else throw renderError("expected a test name after 'is'");
    return this.test(name, subject, args);
  }

  private compareChain(node: TNode, scope: Scope): boolean {
    let left = this.expr(node.expr!, scope);
    for (const op of node.ops!) {
      const right = this.expr(op.expr!, scope);
      let ok: boolean;
      switch (op.type) {
        case "==":
        case "===":
          ok = equals(left, right, this.budget);
          break;
        case "!=":
        case "!==":
          ok = !equals(left, right, this.budget);
          break;
        case "<":
          ok = compare(left, right, this.budget) < 0;
          break;
        case ">":
          ok = compare(left, right, this.budget) > 0;
          break;
        case "<=":
          ok = compare(left, right, this.budget) <= 0;
          break;
        case ">=":
          ok = compare(left, right, this.budget) >= 0;
          break;
        default:
          throw renderError(`unknown comparison ${String(op.type)}`);
      }
      if (!ok) return false;
      left = right;
    }
    return true;
  }

  private arithmetic(op: string, a: unknown, b: unknown): unknown {
    useOf(a, "used in arithmetic");
    useOf(b, "used in arithmetic");
    const isNum = (v: unknown): v is number | boolean => typeof v === "number" || typeof v === "boolean";
    if (op === "Add") {
      if (typeof a === "string" && typeof b === "string") {
        this.budget.string(a.length + b.length);
        return a + b;
      }
      if (Array.isArray(a) && Array.isArray(b)) {
        this.budget.list(a.length + b.length);
        return (a as unknown[]).concat(b as unknown[]);
      }
    }
    if (op === "Mul") {
      const [seq, n] = isNum(b) && (typeof a === "string" || Array.isArray(a)) ? [a, b] : isNum(a) && (typeof b === "string" || Array.isArray(b)) ? [b, a] : [undefined, undefined];
      if (seq !== undefined) {
        if (typeof n !== "boolean" && !Number.isInteger(n)) throw renderError("can't multiply a sequence by a non-integer");
        const times = Math.max(0, Number(n));
        if (typeof seq === "string") {
          this.budget.string(seq.length * times);
          return seq.repeat(times);
        }
        this.budget.list(seq.length * times);
        const items = seq as unknown[];
        const out: unknown[] = [];
        for (let i = 0; i < times; i++) for (const x of items) out.push(x);
        return out;
      }
    }
    if (op === "Mod" && typeof a === "string") return printf(this, a, Array.isArray(b) ? b : [b]);
    if (!isNum(a) || !isNum(b)) throw renderError(`unsupported operand types for ${SYMBOLS[op]}: ${typeName(a)} and ${typeName(b)}`);
    const x = Number(a);
    const y = Number(b);
    let r: number;
    switch (op) {
      case "Add":
        r = x + y;
        break;
      case "Sub":
        r = x - y;
        break;
      case "Mul":
        r = x * y;
        break;
      case "Div":
        if (y === 0) throw renderError("division by zero");
        r = x / y;
        break;
      case "FloorDiv":
        if (y === 0) throw renderError("division by zero");
        r = Math.floor(x / y);
        break;
      case "Mod":
        if (y === 0) throw renderError("modulo by zero");
        r = x - y * Math.floor(x / y);
        break;
      default:
        r = x ** y;
    }
    if (!Number.isFinite(r)) throw limit(`${SYMBOLS[op]} gives a number too large to represent`);
    return r;
  }
}

const SYMBOLS: Record<string, string> = { Add: "+", Sub: "-", Mul: "*", Div: "/", FloorDiv: "//", Mod: "%", Pow: "**" };

