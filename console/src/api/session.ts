/**
 * Who the console acts as. A token session (IAM password sign-in) is kept in sessionStorage so a
 * reload keeps it until the tab closes or the token expires; an AK/SK session lives in memory only
 * (the SK itself is held as a non-extractable CryptoKey) and is gone on reload or sign-out.
 */

export interface TokenSession {
  kind: 'token';
  token: string;
  expiresAt: string;
  projectId: string;
  projectName: string | null;
  userName: string;
  domainName: string;
}

export interface AkSkSession {
  kind: 'aksk';
  ak: string;
  key: CryptoKey;
  projectId: string;
}

export type Session = TokenSession | AkSkSession;

const STORAGE_KEY = 'dws-console.session';

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  const store = storage();
  if (!store) return;
  if (session.kind === 'token') store.setItem(STORAGE_KEY, JSON.stringify(session));
  else store.removeItem(STORAGE_KEY);
}

export function clearSession(): void {
  storage()?.removeItem(STORAGE_KEY);
}

export function loadSession(now = Date.now()): TokenSession | null {
  const raw = storage()?.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<TokenSession>;
    if (value.kind !== 'token' || typeof value.token !== 'string' || typeof value.projectId !== 'string')
      return null;
    const expires = Date.parse(value.expiresAt ?? '');
    if (Number.isFinite(expires) && expires <= now) {
      clearSession();
      return null;
    }
    return value as TokenSession;
  } catch {
    return null;
  }
}

export function sessionLabel(session: Session): string {
  if (session.kind === 'token') return `${session.userName} @ ${session.domainName}`;
  return `AK ${session.ak.slice(0, 4)}…${session.ak.slice(-4)}`;
}
