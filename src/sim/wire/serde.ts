/**
 * The AWS wire formats, driven by the operation schemas the AWS SDK itself ships (the same
 * schemas its clients serialize requests and parse responses with), so every member name, list
 * wrapper, XML name and timestamp format matches what the SDK expects:
 *
 * - JSON (awsJson1_0/1_1): request bodies are JSON; responses are JSON with timestamps as epoch
 *   seconds.
 * - Query (awsQuery): requests are form fields (`Names.member.1=web`, `Attributes.member.1.Key=...`);
 *   responses are `<OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>` XML.
 *
 * Values handed to the writers may give timestamps as Dates, epoch milliseconds or ISO strings;
 * members the schema does not have are dropped.
 */
import { NormalizedSchema } from "@smithy/core/schema";

export type SchemaRef = Parameters<typeof NormalizedSchema.of>[0];
type Rec = Record<string, unknown>;

/** The static operation schema the SDK exports as `<Operation>$`: [9, namespace, name, traits, input, output]. */
export type OperationSchema = readonly [number, string, string, unknown, () => unknown, () => unknown];

export function inputSchema(op: OperationSchema): NormalizedSchema {
  return NormalizedSchema.of(op[4]() as SchemaRef);
}

export function outputSchema(op: OperationSchema): NormalizedSchema {
  return NormalizedSchema.of(op[5]() as SchemaRef);
}

/** A request the server cannot read: answered as the protocol's validation/serialization error. */
export class WireInputError extends Error {}

const EPOCH_SECONDS = 7;
const HTTP_DATE = 6;
const DATE_TIME = 5;

function timestampFormat(ns: NormalizedSchema, fallback: number): number {
  const s = ns.getSchema();
  return s === EPOCH_SECONDS || s === HTTP_DATE || s === DATE_TIME ? s : fallback;
}

function toMillis(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function formatTimestamp(ms: number, format: number): string | number {
  if (format === EPOCH_SECONDS) return ms / 1000;
  if (format === HTTP_DATE) return new Date(ms).toUTCString();
  return new Date(ms).toISOString();
}

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

// ---------- JSON ----------

/** A value in the JSON protocols' form: schema members only, timestamps as epoch seconds (or their trait's format). */
export function toJson(ns: NormalizedSchema, v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  if (ns.isTimestampSchema()) {
    const ms = toMillis(v);
    return ms === undefined ? undefined : formatTimestamp(ms, timestampFormat(ns, EPOCH_SECONDS));
  }
  if (ns.isBlobSchema()) return typeof v === "string" ? Buffer.from(v).toString("base64") : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : undefined;
  if (ns.isListSchema()) {
    if (!Array.isArray(v)) return undefined;
    const member = ns.getValueSchema();
    return v.map((x) => toJson(member, x)).filter((x) => x !== undefined);
  }
  if (ns.isMapSchema()) {
    if (!isRec(v)) return undefined;
    const member = ns.getValueSchema();
    const out: Rec = {};
    for (const [k, x] of Object.entries(v)) {
      const j = toJson(member, x);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  if (ns.isStructSchema()) {
    if (!isRec(v)) return undefined;
    const out: Rec = {};
    for (const [name, member] of ns.structIterator()) {
      const j = toJson(member, v[name]);
      if (j !== undefined) out[name] = j;
    }
    return out;
  }
  if (ns.isDocumentSchema()) return v;
  if (ns.isBooleanSchema()) return typeof v === "boolean" ? v : v === "true";
  if (ns.isNumericSchema() || ns.isBigIntegerSchema() || ns.isBigDecimalSchema()) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return scalarText(v);
}

function scalarText(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : JSON.stringify(v);
}

// ---------- XML (awsQuery responses) ----------

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** The contents (no enclosing element) of a value in awsQuery's XML form. */
function xmlContent(ns: NormalizedSchema, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (ns.isTimestampSchema()) {
    const ms = toMillis(v);
    return ms === undefined ? undefined : String(formatTimestamp(ms, timestampFormat(ns, DATE_TIME)));
  }
  if (ns.isBlobSchema()) return typeof v === "string" ? Buffer.from(v).toString("base64") : undefined;
  if (ns.isListSchema()) {
    if (!Array.isArray(v)) return undefined;
    const member = ns.getValueSchema();
    const tag = member.getMergedTraits().xmlName ?? "member";
    return v.map((x) => element(tag, xmlContent(member, x))).join("");
  }
  if (ns.isMapSchema()) {
    if (!isRec(v)) return undefined;
    const key = ns.getKeySchema();
    const value = ns.getValueSchema();
    const keyTag = key.getMergedTraits().xmlName ?? "key";
    const valueTag = value.getMergedTraits().xmlName ?? "value";
    return Object.entries(v)
      .map(([k, x]) => element("entry", element(keyTag, xmlEscape(k)) + element(valueTag, xmlContent(value, x))))
      .join("");
  }
  if (ns.isStructSchema()) {
    if (!isRec(v)) return undefined;
    let out = "";
    for (const [name, member] of ns.structIterator()) {
      const x = v[name];
      if (x === undefined || x === null) continue;
      const traits = member.getMergedTraits();
      const tag = traits.xmlName ?? name;
      if (member.isListSchema() && traits.xmlFlattened && Array.isArray(x)) {
        const item = member.getValueSchema();
        out += x.map((y) => element(tag, xmlContent(item, y))).join("");
      } else {
        const c = xmlContent(member, x);
        if (c !== undefined) out += element(tag, c);
      }
    }
    return out;
  }
  if (ns.isBooleanSchema()) return String(typeof v === "boolean" ? v : v === "true");
  if (ns.isDocumentSchema()) return xmlEscape(JSON.stringify(v));
  return xmlEscape(scalarText(v));
}

function element(tag: string, content: string | undefined): string {
  return content === undefined ? "" : `<${tag}>${content}</${tag}>`;
}

/** A whole awsQuery response document. */
export function queryResponseXml(operation: string, xmlns: string, output: NormalizedSchema, value: unknown, requestId: string): string {
  const result = output.isUnitSchema() ? "" : element(`${operation}Result`, xmlContent(output, value ?? {}) ?? "");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${xmlns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>\n`;
}

// ---------- Query (awsQuery requests) ----------

/** Decoded form fields; `has(prefix)` tells whether any field lives under a prefix. */
export class QueryParams {
  private readonly values = new Map<string, string>();
  private readonly prefixes = new Set<string>();

  constructor(body: string) {
    for (const [k, v] of new URLSearchParams(body)) {
      this.values.set(k, v);
      const parts = k.split(".");
      for (let i = 1; i <= parts.length; i++) this.prefixes.add(parts.slice(0, i).join("."));
    }
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  has(prefix: string): boolean {
    return this.prefixes.has(prefix);
  }
}

/**
 * Read one member from form fields by its schema, the inverse of the SDK's awsQuery serializer:
 * lists as `Key.member.N` (or `Key.N` when flattened), maps as `Key.entry.N.key/value`, structures
 * as `Key.Member`. Timestamps stay ISO strings, so inputs are plain JSON.
 */
export function fromQuery(ns: NormalizedSchema, params: QueryParams, key: string): unknown {
  const join = (a: string, b: string) => (a ? `${a}.${b}` : b);
  if (ns.isListSchema()) {
    if (params.get(key) === "") return [];
    if (!params.has(key)) return undefined;
    const member = ns.getValueSchema();
    const flat = ns.getMergedTraits().xmlFlattened;
    const base = flat ? key : join(key, member.getMergedTraits().xmlName ?? "member");
    const out: unknown[] = [];
    for (let i = 1; params.has(`${base}.${i}`); i++) out.push(fromQuery(member, params, `${base}.${i}`));
    return out;
  }
  if (ns.isMapSchema()) {
    if (!params.has(key)) return undefined;
    const flat = ns.getMergedTraits().xmlFlattened;
    const keySchema = ns.getKeySchema();
    const valueSchema = ns.getValueSchema();
    const keyName = keySchema.getMergedTraits().xmlName ?? "key";
    const valueName = valueSchema.getMergedTraits().xmlName ?? "value";
    const out: Rec = {};
    for (let i = 1; ; i++) {
      const entry = flat ? `${key}.${i}` : `${key}.entry.${i}`;
      if (!params.has(entry)) break;
      const k = params.get(`${entry}.${keyName}`);
      if (k !== undefined) out[k] = fromQuery(valueSchema, params, `${entry}.${valueName}`);
    }
    return out;
  }
  if (ns.isStructSchema()) {
    if (key && !params.has(key)) return undefined;
    const out: Rec = {};
    for (const [name, member] of ns.structIterator()) {
      const v = fromQuery(member, params, join(key, member.getMergedTraits().xmlName ?? name));
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
  const raw = params.get(key);
  if (raw === undefined) return undefined;
  if (ns.isBooleanSchema()) {
    if (raw !== "true" && raw !== "false") throw new WireInputError(`Value '${raw}' at '${key}' is not a boolean`);
    return raw === "true";
  }
  if (ns.isNumericSchema()) {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new WireInputError(`Value '${raw}' at '${key}' is not a number`);
    return n;
  }
  if (ns.isTimestampSchema()) {
    const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
    if (Number.isNaN(ms)) throw new WireInputError(`Value '${raw}' at '${key}' is not a timestamp`);
    return new Date(ms).toISOString();
  }
  return raw;
}
