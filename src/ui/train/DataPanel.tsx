import { useRef, useState } from 'react';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { BUILTIN_PRESETS, loadBuiltin, loadFiles, type PickedFile } from '../../app/dataSession';
import { formatBytes, formatCount } from '../format';

/** Walk a dropped folder (webkitGetAsEntry) into files with their relative paths. */
async function entryFiles(entry: FileSystemEntry, prefix = ''): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    return [{ file, path: prefix + entry.name }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: PickedFile[] = [];
  // readEntries returns at most ~100 entries per call; read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) out.push(...(await entryFiles(e, `${prefix}${entry.name}/`)));
  }
  return out;
}

async function droppedFiles(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items)
    .map((it) => it.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length) return (await Promise.all(entries.map((e) => entryFiles(e)))).flat();
  return Array.from(dt.files).map((file) => ({ file, path: file.name }));
}

function pickedFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** The data: built-in dataset picker, a drop zone for files and folders, and what was loaded. */
export function DataPanel() {
  const data = useWorkspaceStore((s) => s.data);
  const [over, setOver] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
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
      <div
        className={`drop-zone${over ? ' over' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void droppedFiles(e.dataTransfer).then(loadFiles);
        }}
      >
        Drop <code>.npy</code> <code>.npz</code> <code>.safetensors</code> or a SAELens cache folder, or{' '}
        <button className="link-button" onClick={() => fileInput.current?.click()}>
          pick files
        </button>{' '}
        ·{' '}
        <button className="link-button" onClick={() => folderInput.current?.click()}>
          a folder
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          accept=".npy,.npz,.safetensors,.arrow,.json"
          onChange={(e) => void loadFiles(pickedFromInput(e.target.files))}
        />
        <input
          ref={(el) => {
            folderInput.current = el;
            el?.setAttribute('webkitdirectory', '');
          }}
          type="file"
          hidden
          data-testid="folder-input"
          onChange={(e) => void loadFiles(pickedFromInput(e.target.files))}
        />
        <div className="muted drop-hint">
          [S, T, d] arrays keep their sequences; [N, d] arrays are cut into sequences of the sequence length
          set below.
        </div>
      </div>
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
