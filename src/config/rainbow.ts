/**
 * The depdef's `rainbow` block: many versions of one service live side by side, each with its own
 * ECS service, target group and listener rule (and so its own URL); a cutover points the live
 * route at one of them. This file holds the block's schema and the pure naming rules every part of
 * Flotilla shares — what a version is called in ECS and ELB, the conditions of its rule, its URL —
 * so that the deployment machines, the cleanup and the simulator's tests agree on them.
 * docs/format.md "Rainbow deployments" describes the block.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { conditionField, conditionValues, type RuleCondition } from "../core/rule-conditions.ts";

const seconds = z.number().int().min(0);

/** Lower-case letters, digits and inner hyphens: a version is part of host names, target group and service names. */
export const VERSION_PATTERN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** Leaves room in a target group name (32 characters) for a recognisable prefix. */
export const MAX_VERSION_LENGTH = 20;
/** The only placeholder the route, URL and name prefix take. */
export const VERSION_PLACEHOLDER = "{version}";
/** How many characters of the commit name a version when the block gives none. */
export const COMMIT_VERSION_LENGTH = 8;
/** ALB's limit on a condition value (host, path or header value). */
const MAX_CONDITION_VALUE = 128;

export const CUTOVER_MODES = ["MANUAL", "AUTOMATIC"] as const;

const healthCheck = z.strictObject({
  path: z.string().min(1).max(1024).optional(),
  protocol: z.enum(["HTTP", "HTTPS"]).optional(),
  port: z.string().regex(/^(traffic-port|\d{1,5})$/, 'must be "traffic-port" or a port number as a string').optional(),
  intervalSeconds: z.number().int().min(5).max(300).optional(),
  timeoutSeconds: z.number().int().min(2).max(120).optional(),
  healthyThresholdCount: z.number().int().min(2).max(10).optional(),
  unhealthyThresholdCount: z.number().int().min(2).max(10).optional(),
  /** ALB's HttpCode matcher, e.g. "200" or "200-299". */
  matcher: z.string().regex(/^\d{3}([,-]\d{3})*$/, 'must be HTTP codes such as "200", "200,204" or "200-299"').optional(),
});

export const rainbowSchema = z.strictObject({
  /** The version's name, usually `{{ version }}` from the inputs; absent: the commit's first 8 characters. */
  version: z.string().optional(),
  /** The listeners each version gets a rule on, and whose live route a cutover switches. */
  listeners: z
    .array(
      z.strictObject({
        listenerArn: z.string().min(1),
        /** The rule whose actions are the live route; absent: the listener's default action. */
        liveRuleArn: z.string().min(1).optional(),
      }),
    )
    .min(1)
    .max(5),
  /** The conditions of each version's rule, with `{version}` in at least one of them. */
  route: z.strictObject({
    hostHeader: z.string().min(1).optional(),
    pathPattern: z.string().min(1).optional(),
    httpHeader: z.strictObject({ name: z.string().min(1).max(40), value: z.string().min(1) }).optional(),
  }),
  /** How a person reaches a version; absent: from the host header and the first listener's protocol and port. */
  url: z.string().min(1).optional(),
  /** The priorities version rules may take: the lowest free one in the range. */
  rulePriorities: z
    .strictObject({ from: z.number().int().min(1).max(50000).default(1), to: z.number().int().min(1).max(50000).default(50000) })
    .prefault({}),
  /** Each version's target group. */
  targetGroup: z.strictObject({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "must be a VPC id such as vpc-0123abcd"),
    /** Default: the svcdef's load balancer containerPort. */
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(["HTTP", "HTTPS"]).default("HTTP"),
    protocolVersion: z.enum(["HTTP1", "HTTP2", "GRPC"]).optional(),
    /** Default: `ip` for awsvpc tasks, else `instance`. */
    targetType: z.enum(["ip", "instance"]).optional(),
    /** The start of every version's target group name (`<prefix>-<version>`); default: from the service name. */
    namePrefix: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, "must be letters, digits and inner hyphens").optional(),
    healthCheck: healthCheck.prefault({}),
  }),
  /** AUTOMATIC: each deployed version is cut over as soon as it is healthy. */
  cutover: z.enum(CUTOVER_MODES).default("MANUAL"),
  /** Scale the version to the live version's desired count before cutting over. */
  scaleToLive: z.boolean().default(true),
  /** Which versions a cleanup removes (never the live one, a protected one or an excluded one). */
  cleanup: z
    .strictObject({
      /** Clean up after every cutover. */
      automatic: z.boolean().default(true),
      /** Keep this many of the newest versions that are not live. */
      keep: z.number().int().min(0).max(100).default(1),
      /** Remove only versions older than this many seconds (0: any age). */
      olderThan: seconds.default(0),
      /** Versions never removed. */
      exclude: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
});

export type RainbowConfig = z.output<typeof rainbowSchema>;

/** Why a version name cannot be used, or undefined when it can. */
export function versionProblem(version: string): string | undefined {
  if (version.length === 0) return "the version is empty";
  if (version.length > MAX_VERSION_LENGTH) return `the version "${version}" is longer than ${MAX_VERSION_LENGTH} characters`;
  if (!VERSION_PATTERN.test(version)) return `the version "${version}" must be lower-case letters, digits and inner hyphens (it becomes part of host names and of ECS and ELB names)`;
  return undefined;
}

/** The version a deployment of this commit makes when the block names none. */
export function versionFromCommit(sha: string): string {
  return sha.slice(0, COMMIT_VERSION_LENGTH).toLowerCase();
}

/** Every version's ECS service: `<serviceName>-<version>`. */
export function versionServiceName(service: string, version: string): string {
  return `${service}-${version}`;
}

/**
 * Every version's target group: `<prefix>-<version>`, at most 32 characters (ELB's limit). The
 * prefix is the block's `namePrefix`, else the service name with other characters as hyphens,
 * shortened with a hash of the whole name when it does not fit, so two long service names that
 * start alike still get different groups.
 */
export function versionTargetGroupName(config: Pick<RainbowConfig, "targetGroup">, service: string, version: string): string {
  const room = 32 - 1 - version.length;
  const given = config.targetGroup.namePrefix;
  if (given) return `${given.slice(0, room)}-${version}`;
  const base = service.replace(/[^A-Za-z0-9-]/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "") || "v";
  if (base.length <= room) return `${base}-${version}`;
  const hash = createHash("sha256").update(service).digest("hex").slice(0, 4);
  return `${base.slice(0, room - 5).replace(/-$/, "")}-${hash}-${version}`;
}

const fill = (pattern: string, version: string) => pattern.split(VERSION_PLACEHOLDER).join(version);

/** The conditions of a version's rule: every part of `route`, each with the version filled in. */
export function versionConditions(config: Pick<RainbowConfig, "route">, version: string): RuleCondition[] {
  const r = config.route;
  const out: RuleCondition[] = [];
  if (r.hostHeader !== undefined) out.push({ Field: "host-header", HostHeaderConfig: { Values: [fill(r.hostHeader, version)] } });
  if (r.pathPattern !== undefined) out.push({ Field: "path-pattern", PathPatternConfig: { Values: [fill(r.pathPattern, version)] } });
  if (r.httpHeader !== undefined) out.push({ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: r.httpHeader.name, Values: [fill(r.httpHeader.value, version)] } });
  return out;
}

/**
 * The version a rule's conditions route to, when they are exactly this block's route for some
 * version (the same fields, each with one value that fits its pattern, the same version in all),
 * else undefined. How versions are recognised on a listener: a rule written by hand that happens to
 * look alike must also forward to the version's own target group before Flotilla treats it as one.
 */
export function versionOfConditions(config: Pick<RainbowConfig, "route">, conditions: readonly RuleCondition[]): string | undefined {
  const wanted = versionConditions(config, "x");
  if (conditions.length !== wanted.length) return undefined;
  let found: string | undefined;
  for (const want of wanted) {
    const field = want["Field"] as string;
    const have = conditions.find((c) => conditionField(c) === field);
    if (!have) return undefined;
    const values = conditionValues(have);
    if (values.length !== 1) return undefined;
    if (field === "http-header") {
      const name = (have["HttpHeaderConfig"] as { HttpHeaderName?: unknown } | undefined)?.HttpHeaderName;
      if (typeof name !== "string" || name.toLowerCase() !== config.route.httpHeader!.name.toLowerCase()) return undefined;
    }
    const pattern = field === "host-header" ? config.route.hostHeader! : field === "path-pattern" ? config.route.pathPattern! : config.route.httpHeader!.value;
    const value = values[0]!;
    if (!pattern.includes(VERSION_PLACEHOLDER)) {
      // A fixed part of the route: the same for every version.
      if (field === "host-header" ? value.toLowerCase() !== pattern.toLowerCase() : value !== pattern) return undefined;
      continue;
    }
    const v = matchPattern(pattern, value, field === "host-header");
    if (v === undefined || (found !== undefined && v !== found)) return undefined;
    found = v;
  }
  return found;
}

function matchPattern(pattern: string, value: string, caseInsensitive: boolean): string | undefined {
  const parts = pattern.split(VERSION_PLACEHOLDER).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`^${parts.join("([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)")}$`, caseInsensitive ? "i" : "");
  const m = re.exec(value);
  if (!m) return undefined;
  const versions = new Set(m.slice(1).map((v) => v.toLowerCase()));
  if (versions.size !== 1) return undefined;
  const [v] = versions;
  return v !== undefined && versionProblem(v) === undefined ? v : undefined;
}

/**
 * The address of a version: the block's `url` with the version filled in, else built from the host
 * header (and the path's fixed start), with the scheme and port of the listener's protocol.
 */
export function versionUrl(config: Pick<RainbowConfig, "route" | "url">, version: string, listener: { protocol?: string; port?: number } = {}): string {
  if (config.url !== undefined) return fill(config.url, version);
  const host = fill(config.route.hostHeader ?? "", version);
  const https = listener.protocol === "HTTPS";
  const port = listener.port !== undefined && listener.port !== (https ? 443 : 80) ? `:${listener.port}` : "";
  const path = config.route.pathPattern ? fill(config.route.pathPattern, version).replace(/[*?].*$/, "") : "/";
  return `${https ? "https" : "http"}://${host}${port}${path.startsWith("/") ? path : `/${path}`}`;
}

/** What a request needs besides the URL to reach a version (header routing), in words; empty when nothing. */
export function versionRequestNote(config: Pick<RainbowConfig, "route">, version: string): string {
  const h = config.route.httpHeader;
  return h ? `with header ${h.name}: ${fill(h.value, version)}` : "";
}

/** Problems of the route (`path` under `route`, message), checked with a long version in place. */
export function routeProblems(config: Pick<RainbowConfig, "route" | "url">): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const r = config.route;
  const values: [(string | number)[], string | undefined, RegExp, string][] = [
    [["hostHeader"], r.hostHeader, /^[A-Za-z0-9.*?{}-]+$/, "letters, digits, hyphens, dots and the wildcards * and ?"],
    [["pathPattern"], r.pathPattern, /^[A-Za-z0-9_\-.$/~"'@:+&*?{}]+$/, "letters, digits and _ - . $ / ~ \" ' @ : + & * ?"],
    [["httpHeader", "value"], r.httpHeader?.value, /^[\x20-\x7e]+$/, "printable characters"],
  ];
  const given = values.filter(([, v]) => v !== undefined);
  if (given.length === 0) out.push({ path: [], message: "route needs at least one of hostHeader, pathPattern and httpHeader" });
  else if (!given.some(([, v]) => v!.includes(VERSION_PLACEHOLDER))) out.push({ path: [], message: `no part of the route contains ${VERSION_PLACEHOLDER}: every version's rule would match the same requests` });
  const long = "x".repeat(MAX_VERSION_LENGTH);
  for (const [path, v, chars, what] of given) {
    const other = /\{(?!version\})[^}]*\}/.exec(v!);
    if (other) out.push({ path, message: `"${other[0]}" is not a placeholder; the only one is ${VERSION_PLACEHOLDER}` });
    else if (!chars.test(v!)) out.push({ path, message: `"${v}" may contain only ${what}` });
    else if (fill(v!, long).length > MAX_CONDITION_VALUE) out.push({ path, message: `"${v}" is longer than ${MAX_CONDITION_VALUE} characters with a ${MAX_VERSION_LENGTH}-character version (ALB's limit)` });
    else if (path[0] === "pathPattern" && !v!.startsWith("/")) out.push({ path, message: `"${v}" must start with /` });
  }
  if (r.httpHeader && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(r.httpHeader.name)) out.push({ path: ["httpHeader", "name"], message: `"${r.httpHeader.name}" is not a valid header name` });
  return out;
}

/** Problems of `url`, or of its absence (`path` from the block). */
export function urlProblems(config: Pick<RainbowConfig, "route" | "url">): { path: (string | number)[]; message: string; hint?: string }[] {
  if (config.url === undefined) {
    return config.route.hostHeader === undefined ? [{ path: [], message: "a route without hostHeader needs url: the address versions are reached at", hint: 'e.g. "url": "https://app.example.com/v/{version}/"' }] : [];
  }
  let parsed: URL;
  try {
    parsed = new URL(fill(config.url, "x"));
  } catch {
    return [{ path: ["url"], message: `"${config.url}" is not an absolute URL` }];
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return [{ path: ["url"], message: `"${config.url}" must be an http:// or https:// URL` }];
  if (parsed.username || parsed.password) return [{ path: ["url"], message: "url may not carry a user or password" }];
  const other = /\{(?!version\})[^}]*\}/.exec(config.url);
  if (other) return [{ path: ["url"], message: `"${other[0]}" is not a placeholder; the only one is ${VERSION_PLACEHOLDER}` }];
  return [];
}
