import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import {
  cancelKeyDeletion,
  createKey,
  disableKey,
  enableKey,
  listKeys,
  scheduleKeyDeletion,
} from '../api/endpoints.js';
import type { KeyDetails } from '../api/types.js';
import { Badge, type Tone } from '../components/Badge.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatEpochMs, keyStateWord } from '../lib/format.js';
import { useAction } from '../lib/use-async.js';

export const KEY_ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]{1,255}$/;
export const MIN_PENDING_DAYS = 7;
export const MAX_PENDING_DAYS = 1096;

/** Client-side check of a new key alias; null when acceptable. */
export function keyAliasProblem(alias: string): string | null {
  if (!KEY_ALIAS_PATTERN.test(alias)) return 'Use 1–255 characters: letters, digits, ":", "/", "_" and "-".';
  if (alias.endsWith('/default')) return 'An alias cannot end in "/default" (reserved for default keys).';
  return null;
}

const STATE_TONES: Record<string, Tone> = { '1': 'info', '2': 'good', '3': 'warn', '4': 'bad', '5': 'info' };

type OpenDialog = { kind: 'create' } | { kind: 'schedule'; key: KeyDetails };

const PAGE_SIZE = 50;

export function KeysPage({ api }: { api: ApiClient }) {
  const [keys, setKeys] = useState<KeyDetails[] | null>(null);
  const [nextMarker, setNextMarker] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();

  const load = useCallback(
    async (marker?: string) => {
      setLoading(true);
      setListError(null);
      try {
        const page = await listKeys(api, { limit: PAGE_SIZE, marker });
        const details = page?.key_details ?? [];
        setKeys((current) => (marker ? [...(current ?? []), ...details] : details));
        const truncated = page?.truncated === 'true';
        setNextMarker(truncated && page?.next_marker ? page.next_marker : null);
        setTotal(typeof page?.total === 'number' ? page.total : null);
      } catch (error) {
        setListError(error);
        setKeys((current) => current ?? []);
      } finally {
        setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void load();
  }, [load]);

  async function act(label: string, key: KeyDetails, call: () => Promise<unknown>) {
    setNotice(null);
    const done = await action.run(async () => {
      await call();
      return true;
    });
    if (done) {
      setNotice(`${label}: ${key.key_alias ?? key.key_id}.`);
      await load();
    }
  }

  return (
    <main class="page" id="main">
      <div class="page-head">
        <div>
          <h1>Keys</h1>
          <p class="muted">KMS master keys of the project. Encryption uses enabled AES_256 or SM4 keys.</p>
        </div>
        <div class="toolbar">
          <button type="button" class="button" onClick={() => void load()} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
          <button
            type="button"
            class="button primary"
            onClick={() => {
              setNotice(null);
              setDialog({ kind: 'create' });
            }}
          >
            Create key
          </button>
        </div>
      </div>
      <p class="notice" role="status" aria-live="polite" hidden={!notice}>
        {notice}
      </p>
      <ErrorNote error={listError} context="Could not list keys" />
      <ErrorNote error={action.error} context="The key was not changed" />
      {keys === null ? (
        <p class="empty">Loading keys…</p>
      ) : keys.length === 0 && !listError ? (
        <div class="empty">
          <p>No keys in this project yet.</p>
        </div>
      ) : (
        <div class="table-wrap">
          <table class="table keys-table">
            <caption class="visually-hidden">KMS keys</caption>
            <thead>
              <tr>
                <th scope="col">Alias</th>
                <th scope="col">Spec</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Deletion date</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.key_id} data-key={key.key_alias}>
                  <th scope="row" data-label="Alias">
                    <span class="cell-main">{key.key_alias ?? '—'}</span>
                    <span class="cell-sub mono">{key.key_id}</span>
                    {key.key_description ? <span class="cell-sub">{key.key_description}</span> : null}
                  </th>
                  <td data-label="Spec" class="mono">
                    {key.key_spec ?? '—'}
                  </td>
                  <td data-label="State">
                    <Badge tone={STATE_TONES[key.key_state] ?? 'neutral'}>
                      {keyStateWord(key.key_state)}
                    </Badge>
                  </td>
                  <td data-label="Created" class="nowrap">
                    {formatEpochMs(key.creation_date)}
                  </td>
                  <td data-label="Deletion date" class="nowrap">
                    {key.key_state === '4' ? formatEpochMs(key.scheduled_deletion_date) : '—'}
                  </td>
                  <td data-label="Actions" class="actions-cell">
                    <div class="action-row">
                      {key.key_state === '3' ? (
                        <button
                          type="button"
                          class="button small"
                          disabled={action.busy}
                          onClick={() => void act('Enabled', key, () => enableKey(api, key.key_id))}
                        >
                          Enable
                        </button>
                      ) : null}
                      {key.key_state === '2' ? (
                        <button
                          type="button"
                          class="button small"
                          disabled={action.busy}
                          onClick={() => void act('Disabled', key, () => disableKey(api, key.key_id))}
                        >
                          Disable
                        </button>
                      ) : null}
                      {key.key_state === '2' || key.key_state === '3' ? (
                        <button
                          type="button"
                          class="button small danger"
                          disabled={action.busy}
                          onClick={() => {
                            setNotice(null);
                            setDialog({ kind: 'schedule', key });
                          }}
                        >
                          Schedule deletion…
                        </button>
                      ) : null}
                      {key.key_state === '4' ? (
                        <button
                          type="button"
                          class="button small"
                          disabled={action.busy}
                          onClick={() =>
                            void act('Deletion cancelled', key, () => cancelKeyDeletion(api, key.key_id))
                          }
                        >
                          Cancel deletion
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="list-foot">
        {keys && keys.length > 0 ? (
          <span class="muted">
            {keys.length}
            {total != null ? ` of ${total}` : ''} keys
          </span>
        ) : null}
        {nextMarker ? (
          <button type="button" class="button" disabled={loading} onClick={() => void load(nextMarker)}>
            Load more
          </button>
        ) : null}
      </div>
      {dialog?.kind === 'create' ? (
        <CreateKeyDialog
          api={api}
          onClose={() => setDialog(null)}
          onCreated={(alias) => {
            setDialog(null);
            setNotice(`Key "${alias}" created.`);
            void load();
          }}
        />
      ) : null}
      {dialog?.kind === 'schedule' ? (
        <ScheduleDeletionDialog
          keyDetails={dialog.key}
          onClose={() => setDialog(null)}
          schedule={(days) => scheduleKeyDeletion(api, dialog.key.key_id, days)}
          onScheduled={(days) => {
            setDialog(null);
            setNotice(`Key "${dialog.key.key_alias ?? dialog.key.key_id}" will be deleted in ${days} days.`);
            void load();
          }}
        />
      ) : null}
    </main>
  );
}

function CreateKeyDialog({
  api,
  onClose,
  onCreated,
}: {
  api: ApiClient;
  onClose: () => void;
  onCreated: (alias: string) => void;
}) {
  const { busy, error, run, setError } = useAction();
  const [aliasProblem, setAliasProblem] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const alias = String(data.get('key_alias') ?? '').trim();
    const problem = keyAliasProblem(alias);
    setAliasProblem(problem);
    if (problem) {
      setError(null);
      return;
    }
    const id = await run(() =>
      createKey(api, {
        key_alias: alias,
        key_spec: String(data.get('key_spec') ?? 'AES_256'),
        key_description: String(data.get('key_description') ?? '').trim() || undefined,
      }),
    );
    if (id !== undefined) onCreated(alias);
  }

  return (
    <Dialog title="Create key" onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label for="ck-alias">Alias</label>
          <input
            id="ck-alias"
            name="key_alias"
            required
            maxLength={255}
            spellcheck={false}
            aria-invalid={aliasProblem ? 'true' : undefined}
            aria-describedby="ck-alias-help"
          />
          <span class={aliasProblem ? 'help field-error' : 'help'} id="ck-alias-help">
            {aliasProblem ?? 'Letters, digits, ":", "/", "_" and "-"; not ending in "/default".'}
          </span>
        </div>
        <fieldset class="field">
          <legend>Key spec</legend>
          <label class="choice">
            <input type="radio" name="key_spec" value="AES_256" defaultChecked />
            AES_256 — for the generalCipher algorithm
          </label>
          <label class="choice">
            <input type="radio" name="key_spec" value="SM4" />
            SM4 — for the SMcompatible algorithm
          </label>
        </fieldset>
        <div class="field">
          <label for="ck-desc">Description (optional)</label>
          <input id="ck-desc" name="key_description" maxLength={255} />
        </div>
        <ErrorNote error={error} context="The key was not created" />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Working…' : 'Create key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ScheduleDeletionDialog({
  keyDetails,
  onClose,
  schedule,
  onScheduled,
}: {
  keyDetails: KeyDetails;
  onClose: () => void;
  schedule: (days: number) => Promise<unknown>;
  onScheduled: (days: number) => void;
}) {
  const { busy, error, run } = useAction();
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const days = Number(data.get('pending_days'));
    const ok = await run(async () => {
      await schedule(days);
      return true;
    });
    if (ok) onScheduled(days);
  }
  return (
    <Dialog title={`Schedule deletion of ${keyDetails.key_alias ?? keyDetails.key_id}`} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <p>
          The key becomes unusable now and is deleted when the waiting period ends. Clusters protected by it
          can no longer be read after deletion. You can cancel until then.
        </p>
        <div class="field">
          <label for="sd-days">Waiting period (days)</label>
          <input
            id="sd-days"
            name="pending_days"
            type="number"
            required
            min={MIN_PENDING_DAYS}
            max={MAX_PENDING_DAYS}
            step={1}
            defaultValue="7"
            aria-describedby="sd-days-help"
          />
          <span class="help" id="sd-days-help">
            {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS} days.
          </span>
        </div>
        <ErrorNote error={error} context="Deletion was not scheduled" />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button danger-solid" disabled={busy}>
            {busy ? 'Working…' : 'Schedule deletion'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
