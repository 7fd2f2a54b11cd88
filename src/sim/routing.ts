/**
 * Where a request would go: an Application Load Balancer's listener evaluates its rules in
 * priority order, the first whose conditions all match decides (else the default action), and a
 * forward action splits traffic by weight among its target groups, whose healthy targets answer.
 * Tests and rehearsals ask this to check routing itself — which version a host, path or header
 * reaches — rather than the API calls that set it up. SPEC.md "Routing requests".
 */
import type { Action } from "../aws/ports.ts";
import { conditionField, conditionValues } from "../core/rule-conditions.ts";
import type { SimulatorCore } from "./core.ts";
import type { SimListener, SimTargetGroup } from "./model.ts";

export interface SimRequest {
  /** The load balancer's name or ARN; may be left out when the world has one load balancer. */
  loadBalancer?: string;
  /** The listener's port; may be left out when the load balancer has one listener. */
  port?: number;
  /** The Host header (a `:port` suffix is ignored, as ALB does). */
  host: string;
  /** The path, optionally with a query string. Default `/`. */
  path?: string;
  headers?: Readonly<Record<string, string>>;
  method?: string;
  sourceIp?: string;
}

export interface RoutedGroup {
  targetGroupArn: string;
  targetGroupName: string;
  /** Percent of the matched action's traffic this group receives. */
  percent: number;
  healthyTargets: number;
  /** ECS services whose tasks would answer (healthy targets; every registered one when none is healthy, as ALB fails open). */
  services: string[];
}

export interface RouteAnswer {
  listenerArn: string;
  port: number;
  /** The rule that decided (`default` for the listener's default action). */
  rule: { ruleArn: string; priority: string } | "default";
  /** The deciding action's type: forward, fixed-response, redirect, ... */
  action: string;
  /** 200 when a forwarded group has a target to answer, 503 when none has; a fixed response's own code. */
  status: number;
  /** Forward actions: every group with a weight above 0. */
  targetGroups: RoutedGroup[];
  /** The services answering, over all groups: what "which version does this request reach" reads. */
  services: string[];
}

export class RouteError extends Error {
  override readonly name = "RouteError";
}

/** Route a request through the simulated load balancers. */
export function routeRequest(sim: SimulatorCore, request: SimRequest): RouteAnswer {
  const listener = pickListener(sim, request);
  const ordered = [...listener.rules].sort((a, b) => Number(a.priority) - Number(b.priority));
  const rule = ordered.find((r) => r.conditions.every((c) => conditionMatches(c, request)));
  const actions = rule ? rule.actions : listener.defaultActions;
  const terminal = [...actions].sort((a, b) => (a.order ?? 0) - (b.order ?? 0)).find((a) => !a.type.startsWith("authenticate"));
  const base = { listenerArn: listener.arn, port: listener.port, rule: rule ? { ruleArn: rule.arn, priority: rule.priority } : ("default" as const), action: terminal?.type ?? "none" };
  if (!terminal || terminal.type !== "forward") {
    const code = Number((terminal?.other?.["FixedResponseConfig"] as { StatusCode?: unknown } | undefined)?.StatusCode);
    return { ...base, status: terminal?.type === "redirect" ? 301 : Number.isFinite(code) ? code : 503, targetGroups: [], services: [] };
  }
  const groups = forwardGroups(terminal);
  const total = groups.reduce((s, g) => s + g.weight, 0);
  const targetGroups: RoutedGroup[] = [];
  for (const g of groups) {
    if (g.weight <= 0 || total <= 0) continue;
    const tg = sim.elb.targetGroups.get(g.targetGroupArn);
    if (!tg) continue;
    const { healthy, services } = answering(tg);
    targetGroups.push({ targetGroupArn: tg.arn, targetGroupName: tg.name, percent: (g.weight * 100) / total, healthyTargets: healthy, services });
  }
  const services = [...new Set(targetGroups.flatMap((g) => g.services))].sort();
  return { ...base, status: services.length ? 200 : 503, targetGroups, services };
}

function pickListener(sim: SimulatorCore, request: SimRequest): SimListener {
  const lbs = [...sim.elb.loadBalancers.values()];
  const lb = request.loadBalancer === undefined ? (lbs.length === 1 ? lbs[0] : undefined) : lbs.find((x) => x.name === request.loadBalancer || x.arn === request.loadBalancer);
  if (!lb) throw new RouteError(request.loadBalancer === undefined ? `name the load balancer: the world has ${lbs.length}` : `no load balancer ${request.loadBalancer}`);
  const listener = request.port === undefined ? (lb.listeners.length === 1 ? lb.listeners[0] : undefined) : lb.listeners.find((l) => l.port === request.port);
  if (!listener) throw new RouteError(request.port === undefined ? `name the port: load balancer ${lb.name} has ${lb.listeners.length} listeners` : `load balancer ${lb.name} has no listener on port ${request.port}`);
  return listener;
}

function forwardGroups(a: Action): { targetGroupArn: string; weight: number }[] {
  if (a.forwardConfig) return a.forwardConfig.targetGroups;
  return a.targetGroupArn ? [{ targetGroupArn: a.targetGroupArn, weight: 1 }] : [];
}

/** Healthy targets and the services behind them; with none healthy, every registered target answers (ALB fails open). */
function answering(tg: SimTargetGroup): { healthy: number; services: string[] } {
  const live = [...tg.targets].filter((t) => t.state !== "draining" && t.task.desiredStatus === "RUNNING");
  const healthy = live.filter((t) => t.state === "healthy");
  const serving = healthy.length ? healthy : live.filter((t) => t.state !== "unused");
  return { healthy: healthy.length, services: [...new Set(serving.map((t) => t.task.service.name))].sort() };
}

/** ALB's wildcards: `*` any run of characters, `?` one character. */
function wildcard(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "is" : "s");
  return re.test(value);
}

/** One condition of a rule against the request; values within a condition are alternatives. */
export function conditionMatches(c: Record<string, unknown>, r: SimRequest): boolean {
  const field = conditionField(c);
  const values = conditionValues(c);
  const [path, query = ""] = (r.path ?? "/").split("?", 2) as [string, string?];
  switch (field) {
    case "host-header": {
      const host = r.host.replace(/:\d+$/, "");
      return values.some((v) => wildcard(v, host, true));
    }
    case "path-pattern":
      return values.some((v) => wildcard(v, path, false));
    case "http-header": {
      const cfg = c["HttpHeaderConfig"] as { HttpHeaderName?: unknown } | undefined;
      const given = cfg?.HttpHeaderName ?? c["HttpHeaderName"];
      const name = typeof given === "string" ? given.toLowerCase() : "";
      const header = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
      return header !== undefined && values.some((v) => wildcard(v, header, true));
    }
    case "http-request-method":
      return values.includes(r.method ?? "GET");
    case "query-string": {
      const params = new URLSearchParams(query);
      const pairs = ((c["QueryStringConfig"] as { Values?: { Key?: string; Value?: string }[] } | undefined)?.Values ?? []);
      return pairs.some((p) => [...params.entries()].some(([k, v]) => (p.Key === undefined || wildcard(p.Key, k, true)) && wildcard(p.Value ?? "*", v, true)));
    }
    case "source-ip":
      return r.sourceIp !== undefined && values.some((cidr) => inCidr(r.sourceIp!, cidr));
    default:
      return false;
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits = "32"] = cidr.split("/");
  const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !/^\d+\.\d+\.\d+\.\d+$/.test(base ?? "")) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base!) / size);
}
