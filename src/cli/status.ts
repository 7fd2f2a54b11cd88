/**
 * `flotilla status`: the latest deployment of every object, and the deletes the controller holds
 * back. `flotilla history [OBJECT]`: past deployments and a timeline.
 */
import { strategyLabel } from "../config/strategy.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Deployment } from "../store/types.ts";
import { defaultMasker } from "../core/mask.ts";
import { FlotillaError } from "../core/problems.ts";
import { didYouMean } from "../core/suggest.ts";
import { pendingDeleteRecord } from "../store/record.ts";
import type { Store } from "../store/store.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { addStoreOptions, chosenStore, withStore } from "./context.ts";
import { printJson } from "./output.ts";
import { record } from "./apply.ts";
import { resultLine } from "./progress.ts";

type StoreFlags = { store?: string; rehearsal?: boolean };

export const register: RegisterCommand = (program, io, run) => {
  addStoreOptions(program.command("status").description("the latest deployment of every object, and the deletes held back"))
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: StoreFlags & { output: string }) => run(() => withStore(io, chosenStore(flags), (s) => status(io, s, flags.output))));
  addStoreOptions(
    program
      .command("history")
      .description("past deployments, newest first; with OBJECT, the timeline of its latest one")
      .argument("[object]", "a deployment object (path prefix)")
      .option("--limit <n>", "how many deployments", "20"),
  )
    .option("-o, --output <format>", "text or json", "text")
    .action((object: string | undefined, flags: StoreFlags & { output: string; limit: string }) => run(() => withStore(io, chosenStore(flags), (s) => history(io, s, object, flags))));
};


async function status(io: CliIO, store: Store, output: string): Promise<number> {
  const latest = (await store.latestPerObject()).sort((a, b) => a.object.localeCompare(b.object));
  const pending = await store.listPendingDeletes();
  if (output === "json") {
    printJson(io, { objects: latest.map(record), pendingDeletes: pending.map((p) => defaultMasker.answer(pendingDeleteRecord(p))) });
    return EXIT.ok;
  }
  if (latest.length === 0) io.out("no deployments recorded yet\n");
  else for (const d of latest) io.out(`${resultLine(io, d)} ${paint(io, "dim", `${strategyOfRecord(d)} · ${d.id} ${new Date(d.updatedAt).toISOString()}`)}\n`);
  if (pending.length) {
    io.out(`\n${paint(io, "bold", `pending deletes (${pending.length}): removed from the repository, the service still runs`)}\n`);
    for (const p of pending) {
      io.out(`${paint(io, "yellow", "[HELD]")} ${p.object} ${paint(io, "dim", `${p.repository}@${p.commitSha.slice(0, 12)} ${p.region}/${p.cluster}/${p.service}`)}\n`);
      io.out(`       ${defaultMasker.text(p.message)}\n`);
    }
  }
  return EXIT.ok;
}

async function history(io: CliIO, store: Store, object: string | undefined, flags: { output: string; limit: string }): Promise<number> {
  const page = await store.listDeployments({ ...(object ? { object } : {}), limit: Math.max(1, Number(flags.limit) || 20) });
  if (object && page.items.length === 0) {
    // An object the store has never deployed is unknown here (exit 2), like an unknown revision.
    const guess = didYouMean(object, (await store.latestPerObject()).map((d) => d.object));
    throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no deployments of ${object} are recorded`, hint: guess ? `did you mean "${guess}"?` : "`flotilla status` lists the objects with deployments" });
  }
  const timeline = object && page.items[0] ? await store.listEvents(page.items[0].id) : [];
  if (flags.output === "json") {
    printJson(io, { deployments: page.items.map(record), ...(object ? { timeline: timeline.map((e) => ({ at: new Date(e.at).toISOString(), type: e.type, message: defaultMasker.text(e.message) })) } : {}) });
    return EXIT.ok;
  }
  if (page.items.length === 0) io.out("no deployments recorded yet\n");
  for (const d of page.items) io.out(`${paint(io, "dim", new Date(d.createdAt).toISOString())} ${resultLine(io, d)}\n`);
  if (timeline.length) {
    io.out(`\n${paint(io, "bold", `timeline of ${page.items[0]!.id}`)}\n`);
    for (const e of timeline) io.out(`  ${paint(io, "dim", new Date(e.at).toISOString().slice(11, 19))} ${e.type.padEnd(24)} ${defaultMasker.text(e.message)}\n`);
  }
  return EXIT.ok;
}

/** The deployment's strategy in words, with the svcdef's ECS strategy when it has one ("ECS-managed LINEAR"). */
function strategyOfRecord(d: Deployment): string {
  return strategyLabel(d.strategy, (d.machineState as { spec?: DeploySpec } | undefined)?.spec?.svcdef);
}
