/**
 * `flotilla sim serve [SCENARIO...] --listen HOST:PORT [--speed N] [--state FILE]`: the simulator
 * as an AWS endpoint. Any process using the AWS SDK (or CLI) with `AWS_ENDPOINT_URL` set to the
 * printed address and any credentials talks to one simulated ECS/ELBv2/CloudWatch world:
 * `flotilla serve`/`apply` through their real SDK adapter, and your own scripts. The first line on
 * stdout names the address, so a test can start it on port 0 and read the port.
 */
import { isIP } from "node:net";
import type { Command } from "commander";
import path from "node:path";
import { FlotillaError } from "../core/problems.ts";
import { readScenarioJson } from "../sim/open.ts";
import { ScenarioError } from "../sim/scenario.ts";
import { JournalError } from "../sim/wire/journal.ts";
import { SimServer } from "../sim/wire/server.ts";
import { EXIT, paint, parseListen, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";

interface SimServeFlags {
  listen: string;
  speed: string;
  state?: string;
  verbose: boolean;
}

export const register: RegisterCommand = (program, io, run) => {
  const sim = program.commands.find((c) => c.name() === "sim");
  if (!sim) throw new Error("sim serve registers under the sim command");
  sim
    .command("serve")
    .description("serve the simulator as an AWS endpoint (ECS, ELBv2, CloudWatch, EC2 default VPC) for AWS_ENDPOINT_URL")
    .argument("[scenarios...]", "scenario files making the initial world (docs/simulator.md); an empty world if none")
    .option("--listen <host:port>", "address to serve on (port 0 picks a free one)", "127.0.0.1:4566")
    .option("--speed <factor>", "simulated seconds per real second", "1")
    .option("--state <file>", "persist the world to FILE and continue it on the next start")
    .option("--verbose", "print every request on stderr", false)
    .action((scenarios: string[], flags: SimServeFlags, cmd: Command) => {
      // `sim` has a --speed of its own, which commander gives the first word to claim it.
      const parentSpeed = cmd.parent?.opts<{ speed?: string }>().speed;
      const speed = cmd.getOptionValueSource("speed") === "default" && parentSpeed !== undefined ? parentSpeed : flags.speed;
      return run(() => simServe(io, scenarios, { ...flags, speed }));
    });
};

async function simServe(io: CliIO, files: string[], flags: SimServeFlags): Promise<number> {
  const { host, port } = parseListen(flags.listen);
  const speed = Number(flags.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--speed must be a positive number, not ${flags.speed}` });
  let server: SimServer;
  try {
    const scenarios = [];
    for (const f of files) scenarios.push({ data: await readScenarioJson(path.resolve(io.cwd, f), f), label: f });
    server = await SimServer.start({
      scenarios,
      speed,
      host,
      port,
      ...(flags.state ? { statePath: path.resolve(io.cwd, flags.state) } : {}),
      onWarning: (m) => io.err(`${paint(io, "yellow", "warning")} ${m}\n`),
      ...(flags.verbose ? { onRequest: (r) => io.err(`${r.at} ${r.service} ${r.operation} ${r.status}${r.error ? ` ${r.error}` : ""} caller=${r.caller}${r.resource ? ` ${r.resource}` : ""}\n`) } : {}),
    });
  } catch (e) {
    if (e instanceof ScenarioError) {
      io.err(`${paint(io, ["red", "bold"], "error")} ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof JournalError) throw new FlotillaError({ code: "FLT-SIM-STATE", message: e.message, hint: "the file must be one that `flotilla sim serve --state` wrote; move it away to start a new world" });
    if (e instanceof Error && "code" in e && (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL")) {
      throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `cannot listen on ${flags.listen}: ${e.message}` });
    }
    throw e;
  }
  const sim = server.sim;
  // One write, so a reader that waits for the address has the whole block.
  io.out(
    [
      `flotilla sim serve: listening on ${server.url} (Region ${sim.region}, account ${sim.account}, speed ${speed}x)`,
      `  export AWS_ENDPOINT_URL=${server.url} AWS_REGION=${sim.region} AWS_ACCESS_KEY_ID=simulator AWS_SECRET_ACCESS_KEY=simulator`,
      ...(flags.state ? [`  world ${server.replayed > 0 ? `continued from ${flags.state} (${server.replayed} calls replayed)` : `saved to ${flags.state}`}`] : []),
    ].join("\n") + "\n",
  );
  if (!isLoopback(host)) io.err(`${paint(io, "yellow", "warning")} the simulator accepts any credentials: anyone who can reach ${flags.listen} can change its world\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await server.close();
  io.err(`flotilla sim serve: stopped at simulated ${new Date(server.clock.now()).toISOString()}${flags.state ? `; world saved to ${flags.state}` : ""}\n`);
  return EXIT.ok;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";
}
