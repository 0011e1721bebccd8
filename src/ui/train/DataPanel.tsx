import { useWorkspaceStore } from '../../store/workspaceStore';
import { BUILTIN_PRESETS, loadBuiltin, loadFiles } from '../../app/dataSession';
import { FileDropZone } from '../FileDrop';
import { dropModelFiles, isModelDrop } from '../../app/modelSession';
import { formatBytes, formatCount } from '../format';

/** The data: built-in dataset picker, a drop zone for files and folders, and what was loaded. */
export function DataPanel() {
  const data = useWorkspaceStore((s) => s.data);
  const s = data.summary;
  const preset = data.choice.kind === 'builtin' ? data.choice.preset : '';

  return (
    <section className="panel data-panel" aria-label="Data">
      <div className="panel-head">
        <h2>Data</h2>
        <label className="inline">
          built-in
          <select
            data-testid="builtin-preset"
            value={preset}
            onChange={(e) => {
              try {
                loadBuiltin(e.target.value);
              } catch {
                /* the store holds the reason */
              }
            }}
          >
            {preset === '' && <option value="">(your files)</option>}
            {BUILTIN_PRESETS.map((p) => (
              <option key={p} value={p}>
                synthetic · {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      <FileDropZone
        // A model folder dropped here goes to the language-model panel (src/app/modelSession.ts).
        onFiles={(f) => (isModelDrop(f.map((x) => x.path)) ? dropModelFiles(f) : loadFiles(f))}
        testIds={{ zone: 'drop-zone', files: 'file-input', folder: 'folder-input' }}
        // .bin: a llama2.c checkpoint with its tokenizer.bin, handed to the model panel like a drop.
        accept=".npy,.npz,.safetensors,.arrow,.json,.bin"
        hint={
          <div className="muted drop-hint">
            [S, T, d] arrays keep their sequences; [N, d] arrays are cut into sequences of the sequence length
            set below.
          </div>
        }
      >
        Drop <code>.npy</code> <code>.npz</code> <code>.safetensors</code> or a SAELens cache folder
      </FileDropZone>
      {data.progress && (
        <div className="load-progress" data-testid="data-progress">
          opening {data.progress.name}: {formatBytes(data.progress.loadedBytes)} /{' '}
          {formatBytes(data.progress.totalBytes)}
          <div className="bar">
            <div
              className="fill"
              style={{
                width: `${((100 * data.progress.loadedBytes) / Math.max(1, data.progress.totalBytes)).toFixed(1)}%`,
              }}
            />
          </div>
        </div>
      )}
      {data.error && (
        <div className="inline-error" role="alert" data-testid="data-error">
          {data.error}
        </div>
      )}
      {s ? (
        <dl className="summary" data-testid="data-summary">
          <dt>loaded</dt>
          <dd title={s.files.join('\n')}>{s.label}</dd>
          <dt>shape</dt>
          <dd>
            {formatCount(s.numSequences)} seq × {s.seqLen} × {s.d}
          </dd>
          <dt>tokens</dt>
          <dd>
            {formatCount(s.tokens)} · {s.dtype}
          </dd>
          <dt>held out</dt>
          <dd>{Math.round(s.heldOutShare * 100)} % of sequences</dd>
          <dt>scaling</dt>
          <dd>{s.scaling}</dd>
          <dt>token text</dt>
          <dd title={s.tokenTextName}>
            {s.hasTokenText ? (s.tokenTextName ?? 'available') : 'ids only (drop a tokenizer.json)'}
          </dd>
          {s.hasGroundTruth && (
            <>
              <dt>truth</dt>
              <dd>known (mmcs, recovered)</dd>
            </>
          )}
        </dl>
      ) : (
        !data.progress && <p className="muted small">No data loaded.</p>
      )}
    </section>
  );
}
