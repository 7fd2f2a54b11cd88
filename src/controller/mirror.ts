/**
 * One persistent bare mirror per registered repository, under `<dataDir>/mirrors/<safe-name>.git`:
 * made once (a bare repository whose origin fetches every branch and tag, as `git clone --mirror`
 * would, minus the host's pull-request refs), then `git fetch --prune`: never a re-clone.
 *
 * Before every fetch the repository is checked against the server's policy again
 * (repository-policy.ts): a row stored before a rule existed, or a configuration changed since,
 * never reaches git. Git itself then runs as a second wall: only the repository's own protocol
 * allowed (`protocol.allow=never`, `GIT_ALLOW_PROTOCOL`, `GIT_PROTOCOL_FROM_USER=0`), no redirects,
 * no credential helper, askpass or SSH identity of the host, no inherited `GIT_*` settings.
 *
 * Credentials come only from a named credential of the server configuration bound to the URL's
 * host: a token (from a variable or a file) becomes an `Authorization` header scoped to the
 * repository's origin and handed over in git's environment (never argv, a file or a message); an SSH
 * key goes to `ssh -i` with no agent; a helper is configured by name for the repository's origin only.
 */
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { FlotillaError } from "../core/problems.ts";
import { gitEnvironment, GitExit, runGit } from "../git/run.ts";
import type { Repository } from "../store/types.ts";
import { checkRepository, type Transport } from "./repository-policy.ts";
import type { RepositoryPolicy } from "./server-config.ts";

const MAX_BUFFER = 64 * 1024 * 1024;

/** How git runs for one repository: where it fetches from, its environment and `-c` configuration. */
export interface GitAuth {
  /** What git fetches from (a local repository's resolved path). */
  remote: string;
  /** Set over the sanitised environment; a token's header travels here (GIT_CONFIG_*), never in argv. */
  env: Record<string, string>;
  /** `-c key=value` pairs placed before the subcommand (no secrets). */
  config: string[];
  /** Values to scrub from any message (the token and its header, defence in depth). */
  secrets: string[];
}

/** What the mirror needs of a repository: the fetch side (branch and path are checked too when given). */
export type MirrorRepository = Pick<Repository, "name" | "url" | "credentials"> & Partial<Pick<Repository, "branch" | "path">>;

export interface MirrorOptions {
  /** Flotilla's data directory; mirrors live in `<dataDir>/mirrors/`. */
  dataDir: string;
  /** What the server's configuration allows: URL forms, local roots, named credentials. */
  policy: RepositoryPolicy;
  /** The environment git runs with and credentials are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface SyncResult {
  /** True when this sync made the mirror (a first clone). */
  created: boolean;
  gitDir: string;
}

/** A file-system-safe, collision-free name for a repository's mirror. */
export function safeName(name: string): string {
  const readable = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[.]+/, "_").slice(0, 80);
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${readable}-${hash}`;
}

export function mirrorPath(dataDir: string, repositoryName: string): string {
  return path.join(path.resolve(dataDir), "mirrors", `${safeName(repositoryName)}.git`);
}

/** Hide user info in URLs (`https://user:pw@host` → `https://***@host`) and the given secrets. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}

/** Single-quote for a POSIX shell (git runs GIT_SSH_COMMAND through one). */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const SSH_BASE = ["ssh", "-o", "BatchMode=yes", "-o", "ForwardAgent=no", "-o", "IdentityAgent=none"];

/**
 * How git runs for a repository: the policy checks (throwing their FLT-REPO-* / FLT-CREDENTIAL-*
 * codes), the protocol wall, and the named credential. Throws FLT-GIT-CREDENTIALS when the
 * credential cannot be read (variable unset, file missing).
 */
export async function gitAuth(repo: Omit<MirrorRepository, "name">, policy: RepositoryPolicy, env: NodeJS.ProcessEnv = process.env): Promise<GitAuth> {
  const { location, credential } = await checkRepository(repo, policy);
  const protocol: Transport = location.transport;
  const auth: GitAuth = {
    remote: location.remote,
    // No prompt of any kind (terminal or askpass program); protocols limited to this repository's.
    env: { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS_REQUIRE: "never", GIT_PROTOCOL_FROM_USER: "0", GIT_ALLOW_PROTOCOL: protocol, GIT_SSH_VARIANT: "ssh" },
    config: ["protocol.allow=never", `protocol.${protocol}.allow=always`, "credential.helper=", "http.followRedirects=false", "core.hooksPath=/dev/null"],
    secrets: [],
  };
  // Without a credential, ssh offers no key at all (not the host's own keys or agent).
  auth.env["GIT_SSH_COMMAND"] = [...SSH_BASE, "-o", "PubkeyAuthentication=no", "-o", "StrictHostKeyChecking=accept-new"].join(" ");
  if (!credential) return auth;
  switch (credential.type) {
    case "token-env":
    case "token-file": {
      let token: string | undefined;
      if (credential.type === "token-file") token = await readToken(credential.file, credential.name);
      else {
        token = env[credential.env];
        if (!token) throw credentials(`the environment variable ${credential.env} that holds credential "${credential.name}" is not set`, `export ${credential.env}=<token> in the server's environment`);
      }
      const header = `Basic ${Buffer.from(`${credential.username}:${token}`).toString("base64")}`;
      auth.secrets.push(token, header.slice(6));
      // Scoped to the repository's origin (already checked to be one of the credential's hosts).
      Object.assign(auth.env, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `http.${location.origin!}/.extraHeader`, GIT_CONFIG_VALUE_0: `Authorization: ${header}` });
      return auth;
    }
    case "ssh-key": {
      for (const file of [credential.file, ...(credential.knownHosts ? [credential.knownHosts] : [])]) {
        try {
          await access(file);
        } catch {
          throw credentials(`the file ${file} of credential "${credential.name}" does not exist or cannot be read`);
        }
      }
      const hostKeys = credential.knownHosts ? ["-o", `UserKnownHostsFile=${shellQuote(credential.knownHosts)}`, "-o", "StrictHostKeyChecking=yes"] : ["-o", "StrictHostKeyChecking=accept-new"];
      auth.env["GIT_SSH_COMMAND"] = [...SSH_BASE, "-i", shellQuote(credential.file), "-o", "IdentitiesOnly=yes", ...hostKeys].join(" ");
      return auth;
    }
    case "helper":
      // git runs git-credential-<name>, and only for URLs under this origin.
      auth.config.push(`credential.${location.origin!}.helper=${credential.helper}`);
      return auth;
  }
}

async function readToken(file: string, name: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw credentials(`the token file ${file} of credential "${name}" does not exist or cannot be read`);
  }
  const token = text.split(/\r?\n/)[0]!.trim();
  if (!token) throw credentials(`the token file ${file} of credential "${name}" is empty`);
  return token;
}

function credentials(message: string, hint = "fix the credential in the server configuration or the server's environment"): FlotillaError {
  return new FlotillaError({ code: "FLT-GIT-CREDENTIALS", message, hint });
}

/** The arguments git runs with: `-c` configuration first, then the command. */
export function gitArgs(auth: GitAuth, args: readonly string[]): string[] {
  return [...auth.config.flatMap((c) => ["-c", c]), ...args];
}

/** Run git with the auth's configuration; failures become FlotillaErrors with redacted messages. */
export async function remoteGit(args: readonly string[], options: { cwd?: string; auth: GitAuth; env?: NodeJS.ProcessEnv; what: string }): Promise<string> {
  const env = gitEnvironment(options.env ?? process.env, options.auth.env);
  try {
    return await runGit(gitArgs(options.auth, args), { cwd: options.cwd, env, maxBuffer: MAX_BUFFER });
  } catch (e) {
    if (!(e instanceof GitExit)) throw e;
    const stderr = redact((e.stderr ?? "").trim() || "git exited with an error", options.auth.secrets);
    const lines = stderr.split("\n").filter((l) => l.trim() !== "");
    const detail = (lines.find((l) => /^fatal:/i.test(l)) ?? lines[lines.length - 1] ?? stderr).trim();
    if (/authentication failed|could not read (username|password)|terminal prompts disabled|permission denied \(publickey|invalid username or password|HTTP 401|HTTP 403|returned error: 40[13]/i.test(stderr)) {
      throw new FlotillaError({ code: "FLT-GIT-AUTH", message: `${options.what}: authentication failed (${detail})`, hint: "check the repository's named credential and that its token or key has read access" });
    }
    throw new FlotillaError({ code: "FLT-GIT-FETCH-FAILED", message: `${options.what}: ${detail}`, hint: "check the repository URL or path and that the controller can reach it" });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a mirror fetches: branches and tags, force-updated and pruned like `git clone --mirror`, but
 * not the host's other refs (GitHub's `refs/pull/*` can be thousands of refs of unmerged, foreign code).
 */
export const MIRROR_REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"] as const;

/** A repository's bare mirror. Syncs of one mirror never overlap within a process. */
export class Mirror {
  readonly gitDir: string;
  /** Replaced when the registration changes (URL, credentials); the mirror stays. */
  repository: MirrorRepository;
  private readonly env: NodeJS.ProcessEnv;
  private readonly policy: RepositoryPolicy;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(repository: MirrorRepository, options: MirrorOptions) {
    this.repository = repository;
    this.gitDir = mirrorPath(options.dataDir, repository.name);
    this.env = options.env ?? process.env;
    this.policy = options.policy;
  }

  /** Point the mirror's `origin` at the registered URL with the mirror refspecs (the URL may have changed since). */
  private async configure(gitDir: string, remote: string, git: (args: string[], cwd: string) => Promise<string>): Promise<void> {
    const get = (key: string) => git(["config", "--get-all", key], gitDir).then((o) => o.split("\n").filter(Boolean), () => [] as string[]);
    if ((await get("remote.origin.url"))[0] !== remote) await git(["config", "remote.origin.url", remote], gitDir);
    const specs = await get("remote.origin.fetch");
    if (specs.join("\n") !== MIRROR_REFSPECS.join("\n")) {
      if (specs.length) await git(["config", "--unset-all", "remote.origin.fetch"], gitDir);
      for (const spec of MIRROR_REFSPECS) await git(["config", "--add", "remote.origin.fetch", spec], gitDir);
    }
  }

  /** Make the mirror the first time (init + fetch), fetch with prune after; never a re-clone. */
  sync(): Promise<SyncResult> {
    const next = this.tail.then(() => this.syncNow());
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async syncNow(): Promise<SyncResult> {
    const auth = await gitAuth(this.repository, this.policy, this.env);
    const what = `fetching repository ${this.repository.name} (${redact(this.repository.url)})`;
    const git = (args: string[], cwd: string) => remoteGit(args, { cwd, auth, env: this.env, what });
    if (await exists(path.join(this.gitDir, "HEAD"))) {
      await this.configure(this.gitDir, auth.remote, git);
      await git(["fetch", "--prune", "--quiet", "origin"], this.gitDir);
      return { created: false, gitDir: this.gitDir };
    }
    // Made beside the final place and renamed, so a crash never leaves half a mirror that looks whole.
    await mkdir(path.dirname(this.gitDir), { recursive: true });
    const temp = `${this.gitDir}.partial`;
    await rm(temp, { recursive: true, force: true });
    try {
      await git(["init", "--quiet", "--bare", "--", temp], path.dirname(this.gitDir));
      await this.configure(temp, auth.remote, git);
      await git(["fetch", "--prune", "--quiet", "origin"], temp);
      await rm(this.gitDir, { recursive: true, force: true });
      await rename(temp, this.gitDir);
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
    return { created: true, gitDir: this.gitDir };
  }
}

/** The mirrors of the registered repositories: one per repository name, made on first use. */
export class Mirrors {
  private readonly mirrors = new Map<string, Mirror>();
  private readonly options: MirrorOptions;
  private readonly onCreated: ((repository: string, gitDir: string) => void) | undefined;

  constructor(options: MirrorOptions & { onCreated?: (repository: string, gitDir: string) => void }) {
    const { onCreated, ...mirror } = options;
    this.options = mirror;
    this.onCreated = onCreated;
  }

  /** The repository's mirror; it follows the registration's URL and credentials as they change. */
  of(repository: MirrorRepository): Mirror {
    let m = this.mirrors.get(repository.name);
    if (!m) {
      m = new Mirror(repository, this.options);
      this.mirrors.set(repository.name, m);
    } else m.repository = repository;
    return m;
  }

  /** Fetch the repository into its mirror (made the first time) and return the mirror's git directory. */
  async fetch(repository: MirrorRepository): Promise<string> {
    const result = await this.of(repository).sync();
    if (result.created) this.onCreated?.(repository.name, result.gitDir);
    return result.gitDir;
  }
}
