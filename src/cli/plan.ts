/**
 * `flotilla plan [DIR]`: what apply would do per object, with the normalised diff of desired vs
 * live service and task definition (src/plan, docs/plan.md). Read-only: it only describes.
 */
import type { AwsPortsFactory } from "../aws/ports.ts";
import type { LoadedObject } from "../config/load-object.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import { WorkingTreeSource } from "../config/source.ts";
import { planObjects, type ObjectPlan } from "../controller/plan.ts";
import { Masker } from "../core/mask.ts";
import { hasErrors, sortProblems } from "../core/problems.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { githubPlan } from "./github-report.ts";
import { ALLOW_ENV_OPTION, checkObjectSelectors, existingDir, githubOutputOption, inputEnvironment } from "./options.ts";
import { formatProblem, plural, printJson } from "./output.ts";

interface PlanFlags extends AwsOptions {
  object?: string[];
  output: string;
  region?: string;
  secretName?: string[];
  allowEnv?: string[];
}

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("plan")
      .description(
        "show what apply would do per object (create, update, none), with a normalised diff of the desired and live service and task definition (ECS defaults and response-only fields removed on both sides), or blocked when what apply needs is missing (cluster, target groups and their listeners, alarms). Read-only. Exit codes: 0 planned (even with changes), 1 an object is invalid or blocked, 2 usage error",
      )
      .argument("[dir]", "root of the Flotilla tree", ".")
      .option("--object <prefix...>", "only these objects (names or path prefixes)")
      .addOption(githubOutputOption())
      .option("--region <region>", "region for objects whose depdef names none")
      .option("--secret-name <word...>", "also mask values whose names contain these words (besides PASSWORD, SECRET, TOKEN, KEY, ...)")
      .option(...ALLOW_ENV_OPTION),
  ).action((dir: string, flags: PlanFlags) => run(() => planCommand(io, dir, flags)));
};

async function planCommand(io: CliIO, dir: string, flags: PlanFlags): Promise<number> {
  const root = await existingDir(io.cwd, dir);
  const repo = await loadRepository(new WorkingTreeSource(root), loadOptions({ ...(flags.region ? { defaultRegion: flags.region } : {}), environment: inputEnvironment(io.env, flags.allowEnv) }));
  checkObjectSelectors(flags.object, repo.objects.map((o) => o.name), dir);
  // The plan reads no store: an in-memory one unless one is named, so planning leaves no file behind.
  const ctx = await openContext(io, { ...flags, store: flags.store ?? ":memory:" });
  try {
    const plans = await planRepository(repo.objects, ctx.aws, flags.object, flags.secretName);
    if (flags.output === "json") printJson(io, { objects: plans.map(planJson) });
    else {
      for (const o of repo.objects.filter((x) => !x.valid && plans.some((p) => p.object === x.name))) {
        const masker = new Masker({ sensitive: o.sensitive, secretNames: flags.secretName ?? [] });
        for (const p of sortProblems(masker.value(o.problems.filter((x) => x.severity === "error")))) io.err(formatProblem(io, p) + "\n");
      }
      printPlans(io, plans);
      if (flags.output === "github") await githubPlan(io, root, plans, repo.objects, flags.simulator !== undefined && flags.simulator !== false ? "the simulator" : "AWS", repo.problems);
    }
    return plans.some((p) => p.action === "invalid" || p.action === "blocked") || hasErrors(repo.problems) ? EXIT.failed : EXIT.ok;
  } finally {
    await ctx.close();
  }
}

/** The plans of a loaded tree against the given AWS (real, simulated or a test double); `only` as `--object`. */
export async function planRepository(objects: readonly LoadedObject[], aws: AwsPortsFactory, only?: readonly string[], secretNames: readonly string[] = []): Promise<ObjectPlan[]> {
  return planObjects(objects, aws, { ...(only?.length ? { only } : {}), secretNames });
}

/** One object as `--output json` prints it. */
export function planJson(p: ObjectPlan) {
  return {
    object: p.object,
    action: p.action,
    ...(p.strategy ? { strategy: p.strategy } : {}),
    ...(p.rollout ? { rollout: p.rollout } : {}),
    ...(p.wouldBe ? { wouldBe: p.wouldBe } : {}),
    reasons: p.reasons,
    ...(p.problems.length ? { problems: p.problems } : {}),
    ...(p.notCompared.length ? { notCompared: p.notCompared } : {}),
    service: { changed: p.service.changed, changes: p.service.changes },
    taskDefinition: { changed: p.taskDefinition.changed, changes: p.taskDefinition.changes },
  };
}

const COLOUR = { create: "green", update: "cyan", none: "dim", invalid: "red", blocked: "red" } as const;

function printPlans(io: CliIO, plans: readonly ObjectPlan[]): void {
  for (const p of plans) {
    io.out(`${paint(io, COLOUR[p.action], p.action.padEnd(8))} ${paint(io, "bold", p.object)}${p.label ? paint(io, "dim", ` · ${p.label}`) : ""}${p.wouldBe ? paint(io, "dim", ` (would ${p.wouldBe} once fixed)`) : ""}\n`);
    for (const x of p.problems) io.out(formatProblem(io, x, "  ") + "\n");
    for (const r of p.reasons) io.out(`  ${paint(io, "dim", r)}\n`);
    if (p.rollout) io.out(`  ${paint(io, "dim", `rollout: ${p.rollout}`)}\n`);
    for (const n of p.notCompared) io.out(`  ${paint(io, "yellow", `not compared: ${n}`)}\n`);
    for (const diff of [p.service, p.taskDefinition]) if (diff.changed) io.out(indent(colourDiff(io, diff.text)));
    io.out("\n");
  }
  const count = (a: ObjectPlan["action"]) => plans.filter((p) => p.action === a).length;
  const parts = [`${count("create")} to create`, `${count("update")} to update`, `${count("none")} unchanged`, ...(count("blocked") ? [`${count("blocked")} blocked`] : []), ...(count("invalid") ? [`${count("invalid")} invalid`] : [])];
  io.out(`${plural(plans.length, "object")}: ${parts.join(", ")}\n`);
}

/** Unified diff lines: additions green, removals red, hunk headers cyan (only on a TTY). */
function colourDiff(io: CliIO, text: string): string {
  return text
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return paint(io, "bold", line);
      if (line.startsWith("+")) return paint(io, "green", line);
      if (line.startsWith("-")) return paint(io, "red", line);
      if (line.startsWith("@@")) return paint(io, "cyan", line);
      return line;
    })
    .join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `    ${l}` : l))
    .join("\n")
    .replace(/\n*$/, "\n");
}
