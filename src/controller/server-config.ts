/**
 * The server's configuration (`flotilla serve --config FILE`, YAML or JSON): everything the operator
 * who starts the server decides and no API token or repository may change — the named credentials
 * and the hosts each may be sent to, which repository locations are allowed, which notification
 * targets and environment variables depdefs may use, and the process settings (listen address, data
 * directory, ...). docs/security.md documents every key with a full example.
 *
 * Relative paths are relative to the configuration file's directory. Problems carry the code
 * FLT-SERVER-CONFIG, the file, the JSON path and the line.
 */
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { FlotillaError, jsonPath, type Problem } from "../core/problems.ts";
import { CREDENTIAL_NAME } from "../store/validate.ts";
import { forbiddenRange, parseTargetUrl } from "../config/notification-target.ts";
import { DEFAULT_NOTIFICATION_POLICY, EgressGuard, type NotificationPolicy } from "./egress.ts";
import { parseDuration, scheduleProblem, type SyncWindowConfig } from "./sync-windows.ts";

export { CREDENTIAL_NAME };

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A git credential helper by name: git runs `git-credential-<name>` from its exec path or PATH; never a command line. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/** A DNS name or IPv4 address (letters, digits, dots, hyphens; no label starts or ends with a hyphen). */
export const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const PORT = "(?::(?:[1-9][0-9]{0,4}))?";
/** A host a credential is bound to: `name`, `name:port`, `[v6]` or `[v6]:port`. */
const HOST_BINDING = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\])${PORT}$`);
const CONTROL = /[\u0000-\u001f\u007f]/;

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export type NamedCredential =
  /** A token in an environment variable of the server (named here), sent as HTTP Basic auth. */
  | { type: "token-env"; env: string; username: string; hosts: string[] }
  /** A token in a file (first line), sent as HTTP Basic auth. */
  | { type: "token-file"; file: string; username: string; hosts: string[] }
  /** An SSH private key; `knownHosts` pins the host keys (else the first key seen is accepted and remembered). */
  | { type: "ssh-key"; file: string; knownHosts?: string; hosts: string[] }
  /** A git credential helper installed on the server, by name (git runs `git-credential-<name>`). */
  | { type: "helper"; helper: string; hosts: string[] };

export interface NotificationTargetConfig {
  url: string;
  events?: ("started" | "succeeded" | "failed" | "rolledBack" | "aborted")[];
  headers?: Record<string, string>;
  template?: string;
}

/** Server-wide targets, and the policy (enforced by egress.ts) for the targets depdefs define. */
export interface NotificationsConfig extends NotificationPolicy {
  /** Notified of every deployment (written by the operator, so not limited by the policy). */
  targets: NotificationTargetConfig[];
}

/** What the server allows repositories to be: the part of the configuration the API and the mirrors enforce. */
export interface RepositoryPolicy {
  /** Accept plain `http://` repository URLs (credentials then travel unencrypted). */
  allowHttp: boolean;
  /** Absolute, symlink-free directories under which local paths and `file://` URLs may point. */
  allowedLocalRoots: string[];
  credentials: Readonly<Record<string, NamedCredential>>;
}

/** Commit statuses on GitHub (src/controller/commit-status.ts): where, with which token, under which name. */
export interface GithubStatusConfig {
  /** The REST API's base URL (https; plain http only to a loopback address, for tests). Never taken from a repository. */
  apiUrl: string;
  /** A named credential (token-env or token-file) bound to the API's host: the token statuses are posted with. */
  credential: string;
  /** The status's context (its name on the pull request), default `flotilla`. */
  context: string;
  /** Registered repository name → GitHub `owner/name`, for repositories whose URL does not say (local mirrors, other hosts). */
  repositories: Record<string, string>;
  /** The host whose repository URLs are this API's (default: github.com for api.github.com, else the API's host). */
  host: string;
}

export interface ServerConfig extends RepositoryPolicy {
  /** The file it was read from (absent: defaults only). */
  file?: string;
  listen: string;
  /** The address people reach this server's API and dashboard at, for links (commit statuses); absent: no links. */
  publicUrl?: string;
  /** Commit statuses on GitHub; absent: none are posted. */
  github?: GithubStatusConfig;
  /** When commits may deploy (sync-windows.ts); none: always. */
  syncWindows: SyncWindowConfig[];
  /** Drift detection (drift.ts): on by default, every 5 minutes, healing nothing unless asked. */
  drift: { enabled: boolean; intervalMs: number; selfHealRepositories: string[] };
  dataDir: string;
  replica?: string;
  webhookSecretEnv: string;
  adminTokenEnv: string;
  logLevel: LogLevel;
  notifications: NotificationsConfig;
  /** Extra words that make a name look secret in every output (src/core/mask.ts), besides the built-in ones. */
  masking: { secretNames: string[] };
  /** The environment variables inputs' ENV refs may read: names, or prefixes ending in `*` (none by default). */
  inputs: { allowedEnv: string[] };
  http: {
    /** Largest API request body, in bytes. */
    bodyLimit: number;
    /** Largest webhook delivery, in bytes. */
    webhookBodyLimit: number;
  };
}

/** Nothing allowed beyond https and ssh without credentials: what a server without a configuration file enforces. */
export const DEFAULT_POLICY: RepositoryPolicy = Object.freeze({ allowHttp: false, allowedLocalRoots: [], credentials: {} });

export const DEFAULTS = {
  listen: "127.0.0.1:8080",
  dataDir: ".flotilla",
  webhookSecretEnv: "FLOTILLA_WEBHOOK_SECRET",
  adminTokenEnv: "FLOTILLA_ADMIN_TOKEN",
  logLevel: "info" as LogLevel,
  bodyLimit: 1024 * 1024,
  webhookBodyLimit: 5 * 1024 * 1024,
};

// ---- schema ----------------------------------------------------------------------------------

const text = (what: string) => z.string().min(1, `${what} must not be empty`).refine((s) => !CONTROL.test(s), `${what} must not contain control characters`);
const envName = z.string().regex(ENV_NAME, "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
const filePath = text("a path").refine((s) => !s.startsWith("-"), "a path must not start with '-'");
const hosts = z
  .array(z.string().regex(HOST_BINDING, "must be a host name or address, optionally with :port (no scheme, path or wildcard)"))
  .min(1, "list at least one host this credential may be sent to");
const username = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, "must be a plain user name").default("x-access-token");

const credentialSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("token-env"), env: envName, username, hosts }),
  z.strictObject({ type: z.literal("token-file"), file: filePath, username, hosts }),
  z.strictObject({ type: z.literal("ssh-key"), file: filePath, knownHosts: filePath.optional(), hosts }),
  z.strictObject({
    type: z.literal("helper"),
    helper: z.string().regex(HELPER_NAME, "must be a credential helper's name (git runs git-credential-<name>), never a command, a path or a '!' snippet"),
    hosts,
  }),
]);

const httpUrl = z.string().max(2048).refine((s) => !CONTROL.test(s) && /^https?:\/\/[^\s/?#]+/i.test(s) && URL.canParse(s), "must be an http(s) URL");
const notificationTarget = z.strictObject({
  url: httpUrl,
  events: z.array(z.enum(["started", "succeeded", "failed", "rolledBack", "aborted"])).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name"), z.string().refine((s) => !CONTROL.test(s), "must not contain control characters")).optional(),
  template: z.string().optional(),
});
/** An entry of the notification policy, as the egress guard that enforces it reads it (one rule, one parser). */
const policyEntry = (field: "allowedTargets" | "allowPrivateAddresses") =>
  text("an entry").superRefine((entry, ctx) => {
    try {
      new EgressGuard({ ...DEFAULT_NOTIFICATION_POLICY, [field]: [entry] });
    } catch (e) {
      ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
    }
  });

/** https, or http to a loopback address (a receiver in tests): a token never crosses a network in clear. */
const apiUrl = z
  .string()
  .max(2048)
  .superRefine((s, ctx) => {
    const why = secureApiUrlProblem(s);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });
const githubRepository = z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, "must be a GitHub repository as owner/name");

const selector = z.array(z.string().min(1).max(256).refine((x) => !CONTROL.test(x), "must not contain control characters")).max(100).optional();
const syncWindow = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a window's name is [A-Za-z0-9][A-Za-z0-9._-]*"),
    kind: z.enum(["allow", "deny"]),
    schedule: z.string().min(1).max(200),
    duration: z.string().refine((d) => parseDuration(d) !== undefined, "must be a duration such as 30m, 2h, 1d or 1h30m"),
    timeZone: z.string().min(1).max(64).optional(),
    repositories: selector,
    objects: selector,
    regions: selector,
    clusters: selector,
    accounts: z.array(z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id")).max(100).optional(),
  })
  .superRefine((w, ctx) => {
    const why = scheduleProblem(w.schedule, w.timeZone ?? "UTC");
    if (why) ctx.addIssue({ code: "custom", message: why, path: [why.startsWith("unknown time zone") ? "timeZone" : "schedule"] });
  });

const schema = z.strictObject({
  listen: z.string().regex(/^(?:[^\s]+:)?\d{1,5}$/, "must be host:port or a port").optional(),
  dataDir: filePath.optional(),
  replica: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be a plain name").optional(),
  webhookSecretEnv: envName.optional(),
  adminTokenEnv: envName.optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).optional(),
  allowHttp: z.boolean().optional(),
  allowedLocalRoots: z.array(filePath.refine((s) => path.resolve("/", s) !== "/", "the whole file system cannot be a local root")).optional(),
  credentials: z.record(z.string().regex(CREDENTIAL_NAME, "a credential name is [A-Za-z0-9][A-Za-z0-9._-]*"), credentialSchema).optional(),
  notifications: z
    .strictObject({
      targets: z.array(notificationTarget).optional(),
      allowedTargets: z.array(policyEntry("allowedTargets")).optional(),
      allowedEnv: z.array(envName).optional(),
      allowPrivateAddresses: z.array(policyEntry("allowPrivateAddresses")).optional(),
    })
    .optional(),
  publicUrl: httpUrl.optional(),
  github: z
    .strictObject({
      apiUrl: apiUrl.optional(),
      credential: z.string().regex(CREDENTIAL_NAME, "must name a credential defined under credentials:"),
      context: z.string().min(1).max(100).refine((s) => !CONTROL.test(s), "must not contain control characters").optional(),
      repositories: z.record(z.string().min(1), githubRepository).optional(),
      host: z.string().regex(HOST_NAME, "must be a host name").optional(),
    })
    .optional(),
  inputs: z.strictObject({ allowedEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, "a variable name, or a prefix ending in * such as APP_*").refine((s) => s !== "*", "* alone would hand the whole environment to the repositories")).optional() }).optional(),
  syncWindows: z
    .array(syncWindow)
    .max(200)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((w, i) => {
        if (seen.has(w.name)) ctx.addIssue({ code: "custom", message: `another window is named "${w.name}"`, path: [i, "name"] });
        seen.add(w.name);
      });
    })
    .optional(),
  drift: z
    .strictObject({
      enabled: z.boolean().optional(),
      interval: z
        .string()
        .refine((d) => (parseDuration(d) ?? 0) >= 30_000, "must be a duration of at least 30s, such as 5m or 1h")
        .optional(),
      selfHeal: z.strictObject({ repositories: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a repository name")).max(1000).optional() }).optional(),
    })
    .optional(),
  masking: z
    .strictObject({
      secretNames: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a word of a variable or key name, e.g. LICENSE or PIN_CODE")).optional(),
    })
    .optional(),
  http: z
    .strictObject({
      bodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
      webhookBodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
    })
    .optional(),
});

type RawConfig = z.output<typeof schema>;

// ---- loading ---------------------------------------------------------------------------------

/** A configuration that failed validation: every problem, each with file, path and line. */
export class ServerConfigError extends FlotillaError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const first = problems[0]!;
    super({ ...first, message: problems.length > 1 ? `${first.message} (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : first.message });
    this.name = "ServerConfigError";
    this.problems = problems;
  }
}

/** The configuration of a server started without `--config`. */
export function defaultServerConfig(cwd: string): ServerConfig {
  return build({}, cwd);
}

/** Read and validate a configuration file (YAML or JSON; JSON is read as YAML 1.2, its superset). */
export async function loadServerConfig(file: string, cwd: string): Promise<ServerConfig> {
  const absolute = path.resolve(cwd, file);
  let source: string;
  try {
    source = await readFile(absolute, "utf8");
  } catch (e) {
    throw new FlotillaError({ code: "FLT-SERVER-CONFIG", file, message: `cannot read the server configuration: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, hint: "pass the path of a YAML or JSON file to --config" });
  }
  return parseServerConfig(source, { file, baseDir: path.dirname(absolute) });
}

/** Validate configuration text; `file` names it in problems, relative paths resolve against `baseDir`. */
export function parseServerConfig(source: string, options: { file: string; baseDir: string }): ServerConfig {
  const { file } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: false });
  const problem = (message: string, segments: readonly (string | number)[], offset?: number): Problem => {
    const at = offset ?? nodeOffset(doc, segments);
    const pos = at === undefined ? undefined : lineCounter.linePos(at);
    return { code: "FLT-SERVER-CONFIG", severity: "error", file, path: jsonPath(segments), message, ...(pos ? { line: pos.line, column: pos.col } : {}) };
  };
  if (doc.errors.length) throw new ServerConfigError(doc.errors.map((e) => problem(e.message.split("\n")[0]!, [], e.pos[0])));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new ServerConfigError([problem(e instanceof Error ? e.message : String(e), [])]);
  }
  if (value === null || value === undefined) value = {};
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ServerConfigError(
      parsed.error.issues.map((i) => {
        const segments = i.path.filter((p): p is string | number => typeof p !== "symbol");
        const unknown = i.code === "unrecognized_keys" ? i.keys : [];
        if (unknown.length) return problem(`unknown key ${unknown.map((k) => `"${k}"`).join(", ")}`, [...segments, unknown[0]!]);
        return problem(i.message, segments);
      }),
    );
  }
  const config = build(parsed.data, options.baseDir, file);
  const github = config.github && githubCredentialProblem(config.github, config.credentials);
  if (github) throw new ServerConfigError([problem(github, ["github", "credential"])]);
  return config;
}

/** Why a GitHub API base URL is not acceptable: not http(s), user info, or plain http to anything but loopback. */
export function secureApiUrlProblem(url: string): string | undefined {
  const u = parseTargetUrl(url);
  if (typeof u === "string") return u;
  if (u.search || u.hash) return "must not have a query or fragment";
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (u.protocol === "http:" && !(net.isIP(host) && forbiddenRange(host) === "loopback")) return "must be https (plain http only to a loopback address such as 127.0.0.1, for tests): the token would travel in clear";
  return undefined;
}

/** The statuses' credential must exist, hold a token, and be bound to the API's host. */
function githubCredentialProblem(github: GithubStatusConfig, credentials: Readonly<Record<string, NamedCredential>>): string | undefined {
  const c = Object.hasOwn(credentials, github.credential) ? credentials[github.credential] : undefined;
  if (!c) return `no credential named "${github.credential}" is defined under credentials:`;
  if (c.type !== "token-env" && c.type !== "token-file") return `credential "${github.credential}" is ${c.type}; commit statuses need a token (token-env or token-file)`;
  const api = new URL(github.apiUrl);
  const port = api.port || (api.protocol === "https:" ? "443" : "80");
  const bound = c.hosts.some((h) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    return m !== null && m[1] === api.hostname && (m[2] === undefined || m[2] === port);
  });
  return bound ? undefined : `credential "${github.credential}" is not bound to ${api.host}, the API's host; add it to the credential's hosts`;
}

function nodeOffset(doc: ReturnType<typeof parseDocument>, segments: readonly (string | number)[]): number | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return range[0];
  }
  return undefined;
}

export const GITHUB_API_URL = "https://api.github.com";

function githubConfig(raw: NonNullable<RawConfig["github"]>): GithubStatusConfig {
  const apiUrl = (raw.apiUrl ?? GITHUB_API_URL).replace(/\/+$/, "");
  const apiHost = new URL(apiUrl).hostname;
  return { apiUrl, credential: raw.credential, context: raw.context ?? "flotilla", repositories: raw.repositories ?? {}, host: (raw.host ?? (apiHost === "api.github.com" ? "github.com" : apiHost)).toLowerCase() };
}

function build(raw: RawConfig, baseDir: string, file?: string): ServerConfig {
  const resolve = (p: string) => path.resolve(baseDir, p);
  const credentials: Record<string, NamedCredential> = {};
  for (const [name, c] of Object.entries(raw.credentials ?? {})) {
    const hostList = c.hosts.map((h) => h.toLowerCase());
    if (c.type === "token-file") credentials[name] = { ...c, file: resolve(c.file), hosts: hostList };
    else if (c.type === "ssh-key") credentials[name] = { ...c, file: resolve(c.file), ...(c.knownHosts ? { knownHosts: resolve(c.knownHosts) } : {}), hosts: hostList };
    else credentials[name] = { ...c, hosts: hostList };
  }
  return {
    ...(file ? { file } : {}),
    listen: raw.listen ?? DEFAULTS.listen,
    dataDir: resolve(raw.dataDir ?? DEFAULTS.dataDir),
    ...(raw.replica ? { replica: raw.replica } : {}),
    webhookSecretEnv: raw.webhookSecretEnv ?? DEFAULTS.webhookSecretEnv,
    adminTokenEnv: raw.adminTokenEnv ?? DEFAULTS.adminTokenEnv,
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    allowHttp: raw.allowHttp ?? false,
    allowedLocalRoots: [...new Set((raw.allowedLocalRoots ?? []).map(resolve))],
    credentials,
    notifications: {
      targets: raw.notifications?.targets ?? [],
      allowedTargets: raw.notifications?.allowedTargets ?? [],
      allowedEnv: raw.notifications?.allowedEnv ?? [],
      allowPrivateAddresses: raw.notifications?.allowPrivateAddresses ?? [],
    },
    ...(raw.publicUrl ? { publicUrl: raw.publicUrl.replace(/\/+$/, "") } : {}),
    ...(raw.github ? { github: githubConfig(raw.github) } : {}),
    syncWindows: (raw.syncWindows ?? []).map((w) => ({
      name: w.name,
      kind: w.kind,
      schedule: w.schedule,
      durationMs: parseDuration(w.duration)!,
      timeZone: w.timeZone ?? "UTC",
      repositories: w.repositories ?? [],
      objects: w.objects ?? [],
      regions: w.regions ?? [],
      clusters: w.clusters ?? [],
      accounts: w.accounts ?? [],
    })),
    drift: { enabled: raw.drift?.enabled ?? true, intervalMs: parseDuration(raw.drift?.interval ?? "5m")!, selfHealRepositories: raw.drift?.selfHeal?.repositories ?? [] },
    masking: { secretNames: raw.masking?.secretNames ?? [] },
    inputs: { allowedEnv: raw.inputs?.allowedEnv ?? [] },
    http: { bodyLimit: raw.http?.bodyLimit ?? DEFAULTS.bodyLimit, webhookBodyLimit: raw.http?.webhookBodyLimit ?? DEFAULTS.webhookBodyLimit },
  };
}
