/**
 * `sim serve a.json b.json`: several scenario files make one world. Lists (clusters, task
 * definitions, target groups, load balancers, services, alarms, faults, script steps) are joined in
 * the order given; settings of the whole world (Region, account, seed, start, throttling, timing)
 * must agree where more than one file sets them.
 */
import { parseScenario, ScenarioError, type Scenario } from "../scenario.ts";

export interface ScenarioSource {
  data: unknown;
  label: string;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

const LISTS = new Set(["clusters", "taskDefinitions", "targetGroups", "loadBalancers", "services", "alarms", "script"]);

export function mergeScenarios(sources: readonly ScenarioSource[]): { scenario: Scenario; label: string } {
  // Each file must be a valid scenario on its own, so errors carry that file's name and paths.
  for (const s of sources) parseScenario(s.data, s.label);
  const label = sources.map((s) => s.label).join(" + ") || "empty world";
  const merged: Rec = {};
  const setBy: Record<string, string> = {};
  const conflict = (path: string, a: string, b: string): never => {
    throw new ScenarioError(label, [{ path, message: `${a} and ${b} set it differently; give it in one file, or the same in both` }]);
  };
  for (const { data, label: file } of sources) {
    if (!isRec(data)) continue;
    for (const [key, value] of Object.entries(data)) {
      if (key === "$schema") continue;
      if (LISTS.has(key) && Array.isArray(value)) {
        merged[key] = [...((merged[key] as unknown[] | undefined) ?? []), ...(value as unknown[])];
      } else if (key === "faults" && isRec(value)) {
        const into = (merged[key] ??= {}) as Rec;
        for (const [kind, list] of Object.entries(value)) into[kind] = [...((into[kind] as unknown[] | undefined) ?? []), ...(Array.isArray(list) ? (list as unknown[]) : [])];
      } else if (key === "description") {
        merged[key] = merged[key] === undefined ? value : `${merged[key] as string}; ${value as string}`;
      } else if (key === "timing" && isRec(value)) {
        const into = (merged[key] ??= {}) as Rec;
        for (const [k, v] of Object.entries(value)) {
          const path = `$.timing.${k}`;
          if (into[k] !== undefined && JSON.stringify(into[k]) !== JSON.stringify(v)) conflict(path, setBy[path]!, file);
          into[k] = v;
          setBy[path] = file;
        }
      } else {
        const path = `$.${key}`;
        if (merged[key] !== undefined && JSON.stringify(merged[key]) !== JSON.stringify(value)) conflict(path, setBy[path]!, file);
        merged[key] = value;
        setBy[path] = file;
      }
    }
  }
  return { scenario: parseScenario(merged, label), label };
}
