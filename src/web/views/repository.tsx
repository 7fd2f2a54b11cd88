/** A repository: where it comes from, and its newest commits with how each was processed. */
import { api, paths } from "../api.ts";
import { ErrorNote, Loading, Section, When, Table } from "../components/ui.tsx";
import { ago, shortSha } from "../format.ts";
import { useDebounced, useEventStream, useLoad, useNow } from "../hooks.ts";
import { commitOutcome, LiveState } from "./overview.tsx";

export function RepositoryView({ name }: { name: string }) {
  const now = useNow(10_000);
  const repo = useLoad(() => api.repository(name), [name]);
  const commits = useLoad(() => api.commits(name, 30), [name]);
  const deployments = useLoad(() => api.deployments({ repository: name, limit: 200 }), [name]);
  const reload = useDebounced(() => {
    repo.reload();
    commits.reload();
    deployments.reload();
  }, 800);
  const stream = useEventStream({}, (e) => e.repository === name && reload(), reload, (c) => c.repository === name && reload());

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={paths.overview()}>Overview</a> / <span aria-current="page">{name}</span>
      </nav>
      <div class="page-head">
        <h1>{name}</h1>
        <LiveState state={stream} />
      </div>
      {repo.error ? <ErrorNote error={repo.error} what="the repository" /> : null}
      {repo.data ? (
        <dl class="facts">
          <dt>URL</dt>
          <dd>
            <code>{repo.data.url}</code>
          </dd>
          <dt>Branch</dt>
          <dd>
            <code>{repo.data.branch}</code>
            {repo.data.path ? <> in <code>{repo.data.path}</code></> : null}
          </dd>
          <dt>Polls every</dt>
          <dd>{repo.data.pollIntervalSeconds}s</dd>
          <dt>Last processed</dt>
          <dd>{repo.data.lastCommit ? <><a href={paths.commit(name, repo.data.lastCommit.sha)}><code>{shortSha(repo.data.lastCommit.sha)}</code></a> {ago(repo.data.lastCommit.processedAt, now)}</> : "none yet"}</dd>
        </dl>
      ) : null}
      <Section title="Commits" id="commits">
        {commits.error ? <ErrorNote error={commits.error} what="commits" /> : null}
        {!commits.data ? (
          <Loading what="commits" />
        ) : (
          <Table headers={["Commit", "Message", "Author", "Committed", "Result"]}>
                {commits.data.items.map((c) => {
                  const result = c.result;
                  const outcome = commitOutcome((deployments.data?.items ?? []).filter((d) => d.commitSha === c.sha));
                  return (
                    <tr key={c.sha}>
                      <td>
                        <a href={paths.commit(name, c.sha)}>
                          <code>{shortSha(c.sha)}</code>
                        </a>
                      </td>
                      <td>{c.subject}</td>
                      <td>{c.author}</td>
                      <td>
                        <When at={c.committedAt} full />
                      </td>
                      <td>
                        {result?.status === "invalid" ? <span class="badge bad">invalid: {result.errors} {result.errors === 1 ? "error" : "errors"}</span> : null}{" "}
                        {c.processed ? <span class={`badge ${outcome.tone}`}>{outcome.text}</span> : <span class="badge">not processed</span>}
                      </td>
                    </tr>
                  );
                })}
              </Table>
        )}
      </Section>
    </>
  );
}
