/**
 * Option values every verb shares, checked in one place: a bad value (`--output yaml`,
 * `--concurrency abc`) is a usage error (exit 2) before anything runs, whichever verb it is given
 * to, rather than silently falling back to a default. Applied to every registered command by
 * main.ts, so a verb added later gets the same checks.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { operatorEnvironment, type InputEnvironment } from "../config/inputs.ts";
import { FlotillaError } from "../core/problems.ts";
import { didYouMean } from "../core/suggest.ts";

type Check = (value: string) => string | undefined;

const positiveInteger: Check = (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : "a whole number of 1 or more");
const concurrency: Check = (v) => (v.trim() === "auto" || positiveInteger(v) === undefined ? undefined : "a whole number of 1 or more, or auto");
const positiveNumber: Check = (v) => (v.trim() !== "" && Number(v) > 0 ? undefined : "a number greater than 0");
const fraction: Check = (v) => (v.trim() !== "" && Number(v) >= 0 && Number(v) <= 1 ? undefined : "a number from 0 to 1");

/** Value checks by long option name. `--output`'s choices are set on the option, so help lists them. */
const CHECKS: Record<string, Check> = {
  "--concurrency": concurrency,
  "--limit": positiveInteger,
  "--speed": positiveNumber,
  "--max-delete-fraction": fraction,
};

export const OUTPUT_FORMATS = ["text", "json"];

/** `--output` of the verbs that also speak `github`: annotations, a job summary and step outputs (docs/github.md). */
export function githubOutputOption(): Option {
  return new Option("-o, --output <format>", "text, json, or github (the text, plus annotations, a job summary and step outputs)").choices([...OUTPUT_FORMATS, "github"]).default("text");
}

/** Add the shared value checks to every option of every (sub)command that has one of these names. */
export function checkOptionValues(program: Command): void {
  for (const cmd of program.commands) {
    for (const option of cmd.options) {
      if (option.long === "--output" && !option.argChoices) option.choices(OUTPUT_FORMATS);
      const check = option.long ? CHECKS[option.long] : undefined;
      if (check && !option.parseArg) {
        // Validate only: the verb still receives the string it declared.
        option.argParser((value: string) => {
          const wanted = check(value);
          if (wanted) throw new InvalidArgumentError(`expected ${wanted}.`);
          return value;
        });
      }
    }
    checkOptionValues(cmd);
  }
}

/** `--allow-env`: the environment variables inputs' ENV refs may read (docs/format.md "Inputs and refs"). */
export const ALLOW_ENV_OPTION = ["--allow-env <name...>", "environment variables the inputs' ENV refs may read: names, or a prefix ending in * (also FLOTILLA_ALLOW_ENV, comma-separated); none by default"] as const;

/** The variables the operator lets templates read: `--allow-env` and FLOTILLA_ALLOW_ENV (config/inputs.ts). */
export function inputEnvironment(env: NodeJS.ProcessEnv, flag: readonly string[] | undefined): InputEnvironment {
  return operatorEnvironment(env, flag ?? []);
}

/** DIR arguments: resolved against the working directory, and a coded usage error when not a directory. */
export async function existingDir(cwd: string, dir: string): Promise<string> {
  const root = path.resolve(cwd, dir);
  const found = await stat(root).catch(() => undefined);
  if (!found?.isDirectory()) {
    throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `${root} is not a directory${found ? "" : " (it does not exist)"}`, hint: "DIR is the root of the Flotilla tree (the folder holding the objects' files)" });
  }
  return root;
}

/**
 * `--object` selectors (an object name or a path prefix) that match no object of the tree are an
 * unknown object: a coded usage error (exit 2) with a did-you-mean, not a pass that does nothing.
 */
export function checkObjectSelectors(selectors: readonly string[] | undefined, names: readonly string[], dir: string): void {
  for (const selector of selectors ?? []) {
    const s = selector.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "").replace(/\/+$/, "");
    if (names.some((n) => n === s || n.startsWith(`${s}/`))) continue;
    const guess = didYouMean(s, names);
    throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no object "${s}" in ${dir}`, hint: guess ? `did you mean "${guess}"?` : "`flotilla validate` lists the objects" });
  }
}
