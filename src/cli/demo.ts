/**
 * `flotilla demo`: the main job for a new user. Copies the bundled example repository into a
 * temporary Git repository, validates it, and shows what Flotilla would do for its first commit
 * and for a follow-up commit (an image bump, a depdef-only change and a folder rename).
 * Deployments on the simulator join this story as the engine lands.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { classifyChanges } from "../config/changes.ts";
import type { RegisterCommand } from "./main.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { printChecklist, validateDir } from "./validate.ts";

const run = promisify(execFile);
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

export const register: RegisterCommand = (program, io, runner) => {
  program
    .command("demo")
    .description("a guided tour on the bundled example repository (no AWS needed)")
    .option("--keep", "keep the temporary repository and print its path", false)
    .action((opts: { keep: boolean }) => runner(() => demo(io, opts)));
};

async function demo(io: CliIO, opts: { keep: boolean }): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-demo-"));
  const git = (...args: string[]) =>
    run("git", args, { cwd: dir, env: { ...io.env, GIT_AUTHOR_NAME: "Flotilla Demo", GIT_AUTHOR_EMAIL: "demo@flotilla.invalid", GIT_COMMITTER_NAME: "Flotilla Demo", GIT_COMMITTER_EMAIL: "demo@flotilla.invalid" } });
  const title = (t: string) => io.out(`\n${paint(io, ["bold", "cyan"], `== ${t}`)}\n\n`);
  try {
    await cp(EXAMPLES, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}scenarios`) });
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("commit", "-q", "-m", "Initial services");

    title("1. Validate the example repository (flotilla validate)");
    const { report } = await validateDir(dir);
    printChecklist(io, report);

    title("2. The first commit: every object counts as added (flotilla changes --initial)");
    printChanges(io, await classifyChanges({ dir, to: "HEAD" }));

    title("3. A follow-up commit: a new image, a depdef-only change, and a renamed folder");
    const input = path.join(dir, "dev/web/web_input.json");
    const values = JSON.parse(await readFile(input, "utf8")) as Record<string, unknown>;
    values["image"] = "public.ecr.aws/nginx/nginx:1.27.4";
    await writeFile(input, JSON.stringify(values, null, 2) + "\n");
    const depdef = path.join(dir, "prod/api/api_depdef.json");
    await writeFile(depdef, (await readFile(depdef, "utf8")).replace('"timeout": 300', '"timeout": 600'));
    await git("mv", "dev/worker", "dev/jobs");
    for (const kind of ["svcdef", "taskdef", "input"]) await git("mv", `dev/jobs/worker_${kind}.json`, `dev/jobs/jobs_${kind}.json`);
    await git("add", "-A");
    await git("commit", "-q", "-m", "Bump web image, relax api timeout, move the worker");
    printChanges(io, await classifyChanges({ dir, from: "HEAD~1", to: "HEAD" }));
    io.out(`\n${paint(io, "dim", "The renamed worker is an update of the same ECS service, never a delete and a create.")}\n`);
    if (opts.keep) io.out(`\nThe demo repository is kept at ${dir}\n`);
    return report.valid ? EXIT.ok : EXIT.failed;
  } finally {
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  }
}

function printChanges(io: CliIO, set: Awaited<ReturnType<typeof classifyChanges>>): void {
  const colour = { deploy: "green", delete: "red", none: "dim" } as const;
  for (const c of set.changes) io.out(`  ${paint(io, colour[c.action], c.action.padEnd(6))} ${c.object.padEnd(22)} ${paint(io, "dim", c.description)}\n`);
}
