/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and prints
 * their figures. Benchmarks print numbers; they never assert wall-clock limits.
 */
import { readdir } from "node:fs/promises";

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
export type Bench = () => Promise<BenchFigure[]>;

const dir = new URL("./", import.meta.url);
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith(".bench.ts") && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
for (const file of files) {
  const mod = (await import(new URL(file, dir).href)) as { default: Bench };
  process.stdout.write(`\n${file.replace(/\.bench\.ts$/, "")}\n`);
  for (const f of await mod.default()) {
    const value = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(2);
    process.stdout.write(`  ${f.name.padEnd(64)} ${value.padStart(12)} ${f.unit}${f.note ? `  (${f.note})` : ""}\n`);
  }
}
