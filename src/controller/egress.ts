/**
 * Outbound requests the server makes on behalf of a repository (notifications): which URLs a
 * repository may name, which addresses may be reached, and a sender that connects to exactly the
 * address it checked. A depdef is written by whoever can push to a watched branch, so its targets
 * pass the operator's allow-list, and every target — the operator's own too — resolves once, is
 * checked, and is connected to at that address (no DNS rebinding), without following redirects,
 * with timeouts and size caps, never reading more of the answer than its status.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import net, { type BlockList } from "node:net";
import os from "node:os";
import { blockList, forbiddenRange, inList, parseTargetUrl } from "../config/notification-target.ts";
import { FlotillaError } from "../core/problems.ts";

/** Who may be notified: decided by the server's operator (`notifications:` of the server configuration). */
export interface NotificationPolicy {
  /**
   * URLs a depdef may name: URL prefixes (`https://hooks.slack.com/services/`: same scheme and host,
   * path under it) or host names (`hooks.example.com`, `*.example.com`, `host:8443`: https only).
   * Empty (the default): depdefs notify no one.
   */
  allowedTargets: string[];
  /** Variables a header may name as `${NAME}`; any other reference refuses the notification. */
  allowedEnv: string[];
  /** CIDRs, addresses or host names that may be reached although loopback, private, link-local or the server's own. */
  allowPrivateAddresses: string[];
}

export const DEFAULT_NOTIFICATION_POLICY: Readonly<NotificationPolicy> = Object.freeze({ allowedTargets: [], allowedEnv: [], allowPrivateAddresses: [] });

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Every address a host name resolves to (the system resolver by default; tests inject one). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressRequest {
  url: URL;
  /** The vetted address: the connection goes there and nowhere else. */
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Bytes of the answer read at most (then the connection is dropped); the body is never returned. */
  maxResponseBytes: number;
}
/** Only the status: an answer's body is never logged or kept. */
export interface EgressResponse {
  status: number;
}
/** Opens the connection and POSTs (injectable, so tests prove what never connects). */
export type Connector = (request: EgressRequest) => Promise<EgressResponse>;

/** A refusal: nothing was sent, and retrying will not help. */
export class EgressRefused extends FlotillaError {}

/** Every address of this host's interfaces: reaching them reaches the server itself. */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

type TargetMatcher = (url: URL) => boolean;

function targetMatcher(entry: string): TargetMatcher {
  const invalid = (why: string) => new EgressRefused({ code: "FLT-NOTIFY-POLICY-INVALID", message: `allowedTargets: "${entry}" ${why}` });
  if (entry.includes("://")) {
    const prefix = parseTargetUrl(entry);
    if (typeof prefix === "string") throw invalid(`is not a usable URL prefix: ${prefix}`);
    if (prefix.search || prefix.hash) throw invalid("must not have a query or fragment");
    const path = prefix.pathname;
    // Whole path segments: /services matches /services and /services/x, not /servicesX.
    const under = (p: string) => path === "/" || p === path || p.startsWith(path.endsWith("/") ? path : `${path}/`);
    return (url) => url.protocol === prefix.protocol && url.host === prefix.host && under(url.pathname);
  }
  const wildcard = entry.startsWith("*.");
  const host = parseTargetUrl(`https://${wildcard ? entry.slice(2) : entry}`);
  if (typeof host === "string" || host.pathname !== "/" || host.search || host.hash || /[/?#@]/.test(entry)) throw invalid("is neither a host name (host, *.domain, host:port) nor a URL prefix");
  // A bare host allows https only: plain http would carry the headers in clear.
  return (url) => url.protocol === "https:" && url.port === host.port && (wildcard ? url.hostname.endsWith(`.${host.hostname}`) : url.hostname === host.hostname);
}

export interface EgressGuardOptions {
  resolve?: Resolver;
  /** The server's own addresses (its listen address; every interface address is added). */
  ownAddresses?: readonly string[];
}

/** The operator's policy, compiled: throws FLT-NOTIFY-POLICY-INVALID on a malformed entry. */
export class EgressGuard {
  private readonly targets: TargetMatcher[];
  private readonly allowedAddresses: BlockList;
  private readonly allowedHosts: Set<string>;
  private readonly own: BlockList;
  private readonly resolve: Resolver;

  constructor(policy: NotificationPolicy, options: EgressGuardOptions = {}) {
    this.targets = policy.allowedTargets.map(targetMatcher);
    const hosts = policy.allowPrivateAddresses.filter((e) => !net.isIP(e.split("/")[0] ?? ""));
    for (const h of hosts) if (!/^[A-Za-z0-9.-]+$/.test(h)) throw new EgressRefused({ code: "FLT-NOTIFY-POLICY-INVALID", message: `allowPrivateAddresses: "${h}" is neither a CIDR, an address nor a host name` });
    this.allowedHosts = new Set(hosts.map((h) => h.toLowerCase()));
    this.allowedAddresses = blockList(policy.allowPrivateAddresses.filter((e) => !hosts.includes(e)), "allowPrivateAddresses");
    this.own = blockList([...new Set([...interfaceAddresses(), ...(options.ownAddresses ?? [])].map((a) => a.replace(/%.*$/, "")).filter((a) => net.isIP(a)))], "own addresses");
    this.resolve = options.resolve ?? systemResolver;
  }

  /** Whether a depdef may name this URL (the operator's allowedTargets). */
  allowsTarget(url: URL): boolean {
    return this.targets.some((m) => m(url));
  }

  /**
   * Resolves the URL's host once and returns the address to connect to, or refuses. Every address
   * the name resolves to must be acceptable: a name that also points inside is refused whole.
   * `trusted` (the operator's own targets): private addresses are fine, the operator named them.
   */
  async destination(url: URL, trusted: boolean): Promise<ResolvedAddress> {
    const literal = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const family = net.isIP(literal);
    const addresses: ResolvedAddress[] = family ? [{ address: literal, family: family === 6 ? 6 : 4 }] : await this.resolve(url.hostname);
    if (addresses.length === 0) throw new Error(`${url.hostname} resolves to no address`);
    if (!trusted) {
      for (const a of addresses) {
        const why = this.refusal(url, a.address);
        if (why) throw new EgressRefused({ code: "FLT-NOTIFY-ADDRESS-FORBIDDEN", message: `${url.hostname}${family ? "" : ` resolves to ${a.address}, which`} is ${why}; allow it with allowPrivateAddresses (serve's notifications configuration, apply --notify-private)` });
      }
    }
    return addresses[0]!;
  }

  private refusal(url: URL, address: string): string | undefined {
    if (this.allowedHosts.has(url.hostname.toLowerCase()) || inList(this.allowedAddresses, address)) return undefined;
    const range = forbiddenRange(address);
    if (range) return `a ${range} address`;
    if (inList(this.own, address)) return "an address of the server itself";
    return undefined;
  }
}

/**
 * The default connector: node's http(s) client, its `lookup` pinned to the vetted address (TLS still
 * checks the certificate against the host name), one connection per request (no agent pool), no
 * redirects (node never follows them), answer read up to the cap and dropped.
 */
export const pinnedConnector: Connector = (r) =>
  new Promise<EgressResponse>((resolve, reject) => {
    const client = r.url.protocol === "https:" ? https : http;
    const hostname = r.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const lookup: net.LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [r.address]);
      else callback(null, r.address.address, r.address.family);
    };
    const req = client.request(
      {
        protocol: r.url.protocol,
        hostname,
        port: r.url.port || undefined,
        path: `${r.url.pathname}${r.url.search}`,
        method: "POST",
        headers: { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
        agent: false,
        lookup,
        ...(r.url.protocol === "https:" && !net.isIP(hostname) ? { servername: hostname } : {}),
        signal: AbortSignal.timeout(r.timeoutMs),
        maxHeaderSize: 16 * 1024,
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > r.maxResponseBytes) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0 });
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
