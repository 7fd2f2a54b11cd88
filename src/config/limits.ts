/**
 * Limits on what a repository may hand us (docs/format.md, "Limits"): the size of any file read,
 * the number of deployment objects in one commit and the nesting depth of JSON. A repository is
 * untrusted input; without these one push could make the controller read a gigabyte blob, load a
 * million objects or overflow its stack on `[[[[...`. Each limit has its own code.
 */
import { FlotillaError, type Problem } from "../core/problems.ts";
import type { ObjectFiles } from "./discover.ts";
import type { RepoSource } from "./source.ts";

export interface InputLimits {
  /** Bytes of any file Flotilla reads from the repository (definitions, inputs, ref files). */
  fileBytes: number;
  /** Deployment objects (svcdef files) in one commit or tree. */
  objects: number;
  /** Nesting of arrays and objects in any JSON file, and in a rendered definition. */
  jsonDepth: number;
}

export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = Object.freeze({
  fileBytes: 4 * 1024 * 1024,
  objects: 10_000,
  jsonDepth: 64,
});

const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * A repository file's text, or why it is refused: its size is checked before it is read, so an
 * oversized blob is never loaded. Undefined when the file does not exist.
 */
export async function readRepoFile(source: RepoSource, file: string, limits: InputLimits): Promise<{ text: string } | { problem: Problem } | undefined> {
  if (source.readWithin) {
    const read = await source.readWithin(file, limits.fileBytes);
    return read && "tooLarge" in read ? { problem: tooLarge(file, read.tooLarge, limits) } : read;
  }
  const size = await source.size(file);
  if (size === undefined) return undefined;
  if (size > limits.fileBytes) return { problem: tooLarge(file, size, limits) };
  const text = await source.readFile(file);
  return text === undefined ? undefined : { text };
}

function tooLarge(file: string, size: number, limits: InputLimits): Problem {
  return {
    code: "FLT-FILE-TOO-LARGE",
    severity: "error",
    file,
    message: `the file has ${fmt(size)} bytes, more than the ${fmt(limits.fileBytes)} allowed; it is not read`,
    hint: "definition and input files are small; split large generated outputs, or raise the limit in the server's configuration",
  };
}

/** Refuse a commit (or tree) with more deployment objects than allowed, before any is loaded. */
export function checkObjectCount(objects: readonly ObjectFiles[], limits: InputLimits, where: string): void {
  const services = objects.filter((o) => o.svcdef !== undefined);
  if (services.length <= limits.objects) return;
  throw new FlotillaError({
    code: "FLT-COMMIT-TOO-MANY-OBJECTS",
    file: services[limits.objects]!.svcdef!,
    message: `${where} holds ${fmt(services.length)} deployment objects, more than the ${fmt(limits.objects)} allowed: nothing in it is processed`,
    hint: "split the repository, or raise the limit in the server's configuration",
  });
}

/**
 * The path to the first array or object nested deeper than `maxDepth` in a JSON text, found in one
 * linear pass before any recursive parser sees the text. Undefined when the text is within the limit
 * (malformed JSON is left to the parser to report).
 */
export function tooDeep(text: string, maxDepth: number): { path: (string | number)[]; offset: number } | undefined {
  const stack: { array: boolean; key: string | number | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      const top = stack.at(-1);
      if (top && !top.array && top.expectKey) {
        top.key = decodeKey(text.slice(start, i + 1));
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return { path: stack.map((s) => s.key ?? 0), offset: i };
      stack.push(c === 0x5b ? { array: true, key: 0, expectKey: false } : { array: false, key: undefined, expectKey: true });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.array) top.key = (top.key as number) + 1;
      else if (top) top.expectKey = true;
    }
  }
  return undefined;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
