import { useCallback, useEffect, useState } from 'preact/hooks';
import { type ApiClient, ApiError } from '../api/client.js';
import { listAuditEvents } from '../api/endpoints.js';
import type { AuditEvent } from '../api/types.js';
import { Badge, statusTone } from '../components/Badge.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatIsoTime } from '../lib/format.js';

const PAGE_SIZE = 50;

export function AuditPage({ api }: { api: ApiClient }) {
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [nextMarker, setNextMarker] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    async (marker?: string) => {
      setLoading(true);
      setError(null);
      try {
        const page = await listAuditEvents(api, { limit: PAGE_SIZE, marker });
        const list = page?.events ?? [];
        setEvents((current) => (marker ? [...(current ?? []), ...list] : list));
        setNextMarker(page?.next_marker || null);
      } catch (err) {
        setError(err);
        if (!marker) setEvents(null);
      } finally {
        setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const unavailable = error instanceof ApiError && (error.status === 404 || error.status === 405);

  return (
    <main class="page" id="main">
      <div class="page-head">
        <div>
          <h1>Audit</h1>
          <p class="muted">Who did what to which resource, newest first.</p>
        </div>
        <div class="toolbar">
          <button type="button" class="button" onClick={() => void load()} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      {unavailable ? (
        <div class="empty" role="status">
          <p>
            <strong>The audit log is not available on this server.</strong>
          </p>
          <p class="muted">
            The service does not offer the audit read route yet (it answered {(error as ApiError).code}).
            Every other page works without it.
          </p>
        </div>
      ) : (
        <ErrorNote error={error} context="Could not read the audit log" />
      )}
      {events === null ? (
        !error ? (
          <p class="empty">Loading events…</p>
        ) : null
      ) : events.length === 0 ? (
        <p class="empty">No audit events recorded yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table audit-table">
            <caption class="visually-hidden">Audit events</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Result</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event, index) => (
                <tr key={event.id ?? `${event.request_id}-${index}`}>
                  <td data-label="Time" class="nowrap">
                    {formatIsoTime(event.time)}
                  </td>
                  <td data-label="User">
                    {event.user ?? '—'}
                    {event.access_key ? <span class="cell-sub mono">AK {event.access_key}</span> : null}
                  </td>
                  <td data-label="Action" class="mono">
                    {event.action}
                  </td>
                  <td data-label="Resource">
                    <span class="cell-main">{event.resource_type}</span>
                    {event.resource_id ? <span class="cell-sub mono">{event.resource_id}</span> : null}
                  </td>
                  <td data-label="Result">
                    <Badge tone={statusTone(event.result)}>{event.result}</Badge>
                  </td>
                  <td data-label="Request id" class="mono small">
                    {event.request_id ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextMarker ? (
        <div class="list-foot">
          <button type="button" class="button" disabled={loading} onClick={() => void load(nextMarker)}>
            Load more
          </button>
        </div>
      ) : null}
    </main>
  );
}
