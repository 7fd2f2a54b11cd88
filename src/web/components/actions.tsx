/**
 * Operator actions: a button that asks for confirmation in a modal dialog (the browser's <dialog>:
 * focus moves into it, Escape cancels) and then calls the API. For a read-only token the button is
 * disabled and says why next to it, not only on hover. Every action is audited by the server under
 * the signed-in token's name.
 */
import type { ComponentChildren } from "preact";
import { useContext, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiFailure } from "../api.ts";
import { SessionContext } from "../session.ts";

export interface ActionProps {
  /** The button's text (a verb: "Pause"). */
  label: string;
  /** The dialog's question and what will happen. */
  title: string;
  children: ComponentChildren;
  /** The text of the confirming button (default: the label). */
  confirmLabel?: string;
  danger?: boolean;
  /** Why the action is not possible now (besides the role), shown next to the disabled button. */
  unavailable?: string | undefined;
  /** Extra inputs in the dialog (options of a deploy); read by `run` from its own state. */
  run: () => Promise<string | void>;
  onDone?: () => void;
}

export function ActionButton(props: ActionProps) {
  const session = useContext(SessionContext);
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const reasonId = useId();
  const titleId = useId();
  const readOnly = session?.role !== "operator";
  const why = readOnly ? `Needs an operator token: ${session?.name ?? "this token"} is read-only.` : props.unavailable;

  useEffect(() => {
    if (!result?.ok) return;
    const t = setTimeout(() => setResult(null), 8000);
    return () => clearTimeout(t);
  }, [result]);

  const confirm = async () => {
    setBusy(true);
    try {
      const text = await props.run();
      setResult({ ok: true, text: text ?? `${props.label}: requested` });
      dialog.current?.close();
      props.onDone?.();
    } catch (e) {
      setResult({ ok: false, text: e instanceof ApiFailure ? `${e.message} (${e.code})` : String(e) });
      dialog.current?.close();
    } finally {
      setBusy(false);
    }
  };

  return (
    <span class="action">
      <button type="button" class={props.danger ? "danger" : ""} disabled={Boolean(why) || busy} aria-describedby={why ? reasonId : undefined} onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      {why ? (
        <span id={reasonId} class="action-reason">
          {why}
        </span>
      ) : null}
      {result ? (
        <span class={`action-result ${result.ok ? "ok" : "bad"}`} role={result.ok ? "status" : "alert"}>
          {result.text}
        </span>
      ) : null}
      <dialog ref={dialog} aria-labelledby={titleId} class="confirm">
        <form method="dialog" onSubmit={(e) => { e.preventDefault(); void confirm(); }}>
          <h3 id={titleId}>{props.title}</h3>
          <div class="confirm-body">{props.children}</div>
          <p class="muted">Recorded under your token's name, {session?.name}.</p>
          <div class="confirm-buttons">
            <button type="button" onClick={() => dialog.current?.close()} disabled={busy}>
              Cancel
            </button>
            <button type="submit" class={props.danger ? "danger" : "primary"} disabled={busy}>
              {busy ? "Working…" : (props.confirmLabel ?? props.label)}
            </button>
          </div>
        </form>
      </dialog>
    </span>
  );
}
