/**
 * `flotilla repo add|update|list|remove`: the repositories `flotilla serve` watches, through its API.
 * The URL, branch, sub-path and credential name are checked here first (the same rules the server
 * applies, less its configuration), so a refused form never leaves the machine; a relative local path
 * is made absolute against the working directory.
 */
import path from "node:path";
import { checkBranch, checkSubPath, isLocalForm, parseRepositoryUrl } from "../controller/repository-policy.ts";
import { FlotillaError } from "../core/problems.ts";
import { CREDENTIAL_NAME } from "../store/validate.ts";
import { ApiClient, SERVER_OPTION, table, type RepositoryInfo } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

interface UpdateFlags {
  server?: string;
  url?: string;
  branch?: string;
  path?: string;
  root?: boolean;
  poll?: string;
  /** A name, or false for --no-credentials (commander's negation). */
  credentials?: string | boolean;
  output: string;
}

interface AddFlags {
  server?: string;
  branch: string;
  path?: string;
  poll?: string;
  credentials?: string;
  output: string;
}

export const register: RegisterCommand = (program, io, run) => {
  const repo = program.command("repo").description("the Git repositories the server watches (through the API of `flotilla serve`)");
  repo
    .command("add")
    .description("register a repository: the server deploys each new commit of its branch")
    .argument("<name>", "a name for the repository ([A-Za-z0-9][A-Za-z0-9._-]*)")
    .argument("<url>", "https:// or ssh URL (git@host:org/repo.git), or a local path under the server's allowedLocalRoots; never with a password in it")
    .option("--branch <branch>", "the branch to deploy", "main")
    .option("--path <sub>", "sub-directory holding the objects")
    .option("--poll <seconds>", "poll interval in seconds")
    .option("--credentials <name>", "a credential defined in the server configuration (never a secret)")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, url: string, flags: AddFlags) => run(() => add(io, name, url, flags)));
  repo
    .command("update")
    .description("change a registered repository (its mirror and processed commits stay)")
    .argument("<name>", "the repository")
    .option("--url <url>", "a new URL or local path")
    .option("--branch <branch>", "a new branch")
    .option("--path <sub>", "a new sub-directory holding the objects")
    .option("--root", "objects are at the repository's root (clears --path)")
    .option("--poll <seconds>", "a new poll interval in seconds")
    .option("--credentials <name>", "a credential defined in the server configuration")
    .option("--no-credentials", "use no credential")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, flags: UpdateFlags) => run(() => update(io, name, flags)));
  repo
    .command("list")
    .description("the registered repositories and their last processed commit")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: { server?: string; output: string }) => run(() => list(io, flags)));
  repo
    .command("remove")
    .description("stop watching a repository (its deployments stay recorded)")
    .argument("<name>", "the repository")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, flags: { server?: string; output: string }) => run(() => remove(io, name, flags)));
};

/** A credential name as the server configuration defines it; the value itself is never echoed (it may be a secret pasted by mistake). */
export function credentialName(name: string): string {
  if (CREDENTIAL_NAME.test(name)) return name;
  throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--credentials takes the name of a credential defined in the server configuration (the value given is not echoed: it may be a secret)", hint: "credentials and the hosts they may be sent to are defined by the server's operator (serve --config); see docs/security.md" });
}

/** The URL as the server should see it: the same form checks, a relative local path made absolute. */
function repositoryUrl(io: CliIO, url: string): string {
  const given = isLocalForm(url) && !path.isAbsolute(url) && !url.startsWith("-") ? path.resolve(io.cwd, url) : url;
  parseRepositoryUrl(given);
  return given;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `${flag} must be a whole number of at least 1, not ${value}` });
  return n;
}

function describeCredentials(c: RepositoryInfo["credentials"]): string {
  if (!c) return "-";
  if (typeof c === "string") return c;
  return `${c.kind === "env" ? `env:${c.name}` : c.kind === "file" ? `file:${c.path}` : `helper:${c.helper}`} (old reference, refused: set a named credential)`;
}

async function add(io: CliIO, name: string, url: string, flags: AddFlags): Promise<number> {
  const body = {
    name,
    url: repositoryUrl(io, url),
    branch: flags.branch,
    ...(flags.path ? { path: flags.path } : {}),
    ...(flags.poll !== undefined ? { pollIntervalSeconds: positiveInt("--poll", flags.poll) } : {}),
    ...(flags.credentials ? { credentials: credentialName(flags.credentials) } : {}),
  };
  checkBranch(body.branch);
  checkSubPath(body.path);
  const r = await ApiClient.from(io, flags.server).addRepository(body);
  if (flags.output === "json") printJson(io, r);
  else io.out(`${paint(io, "green", "added")} ${r.name}: ${r.url} ${r.branch}${r.path ? ` (${r.path})` : ""}, polled every ${r.pollIntervalSeconds}s\n`);
  return EXIT.ok;
}

async function update(io: CliIO, name: string, flags: UpdateFlags): Promise<number> {
  if (flags.root && flags.path !== undefined) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--root and --path cannot both be given" });
  const patch: { url?: string; branch?: string; path?: string | null; pollIntervalSeconds?: number; credentials?: string | null } = {
    ...(flags.url !== undefined ? { url: repositoryUrl(io, flags.url) } : {}),
    ...(flags.branch !== undefined ? { branch: flags.branch } : {}),
    ...(flags.path !== undefined ? { path: flags.path } : flags.root ? { path: null } : {}),
    ...(flags.poll !== undefined ? { pollIntervalSeconds: positiveInt("--poll", flags.poll) } : {}),
    ...(typeof flags.credentials === "string" ? { credentials: credentialName(flags.credentials) } : flags.credentials === false ? { credentials: null } : {}),
  };
  if (Object.keys(patch).length === 0) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "nothing to change: give --url, --branch, --path, --root, --poll, --credentials or --no-credentials" });
  if (patch.branch !== undefined) checkBranch(patch.branch);
  checkSubPath(patch.path);
  const r = await ApiClient.from(io, flags.server).updateRepository(name, patch);
  if (flags.output === "json") printJson(io, r);
  else io.out(`${paint(io, "green", "updated")} ${r.name}: ${r.url} ${r.branch}${r.path ? ` (${r.path})` : ""}, credentials ${describeCredentials(r.credentials)}\n`);
  return EXIT.ok;
}

async function list(io: CliIO, flags: { server?: string; output: string }): Promise<number> {
  const { items } = await ApiClient.from(io, flags.server).listRepositories();
  if (flags.output === "json") {
    printJson(io, { items });
    return EXIT.ok;
  }
  if (items.length === 0) {
    io.out("no repositories registered; add one with `flotilla repo add NAME URL`\n");
    return EXIT.ok;
  }
  const rows = items.map((r) => [r.name, r.branch, r.path ?? "-", `${r.pollIntervalSeconds}s`, describeCredentials(r.credentials), r.lastCommit ? `${r.lastCommit.sha.slice(0, 12)} ${r.lastCommit.processedAt}` : "-", r.url]);
  io.out(table(["NAME", "BRANCH", "PATH", "POLL", "CREDENTIALS", "LAST COMMIT", "URL"], rows, (s) => paint(io, "bold", s)));
  return EXIT.ok;
}

async function remove(io: CliIO, name: string, flags: { server?: string; output: string }): Promise<number> {
  await ApiClient.from(io, flags.server).removeRepository(name);
  if (flags.output === "json") printJson(io, { removed: name });
  else io.out(`${paint(io, "yellow", "removed")} ${name}\n`);
  return EXIT.ok;
}
