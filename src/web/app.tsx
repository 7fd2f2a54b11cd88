/** The page: who is signed in, the header, and one view per route. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorBoundary, LocationProvider, Route, Router } from "preact-iso";
import { api, ApiFailure, onSignedOut, paths, type SessionInfo } from "./api.ts";
import { ErrorNote, Loading } from "./components/ui.tsx";
import { SessionContext } from "./session.ts";
import { CommitView } from "./views/commit.tsx";
import { DeploymentView } from "./views/deployment.tsx";
import { ObjectView } from "./views/object.tsx";
import { Overview } from "./views/overview.tsx";
import { RepositoryView } from "./views/repository.tsx";
import { SignIn } from "./views/signin.tsx";

export function App() {
  // undefined: asking the server; null: signed out.
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<ApiFailure | undefined>(undefined);
  const current = useRef(session);
  current.current = session;

  useEffect(() => {
    api.session().then(setSession, (e: unknown) => {
      if (e instanceof ApiFailure && e.status === 401) setSession(null);
      else setFailure(e instanceof ApiFailure ? e : new ApiFailure(0, "FLT-INTERNAL", String(e)));
    });
    return onSignedOut(() => {
      // A request still in flight after this page signed out is not news.
      if (!current.current) return;
      setNotice("Your session has ended (signed out elsewhere, expired, or its token was rotated or revoked). Sign in again.");
      setSession(null);
    });
  }, []);

  if (failure) return <main class="page"><ErrorNote error={failure} what="the session" /></main>;
  if (session === undefined) return <main class="page"><Loading what="Flotilla" /></main>;
  if (session === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice(undefined);
          setSession(s);
          if (location.pathname === "/signin") history.replaceState(null, "", "/");
        }}
      />
    );
  }

  const signOut = async () => {
    current.current = null;
    try {
      await api.signOut();
    } finally {
      setNotice("You are signed out.");
      setSession(null);
    }
  };

  return (
    <SessionContext.Provider value={session}>
      <LocationProvider>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href={paths.overview()}>
            <span class="brand-mark" aria-hidden="true" /> Flotilla
          </a>
          <nav aria-label="Main">
            <a href={paths.overview()}>Overview</a>
          </nav>
          <div class="who">
            <span>
              Signed in as <strong>{session.name}</strong> <span class={`badge ${session.role === "operator" ? "live" : ""}`}>{session.role}</span>
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main" class="page" tabIndex={-1}>
          <ErrorBoundary>
            <Router>
              <Route path="/" component={Overview} />
              <Route path="/signin" component={Overview} />
              <Route path="/repositories/:name" component={RepositoryView} />
              <Route path="/repositories/:name/commits/:sha" component={CommitView} />
              <Route path="/deployments/:id" component={DeploymentView} />
              <Route path="/objects/:object+" component={ObjectView} />
              <Route default component={NotFound} />
            </Router>
          </ErrorBoundary>
        </main>
      </LocationProvider>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <div class="card">
      <h1>Not found</h1>
      <p>
        There is no such page. <a href={paths.overview()}>Back to the overview</a>.
      </p>
    </div>
  );
}
