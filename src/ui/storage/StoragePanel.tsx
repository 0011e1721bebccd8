// Save & share: export the selected run (SAELens .zip, metric history JSON/CSV), import an SAE folder
// or .zip, see how much browser storage runs use, and delete old checkpoints.
import { useState } from 'react';
import {
  downloadBytes,
  exportRunZip,
  historyFiles,
  importSaeAsRun,
  readSaeFiles,
} from '../../app/persistence/exportImport';
import { clearScratchCopies, deleteStoredCheckpoint, formatBytes } from '../../app/persistence/persistence';
import { useStorageStore } from '../../app/persistence/storageStore';
import { findRun, useRunsStore } from '../../store/runsStore';
import { useAppStore } from '../../store/appStore';
import { HubModels } from './HubModels';
import './storage.css';

const KIND_LABEL: Record<string, string> = {
  opfs: 'browser files (OPFS)',
  indexeddb: 'IndexedDB',
  memory: 'memory only — not kept after reload',
};

function say(level: 'error' | 'info', title: string, detail: string) {
  useAppStore.getState().postMessage({ level, title, detail });
}

export function StoragePanel() {
  const runId = useRunsStore((s) => s.selectedRunId);
  const runName = useRunsStore((s) => s.runs.find((r) => r.id === s.selectedRunId)?.name);
  const st = useStorageStore();
  const [busy, setBusy] = useState<string | null>(null);
  const checkpoints = runId ? (st.checkpoints[runId] ?? []) : [];

  const act = async (what: string, f: () => Promise<void>) => {
    setBusy(what);
    try {
      await f();
    } catch (e) {
      say('error', `${what} failed`, e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  const onImport = (list: FileList | null) => {
    if (!list || !list.length) return;
    const files = Array.from(list, (f) => ({
      name: f.name,
      path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
      blob: f as Blob,
    }));
    void act('Import', async () => {
      const label = files.length === 1 ? files[0].name : files[0].path.split('/')[0] || 'folder';
      const { imported } = await importSaeAsRun(await readSaeFiles(files), label);
      say(
        'info',
        `Imported ${imported.name} (${imported.format})`,
        [
          `${imported.config.architecture}, d_in ${imported.weights.d_in}, d_sae ${imported.weights.d_sae}.`,
          ...imported.warnings,
        ].join(' '),
      );
    });
  };

  return (
    <section className="panel storage-panel" aria-label="Save and share" data-testid="storage-panel">
      <h2>Save &amp; share</h2>
      <div className="storage-actions">
        <button
          data-testid="btn-export-sae"
          disabled={!runId || busy !== null}
          title="The selected run's SAE as a SAELens v6 folder (.zip): cfg.json, sae_weights.safetensors, sparsity.safetensors, history"
          onClick={() =>
            void act('Export', async () => {
              const z = await exportRunZip(runId!);
              downloadBytes(z.name, z.bytes, 'application/zip');
            })
          }
        >
          Export SAE (.zip)
        </button>
        <button
          data-testid="btn-export-history-json"
          disabled={!runId}
          title="Every logged training step and evaluation, as JSON"
          onClick={() => {
            const r = findRun(runId!);
            if (r) downloadBytes(`${r.name}-history.json`, historyFiles(r).json, 'application/json');
          }}
        >
          History JSON
        </button>
        <button
          data-testid="btn-export-history-csv"
          disabled={!runId}
          title="Training steps as CSV (evaluations are in the JSON and in the SAE zip)"
          onClick={() => {
            const r = findRun(runId!);
            if (r) downloadBytes(`${r.name}-history.csv`, historyFiles(r).trainCsv, 'text/csv');
          }}
        >
          CSV
        </button>
      </div>
      <label
        className="import-sae"
        title="A .zip or the files of one folder: SAELens (v6 or older), sparsify, or a TempoSAE export"
      >
        Import SAE…
        <input
          type="file"
          accept=".zip,.json,.safetensors"
          multiple
          data-testid="import-sae-input"
          disabled={busy !== null}
          onChange={(e) => {
            onImport(e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
      </label>
      {runId && (
        <div className="checkpoints">
          <h3>Checkpoints · {runName}</h3>
          {checkpoints.length === 0 ? (
            <p className="muted small">None yet: saved every checkpoint_every steps and on pause.</p>
          ) : (
            <ul>
              {checkpoints.map((c) => (
                <li key={c.step} data-testid="checkpoint-row" data-step={c.step}>
                  step {c.step} · {formatBytes(c.bytes)}
                  <button
                    aria-label={`Delete the checkpoint at step ${c.step}`}
                    title="Delete this checkpoint (the newest one is what a reload resumes from)"
                    onClick={() => void act('Delete', () => deleteStoredCheckpoint(runId, c.step))}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <HubModels
        onError={(what, e) => say('error', `${what} failed`, e instanceof Error ? e.message : String(e))}
      />
      <p className="muted small" data-testid="storage-use">
        Stored in {st.kind ? (KIND_LABEL[st.kind] ?? st.kind) : '…'}: runs {formatBytes(st.runBytes)}
        {st.originQuota !== null && st.originUsage !== null
          ? ` · this site ${formatBytes(st.originUsage)} of ${formatBytes(st.originQuota)}`
          : ''}
      </p>
      {st.checkpointsBy && (
        <p className="muted small" data-testid="checkpoints-by">
          Last checkpoint written by the {st.checkpointsBy}
        </p>
      )}
      {st.scratch.files > 0 && (
        <p className="muted small" data-testid="scratch-use">
          Inflated copies of compressed .npz files: {formatBytes(st.scratch.bytes)}
          {st.scratch.inUse > 0 ? ` (${st.scratch.inUse} read by the loaded data, kept)` : ''}{' '}
          {st.scratch.files > st.scratch.inUse && (
            <button
              type="button"
              className="link-button"
              data-testid="clear-scratch"
              title="Remove the copies no loaded data reads from; dropping those files again inflates them again"
              onClick={() => void clearScratchCopies()}
            >
              Clear
            </button>
          )}
        </p>
      )}
      {st.problem && (
        <p className="error-text small" role="alert" data-testid="storage-problem">
          {st.problem}
        </p>
      )}
    </section>
  );
}
