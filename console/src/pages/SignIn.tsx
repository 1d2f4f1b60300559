import { useState } from 'preact/hooks';
import { ApiClient } from '../api/client.js';
import { createToken, listClusters, PROJECT_ID_PATTERN } from '../api/endpoints.js';
import type { Session } from '../api/session.js';
import { importSecretKey } from '../api/signer.js';
import { ErrorNote } from '../components/ErrorNote.js';

type Method = 'password' | 'aksk';

export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (session: Session) => void;
  notice?: string | null;
}) {
  const [method, setMethod] = useState<Method>('password');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function signInWithPassword(form: HTMLFormElement) {
    const data = new FormData(form);
    const userName = String(data.get('user') ?? '');
    const domainName = String(data.get('domain') ?? '');
    const project = String(data.get('project') ?? '');
    const { token, body } = await createToken({
      userName,
      domainName,
      password: String(data.get('password') ?? ''),
      project,
    });
    const scoped = body?.token?.project;
    onSignedIn({
      kind: 'token',
      token,
      expiresAt: body?.token?.expires_at ?? '',
      projectId: scoped?.id ?? project.trim(),
      projectName: scoped?.name ?? null,
      userName: body?.token?.user?.name ?? userName,
      domainName: body?.token?.user?.domain?.name ?? domainName,
    });
  }

  async function signInWithKeys(form: HTMLFormElement) {
    const data = new FormData(form);
    const ak = String(data.get('ak') ?? '').trim();
    const projectId = String(data.get('project_id') ?? '').trim();
    const sk = String(data.get('sk') ?? '');
    const session: Session = { kind: 'aksk', ak, key: await importSecretKey(sk), projectId };
    // One signed read proves the key pair and the project before the console opens.
    await listClusters(new ApiClient(session));
    onSignedIn(session);
  }

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(null);
    try {
      if (method === 'password') await signInWithPassword(form);
      else await signInWithKeys(form);
      form.reset();
    } catch (err) {
      setError(err);
      const secret = form.querySelector<HTMLInputElement>('input[type=password]');
      if (secret) secret.value = '';
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <div class="signin-card">
        <h1 class="signin-title">
          <span class="brand-mark" aria-hidden="true" />
          DWS encryption console
        </h1>
        <p class="muted">Sign in to see and drive cluster encryption.</p>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <fieldset class="segmented">
          <legend class="visually-hidden">Sign-in method</legend>
          <label class={method === 'password' ? 'segment selected' : 'segment'}>
            <input
              type="radio"
              name="method"
              value="password"
              checked={method === 'password'}
              onChange={() => {
                setMethod('password');
                setError(null);
              }}
            />
            IAM user
          </label>
          <label class={method === 'aksk' ? 'segment selected' : 'segment'}>
            <input
              type="radio"
              name="method"
              value="aksk"
              checked={method === 'aksk'}
              onChange={() => {
                setMethod('aksk');
                setError(null);
              }}
            />
            Access key
          </label>
        </fieldset>
        {method === 'password' ? (
          <form class="form" onSubmit={submit} key="password" aria-label="Sign in as an IAM user">
            <div class="field">
              <label for="signin-user">IAM user name</label>
              <input id="signin-user" name="user" autocomplete="username" required />
            </div>
            <div class="field">
              <label for="signin-domain">Account (domain) name</label>
              <input id="signin-domain" name="domain" autocomplete="organization" required />
            </div>
            <div class="field">
              <label for="signin-password">Password</label>
              <input
                id="signin-password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
              />
            </div>
            <div class="field">
              <label for="signin-project">Project</label>
              <input id="signin-project" name="project" required aria-describedby="signin-project-help" />
              <span class="help" id="signin-project-help">
                Project id (32 hex characters) or project name.
              </span>
            </div>
            <button type="submit" class="button primary wide" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        ) : (
          <form class="form" onSubmit={submit} key="aksk" aria-label="Sign in with an access key">
            <div class="field">
              <label for="signin-ak">Access key (AK)</label>
              <input id="signin-ak" name="ak" autocomplete="username" spellcheck={false} required />
            </div>
            <div class="field">
              <label for="signin-sk">Secret key (SK)</label>
              <input
                id="signin-sk"
                name="sk"
                type="password"
                autocomplete="current-password"
                required
                aria-describedby="signin-sk-help"
              />
              <span class="help" id="signin-sk-help">
                Requests are signed in this browser; the secret is never sent and is forgotten on sign-out or
                reload.
              </span>
            </div>
            <div class="field">
              <label for="signin-project-id">Project id</label>
              <input
                id="signin-project-id"
                name="project_id"
                required
                spellcheck={false}
                pattern={PROJECT_ID_PATTERN.source.replace(/^\^|\$$/g, '')}
                title="32 lowercase hexadecimal characters"
              />
            </div>
            <button type="submit" class="button primary wide" disabled={busy}>
              {busy ? 'Checking…' : 'Sign in'}
            </button>
          </form>
        )}
        <ErrorNote error={error} context="Sign-in failed" />
      </div>
    </main>
  );
}
