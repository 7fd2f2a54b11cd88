/**
 * From a deployment's samples, timeline and operator controls to the chart's series and markers:
 * each target group's traffic weight, each task set's running/healthy/failed tasks, and the moments
 * alarms changed state or someone acted. Pure (no DOM), so it is unit-tested under Node.
 */
import type { ControlRecord, EventRecord, SampleRecord } from "./api.ts";
import { shortArn } from "./format.ts";

export type Role = "blue" | "green" | "old" | "new";

export interface Series {
  label: string;
  role: Role | "other";
  metric: "weight" | "running" | "healthy" | "failed";
  values: (number | null)[];
}

export interface Marker {
  /** Epoch ms. */
  at: number;
  kind: "alarm" | "operator" | "failure";
  label: string;
}

export interface ChartData {
  /** Epoch seconds (uPlot's unit), one per sample, plus `end` so the last values extend to now. */
  xs: number[];
  weights: Series[];
  tasks: Series[];
  markers: Marker[];
}

const ROLE_ORDER: Role[] = ["blue", "green", "old", "new"];

export function chartData(samples: readonly SampleRecord[], timeline: readonly EventRecord[], controls: readonly ControlRecord[], end: number): ChartData {
  const times = samples.map((s) => Date.parse(s.at));
  const last = times.at(-1);
  const xs = [...times, ...(last !== undefined && end > last ? [end] : [])].map((t) => t / 1000);
  const at = (i: number) => samples[Math.min(i, samples.length - 1)]!;

  // Target groups in the order first seen, with the role of the set that serves them.
  const groups: string[] = [];
  const roleOf = new Map<string, Role>();
  for (const s of samples) {
    for (const tg of Object.keys(s.weights)) if (!groups.includes(tg)) groups.push(tg);
    for (const set of s.sets) for (const tg of set.targetGroups) if (!roleOf.has(tg)) roleOf.set(tg, set.role);
  }
  const weights: Series[] = groups.map((tg) => {
    const role = roleOf.get(tg);
    return { label: `${shortArn(tg)}${role ? ` (${role})` : ""}`, role: role ?? "other", metric: "weight", values: xs.map((_, i) => at(i).weights[tg] ?? null) };
  });

  const roles = ROLE_ORDER.filter((r) => samples.some((s) => s.sets.some((set) => set.role === r)));
  const tasks: Series[] = [];
  for (const role of roles) {
    for (const metric of ["running", "healthy", "failed"] as const) {
      const values = xs.map((_, i) => at(i).sets.find((set) => set.role === role)?.[metric] ?? null);
      if (values.every((v) => v === null)) continue;
      tasks.push({ label: `${role} ${metric}`, role, metric, values });
    }
  }

  return { xs, weights, tasks, markers: markers(samples, timeline, controls) };
}

/** Alarm state changes (from one sample to the next), operator controls, Flotilla's own pauses, and the failure. */
export function markers(samples: readonly SampleRecord[], timeline: readonly EventRecord[], controls: readonly ControlRecord[]): Marker[] {
  const out: Marker[] = [];
  const state = new Map<string, string>();
  for (const s of samples) {
    for (const a of s.alarms) {
      const before = state.get(a.name);
      // The first sight of an alarm counts only when it is not OK (an alarm already firing, or without data).
      if (before === undefined ? a.state !== "OK" : before !== a.state) out.push({ at: Date.parse(s.at), kind: "alarm", label: `${a.name} ${before ?? ""}${before ? " → " : ""}${a.state}` });
      state.set(a.name, a.state);
    }
  }
  for (const c of controls) out.push({ at: Date.parse(c.requestedAt), kind: "operator", label: `${c.action} by ${c.requestedBy}` });
  for (const e of timeline) {
    if (e.type === "ManualChange") out.push({ at: Date.parse(e.at), kind: "operator", label: "weights changed outside Flotilla: paused" });
    if (e.type === "Failed") {
      const reason = e.data && typeof e.data === "object" ? (e.data as { reason?: unknown }).reason : undefined;
      out.push({ at: Date.parse(e.at), kind: "failure", label: `failed: ${typeof reason === "string" ? reason : e.message}` });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
