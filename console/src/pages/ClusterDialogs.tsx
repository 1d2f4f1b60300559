import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import { createCluster, encryptCluster } from '../api/endpoints.js';
import type { CryptAlgorithm, KeyDetails, RotateKeyResult } from '../api/types.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { MIN_CLUSTER_VERSION, MIN_GUEST_AGENT_VERSION } from '../lib/constraints.js';
import { ALGORITHM_LABELS, KEY_SPEC_FOR_ALGORITHM } from '../lib/format.js';
import { useAction } from '../lib/use-async.js';
import { hrefFor, linkClick } from '../router.js';
import type { ClusterRow } from './Clusters.js';

const ALGORITHMS: CryptAlgorithm[] = ['generalCipher', 'SMcompatible'];

function usableKeys(keys: KeyDetails[] | null, algorithm: string, exclude?: string | null): KeyDetails[] {
  const spec = KEY_SPEC_FOR_ALGORITHM[algorithm];
  return (keys ?? []).filter(
    (key) => key.key_state === '2' && key.key_spec === spec && key.key_id !== exclude,
  );
}

function keyLabel(key: KeyDetails): string {
  return `${key.key_alias ?? key.key_id} (${key.key_spec ?? '?'})`;
}

function DialogActions({
  busy,
  label,
  onClose,
  disabled,
}: {
  busy: boolean;
  label: string;
  onClose: () => void;
  disabled?: boolean;
}) {
  return (
    <div class="dialog-actions">
      <button type="button" class="button" onClick={onClose}>
        Cancel
      </button>
      <button type="submit" class="button primary" disabled={busy || disabled}>
        {busy ? 'Working…' : label}
      </button>
    </div>
  );
}

function KeysHint({ keys, spec }: { keys: KeyDetails[] | null; spec: string | undefined }) {
  if (keys === null) return <p class="help">Loading keys…</p>;
  return (
    <p class="help">
      No enabled {spec} key in this project.{' '}
      <a href={hrefFor({ page: 'keys' })} onClick={linkClick}>
        Create one on the Keys page
      </a>
      .
    </p>
  );
}

/** The master-key choice of the encrypt and rotate dialogs: enabled keys of the spec the algorithm needs. */
function MasterKeySelect({
  id,
  label,
  choices,
  selected,
  onSelect,
  keys,
  spec,
}: {
  id: string;
  label: string;
  choices: KeyDetails[];
  selected: KeyDetails | undefined;
  onSelect: (keyId: string) => void;
  keys: KeyDetails[] | null;
  spec: string | undefined;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name="master_key_id"
        value={selected?.key_id ?? ''}
        onChange={(event) => onSelect((event.currentTarget as HTMLSelectElement).value)}
        disabled={choices.length === 0}
        required
      >
        {choices.map((key) => (
          <option key={key.key_id} value={key.key_id}>
            {keyLabel(key)}
          </option>
        ))}
      </select>
      {choices.length === 0 ? <KeysHint keys={keys} spec={spec} /> : null}
    </div>
  );
}

export function CreateClusterDialog({
  api,
  onClose,
  onCreated,
}: {
  api: ApiClient;
  onClose: () => void;
  onCreated: (name: string) => void;
}) {
  const { busy, error, run } = useAction();

  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const name = text('name');
    const cluster: Record<string, unknown> = {
      name,
      datastore_version: text('datastore_version'),
      db_password: String(data.get('db_password') ?? ''),
      flavor: text('flavor'),
      num_node: Number(text('num_node')),
      db_name: text('db_name'),
      db_port: Number(text('db_port')),
      availability_zones: text('availability_zone') ? [text('availability_zone')] : undefined,
      vpc_id: text('vpc_id'),
      subnet_id: text('subnet_id'),
      security_group_id: text('security_group_id'),
      guest_agent_version: text('guest_agent_version'),
    };
    for (const [field, value] of Object.entries(cluster))
      if (value === undefined || value === '') delete cluster[field];
    const id = await run(() => createCluster(api, cluster));
    if (id !== undefined) onCreated(name);
  }

  return (
    <Dialog title="Create cluster" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <div class="field">
          <label for="cc-name">Name</label>
          <input
            id="cc-name"
            name="name"
            required
            minLength={4}
            maxLength={64}
            pattern="[A-Za-z][A-Za-z0-9_\-]*"
            aria-describedby="cc-name-help"
          />
          <span class="help" id="cc-name-help">
            4–64 characters: letters, digits, hyphens and underscores, starting with a letter.
          </span>
        </div>
        <div class="field-row">
          <div class="field">
            <label for="cc-version">Cluster version</label>
            <input id="cc-version" name="datastore_version" required defaultValue="8.2.1" class="mono" />
            <span class="help">Encryption needs {MIN_CLUSTER_VERSION} or later.</span>
          </div>
          <div class="field">
            <label for="cc-agent">guestAgent version</label>
            <input
              id="cc-agent"
              name="guest_agent_version"
              defaultValue={MIN_GUEST_AGENT_VERSION}
              class="mono"
            />
            <span class="help">
              Encryption needs {MIN_GUEST_AGENT_VERSION} or later. Empty: the service default.
            </span>
          </div>
        </div>
        <div class="field">
          <label for="cc-password">Administrator password</label>
          <input
            id="cc-password"
            name="db_password"
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            maxLength={32}
            aria-describedby="cc-password-help"
          />
          <span class="help" id="cc-password-help">
            8–32 characters, for the database administrator.
          </span>
        </div>
        <details class="more">
          <summary>More settings</summary>
          <div class="field-row">
            <div class="field">
              <label for="cc-flavor">Node flavor</label>
              <input id="cc-flavor" name="flavor" required defaultValue="dwsk2.xlarge" class="mono" />
            </div>
            <div class="field">
              <label for="cc-nodes">Nodes</label>
              <input
                id="cc-nodes"
                name="num_node"
                type="number"
                required
                min={1}
                max={256}
                defaultValue="3"
              />
            </div>
          </div>
          <div class="field-row">
            <div class="field">
              <label for="cc-db">Administrator user</label>
              <input id="cc-db" name="db_name" required defaultValue="dbadmin" />
            </div>
            <div class="field">
              <label for="cc-port">Database port</label>
              <input id="cc-port" name="db_port" type="number" min={8000} max={30000} defaultValue="8000" />
            </div>
          </div>
          <div class="field-row">
            <div class="field">
              <label for="cc-vpc">VPC id</label>
              <input id="cc-vpc" name="vpc_id" required defaultValue="vpc-default" class="mono" />
            </div>
            <div class="field">
              <label for="cc-subnet">Subnet id</label>
              <input id="cc-subnet" name="subnet_id" required defaultValue="subnet-default" class="mono" />
            </div>
          </div>
          <div class="field-row">
            <div class="field">
              <label for="cc-sg">Security group id (optional)</label>
              <input id="cc-sg" name="security_group_id" class="mono" />
            </div>
            <div class="field">
              <label for="cc-az">Availability zone</label>
              <input id="cc-az" name="availability_zone" defaultValue="az1" />
            </div>
          </div>
        </details>
        <ErrorNote error={error} context="The cluster was not created" />
        <DialogActions busy={busy} label="Create" onClose={onClose} />
      </form>
    </Dialog>
  );
}

export function EncryptDialog({
  api,
  row,
  keys,
  keysError,
  onClose,
  onStarted,
}: {
  api: ApiClient;
  row: ClusterRow;
  keys: KeyDetails[] | null;
  keysError: unknown;
  onClose: () => void;
  onStarted: (jobId: string) => void;
}) {
  const [algorithm, setAlgorithm] = useState<CryptAlgorithm>('generalCipher');
  const [keyId, setKeyId] = useState('');
  const { busy, error, run } = useAction();
  const choices = usableKeys(keys, algorithm);
  const selected = choices.find((key) => key.key_id === keyId) ?? choices[0];

  async function submit(event: Event) {
    event.preventDefault();
    if (!selected) return;
    const jobId = await run(() =>
      encryptCluster(api, row.summary.id, {
        master_key_id: selected.key_id,
        master_key_name: selected.key_alias ?? '',
        crypt_algorithm: algorithm,
      }),
    );
    if (jobId !== undefined) onStarted(jobId);
  }

  return (
    <Dialog title={`Encrypt ${row.summary.name}`} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <p class="muted">
          Converts the cluster to an encrypted one. The conversion runs as a job; its progress shows in the
          clusters table.
        </p>
        <fieldset class="field">
          <legend>Algorithm</legend>
          {ALGORITHMS.map((value) => (
            <label class="choice" key={value}>
              <input
                type="radio"
                name="crypt_algorithm"
                value={value}
                checked={algorithm === value}
                onChange={() => {
                  setAlgorithm(value);
                  setKeyId('');
                }}
              />
              {ALGORITHM_LABELS[value]} — needs an {KEY_SPEC_FOR_ALGORITHM[value]} master key
            </label>
          ))}
        </fieldset>
        <MasterKeySelect
          id="enc-key"
          label="Master key"
          choices={choices}
          selected={selected}
          onSelect={setKeyId}
          keys={keys}
          spec={KEY_SPEC_FOR_ALGORITHM[algorithm]}
        />
        <ErrorNote error={keysError} context="Could not list keys" />
        <ErrorNote error={error} context="The conversion did not start" />
        <DialogActions busy={busy} label="Start encryption" onClose={onClose} disabled={!selected} />
      </form>
    </Dialog>
  );
}

export function RotateDataKeyDialog({
  row,
  onClose,
  rotate,
  onRotated,
}: {
  row: ClusterRow;
  onClose: () => void;
  rotate: () => Promise<RotateKeyResult>;
  onRotated: (result: RotateKeyResult) => void;
}) {
  const { busy, error, run } = useAction();
  async function submit(event: Event) {
    event.preventDefault();
    const result = await run(rotate);
    if (result !== undefined) onRotated(result);
  }
  return (
    <Dialog title={`Rotate data key of ${row.summary.name}`} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <p>
          A new data encryption key is generated and wrapped with the current master key
          {row.info?.master_key_name ? (
            <>
              {' '}
              <strong>{row.info.master_key_name}</strong>
            </>
          ) : null}
          .
        </p>
        <ErrorNote error={error} context="The data key was not rotated" />
        <DialogActions busy={busy} label="Rotate data key" onClose={onClose} />
      </form>
    </Dialog>
  );
}

export function RotateMasterKeyDialog({
  row,
  keys,
  keysError,
  onClose,
  rotate,
  onRotated,
}: {
  row: ClusterRow;
  keys: KeyDetails[] | null;
  keysError: unknown;
  onClose: () => void;
  rotate: (keyId: string) => Promise<RotateKeyResult>;
  onRotated: (result: RotateKeyResult) => void;
}) {
  const algorithm = row.info?.crypt_algorithm ?? 'generalCipher';
  const choices = usableKeys(keys, algorithm, row.info?.master_key_id);
  const [keyId, setKeyId] = useState('');
  const selected = choices.find((key) => key.key_id === keyId) ?? choices[0];
  const { busy, error, run } = useAction();

  async function submit(event: Event) {
    event.preventDefault();
    if (!selected) return;
    const result = await run(() => rotate(selected.key_id));
    if (result !== undefined) onRotated(result);
  }

  return (
    <Dialog title={`Rotate master key of ${row.summary.name}`} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <p class="muted">
          The cluster's data key is re-wrapped with the new master key. Current master key:{' '}
          <strong>{row.info?.master_key_name ?? '—'}</strong> ({ALGORITHM_LABELS[algorithm] ?? algorithm}).
        </p>
        <MasterKeySelect
          id="rot-key"
          label="New master key"
          choices={choices}
          selected={selected}
          onSelect={setKeyId}
          keys={keys}
          spec={KEY_SPEC_FOR_ALGORITHM[algorithm]}
        />
        <ErrorNote error={keysError} context="Could not list keys" />
        <ErrorNote error={error} context="The master key was not rotated" />
        <DialogActions busy={busy} label="Rotate master key" onClose={onClose} disabled={!selected} />
      </form>
    </Dialog>
  );
}
