/** A list of validation problems: severity, code, file:line:column, JSON path, message and hint. */
import type { Problem } from "../../core/problems.ts";

export function Problems({ problems }: { problems: readonly Problem[] }) {
  if (problems.length === 0) return <p class="muted">No problems.</p>;
  return (
    <ul class="problems">
      {problems.map((p, i) => (
        <li key={i} class={p.severity}>
          <span class={`badge ${p.severity === "error" ? "bad" : "warn"}`}>{p.severity}</span> <code class="code">{p.code}</code>{" "}
          {p.file ? (
            <code class="where">
              {p.file}
              {p.line !== undefined ? `:${p.line}` : ""}
              {p.line !== undefined && p.column !== undefined ? `:${p.column}` : ""}
            </code>
          ) : null}{" "}
          {p.path ? <code class="muted">{p.path}</code> : null}
          <div class="problem-message">{p.message}</div>
          {p.hint ? <div class="muted">hint: {p.hint}</div> : null}
        </li>
      ))}
    </ul>
  );
}
