/**
 * Hiding secrets in what a plan shows. Comparison always uses the real values (a changed password
 * is a change); only the text and the change values are masked. `secrets[].valueFrom` are ARNs
 * and stay visible.
 */
import { isRecord } from "./json.ts";
import type { MaskOptions } from "./types.ts";

export const MASK = "****";
/** Shown on the desired side when a masked value differs from the live one, so the diff still shows a line. */
export const MASK_CHANGED = "**** (changed)";

/** Names whose values are treated as secret: environment variables, log driver options, docker labels. */
export const SECRET_NAME = /PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SESSION|COOKIE|SIGNATURE|CERT|DSN|SALT/i;

/** Maps (not structures) whose keys name their values. */
const NAMED_MAPS = new Set(["options", "dockerLabels"]);

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Replaces the sensitive strings and the password of any `scheme://user:password@` URL. */
export function maskString(s: string, options: MaskOptions): string {
  let out = s.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi, `$1${MASK}@`);
  const sensitive = [...(options.sensitive ?? [])].filter((x) => x.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of sensitive) out = out.split(secret).join(MASK);
  return out;
}

/**
 * A masked copy of a canonical document. `counterpart` is the other side at the same place; when
 * `markChanged` is set, a secret that differs from it is shown as MASK_CHANGED instead of MASK.
 */
export function maskDocument(doc: unknown, options: MaskOptions, counterpart?: unknown, markChanged = false): unknown {
  return walk(doc, counterpart, options, markChanged, undefined);
}

function walk(v: unknown, other: unknown, options: MaskOptions, markChanged: boolean, parentKey: string | undefined): unknown {
  if (typeof v === "string") return maskString(v, options);
  if (Array.isArray(v)) return v.map((item, i) => walk(item, Array.isArray(other) ? other[i] : undefined, options, markChanged, undefined));
  if (!isRecord(v)) return v;
  const otherRecord = isRecord(other) ? other : undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const secret =
      (parentKey !== undefined && NAMED_MAPS.has(parentKey) && looksSecret(key)) ||
      (key === "value" && typeof v["name"] === "string" && looksSecret(v["name"]));
    if (secret && value !== undefined && value !== null) {
      // "(changed)" only where the other side has the same secret with another value: elsewhere
      // the line differs anyway (a new variable, a new container) and the marker would be noise.
      const counterpart = otherRecord !== undefined && otherRecord[key] !== undefined && (key !== "value" || otherRecord["name"] === v["name"]);
      out[key] = markChanged && counterpart && otherRecord[key] !== value ? MASK_CHANGED : MASK;
    } else {
      out[key] = walk(value, otherRecord?.[key], options, markChanged, key);
    }
  }
  return out;
}
