/**
 * `flotilla drift`: where what runs differs from what Git says, as `flotilla serve` last checked it
 * (docs/controller.md, Drift) — per object its status, the reasons and the normalised diffs, masked.
 * `--check` asks the server to check now (operator token; self-heal runs where it is on).
 */
import { ApiClient, SERVER_OPTION, table } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

interface Flags {
  server?: string;
  output: string;
  repository?: string;
  all: boolean;
  check: boolean;
}

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("drift")
    .description("objects whose running service differs from Git (as flotilla serve last checked), with the diffs")
    .option("--repository <name>", "of this repository")
    .option("--all", "also the objects in sync", false)
    .option("--check", "check now instead of showing the last check (operator token)", false)
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: Flags) => run(() => drift(io, flags)));
};

async function drift(io: CliIO, flags: Flags): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const { items } = flags.check ? await client.checkDrift(flags.repository) : await client.listDrift(flags.repository ? { repository: flags.repository } : {});
  const shown = flags.all ? items : items.filter((d) => d.status !== "in-sync");
  if (flags.output === "json") {
    printJson(io, { items: shown });
    return EXIT.ok;
  }
  if (shown.length === 0) {
    io.out(items.length ? `no drift: ${items.length} object${items.length === 1 ? "" : "s"} match Git\n` : "nothing checked yet\n");
    return EXIT.ok;
  }
  const color = (s: string) => (s === "in-sync" ? paint(io, "green", s) : s === "unknown" ? paint(io, "yellow", s) : paint(io, "red", s));
  io.out(
    table(
      ["REPOSITORY", "OBJECT", "STATUS", "SINCE", "CHECKED", "SELF-HEAL"],
      shown.map((d) => [d.repository, d.object, color(d.status), d.detectedAt ?? "-", d.checkedAt, d.healDeploymentId ?? "-"]),
      (s) => paint(io, "bold", s),
    ),
  );
  for (const d of shown.filter((x) => x.status !== "in-sync")) {
    io.out(`\n${paint(io, "bold", `${d.object}`)} (${d.region}/${d.cluster}/${d.service}, Git ${d.sha.slice(0, 7)}): ${d.reasons.join("; ") || d.message || d.status}\n`);
    if (d.message && d.reasons.length) io.out(paint(io, "dim", d.message) + "\n");
    for (const diff of [d.diff.service, d.diff.taskDefinition]) if (diff.changed && diff.text) io.out(diff.text.endsWith("\n") ? diff.text : `${diff.text}\n`);
  }
  return EXIT.ok;
}
