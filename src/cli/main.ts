/**
 * The `flotilla` command. Each verb lives in its own file and registers itself here; this file only
 * wires them together and turns errors into exit codes.
 */
import { Command, CommanderError } from "commander";
import { isFlotillaError } from "../core/problems.ts";
import { EXIT, processIO, type CliIO } from "./io.ts";
import { formatProblem } from "./output.ts";

export type CommandRunner = (action: () => Promise<number>) => Promise<void>;

/** A verb module: adds its command(s) to the program; `run` wraps the action to capture the exit code. */
export type RegisterCommand = (program: Command, io: CliIO, run: CommandRunner) => void;

const verbs: (() => Promise<{ register: RegisterCommand }>)[] = [
  () => import("./validate.ts"),
  () => import("./render.ts"),
  () => import("./changes.ts"),
  () => import("./demo.ts"),
  () => import("./apply.ts"),
  () => import("./plan.ts"),
  () => import("./status.ts"),
  () => import("./rollback.ts"),
  () => import("./control.ts"),
  () => import("./serve.ts"),
  () => import("./token.ts"),
  () => import("./sim.ts"),
  () => import("./repo.ts"),
  () => import("./commit.ts"),
  () => import("./deployment.ts"),
];

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const run: CommandRunner = async (action) => {
    exitCode = await action();
  };
  const program = new Command("flotilla")
    .description("GitOps for Amazon ECS: deploy Gitmoxi-format repositories with rolling and blue/green deployments")
    .version(await version(), "-V, --version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const load of verbs) (await load()).register(program, io, run);
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isFlotillaError(e)) {
      io.err(formatProblem(io, e.problem) + "\n");
      return e.code === "FLT-INTERNAL" ? EXIT.internal : EXIT.usage;
    }
    io.err(`flotilla: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.internal;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
