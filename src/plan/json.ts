/** Small JSON helpers shared by the normalisers and the diff. */
import type { Json, JsonRecord } from "./types.ts";

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The canonical JSON form: keys sorted, and null, empty arrays and empty objects removed at every
 * depth (ECS returns `[]` for lists nobody set, and the SDK treats null as "not set").
 * Returns undefined when nothing is left.
 */
export function canonicalize(v: unknown): Json | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) {
    const items = v.map(canonicalize).filter((x): x is Json => x !== undefined);
    return items.length ? items : undefined;
  }
  if (isRecord(v)) {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(v).sort(byKeyOrder)) {
      const c = canonicalize(v[key]);
      if (c !== undefined) out[key] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  // The SDK's own output carries Dates (response-only fields, dropped before we get here).
  if (v instanceof Date) return v.toISOString();
  return typeof v === "bigint" ? v.toString() : undefined;
}

/** Names first, so a reader of a diff sees whose fields follow; then alphabetical. */
const LEADING_KEYS = ["family", "serviceName", "name", "key"];
function byKeyOrder(a: string, b: string): number {
  const ra = LEADING_KEYS.indexOf(a);
  const rb = LEADING_KEYS.indexOf(b);
  if (ra !== rb) return ra === -1 ? 1 : rb === -1 ? -1 : ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stable string for sorting items whose order carries no meaning. */
export function stableKey(v: unknown): string {
  return JSON.stringify(canonicalize(v)) ?? "";
}

/** Sorts a list (copy) by the given fields, then by the whole item, so equal sets sort alike. */
export function sortedBy(list: unknown, ...fields: string[]): unknown {
  if (!Array.isArray(list)) return list;
  const key = (item: unknown): string => (isRecord(item) ? fields.map((f) => stableKey(item[f])).join("\u0000") : "") + "\u0001" + stableKey(item);
  return [...(list as unknown[])].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function sortedStrings(list: unknown): unknown {
  return Array.isArray(list) ? [...(list as unknown[])].sort((a, b) => String(a).localeCompare(String(b))) : list;
}

/** Removes `key` from `obj` when it holds `value` (the documented default). */
export function dropDefault(obj: JsonRecord, key: string, value: unknown): void {
  if (obj[key] === value) delete obj[key];
}

/** A deep copy of a JSON-like value (records and arrays only), so normalisers never touch their input. */
export function copy<T>(v: T): T {
  return structuredClone(v);
}

/** `$.a.b[0]["awslogs-group"]`: dotted where a key is an identifier, bracketed otherwise. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = "$";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
