/**
 * A commit: its message, author and result; per object what it does, each problem with its code, file
 * and line; the deployments it started. Operators can deploy it again (with force or break-glass
 * overrides); anyone can dry-run it.
 */
import { useState } from "preact/hooks";
import { api, ApiFailure, paths, type DryRunResult } from "../api.ts";
import { ActionButton } from "../components/actions.tsx";
import { Problems } from "../components/problems.tsx";
import { ErrorNote, Loading, PhaseBadge, Section, When, Table } from "../components/ui.tsx";
import { dateTime, shortSha, triggerOf } from "../format.ts";
import { useDebounced, useEventStream, useLoad } from "../hooks.ts";
import { commitOutcome, LiveState } from "./overview.tsx";

export function CommitView({ name, sha }: { name: string; sha: string }) {
  const commits = useLoad(() => api.commits(name, 200), [name]);
  const dry = useLoad(() => api.dryRun(name, sha), [name, sha]);
  // How the controller processed it: null while it has not (404).
  const record = useLoad(async () => {
    try {
      return await api.commit(name, sha);
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 404) return null;
      throw e;
    }
  }, [name, sha]);
  const deployments = useLoad(() => api.deployments({ repository: name, commit: sha, limit: 100 }), [name, sha]);
  const reload = useDebounced(() => {
    deployments.reload();
    record.reload();
  }, 500);
  const stream = useEventStream({}, (e) => e.repository === name && reload(), reload, (c) => c.repository === name && reload());
  const info = commits.data?.items.find((c) => c.sha.startsWith(sha) || sha.startsWith(c.sha));
  const outcome = commitOutcome(deployments.data?.items ?? []);
  // The problems recorded when the commit was processed; for a commit not processed yet, the dry run's.
  const processed = record.data ?? null;
  const problems = processed ? processed.problems : (dry.data?.problems ?? []);
  const errors = processed ? processed.errors : problems.filter((p) => p.severity === "error").length;
  const warnings = processed ? processed.warnings : problems.length - errors;

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={paths.overview()}>Overview</a> / <a href={paths.repository(name)}>{name}</a> / <span aria-current="page">{shortSha(sha)}</span>
      </nav>
      <div class="page-head">
        <h1>
          Commit <code>{shortSha(sha)}</code>
        </h1>
        <LiveState state={stream} />
      </div>
      {commits.error ? <ErrorNote error={commits.error} what="the commit" /> : null}
      <dl class="facts">
        <dt>Message</dt>
        <dd>{info?.subject ?? <span class="muted">{commits.data ? "(not among the branch's newest 200 commits)" : "…"}</span>}</dd>
        <dt>Author</dt>
        <dd>{info?.author ?? "—"}</dd>
        <dt>Committed</dt>
        <dd>
          <When at={info?.committedAt} full />
        </dd>
        <dt>Full id</dt>
        <dd>
          <code>{info?.sha ?? sha}</code>
        </dd>
        <dt>Result</dt>
        <dd>
          {processed || dry.data ? errors > 0 ? <span class="badge bad">invalid: {errors} {errors === 1 ? "error" : "errors"}</span> : <span class="badge ok">valid{warnings ? `, ${warnings} ${warnings === 1 ? "warning" : "warnings"}` : ""}</span> : null}{" "}
          {processed ? <span class={`badge ${outcome.tone}`}>{outcome.text}</span> : <span class="badge">not processed yet</span>}
          {processed ? <span class="muted"> processed {dateTime(processed.processedAt)} ({processed.trigger})</span> : null}
        </dd>
      </dl>

      <div class="toolbar" role="group" aria-label="Commit actions">
        <DeployAction repo={name} sha={info?.sha ?? sha} onDone={deployments.reload} />
        <button type="button" onClick={dry.reload} disabled={dry.loading}>
          {dry.loading ? "Dry run…" : "Dry run again"}
        </button>
      </div>

      <Section title="Problems" id="problems">
        {record.error ? <ErrorNote error={record.error} what="the commit's record" /> : null}
        {processed || (record.data === null && dry.data) ? <Problems problems={problems} /> : <Loading what="the commit's problems" />}
        {processed && processed.problems.length < processed.errors + processed.warnings ? <p class="muted">The first {processed.problems.length} of {processed.errors + processed.warnings} are kept.</p> : null}
      </Section>

      {processed ? (
        <Section title="What it did per object" id="outcomes">
          <Table headers={["Object", "Action", "What happened", "Deployment"]}>
            {processed.objects.map((o) => (
              <tr key={o.object}>
                <td>
                  <a href={paths.object(o.object)}>{o.object}</a>
                </td>
                <td>
                  <span class={`badge ${o.action === "invalid" || o.action === "blocked" ? "bad" : o.action === "delete-held" ? "warn" : o.action === "none" ? "" : "live"}`}>{o.action}</span>
                </td>
                <td>{o.description}</td>
                <td>{o.deploymentId ? <a href={paths.deployment(o.deploymentId)}>{o.deploymentId}</a> : "—"}</td>
              </tr>
            ))}
          </Table>
        </Section>
      ) : null}

      <Section title="Dry run: what it would do now" id="objects">
        {dry.error ? <ErrorNote error={dry.error} what="the dry run" /> : null}
        {!dry.data ? <Loading what="the dry run" /> : <Actions result={dry.data} />}
      </Section>

      <Section title="Deployments of this commit" id="deployments">
        {deployments.error ? <ErrorNote error={deployments.error} what="deployments" /> : null}
        {!deployments.data ? (
          <Loading what="deployments" />
        ) : deployments.data.items.length === 0 ? (
          <p class="muted">This commit started no deployment.</p>
        ) : (
          <ul class="plain">
            {deployments.data.items.map((d) => (
              <li key={d.id}>
                <PhaseBadge phase={d.phase} weight={d.trafficWeight} paused={Boolean(d.paused)} /> <a href={paths.deployment(d.id)}>{d.object}</a> <span class="muted">{triggerOf(d).text}, <When at={d.createdAt} full /></span>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}

/** What a dry run of the commit says per object, now. */
function Actions({ result }: { result: DryRunResult }) {
  if (result.actions.length === 0) return <p class="muted">The dry run finds nothing to do for this commit now (it is what the controller last processed, or it changes no object).</p>;
  return (
    <Table headers={["Object", "Action", "Why"]} caption="What processing this commit would do now (dry run: nothing is changed).">
          {result.actions.map((a) => (
            <tr key={a.object}>
              <td>
                <a href={paths.object(a.object)}>{a.object}</a>
              </td>
              <td>
                <span class={`badge ${a.action === "invalid" ? "bad" : a.action === "none" ? "" : "live"}`}>{a.action}</span>
              </td>
              <td>
                {a.why}
                {a.blocked ? <div class="muted">held back: {a.blocked}</div> : null}
              </td>
            </tr>
          ))}
        </Table>
  );
}

function DeployAction({ repo, sha, onDone }: { repo: string; sha: string; onDone: () => void }) {
  const [force, setForce] = useState(false);
  const [skipAlarms, setSkipAlarms] = useState(false);
  const [allAtOnce, setAllAtOnce] = useState(false);
  return (
    <ActionButton
      label="Deploy this commit"
      title={`Deploy commit ${shortSha(sha)} of ${repo}?`}
      confirmLabel="Deploy"
      onDone={onDone}
      run={async () => {
        const overrides = [...(skipAlarms ? ["skip-alarms"] : []), ...(allAtOnce ? ["all-at-once"] : [])];
        const r = await api.deployCommit(repo, sha, { force, overrides });
        const n = r.actions.filter((a) => a.action !== "none").length;
        return `Queued (position ${r.queuePosition}): ${n} ${n === 1 ? "object" : "objects"} to deploy.`;
      }}
    >
      <p>The commit is queued behind the repository's other work; its changed objects deploy as usual.</p>
      <label class="check">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> Force: deploy every object, also those the commit did not change
      </label>
      <fieldset>
        <legend>Break-glass overrides (recorded on each deployment)</legend>
        <label class="check">
          <input type="checkbox" checked={skipAlarms} onChange={(e) => setSkipAlarms(e.currentTarget.checked)} /> skip-alarms: do not watch alarms
        </label>
        <label class="check">
          <input type="checkbox" checked={allAtOnce} onChange={(e) => setAllAtOnce(e.currentTarget.checked)} /> all-at-once: shift all traffic in one step
        </label>
      </fieldset>
    </ActionButton>
  );
}
