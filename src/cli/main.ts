/**
 * The `flotilla` command. Each verb lives in its own file and registers itself here; this file only
 * wires them together and turns errors into exit codes.
 */
import { Command, CommanderError } from "commander";
import { AwsError } from "../aws/errors.ts";
import { isFlotillaError, type Problem } from "../core/problems.ts";
import { ScenarioError } from "../sim/scenario.ts";
import { EXIT, processIO, type CliIO } from "./io.ts";
import { githubIO, wantsGithubOutput } from "./github.ts";
import { checkOptionValues } from "./options.ts";
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
  () => import("./cutover.ts"),
  () => import("./cleanup.ts"),
  () => import("./versions.ts"),
  () => import("./control.ts"),
  () => import("./serve.ts"),
  () => import("./token.ts"),
  () => import("./sim.ts"),
  () => import("./sim-serve.ts"),
  () => import("./repo.ts"),
  () => import("./commit.ts"),
  () => import("./deployment.ts"),
  () => import("./pending-delete.ts"),
  () => import("./window.ts"),
  () => import("./drift.ts"),
  () => import("./github-action.ts"),
];

export async function main(argv: string[], given: CliIO = processIO()): Promise<number> {
  // Under --output github every line is made inert before anything prints (github.ts), usage errors included.
  const io = wantsGithubOutput(argv) || argv[0] === "github-action" ? githubIO(given) : given;
  try {
    return await runMain(argv, io);
  } finally {
    if (io !== given) io.github?.flush();
  }
}

async function runMain(argv: string[], io: CliIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = await buildProgram(io, async (action) => {
    exitCode = await action();
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isFlotillaError(e)) {
      report(io, e.problem);
      return e.code === "FLT-INTERNAL" ? EXIT.internal : EXIT.usage;
    }
    const problems = environmentProblems(e);
    if (problems) {
      for (const p of problems) report(io, p);
      return EXIT.usage;
    }
    io.err(`flotilla: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.internal;
  }
}

/** A problem that stops the command: on stderr, and as an annotation under --output github. */
function report(io: CliIO, p: Problem): void {
  io.err(formatProblem(io, p) + "\n");
  io.github?.command("error", { title: p.code }, `${p.message}${p.hint ? `\nhint: ${p.hint}` : ""}`);
}

/** Every verb registered, with the shared option value checks; `run` receives each action. */
export async function buildProgram(io: CliIO, run: CommandRunner): Promise<Command> {
  const program = new Command("flotilla")
    .description("GitOps for Amazon ECS: deploy Gitmoxi-format repositories with rolling and blue/green deployments")
    .version(await version(), "-V, --version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const load of verbs) (await load()).register(program, io, run);
  checkOptionValues(program);
  return program;
}

/** The AWS SDK's names for "no credentials" and "these credentials are not accepted". */
const CREDENTIALS_ERRORS = new Set(["CredentialsProviderError", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch"]);

/**
 * Failures that come from the surroundings, not from a bug: a scenario file that does not parse,
 * AWS credentials that are missing or refused, an AWS call refused outside a deployment. They are
 * usage/environment errors (exit 2) with a code and one line on what to do; no stack trace.
 */
function environmentProblems(e: unknown): Problem[] | undefined {
  if (e instanceof ScenarioError) {
    return e.issues.map((i) => ({ code: "FLT-SIM-SCENARIO", severity: "error", file: e.file, path: i.path, message: i.message, hint: "the scenario format is in docs/simulator.md" }));
  }
  if (!(e instanceof AwsError)) return undefined;
  if (CREDENTIALS_ERRORS.has(e.name)) {
    const none = e.name === "CredentialsProviderError";
    return [
      {
        code: "FLT-AWS-CREDENTIALS",
        severity: "error",
        message: none ? "no AWS credentials were found" : `AWS did not accept the credentials (${e.name}: ${e.message})`,
        hint: "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or run with an instance/task role (docs/aws.md); to rehearse without AWS, add --simulator",
      },
    ];
  }
  return [{ code: "FLT-AWS-CALL-FAILED", severity: "error", message: `${e.service} ${e.operation} failed: ${e.toString()}`, hint: e.name.includes("AccessDenied") || e.httpStatus === 403 ? "the identity lacks a permission: docs/aws.md has the IAM policy Flotilla needs" : "check the Region, the endpoint (AWS_ENDPOINT_URL) and the network" }];
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
