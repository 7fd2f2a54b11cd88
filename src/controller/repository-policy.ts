/**
 * What a registered repository may be, checked when it is registered (the API answers 400 with the
 * code) and again before every fetch (rows stored earlier, or a configuration changed since):
 *
 * - URL: `https://`, `ssh://` and scp-like `user@host:path`; `http://` only with `allowHttp`; local
 *   paths and `file://` only under `allowedLocalRoots` (symlinks resolved). Everything else — remote
 *   helpers (`ext::`, `fd::`), other schemes, a leading `-`, control characters, query strings,
 *   user info in http(s) URLs — is refused. The accepted forms are matched on the raw text with a
 *   strict grammar, so git, curl and ssh cannot read a different host than the one checked.
 * - branch and sub-path: git ref-name rules, no leading `-`/`+`, no `..`.
 * - credentials: a name defined in the server configuration, whose kind fits the transport and whose
 *   `hosts` list the URL's host (and port, when the binding names one).
 */
import { realpath } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { FlotillaError } from "../core/problems.ts";
import type { ProblemCode } from "../core/codes.ts";
import type { LegacyCredentialsRef } from "../store/types.ts";
import { CREDENTIAL_NAME, HOST_NAME, type NamedCredential, type RepositoryPolicy } from "./server-config.ts";

export type Transport = "https" | "http" | "ssh" | "file";

export interface RepositoryLocation {
  transport: Transport;
  /** Lower-cased host name or address (IPv6 in brackets); absent for local repositories. */
  host?: string;
  /** The port the URL names, if any. */
  port?: number;
  /** `scheme://host[:port]` of an http(s) URL: what credentials are scoped to. */
  origin?: string;
  /** What git fetches from: the URL as given, or the absolute (symlink-resolved, when it exists) local path. */
  remote: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const USER = "[A-Za-z0-9_][A-Za-z0-9._~-]{0,63}";
const HOST = `(?:${HOST_NAME.source.slice(1, -1)}|\\[[0-9A-Fa-f:.]{2,45}\\])`;
/** Path characters git hosts use (RFC 3986 unreserved, `%XX`, and a few sub-delimiters); no quotes, spaces, `?` or `#`. */
const PATH_CHARS = "[A-Za-z0-9._~%@+:=,/-]";
const URL_FORM = new RegExp(`^([A-Za-z][A-Za-z0-9+.-]*)://(?:(${USER})@)?(${HOST})(?::([0-9]{1,5}))?(/${PATH_CHARS}*)?$`);
const SCP_FORM = new RegExp(`^(?:(${USER})@)?(${HOST}):(?!-)(${PATH_CHARS}+)$`);
const DEFAULT_PORT: Record<string, number> = { https: 443, http: 80, ssh: 22 };

function refuse(code: ProblemCode, message: string, hint?: string): FlotillaError {
  return new FlotillaError({ code, message, ...(hint ? { hint } : {}) });
}

const forbidden = (message: string, hint = "use an https:// or ssh URL (or git@host:org/repo.git); local paths need allowedLocalRoots in the server configuration") => refuse("FLT-REPO-URL-FORBIDDEN", message, hint);

/** The URL's form, without the configuration: which transport, host and port; throws FLT-REPO-URL-FORBIDDEN. */
export function parseRepositoryUrl(url: string): RepositoryLocation {
  if (typeof url !== "string" || url.length === 0 || url.length > 4096) throw forbidden("a repository URL must be 1 to 4096 characters");
  if (CONTROL.test(url)) throw forbidden("the repository URL contains control characters");
  if (url !== url.trim()) throw forbidden("the repository URL starts or ends with white space");
  if (url.startsWith("-")) throw forbidden("the repository URL starts with '-', which git would read as an option");
  // `<transport>::<address>` makes git run a remote helper (`ext::` runs a command, `fd::` uses file descriptors).
  if (/^[A-Za-z0-9+.-]*::/.test(url)) throw forbidden("remote helper URLs (`<transport>::<address>`, such as ext:: and fd::) are not allowed");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === "file") return { transport: "file", remote: fileUrlPath(url) };
    const transport = scheme === "https" ? "https" : scheme === "http" ? "http" : scheme === "ssh" || scheme === "git+ssh" || scheme === "ssh+git" ? "ssh" : undefined;
    if (!transport) throw forbidden(`the ${scheme}:// transport is not allowed`);
    const m = URL_FORM.exec(url);
    if (!m) throw forbidden(`the ${scheme}:// URL is not of the accepted form scheme://[user@]host[:port]/path (no password, query, fragment, spaces or quotes)`);
    const [, , user, rawHost, portText, urlPath] = m;
    const host = checkHost(rawHost!);
    const port = portText === undefined ? undefined : Number(portText);
    if (port !== undefined && (port < 1 || port > 65535)) throw forbidden("the repository URL's port is out of range");
    checkPercent(urlPath ?? "");
    if (transport !== "ssh") {
      if (user !== undefined) throw forbidden("the repository URL carries user information; Flotilla never stores secrets", "remove it and name a credential defined in the server configuration instead");
      // Parsed the same way by the WHATWG parser (what a browser, and for these forms curl, sees).
      const whatwg = new URL(url);
      if (whatwg.hostname.toLowerCase() !== host || (whatwg.port === "" ? undefined : Number(whatwg.port)) !== (port === DEFAULT_PORT[transport] ? undefined : port)) {
        throw forbidden("the repository URL's host is ambiguous");
      }
    }
    const origin = transport === "ssh" ? undefined : `${transport}://${host}${port !== undefined && port !== DEFAULT_PORT[transport] ? `:${port}` : ""}`;
    return { transport, host, ...(port !== undefined ? { port } : {}), ...(origin ? { origin } : {}), remote: url };
  }
  if (!isLocalForm(url)) {
    const m = SCP_FORM.exec(url);
    if (!m) throw forbidden("the scp-like SSH address is not of the form [user@]host:path (the path must not start with '-')");
    checkPercent(m[3]!);
    return { transport: "ssh", host: checkHost(m[2]!), remote: url };
  }
  if (!path.isAbsolute(url)) throw forbidden("a local repository must be an absolute path", "give the absolute path of the repository (the CLI resolves a relative one against its working directory)");
  return { transport: "file", remote: path.resolve(url) };
}

/** True when git would read the text as a local path: no scheme, no remote helper, not scp-like `host:path`. */
export function isLocalForm(url: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) || /^[A-Za-z0-9+.-]*::/.test(url) || url.startsWith("[")) return false;
  // Git reads `[user@]host:path` as SSH when a colon comes before the first slash.
  const colon = url.indexOf(":");
  const slash = url.indexOf("/");
  return colon < 0 || (slash >= 0 && slash < colon);
}

function checkHost(raw: string): string {
  const host = raw.toLowerCase();
  if (host.startsWith("[")) {
    if (isIP(host.slice(1, -1)) !== 6) throw forbidden("the repository URL's IPv6 address is not valid");
  } else if (host.startsWith("-") || !HOST_NAME.test(host)) throw forbidden("the repository URL's host is not a valid host name");
  return host;
}

function checkPercent(text: string): void {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw forbidden("the repository URL has a malformed %-escape");
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw forbidden("the repository URL has a malformed %-escape");
  }
  if (CONTROL.test(decoded)) throw forbidden("the repository URL encodes control characters");
}

function fileUrlPath(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw forbidden("the file:// URL is not valid");
  }
  if (parsed.host !== "" && parsed.host !== "localhost") throw forbidden("a file:// URL must name a local path (file:///path)");
  if (parsed.search || parsed.hash) throw forbidden("a file:// URL must not have a query or fragment");
  let p: string;
  try {
    p = decodeURIComponent(parsed.pathname);
  } catch {
    throw forbidden("the file:// URL has a malformed %-escape");
  }
  if (CONTROL.test(p)) throw forbidden("the file:// URL encodes control characters");
  return path.resolve(p);
}

async function real(p: string): Promise<string | undefined> {
  try {
    return await realpath(p);
  } catch {
    return undefined;
  }
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The URL checked against the policy: http only when allowed, local paths only under an allowed
 * root (before and after resolving symlinks). For a local repository `remote` is the resolved path.
 */
export async function checkRepositoryUrl(url: string, policy: RepositoryPolicy): Promise<RepositoryLocation> {
  const location = parseRepositoryUrl(url);
  if (location.transport === "http" && !policy.allowHttp) {
    throw forbidden("plain http:// repository URLs are not allowed on this server", "use https://, or set allowHttp: true in the server configuration");
  }
  if (location.transport !== "file") return location;
  if (policy.allowedLocalRoots.length === 0) {
    throw forbidden("local repositories (paths and file:// URLs) are not allowed on this server", "list the directory that holds them under allowedLocalRoots in the server configuration");
  }
  const lexical = location.remote;
  const resolved = await real(lexical);
  const roots = await Promise.all(policy.allowedLocalRoots.map(async (r) => ({ given: path.resolve(r), real: await real(r) })));
  const ok = roots.some((r) => within(r.given, lexical) || (r.real !== undefined && within(r.real, lexical))) && (resolved === undefined || roots.some((r) => r.real !== undefined && within(r.real, resolved)));
  if (!ok) throw forbidden("the local repository is outside the directories this server allows (allowedLocalRoots)", "move it under an allowed directory, or ask the server's operator to allow its directory");
  return { transport: "file", remote: resolved ?? lexical };
}

/** A branch name git and Flotilla read only as a branch: git's ref-name rules, and no option or refspec syntax. */
export function checkBranch(branch: string): void {
  const bad = (why: string) => refuse("FLT-REPO-BRANCH-INVALID", `the branch name ${why}`, "give a branch name such as main or release/2026-11");
  if (typeof branch !== "string" || branch.length === 0 || branch.length > 255) throw bad("must be 1 to 255 characters");
  if (CONTROL.test(branch) || /[\s~^:?*[\\]/.test(branch)) throw bad("contains a space, a control character or one of ~ ^ : ? * [ \\");
  if (/^[-+]/.test(branch)) throw bad("starts with '-' or '+'");
  if (branch.includes("..") || branch.includes("@{") || branch === "@" || branch.includes("//")) throw bad("contains '..', '@{' or '//'");
  if (branch.startsWith("/") || branch.endsWith("/") || branch.endsWith(".")) throw bad("starts or ends with '/' or ends with '.'");
  if (branch.split("/").some((c) => c.startsWith(".") || c.endsWith(".lock"))) throw bad("has a component starting with '.' or ending with '.lock'");
  if (branch.startsWith("refs/") && !/^refs\/(heads|tags)\/./.test(branch)) throw bad("names a ref outside refs/heads/ and refs/tags/");
  if (branch === "HEAD") throw bad("is HEAD; name the branch");
}

/** A sub-path inside the repository: relative, without `..`, `.` or empty segments. */
export function checkSubPath(sub: string | null | undefined): void {
  if (sub === null || sub === undefined) return;
  const bad = (why: string) => refuse("FLT-REPO-PATH-INVALID", `the repository sub-path ${why}`, "give a folder inside the repository, such as deploy/ecs");
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 1024) throw bad("must be 1 to 1024 characters");
  if (CONTROL.test(sub) || sub.includes("\\")) throw bad("contains a control character or a backslash");
  if (sub.startsWith("/") || sub.startsWith("-")) throw bad("must be relative and not start with '-'");
  if (sub.replace(/\/+$/, "").split("/").some((s) => s === "" || s === "." || s === "..")) throw bad("has an empty, '.' or '..' segment");
}

const FITS: Record<NamedCredential["type"], Transport[]> = { "token-env": ["https", "http"], "token-file": ["https", "http"], helper: ["https", "http"], "ssh-key": ["ssh"] };

/**
 * The named credential for a repository at `location`: defined in the configuration, of a kind that
 * fits the transport, bound to the URL's host. A stored pre-configuration reference (`env:`, `file:`,
 * `helper:`) is refused: such references let a token holder pick any variable, file or command.
 */
export function boundCredential(ref: string | LegacyCredentialsRef, location: RepositoryLocation, policy: RepositoryPolicy): NamedCredential {
  if (typeof ref !== "string") {
    throw refuse(
      "FLT-CREDENTIAL-LEGACY",
      `this repository refers to its credentials the old way (${ref.kind} reference); the server no longer resolves references chosen through the API`,
      "define a named credential in the server configuration (credentials: NAME: {type, hosts, ...}) and set it on the repository: flotilla repo update NAME --credentials CREDENTIAL, or PATCH {\"credentials\": \"CREDENTIAL\"}",
    );
  }
  const defined = Object.keys(policy.credentials);
  const credential = CREDENTIAL_NAME.test(ref) && Object.hasOwn(policy.credentials, ref) ? policy.credentials[ref] : undefined;
  if (!credential) {
    throw refuse("FLT-CREDENTIAL-UNKNOWN", "the server configuration defines no credential of that name", defined.length ? `defined credentials: ${defined.join(", ")}` : "the server configuration defines no credentials (credentials: in the file given to serve --config)");
  }
  if (!FITS[credential.type].includes(location.transport)) {
    throw refuse("FLT-CREDENTIAL-TRANSPORT", `credential "${ref}" (${credential.type}) cannot be used for a ${location.transport === "file" ? "local" : location.transport} repository`, "tokens and helpers are for https URLs, SSH keys for ssh URLs; local repositories need no credential");
  }
  if (!hostBound(credential.hosts, location)) {
    throw refuse("FLT-CREDENTIAL-HOST", `credential "${ref}" is not bound to ${location.host}${location.port !== undefined ? `:${location.port}` : ""}; it may only be sent to ${credential.hosts.join(", ")}`, "use a credential bound to this host, or ask the server's operator to add the host to the credential's hosts");
  }
  return credential;
}

function hostBound(hosts: readonly string[], location: RepositoryLocation): boolean {
  const port = location.port ?? DEFAULT_PORT[location.transport];
  return hosts.some((binding) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(binding.toLowerCase());
    if (!m || m[1] !== location.host) return false;
    return m[2] === undefined || Number(m[2]) === port;
  });
}

export interface CheckedRepository {
  location: RepositoryLocation;
  credential?: { name: string } & NamedCredential;
}

/** Every check above for one repository (registration, update, and before each fetch). */
export async function checkRepository(repo: { url: string; branch?: string; path?: string | null; credentials?: string | LegacyCredentialsRef | null }, policy: RepositoryPolicy): Promise<CheckedRepository> {
  const location = await checkRepositoryUrl(repo.url, policy);
  if (repo.branch !== undefined) checkBranch(repo.branch);
  checkSubPath(repo.path);
  if (repo.credentials === null || repo.credentials === undefined) return { location };
  const credential = boundCredential(repo.credentials, location, policy);
  return { location, credential: { ...credential, name: typeof repo.credentials === "string" ? repo.credentials : "" } };
}
