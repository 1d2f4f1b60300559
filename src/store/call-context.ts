/**
 * The context of the store calls made for one API request: the request's abort signal, which fires when
 * its client disconnects before the answer. The store reads it (never the HTTP layer's objects) to stop
 * waiting for a lock or a connection and to roll back instead of committing work nobody will receive.
 * Carried by AsyncLocalStorage, so services and repositories need no extra parameter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, ServiceError } from '../domain/errors.js';

const calls = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` (an API handler) so that the store calls it makes see `signal`. */
export function runWithClientSignal<T>(signal: AbortSignal, fn: () => T): T {
  return calls.run(signal, fn);
}

/** The abort signal of the request the current store call serves (undefined outside requests). */
export function clientSignal(): AbortSignal | undefined {
  return calls.getStore();
}

/** Throws CLIENT_CLOSED_REQUEST when the client of the current request has disconnected. */
export function throwIfClientGone(): void {
  if (calls.getStore()?.aborted) throw new ServiceError(Errors.CLIENT_CLOSED_REQUEST);
}

/** Runs `fn` outside any request: its store calls are not bound to a client that may have gone. */
export function outsideRequest<T>(fn: () => T): T {
  return calls.exit(fn);
}
