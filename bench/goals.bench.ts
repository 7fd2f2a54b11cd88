/**
 * The performance table (README, "Performance"; issue 14): each goal measured as a ratio within
 * this one run, and how the figures grow from N = 100 to 1,000 to 2,000. Times are CPU seconds of
 * this process (the machine may be shared and busy); wall times are in the notes.
 *
 *   npm run bench -- goals            the table
 *   npm run bench -- --json goals     the same as JSON: {name, value, unit, goal, ratio, ...}
 */
import { blueGreenCalls } from "./goals/bluegreen.ts";
import { commitOfUpdates } from "./goals/commit.ts";
import { renderAndValidate } from "./goals/config.ts";
import { fmt, SIZES } from "./goals/measure.ts";
import { controllerMemory } from "./goals/memory.ts";
import { pollRound } from "./goals/polling.ts";
import { simulateRollout } from "./goals/simulator.ts";
import type { BenchFigure } from "./run.ts";

const KB = 1000;

/** Growth of a per-service cost from the smallest size to the largest: about 1 when it is linear in N. */
function growth(name: string, perService: (n: number) => number, sizes: readonly number[]): BenchFigure {
  const first = sizes[0]!;
  const last = sizes.at(-1)!;
  return {
    name: `${name}: per-service cost at N=${last} ÷ at N=${first}`,
    value: perService(last) / perService(first),
    unit: "×",
    goal: { direction: "at most", value: 2 },
    note: sizes.map((n) => `N=${n} ${perService(n).toPrecision(3)}`).join(", "),
  };
}

export default async function (): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];

  // G3 first: the simulator underlies G1, G2, G5 and G6.
  const sim = new Map<number, Awaited<ReturnType<typeof simulateRollout>>>();
  for (const n of SIZES) sim.set(n, await simulateRollout(n, false));
  for (const n of SIZES) {
    const r = sim.get(n)!;
    figures.push({
      name: `G3 simulator: simulated s per CPU s, ${n} services × 10 tasks rolling`,
      value: r.perCpu,
      unit: "sim-s/s",
      ...(n === 2000 ? { goal: { direction: "at least" as const, value: 3600 } } : {}),
      note: `${fmt(r.perWall, 0)} per wall s; ${r.events} events`,
    });
  }
  figures.push(growth("G3 simulator", (n) => 1 / (sim.get(n)!.perCpu * n), SIZES));
  const observed = await simulateRollout(2000, true);
  figures.push({ name: "G3 simulator with today's per-service polling every 15 s, 2,000 services", value: observed.perCpu, unit: "sim-s/s", note: `${fmt(observed.perWall, 0)} per wall s; DescribeServices 10 at a time, ListTasks + DescribeTasks of stopped tasks per service` });

  // G4: render + validate against read + JSON.parse of the same files, in this process.
  const cfg = new Map<number, Awaited<ReturnType<typeof renderAndValidate>>>();
  for (const n of SIZES) cfg.set(n, await renderAndValidate(n));
  for (const n of SIZES) {
    const r = cfg.get(n)!;
    figures.push({
      name: `G4 config: render + validate ÷ read + JSON.parse, ${n} objects`,
      value: r.load / r.baseline,
      unit: "×",
      ...(n === 2000 ? { goal: { direction: "at most" as const, value: 5 } } : {}),
      note: `CPU ${fmt(r.load * 1000, 0)} ms vs ${fmt(r.baseline * 1000, 0)} ms; wall ${fmt(r.loadWall * 1000, 0)} ms vs ${fmt(r.baselineWall * 1000, 0)} ms (medians of 3)`,
    });
  }
  figures.push(growth("G4 config", (n) => cfg.get(n)!.load / n, SIZES));

  // G6: one blue/green LINEAR deployment.
  const bg = await blueGreenCalls();
  const top = Object.entries(bg.byOperation).slice(0, 4).map(([k, v]) => `${k} ${v}`).join(", ");
  figures.push({ name: "G6 AWS calls for one blue/green LINEAR deployment (5 steps, 10 s polls)", value: bg.calls, unit: "calls", goal: { direction: "at most", value: 120 }, note: `${fmt(bg.seconds, 0)} simulated s; ${top}` });

  // G1: ECS calls per poll round, N deployments in one cluster, and N per-service waiters.
  const polls = new Map<number, Awaited<ReturnType<typeof pollRound>>>();
  for (const n of [100, 1000]) polls.set(n, await pollRound(n));
  for (const [n, r] of polls) {
    const goal = Math.ceil(n / 10) + 1 + 1; // DescribeServices 10 at a time (+1), and one ListTasks for the cluster
    figures.push({
      name: `G1 ECS calls per poll round, ${n} deployments in one cluster`,
      value: r.engine,
      unit: "calls",
      goal: { direction: "at most", value: goal },
      note: `${fmt(r.engine / r.waiters, 2)}× what ${n} per-service waiters spend (${fmt(r.waiters, 0)}); ${Object.entries(r.byOperation).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    });
  }
  figures.push(growth("G1 poll round", (n) => polls.get(n)!.engine / n, [100, 1000]));

  // G2: a 1,000-service commit at the default settings against the RegisterTaskDefinition floor.
  const commit = await commitOfUpdates(1000);
  figures.push({
    name: "G2 1,000-service update commit: the 980 s floor ÷ its simulated duration",
    value: commit.floor / commit.seconds,
    unit: "of the floor",
    goal: { direction: "at least", value: 0.95 },
    note: `${fmt(commit.seconds, 0)} simulated s at concurrency ${commit.concurrency}; ${commit.throttled} ThrottlingExceptions answered`,
  });
  figures.push({ name: "G2 deployments of that commit that failed (throttling or otherwise)", value: commit.failed, unit: "deployments", goal: { direction: "at most", value: 0 } });

  // G5: the controller's memory per tracked service, each size in a fresh process with serve's V8 flags.
  const mem = new Map<number, ReturnType<typeof controllerMemory>>();
  for (const n of SIZES) mem.set(n, controllerMemory(n));
  for (const n of SIZES) {
    const r = mem.get(n)!;
    figures.push({
      name: `G5 controller RSS per tracked service, ${n} services`,
      value: r.rss / n / KB,
      unit: "KB",
      ...(n === 2000 ? { goal: { direction: "at most" as const, value: 50 } } : {}),
      note: `retained heap ${fmt(r.heap / n / KB, 1)} KB per service; heap reserved ${fmt(r.heapTotal / n / KB, 1)} KB; ${fmt(r.cpu, 1)} CPU s`,
    });
  }
  figures.push({ name: "G5 retained heap per tracked service, 2,000 services", value: mem.get(2000)!.heap / 2000 / KB, unit: "KB" });
  figures.push(growth("G5 controller memory", (n) => mem.get(n)!.heap / n, SIZES));
  return figures;
}
