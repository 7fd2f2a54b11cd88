/**
 * JSON with positions. JSON.parse tells neither where a syntax error is in a form we can report
 * nor where a value lives, and silently keeps the last of duplicate keys; jsonc-parser's tree
 * gives us all three. Most files are valid and most never need a position, so a file is first
 * read with JSON.parse (and a count of its members, which finds duplicate keys); the tree is built
 * only for a file JSON.parse refuses or that has a duplicate key, or when a problem asks where
 * something is. The value and the problems are the same either way.
 */
import { findNodeAtLocation, getLocation, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { jsonPath, type Problem } from "../core/problems.ts";
import { DEFAULT_INPUT_LIMITS, tooDeep } from "./limits.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

export class JsonDocument {
  readonly file: string;
  readonly text: string;
  readonly value: JsonValue | undefined;
  readonly problems: Problem[];
  /** jsonc-parser's tree: built at once when JSON.parse is not enough, else on first `locate`. */
  private tree: Node | undefined;
  private treeBuilt = false;
  private lineStarts: number[] | undefined;

  constructor(file: string, text: string, options: { maxDepth?: number; /** Tests: always build the tree (the reference). */ eager?: boolean } = {}) {
    this.file = file;
    this.text = text;
    this.problems = [];
    // The parser recurses per level: refuse hostile nesting before it sees the text.
    const maxDepth = options.maxDepth ?? DEFAULT_INPUT_LIMITS.jsonDepth;
    const scan = scanStructure(text, maxDepth);
    const deep = scan.tooDeep ? tooDeep(text, maxDepth) : undefined;
    if (!deep && !options.eager) {
      const value = parseFast(text, scan.members);
      if (value !== undefined) {
        this.value = value;
        return;
      }
    }
    if (deep) {
      this.problems.push({
        code: "FLT-JSON-TOO-DEEP",
        severity: "error",
        file,
        path: jsonPath(deep.path),
        ...this.position(deep.offset),
        message: `arrays and objects are nested more than ${maxDepth} levels deep here`,
        hint: "definition files nest a few levels; this looks generated or hostile",
      });
      this.treeBuilt = true;
      this.value = undefined;
      return;
    }
    const errors: ParseError[] = [];
    this.treeBuilt = true;
    this.tree = parseTree(text, errors, PARSE_OPTIONS);
    for (const e of errors.slice(0, 3)) {
      this.problems.push({
        code: "FLT-JSON-SYNTAX",
        severity: "error",
        file,
        ...this.position(e.offset),
        path: syntaxErrorPath(text, e.offset),
        message: `invalid JSON: ${describeParseError(printParseErrorCode(e.error))}`,
      });
    }
    if (errors.length > 0 || !this.tree) {
      if (errors.length === 0) {
        this.problems.push({ code: "FLT-JSON-SYNTAX", severity: "error", file, line: 1, column: 1, message: "invalid JSON: the file is empty" });
      }
      this.value = undefined;
      return;
    }
    this.value = this.build(this.tree, []);
  }

  private get root(): Node | undefined {
    if (!this.treeBuilt) {
      this.treeBuilt = true;
      this.tree = parseTree(this.text, [], PARSE_OPTIONS);
    }
    return this.tree;
  }

  /** The value if it is an object, else undefined (a problem is recorded once). */
  get object(): JsonObject | undefined {
    const v = this.value;
    if (v !== undefined && (v === null || typeof v !== "object" || Array.isArray(v))) {
      if (!this.problems.some((p) => p.code === "FLT-JSON-NOT-OBJECT")) {
        this.problems.push({
          code: "FLT-JSON-NOT-OBJECT",
          severity: "error",
          file: this.file,
          path: "$",
          line: 1,
          column: 1,
          message: `the file must hold a JSON object, not ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`,
        });
      }
      return undefined;
    }
    return v;
  }

  /** Where the value (or, with `key`, the property name) at `path` starts; the nearest existing ancestor otherwise. */
  locate(path: readonly PathSegment[], key = false): Position | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(this.root, path.slice(0, n));
      if (!node) continue;
      const at = key && n === path.length && node.parent?.type === "property" ? node.parent.offset : node.offset;
      return this.position(at);
    }
    return undefined;
  }

  /** A problem located at a path of this document. */
  problemAt(path: readonly PathSegment[], p: Omit<Problem, "file" | "path" | "line" | "column">, key = false): Problem {
    return { ...p, file: this.file, path: jsonPath(path), ...this.locate(path, key) };
  }

  position(offset: number): Position {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  private build(node: Node, path: PathSegment[]): JsonValue {
    switch (node.type) {
      case "object": {
        const out: JsonObject = {};
        const seen = new Set<string>();
        for (const prop of node.children ?? []) {
          const [keyNode, valueNode] = prop.children ?? [];
          if (!keyNode || !valueNode) continue;
          const key = keyNode.value as string;
          if (seen.has(key)) {
            this.problems.push({
              code: "FLT-JSON-DUPLICATE-KEY",
              severity: "error",
              file: this.file,
              path: jsonPath([...path, key]),
              ...this.position(keyNode.offset),
              message: `duplicate key "${key}": only one of the values would be used`,
            });
          }
          seen.add(key);
          // defineProperty: a key named __proto__ must stay data, not reach the prototype.
          Object.defineProperty(out, key, { value: this.build(valueNode, [...path, key]), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      case "array":
        return (node.children ?? []).map((c, i) => this.build(c, [...path, i]));
      default:
        return node.value as JsonValue;
    }
  }
}

const PARSE_OPTIONS = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/**
 * One pass over the text outside strings, as `tooDeep` reads it: whether it nests deeper than
 * `maxDepth`, and how many members its objects have (each `:` outside a string is one).
 */
function scanStructure(text: string, maxDepth: number): { tooDeep: boolean; members: number } {
  let depth = 0;
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth >= maxDepth) return { tooDeep: true, members };
      depth++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth > 0) depth--;
    } else if (c === 0x3a /* : */) members++;
  }
  return { tooDeep: false, members };
}

/**
 * JSON.parse's value when it is the one the tree would give: the text parses, and no key repeats
 * (its objects have as many members as the text has). Undefined otherwise.
 */
function parseFast(text: string, members: number): JsonValue | undefined {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
  return countMembers(value) === members ? value : undefined;
}

function countMembers(v: JsonValue): number {
  if (v === null || typeof v !== "object") return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += countMembers(x);
    return n;
  }
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    n += 1 + countMembers(v[k]!);
  }
  return n;
}

function describeParseError(code: string): string {
  const map: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "malformed number",
    PropertyNameExpected: "a property name in double quotes was expected (trailing comma?)",
    ValueExpected: "a value was expected (trailing comma or missing value?)",
    ColonExpected: "':' was expected after the property name",
    CommaExpected: "',' was expected between members",
    CloseBraceExpected: "'}' was expected",
    CloseBracketExpected: "']' was expected",
    EndOfFileExpected: "unexpected content after the end of the JSON value",
    InvalidCommentToken: "comments are not allowed in JSON",
    UnexpectedEndOfComment: "unterminated comment",
    UnexpectedEndOfString: "unterminated string",
    UnexpectedEndOfNumber: "unterminated number",
    InvalidUnicode: "invalid unicode escape",
    InvalidEscapeCharacter: "invalid escape character in string",
    InvalidCharacter: "invalid character in string (control characters must be escaped)",
  };
  return map[code] ?? code;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Where in the document a syntax error sits: the member or element being read (`$` for a stray comma before the root's `}`). */
function syntaxErrorPath(text: string, offset: number): string {
  const location = getLocation(text, offset);
  const segments = location.path.filter((x): x is string | number => x !== undefined);
  // At a property key nothing names yet (`{"a": 1,}`), the error belongs to the enclosing object.
  if (location.isAtPropertyKey && segments.at(-1) === "") segments.pop();
  return jsonPath(segments);
}
