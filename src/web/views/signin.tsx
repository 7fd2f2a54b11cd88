/**
 * Sign-in: the token is pasted once and sent to the server, which answers with a session cookie the
 * page's scripts cannot read. The token is not kept anywhere in the browser.
 */
import { useState } from "preact/hooks";
import { api, ApiFailure, type SessionInfo } from "../api.ts";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: SessionInfo) => void; notice?: string | undefined }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.signIn(token);
      setToken("");
      onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiFailure ? (err.status === 401 ? "That token is not valid: it is unknown, or it was rotated or revoked." : `${err.message} (${err.code})`) : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span class="brand-mark" aria-hidden="true" /> Sign in to Flotilla
        </h1>
        {notice ? <p class="note warn" role="status">{notice}</p> : null}
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} required value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-describedby="token-help" />
        <p id="token-help" class="muted">
          Paste a token once (<code>flotilla token create NAME</code> makes one). The server exchanges it for a session cookie; the token itself is not stored in this browser. Operators can act on deployments; read-only tokens can look.
        </p>
        {error ? (
          <p class="note bad" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy || token.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
