/**
 * The resources a scenario creates, with their ARNs, for `flotilla sim` to print: what a user
 * writes into svcdefs (target groups), depdefs (alarm names) and inputs to rehearse against it.
 */
import type { Simulator } from "./simulator.ts";

export interface ScenarioResources {
  region: string;
  account: string;
  clusters: { name: string; arn: string }[];
  targetGroups: { name: string; arn: string }[];
  loadBalancers: { name: string; arn: string }[];
  listeners: { loadBalancer: string; port: number; arn: string }[];
  rules: { loadBalancer: string; port: number; priority: string; arn: string }[];
  alarms: { name: string; arn: string }[];
}

export function scenarioResources(sim: Simulator): ScenarioResources {
  const elb = sim.elb;
  const lbName = (arn: string) => elb.loadBalancers.get(arn)?.name ?? arn;
  const listeners = [...elb.listeners.values()];
  return {
    region: sim.region,
    account: sim.account,
    clusters: [...sim.clusters.values()].map((c) => ({ name: c.name, arn: c.arn })),
    targetGroups: [...elb.targetGroups.values()].map((t) => ({ name: t.name, arn: t.arn })),
    loadBalancers: [...elb.loadBalancers.values()].map((l) => ({ name: l.name, arn: l.arn })),
    listeners: listeners.map((l) => ({ loadBalancer: lbName(l.lbArn), port: l.port, arn: l.arn })),
    rules: listeners.flatMap((l) => l.rules.map((r) => ({ loadBalancer: lbName(l.lbArn), port: l.port, priority: r.priority, arn: r.arn }))),
    alarms: sim.alarms.list(),
  };
}

/** One line per resource: kind, name, ARN, aligned. */
export function formatResources(r: ScenarioResources): string {
  const rows: [string, string, string][] = [
    ...r.clusters.map((x): [string, string, string] => ["cluster", x.name, x.arn]),
    ...r.targetGroups.map((x): [string, string, string] => ["target group", x.name, x.arn]),
    ...r.loadBalancers.map((x): [string, string, string] => ["load balancer", x.name, x.arn]),
    ...r.listeners.map((x): [string, string, string] => ["listener", `${x.loadBalancer}:${x.port}`, x.arn]),
    ...r.rules.map((x): [string, string, string] => ["rule", `${x.loadBalancer}:${x.port} #${x.priority}`, x.arn]),
    ...r.alarms.map((x): [string, string, string] => ["alarm", x.name, x.arn]),
  ];
  const kind = Math.max(0, ...rows.map((x) => x[0].length));
  const name = Math.max(0, ...rows.map((x) => x[1].length));
  const lines = rows.map(([k, n, arn]) => `  ${k.padEnd(kind)}  ${n.padEnd(name)}  ${arn}`);
  return `resources in ${r.region}, account ${r.account}\n${lines.length ? lines.join("\n") : "  (none)"}\n`;
}
