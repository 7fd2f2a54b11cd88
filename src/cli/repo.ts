/** `flotilla repo add|list|remove`: the repositories `flotilla serve` watches, through its API. */
import { FlotillaError } from "../core/problems.ts";
import { ApiClient, SERVER_OPTION, table, type RepositoryInfo } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

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
    .argument("<url>", "remote URL or local path (never with a password in it)")
    .option("--branch <branch>", "the branch to deploy", "main")
    .option("--path <sub>", "sub-directory holding the objects")
    .option("--poll <seconds>", "poll interval in seconds")
    .option("--credentials <ref>", "env:VAR, file:PATH or helper:NAME (a reference, resolved by the server)")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, url: string, flags: AddFlags) => run(() => add(io, name, url, flags)));
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

export function parseCredentials(ref: string): NonNullable<RepositoryInfo["credentials"]> {
  const colon = ref.indexOf(":");
  const kind = colon < 0 ? "" : ref.slice(0, colon);
  const value = colon < 0 ? "" : ref.slice(colon + 1);
  if (value !== "") {
    if (kind === "env") return { kind: "env", name: value };
    if (kind === "file") return { kind: "file", path: value };
    if (kind === "helper") return { kind: "helper", helper: value };
  }
  throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--credentials must be env:VAR, file:PATH or helper:NAME (the value given is not echoed: it may be a secret)", hint: "credentials are references the server resolves; never pass a secret itself" });
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `${flag} must be a whole number of at least 1, not ${value}` });
  return n;
}

function describeCredentials(c: RepositoryInfo["credentials"]): string {
  if (!c) return "-";
  return c.kind === "env" ? `env:${c.name}` : c.kind === "file" ? `file:${c.path}` : `helper:${c.helper}`;
}

async function add(io: CliIO, name: string, url: string, flags: AddFlags): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const r = await client.addRepository({
    name,
    url,
    branch: flags.branch,
    ...(flags.path ? { path: flags.path } : {}),
    ...(flags.poll !== undefined ? { pollIntervalSeconds: positiveInt("--poll", flags.poll) } : {}),
    ...(flags.credentials ? { credentials: parseCredentials(flags.credentials) } : {}),
  });
  if (flags.output === "json") printJson(io, r);
  else io.out(`${paint(io, "green", "added")} ${r.name}: ${r.url} ${r.branch}${r.path ? ` (${r.path})` : ""}, polled every ${r.pollIntervalSeconds}s\n`);
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
