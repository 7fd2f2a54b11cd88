/**
 * The one place Flotilla starts git. Everything else builds argv (revisions always after
 * `--end-of-options`) and turns a failure into its own problem code; this module runs the process,
 * with the environment it is given, and says how it ended. A repository's remote is fetched with
 * `gitEnvironment()`: no inherited `GIT_*` setting may change what git does or prints.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promisify } from "node:util";
import { FlotillaError } from "../core/problems.ts";

const run = promisify(execFile);

/** Output larger than this fails the command rather than filling memory (a tree listing of a huge repository). */
const DEFAULT_MAX_BUFFER = 512 * 1024 * 1024;

export interface GitRunOptions {
  /** Where git runs (a working tree or a bare repository). */
  cwd?: string | undefined;
  /** The whole environment git runs with (default: this process's). */
  env?: NodeJS.ProcessEnv | undefined;
  maxBuffer?: number;
}

/** git ran and exited with an error: callers decide what it means (unknown revision, authentication, ...). */
export class GitExit extends Error {
  /** The exit status, or a Node error code (a signal, the output limit). */
  readonly exitCode: number | string | undefined;
  /** What git printed on standard error (undefined when it never ran far enough to print). */
  readonly stderr: string | undefined;
  constructor(message: string, exitCode: number | string | undefined, stderr: string | undefined) {
    super(message);
    this.name = "GitExit";
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

function notInstalled(): FlotillaError {
  return new FlotillaError({ code: "FLT-GIT-FAILED", message: "git is not installed or not on PATH", hint: "install git (apt-get install git)" });
}

/** Run git to its end and return its standard output; a failure is a GitExit (or FLT-GIT-FAILED when git cannot start). */
export async function runGit(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER, encoding: "utf8" });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; code?: string | number; message: string };
    if (err.code === "ENOENT") throw notInstalled();
    throw new GitExit(err.message, err.code, err.stderr);
  }
}

/** The exit status of a plumbing command that answers yes (0) or no (1) that way (`merge-base --is-ancestor`, `cat-file -e`). */
export async function gitExitCode(args: readonly string[], options: GitRunOptions = {}): Promise<number> {
  try {
    await runGit(args, options);
    return 0;
  } catch (e) {
    if (e instanceof GitExit && typeof e.exitCode === "number") return e.exitCode;
    if (e instanceof GitExit) throw new FlotillaError({ code: "FLT-GIT-FAILED", message: `git ${args[0]} failed: ${e.message}` });
    throw e;
  }
}

/** Start a long-lived git process spoken to over its standard input (`cat-file --batch`). */
export function spawnGit(args: readonly string[], options: Pick<GitRunOptions, "cwd" | "env"> = {}): ChildProcessWithoutNullStreams {
  return spawn("git", args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
}

/** Inherited `GIT_*` variables git may keep: where its configuration and programs are, TLS trust, proxies. */
const KEPT_GIT_VARIABLES = new Set(["GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_EXEC_PATH", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_HTTP_USER_AGENT", "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_PROXY_SSL_CAINFO"]);

/**
 * The environment git fetches a remote with: the server's, less every `GIT_*` setting that could
 * change what git does or prints (GIT_SSH_COMMAND, GIT_CONFIG_*, GIT_DIR, GIT_TRACE_CURL, ...), plus `extra`.
 */
export function gitEnvironment(base: NodeJS.ProcessEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith("GIT_") || KEPT_GIT_VARIABLES.has(k)) env[k] = v;
  delete env["SSH_ASKPASS"];
  delete env["SSH_AUTH_SOCK"];
  return { ...env, ...extra };
}
