/**
 * G5's measurement, in a process of its own (so RSS starts clean), started by memory.ts with the
 * V8 flags `flotilla serve` runs with: a repository of N services, the controller deploying its
 * first commit on the simulator, then RSS and heap after a full GC, against before the
 * controller started. Prints one JSON line.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simulatedEngine } from "../../src/app/simulated.ts";

const N = Number(process.argv[2]);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const LOCAL = { allowHttp: false, allowedLocalRoots: [tmpdir()], credentials: {} };
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b", GIT_CONFIG_GLOBAL: "/dev/null" };

const root = mkdtempSync(path.join(tmpdir(), "flotilla-bench-mem-"));
try {
  const bare = path.join(root, "origin.git");
  const work = path.join(root, "work");
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", bare], { env: GIT_ENV });
  execFileSync("git", ["init", "-q", "-b", "main", work], { env: GIT_ENV });
  const git = (...a: string[]) => execFileSync("git", a, { cwd: work, env: GIT_ENV, encoding: "utf8" });
  for (let i = 0; i < N; i++) {
    const dir = path.join(work, `team${i % 50}`, `svc${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `svc${i}_svcdef.json`), JSON.stringify({ cluster: "apps", serviceName: `svc${i}`, desiredCount: 1, launchType: "EC2", deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } } }));
    writeFileSync(path.join(dir, `svc${i}_taskdef.json`), JSON.stringify({ family: `svc${i}`, containerDefinitions: [{ name: "app", image: "app:1", memory: 64 }] }));
  }
  git("add", "-A");
  git("commit", "-qm", "initial");
  git("remote", "add", "origin", bare);
  git("push", "-q", "origin", "HEAD:main");

  const engine = await simulatedEngine({ clusters: ["apps"], storePath: path.join(root, "flotilla.db") });
  const { store } = engine;
  await store.addRepository({ name: "apps", url: bare, branch: "main", pollIntervalSeconds: 30 });
  gc();
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const controller = engine.controller({ dataDir: path.join(root, "data"), holder: "bench", policy: LOCAL, concurrency: 100, allowDelete: false, maxDeleteFraction: 0.5 });
  await controller.sources.queue.sync("apps", "manual");
  const cpu = process.cpuUsage(cpu0);
  const ok = (await store.latestPerObject({ repository: "apps" })).filter((d) => d.phase === "Succeeded").length;
  if (ok !== N) throw new Error(`only ${ok} of ${N} deployments succeeded`);
  gc();
  const after = process.memoryUsage();
  process.stdout.write(JSON.stringify({ services: N, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, heapTotal: after.heapTotal - before.heapTotal, cpu: (cpu.user + cpu.system) / 1e6 }) + "\n");
  await controller.stop();
  await engine.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
