/** A tiny history router for the pages under /console/ (the server answers index.html for them). */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'clusters' }
  | { page: 'keys' }
  | { page: 'jobs'; jobId?: string }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

const BASE = import.meta.env.BASE_URL.replace(/\/$/, '');

export function parseRoute(pathname: string): Route {
  let rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  rest = rest.replace(/^\/+|\/+$/g, '');
  const [first, second] = rest.split('/');
  if (!first || first === 'clusters')
    return second ? { page: 'not-found', path: pathname } : { page: 'clusters' };
  if (first === 'keys' && !second) return { page: 'keys' };
  if (first === 'jobs')
    return second ? { page: 'jobs', jobId: decodeURIComponent(second) } : { page: 'jobs' };
  if (first === 'audit' && !second) return { page: 'audit' };
  return { page: 'not-found', path: pathname };
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case 'clusters':
      return `${BASE}/clusters`;
    case 'keys':
      return `${BASE}/keys`;
    case 'jobs':
      return route.jobId ? `${BASE}/jobs/${encodeURIComponent(route.jobId)}` : `${BASE}/jobs`;
    case 'audit':
      return `${BASE}/audit`;
    default:
      return `${BASE}/`;
  }
}

const listeners = new Set<() => void>();

export function navigate(href: string): void {
  if (href === location.pathname) return;
  history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** onClick for <a href>: plain left clicks navigate in place; modified clicks open normally. */
export function linkClick(event: MouseEvent): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(anchor.pathname);
}
