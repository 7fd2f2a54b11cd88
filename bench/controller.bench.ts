/**
 * The controller: commits per second it processes for a repository of 1,000 objects (each commit
 * changes 10 objects; planning and marking, deployments excluded), and its memory while tracking
 * 2,000 services deployed through it on the simulator.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simulatedEngine } from "../src/app/simulated.ts";
import { GitSources } from "../src/controller/sources.ts";
import { VirtualClock } from "../src/core/clock.ts";
import { openSqliteStore } from "../src/store/sqlite.ts";
import type { BenchFigure } from "./run.ts";

/** The benchmark repositories are local, under the temporary directory. */
const LOCAL = { allowHttp: false, allowedLocalRoots: [tmpdir()], credentials: {} };

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b", GIT_CONFIG_GLOBAL: "/dev/null" };

function repoWith(objects: number): { root: string; bare: string; work: string; git: (...a: string[]) => string; write: (i: number, image: string) => void } {
  const root = mkdtempSync(path.join(tmpdir(), "flotilla-bench-ctl-"));
  const bare = path.join(root, "origin.git");
  const work = path.join(root, "work");
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", bare], { env: GIT_ENV });
  execFileSync("git", ["init", "-q", "-b", "main", work], { env: GIT_ENV });
  const git = (...a: string[]) => execFileSync("git", a, { cwd: work, env: GIT_ENV, encoding: "utf8" });
  const write = (i: number, image: string) => {
    const dir = path.join(work, `team${i % 50}`, `svc${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `svc${i}_svcdef.json`), JSON.stringify({ cluster: "apps", serviceName: `svc${i}`, desiredCount: 1, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }));
    writeFileSync(path.join(dir, `svc${i}_taskdef.json`), JSON.stringify({ family: `svc${i}`, containerDefinitions: [{ name: "app", image, memory: 64 }] }));
  };
  for (let i = 0; i < objects; i++) write(i, "app:1");
  git("add", "-A");
  git("commit", "-qm", "initial");
  git("remote", "add", "origin", bare);
  git("push", "-q", "origin", "HEAD:main");
  return { root, bare, work, git, write };
}

export default async function (): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  {
    const r = repoWith(1000);
    const clock = new VirtualClock({ autoAdvance: true });
    const store = await openSqliteStore({ path: ":memory:", clock });
    await store.addRepository({ name: "apps", url: r.bare, branch: "main", pollIntervalSeconds: 30 });
    let planned = 0;
    const sources = new GitSources({ store, clock, dataDir: path.join(r.root, "data"), holder: "bench", policy: LOCAL, handler: () => Promise.resolve(void (planned += 1)) });
    await sources.queue.sync("apps", "manual"); // the first commit: every object added
    const COMMITS = 20;
    for (let c = 0; c < COMMITS; c++) {
      for (let k = 0; k < 10; k++) r.write((c * 10 + k) % 1000, `app:${c + 2}`);
      r.git("commit", "-qam", `change ${c}`);
    }
    r.git("push", "-q", "origin", "HEAD:main");
    const start = performance.now();
    await sources.queue.sync("apps", "poll");
    const seconds = (performance.now() - start) / 1000;
    figures.push({ name: `commits processed per second (1,000 objects, ${COMMITS} commits × 10 changed)`, value: COMMITS / seconds, unit: "commits/s", note: `fetch + plan + mark, ${planned - 1} commits, deployments excluded` });
    await sources.stop();
    await store.close();
    rmSync(r.root, { recursive: true, force: true });
  }
  {
    const SERVICES = 2000;
    const r = repoWith(SERVICES);
    const engine = await simulatedEngine({ clusters: ["apps"] });
    const { store } = engine;
    await store.addRepository({ name: "apps", url: r.bare, branch: "main", pollIntervalSeconds: 30 });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const controller = engine.controller({ dataDir: path.join(r.root, "data"), holder: "bench", policy: LOCAL, concurrency: 100, allowDelete: false, maxDeleteFraction: 0.5 });
    const start = performance.now();
    await controller.sources.queue.sync("apps", "manual");
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const ok = (await store.latestPerObject({ repository: "apps" })).filter((d) => d.phase === "Succeeded").length;
    if (ok !== SERVICES) throw new Error(`only ${ok} of ${SERVICES} deployments succeeded`);
    figures.push({ name: `first commit of ${SERVICES} services deployed through the controller`, value: seconds, unit: "s wall", note: "all succeeded; deployments in virtual time on the simulator" });
    figures.push({ name: `controller peak resident memory tracking ${SERVICES} services`, value: peak / 1024 / 1024, unit: "MiB", note: `${Math.round((peak - before) / 1024 / 1024)} MiB above the start` });
    await controller.stop();
    await engine.close();
    rmSync(r.root, { recursive: true, force: true });
  }
  return figures;
}
