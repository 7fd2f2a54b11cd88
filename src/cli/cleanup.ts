/**
 * `flotilla cleanup OBJECT [--dry-run]`: remove the versions of a rainbow object that its cleanup
 * policy lets go (never the live one, a protected or an excluded one): their rules, services and
 * target groups. `--dry-run` lists what would go and why the others stay. With a server configured
 * the server does it (`POST /api/v1/cleanup`).
 */
import type { CleanupPlanAnswer } from "../api/types.ts";
import { createCleanup, planCleanup } from "../controller/rainbow.ts";
import { ApiClient, SERVER_OPTION, serverUrl } from "./api-client.ts";
import { record } from "./apply.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, operatorName, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";
import { progressPrinter, resultLine } from "./progress.ts";

interface Flags extends AwsOptions {
  server?: string;
  output: string;
  dryRun: boolean;
}

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("cleanup")
      .description("remove the versions of a rainbow object that its cleanup policy lets go")
      .argument("<object>", "the deployment object (path prefix)")
      .option("--dry-run", "list what would be removed and why the rest stays; change nothing", false)
      .option(...SERVER_OPTION)
      .option("-o, --output <format>", "text or json", "text"),
  ).action((object: string, flags: Flags) => run(() => (serverUrl(io, flags.server) ? viaApi(io, object, flags) : local(io, object, flags))));
};

function printPlan(io: CliIO, plan: CleanupPlanAnswer, json: boolean): void {
  if (json) return printJson(io, { dryRun: true, ...plan });
  io.out(`cleanup of ${plan.object} (dry run: nothing is changed)\n`);
  io.out(`  would remove: ${plan.remove.join(", ") || "nothing"}\n`);
  for (const k of plan.kept) io.out(`  keeps ${k.version}: ${k.why}\n`);
}

async function viaApi(io: CliIO, object: string, flags: Flags): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  if (flags.dryRun) {
    printPlan(io, await client.planCleanup(object), flags.output === "json");
    return EXIT.ok;
  }
  const d = await client.cleanup(object);
  if (flags.output === "json") printJson(io, d);
  else io.out(`cleanup of ${d.object} started on ${client.base}: deployment ${d.id} (${d.phase})\nfollow it with: flotilla deployment watch ${d.id}\n`);
  return EXIT.ok;
}

async function local(io: CliIO, object: string, flags: Flags): Promise<number> {
  const ctx = await openContext(io, flags);
  try {
    if (flags.dryRun) {
      printPlan(io, await planCleanup(ctx.store, ctx.aws, object, ctx.clock.now()), flags.output === "json");
      return EXIT.ok;
    }
    const runner = ctx.world.runner(flags.output === "json" ? {} : { onUpdate: progressPrinter(io, ctx.clock) });
    const d = await runner.run(await createCleanup({ store: ctx.store, runner, clock: ctx.clock, requestedBy: operatorName(io), source: "cli" }, object));
    if (flags.output === "json") printJson(io, record(d));
    else io.out(resultLine(io, d) + "\n");
    return d.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
  } finally {
    await ctx.close();
  }
}
