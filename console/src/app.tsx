import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, type ApiError } from './api/client.js';
import { activeFaultCount, revokeToken } from './api/endpoints.js';
import { clearSession, loadSession, type Session, saveSession, sessionLabel } from './api/session.js';
import { JobsProvider, useJobs } from './jobs.js';
import { AuditPage } from './pages/Audit.js';
import { ClustersPage } from './pages/Clusters.js';
import { JobsPage } from './pages/Jobs.js';
import { KeysPage } from './pages/Keys.js';
import { SignIn } from './pages/SignIn.js';
import { hrefFor, linkClick, type Route, useRoute } from './router.js';

const NAV: { route: Route; label: string }[] = [
  { route: { page: 'clusters' }, label: 'Clusters' },
  { route: { page: 'keys' }, label: 'Keys' },
  { route: { page: 'jobs' }, label: 'Jobs' },
  { route: { page: 'audit' }, label: 'Audit' },
];

const TITLES: Record<Route['page'], string> = {
  clusters: 'Clusters',
  keys: 'Keys',
  jobs: 'Jobs',
  audit: 'Audit',
  'not-found': 'Not found',
};

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message: string | null = null) => {
    clearSession();
    setSession(null);
    setNotice(message);
  }, []);

  const sessionRef = useRef(session);
  sessionRef.current = session;
  const onUnauthorized = useCallback(
    (error: ApiError) => {
      // A token that expired or was revoked ends the session; an AK/SK 401 is shown where it happened.
      if (sessionRef.current?.kind === 'token')
        signOut(`Signed out: ${error.message} (${error.code}). Sign in again.`);
    },
    [signOut],
  );

  const api = useMemo(
    () => (session ? new ApiClient(session, onUnauthorized) : null),
    [session, onUnauthorized],
  );

  // Sign out when the token's expiry passes while the page is open.
  useEffect(() => {
    if (session?.kind !== 'token') return;
    const left = Date.parse(session.expiresAt) - Date.now();
    if (!Number.isFinite(left)) return;
    const timer = setTimeout(
      () => signOut('Your token expired. Sign in again.'),
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    return () => clearTimeout(timer);
  }, [session, signOut]);

  if (!session || !api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(next) => {
          saveSession(next);
          setNotice(null);
          setSession(next);
        }}
      />
    );
  }
  return (
    <JobsProvider api={api} key={`${session.kind}:${session.projectId}`}>
      <Shell
        session={session}
        api={api}
        onSignOut={() => {
          // A token is revoked on the server as well; the sign-out does not wait for (or depend on) it.
          if (session.kind === 'token') revokeToken(session.token).catch(() => {});
          signOut(
            session.kind === 'token'
              ? 'Signed out. The token was revoked.'
              : 'Signed out. The secret was forgotten.',
          );
        }}
      />
    </JobsProvider>
  );
}

function Shell({ session, api, onSignOut }: { session: Session; api: ApiClient; onSignOut: () => void }) {
  const route = useRoute();
  const jobs = useJobs();
  const running = jobs.tracked.filter((job) => {
    const status = jobs.details[job.jobId]?.status;
    return status !== undefined && !['SUCCESS', 'FAIL', 'STOP'].includes(status);
  }).length;

  useEffect(() => {
    document.title = `${TITLES[route.page]} · DWS encryption console`;
  }, [route.page]);

  // Fault rules make some calls fail on purpose: say so while any is active (checked every 10 s).
  const [faults, setFaults] = useState(0);
  useEffect(() => {
    let live = true;
    const check = () => void activeFaultCount(api).then((count) => live && setFaults(count));
    check();
    const timer = setInterval(check, 10_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={hrefFor({ page: 'clusters' })} onClick={linkClick}>
          <span class="brand-mark" aria-hidden="true" />
          DWS encryption
        </a>
        <nav class="nav" aria-label="Pages">
          {NAV.map((item) => (
            <a
              key={item.label}
              href={hrefFor(item.route)}
              onClick={linkClick}
              aria-current={route.page === item.route.page ? 'page' : undefined}
            >
              {item.label}
              {item.route.page === 'jobs' && running > 0 ? (
                <span class="nav-count" title={`${running} running`}>
                  {running}
                </span>
              ) : null}
            </a>
          ))}
        </nav>
        <div class="who">
          <span class="who-text">
            <span class="who-name">{sessionLabel(session)}</span>
            <span class="who-project mono" title="Project id">
              {session.kind === 'token' && session.projectName ? `${session.projectName} · ` : ''}
              {session.projectId}
            </span>
          </span>
          <button type="button" class="button small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {faults > 0 ? (
        <div class="fault-banner" role="status">
          {faults === 1 ? '1 fault rule is' : `${faults} fault rules are`} active on this instance: some calls
          fail or slow down on purpose. List them with <code>dws-encryption faults list</code>, remove them
          with <code>dws-encryption faults clear</code>.
        </div>
      ) : null}
      {route.page === 'clusters' ? <ClustersPage api={api} /> : null}
      {route.page === 'keys' ? <KeysPage api={api} /> : null}
      {route.page === 'jobs' ? <JobsPage api={api} jobId={route.jobId} /> : null}
      {route.page === 'audit' ? <AuditPage api={api} /> : null}
      {route.page === 'not-found' ? (
        <main class="page" id="main">
          <h1>Page not found</h1>
          <p>
            There is no console page at <code>{route.path}</code>.{' '}
            <a href={hrefFor({ page: 'clusters' })} onClick={linkClick}>
              Go to clusters
            </a>
            .
          </p>
        </main>
      ) : null}
    </>
  );
}
