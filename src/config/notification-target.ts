/**
 * What a notification target must look like before anyone decides whether it may be called: an
 * absolute http(s) URL without user info, and headers the sender may set. Pure, so `validate` reports
 * these in the depdef (file and JSON path) and the sender re-checks them on every delivery. Whether a
 * target may be reached at all is the server's decision (src/controller/egress.ts).
 */
import net, { BlockList } from "node:net";
import type { ProblemCode } from "../core/codes.ts";
import { FlotillaError } from "../core/problems.ts";

/** Headers that frame the request or pick another virtual host: the sender sets them, a depdef may not. */
const FRAMING_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
export const MAX_URL_LENGTH = 2048;
export const MAX_HEADERS = 32;
export const MAX_HEADER_VALUE_LENGTH = 8192;
/** `${NAME}`: the only substitution in a notification (header values only). */
export const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface TargetIssue {
  code: Extract<ProblemCode, "FLT-NOTIFY-URL-INVALID" | "FLT-NOTIFY-HEADER-INVALID" | "FLT-NOTIFY-ADDRESS-FORBIDDEN">;
  /** A warning where only the server's policy can tell (an address it refuses unless allowed). */
  severity: "error" | "warning";
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
    if (typeof u === "string") issues.push({ code: "FLT-NOTIFY-URL-INVALID", severity: "error", message: `notification URL: ${u}`, path: ["url"] });
    else {
      const range = net.isIP(u.hostname.replace(/^\[(.*)\]$/, "$1")) ? forbiddenRange(u.hostname.replace(/^\[(.*)\]$/, "$1")) : undefined;
      if (range) issues.push({ code: "FLT-NOTIFY-ADDRESS-FORBIDDEN", severity: "warning", message: `notification URL names a ${range} address (${u.hostname}): Flotilla refuses it unless the notification policy allows it (allowPrivateAddresses)`, path: ["url"] });
    }
  }
  if (target.headers && typeof target.headers === "object" && !Array.isArray(target.headers)) {
    const entries = Object.entries(target.headers as Record<string, unknown>);
    if (entries.length > MAX_HEADERS) issues.push({ code: "FLT-NOTIFY-HEADER-INVALID", severity: "error", message: `at most ${MAX_HEADERS} headers`, path: ["headers"] });
    for (const [name, value] of entries) {
      const problem = headerProblem(name, value);
      if (problem) issues.push({ code: "FLT-NOTIFY-HEADER-INVALID", severity: "error", message: `header "${name}": ${problem}`, path: ["headers", name] });
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

/** Named ranges never reached unless allowed: loopback, link-local (cloud metadata), private, and addresses that are not one host on the Internet. */
const FORBIDDEN_RANGES: [name: string, cidrs: string[]][] = [
  ["loopback", ["127.0.0.0/8", "::1/128"]],
  ["link-local (cloud metadata)", ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"]],
  ["private", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10"]],
  ["shared address space (carrier-grade NAT)", ["100.64.0.0/10"]],
  ["unspecified (this host)", ["0.0.0.0/8", "::/128"]],
  // Forms that embed an IPv4 address another box translates (NAT64, 6to4, Teredo, IPv4-compatible):
  // the embedded address could be anything, metadata included. (IPv4-mapped ::ffff:a.b.c.d is
  // matched against the IPv4 ranges by BlockList itself.)
  ["IPv4 embedded in IPv6", ["64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32", "::/96"]],
  ["reserved", ["192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "2001:db8::/32", "ff00::/8", "100::/64"]],
];

export function blockList(entries: readonly string[], what: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split("/");
    const family = net.isIP(ip ?? "");
    if (!family) throw new FlotillaError({ code: "FLT-NOTIFY-POLICY-INVALID", message: `${what}: "${entry}" is not an IP address or CIDR` });
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) {
      list.addAddress(ip!, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new FlotillaError({ code: "FLT-NOTIFY-POLICY-INVALID", message: `${what}: "${entry}" has an invalid prefix length` });
    list.addSubnet(ip!, prefix, type);
  }
  return list;
}

const FORBIDDEN = FORBIDDEN_RANGES.map(([name, cidrs]) => [name, blockList(cidrs, "built-in range")] as const);

export function inList(list: BlockList, address: string): boolean {
  const ip = address.replace(/%.*$/, ""); // an IPv6 zone (fe80::1%eth0) names an interface, not an address
  const family = net.isIP(ip);
  return family !== 0 && list.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** The name of the forbidden range an address falls in (IPv4-mapped IPv6 forms included), or undefined for a public address. */
export function forbiddenRange(address: string): string | undefined {
  if (!net.isIP(address.replace(/%.*$/, ""))) return "not an IP address";
  return FORBIDDEN.find(([, list]) => inList(list, address))?.[0];
}

