/**
 * Every request the wire server answered, for counting calls in tests and benchmarks and for
 * telling who changed what when (`GET /_flotilla/requests`). Kept in memory for the server's
 * lifetime, the newest `capacity` entries; `seq` numbers never repeat, so a reader pages with
 * `?since=` and sees when entries were dropped.
 */
import type { Rec } from "./operation.ts";

export interface RequestRecord {
  seq: number;
  /** Simulated time the request was answered at (ISO). */
  at: string;
  /** Wall-clock time (ISO) of the answer, to line up with the callers' own logs. */
  wallTime: string;
  /** Wall-clock time (ISO) the request arrived, before it waited its turn: when the caller sent it, give or take the network. */
  receivedAt?: string;
  service: string;
  operation: string;
  caller: string;
  app?: string;
  status: number;
  /** AWS's error code, when the answer was an error. */
  error?: string;
  /** The resource the call names (`cluster/service`, a listener or rule ARN, an alarm), when it names one. */
  resource?: string;
  input?: Rec;
}

export interface RequestQuery {
  since?: number;
  service?: string;
  operation?: string;
  caller?: string;
  limit?: number;
  inputs?: boolean;
}

export class RequestLog {
  private readonly entries: RequestRecord[] = [];
  private readonly capacity: number;
  private next = 1;

  constructor(capacity = 250_000) {
    this.capacity = capacity;
  }

  add(entry: Omit<RequestRecord, "seq">): RequestRecord {
    const r = { seq: this.next++, ...entry };
    this.entries.push(r);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return r;
  }

  query(q: RequestQuery): { requests: RequestRecord[]; first: number; last: number } {
    const since = q.since ?? 0;
    const out: RequestRecord[] = [];
    for (const r of this.entries) {
      if (r.seq <= since) continue;
      if ((q.service && r.service !== q.service) || (q.operation && r.operation !== q.operation) || (q.caller && r.caller !== q.caller)) continue;
      out.push(q.inputs ? r : withoutInput(r));
      if (q.limit !== undefined && out.length >= q.limit) break;
    }
    return { requests: out, first: this.entries[0]?.seq ?? this.next, last: this.next - 1 };
  }
}

function withoutInput(r: RequestRecord): RequestRecord {
  if (r.input === undefined) return r;
  const { input: _, ...rest } = r;
  return rest;
}

/** The resource a call names, for the log. */
export function resourceOf(input: Rec): string | undefined {
  const s = (k: string) => (typeof input[k] === "string" ? input[k] : undefined);
  for (const k of ["ListenerArn", "RuleArn", "TargetGroupArn", "LoadBalancerArn", "AlarmName"]) if (s(k)) return s(k);
  const service = s("service") ?? s("serviceName");
  if (service) return `${s("cluster") ?? "default"}/${service.slice(service.lastIndexOf("/") + 1)}${s("taskSet") ? `/${s("taskSet")}` : s("primaryTaskSet") ? `/${s("primaryTaskSet")}` : ""}`;
  if (Array.isArray(input["services"])) return `${s("cluster") ?? "default"}/${input["services"].join(",")}`;
  if (Array.isArray(input["AlarmNames"])) return input["AlarmNames"].join(",");
  return s("taskDefinition") ?? s("family") ?? s("clusterName");
}
