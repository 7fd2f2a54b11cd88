/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and prints
 * their figures. Benchmarks print numbers; they never assert wall-clock limits.
 *
 *   npm run bench                 every figure, as a table
 *   npm run bench -- goals        the goals of the performance table only (bench/goals/)
 *   npm run bench -- --json       one JSON array: {name, value, unit, goal, ratio, ...} per figure
 *
 * A figure with a goal carries `goal` (the target value), `direction` ("at most" / "at least"),
 * `ratio` (value ÷ goal) and `met`. Figures without one have `goal: null`.
 */
import { readdir } from "node:fs/promises";

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The target: the value must be at most (or at least) this. */
  goal?: { direction: "at most" | "at least"; value: number };
}
export type Bench = () => Promise<BenchFigure[]>;

export interface JsonFigure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  goal: number | null;
  direction: "at most" | "at least" | null;
  /** value ÷ goal: ≤ 1 meets an "at most" goal, ≥ 1 an "at least" one. */
  ratio: number | null;
  met: boolean | null;
  note: string | null;
}

export function toJson(bench: string, f: BenchFigure): JsonFigure {
  const g = f.goal;
  const ratio = g && g.value !== 0 ? f.value / g.value : null;
  return {
    bench,
    name: f.name,
    value: round(f.value),
    unit: f.unit,
    goal: g ? g.value : null,
    direction: g ? g.direction : null,
    ratio: ratio === null ? null : round(ratio),
    met: g ? (g.direction === "at most" ? f.value <= g.value : f.value >= g.value) : null,
    note: f.note ?? null,
  };
}

function round(n: number): number {
  return Number.isInteger(n) ? n : Number(n.toPrecision(4));
}

function text(f: BenchFigure): string {
  const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(2);
  const j = toJson("", f);
  const goal = f.goal ? `  [goal ${f.goal.direction} ${f.goal.value}: ratio ${j.ratio}, ${j.met ? "met" : "NOT met"}]` : "";
  return `  ${f.name.padEnd(72)} ${value.padStart(12)} ${f.unit}${goal}${f.note ? `  (${f.note})` : ""}\n`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const only = args.filter((a) => a !== "--json");
  const dir = new URL("./", import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".bench.ts") && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
  const out: JsonFigure[] = [];
  for (const file of files) {
    const bench = file.replace(/\.bench\.ts$/, "");
    const mod = (await import(new URL(file, dir).href)) as { default: Bench };
    if (!json) process.stdout.write(`\n${bench}\n`);
    for (const f of await mod.default()) {
      if (json) out.push(toJson(bench, f));
      else process.stdout.write(text(f));
    }
  }
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}
