/** `flotilla render DIR OBJECT`: the rendered svcdef, taskdef and depdef (defaults filled in). */
import { FlotillaError, sortProblems } from "../core/problems.ts";
import { discoverObjects } from "../config/discover.ts";
import { loadObject } from "../config/load-object.ts";
import { loadOptions } from "../config/repository.ts";
import { WorkingTreeSource } from "../config/source.ts";
import { didYouMean } from "../core/suggest.ts";
import { breakerThreshold, type DepDef } from "../config/depdef.ts";
import type { RegisterCommand } from "./main.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { Masker } from "../core/mask.ts";
import { ALLOW_ENV_OPTION, existingDir, inputEnvironment } from "./options.ts";
import { formatProblem, printJson } from "./output.ts";

export const register: RegisterCommand = (program, io, run) => {
  program
    .command("render")
    .description("print an object's rendered svcdef, taskdef and depdef (defaults filled in)")
    .argument("<dir>", "root of the Flotilla tree")
    .argument("<object>", "the object's path prefix, e.g. dev/web/web (a trailing _svcdef.json is accepted)")
    .option("-o, --output <format>", "text or json", "text")
    .option("--region <region>", "region for objects whose depdef names none")
    .option("--show-sensitive", "show secret-looking values and Terraform outputs marked sensitive in clear", false)
    .option("--secret-name <word...>", "also mask values whose names contain these words (besides PASSWORD, SECRET, TOKEN, KEY, ...)")
    .option(...ALLOW_ENV_OPTION)
    .action((dir: string, object: string, opts: RenderFlags) => run(() => render(io, dir, object, opts)));
};

/**
 * What the depdef amounts to for this service: Flotilla's circuit-breaker threshold (with the
 * default failureThreshold of 5 applied, as Gitmoxi documents it) and the stability timeout, at the
 * svcdef's desiredCount.
 */
function effective(depdef: DepDef, svcdef: Record<string, unknown> | undefined) {
  const desired = typeof svcdef?.["desiredCount"] === "number" ? svcdef["desiredCount"] : null;
  const cb = depdef.gmDeploymentCircuitBreaker;
  const circuitBreaker =
    desired === null && cb.failureThresholdPercent > 0
      ? { threshold: null, explained: `${cb.failureThresholdPercent}% of desiredCount${cb.failureThreshold > 0 ? `, at most ${cb.failureThreshold}` : ""}; the svcdef sets no desiredCount` }
      : (({ threshold, explained }) => ({ threshold, explained }))(breakerThreshold(depdef, desired ?? 1));
  const s = depdef.stabilityCheck;
  return {
    desiredCount: desired,
    circuitBreaker,
    stabilityTimeoutSeconds: Math.max(s.timeout, s.timeoutPerTask * (desired ?? 1)),
  };
}

interface RenderFlags {
  output: string;
  region?: string;
  showSensitive: boolean;
  secretName?: string[];
  allowEnv?: string[];
}

async function render(io: CliIO, dir: string, object: string, opts: RenderFlags): Promise<number> {
  const source = new WorkingTreeSource(await existingDir(io.cwd, dir));
  const name = object.replace(/^\.\//, "").replace(/_(svcdef|taskdef|depdef|input)\.json$/, "");
  const objects = discoverObjects(await source.listFiles());
  const files = objects.find((o) => o.name === name && o.svcdef);
  if (!files) {
    const guess = didYouMean(name, objects.filter((o) => o.svcdef).map((o) => o.name));
    throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no object "${name}" in ${dir}`, ...(guess ? { hint: `did you mean "${guess}"?` } : { hint: "run `flotilla validate` to list the objects" }) });
  }
  const loaded = await loadObject(source, files, loadOptions({ ...(opts.region ? { defaultRegion: opts.region } : {}), environment: inputEnvironment(io.env, opts.allowEnv) }));
  const shown = { object: loaded.name, valid: loaded.valid, svcdef: loaded.svcdef ?? null, taskdef: loaded.taskdef ?? null, depdef: loaded.depdef, effective: effective(loaded.depdef, loaded.svcdef), problems: sortProblems(loaded.problems) };
  // The only output with a way to see secrets in clear: a person at a terminal asking for it.
  const result = opts.showSensitive ? shown : new Masker({ sensitive: loaded.sensitive, secretNames: opts.secretName ?? [] }).value(shown);
  if (opts.output === "json") {
    printJson(io, result);
  } else {
    for (const kind of ["svcdef", "taskdef", "depdef"] as const) {
      const file = kind === "depdef" ? (files.depdef ?? "(no depdef file: defaults)") : files[kind];
      if (kind === "taskdef" && !files.taskdef) continue;
      io.out(`${paint(io, "bold", `# ${file}`)}\n${JSON.stringify(result[kind], null, 2)}\n\n`);
    }
    const e = shown.effective;
    io.out(`${paint(io, "bold", `# in effect${e.desiredCount !== null ? ` at desiredCount ${e.desiredCount}` : ""}`)}\n`);
    io.out(`Flotilla's circuit breaker: ${e.circuitBreaker.threshold ? `fails the deployment at ${e.circuitBreaker.threshold} failed new tasks — ${e.circuitBreaker.explained}` : e.circuitBreaker.explained}\n`);
    io.out(`stability timeout: ${e.stabilityTimeoutSeconds}s\n\n`);
    for (const p of result.problems) io.out(formatProblem(io, p) + "\n");
  }
  return loaded.valid ? EXIT.ok : EXIT.failed;
}
