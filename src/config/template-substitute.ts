/**
 * The fast path for the commonest template: text with `{{ name }}` and `{{ a.b.c }}` placeholders
 * and nothing else (most of Gitmoxi's files). It substitutes them without nunjucks' parser or the
 * evaluator, and gives the evaluator's answer byte for byte: the same lookups (own data of the
 * inputs, never a global), the same printing (`toStr`), and the same budget charged at least as
 * much. It only ever answers with a rendered text: anything it does not recognise, and any
 * failure (an undefined name, a value that is not data, a limit), is left to the evaluator, so
 * every error, message and position is the evaluator's own.
 */
import { Budget, checkData, isDict, isHostName, ownData, toStr, type TemplateLimits } from "./template-runtime.ts";

/** Longer templates go through the evaluator, whose budget accounting is then the only one. */
const MAX_CHARS = 64 * 1024;

/** Words nunjucks' lexer or parser reads as something other than a name. */
const KEYWORDS = new Set(["true", "false", "none", "null", "not", "in", "is", "and", "or", "if", "else", "elif", "for", "recursive"]);

const PATH = /[ \t\r\n]*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)[ \t\r\n]*\}\}/y;

/** The rendered text, or undefined when the evaluator must decide. */
export function substitutePlaceholders(text: string, context: Record<string, unknown>, limits: TemplateLimits, now: () => number): string | undefined {
  // Blocks and comments (and a stray comment end, which nunjucks refuses) need the evaluator.
  if (text.length > MAX_CHARS || text.includes("{%") || text.includes("{#") || text.includes("#}")) return undefined;
  const budget = new Budget(limits, now);
  const out: string[] = [];
  let length = 0;
  let depth = 3; // Root > Output > TemplateData
  const write = (s: string) => {
    length += s.length;
    if (length > limits.outputChars) throw OVER;
    budget.step(1 + (s.length >> 6)); // the Output statement and the Sink's charge
    out.push(s);
  };
  try {
    budget.step(); // the Root statement
    let at = 0;
    for (let open = text.indexOf("{{", at); ; open = text.indexOf("{{", at)) {
      write(open < 0 ? text.slice(at) : text.slice(at, open));
      if (open < 0) break;
      PATH.lastIndex = open + 2;
      const m = PATH.exec(text);
      if (!m) return undefined; // `{{-`, filters, calls, literals, operators...
      const names = m[1]!.split(".");
      if (names.some((n) => KEYWORDS.has(n) || isHostName(n))) return undefined;
      depth = Math.max(depth, names.length + 2); // Root > Output > LookupVal... > Symbol
      if (depth > limits.nesting) return undefined;
      budget.step(names.length); // one per node of the expression
      let value: unknown = context;
      for (const name of names) {
        if (!isDict(value)) return undefined; // a list, a string, null...: the evaluator's rules
        const v = ownData(value, name);
        if (v === undefined) return undefined; // undefined, or a global: the evaluator says which
        value = checkData(v, name);
      }
      write(toStr(value, budget));
      at = PATH.lastIndex;
    }
  } catch {
    return undefined; // a limit, or data that is not data: the evaluator reports it
  }
  return out.join("");
}

const OVER = new Error("over the output limit");
