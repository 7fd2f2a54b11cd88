/**
 * `flotilla demo`: the main job for a new user, as a story on the built-in simulator in accelerated
 * real time (no AWS account needed). It copies the example repository into a temporary Git
 * repository and then, commit by commit:
 *   1. validates it and shows what the first commit does,
 *   2. deploys the dev environment's services,
 *   3. ships a good image as a rolling update,
 *   4. ships a bad image: the circuit breaker catches it and rolls back,
 *   5. ships a new web image blue/green: a canary, then all traffic,
 *   6. ships a release candidate whose alarm fires during the canary: traffic goes back to blue,
 *   7. ships checkout with ECS's own LINEAR deployment, which Flotilla follows stage by stage,
 *   8. ships a checkout beta whose alarm fires mid-LINEAR: ECS rolls it back, Flotilla says why.
 *   9. deploys two versions of a rainbow service side by side, opens both URLs, cuts over, cuts
 *      back and cleans up (demo-rainbow.ts).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { classifyChanges, type ChangeSet } from "../config/changes.ts";
import { loadOptions, loadRepository } from "../config/repository.ts";
import { WorkingTreeSource } from "../config/source.ts";
import { authoredGit } from "../git/author.ts";
import { apply } from "../controller/apply.ts";
import type { Command } from "commander";
import { FlotillaError } from "../core/problems.ts";
import { openContext } from "./context.ts";
import { dashboardDemo } from "./demo-dashboard.ts";
import type { RegisterCommand } from "./main.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { plural } from "./output.ts";
import { progressPrinter, resultLine } from "./progress.ts";
import { validateDir } from "./validate.ts";
import { SHOP, shopListener, shopOperations, writeShop } from "./demo-rainbow.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
/** The dev environment: two rolling services, a blue/green one, an ECS-managed LINEAR one, and (act 9) a rainbow one. */
const DEV_OBJECTS = ["dev/api/api", "dev/checkout/checkout", "dev/web/web", "dev/worker/worker", SHOP];

export const register: RegisterCommand = (program, io, runner) => {
  program
    .command("demo")
    .description("a guided story on the built-in simulator: deploy the examples, a good update, a bad image rolled back (no AWS needed)")
    .option("--speed <factor>", "simulated seconds per real second", "40")
    .option("--instant", "run in virtual time, as fast as possible", false)
    .option("--keep", "keep the temporary repository and print its path", false)
    .option("--dashboard", "play the story in `flotilla serve` on the simulator, live in the web dashboard (prints its URL and a token)", false)
    .option("--listen <host:port>", "with --dashboard: the server's address", "127.0.0.1:8080")
    .option("--exit", "with --dashboard: stop the server when the story ends", false)
    .action((opts: { speed: string; instant: boolean; keep: boolean; dashboard: boolean; listen: string; exit: boolean }, command: Command) =>
      runner(() => {
        if (!opts.dashboard) return demo(io, opts);
        // Watched by a person: slower than the terminal story unless --speed is given.
        const speed = command.getOptionValueSource("speed") === "default" ? 20 : Number(opts.speed);
        if (opts.instant) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: "--instant does not apply to --dashboard: the story plays in real time (see --speed)" });
        if (!(speed > 0)) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--speed must be a positive number, not ${opts.speed}` });
        return dashboardDemo(io, { speed, listen: opts.listen, exit: opts.exit });
      }),
    );
};

async function demo(io: CliIO, opts: { speed: string; instant: boolean; keep: boolean }): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-demo-"));
  const git = authoredGit(dir, io.env);
  const title = (t: string) => io.out(`\n${paint(io, ["bold", "cyan"], `== ${t}`)}\n\n`);
  const say = (t: string) => io.out(`${paint(io, "dim", t)}\n`);
  const ctx = await openContext({ ...io, cwd: dir }, {
    store: ":memory:",
    simulator: ["dev", "prod"].map((env) => path.join(EXAMPLES, "scenarios", `${env}.json`)).join(","),
    ...(opts.instant ? {} : { speed: opts.speed }),
  });
  const runner = ctx.world.runner({ onUpdate: progressPrinter(io, ctx.clock) });
  const deploy = async (from: string | undefined) => {
    const changes = await classifyChanges({ dir, from, to: "HEAD" });
    printChanges(io, changes);
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const changed = changes.changes.filter((c) => c.action === "deploy" && DEV_OBJECTS.includes(c.object)).map((c) => c.object);
    io.out("\n");
    const result = await apply(repo.objects, { store: ctx.worldStore, aws: ctx.aws, runner, only: changed, allowDelete: false, maxDeleteFraction: 0.5, confirmMassDelete: false, concurrency: 4 });
    io.out("\n");
    for (const d of result.deployments) io.out(resultLine(io, d) + "\n");
    for (const x of result.errors) io.out(`stopped    ${x.object}: ${x.message}\n`);
    return result.deployments;
  };
  const setImage = async (object: string, image: string) => {
    const file = path.join(dir, `${object}_input.json`);
    const values = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    values["image"] = image;
    await writeFile(file, JSON.stringify(values, null, 2) + "\n");
    await git("commit", "-qam", `${object}: ${image}`);
  };
  try {
    await cp(EXAMPLES, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}scenarios`) });
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("commit", "-q", "-m", "Initial services");
    say(`A copy of the example repository is a Git repository at ${dir}; ECS, the load balancers and CloudWatch are simulated${opts.instant ? "" : ` at ${opts.speed}× real time`}.`);

    title("1. Validate the repository (flotilla validate)");
    const { report } = await validateDir(dir);
    for (const o of report.objects) io.out(`  ${o.valid ? paint(io, "green", "[OK]") : paint(io, "red", "[NG]")} ${o.object.padEnd(20)} ${paint(io, "dim", `${o.label ?? o.strategy} · ${o.service} in ${o.cluster} (${o.region})`)}\n`);
    io.out(`  ${plural(report.summary.objects, "object")}, ${plural(report.summary.errors, "error")}, ${plural(report.summary.warnings, "warning")} (run \`flotilla validate examples\` to read them)\n`);

    title("2. The first commit deploys the dev environment");
    const created = await deploy(undefined);

    title("3. A good image ships as a rolling update");
    await setImage("dev/api/api", "public.ecr.aws/docker/library/httpd:2.4.63");
    const good = await deploy("HEAD~1");

    title("4. A bad image: its tasks crash, the circuit breaker trips, Flotilla rolls back");
    for (const sim of ctx.simulators.values()) sim.faults.addImageFault({ image: "*httpd:2.4.64-rc1", exitAfterMs: 4000, exitCode: 1 });
    await setImage("dev/api/api", "public.ecr.aws/docker/library/httpd:2.4.64-rc1");
    const bad = await deploy("HEAD~1");

    title("5. A new web image ships blue/green: 10% canary, then all traffic, then a bake");
    await setImage("dev/web/web", "public.ecr.aws/nginx/nginx:1.27.4");
    const canary = await deploy("HEAD~1");

    title("6. A release candidate: its 5xx alarm fires during the canary, traffic returns to blue");
    await setImage("dev/web/web", "public.ecr.aws/nginx/nginx:1.28.0-rc1");
    const alarmed = await deploy("HEAD~1");

    title("7. checkout ships with ECS's own LINEAR deployment: 25% of production at a time, Flotilla follows each stage");
    await setImage("dev/checkout/checkout", "public.ecr.aws/docker/library/caddy:2.9.2");
    const linear = await deploy("HEAD~1");

    title("8. A checkout beta: its 5xx alarm fires mid-LINEAR, ECS rolls back, Flotilla reports why");
    await setImage("dev/checkout/checkout", "public.ecr.aws/docker/library/caddy:2.10.0-beta.1");
    const ecsRolledBack = await deploy("HEAD~1");
    title("9. Rainbow: two versions of the shop side by side, each at its own URL; cut over, cut back, clean up");
    const sim = ctx.simulators.get("us-east-1")!;
    const listenerArn = await shopListener(sim);
    const versions: Awaited<ReturnType<typeof deploy>>[] = [];
    for (const version of ["v1", "v2"]) {
      await writeShop(dir, sim, listenerArn, version);
      await git("add", "-A");
      await git("commit", "-q", "-m", `${SHOP}: version ${version}`);
      versions.push(await deploy("HEAD~1"));
    }
    const shop = await shopOperations(io, ctx, runner, sim, say);
    say("v2's URL now falls through to the live version: its rule, service and target group are gone.");

    const ok =
      created.every((d) => d.phase === "Succeeded") &&
      linear.every((d) => d.phase === "Succeeded") &&
      ecsRolledBack.every((d) => d.phase === "RolledBack") &&
      good.every((d) => d.phase === "Succeeded") &&
      bad.every((d) => d.phase === "RolledBack") &&
      canary.every((d) => d.phase === "Succeeded") &&
      alarmed.every((d) => d.phase === "RolledBack") &&
      versions.every((v) => v.length === 1 && v[0]!.phase === "Succeeded") &&
      shop.deployments.every((d) => d.phase === "Succeeded") &&
      shop.reached.join(" ") === "shop-v1 shop-v2  shop-v2 shop-v1 shop-v1";
    title("The end");
    say("No bad revision became the steady state: the api runs the good image again, web's release candidate saw 10% of traffic for about half a minute before blue took it all back, and ECS moved checkout's production traffic back from the beta. The shop's versions each had their own URL, and the live one changed in one call each way. Every step (for checkout, each of ECS's lifecycle stages) is in the deployments' timelines.");
    say("Try `flotilla apply examples --simulator examples/scenarios/dev.json,examples/scenarios/prod.json`, then `flotilla history --rehearsal`.");
    if (opts.keep) io.out(`\nThe demo repository is kept at ${dir}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  } finally {
    await ctx.close();
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  }
}

function printChanges(io: CliIO, set: ChangeSet): void {
  io.out(`${paint(io, "bold", `flotilla changes`)} ${set.from ? set.from.slice(0, 8) : "(first commit)"} → ${set.to.slice(0, 8)}\n`);
  const colour = { deploy: "green", delete: "red", none: "dim" } as const;
  for (const c of set.changes) {
    const skipped = c.action === "deploy" && !DEV_OBJECTS.includes(c.object) ? paint(io, "dim", " (not in this demo)") : "";
    io.out(`  ${paint(io, colour[c.action], c.action.padEnd(6))} ${c.object.padEnd(20)} ${paint(io, "dim", c.description)}${skipped}\n`);
  }
}
