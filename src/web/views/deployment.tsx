/**
 * A deployment: what it is and who started it, the failure reason in words (which check, when, at
 * what weight), the operator actions, a chart of traffic weights and tasks over time with alarm
 * changes and operator actions marked, and the live timeline. The timeline follows the event stream
 * (resuming with Last-Event-ID after a dropped connection) and is read again after a reconnect, so no
 * event is missed or shown twice.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, paths, type ControlAction, type DeploymentDetail, type EventRecord, type SampleRecord } from "../api.ts";
import { ActionButton } from "../components/actions.tsx";
import { DeploymentChart } from "../components/chart.tsx";
import { ErrorNote, Loading, PhaseBadge, Section, When } from "../components/ui.tsx";
import { chartData } from "../chart-data.ts";
import { duration, explainFailure, isActive, shortArn, shortSha, time, triggerOf, strategyName } from "../format.ts";
import { useDebounced, useEventStream, useLoad, useNow } from "../hooks.ts";
import { LiveState, Progress } from "./overview.tsx";

/** How often samples are read while the deployment runs (they are recorded between events too). */
const SAMPLE_POLL_MS = 2000;

export function DeploymentView({ id }: { id: string }) {
  const now = useNow(1000);
  const detail = useLoad(() => api.deployment(id), [id]);
  const [events, setEvents] = useState<EventRecord[]>([]);
  const [samples, setSamples] = useState<SampleRecord[]>([]);
  const lastSample = useRef(0);

  // Merge by sequence number: the stream and a re-read may both deliver an event.
  const merge = (incoming: readonly EventRecord[]) =>
    setEvents((current) => {
      const bySeq = new Map(current.map((e) => [e.seq, e]));
      for (const e of incoming) bySeq.set(e.seq, e);
      return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    });
  useEffect(() => {
    setEvents([]);
    setSamples([]);
    lastSample.current = 0;
  }, [id]);
  useEffect(() => {
    if (detail.data) merge(detail.data.timeline);
  }, [detail.data]);

  const loadSamples = async () => {
    const { items } = await api.samples(id, lastSample.current);
    if (!items.length) return;
    lastSample.current = items.at(-1)!.seq;
    setSamples((s) => [...s, ...items]);
  };
  const refresh = useDebounced(() => {
    detail.reload();
    void loadSamples().catch(() => undefined);
  }, 300);
  const stream = useEventStream(
    { deployment: id },
    (e) => {
      merge([e]);
      refresh();
    },
    refresh,
  );

  const active = detail.data ? isActive(detail.data) : false;
  useEffect(() => {
    void loadSamples().catch(() => undefined);
    if (!active) return;
    const t = setInterval(() => void loadSamples().catch(() => undefined), SAMPLE_POLL_MS);
    return () => clearInterval(t);
  }, [id, active]);

  const d = detail.data;
  const end = d?.finishedAt ? Date.parse(d.finishedAt) : now;
  const chart = useMemo(() => chartData(samples, events, d?.controls ?? [], end), [samples, events, d?.controls, Math.floor(end / 2000)]);

  if (detail.error && !d) return <ErrorNote error={detail.error} what={`deployment ${id}`} />;
  if (!d) return <Loading what="the deployment" />;

  const failure = explainFailure(d, events);
  const trigger = triggerOf(d);
  const summary = chartSummary(d, samples);

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={paths.overview()}>Overview</a> / <a href={paths.object(d.object)}>{d.object}</a> / <span aria-current="page">deployment {d.id}</span>
      </nav>
      <div class="page-head">
        <h1>
          {d.object} <PhaseBadge phase={d.phase} weight={d.trafficWeight} paused={Boolean(d.paused)} />
        </h1>
        <LiveState state={active ? stream : "closed"} closedText="Finished" />
      </div>

      {failure ? (
        <div class="note bad failure" role="alert" aria-labelledby="failure-title">
          <h2 id="failure-title">Why it {d.phase === "RolledBack" ? "was rolled back" : d.phase === "Aborted" ? "was aborted" : d.phase === "RollingBack" ? "is rolling back" : "failed"}</h2>
          <p class="failure-sentence">{failure.sentence}</p>
          <p>{failure.message}</p>
          <dl class="facts compact">
            <dt>Check</dt>
            <dd>
              {failure.check} <code>{failure.reason}</code>
            </dd>
            <dt>When</dt>
            <dd>{failure.at ? <><When at={failure.at} full />{failure.afterMs !== null ? `, ${duration(failure.afterMs)} after it began` : ""}</> : "—"}</dd>
            {d.strategy === "bluegreen" || d.strategy === "ecs-managed" ? (
              <>
                <dt>{d.strategy === "bluegreen" ? "Traffic on green" : "Production on the new revision"}</dt>
                <dd>{failure.weight !== null ? `${failure.weight}%` : "unknown"}</dd>
              </>
            ) : null}
          </dl>
        </div>
      ) : null}
      {d.paused ? (
        <p class="note warn" role="status">
          Paused by {d.paused.by}: {d.paused.reason}. Traffic holds at {d.trafficWeight ?? 0}% on green; alarms are still watched.
        </p>
      ) : null}

      <div class="toolbar" role="group" aria-label="Deployment actions">
        <Controls d={d} onDone={refresh} />
      </div>

      <dl class="facts">
        <dt>Progress</dt>
        <dd>
          <Progress d={d} />
        </dd>
        <dt>Strategy</dt>
        <dd>{strategyName(d.strategy)}</dd>
        <dt>Started by</dt>
        <dd>
          {trigger.text}
          {d.commitSha && d.repository ? (
            <>
              {" "}
              (<a href={paths.commit(d.repository, d.commitSha)}>commit {shortSha(d.commitSha)}</a> of <a href={paths.repository(d.repository)}>{d.repository}</a>)
            </>
          ) : null}
        </dd>
        <dt>Service</dt>
        <dd>
          <code>{d.service}</code> in <code>{d.cluster}</code> ({d.region})
        </dd>
        <dt>Revision</dt>
        <dd>
          <code>{shortArn(d.oldTaskDefinitionArn)}</code> → <code>{shortArn(d.newTaskDefinitionArn)}</code>
        </dd>
        <dt>Tasks</dt>
        <dd>
          {d.counts.running}/{d.counts.desired} running, {d.counts.pending} pending, {d.counts.failed} failed
        </dd>
        <dt>Started</dt>
        <dd>
          <When at={d.createdAt} full />
        </dd>
        <dt>{d.finishedAt ? "Finished" : "Running for"}</dt>
        <dd>{d.finishedAt ? <><When at={d.finishedAt} full /> (took {duration(Date.parse(d.finishedAt) - Date.parse(d.createdAt))})</> : duration(now - Date.parse(d.createdAt))}</dd>
        {d.overrides.length ? (
          <>
            <dt>Overrides</dt>
            <dd>{d.overrides.map((o) => `${o.name} (set by ${o.setBy}, ${o.source})`).join("; ")}</dd>
          </>
        ) : null}
      </dl>

      <Section title="Traffic and tasks over time" id="chart">
        <DeploymentChart data={chart} summary={summary} />
      </Section>

      <Section title="Timeline" id="timeline">
        <ol class="timeline" aria-live="polite" aria-relevant="additions">
          {events.map((e) => (
            <li key={e.seq} class={`ev-${e.type}`}>
              <time dateTime={e.at}>{time(e.at)}</time> <strong>{e.type}</strong> <span>{e.message}</span>
            </li>
          ))}
        </ol>
      </Section>

      {d.controls.length ? (
        <Section title="Operator actions" id="controls">
          <ul class="plain">
            {d.controls.map((c) => (
              <li key={c.id}>
                <strong>{c.action}</strong> by {c.requestedBy} at <When at={c.requestedAt} full />
                {c.consumedAt ? <span class="muted"> (acted on at {time(c.consumedAt)})</span> : <span class="muted"> (waiting for the deployment's next step)</span>}
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
    </>
  );
}

function chartSummary(d: DeploymentDetail, samples: readonly SampleRecord[]): string {
  const last = samples.at(-1);
  if (!last) return "No samples recorded yet.";
  const weights = Object.entries(last.weights).map(([tg, w]) => `${shortArn(tg)} ${w}%`).join(", ");
  const sets = last.sets.map((s) => `${s.role}: ${s.running ?? "?"} running, ${s.healthy ?? "?"} healthy, ${s.failed ?? "?"} failed`).join("; ");
  return `${samples.length} samples of ${d.object}. Latest at ${time(last.at)}: ${weights || "no traffic weights"}; ${sets}.`;
}

const VERBS: Record<ControlAction, { title: string; text: string; danger?: boolean }> = {
  promote: { title: "Promote: skip the remaining waits and shift all traffic to green now?", text: "Remaining canary or linear steps, their waits and the bake are skipped. Alarms still end the deployment if they fire before it finishes." },
  pause: { title: "Pause: hold traffic at the current weight?", text: "The deployment stays at its current step until resumed. Alarms are still watched." },
  resume: { title: "Resume the deployment?", text: "It continues from where it was paused (after a manual weight change, Flotilla's weights are applied again)." },
  abort: { title: "Abort: put all traffic back on the old revision now?", text: "Traffic returns to blue (or the service to its previous task definition), and the new tasks are removed as the deployment definition says.", danger: true },
};

function Controls({ d, onDone }: { d: DeploymentDetail; onDone: () => void }) {
  const active = isActive(d);
  const finishing = d.phase === "RollingBack";
  const unavailable = (action: ControlAction): string | undefined => {
    if (!active) return `The deployment has finished (${d.phase}).`;
    if (finishing) return "The deployment is already rolling back.";
    // ECS-managed: resume and promote continue PAUSE lifecycle hooks; nothing pauses ECS from outside.
    if (d.strategy === "ecs-managed" && action === "pause") return "ECS-managed deployments stop only at PAUSE lifecycle hooks of the svcdef; resume or promote continues them.";
    if (d.strategy !== "bluegreen" && d.strategy !== "ecs-managed" && action !== "abort") return `A ${d.strategy} deployment has no waits to ${action === "promote" ? "skip" : action}: ECS paces it.`;
    if (action === "pause" && d.paused) return "Already paused.";
    if (action === "resume" && !d.paused) return "Not paused.";
    return undefined;
  };
  return (
    <>
      {(["pause", "resume", "promote", "abort"] as const).map((action) => (
        <ActionButton
          key={action}
          label={action[0]!.toUpperCase() + action.slice(1)}
          title={VERBS[action].title}
          danger={VERBS[action].danger ?? false}
          unavailable={unavailable(action)}
          onDone={onDone}
          run={async () => {
            await api.control(d.id, action);
            return `${action} requested: the deployment acts on it at its next step.`;
          }}
        >
          <p>{VERBS[action].text}</p>
          <p>
            Deployment of <strong>{d.object}</strong>, now {d.phase}
            {d.trafficWeight !== null ? ` at ${d.trafficWeight}% on green` : ""}.
          </p>
        </ActionButton>
      ))}
      <RollbackAction object={d.object} disabledReason={active ? "Finish or abort the running deployment first." : undefined} />
    </>
  );
}

export function RollbackAction({ object, disabledReason }: { object: string; disabledReason?: string | undefined }) {
  const { route } = useLocation();
  return (
    <ActionButton
      label="Roll back"
      title={`Roll ${object} back to its previous revision?`}
      danger
      unavailable={disabledReason}
      run={async () => {
        const created = await api.rollback(object);
        route(paths.deployment(created.id));
        return `Rollback started: deployment ${created.id}.`;
      }}
    >
      <p>Deploys the revision that ran before the object's last successful update, as a new recorded deployment (blue/green objects shift traffic as their deployment definition says).</p>
    </ActionButton>
  );
}
