import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import { getCluster, getEncryptInfo, listAllKeys, listClusters, rotateKey } from '../api/endpoints.js';
import type { ClusterDetail, ClusterSummary, EncryptInfo, KeyDetails } from '../api/types.js';
import { Badge, statusTone } from '../components/Badge.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { useJobs } from '../jobs.js';
import { encryptionConstraintFailures } from '../lib/constraints.js';
import { type EncryptionView, encryptionView } from '../lib/encryption-state.js';
import { ALGORITHM_CIPHERS, formatWireTime, isJobFinal } from '../lib/format.js';
import { hrefFor, linkClick } from '../router.js';
import {
  CreateClusterDialog,
  EncryptDialog,
  RotateDataKeyDialog,
  RotateMasterKeyDialog,
} from './ClusterDialogs.js';

export interface ClusterRow {
  summary: ClusterSummary;
  detail?: ClusterDetail;
  info?: EncryptInfo | null;
  error?: unknown;
}

type OpenDialog =
  | { kind: 'create' }
  | { kind: 'encrypt'; row: ClusterRow }
  | { kind: 'rotate-data'; row: ClusterRow }
  | { kind: 'rotate-master'; row: ClusterRow };

const REFRESH_BUSY_MS = 1500;

export function clusterVersion(row: ClusterRow): string | null {
  return row.detail?.version ?? row.summary.version ?? null;
}

export function ClustersPage({ api }: { api: ApiClient }) {
  const jobs = useJobs();
  const [rows, setRows] = useState<ClusterRow[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [keys, setKeys] = useState<KeyDetails[] | null>(null);
  const [keysError, setKeysError] = useState<unknown>(null);

  const loadRow = useCallback(
    async (clusterId: string) => {
      const [detail, info] = await Promise.allSettled([
        getCluster(api, clusterId),
        getEncryptInfo(api, clusterId),
      ]);
      setRows((current) =>
        (current ?? []).map((row) => {
          if (row.summary.id !== clusterId) return row;
          const next: ClusterRow = { summary: row.summary };
          if (detail.status === 'fulfilled') {
            next.detail = detail.value;
            next.summary = { ...row.summary, status: detail.value.status ?? row.summary.status };
          } else next.error = detail.reason;
          if (info.status === 'fulfilled') next.info = info.value;
          else {
            next.info = null;
            next.error = next.error ?? info.reason;
          }
          return next;
        }),
      );
    },
    [api],
  );

  const loadAll = useCallback(async () => {
    setLoading(true);
    setListError(null);
    try {
      const list = await listClusters(api);
      const clusters = [...(list?.clusters ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      setRows((current) => {
        const previous = new Map((current ?? []).map((row) => [row.summary.id, row]));
        return clusters.map((summary) => ({ ...previous.get(summary.id), summary }));
      });
      await Promise.all(clusters.map((cluster) => loadRow(cluster.id)));
    } catch (error) {
      setListError(error);
      setRows((current) => current ?? []);
    } finally {
      setLoading(false);
    }
  }, [api, loadRow]);

  const loadKeys = useCallback(async () => {
    setKeysError(null);
    try {
      setKeys(await listAllKeys(api));
    } catch (error) {
      setKeysError(error);
      setKeys([]);
    }
  }, [api]);

  useEffect(() => {
    void loadAll();
  }, [loadAll]);

  // A conversion this console follows has finished: read the cluster again.
  const seenFinal = useRef(new Set<string>());
  useEffect(() => {
    for (const job of jobs.tracked) {
      const detail = jobs.details[job.jobId];
      if (!job.clusterId || !isJobFinal(detail?.status) || seenFinal.current.has(job.jobId)) continue;
      seenFinal.current.add(job.jobId);
      if (Date.now() - job.startedAt < 24 * 3600 * 1000) void loadRow(job.clusterId);
    }
  }, [jobs.tracked, jobs.details, loadRow]);

  const views = useMemo(() => {
    const map = new Map<string, EncryptionView>();
    for (const row of rows ?? []) {
      const tracked = jobs.jobForCluster(row.summary.id);
      map.set(
        row.summary.id,
        encryptionView(
          row.detail,
          row.info,
          tracked
            ? { jobId: tracked.jobId, action: tracked.action, detail: jobs.details[tracked.jobId] }
            : undefined,
        ),
      );
    }
    return map;
  }, [rows, jobs]);

  // Clusters being created, or converting without a job this console follows, are read again shortly.
  const busyIds = (rows ?? [])
    .filter((row) => {
      const view = views.get(row.summary.id);
      return row.summary.status === 'CREATING' || (view?.state === 'converting' && view.jobId === null);
    })
    .map((row) => row.summary.id)
    .join(',');
  useEffect(() => {
    if (!busyIds) return;
    const timer = setTimeout(() => {
      for (const id of busyIds.split(',')) void loadRow(id);
    }, REFRESH_BUSY_MS);
    return () => clearTimeout(timer);
  }, [busyIds, rows, loadRow]);

  function open(next: OpenDialog) {
    setNotice(null);
    if (next.kind === 'encrypt' || next.kind === 'rotate-master') void loadKeys();
    setDialog(next);
  }

  return (
    <main class="page" id="main">
      <div class="page-head">
        <div>
          <h1>Clusters</h1>
          <p class="muted">Encryption state, keys and rotation of every cluster in the project.</p>
        </div>
        <div class="toolbar">
          <button type="button" class="button" onClick={() => void loadAll()} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
          <button type="button" class="button primary" onClick={() => open({ kind: 'create' })}>
            Create cluster
          </button>
        </div>
      </div>
      <p class="notice" role="status" aria-live="polite" hidden={!notice}>
        {notice}
      </p>
      <ErrorNote error={listError} context="Could not list clusters" />
      {rows === null ? (
        <p class="empty">Loading clusters…</p>
      ) : rows.length === 0 && !listError ? (
        <div class="empty">
          <p>No clusters in this project yet.</p>
          <button type="button" class="button primary" onClick={() => open({ kind: 'create' })}>
            Create the first cluster
          </button>
        </div>
      ) : (
        <div class="table-wrap">
          <table class="table clusters-table">
            <caption class="visually-hidden">Clusters and their encryption</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">guestAgent</th>
                <th scope="col">Encryption</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Master key</th>
                <th scope="col">Last rotation</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <ClusterRowView
                  key={row.summary.id}
                  row={row}
                  view={views.get(row.summary.id) ?? { state: 'unknown' }}
                  onAction={open}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {dialog?.kind === 'create' ? (
        <CreateClusterDialog
          api={api}
          onClose={() => setDialog(null)}
          onCreated={(name) => {
            setDialog(null);
            setNotice(`Cluster "${name}" is being created.`);
            void loadAll();
          }}
        />
      ) : null}
      {dialog?.kind === 'encrypt' ? (
        <EncryptDialog
          api={api}
          row={dialog.row}
          keys={keys}
          keysError={keysError}
          onClose={() => setDialog(null)}
          onStarted={(jobId) => {
            const row = dialog.row;
            jobs.track({
              jobId,
              action: 'encrypt',
              clusterId: row.summary.id,
              clusterName: row.summary.name,
            });
            setDialog(null);
            setNotice(`Converting "${row.summary.name}" to an encrypted cluster (job ${jobId}).`);
          }}
        />
      ) : null}
      {dialog?.kind === 'rotate-data' ? (
        <RotateDataKeyDialog
          row={dialog.row}
          onClose={() => setDialog(null)}
          rotate={() => rotateKey(api, dialog.row.summary.id)}
          onRotated={(result) => {
            setDialog(null);
            setNotice(
              `Data key of "${dialog.row.summary.name}" rotated at ${formatWireTime(result.rotate_key_time)}.`,
            );
            void loadRow(dialog.row.summary.id);
          }}
        />
      ) : null}
      {dialog?.kind === 'rotate-master' ? (
        <RotateMasterKeyDialog
          row={dialog.row}
          keys={keys}
          keysError={keysError}
          onClose={() => setDialog(null)}
          rotate={(keyId) => rotateKey(api, dialog.row.summary.id, keyId)}
          onRotated={(result) => {
            setDialog(null);
            setNotice(
              `Master key of "${dialog.row.summary.name}" is now ${result.master_key_name} (rotated at ${formatWireTime(result.rotate_key_time)}).`,
            );
            void loadRow(dialog.row.summary.id);
          }}
        />
      ) : null}
    </main>
  );
}

/** `2025-05-14 08:02:59` as date over time, so the column stays narrow; "Never" before the first rotation. */
function RotationTime({ encrypted, time }: { encrypted: boolean; time: string | null }) {
  if (!encrypted) return <>—</>;
  if (!time) return <>Never</>;
  const [date, clock] = time.replace('T', ' ').split(' ');
  return (
    <time class="stacked-time" dateTime={`${date}T${clock}Z`} title={formatWireTime(time)}>
      <span class="nowrap">{date}</span> <span class="nowrap muted">{clock} UTC</span>
    </time>
  );
}

function EncryptionCell({ view }: { view: EncryptionView }) {
  switch (view.state) {
    case 'converting':
      return (
        <div class="enc">
          <Badge tone="info">Converting</Badge>
          <ProgressBar value={view.progress} label="Encryption conversion progress" />
        </div>
      );
    case 'encrypted':
      return (
        <div class="enc">
          <Badge tone="good">Encrypted</Badge>
        </div>
      );
    case 'plain':
      return (
        <div class="enc">
          <Badge tone="neutral">Plain</Badge>
        </div>
      );
    default:
      return (
        <div class="enc">
          <span class="muted">—</span>
        </div>
      );
  }
}

function ClusterRowView({
  row,
  view,
  onAction,
}: {
  row: ClusterRow;
  view: EncryptionView;
  onAction: (dialog: OpenDialog) => void;
}) {
  const { summary, detail, info } = row;
  const version = clusterVersion(row);
  const agent = detail?.guest_agent_version ?? null;
  const encrypted = view.state === 'encrypted';
  const showKeys = encrypted || view.state === 'converting';
  const reasonId = `constraint-${summary.id}`;
  let blocked: { short: string; reason: string }[] = [];
  if (view.state === 'plain') {
    blocked = encryptionConstraintFailures({ version, guest_agent_version: agent });
    if (summary.status !== 'AVAILABLE') {
      blocked.push({
        short: `Cluster is ${summary.status}`,
        reason: `The cluster is ${summary.status}; only an AVAILABLE cluster can be converted.`,
      });
    }
  }
  return (
    <tr data-cluster={summary.name}>
      <th scope="row" data-label="Name">
        <span class="cell-main nowrap">{summary.name}</span>
        <span class="cell-sub mono id-clip" title={summary.id}>
          {summary.id}
        </span>
      </th>
      <td data-label="Status">
        <Badge tone={statusTone(summary.status)}>{summary.status}</Badge>
      </td>
      <td data-label="Version" class="mono">
        {version ?? '—'}
      </td>
      <td data-label="guestAgent" class="mono">
        {agent ?? '—'}
      </td>
      <td data-label="Encryption" class="enc-cell">
        <EncryptionCell view={view} />
      </td>
      <td data-label="Algorithm">
        {showKeys && info?.crypt_algorithm ? (
          <>
            <span class="cell-main plain">{info.crypt_algorithm}</span>
            <span class="cell-sub">{ALGORITHM_CIPHERS[info.crypt_algorithm] ?? ''}</span>
          </>
        ) : (
          '—'
        )}
      </td>
      <td data-label="Master key">
        {showKeys && info?.master_key_name ? (
          <span class="break-all" title={info.master_key_id ?? undefined}>
            {info.master_key_name}
          </span>
        ) : (
          '—'
        )}
      </td>
      <td data-label="Last rotation">
        <RotationTime encrypted={encrypted} time={info?.last_rotate_key_time ?? null} />
      </td>
      <td data-label="Actions" class="actions-cell">
        {view.state === 'plain' ? (
          <>
            <button
              type="button"
              class="button small"
              disabled={blocked.length > 0}
              aria-describedby={blocked.length > 0 ? reasonId : undefined}
              onClick={() => onAction({ kind: 'encrypt', row })}
            >
              Encrypt…
            </button>
            {blocked.length > 0 ? (
              <div class="constraint" id={reasonId}>
                <span class="constraint-title">Cannot encrypt:</span>
                <ul>
                  {blocked.map((failure) => (
                    <li key={failure.short} title={failure.reason}>
                      {failure.short}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
          </>
        ) : null}
        {view.state === 'converting' && view.jobId ? (
          <a class="button small" href={hrefFor({ page: 'jobs', jobId: view.jobId })} onClick={linkClick}>
            View job
          </a>
        ) : null}
        {encrypted ? (
          <div class="action-row">
            <button type="button" class="button small" onClick={() => onAction({ kind: 'rotate-data', row })}>
              Rotate data key
            </button>
            <button
              type="button"
              class="button small"
              onClick={() => onAction({ kind: 'rotate-master', row })}
            >
              Rotate master key…
            </button>
          </div>
        ) : null}
        {row.error ? <ErrorNote error={row.error} /> : null}
      </td>
    </tr>
  );
}
