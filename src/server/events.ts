/**
 * Live deployment events for `GET /api/v1/events` (server-sent events).
 *
 * The store is the source of truth: a stream polls `listEvents(id, { afterSeq })` of the
 * deployments that may have new events, on the injected clock, so it sees events written by any
 * process or replica. In one process the runner side can also call `DeploymentEventBus.notify()`
 * after appending, which wakes the streams at once instead of at their next tick.
 *
 * Cursor. Per-deployment sequence numbers do not order events across deployments, so an SSE event
 * id is a stream position: `<at>~<deploymentId>:<seq>[,<deploymentId>:<seq>...]`, the timestamp
 * of the last event delivered and, for every deployment with events at exactly that millisecond,
 * the last seq delivered. Resuming from it (`Last-Event-ID`) delivers every event with a later
 * timestamp, and at the same timestamp only those after the listed seq: exact even when parallel
 * deployments write in the same millisecond (common on a virtual clock).
 *
 * Processed commits (the controller's commit records) stream too, as `commit` events. Records are
 * numbered by the store, so their part of the position is the last record's number, appended as
 * `~c<seq>`; an id without it resumes with the commits processed after its timestamp.
 *
 * The controller's activity (a commit held by a sync window, an override, drift found or healed)
 * streams as `activity` events, numbered by the store like commit records: `~a<seq>` at the end of
 * the id; an id without it resumes with what is recorded from then on.
 */
import type { Store } from "../store/store.ts";
import type { ActivityEvent, CommitRecord, Deployment, DeploymentEvent } from "../store/types.ts";

/** A small in-process notification hook: `notify` after appending events; streams `subscribe`. */
export class DeploymentEventBus {
  private readonly listeners = new Set<(deploymentId: string) => void>();
  notify(deploymentId: string): void {
    for (const l of [...this.listeners]) l(deploymentId);
  }
  subscribe(listener: (deploymentId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get size(): number {
    return this.listeners.size;
  }
}

export interface StreamPosition {
  at: number;
  /** Last seq delivered per deployment, for events at exactly `at`. */
  seqs: Map<string, number>;
  /** The last commit record delivered (absent: commits processed after `at`). */
  commitSeq?: number;
  /** The last activity delivered (absent: from the first poll on). */
  activitySeq?: number;
}

export function formatPosition(p: StreamPosition): string {
  return `${p.at}~${[...p.seqs].map(([id, seq]) => `${id}:${seq}`).join(",")}${p.commitSeq !== undefined ? `~c${p.commitSeq}` : ""}${p.activitySeq !== undefined ? `~a${p.activitySeq}` : ""}`;
}

/** Parses a Last-Event-ID; undefined when it is not one of ours. */
export function parsePosition(text: string): StreamPosition | undefined {
  const m = /^(\d{1,16})~((?:[0-9A-Za-z]{1,64}:\d{1,12})(?:,[0-9A-Za-z]{1,64}:\d{1,12}){0,99})?(?:~c(\d{1,16}))?(?:~a(\d{1,16}))?$/.exec(text.trim());
  if (!m) return undefined;
  const seqs = new Map<string, number>();
  for (const part of m[2] ? m[2].split(",") : []) {
    const [id, seq] = part.split(":");
    seqs.set(id!, Number(seq));
  }
  return { at: Number(m[1]), seqs, ...(m[3] !== undefined ? { commitSeq: Number(m[3]) } : {}), ...(m[4] !== undefined ? { activitySeq: Number(m[4]) } : {}) };
}

export interface StreamFilter {
  deployment?: string;
  object?: string;
  /** Only deployment events, only processed commits, or only the controller's activity (default all). */
  type?: "deployment" | "commit" | "activity";
}

export type StreamedEvent =
  | {
      kind: "deployment";
      event: DeploymentEvent;
      deployment: Deployment;
      /** The position after this event: its SSE id. */
      id: string;
    }
  | { kind: "commit"; record: CommitRecord; id: string }
  | { kind: "activity"; activity: ActivityEvent; id: string };

/** Commit records read per poll. */
const COMMIT_PAGE = 500;

/** How far back, by creation, a stream looks for finished deployments that may still have new events. */
const RECENT_PAGE = 100;

/**
 * Reads the events after a position, in (at, deployment id, seq) order. Stateful: remembers the
 * last seq it read per deployment so that each poll only fetches what is new.
 */
export class EventCursor {
  private position: StreamPosition;
  /** Last seq fetched per deployment (delivered or skipped as before the position). */
  private readonly fetched = new Map<string, number>();
  /** Deployments that were active at the last poll: polled once more after they finish. */
  private readonly watching = new Set<string>();
  private readonly store: Store;
  private readonly filter: StreamFilter;

  private constructor(store: Store, filter: StreamFilter, position: StreamPosition) {
    this.store = store;
    this.filter = filter;
    this.position = position;
  }

  /** A stream of what is appended from now on (events already stored are skipped). */
  static async fromNow(store: Store, filter: StreamFilter, now: number): Promise<EventCursor> {
    const c = new EventCursor(store, filter, { at: now, seqs: new Map(), commitSeq: await store.lastCommitRecordSeq(), activitySeq: await store.lastActivitySeq() });
    for (const d of await c.candidates()) {
      const events = await store.listEvents(d.id);
      const last = events.at(-1);
      c.fetched.set(d.id, last?.seq ?? 0);
      if (last && last.at >= c.position.at) {
        // Keep the position consistent with what is skipped: nothing before it is ever sent.
        if (last.at > c.position.at) c.position = { ...c.position, at: last.at, seqs: new Map() };
        c.position.seqs.set(d.id, last.seq);
      }
    }
    return c;
  }

  /** A stream resuming after `position` (from a Last-Event-ID). */
  static resume(store: Store, filter: StreamFilter, position: StreamPosition): EventCursor {
    return new EventCursor(store, filter, position);
  }

  get current(): StreamPosition {
    return this.position;
  }

  /** The deployments that may have events after the position. */
  private async candidates(): Promise<Deployment[]> {
    if (this.filter.deployment) {
      const d = await this.store.getDeployment(this.filter.deployment);
      return d ? [d] : [];
    }
    const byId = new Map<string, Deployment>();
    const object = this.filter.object ? { object: this.filter.object } : {};
    let before: string | undefined;
    for (;;) {
      const page = await this.store.listDeployments({ ...object, active: true, limit: 500, ...(before ? { before } : {}) });
      for (const d of page.items) byId.set(d.id, d);
      if (!page.nextCursor) break;
      before = page.nextCursor;
    }
    const recent = await this.store.listDeployments({ ...object, limit: RECENT_PAGE });
    for (const d of recent.items) {
      if (d.updatedAt >= this.position.at || this.watching.has(d.id) || (d.finishedAt ?? 0) >= this.position.at) byId.set(d.id, d);
    }
    for (const id of this.watching) {
      if (!byId.has(id)) {
        const d = await this.store.getDeployment(id);
        if (d) byId.set(id, d);
      }
    }
    return [...byId.values()];
  }

  /** Events after the position, oldest first; advances the position past them. */
  async poll(): Promise<StreamedEvent[]> {
    const type = this.filter.type;
    const commits = this.filter.deployment !== undefined || (type !== undefined && type !== "commit") ? [] : await this.commits();
    const deployments = type !== undefined && type !== "deployment" ? [] : await this.deploymentEvents();
    const activity = this.filter.deployment !== undefined || (type !== undefined && type !== "activity") ? [] : await this.activity();
    // One timeline: by time, and at the same millisecond deployment events before the commit that started them ended, activity last.
    const merged: ({ at: number; d: (typeof deployments)[number] } | { at: number; c: CommitRecord } | { at: number; a: ActivityEvent })[] = [
      ...deployments.map((d) => ({ at: d.event.at, d })),
      ...commits.map((c) => ({ at: c.processedAt, c })),
      ...activity.map((a) => ({ at: a.at, a })),
    ];
    const rank = (m: (typeof merged)[number]) => ("d" in m ? 0 : "c" in m ? 1 : 2);
    merged.sort((a, b) => a.at - b.at || rank(a) - rank(b));
    return merged.map((m): StreamedEvent => {
      if ("a" in m) {
        this.position.activitySeq = Math.max(this.position.activitySeq ?? 0, m.a.seq);
        return { kind: "activity", activity: m.a, id: formatPosition(this.position) };
      }
      if ("c" in m) {
        this.position.commitSeq = Math.max(this.position.commitSeq ?? 0, m.c.seq);
        return { kind: "commit", record: m.c, id: formatPosition(this.position) };
      }
      const { event, deployment } = m.d;
      if (event.at > this.position.at) this.position = { ...this.position, at: event.at, seqs: new Map() };
      this.position.seqs.set(event.deploymentId, event.seq);
      return { kind: "deployment", event, deployment, id: formatPosition(this.position) };
    });
  }

  /** Commit records after the position's (for an object filter: those that touched a matching object). */
  private async commits(): Promise<CommitRecord[]> {
    const after = this.position.commitSeq;
    // Resuming from an id without a commit part: the commits processed after its time, then by number.
    const top = after === undefined ? await this.store.lastCommitRecordSeq() : 0;
    const records = await this.store.listCommitRecords(after !== undefined ? { afterSeq: after, limit: COMMIT_PAGE } : { afterSeq: 0, processedAfter: this.position.at, limit: COMMIT_PAGE });
    if (after === undefined && records.length === 0) this.position.commitSeq = top;
    const object = this.filter.object;
    // Records filtered out still move the cursor, so they are not read again.
    const last = records.at(-1);
    if (last && object !== undefined) this.position.commitSeq = Math.max(after ?? 0, last.seq);
    if (object === undefined) return records;
    return records.filter((r) => r.objects.some((o) => o.object === object || o.object.startsWith(`${object}/`)));
  }

  /** Activity after the position's (for an object filter: about a matching object). */
  private async activity(): Promise<ActivityEvent[]> {
    if (this.position.activitySeq === undefined) this.position.activitySeq = await this.store.lastActivitySeq();
    const events = await this.store.listActivity({ afterSeq: this.position.activitySeq, limit: COMMIT_PAGE });
    const object = this.filter.object;
    if (object === undefined) return events;
    // Filtered out, they still move the cursor.
    const last = events.at(-1);
    if (last) this.position.activitySeq = last.seq;
    return events.filter((e) => e.object !== null && (e.object === object || e.object.startsWith(`${object}/`)));
  }

  private async deploymentEvents(): Promise<{ event: DeploymentEvent; deployment: Deployment }[]> {
    const found: { event: DeploymentEvent; deployment: Deployment }[] = [];
    const candidates = await this.candidates();
    this.watching.clear();
    for (const candidate of candidates) {
      if (candidate.finishedAt === null) this.watching.add(candidate.id);
      const after = this.fetched.get(candidate.id);
      const events = await this.store.listEvents(candidate.id, after !== undefined ? { afterSeq: after } : {});
      const last = events.at(-1);
      if (!last) continue;
      this.fetched.set(candidate.id, last.seq);
      // Events and phase are written together: read the record again after its events, so the
      // phase sent with them is never older than they are (a watcher told "Succeeded" with a
      // non-terminal phase would wait for an end that was already streamed).
      const d = (await this.store.getDeployment(candidate.id)) ?? candidate;
      for (const e of events) if (this.isAfter(e)) found.push({ event: e, deployment: d });
    }
    found.sort((a, b) => a.event.at - b.event.at || (a.event.deploymentId < b.event.deploymentId ? -1 : a.event.deploymentId > b.event.deploymentId ? 1 : 0) || a.event.seq - b.event.seq);
    return found;
  }

  private isAfter(e: DeploymentEvent): boolean {
    if (e.at !== this.position.at) return e.at > this.position.at;
    const seen = this.position.seqs.get(e.deploymentId);
    return seen === undefined || e.seq > seen;
  }
}
