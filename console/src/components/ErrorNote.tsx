import { ApiError } from '../api/client.js';

/** An API error as the service gave it: error_code, error_msg and the request id. */
export function ErrorNote({ error, context }: { error: unknown; context?: string }) {
  if (error == null) return null;
  const api = error instanceof ApiError ? error : null;
  const message = api ? api.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="error-note" role="alert">
      {context ? <strong class="error-context">{context}: </strong> : null}
      {api ? <code class="error-code">{api.code}</code> : null} <span class="error-msg">{message}</span>
      {api?.requestId ? <span class="error-request">request {api.requestId}</span> : null}
    </div>
  );
}
