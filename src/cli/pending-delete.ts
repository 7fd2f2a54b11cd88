/**
 * `flotilla pending-delete list|confirm|dismiss`: the deletes the controller held back (deletes off,
 * the mass-delete guard, an unreadable object), through the API of `flotilla serve`. `confirm`
 * carries one out as a recorded delete deployment; `dismiss` keeps the service and forgets the
 * delete. Both need an operator token and are audited with its name.
 */
import { ApiClient, SERVER_OPTION, table } from "./api-client.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

type Flags = { server?: string; output: string };

export const register: RegisterCommand = (program, io, run) => {
  const pending = program.command("pending-delete").description("deletes the controller held back: list, confirm (delete the service), dismiss (keep it)");
  pending
    .command("list")
    .description("the pending deletes, with why each waits")
    .option("--repository <name>", "of this repository")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: Flags & { repository?: string }) => run(() => list(io, flags)));
  pending
    .command("confirm")
    .description("delete the service now, as a recorded delete deployment")
    .argument("<repo>", "the repository name")
    .argument("<object>", "the removed object (e.g. dev/web/web)")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, object: string, flags: Flags) => run(() => confirm(io, repo, object, flags)));
  pending
    .command("dismiss")
    .description("keep the service and forget the delete (Flotilla no longer manages it)")
    .argument("<repo>", "the repository name")
    .argument("<object>", "the removed object")
    .option(...SERVER_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((repo: string, object: string, flags: Flags) => run(() => dismiss(io, repo, object, flags)));
};

async function list(io: CliIO, flags: Flags & { repository?: string }): Promise<number> {
  const { items } = await ApiClient.from(io, flags.server).listPendingDeletes(flags.repository);
  if (flags.output === "json") printJson(io, { items });
  else if (items.length === 0) io.out("no pending deletes\n");
  else {
    io.out(table(["REPOSITORY", "OBJECT", "SERVICE", "REASON", "COMMIT", "HELD"], items.map((p) => [p.repository, p.object, `${p.region}/${p.cluster}/${p.service}`, p.reason, p.commitSha.slice(0, 12), p.heldAt]), (s) => paint(io, "bold", s)));
    for (const p of items) io.out(paint(io, "dim", `${p.object}: ${p.message}`) + "\n");
  }
  return EXIT.ok;
}

async function confirm(io: CliIO, repo: string, object: string, flags: Flags): Promise<number> {
  const d = await ApiClient.from(io, flags.server).confirmPendingDelete(repo, object);
  if (flags.output === "json") printJson(io, d);
  else {
    io.out(`${paint(io, "red", "delete")} of ${d.object} (${d.region}/${d.cluster}/${d.service}) started: deployment ${d.id}\n`);
    io.out(paint(io, "dim", `follow it with: flotilla deployment watch ${d.id}`) + "\n");
  }
  return EXIT.ok;
}

async function dismiss(io: CliIO, repo: string, object: string, flags: Flags): Promise<number> {
  const p = await ApiClient.from(io, flags.server).dismissPendingDelete(repo, object);
  if (flags.output === "json") printJson(io, p);
  else io.out(`dismissed: ${p.object} (${p.region}/${p.cluster}/${p.service}) keeps running; Flotilla no longer deletes it\n`);
  return EXIT.ok;
}
