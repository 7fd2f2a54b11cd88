/** Render and validate a generated repository of 2,000 objects; objects per second and peak memory. */
import { rm } from "node:fs/promises";
import { loadOptions, loadRepository } from "../src/config/repository.ts";
import { WorkingTreeSource } from "../src/config/source.ts";
import { generateTree } from "./goals/config.ts";
import type { BenchFigure } from "./run.ts";

const OBJECTS = 2000;

export default async function (): Promise<BenchFigure[]> {
  const dir = await generateTree(OBJECTS);
  try {
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const start = performance.now();
    const repo = await loadRepository(new WorkingTreeSource(dir), loadOptions());
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const invalid = repo.objects.filter((o) => !o.valid).length;
    if (invalid) throw new Error(`${invalid} generated objects are invalid: ${JSON.stringify(repo.objects.find((o) => !o.valid)?.problems[0])}`);
    return [
      { name: `render + validate ${OBJECTS} objects (working tree, first run in this process)`, value: seconds, unit: "s" },
      { name: "objects per second", value: OBJECTS / seconds, unit: "objects/s" },
      { name: "peak resident memory", value: peak / 1024 / 1024, unit: "MiB" },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
