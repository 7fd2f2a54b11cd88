/**
 * `flotilla window list|release`: the sync windows of `flotilla serve` (open or closed now, what they
 * cover) and the commits they hold; `release` lets a held commit deploy now, as an override recorded
 * with the operator token's name (docs/controller.md, Sync windows).
 */
import { ApiClient, SERVER_OPTION, table } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

type Flags = { server?: string; output: string };

export const register: RegisterCommand = (program, io, run) => {
  const window = program.command("window").description("sync windows: when commits may deploy, and the commits they hold");
  window
    .command("list")
    .description("the sync windows, open or closed now, and the commits that wait")
    .option("--repository <name>", "only the commits of this repository")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: Flags & { repository?: string }) => run(() => list(io, flags)));
  window
    .command("release")
    .description("let the commit a sync window holds deploy now (an override, recorded with your token's name)")
    .argument("<repo>", "the repository name")
    .argument("[sha]", "the held commit (full or at least 7 hex digits), to be sure it is the one")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, sha: string | undefined, flags: Flags) => run(() => release(io, repo, sha, flags)));
};

async function list(io: CliIO, flags: Flags & { repository?: string }): Promise<number> {
  const answer = await ApiClient.from(io, flags.server).syncWindows(flags.repository);
  if (flags.output === "json") {
    printJson(io, answer);
    return EXIT.ok;
  }
  const covers = (w: (typeof answer.windows)[number]) =>
    [w.repositories.length ? `repositories ${w.repositories.join(",")}` : "", w.objects.length ? `objects ${w.objects.join(",")}` : "", w.regions.length ? `regions ${w.regions.join(",")}` : "", w.clusters.length ? `clusters ${w.clusters.join(",")}` : "", w.accounts.length ? `accounts ${w.accounts.join(",")}` : ""].filter(Boolean).join("; ") || "everything";
  if (answer.windows.length === 0) io.out("no sync windows: commits deploy at any time\n");
  else
    io.out(
      table(
        ["WINDOW", "KIND", "NOW", "UNTIL", "SCHEDULE", "COVERS"],
        answer.windows.map((w) => [w.name, w.kind, w.open ? "open" : "closed", w.nextChange ?? "-", `${w.schedule} ${w.timeZone} for ${w.durationSeconds}s`, covers(w)]),
        (s) => paint(io, "bold", s),
      ),
    );
  if (answer.waiting.length === 0) io.out("no commit waits\n");
  else {
    io.out("\n" + table(["REPOSITORY", "COMMIT", "SINCE", "UNTIL", "RELEASED BY"], answer.waiting.map((c) => [c.repository, c.sha.slice(0, 12), c.since, c.until ?? "-", c.releasedBy ?? "-"]), (s) => paint(io, "bold", s)));
    for (const c of answer.waiting) io.out(paint(io, "dim", `${c.repository}@${c.sha.slice(0, 7)}: ${c.message}`) + "\n");
  }
  return EXIT.ok;
}

async function release(io: CliIO, repo: string, sha: string | undefined, flags: Flags): Promise<number> {
  const c = await ApiClient.from(io, flags.server).releaseWaitingCommit(repo, sha);
  if (flags.output === "json") printJson(io, c);
  else io.out(`released ${c.repository}@${c.sha.slice(0, 12)} (held by ${c.windows.map((w) => `${w.kind} window ${w.name}`).join(", ")}): it deploys now, recorded as an override by ${c.releasedBy ?? "you"}\n`);
  return EXIT.ok;
}
