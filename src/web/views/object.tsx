/**
 * An object (a service in Git): its revisions and every deployment of it, who or what started each
 * (a commit, an override, a rollback, with the token's name), and how what runs differs from Git
 * where a plan can be computed.
 */
import { api, paths, type DeploymentRecord, type ObjectPlanAnswer } from "../api.ts";
import { Problems } from "../components/problems.tsx";
import { Diff, ErrorNote, Loading, PhaseBadge, Section, When, Table } from "../components/ui.tsx";
import { duration, isActive, shortArn, shortSha, triggerOf, strategyName } from "../format.ts";
import { useDebounced, useEventStream, useLoad } from "../hooks.ts";
import { RollbackAction } from "./deployment.tsx";
import { VersionsSection } from "./versions.tsx";
import { LiveState, Progress } from "./overview.tsx";

const RAINBOW: ReadonlySet<string> = new Set(["rainbow", "cutover", "cleanup"]);

export function ObjectView({ object }: { object: string }) {
  const deployments = useLoad(() => api.deployments({ object, limit: 200 }), [object]);
  const plan = useLoad(() => api.plan(object), [object]);
  const reload = useDebounced(() => deployments.reload(), 500);
  const stream = useEventStream({ object }, (e) => e.object === object && reload(), reload);
  const items = (deployments.data?.items ?? []).filter((d) => d.object === object);
  const latest = items[0];
  const running = items.find(isActive);
  // Rainbow objects keep versions side by side: they are cut over, not rolled back.
  const rainbow = latest !== undefined && RAINBOW.has(latest.strategy);

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={paths.overview()}>Overview</a> / <span aria-current="page">{object}</span>
      </nav>
      <div class="page-head">
        <h1>{object}</h1>
        <LiveState state={stream} />
      </div>
      {deployments.error ? <ErrorNote error={deployments.error} what="the object's deployments" /> : null}
      {!deployments.data ? <Loading what="the object" /> : null}
      {latest ? (
        <dl class="facts">
          <dt>Service</dt>
          <dd>
            <code>{latest.service}</code> in <code>{latest.cluster}</code> ({latest.region}), {rainbow ? <>rainbow: each version runs as <code>{latest.service}-VERSION</code></> : strategyName(latest.strategy)}
          </dd>
          <dt>Latest deployment</dt>
          <dd>
            <PhaseBadge phase={latest.phase} weight={latest.trafficWeight} paused={Boolean(latest.paused)} /> <a href={paths.deployment(latest.id)}>{latest.id}</a> <When at={latest.createdAt} full />
          </dd>
          {running ? (
            <>
              <dt>Progress</dt>
              <dd>
                <Progress d={running} />
              </dd>
            </>
          ) : null}
          <dt>Repository</dt>
          <dd>{latest.repository ? <a href={paths.repository(latest.repository)}>{latest.repository}</a> : "a CLI apply"}</dd>
        </dl>
      ) : deployments.data ? (
        <p class="muted">No deployment of this object is recorded.</p>
      ) : null}

      {rainbow ? (
        <VersionsSection object={object} busy={running ? "A deployment of this object is running: wait for it to finish." : undefined} />
      ) : (
        <div class="toolbar" role="group" aria-label="Object actions">
          <RollbackAction object={object} disabledReason={running ? "A deployment of this object is running: abort it or wait for it to finish." : items.length === 0 ? "Nothing is recorded to roll back to." : undefined} />
        </div>
      )}

      <Section title="Live versus Git" id="plan" actions={<button type="button" onClick={plan.reload} disabled={plan.loading}>{plan.loading ? "Comparing…" : "Compare again"}</button>}>
        {plan.error ? (
          <p class="muted">{plan.error.status === 404 ? `No comparison: ${plan.error.message}.` : `The comparison failed: ${plan.error.message} (${plan.error.code}).`}</p>
        ) : !plan.data ? (
          <Loading what="the comparison with what runs" />
        ) : (
          <PlanView plan={plan.data} />
        )}
      </Section>

      <Section title="Revisions" id="revisions">
        {deployments.data ? <Revisions items={items} /> : <Loading what="revisions" />}
      </Section>

      <Section title="Deployments" id="deployments">
        {deployments.data ? <DeploymentTable items={items} /> : <Loading what="deployments" />}
      </Section>
    </>
  );
}

/** Task definition revisions in the order they were first deployed, with how each deployment of it went. */
function Revisions({ items }: { items: DeploymentRecord[] }) {
  const byRevision = new Map<string, DeploymentRecord[]>();
  for (const d of [...items].reverse()) {
    const rev = d.newTaskDefinitionArn;
    if (!rev) continue;
    byRevision.set(rev, [...(byRevision.get(rev) ?? []), d]);
  }
  const live = items.find((d) => d.phase === "Succeeded")?.newTaskDefinitionArn;
  if (byRevision.size === 0) return <p class="muted">No revision is recorded yet.</p>;
  return (
    <Table headers={["Revision", "Deployments", "First deployed"]}>
          {[...byRevision].reverse().map(([rev, ds]) => (
            <tr key={rev}>
              <td>
                <code title={rev}>{shortArn(rev)}</code> {rev === live ? <span class="badge ok">serving (last success)</span> : null}
              </td>
              <td>
                {ds.map((d) => (
                  <a key={d.id} href={paths.deployment(d.id)} class="inline-badge">
                    <PhaseBadge phase={d.phase} />
                  </a>
                ))}
              </td>
              <td>
                <When at={ds[0]!.createdAt} full />
              </td>
            </tr>
          ))}
        </Table>
  );
}

function DeploymentTable({ items }: { items: DeploymentRecord[] }) {
  if (items.length === 0) return <p class="muted">None.</p>;
  return (
    <Table headers={["Deployment", "Phase", "Started by", "Commit", "Revision", "Started", "Took"]}>
          {items.map((d) => (
            <tr key={d.id}>
              <td>
                <a href={paths.deployment(d.id)}>{d.id}</a>
              </td>
              <td>
                <PhaseBadge phase={d.phase} weight={d.trafficWeight} paused={Boolean(d.paused)} />
                {d.reason ? <div class="muted">{d.reason}</div> : null}
              </td>
              <td>{triggerOf(d).text}</td>
              <td>{d.commitSha && d.repository ? <a href={paths.commit(d.repository, d.commitSha)}><code>{shortSha(d.commitSha)}</code></a> : "—"}</td>
              <td>
                <code>{shortArn(d.newTaskDefinitionArn)}</code>
              </td>
              <td>
                <When at={d.createdAt} full />
              </td>
              <td>{d.finishedAt ? duration(Date.parse(d.finishedAt) - Date.parse(d.createdAt)) : "running"}</td>
            </tr>
          ))}
        </Table>
  );
}

const PLAN_WORDS: Record<ObjectPlanAnswer["action"], string> = {
  none: "Live matches Git",
  update: "Live differs from Git: the next deployment updates it",
  create: "Not running: the next deployment creates it",
  invalid: "Git's definition is invalid",
  blocked: "Live differs from Git, but a deployment would be blocked",
};

/** `flotilla plan` for one object: what differs between what runs and the last processed commit. */
function PlanView({ plan }: { plan: ObjectPlanAnswer }) {
  return (
    <div class="plan">
      <p>
        <span class={`badge ${plan.action === "none" ? "ok" : plan.action === "invalid" || plan.action === "blocked" ? "bad" : "warn"}`}>{plan.action}</span> {PLAN_WORDS[plan.action]}{" "}
        <span class="muted">
          (commit <a href={paths.commit(plan.repository, plan.sha)}>{shortSha(plan.sha)}</a> of {plan.repository}, against the service as ECS describes it now)
        </span>
      </p>
      {plan.reasons.length ? (
        <ul>
          {plan.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      ) : null}
      {plan.problems.length ? <Problems problems={plan.problems} /> : null}
      {plan.taskDefinition.changed ? <Diff title="Task definition" text={plan.taskDefinition.text} /> : null}
      {plan.service.changed ? <Diff title="Service" text={plan.service.text} /> : null}
      {plan.notCompared.length ? <p class="muted">Not compared: {plan.notCompared.join(", ")}.</p> : null}
    </div>
  );
}
