/** `flotilla changes DIR --from REV --to REV`: per object, what a commit would do and why. */
import { Masker } from "../core/mask.ts";
import { classifyChanges, locateTree, parentOf } from "../config/changes.ts";
import { resolveRevision } from "../git/read.ts";
import { hasErrors, sortProblems } from "../core/problems.ts";
import type { RegisterCommand } from "./main.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { githubChanges } from "./github-report.ts";
import { ALLOW_ENV_OPTION, existingDir, githubOutputOption, inputEnvironment } from "./options.ts";
import { formatProblem, plural, printJson } from "./output.ts";

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("changes")
    .description("show what a commit would do to each object: deploy, delete or nothing, and why")
    .argument("[dir]", "root of the Flotilla tree inside a Git repository", ".")
    .option("--from <rev>", "the last processed commit (default: the parent of --to; none for a first commit)")
    .option("--to <rev>", "the new commit", "HEAD")
    .option("--initial", "treat --to as the first commit: every file counts as added", false)
    .addOption(githubOutputOption())
    .option("--region <region>", "region for objects whose depdef names none")
    .option(...ALLOW_ENV_OPTION)
    .action((dir: string, opts: ChangesFlags) => run(() => changes(io, dir, opts)));
};

interface ChangesFlags {
  from?: string;
  to: string;
  initial: boolean;
  output: string;
  region?: string;
  allowEnv?: string[];
}

async function changes(io: CliIO, given: string, opts: ChangesFlags): Promise<number> {
  const dir = await existingDir(io.cwd, given);
  let from = opts.from;
  if (!from && !opts.initial) {
    const { root } = await locateTree(dir);
    from = await parentOf(root, await resolveRevision(root, opts.to));
  }
  const classified = await classifyChanges({ dir, from: opts.initial ? undefined : from, to: opts.to, load: { ...(opts.region ? { defaultRegion: opts.region } : {}), environment: inputEnvironment(io.env, opts.allowEnv) } });
  // A problem's message may quote a value: masked like every other output.
  const set = { ...classified, changes: classified.changes.map((c) => ({ ...c, problems: new Masker({ sensitive: c.loaded?.sensitive ?? [] }).value(c.problems) })) };
  const failed = set.changes.some((c) => hasErrors(c.problems));
  if (opts.output === "json") {
    printJson(io, {
      from: set.from ?? null,
      to: set.to,
      changes: set.changes.map(({ loaded: _loaded, problems, ...c }) => ({ ...c, valid: !hasErrors(problems), problems: sortProblems(problems) })),
    });
    return failed ? EXIT.failed : EXIT.ok;
  }
  io.out(`${paint(io, "bold", "changes")} ${set.from ? set.from.slice(0, 12) : "(first commit)"} → ${set.to.slice(0, 12)}\n\n`);
  if (set.changes.length === 0) io.out("no deployment object changed\n");
  const colour = { deploy: "green", delete: "red", none: "dim" } as const;
  for (const c of set.changes) {
    const ok = !hasErrors(c.problems);
    io.out(`${paint(io, colour[c.action], c.action.padEnd(6))} ${c.object}${ok ? "" : paint(io, "red", "  (invalid)")}\n       ${c.description}\n`);
    for (const p of sortProblems(c.problems)) io.out(formatProblem(io, p, "       ") + "\n");
  }
  const count = (a: string) => set.changes.filter((c) => c.action === a).length;
  io.out(`\n${plural(count("deploy"), "deploy")}, ${plural(count("delete"), "delete")}, ${plural(count("none"), "unchanged object")}\n`);
  if (opts.output === "github") await githubChanges(io, dir, set);
  return failed ? EXIT.failed : EXIT.ok;
}
