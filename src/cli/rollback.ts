/**
 * `flotilla rollback OBJECT`: deploy the previous revision, as a normal recorded deployment. With a
 * server configured (`--server` or `FLOTILLA_SERVER`), the server does it (`POST /api/v1/rollback`).
 */
import { rollbackObject } from "../controller/rollback.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, type CliIO, operatorName } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";
import { record } from "./apply.ts";
import { progressPrinter, resultLine } from "./progress.ts";
import { ApiClient, SERVER_OPTION, serverUrl } from "./api-client.ts";

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("rollback")
      .description("roll an object back to the revision it ran before its last successful update")
      .argument("<object>", "the deployment object (path prefix)")
      .option(...SERVER_OPTION)
      .option("-o, --output <format>", "text or json", "text"),
  ).action((object: string, flags: AwsOptions & { server?: string; output: string }) =>
    run(() => (serverUrl(io, flags.server) ? rollbackViaApi(io, object, flags) : rollback(io, object, flags))),
  );
};

async function rollbackViaApi(io: CliIO, object: string, flags: { server?: string; output: string }): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const d = await client.rollback(object);
  if (flags.output === "json") printJson(io, d);
  else {
    io.out(`rollback of ${d.object} started on ${client.base}: deployment ${d.id} (${d.phase})\n`);
    io.out(`follow it with: flotilla deployment watch ${d.id}\n`);
  }
  return EXIT.ok;
}

async function rollback(io: CliIO, object: string, flags: AwsOptions & { output: string }): Promise<number> {
  const ctx = await openContext(io, flags);
  try {
    const d = await rollbackObject(ctx.store, ctx.world.runner(flags.output === "json" ? {} : { onUpdate: progressPrinter(io, ctx.clock) }), object, operatorName(io), ctx.clock);
    if (flags.output === "json") printJson(io, record(d));
    else io.out(resultLine(io, d) + "\n");
    return d.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
  } finally {
    await ctx.close();
  }
}
