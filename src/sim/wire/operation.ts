/** What every service's operation table shares: the handler type, input readers and paging. */
import type { AwsServiceName } from "../../aws/errors.ts";
import type { Simulator } from "../simulator.ts";

export type Rec = Record<string, unknown>;

/** One operation: the request in the SDK's shape → the response in the SDK's shape (undefined for none). */
export type Handler = (sim: Simulator, input: Rec) => Promise<Rec | undefined>;

export const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

export class Reader {
  private readonly sim: Simulator;
  private readonly service: AwsServiceName;
  private readonly operation: string;
  private readonly input: Rec;
  private readonly invalid: string;

  constructor(sim: Simulator, service: AwsServiceName, operation: string, input: Rec, invalid: string) {
    this.sim = sim;
    this.service = service;
    this.operation = operation;
    this.input = input;
    this.invalid = invalid;
  }

  fail(message: string): Error {
    return this.sim.error(this.service, this.operation, this.invalid, message);
  }

  str(key: string): string | undefined {
    const v = this.input[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw this.fail(`${key} must be a string.`);
    return v;
  }

  required(key: string): string {
    const v = this.str(key);
    if (v === undefined) throw this.fail(`${key} is required.`);
    return v;
  }

  strings(key: string, max?: number): string[] | undefined {
    const v = this.input[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw this.fail(`${key} must be a list of strings.`);
    if (max !== undefined && v.length > max) throw this.fail(`${key} may contain at most ${max} elements.`);
    return v as string[];
  }

  bool(key: string): boolean | undefined {
    const v = this.input[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw this.fail(`${key} must be a boolean.`);
    return v;
  }
}

export interface PageKeys {
  /** Response member holding the page's items. */
  items: string;
  /** Request and response member of the continuation token (nextToken, Marker/NextMarker). */
  tokenIn: string;
  tokenOut: string;
  /** Request member of the page size, its default and maximum. */
  size: string;
  defaultSize: number;
  maxSize: number;
}

/** One page of a full result; tokens are opaque offsets (AWS's are opaque too). A bad token is the service's validation error. */
export function page<T>(items: readonly T[], input: Rec, keys: PageKeys, fail: (message: string) => Error): Rec {
  const token = input[keys.tokenIn];
  let start = 0;
  if (token !== undefined && token !== null) {
    const decoded = typeof token === "string" ? /^o(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8")) : null;
    if (!decoded) throw fail(`Invalid ${keys.tokenIn}.`);
    start = Number(decoded[1]);
  }
  const asked = input[keys.size];
  const size = typeof asked === "number" ? asked : keys.defaultSize;
  if (!Number.isInteger(size) || size < 1 || size > keys.maxSize) throw fail(`${keys.size} must be between 1 and ${keys.maxSize}.`);
  const end = start + size;
  return { [keys.items]: items.slice(start, end), ...(end < items.length ? { [keys.tokenOut]: Buffer.from(`o${end}`).toString("base64url") } : {}) };
}
