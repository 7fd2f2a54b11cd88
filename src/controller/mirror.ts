/**
 * One persistent bare mirror per registered repository, under `<dataDir>/mirrors/<safe-name>.git`:
 * made once (a bare repository whose origin fetches every branch and tag, as `git clone --mirror`
 * would, minus the host's pull-request refs), then `git fetch --prune`: never a re-clone.
 *
 * Credentials reach git through git's own mechanisms, from the repository's reference (never the
 * secret itself): `env` — a token in an environment variable, handed over by an inline credential
 * helper that reads the variable, so the token is in no argv, file, store row or message; `file` —
 * an SSH key (`GIT_SSH_COMMAND`) or, for an http(s) URL, a file holding a token; `helper` — a git
 * credential helper. `GIT_TERMINAL_PROMPT=0` makes a missing credential fail instead of hanging.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { FlotillaError } from "../core/problems.ts";
import type { CredentialsRef, Repository } from "../store/types.ts";

const MAX_BUFFER = 64 * 1024 * 1024;
const run = promisify(execFile);

/** What `git` needs to authenticate: extra environment and `-c` configuration (no secrets in either). */
export interface GitAuth {
  env: Record<string, string>;
  /** `-c key=value` pairs, placed before the subcommand. */
  config: string[];
  /** Values to scrub from any message (the token itself, defence in depth). */
  secrets: string[];
}

export interface MirrorOptions {
  /** Flotilla's data directory; mirrors live in `<dataDir>/mirrors/`. */
  dataDir: string;
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

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/\\]+@[^/:]+:/.test(url);
}

/** Single-quote for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment and configuration git gets for a credentials reference. Throws
 * FLT-GIT-CREDENTIALS when the reference cannot be resolved (an unset variable, a missing file).
 */
export async function gitAuth(ref: CredentialsRef | null, url: string, env: NodeJS.ProcessEnv = process.env): Promise<GitAuth> {
  // No prompt of any kind: not on a terminal, and not through an askpass program the host may set
  // (an empty GIT_ASKPASS stops git's askpass lookup; it does not fall through to SSH_ASKPASS).
  const auth: GitAuth = { env: { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "" }, config: [], secrets: [] };
  // Never wait for a passphrase or a host-key answer: fail instead.
  if (!env["GIT_SSH_COMMAND"]) auth.env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new";
  if (!ref) return auth;
  switch (ref.kind) {
    case "env": {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.name)) throw credentials(`"${ref.name}" is not an environment variable name`);
      const token = env[ref.name];
      if (!token) throw credentials(`the environment variable ${ref.name} that holds this repository's token is not set`, `export ${ref.name}=<token> in the controller's environment`);
      auth.secrets.push(token);
      // The helper reads the variable when git asks: only its *name* is on the command line.
      auth.config.push("credential.helper=", `credential.helper=!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' "\${FLOTILLA_GIT_USERNAME:-x-access-token}" "$${ref.name}"; }; f`);
      return auth;
    }
    case "file": {
      const file = path.resolve(ref.path);
      try {
        await access(file);
      } catch {
        throw credentials(`the credentials file ${file} does not exist or cannot be read`);
      }
      if (isHttpUrl(url)) {
        auth.config.push("credential.helper=", `credential.helper=!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' "\${FLOTILLA_GIT_USERNAME:-x-access-token}" "$(cat ${shellQuote(file)})"; }; f`);
      } else {
        auth.env["GIT_SSH_COMMAND"] = `ssh -i ${shellQuote(file)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`;
      }
      return auth;
    }
    case "helper":
      if (!ref.helper.trim()) throw credentials("the credential helper reference is empty");
      auth.config.push("credential.helper=", `credential.helper=${ref.helper}`);
      return auth;
    default:
      throw credentials(`unknown credentials kind "${(ref as { kind: string }).kind}"`);
  }
}

function credentials(message: string, hint = "fix the repository's credentials reference"): FlotillaError {
  return new FlotillaError({ code: "FLT-GIT-CREDENTIALS", message, hint });
}

/** The arguments git runs with: `-c` configuration first, then the command. */
export function gitArgs(auth: GitAuth, args: readonly string[]): string[] {
  return [...auth.config.flatMap((c) => ["-c", c]), ...args];
}

/** Run git with the auth's configuration; failures become FlotillaErrors with redacted messages. */
export async function runGit(args: readonly string[], options: { cwd?: string; auth: GitAuth; env?: NodeJS.ProcessEnv; what: string }): Promise<string> {
  const env = { ...(options.env ?? process.env), ...options.auth.env };
  try {
    const { stdout } = await run("git", gitArgs(options.auth, args), { cwd: options.cwd, env, maxBuffer: MAX_BUFFER, encoding: "utf8" });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number; message: string };
    if (err.code === "ENOENT") throw new FlotillaError({ code: "FLT-GIT-FAILED", message: "git is not installed or not on PATH", hint: "install git (apt-get install git)" });
    const stderr = redact((err.stderr ?? "").trim() || "git exited with an error", options.auth.secrets);
    const lines = stderr.split("\n").filter((l) => l.trim() !== "");
    const detail = (lines.find((l) => /^fatal:/i.test(l)) ?? lines[lines.length - 1] ?? stderr).trim();
    if (/authentication failed|could not read (username|password)|terminal prompts disabled|permission denied \(publickey|invalid username or password|HTTP 401|HTTP 403|returned error: 40[13]/i.test(stderr)) {
      throw new FlotillaError({ code: "FLT-GIT-AUTH", message: `${options.what}: authentication failed (${detail})`, hint: "check the repository's credentials reference and that the token or key has read access" });
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
  /** Replaced by `update` when the registration changes (URL, credentials); the mirror stays. */
  repository: Pick<Repository, "name" | "url" | "credentials">;
  private readonly env: NodeJS.ProcessEnv;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(repository: Pick<Repository, "name" | "url" | "credentials">, options: MirrorOptions) {
    this.repository = repository;
    this.gitDir = mirrorPath(options.dataDir, repository.name);
    this.env = options.env ?? process.env;
  }

  /** The URL git fetches from: a remote URL as given, a local path made absolute. */
  get remote(): string {
    const url = this.repository.url;
    return isRemoteUrl(url) || url.startsWith("file:") ? url : path.resolve(url);
  }

  /** Point the mirror's `origin` at the registered URL with the mirror refspecs (the URL may have changed since). */
  private async configure(gitDir: string, git: (args: string[], cwd: string) => Promise<string>): Promise<void> {
    const get = (key: string) => git(["config", "--get-all", key], gitDir).then((o) => o.split("\n").filter(Boolean), () => [] as string[]);
    if ((await get("remote.origin.url"))[0] !== this.remote) await git(["config", "remote.origin.url", this.remote], gitDir);
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
    const auth = await gitAuth(this.repository.credentials, this.repository.url, this.env);
    const what = `fetching repository ${this.repository.name} (${redact(this.repository.url)})`;
    const git = (args: string[], cwd: string) => runGit(args, { cwd, auth, env: this.env, what });
    if (await exists(path.join(this.gitDir, "HEAD"))) {
      await this.configure(this.gitDir, git);
      await git(["fetch", "--prune", "--quiet", "origin"], this.gitDir);
      return { created: false, gitDir: this.gitDir };
    }
    // Made beside the final place and renamed, so a crash never leaves half a mirror that looks whole.
    await mkdir(path.dirname(this.gitDir), { recursive: true });
    const temp = `${this.gitDir}.partial`;
    await rm(temp, { recursive: true, force: true });
    try {
      await git(["init", "--quiet", "--bare", "--", temp], path.dirname(this.gitDir));
      await this.configure(temp, git);
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
