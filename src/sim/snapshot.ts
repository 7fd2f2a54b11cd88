/** A readable picture of the simulated world at one instant, for `flotilla sim` (text or JSON). */
import type { Simulator } from "./simulator.ts";
import { formatDuration } from "./ids.ts";
import { viewService } from "./views.ts";

export interface WorldSnapshot {
  at: string;
  elapsedSeconds: number;
  services: {
    cluster: string;
    name: string;
    status: string;
    desired: number;
    running: number;
    pending: number;
    deployments: { id: string; status: string; taskDefinition: string; rolloutState?: string; reason?: string; desired: number; running: number; pending: number; failedTasks: number }[];
    taskSets: { id: string; externalId?: string; status: string; taskDefinition: string; scale: number; computedDesiredCount: number; running: number; pending: number; stabilityStatus: string }[];
    lastEvent?: string;
  }[];
  listeners: { listener: string; forward: { targetGroup: string; weight: number; healthy: number; total: number }[] }[];
  alarms: { name: string; state: string }[];
}

const short = (arn: string) => arn.slice(arn.lastIndexOf("/") + 1);

export function snapshot(sim: Simulator): WorldSnapshot {
  const services: WorldSnapshot["services"] = [];
  for (const c of sim.clusters.values()) {
    for (const svc of c.services.values()) {
      const v = viewService(svc);
      services.push({
        cluster: c.name,
        name: v.serviceName,
        status: v.status,
        desired: v.desiredCount,
        running: v.runningCount,
        pending: v.pendingCount,
        deployments: v.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: short(d.taskDefinition),
          ...(d.rolloutState ? { rolloutState: d.rolloutState } : {}),
          ...(d.rolloutStateReason ? { reason: d.rolloutStateReason } : {}),
          // The simulator always reports a deployment's counts.
          desired: d.desiredCount ?? 0,
          running: d.runningCount ?? 0,
          pending: d.pendingCount ?? 0,
          failedTasks: d.failedTasks ?? 0,
        })),
        taskSets: v.taskSets.map((t) => ({
          id: t.id,
          ...(t.externalId ? { externalId: t.externalId } : {}),
          status: t.status,
          taskDefinition: short(t.taskDefinition),
          scale: t.scale.value,
          // The simulator always reports a task set's counts.
          computedDesiredCount: t.computedDesiredCount ?? 0,
          running: t.runningCount ?? 0,
          pending: t.pendingCount ?? 0,
          stabilityStatus: t.stabilityStatus,
        })),
        ...(v.events[0] ? { lastEvent: v.events[0].message } : {}),
      });
    }
  }
  const listeners: WorldSnapshot["listeners"] = [];
  for (const lb of sim.elb.loadBalancers.values()) {
    for (const l of lb.listeners) {
      const forward = l.defaultActions.flatMap((a) =>
        (a.forwardConfig?.targetGroups ?? []).map((g) => {
          const tg = sim.elb.targetGroups.get(g.targetGroupArn);
          const targets = tg ? [...tg.targets] : [];
          return { targetGroup: tg?.name ?? g.targetGroupArn, weight: g.weight, healthy: targets.filter((t) => t.state === "healthy").length, total: targets.length };
        }),
      );
      listeners.push({ listener: `${lb.name}:${l.port}`, forward });
    }
  }
  return {
    at: new Date(sim.now).toISOString(),
    elapsedSeconds: Math.round(sim.elapsed() / 1000),
    services,
    listeners,
    alarms: sim.alarms.describe(sim.alarms.names()).map((a) => ({ name: a.alarmName, state: a.stateValue })),
  };
}

export function formatSnapshot(s: WorldSnapshot): string {
  const lines = [`t+${formatDuration(s.elapsedSeconds * 1000)}  (${s.at})`];
  for (const svc of s.services) {
    lines.push(`  ${svc.cluster}/${svc.name}  ${svc.status}  desired ${svc.desired}  running ${svc.running}  pending ${svc.pending}`);
    for (const d of svc.deployments) {
      lines.push(`    ${d.status.padEnd(7)} ${d.id}  ${d.taskDefinition.padEnd(14)} ${(d.rolloutState ?? "").padEnd(11)} ${d.running}/${d.desired} running, ${d.pending} pending, ${d.failedTasks} failed`);
    }
    for (const t of svc.taskSets) {
      lines.push(`    ${t.status.padEnd(7)} ${t.externalId ?? t.id}  ${t.taskDefinition.padEnd(14)} scale ${t.scale}% → ${t.computedDesiredCount}  ${t.running} running, ${t.pending} pending  ${t.stabilityStatus}`);
    }
    if (svc.lastEvent) lines.push(`    last event: ${svc.lastEvent}`);
  }
  for (const l of s.listeners) lines.push(`  listener ${l.listener}: ` + (l.forward.map((f) => `${f.targetGroup} w${f.weight} (${f.healthy}/${f.total} healthy)`).join(", ") || "no forward (it answers by itself)"));
  if (s.alarms.length > 0) lines.push("  alarms: " + s.alarms.map((a) => `${a.name}=${a.state}`).join("  "));
  return lines.join("\n") + "\n";
}
