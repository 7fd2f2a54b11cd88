/**
 * A rainbow object's versions (docs/deployments.md "Rainbow deployments"): which is live, each one's
 * URL and tasks, the last cutover; a cutover (or cut-back) per version and a cleanup whose dialog
 * shows first what it would remove. Both are audited under the signed-in token's name.
 */
import { useLocation } from "preact-iso";
import { api, paths, type CleanupPlanAnswer, type VersionsAnswer } from "../api.ts";
import { ActionButton } from "../components/actions.tsx";
import { Loading, Section, Table, When } from "../components/ui.tsx";
import { useLoad } from "../hooks.ts";

export function VersionsSection({ object, busy }: { object: string; busy: string | undefined }) {
  const versions = useLoad(() => api.versions(object), [object]);
  const plan = useLoad(() => api.planCleanup(object), [object]);
  const reload = () => {
    versions.reload();
    plan.reload();
  };
  return (
    <Section
      title="Versions"
      id="versions"
      actions={
        <button type="button" onClick={reload} disabled={versions.loading}>
          {versions.loading ? "Reading…" : "Read again"}
        </button>
      }
    >
      {versions.error ? <p class="muted">The versions could not be read: {versions.error.message} ({versions.error.code}).</p> : !versions.data ? <Loading what="the versions" /> : <VersionTable answer={versions.data} object={object} busy={busy} />}
      {versions.data ? <CleanupAction object={object} plan={plan.data} busy={busy} /> : null}
    </Section>
  );
}

function VersionTable({ answer, object, busy }: { answer: VersionsAnswer; object: string; busy: string | undefined }) {
  const live = answer.versions.find((v) => v.live)?.version;
  return (
    <>
      {answer.versions.length === 0 ? (
        <p class="muted">No version exists in AWS.</p>
      ) : (
        <Table headers={["Version", "", "Service", "Tasks", "URL", "Deployed", ""]}>
          {answer.versions.map((v) => (
            <tr key={v.version}>
              <td>
                <code>{v.version}</code>
              </td>
              <td>{v.live ? <span class="badge ok">live</span> : v.protected ? <span class="badge">protected</span> : null}</td>
              <td>
                <code>{v.service}</code> <span class="muted">{v.status}</span>
              </td>
              <td>{v.desired === null ? "—" : `${v.running}/${v.desired}`}</td>
              <td>
                <a href={v.url} rel="noreferrer noopener" target="_blank">
                  {v.url}
                </a>
                {v.note ? <span class="muted"> {v.note}</span> : null}
              </td>
              <td>
                <When at={v.createdAt} full />
              </td>
              <td>{v.live ? null : <CutoverAction object={object} version={v.version} from={live} busy={busy} />}</td>
            </tr>
          ))}
        </Table>
      )}
      {answer.lastCutover ? (
        <p class="muted">
          Last cutover: to <code>{answer.lastCutover.version}</code> by {answer.lastCutover.by}, <When at={answer.lastCutover.at} full /> (<a href={paths.deployment(answer.lastCutover.deployment)}>deployment</a>).
        </p>
      ) : null}
    </>
  );
}

function CutoverAction({ object, version, from, busy }: { object: string; version: string; from: string | undefined; busy: string | undefined }) {
  const { route } = useLocation();
  return (
    <ActionButton
      label="Cut over"
      title={`Make version ${version} of ${object} live?`}
      unavailable={busy}
      run={async () => {
        const created = await api.cutover(object, version);
        route(paths.deployment(created.id));
        return `Cutover started: deployment ${created.id}.`;
      }}
    >
      <p>
        Scales {version} to the live version's count, waits for healthy targets, then switches the live route {from ? `from ${from} ` : ""}in one call per listener and reads it back; the alarms are watched after it. {from ? `${from} stays up: cutting back is the same action on it.` : ""}
      </p>
    </ActionButton>
  );
}

function CleanupAction({ object, plan, busy }: { object: string; plan: CleanupPlanAnswer | undefined; busy: string | undefined }) {
  const { route } = useLocation();
  const nothing = plan !== undefined && plan.remove.length === 0;
  return (
    <div class="toolbar" role="group" aria-label="Version actions">
      <ActionButton
        label="Clean up"
        title={`Remove the versions of ${object} its cleanup policy lets go?`}
        danger
        unavailable={busy ?? (nothing ? "The cleanup policy removes no version now." : undefined)}
        run={async () => {
          const created = await api.cleanup(object);
          route(paths.deployment(created.id));
          return `Cleanup started: deployment ${created.id}.`;
        }}
      >
        {plan ? (
          <>
            <p>Removes {plan.remove.join(", ")}: their listener rules, services and target groups.</p>
            <ul>
              {plan.kept.map((k) => (
                <li key={k.version}>
                  keeps <code>{k.version}</code>: {k.why}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>Removes the versions the cleanup policy lets go (never the live one).</p>
        )}
      </ActionButton>
    </div>
  );
}
