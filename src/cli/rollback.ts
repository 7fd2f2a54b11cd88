/** `flotilla rollback OBJECT`: deploy the previous revision, as a normal recorded deployment. */
import { rollbackObject } from "../controller/rollback.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";
import { record } from "./apply.ts";
import { progressPrinter, resultLine } from "./progress.ts";
import os from "node:os";

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("rollback")
      .description("roll an object back to the revision it ran before its last successful update")
      .argument("<object>", "the deployment object (path prefix)")
      .option("-o, --output <format>", "text or json", "text"),
  ).action((object: string, flags: AwsOptions & { output: string }) => run(() => rollback(io, object, flags)));
};

async function rollback(io: CliIO, object: string, flags: AwsOptions & { output: string }): Promise<number> {
  const ctx = await openContext(io, flags);
  try {
    const d = await rollbackObject(ctx.store, ctx.runner(flags.output === "json" ? undefined : progressPrinter(io, ctx.clock)), object, io.env["USER"] ?? os.userInfo().username);
    if (flags.output === "json") printJson(io, record(d));
    else io.out(resultLine(io, d) + "\n");
    return d.phase === "Succeeded" ? EXIT.ok : EXIT.failed;
  } finally {
    await ctx.close();
  }
}
