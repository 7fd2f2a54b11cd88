/** `flotilla validate [DIR]`: render and validate every object; exit 1 when any has an error. */
import { strategyLabel } from "../config/strategy.ts";
import { Masker } from "../core/mask.ts";
import { hasErrors, sortProblems, type Problem } from "../core/problems.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import { WorkingTreeSource } from "../config/source.ts";
import type { RegisterCommand } from "./main.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { githubValidate } from "./github-report.ts";
import { ALLOW_ENV_OPTION, existingDir, githubOutputOption, inputEnvironment } from "./options.ts";
import type { InputEnvironment } from "../config/inputs.ts";
import { formatProblem, mark, plural, printJson } from "./output.ts";
import type { LoadedObject } from "../config/load-object.ts";

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("validate")
    .description("render and validate every deployment object in DIR (default: the current directory)")
    .argument("[dir]", "root of the Flotilla tree", ".")
    .addOption(githubOutputOption())
    .option("--region <region>", "region for objects whose depdef names none (default: AWS_REGION, else us-east-1)")
    .option(...ALLOW_ENV_OPTION)
    .action((dir: string, opts: { output: string; region?: string; allowEnv?: string[] }) => run(() => validate(io, dir, opts)));
};

export interface ValidateReport {
  valid: boolean;
  summary: { objects: number; invalid: number; errors: number; warnings: number };
  /** `strategy`: the engine strategy (rolling, bluegreen, ecs-managed); `label` says it in words ("ECS-managed LINEAR"). */
  objects: { object: string; valid: boolean; strategy?: string; label?: string; service?: string; cluster?: string; region?: string }[];
  problems: Problem[];
}

export async function validateDir(dir: string, region?: string, environment?: InputEnvironment): Promise<{ report: ValidateReport; objects: LoadedObject[] }> {
  const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions({ ...(region ? { defaultRegion: region } : {}), ...(environment ? { environment } : {}) }));
  // A message may quote a value: the same masker as every other output.
  const masker = new Masker({ sensitive: repo.objects.flatMap((o) => o.sensitive) });
  const problems = sortProblems(masker.value([...repo.objects.flatMap((o) => o.problems), ...repo.problems.filter((p) => p.code !== "FLT-OBJECT-DUPLICATE-SERVICE")]));
  const errors = problems.filter((p) => p.severity === "error").length;
  const report: ValidateReport = {
    valid: !hasErrors(problems),
    summary: { objects: repo.objects.length, invalid: repo.objects.filter((o) => !o.valid).length, errors, warnings: problems.length - errors },
    objects: repo.objects.map((o) => ({
      object: o.name,
      valid: o.valid,
      ...(o.strategy ? { strategy: o.strategy, label: strategyLabel(o.strategy, o.svcdef) } : {}),
      ...(o.identity ? { service: o.identity.service, cluster: o.identity.cluster, region: o.identity.region } : {}),
    })),
    problems,
  };
  return { report, objects: repo.objects };
}

async function validate(io: CliIO, dir: string, opts: { output: string; region?: string; allowEnv?: string[] }): Promise<number> {
  const root = await existingDir(io.cwd, dir);
  const { report } = await validateDir(root, opts.region, inputEnvironment(io.env, opts.allowEnv));
  if (opts.output === "json") {
    printJson(io, report);
  } else {
    printChecklist(io, report);
  }
  if (opts.output === "github") await githubValidate(io, root, report);
  return report.valid ? EXIT.ok : EXIT.failed;
}

export function printChecklist(io: CliIO, report: ValidateReport): void {
  const byObject = new Map<string, Problem[]>();
  for (const p of report.problems) {
    const list = byObject.get(p.object ?? "") ?? [];
    list.push(p);
    byObject.set(p.object ?? "", list);
  }
  for (const o of report.objects) {
    const list = byObject.get(o.object) ?? [];
    const what = o.service ? paint(io, "dim", ` ${o.label ?? strategyLabel(o.strategy)} · ${o.service} in ${o.cluster} (${o.region})`) : "";
    io.out(`${mark(io, o.valid, list.length > 0)} ${o.object}${what}\n`);
    for (const p of list) io.out(formatProblem(io, p, "     ") + "\n");
    byObject.delete(o.object);
  }
  for (const [, list] of byObject) for (const p of list) io.out(formatProblem(io, p, "") + "\n");
  const s = report.summary;
  const verdict = report.valid ? paint(io, "green", "valid") : paint(io, "red", "invalid");
  io.out(`\n${plural(s.objects, "object")}: ${verdict} — ${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}\n`);
}
