/**
 * `flotilla cutover OBJECT VERSION`: make a deployed version of a rainbow object live — scale it to
 * the live version's count, wait for healthy targets, switch the live route in one call per listener
 * and read it back, then watch the alarms. Cutting back is the same verb with the older version.
 * With a server configured (`--server` or `FLOTILLA_SERVER`) the server does it (`POST /api/v1/cutover`).
 */
import { createCutover, listVersions } from "../controller/rainbow.ts";
import { FlotillaError } from "../core/problems.ts";
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
      .command("cutover")
      .description("make VERSION of a rainbow object live (and cut back to an older one the same way)")
      .argument("<object>", "the deployment object (path prefix)")
      .argument("<version>", "the deployed version to make live")
      .option("--dry-run", "say what the cutover would do; change nothing", false)
      .option(...SERVER_OPTION)
      .option("-o, --output <format>", "text or json", "text"),
  ).action((object: string, version: string, flags: Flags) => run(() => (serverUrl(io, flags.server) && !flags.dryRun ? viaApi(io, object, version, flags) : local(io, object, version, flags))));
};

async function viaApi(io: CliIO, object: string, version: string, flags: Flags): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const d = await client.cutover(object, version);
  if (flags.output === "json") printJson(io, d);
  else io.out(`cutover of ${d.object} to ${version} started on ${client.base}: deployment ${d.id} (${d.phase})\nfollow it with: flotilla deployment watch ${d.id}\n`);
  return EXIT.ok;
}

async function local(io: CliIO, object: string, version: string, flags: Flags): Promise<number> {
  const ctx = await openContext(io, flags);
  try {
    if (flags.dryRun) {
      const { versions } = await listVersions(ctx.store, ctx.aws, object);
      const target = versions.find((v) => v.version === version);
      if (!target || target.status !== "ACTIVE") throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `version ${version} of ${object} is not deployed${target ? ` (its service is ${target.status})` : ""}`, hint: `deployed versions: ${versions.map((v) => v.version).join(", ") || "none"}` });
      const live = versions.filter((v) => v.live);
      const scale = Math.max(0, ...live.map((v) => v.desired ?? 0));
      const plan = { object, version, live: live.map((v) => v.version), alreadyLive: target.live, scaleFrom: target.desired, scaleTo: Math.max(scale, target.desired ?? 0), url: target.url };
      if (flags.output === "json") printJson(io, plan);
      else if (target.live) io.out(`${version} is already live: nothing would change\n`);
      else io.out(`would cut ${object} over from ${plan.live.join(", ") || "nothing live"} to ${version}${plan.scaleTo !== target.desired ? `, scaling it from ${target.desired} to ${plan.scaleTo} tasks first` : ""} (dry run: nothing is changed)\n`);
      return EXIT.ok;
    }
    const runner = ctx.world.runner(flags.output === "json" ? {} : { onUpdate: progressPrinter(io, ctx.clock) });
    const created = await createCutover({ store: ctx.store, runner, clock: ctx.clock, requestedBy: operatorName(io), source: "cli" }, object, version);
    const d = await runner.run(created);
    if (flags.output === "json") printJson(io, record(d));
    else io.out(resultLine(io, d) + "\n");
    return d.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
  } finally {
    await ctx.close();
  }
}
