/**
 * How a deployment's machine state is stored: compactly. The engine persists its state before
 * and after every effect, and most of it (the spec: svcdef, taskdef, depdef) never changes during
 * a deployment. So the large members of the state live in a column of their own, `machine_base`,
 * rewritten only when its hash changes; each step writes only the small members (`machine_state`).
 * Both are written in the step's one transaction, so what is stored is always one whole state.
 */
import { createHash } from "node:crypto";

/** A member whose JSON is at least this long goes to the base. */
const BASE_MEMBER_CHARS = 256;

export interface EncodedState {
  /** JSON of the small members (or of the whole value when it is not an object); null for none. */
  state: string | null;
  /** JSON object of the large members, or null when there are none. */
  base: string | null;
  /** Hash of `base`: the update rewrites the base only when it differs from the stored one. */
  baseHash: string | null;
}

export function encodeMachineState(value: unknown): EncodedState {
  if (value === undefined || value === null) return { state: null, base: null, baseHash: null };
  if (typeof value !== "object" || Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return { state: JSON.stringify(value), base: null, baseHash: null };
  }
  const small: string[] = [];
  const large: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    const text = JSON.stringify(member) as string | undefined;
    if (text === undefined) continue; // undefined, functions: JSON.stringify leaves them out too
    (text.length >= BASE_MEMBER_CHARS ? large : small).push(`${JSON.stringify(key)}:${text}`);
  }
  const state = `{${small.join(",")}}`;
  if (large.length === 0) return { state, base: null, baseHash: null };
  const base = `{${large.join(",")}}`;
  return { state, base, baseHash: createHash("sha256").update(base).digest("base64url") };
}

export function decodeMachineState(state: string | null, base: string | null): unknown {
  if (state === null) return null;
  const value = JSON.parse(state) as unknown;
  if (base === null) return value;
  // Spread defines own properties, so a member named __proto__ stays data.
  return { ...(JSON.parse(base) as object), ...(value as object) };
}
