/**
 * Overview: the registered repositories with their last processed commit and how it went, the
 * deployments running now with their phase and progress, and what needs attention (failed, rolled
 * back, aborted or paused deployments, invalid commits, deletes waiting for an operator). It reloads
 * when the event stream reports anything.
 */
import { api, paths, type CommitListItem, type DeploymentRecord, type RepositoryRecord } from "../api.ts";
import { Diff, ErrorNote, Loading, Meter, PhaseBadge, Section, Table } from "../components/ui.tsx";
import { ActionButton } from "../components/actions.tsx";
import { ago, BAD, duration, shortSha, triggerOf, strategyName } from "../format.ts";
import { useDebounced, useEventStream, useLoad, useNow, type StreamState } from "../hooks.ts";

/** How far back finished failures count as needing attention. */
const ATTENTION_WINDOW_MS = 24 * 60 * 60 * 1000;

export function Overview() {
  const now = useNow(5000);
  const repos = useLoad(() => api.repositories(), []);
  const active = useLoad(() => api.deployments({ status: "active", limit: 100 }), []);
  const recent = useLoad(() => api.deployments({ status: "finished", limit: 100 }), []);
  const held = useLoad(() => api.pendingDeletes(), []);
  const waiting = useLoad(() => api.waitingCommits(), []);
  const drift = useLoad(() => api.drift(), []);
  // Each repository's newest commits with their results (invalid ones need attention).
  const commits = useLoad(async () => {
    const { items } = await api.repositories();
    return new Map(await Promise.all(items.map(async (r) => [r.name, (await api.commits(r.name, 20).catch(() => ({ items: [] as CommitListItem[] }))).items] as const)));
  }, []);
  const reload = useDebounced(() => {
    repos.reload();
    active.reload();
    recent.reload();
    held.reload();
    waiting.reload();
    drift.reload();
    commits.reload();
  }, 500);
  const stream = useEventStream({}, reload, reload, reload, reload);

  const failures = (recent.data?.items ?? []).filter((d) => BAD.has(d.phase) && d.finishedAt && now - Date.parse(d.finishedAt) < ATTENTION_WINDOW_MS);
  const paused = (active.data?.items ?? []).filter((d) => d.paused);
  const invalidCommits = [...(commits.data ?? [])].flatMap(([repo, list]) => list.filter((c) => c.result?.status === "invalid" && now - Date.parse(c.result.processedAt) < ATTENTION_WINDOW_MS).map((commit) => ({ repo, commit })));
  const pendingDeletes = held.data?.items ?? [];
  const waitingCommits = waiting.data?.items ?? [];
  const drifted = (drift.data?.items ?? []).filter((d) => d.status === "drifted" || d.status === "missing");
  const attention = failures.length + paused.length + invalidCommits.length + pendingDeletes.length + waitingCommits.length + drifted.length;

  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <LiveState state={stream} />
      </div>

      <Section title="Needs attention" id="attention">
        {recent.error ? <ErrorNote error={recent.error} what="recent deployments" /> : null}
        {!recent.data ? (
          <Loading what="recent deployments" />
        ) : attention === 0 ? (
          <p class="muted">Nothing: no deployment failed, was rolled back or aborted and no commit was invalid in the last 24 hours; none is paused, no delete or commit is waiting and nothing has drifted.</p>
        ) : (
          <ul class="attention">
            {invalidCommits.map(({ repo, commit }) => (
              <li key={`c${commit.sha}`}>
                <span class="badge bad">invalid commit</span>{" "}
                <a href={paths.commit(repo, commit.sha)}>
                  {repo} <code>{shortSha(commit.sha)}</code>
                </a>{" "}
                {commit.subject} — {commit.result!.errors} {commit.result!.errors === 1 ? "error" : "errors"}; its valid objects were deployed
              </li>
            ))}
            {pendingDeletes.map((p) => (
              <li key={`d${p.repository}/${p.object}`} class="pending-delete">
                <span class="badge warn">delete waiting</span> <a href={paths.object(p.object)}>{p.object}</a> <span class="muted">({p.repository}, removed in {shortSha(p.commitSha)})</span> — {p.message}
                <span class="toolbar">
                  <ActionButton label="Delete the service" title={`Delete ${p.service} in ${p.cluster} (${p.region})?`} danger onDone={reload} run={async () => `Delete started: deployment ${(await api.confirmDelete(p.repository, p.object)).id}.`}>
                    <p>The service is scaled to 0 and deleted, as the commit that removed {p.object} asked. This cannot be undone from Flotilla.</p>
                  </ActionButton>
                  <ActionButton label="Keep it" title={`Keep ${p.service} running and forget this delete?`} onDone={reload} run={async () => { await api.dismissDelete(p.repository, p.object); return "Kept: the delete is dismissed."; }}>
                    <p>The service keeps running; Flotilla stops offering to delete it (until a later commit removes the object again).</p>
                  </ActionButton>
                </span>
              </li>
            ))}
            {waitingCommits.map((c) => (
              <li key={`w${c.repository}/${c.branch}`} class="waiting-commit">
                <span class="badge warn">commit waiting</span>{" "}
                <a href={paths.commit(c.repository, c.sha)}>
                  {c.repository} <code>{shortSha(c.sha)}</code>
                </a>{" "}
                — {c.message}
                {c.releasedBy ? <span class="muted"> (released by {c.releasedBy})</span> : null}
                <span class="toolbar">
                  <ActionButton label="Deploy now" title={`Deploy ${shortSha(c.sha)} outside its sync windows?`} danger onDone={reload} run={async () => { await api.releaseCommit(c.repository, c.sha); return "Released: it deploys now, recorded as an override."; }}>
                    <p>The commit deploys while {c.windows.map((w) => `${w.kind} window ${w.name}`).join(", ")} would hold it. The override is recorded with your name.</p>
                  </ActionButton>
                </span>
              </li>
            ))}
            {drifted.map((d) => (
              <li key={`x${d.repository}/${d.object}`} class="drifted">
                <span class="badge bad">{d.status === "missing" ? "service missing" : "drifted"}</span> <a href={paths.object(d.object)}>{d.object}</a> <span class="muted">({d.repository}, found {ago(d.detectedAt, now)})</span> — {d.reasons.slice(0, 3).join("; ")}
                {d.healDeploymentId ? (
                  <>
                    {" "}
                    — self-heal: <a href={paths.deployment(d.healDeploymentId)}>deployment</a>
                  </>
                ) : null}
                {d.diff.service.changed || d.diff.taskDefinition.changed ? (
                  <details class="drift-diff">
                    <summary>diff</summary>
                    {d.diff.taskDefinition.changed ? <Diff title="Task definition" text={d.diff.taskDefinition.text} /> : null}
                    {d.diff.service.changed ? <Diff title="Service" text={d.diff.service.text} /> : null}
                  </details>
                ) : null}
              </li>
            ))}
            {paused.map((d) => (
              <li key={`p${d.id}`}>
                <PhaseBadge phase={d.phase} weight={d.trafficWeight} paused />{" "}
                <a href={paths.deployment(d.id)}>{d.object}</a> — paused by {d.paused!.by}: {d.paused!.reason}
              </li>
            ))}
            {failures.map((d) => (
              <li key={d.id}>
                <PhaseBadge phase={d.phase} /> <a href={paths.deployment(d.id)}>{d.object}</a> <span class="muted">{ago(d.finishedAt, now)}</span> — {d.reason ? <code>{d.reason}</code> : null} {d.message}
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section title="Active deployments" id="active">
        {active.error ? <ErrorNote error={active.error} what="active deployments" /> : null}
        {!active.data ? <Loading what="active deployments" /> : active.data.items.length === 0 ? <p class="muted">No deployment is running.</p> : <ActiveTable items={active.data.items} now={now} />}
      </Section>

      <Section title="Recent deployments" id="recent">
        {!recent.data ? (
          <Loading what="recent deployments" />
        ) : recent.data.items.length === 0 ? (
          <p class="muted">No deployment has finished yet.</p>
        ) : (
          <Table headers={["Object", "Result", "Started by", "Finished", "Took"]}>
                {recent.data.items.slice(0, 10).map((d) => (
                  <tr key={d.id}>
                    <td>
                      <a href={paths.deployment(d.id)}>{d.object}</a>
                    </td>
                    <td>
                      <PhaseBadge phase={d.phase} /> {d.reason ? <code class="muted">{d.reason}</code> : null}
                    </td>
                    <td>{triggerOf(d).text}</td>
                    <td>{ago(d.finishedAt, now)}</td>
                    <td>{duration(Date.parse(d.finishedAt!) - Date.parse(d.createdAt))}</td>
                  </tr>
                ))}
              </Table>
        )}
      </Section>

      <Section title="Repositories" id="repositories">
        {repos.error ? <ErrorNote error={repos.error} what="repositories" /> : null}
        {!repos.data ? (
          <Loading what="repositories" />
        ) : repos.data.items.length === 0 ? (
          <p class="muted">
            No repository is registered. Add one with <code>flotilla repo add NAME URL</code>.
          </p>
        ) : (
          <RepositoryTable items={repos.data.items} commits={commits.data ?? new Map()} recent={[...(active.data?.items ?? []), ...(recent.data?.items ?? [])]} now={now} />
        )}
      </Section>
    </>
  );
}

export function LiveState({ state, closedText = "Not live" }: { state: StreamState; closedText?: string }) {
  const text = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : state === "reconnecting" ? "Reconnecting…" : closedText;
  return (
    <span class={`live-state ${state}`} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" /> {text}
    </span>
  );
}

/** Progress in one line: traffic on green for blue/green, production on the new revision for ECS-managed, running of desired tasks otherwise. */
export function Progress({ d }: { d: DeploymentRecord }) {
  if (d.strategy === "bluegreen" && d.trafficWeight !== null) return <Meter value={d.trafficWeight} label={`${d.trafficWeight}% on green`} />;
  if (d.strategy === "ecs-managed" && d.trafficWeight !== null) return <Meter value={d.trafficWeight} label={`${d.trafficWeight}% of production on the new revision`} />;
  const { desired, running } = d.counts;
  if (desired > 0) return <Meter value={(100 * Math.min(running, desired)) / desired} label={`${running}/${desired} tasks running${d.failedTasks ? `, ${d.failedTasks} failed` : ""}`} />;
  return <span class="muted">{d.message ?? "—"}</span>;
}

function ActiveTable({ items, now }: { items: DeploymentRecord[]; now: number }) {
  return (
    <Table headers={["Object", "Phase", "Progress", "Strategy", "Started by", "Running for"]}>
          {items.map((d) => (
            <tr key={d.id}>
              <td>
                <a href={paths.deployment(d.id)}>{d.object}</a>
              </td>
              <td>
                <PhaseBadge phase={d.phase} weight={d.trafficWeight} paused={Boolean(d.paused)} />
              </td>
              <td>
                <Progress d={d} />
              </td>
              <td>{strategyName(d.strategy)}</td>
              <td>{triggerOf(d).text}</td>
              <td>{duration(now - Date.parse(d.createdAt))}</td>
            </tr>
          ))}
        </Table>
  );
}

/** How the deployments a commit started went: `2 succeeded, 1 rolled back`. */
export function commitOutcome(deployments: readonly DeploymentRecord[]): { text: string; tone: "ok" | "bad" | "live" | "" } {
  if (deployments.length === 0) return { text: "nothing deployed", tone: "" };
  const counts = new Map<string, number>();
  for (const d of deployments) counts.set(d.phase, (counts.get(d.phase) ?? 0) + 1);
  const text = [...counts].map(([phase, n]) => `${n} ${phase === "RolledBack" ? "rolled back" : phase.toLowerCase()}`).join(", ");
  const tone = deployments.some((d) => BAD.has(d.phase)) ? "bad" : deployments.some((d) => !d.finishedAt) ? "live" : "ok";
  return { text, tone };
}

function RepositoryTable({ items, commits, recent, now }: { items: RepositoryRecord[]; commits: ReadonlyMap<string, readonly CommitListItem[]>; recent: DeploymentRecord[]; now: number }) {
  return (
    <Table headers={["Repository", "Branch", "Last processed commit", "Result", "Processed"]}>
          {items.map((r) => {
            const sha = r.lastCommit?.sha;
            const outcome = commitOutcome(recent.filter((d) => d.repository === r.name && d.commitSha === sha));
            const result = commits.get(r.name)?.find((c) => c.sha === sha)?.result;
            return (
              <tr key={r.name}>
                <td>
                  <a href={paths.repository(r.name)}>{r.name}</a>
                </td>
                <td>
                  <code>{r.branch}</code>
                  {r.path ? <span class="muted"> /{r.path}</span> : null}
                </td>
                <td>{sha ? <a href={paths.commit(r.name, sha)}><code>{shortSha(sha)}</code></a> : <span class="muted">none yet</span>}</td>
                <td>
                  {result?.status === "invalid" ? <span class="badge bad">invalid: {result.errors} {result.errors === 1 ? "error" : "errors"}</span> : null} {sha ? <span class={`badge ${outcome.tone}`}>{outcome.text}</span> : null}
                </td>
                <td>{r.lastCommit ? <span title={r.lastCommit.processedAt}>{ago(r.lastCommit.processedAt, now)}</span> : "—"}</td>
              </tr>
            );
          })}
        </Table>
  );
}

