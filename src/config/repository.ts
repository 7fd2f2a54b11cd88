/**
 * A whole tree: every object loaded and validated, plus the checks that span objects
 * (two objects managing one service, definition files without a svcdef).
 */
import os from "node:os";
import type { Problem } from "../core/problems.ts";
import { discoverObjects, type ObjectFiles } from "./discover.ts";
import { RefCache } from "./inputs.ts";
import { checkObjectCount, DEFAULT_INPUT_LIMITS } from "./limits.ts";
import { identityKey, loadObject, type LoadedObject, type LoadOptions } from "./load-object.ts";
import type { RepoSource } from "./source.ts";

export interface LoadedRepository {
  objects: LoadedObject[];
  /** Problems that belong to no single object's validity (orphans, duplicates). */
  problems: Problem[];
}

export function defaultRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1";
}

export function loadOptions(overrides: Partial<LoadOptions> = {}): LoadOptions {
  return { defaultRegion: defaultRegion(), refs: new RefCache(), limits: DEFAULT_INPUT_LIMITS, ...overrides };
}

/** Run `fn` over items with at most `limit` in flight, keeping order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const CONCURRENCY = Math.max(4, os.availableParallelism() * 4);

export async function loadRepository(source: RepoSource, options: LoadOptions = loadOptions(), filter?: (o: ObjectFiles) => boolean): Promise<LoadedRepository> {
  const all = discoverObjects(await source.listFiles());
  checkObjectCount(all, options.limits, `the tree ${source.label}`);
  const problems: Problem[] = [];
  const services = all.filter((o) => o.svcdef !== undefined && (!filter || filter(o)));
  for (const orphan of all.filter((o) => o.svcdef === undefined && (!filter || filter(o)))) {
    const file = orphan.taskdef ?? orphan.depdef ?? orphan.input!;
    problems.push({
      code: "FLT-OBJECT-ORPHAN-FILE",
      severity: "warning",
      file,
      object: orphan.name,
      message: `no ${orphan.name}_svcdef.json beside this file, so it belongs to no service and is ignored`,
      hint: "add the svcdef, or check the file name's prefix",
    });
  }
  const objects = await mapBounded(services, CONCURRENCY, (o) => loadObject(source, o, options));
  problems.push(...duplicateServices(objects));
  return { objects, problems };
}

export function duplicateServices(objects: LoadedObject[]): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, LoadedObject>();
  for (const o of objects) {
    if (!o.identity) continue;
    const key = identityKey(o.identity);
    const first = owners.get(key);
    if (!first) {
      owners.set(key, o);
      continue;
    }
    const problem: Problem = {
      code: "FLT-OBJECT-DUPLICATE-SERVICE",
      severity: "error",
      object: o.name,
      file: o.files.svcdef!,
      path: "$.serviceName",
      message: `service ${o.identity.service} in cluster ${o.identity.cluster} (${o.identity.region}) is also managed by ${first.name}: two objects would fight over one service`,
      hint: "give one of them another serviceName, cluster or region",
    };
    problems.push(problem);
    o.problems.push(problem);
    o.valid = false;
  }
  return problems;
}
