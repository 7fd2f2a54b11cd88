/**
 * `flotilla versions OBJECT`: a rainbow object's versions as AWS has them — which is live, their
 * services and URLs — and the last cutover (to which version, by whom, when). Read-only. With a
 * server configured, asked of the server (`GET /api/v1/versions`).
 */
import type { VersionsAnswer } from "../api/types.ts";
import { listVersions } from "../controller/rainbow.ts";
import { ApiClient, SERVER_OPTION, serverUrl } from "./api-client.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { printJson } from "./output.ts";

interface Flags extends AwsOptions {
  server?: string;
  output: string;
}

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("versions")
      .description("list the versions of a rainbow object, which is live, and their URLs")
      .argument("<object>", "the deployment object (path prefix)")
      .option(...SERVER_OPTION)
      .option("-o, --output <format>", "text or json", "text"),
  ).action((object: string, flags: Flags) => run(() => versions(io, object, flags)));
};

async function versions(io: CliIO, object: string, flags: Flags): Promise<number> {
  let answer: VersionsAnswer;
  if (serverUrl(io, flags.server)) answer = await ApiClient.from(io, flags.server).versions(object);
  else {
    const ctx = await openContext(io, flags);
    try {
      answer = await listVersions(ctx.store, ctx.aws, object);
    } finally {
      await ctx.close();
    }
  }
  if (flags.output === "json") {
    printJson(io, answer);
    return EXIT.ok;
  }
  io.out(`${"VERSION".padEnd(12)} ${"LIVE".padEnd(5)} ${"STATUS".padEnd(9)} ${"TASKS".padEnd(7)} URL\n`);
  for (const v of answer.versions) {
    const tasks = v.desired === null ? "-" : `${v.running}/${v.desired}`;
    const live = v.live ? paint(io, "green", "live ") : "     ";
    io.out(`${v.version.padEnd(12)} ${live} ${v.status.padEnd(9)} ${tasks.padEnd(7)} ${v.url}${v.note ? ` (${v.note})` : ""}${v.protected ? " [protected]" : ""}\n`);
  }
  if (answer.versions.length === 0) io.out("(no versions)\n");
  const c = answer.lastCutover;
  if (c) io.out(`\nlast cutover: to ${c.version} by ${c.by} at ${c.at} (deployment ${c.deployment})\n`);
  return EXIT.ok;
}
