/** G5: the controller's memory per tracked service, each size in a fresh process (memory-child.ts). */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SERVE_V8_FLAGS } from "../../bin/v8-flags.js";

export interface MemoryRun {
  services: number;
  /** Bytes above the start, after a full GC: resident set, and live heap. */
  rss: number;
  heap: number;
  heapTotal: number;
  cpu: number;
}

export function controllerMemory(services: number, flags: readonly string[] = SERVE_V8_FLAGS): MemoryRun {
  const child = fileURLToPath(new URL("./memory-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, [...flags, "--expose-gc", child, String(services)], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").at(-1)!) as MemoryRun;
}
