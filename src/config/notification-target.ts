/**
 * What a notification target must look like before anyone decides whether it may be called: an
 * absolute http(s) URL without user info, and headers the sender may set. Pure, so `validate` reports
 * these in the depdef (file and JSON path) and the sender re-checks them on every delivery. Whether a
 * target may be reached at all is the server's decision (src/controller/egress.ts).
 */
import type { ProblemCode } from "../core/codes.ts";

/** Headers that frame the request or pick another virtual host: the sender sets them, a depdef may not. */
const FRAMING_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
export const MAX_URL_LENGTH = 2048;
export const MAX_HEADERS = 32;
export const MAX_HEADER_VALUE_LENGTH = 8192;
/** `${NAME}`: the only substitution in a notification (header values only). */
export const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface TargetIssue {
  code: Extract<ProblemCode, "FLT-NOTIFY-URL-INVALID" | "FLT-NOTIFY-HEADER-INVALID">;
  message: string;
  /** Inside the target: ["url"] or ["headers", name]. */
  path: (string | number)[];
}

/** The URL, parsed, or why it cannot be a notification target. */
export function parseTargetUrl(url: string): URL | string {
  if (url.length > MAX_URL_LENGTH) return `the URL is longer than ${MAX_URL_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "not an absolute URL";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return `the scheme must be https or http, not ${u.protocol.slice(0, -1)}`;
  if (u.username || u.password) return "the URL must not carry user info (user:password@); send credentials in a header from an allowed variable";
  if (!u.hostname) return "the URL has no host";
  return u;
}

export function checkNotificationTarget(target: { url?: unknown; headers?: unknown }): TargetIssue[] {
  const issues: TargetIssue[] = [];
  if (typeof target.url === "string") {
    const u = parseTargetUrl(target.url);
    if (typeof u === "string") issues.push({ code: "FLT-NOTIFY-URL-INVALID", message: `notification URL: ${u}`, path: ["url"] });
  }
  if (target.headers && typeof target.headers === "object" && !Array.isArray(target.headers)) {
    const entries = Object.entries(target.headers as Record<string, unknown>);
    if (entries.length > MAX_HEADERS) issues.push({ code: "FLT-NOTIFY-HEADER-INVALID", message: `at most ${MAX_HEADERS} headers`, path: ["headers"] });
    for (const [name, value] of entries) {
      const problem = headerProblem(name, value);
      if (problem) issues.push({ code: "FLT-NOTIFY-HEADER-INVALID", message: `header "${name}": ${problem}`, path: ["headers", name] });
    }
  }
  return issues;
}

function headerProblem(name: string, value: unknown): string | undefined {
  if (!HEADER_NAME.test(name)) return "not a valid header name";
  const lower = name.toLowerCase();
  if (FRAMING_HEADERS.has(lower) || lower.startsWith("proxy-")) return "set by Flotilla itself; a depdef may not set it";
  if (typeof value !== "string") return undefined; // the schema reports the type
  if (/[\r\n\0]/.test(value)) return "line breaks and NUL are not allowed in a header value";
  if (value.length > MAX_HEADER_VALUE_LENGTH) return `longer than ${MAX_HEADER_VALUE_LENGTH} characters`;
  const stray = value.replace(ENV_REFERENCE, "").indexOf("${");
  if (stray >= 0) return "a variable is written ${NAME} (letters, digits and _, not starting with a digit)";
  return undefined;
}
