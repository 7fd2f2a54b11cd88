/** Small hooks the views share: loading data, following the live event stream, the clock. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiFailure, eventsUrl, type ActivityRecord, type CommitRecordJson, type EventRecord } from "./api.ts";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change and on `reload()`; keeps the last data while reloading (no flicker on live updates). */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiFailure | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (e: unknown) => mine === generation.current && setState((s) => ({ data: s.data, error: e instanceof ApiFailure ? e : new ApiFailure(0, "FLT-INTERNAL", String(e)), loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A deployment event as the stream sends it: the event, plus its deployment's object, repository and phase. */
export type LiveEvent = EventRecord & { object: string; repository: string | null; phase: string };

export type StreamState = "connecting" | "live" | "reconnecting" | "closed";

/**
 * Follows `/api/v1/events` (narrowed by `filter`) and calls `onEvent` for each deployment event and
 * `onCommit` for each processed commit. The
 * browser's EventSource reconnects by itself after a dropped connection and sends the last id it got
 * as `Last-Event-ID`, so the stream resumes exactly where it left off. When the server refuses the
 * stream (restarting, or the session ended) it is opened again after a pause, and `onResync` tells
 * the view to read what it may have missed.
 */
export function useEventStream(filter: { deployment?: string; object?: string } | null, onEvent: (e: LiveEvent) => void, onResync?: () => void, onCommit?: (c: CommitRecordJson) => void, onActivity?: (a: ActivityRecord) => void): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  const handlers = useRef({ onEvent, onResync, onCommit, onActivity });
  handlers.current = { onEvent, onResync, onCommit, onActivity };
  const url = filter ? eventsUrl(filter) : null;
  useEffect(() => {
    if (!url) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let opened = false;
    const open = () => {
      source = new EventSource(url);
      source.onopen = () => {
        setState("live");
        if (opened) handlers.current.onResync?.();
        opened = true;
      };
      source.addEventListener("deployment", (m) => handlers.current.onEvent(JSON.parse((m as MessageEvent<string>).data) as LiveEvent));
      // A processed commit (valid or not) streams as `event: commit`.
      source.addEventListener("commit", (m) => handlers.current.onCommit?.(JSON.parse((m as MessageEvent<string>).data) as CommitRecordJson));
      // The controller's activity (a commit held by a sync window, drift found or healed) as `event: activity`.
      source.addEventListener("activity", (m) => handlers.current.onActivity?.(JSON.parse((m as MessageEvent<string>).data) as ActivityRecord));
      source.onerror = (e) => {
        // The server's own `event: error` (a MessageEvent with data) ends the stream on purpose.
        if (e instanceof MessageEvent || source!.readyState === EventSource.CLOSED) {
          source!.close();
          setState("reconnecting");
          // Ask the API whether the session still stands: a 401 there signs the page out.
          void api.session().catch(() => undefined);
          if (!stopped) retry = setTimeout(open, 3000);
          return;
        }
        setState("reconnecting");
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
      setState("closed");
    };
  }, [url]);
  return state;
}

/** The current time, updated every `ms` (ages and durations that move while the page is open). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** Calls `fn` at most once per `ms`, at the end of a burst (many events → one reload). */
export function useDebounced(fn: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  }, [ms]);
}
