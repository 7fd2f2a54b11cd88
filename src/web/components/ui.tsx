/** Small pieces every view uses: badges, times, messages, sections. */
import type { ComponentChildren } from "preact";
import type { ApiFailure } from "../api.ts";
import { BAD, dateTime, phaseLabel, TERMINAL, time } from "../format.ts";

export function PhaseBadge({ phase, weight = null, paused = false }: { phase: string; weight?: number | null; paused?: boolean }) {
  const tone = phase === "Succeeded" ? "ok" : BAD.has(phase) ? "bad" : phase === "RollingBack" || paused ? "warn" : TERMINAL.has(phase) ? "" : "live";
  return <span class={`badge ${tone}`}>{paused ? `Paused · ${phaseLabel(phase, weight)}` : phaseLabel(phase, weight)}</span>;
}

export function StatusBadge({ status, text }: { status: "ok" | "bad" | "warn" | "live" | ""; text: string }) {
  return <span class={`badge ${status}`}>{text}</span>;
}

/** A time, with the full date and time on hover and for screen readers. */
export function When({ at, full = false }: { at: string | null | undefined; full?: boolean }) {
  if (!at) return <span class="muted">—</span>;
  return (
    <time dateTime={at} title={dateTime(at)}>
      {full ? dateTime(at) : time(at)}
    </time>
  );
}

export function ErrorNote({ error, what }: { error: ApiFailure; what?: string }) {
  return (
    <div class="note bad" role="alert">
      <strong>{what ? `Could not load ${what}: ` : ""}</strong>
      {error.message} <code>{error.code}</code>
      {error.hint ? <div class="muted">{error.hint}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Section({ title, id, actions, children }: { title: string; id?: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section class="card" aria-labelledby={headingId} id={id}>
      <div class="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A bar showing a percentage, with the number as text (the bar alone says nothing to a screen reader). */
export function Meter({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, value));
  return (
    <span class="meter-wrap">
      <span class="meter" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={v} aria-label={label}>
        <span class="meter-fill" style={{ width: `${v}%` }} />
      </span>
      <span class="meter-text">{label}</span>
    </span>
  );
}

/** A table that scrolls sideways on a narrow screen rather than squeezing its columns. */
export function Table({ headers, caption, children }: { headers: readonly string[]; caption?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        {caption ? <caption class="muted">{caption}</caption> : null}
        <thead>
          <tr>
            {headers.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A unified diff, live (`---`) to Git (`+++`), as `flotilla plan` prints it (masked by the server). */
export function Diff({ title, text }: { title: string; text: string }) {
  return (
    <figure class="diff">
      <figcaption>{title} (live → Git)</figcaption>
      <pre>
        {text.split("\n").map((line, i) => (
          <span key={i} class={line.startsWith("+++") || line.startsWith("---") ? "diff-file" : line.startsWith("+") ? "diff-add" : line.startsWith("-") ? "diff-del" : line.startsWith("@@") ? "diff-hunk" : ""}>
            {line}
            {"\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}
