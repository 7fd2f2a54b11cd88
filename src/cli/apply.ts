/** `flotilla apply [DIR]`: make ECS match the tree — create, update or delete services. */
import { defaultMasker } from "../core/mask.ts";
import { apply, decide, type ApplyResult, type Decision } from "../controller/apply.ts";
import { parseOverrideNames } from "../controller/overrides.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import { WorkingTreeSource } from "../config/source.ts";
import { hasErrors, sortProblems } from "../core/problems.ts";
import { deploymentRecord } from "../store/record.ts";
import type { Deployment } from "../store/types.ts";
import { addAwsOptions, openContext, type AwsOptions } from "./context.ts";
import { EXIT, paint, type CliIO, operatorName } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { githubApply } from "./github-report.ts";
import { ALLOW_ENV_OPTION, checkObjectSelectors, existingDir, githubOutputOption, inputEnvironment } from "./options.ts";
import { formatProblem, plural, printJson } from "./output.ts";
import { progressPrinter, resultLine } from "./progress.ts";
import { parseConcurrency } from "../controller/pacing.ts";
import { PASS_DEFAULTS } from "../controller/pass.ts";

interface ApplyFlags extends AwsOptions {
  object?: string[];
  dryRun: boolean;
  allowDelete: boolean;
  maxDeleteFraction: string;
  confirmMassDelete: boolean;
  concurrency: string;
  force: boolean;
  override?: string[];
  output: string;
  region?: string;
  notifyAllow?: string[];
  notifyEnv?: string[];
  notifyPrivate?: string[];
  allowEnv?: string[];
}

export const register: RegisterCommand = (program, io, run) => {
  addAwsOptions(
    program
      .command("apply")
      .description("deploy the objects of DIR that differ from what runs in ECS (create, update, delete)")
      .argument("[dir]", "root of the Flotilla tree", ".")
      .option("--object <prefix...>", "only these objects")
      .option("--dry-run", "show what would happen; change nothing", false)
      .option("--allow-delete", "delete services whose svcdef is gone from the tree", false)
      .option("--max-delete-fraction <f>", "refuse to delete more than this fraction of managed services at once", String(PASS_DEFAULTS.maxDeleteFraction))
      .option("--confirm-mass-delete", "allow a delete above --max-delete-fraction", false)
      .option("--concurrency <n|auto>", "deployments running at once; auto: started as fast as ECS's request rates take them, no cap", String(PASS_DEFAULTS.concurrency))
      .option("--force", "deploy even objects that have not changed", false)
      .option("--override <name...>", "break-glass overrides for these deployments: skip-alarms, all-at-once (recorded on each deployment)")
      .addOption(githubOutputOption())
      .option("--region <region>", "region for objects whose depdef names none")
      .option("--notify-allow <target...>", "depdef notification URLs to call: URL prefixes or host names (none by default)")
      .option("--notify-env <name...>", "variables depdef notification headers may name as ${NAME}")
      .option("--notify-private <cidr...>", "private or loopback addresses (CIDRs, addresses, hosts) notifications may reach")
      .option(...ALLOW_ENV_OPTION),
  ).action((dir: string, flags: ApplyFlags) => run(() => applyCommand(io, dir, flags)));
};

const WAITING_LOOK_MS = 5_000;

async function applyCommand(io: CliIO, dir: string, flags: ApplyFlags): Promise<number> {
  const root = await existingDir(io.cwd, dir);
  const repo = await loadRepository(new WorkingTreeSource(root), loadOptions({ ...(flags.region ? { defaultRegion: flags.region } : {}), environment: inputEnvironment(io.env, flags.allowEnv) }));
  checkObjectSelectors(flags.object, repo.objects.map((o) => o.name), dir);
  const ctx = await openContext(io, flags);
  const cleanups: (() => void)[] = [];
  try {
    // Each depdef's `notifications` are honoured by apply too, under the same policy as the server's
    // (whoever runs apply is the operator here; the repository is still not trusted).
    const notifier = ctx.notifier({
      env: io.env,
      policy: { allowedTargets: flags.notifyAllow ?? [], allowedEnv: flags.notifyEnv ?? [], allowPrivateAddresses: flags.notifyPrivate ?? [] },
      onWarning: (m) => io.err(`warning: ${m}\n`),
    });
    const printer = flags.output === "json" ? undefined : progressPrinter(io, ctx.clock);
    // A wall-clock look every few seconds; whether a deployment has been quiet is judged on ctx.clock.
    const waiting = printer && !flags.dryRun ? setInterval(() => printer.waiting(), WAITING_LOOK_MS) : undefined;
    waiting?.unref();
    const runner = ctx.world.runner({
      onUpdate: (d, events) => {
        printer?.(d, events);
        notifier.onUpdate(d, events);
      },
    });
    // Ctrl-C hands the deployments over at their next safe point (released, so the next apply or a
    // replica resumes them at once) instead of leaving them to wait out their leases; twice quits now.
    const handOver = () => {
      io.err("stopping: each deployment stops at its next safe point and is handed over; the next apply resumes it (Ctrl-C again to quit now)\n");
      process.once("SIGINT", () => process.exit(130));
      void runner.stop();
    };
    process.once("SIGINT", handOver);
    process.once("SIGTERM", handOver);
    cleanups.push(() => {
      process.off("SIGINT", handOver);
      process.off("SIGTERM", handOver);
    });
    const options = {
      store: ctx.worldStore,
      aws: ctx.aws,
      runner,
      ...(flags.object ? { only: flags.object.map((o) => o.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "")) } : {}),
      allowDelete: flags.allowDelete,
      maxDeleteFraction: Number(flags.maxDeleteFraction),
      confirmMassDelete: flags.confirmMassDelete,
      concurrency: parseConcurrency(flags.concurrency),
      force: flags.force,
      overrides: parseOverrideNames(flags.override ?? [], operatorName(io), "cli", ctx.clock.now()),
    };
    const invalid = repo.objects.filter((o) => !o.valid);
    if (flags.output !== "json") {
      for (const o of invalid) for (const p of sortProblems(o.problems.filter((x) => x.severity === "error"))) io.err(formatProblem(io, p) + "\n");
    }
    const result: ApplyResult = flags.dryRun
      ? { decisions: await decide(repo.objects, options), deployments: [] as Deployment[], resumed: [] as Deployment[], errors: [] }
      : await apply(repo.objects, options).finally(() => clearInterval(waiting));
    await notifier.drain();
    const failed = result.deployments.filter((d) => d.phase !== "Succeeded");
    const heldBack = result.decisions.filter((d) => d.action === "delete" && d.held);
    const blocked = result.decisions.filter((d) => d.action === "blocked");
    if (flags.output === "json") {
      printJson(io, {
        dryRun: flags.dryRun,
        decisions: result.decisions.map(decisionJson),
        deployments: result.deployments.map(record),
        resumed: result.resumed.map(record),
        errors: result.errors,
      });
    } else {
      for (const d of result.resumed) io.out(`resumed an unfinished deployment: ${resultLine(io, d)}\n`);
      printDecisions(io, result.decisions, flags.dryRun);
      if (result.deployments.length) io.out("\n");
      for (const d of result.deployments) io.out(resultLine(io, d) + "\n");
      for (const x of result.errors) io.out(`${paint(io, "red", "stopped".padEnd(10))} ${x.object.padEnd(24)} ${x.message}${x.deploymentId ? ` (deployment ${x.deploymentId}; the next apply resumes it if it is unfinished)` : ""}\n`);
      io.out(`\n${plural(result.deployments.length, "deployment")}: ${result.deployments.length - failed.length} succeeded, ${failed.length} failed${result.errors.length ? `; ${plural(result.errors.length, "error")}` : ""}${heldBack.length ? `; ${plural(heldBack.length, "delete")} held back` : ""}${blocked.length ? `; ${blocked.length} blocked` : ""}${invalid.length ? `; ${plural(invalid.length, "invalid object")}` : ""}\n`);
      if (flags.output === "github") {
        const target = flags.simulator !== undefined && flags.simulator !== false ? "the simulator" : "AWS";
        await githubApply(io, root, result, repo.objects, { dryRun: flags.dryRun, target, records: [...result.resumed, ...result.deployments].map(record) });
      }
    }
    return failed.length || result.errors.length || invalid.length || blocked.length || hasErrors(repo.problems) ? EXIT.failed : EXIT.ok;
  } finally {
    for (const c of cleanups) c();
    await ctx.close();
  }
}

function printDecisions(io: CliIO, decisions: readonly Decision[], dryRun: boolean): void {
  const colour = { create: "green", update: "cyan", delete: "red", none: "dim", invalid: "red", blocked: "red" } as const;
  io.out(paint(io, "bold", dryRun ? "plan (dry run: nothing is changed)\n" : "plan\n"));
  for (const d of decisions) {
    const extra = d.action === "delete" && d.held ? paint(io, "yellow", ` — held back: ${d.held.message}`) : "";
    io.out(`  ${paint(io, colour[d.action], d.action.padEnd(11))} ${d.object.padEnd(24)} ${paint(io, "dim", d.why)}${extra}\n`);
    if (d.action === "blocked") for (const p of d.problems) io.out(formatProblem(io, p, "      ") + "\n");
  }
}

/** One decision as `--output json` prints it: what it does and why; what holds it back or blocks it. */
function decisionJson(d: Decision) {
  const base = { object: d.object, action: d.action, why: d.why };
  if (d.action === "delete" && d.held) return { ...base, blocked: d.held.message, held: d.held.reason };
  if (d.action === "blocked") return { ...base, wouldBe: d.wouldBe, problems: d.problems };
  return base;
}

/** The deployment record as `--output json` prints it (shared with the HTTP API: src/store/record.ts). */
/** A deployment as `--output json` prints it, masked like every output (a message may quote a secret). */
export const record = (d: Deployment) => defaultMasker.answer(deploymentRecord(d));
