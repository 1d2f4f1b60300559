/**
 * The context of the store calls made for one API request: its client, which is gone once it
 * disconnects before the answer. The store reads it (never the HTTP layer's objects) to stop waiting for
 * a lock or a connection and to roll back instead of committing work nobody will receive. Carried by
 * AsyncLocalStorage, so services and repositories need no extra parameter.
 *
 * Not an AbortController per request: creating one (an EventTarget) cost several µs on every request of
 * the hot read, which never waits on anything it could cancel. A listener is registered only by the
 * store calls that can wait (PostgreSQL queries, the wait for a transaction slot).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, ServiceError } from '../domain/errors.js';

/** The client of one request, as the store sees it. */
export class RequestClient {
  #gone = false;
  #listeners: (() => void)[] | undefined;

  /** Whether the client has disconnected before its answer. */
  get gone(): boolean {
    return this.#gone;
  }

  /**
   * Calls `listener` once, when the client goes (never if it already has: check `gone` first).
   * Returns what removes the listener.
   */
  onGone(listener: () => void): () => void {
    if (this.#gone) return noop;
    this.#listeners ??= [];
    this.#listeners.push(listener);
    return () => {
      const listeners = this.#listeners;
      const index = listeners === undefined ? -1 : listeners.indexOf(listener);
      if (index >= 0) listeners!.splice(index, 1);
    };
  }

  /** The client disconnected: every listener runs, once. */
  markGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
  }
}

const noop = () => {};
const calls = new AsyncLocalStorage<RequestClient>();

/** Runs `fn` (an API handler) so that the store calls it makes see `client`. */
export function runForClient<T>(client: RequestClient, fn: () => T): T {
  return calls.run(client, fn);
}

/** The client of the request the current store call serves (undefined outside requests). */
export function currentClient(): RequestClient | undefined {
  return calls.getStore();
}

/** Throws CLIENT_CLOSED_REQUEST when the client of the current request has disconnected. */
export function throwIfClientGone(): void {
  if (calls.getStore()?.gone) throw new ServiceError(Errors.CLIENT_CLOSED_REQUEST);
}

/** Runs `fn` outside any request: its store calls are not bound to a client that may have gone. */
export function outsideRequest<T>(fn: () => T): T {
  return calls.exit(fn);
}
