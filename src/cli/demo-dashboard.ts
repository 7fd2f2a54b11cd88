/**
 * `flotilla demo --dashboard`: the demo story played by a real `flotilla serve --simulator`, so it can
 * be watched live in the dashboard. A temporary Git repository with the examples is registered with
 * the server; each step of the story is a commit the controller picks up and deploys:
 *   1. the first commit deploys everything,
 *   2. a good image ships as a rolling update,
 *   3. a bad image crashes, the circuit breaker trips, Flotilla rolls back,
 *   4. a new web image ships blue/green: a canary, then all traffic, then a bake,
 *   5. a release candidate's alarm fires during the canary: traffic returns to blue,
 *   6. a commit with a typo in a deployment definition is invalid: its problems have file and line.
 *
 * `DemoWorld` is also what the dashboard's browser tests run against (test/web/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { authoredGit } from "../git/author.ts";
import type { DeploymentRecord } from "../store/record.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import { SystemClock } from "../core/clock.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const REPOSITORY = "apps";
/** The bad rolling image of step 3: its tasks exit a few seconds after they start. */
const BAD_IMAGE = "*httpd:2.4.64-rc1";

export interface DemoWorldOptions {
  /** Simulated seconds per real second. */
  speed: number;
  /** host:port for the server (port 0: any free one). */
  listen: string;
  /** Which of the examples' top folders go into the repository (default: all). */
  folders?: readonly string[];
  /** Seconds between the controller's looks at the repository (simulated). */
  pollSeconds?: number;
  /** More of the server configuration (e.g. syncWindows, drift), beside the demo's own. */
  config?: Record<string, unknown>;
}

/** A temporary repository, a simulated AWS and a `flotilla serve --simulator` process serving both. */
export class DemoWorld {
  readonly dir: string;
  readonly repo: string;
  readonly url: string;
  /** The operator token `admin` of this server (made up for the demo, gone with it). */
  readonly token: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  private constructor(dir: string, url: string, token: string, child: ChildProcess, exited: Promise<number | null>) {
    this.dir = dir;
    this.repo = path.join(dir, "repo");
    this.url = url;
    this.token = token;
    this.logFile = path.join(dir, "serve.log");
    this.#child = child;
    this.#exited = exited;
  }

  static async create(options: DemoWorldOptions): Promise<DemoWorld> {
    const dir = await mkdtemp(path.join(tmpdir(), "flotilla-dashboard-demo-"));
    try {
      const repo = path.join(dir, "repo");
      await cp(EXAMPLES, repo, { recursive: true, filter: (src) => !src.includes(`${path.sep}scenarios`) && !src.includes(`${path.sep}sim-serve`) });
      if (options.folders) {
        for (const entry of await readdir(repo)) if (!options.folders.includes(entry)) await rm(path.join(repo, entry), { recursive: true, force: true });
      }
      await git(repo, "init", "-q", "-b", "main");
      await git(repo, "add", "-A");
      await git(repo, "commit", "-q", "-m", "Initial services");

      // The examples' AWS, plus the fault that makes step 3's image crash.
      const dev = JSON.parse(await readFile(path.join(EXAMPLES, "scenarios", "dev.json"), "utf8")) as Record<string, unknown>;
      dev["faults"] = { images: [{ image: BAD_IMAGE, exitAfter: "4s", exitCode: 1 }] };
      await writeFile(path.join(dir, "dev.json"), JSON.stringify(dev, null, 2));
      await writeFile(path.join(dir, "flotilla.json"), JSON.stringify({ ...options.config, allowedLocalRoots: [dir] }));
      await mkdir(path.join(dir, "data"));

      const token = `flt_demo_${randomBytes(24).toString("base64url")}`;
      const log = createWriteStream(path.join(dir, "serve.log"));
      const child = spawn(
        process.execPath,
        [BIN, "serve", "--listen", options.listen, "--config", path.join(dir, "flotilla.json"), "--simulator", `${path.join(dir, "dev.json")},${path.join(EXAMPLES, "scenarios", "prod.json")}`, "--speed", String(options.speed), "--store", path.join(dir, "flotilla.db"), "--data-dir", path.join(dir, "data")],
        { cwd: dir, env: { ...process.env, FLOTILLA_ADMIN_TOKEN: token, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        log.write(c);
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => { log.end(); resolve(code); }));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`flotilla serve did not start in 60 s:\n${stderr}`)), 60_000);
        child.stderr.on("data", () => {
          const m = /API on (http:\/\/[^\s;"]+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!.replace(/\/$/, ""));
          }
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`flotilla serve stopped (exit ${code}) before it listened:\n${stderr}`));
        });
      });
      const world = new DemoWorld(dir, url, token, child, exited);
      const added = await world.api("POST", "/api/v1/repositories", { name: REPOSITORY, url: repo, branch: "main", pollIntervalSeconds: options.pollSeconds ?? 10 });
      if (added.status !== 201) throw new Error(`registering the demo repository failed: ${added.status} ${JSON.stringify(added.body)}`);
      return world;
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** A call to the server's API with the admin token. */
  async api(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.url}${route}`, { method, headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  }

  /** Writes files (path → JSON value or text) into the repository and commits them; returns the commit's sha. */
  async commit(message: string, files: Record<string, unknown>): Promise<string> {
    for (const [file, content] of Object.entries(files)) {
      await writeFile(path.join(this.repo, file), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
    }
    await git(this.repo, "add", "-A");
    await git(this.repo, "commit", "-q", "-m", message);
    return (await git(this.repo, "rev-parse", "HEAD")).trim();
  }

  /** Sets `image` in an object's _input.json and commits it. */
  async setImage(object: string, image: string, message = `${object}: ${image}`): Promise<string> {
    const file = `${object}_input.json`;
    const values = JSON.parse(await readFile(path.join(this.repo, file), "utf8")) as Record<string, unknown>;
    return this.commit(message, { [file]: { ...values, image } });
  }

  async readFile(file: string): Promise<string> {
    return readFile(path.join(this.repo, file), "utf8");
  }

  /** The deployments a commit started, once the controller processed it and all of them finished. */
  async settle(sha: string, options: { timeoutMs?: number } = {}): Promise<DeploymentRecord[]> {
    // A real server process in real time: the wall clock, through the one class that reads it.
    const clock = new SystemClock();
    const deadline = clock.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const repo = (await this.api("GET", `/api/v1/repositories/${REPOSITORY}`)).body as { lastCommit: { sha: string } | null };
      const items = ((await this.api("GET", `/api/v1/deployments?repository=${REPOSITORY}&commit=${sha}&limit=100`)).body as { items: DeploymentRecord[] }).items;
      if (repo.lastCommit?.sha === sha && items.every((d) => d.finishedAt !== null)) return items;
      if (clock.now() > deadline) throw new Error(`commit ${sha.slice(0, 7)} did not settle in time`);
      await clock.sleep(250);
    }
  }

  /** Stops the server and removes everything the world made. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await this.#exited;
    clearTimeout(timer);
    await rm(this.dir, { recursive: true, force: true });
  }
}

function git(cwd: string, ...args: string[]): Promise<string> {
  return authoredGit(cwd, process.env)(...args);
}

/** The story, told on stdout while the dashboard shows it. */
export async function dashboardDemo(io: CliIO, options: { speed: number; listen: string; exit: boolean }): Promise<number> {
  const title = (t: string) => io.out(`\n${paint(io, ["bold", "cyan"], `== ${t}`)}\n`);
  const say = (t: string) => io.out(`${paint(io, "dim", t)}\n`);
  io.out(`Starting flotilla serve on the simulator (${options.speed}× real time)…\n`);
  const world = await DemoWorld.create({ speed: options.speed, listen: options.listen });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const pause = (seconds: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, seconds * 1000);
    stop.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
  const show = (ds: readonly DeploymentRecord[]) => {
    for (const d of ds) io.out(`  ${paint(io, d.phase === "Succeeded" ? "green" : "red", d.phase.padEnd(11))} ${d.object.padEnd(18)} ${world.url}/deployments/${d.id}\n`);
  };
  let ok = true;
  try {
    io.out(`\n${paint(io, "bold", "Open the dashboard:")} ${world.url}/\n${paint(io, "bold", "Sign in with the token:")} ${world.token}\n`);
    say(`(a token made for this demo; the server's log is ${world.logFile})`);

    const step = async (name: string, narration: string, commit: () => Promise<string>, expect: (ds: readonly DeploymentRecord[]) => boolean) => {
      if (stop.signal.aborted) return;
      title(name);
      say(narration);
      const sha = await commit();
      io.out(`  commit ${sha.slice(0, 7)}: ${world.url}/repositories/${REPOSITORY}/commits/${sha}\n`);
      const ds = await world.settle(sha);
      show(ds);
      if (!expect(ds)) ok = false;
      // Time to look at each step in the browser: 4 s at the default speed, less when sped up.
      await pause(Math.min(4, 80 / options.speed));
    };
    await step("1. The first commit deploys every service", "The controller found the repository and deploys what its first commit holds, dev and prod.", async () => (await git(world.repo, "rev-parse", "HEAD")).trim(), (ds) => ds.every((d) => d.phase === "Succeeded"));
    await step("2. A good image ships as a rolling update", "dev/api/api gets a new httpd image.", () => world.setImage("dev/api/api", "public.ecr.aws/docker/library/httpd:2.4.63"), (ds) => ds.every((d) => d.phase === "Succeeded"));
    await step("3. A bad image: its tasks crash, the circuit breaker trips, Flotilla rolls back", "Watch the failed tasks climb in the deployment's chart.", () => world.setImage("dev/api/api", "public.ecr.aws/docker/library/httpd:2.4.64-rc1"), (ds) => ds.every((d) => d.phase === "RolledBack"));
    await step("4. A new web image ships blue/green: 10% canary, then all traffic, then a bake", "Open the deployment to watch the weights move.", () => world.setImage("dev/web/web", "public.ecr.aws/nginx/nginx:1.27.4"), (ds) => ds.every((d) => d.phase === "Succeeded"));
    await step("5. A release candidate: its 5xx alarm fires during the canary, traffic returns to blue", "The chart marks the alarm; the deployment says which check failed, when and at what weight.", () => world.setImage("dev/web/web", "public.ecr.aws/nginx/nginx:1.28.0-rc1"), (ds) => ds.every((d) => d.phase === "RolledBack"));
    await step("6. A new image with a typo in its deployment definition: the commit is invalid", "The commit's page lists the problem with its code, file and line; the object is not deployed.", async () => {
      const depdef = await world.readFile("dev/web/web_depdef.json");
      const input = JSON.parse(await world.readFile("dev/web/web_input.json")) as Record<string, unknown>;
      return world.commit("dev/web/web: nginx 1.27.5 with a longer canary (and a typo)", {
        "dev/web/web_input.json": { ...input, image: "public.ecr.aws/nginx/nginx:1.27.5" },
        "dev/web/web_depdef.json": depdef.replace('"trafficShiftingConfig"', '"trafficShifingConfig"'),
      });
    }, (ds) => ds.length === 0);

    if (!stop.signal.aborted) {
      title("The end");
      say(`Everything above is in the dashboard at ${world.url}/ — ${options.exit ? "stopping now." : "the server keeps running so you can look around; Ctrl-C stops it."}`);
      if (!options.exit) await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
    }
    return ok ? EXIT.ok : EXIT.failed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await world.close();
  }
}
