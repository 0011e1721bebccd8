import { useEffect, useState, type ReactNode } from 'react';
import {
  captureToData,
  clearTexts,
  DEFAULT_MAX_ROWS,
  defaultHook,
  dropModelFiles,
  exportCaptureCache,
  exportCaptureSafetensors,
  fetchHubModel,
  hookNames,
  processingWords,
  useModelStore,
} from '../../app/modelSession';
import { downloadBytes } from '../../app/persistence/exportImport';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { formatBytes, formatCount } from '../format';
import { FileDropZone } from '../FileDrop';
import './modelPanel.css';

/** SAELens's default context size, bounded by the model's. */
const DEFAULT_CONTEXT = 128;

/** A link-styled button that makes an export and offers it as a download (failures show in the panel). */
function ExportLink(p: {
  testId: string;
  busy: boolean;
  run: () => Promise<{ name: string; blob: Blob }>;
  mime: string;
  children: ReactNode;
}) {
  return (
    <button
      className="link-button"
      data-testid={p.testId}
      disabled={p.busy}
      onClick={() =>
        void p.run().then(
          (r) => downloadBytes(r.name, r.blob, p.mime),
          () => {
            /* the panel shows the reason */
          },
        )
      }
    >
      {p.children}
    </button>
  );
}

/**
 * A language model in the tab (SPEC §9): drop a model folder and text, choose the hook and processing,
 * capture — the model's activations become the run's dataset — and export the captured set as a SAELens
 * activation cache.
 */
export function ModelPanel() {
  const st = useModelStore();
  const dataKey = useWorkspaceStore((s) => s.data.key);
  const [typed, setTyped] = useState('');
  const [hook, setHook] = useState('');
  const [context, setContext] = useState(DEFAULT_CONTEXT);
  const [prependBos, setPrependBos] = useState(true);
  const [center, setCenter] = useState(true);
  const [maxRows, setMaxRows] = useState(DEFAULT_MAX_ROWS);
  const [half, setHalf] = useState(false);
  const [hubId, setHubId] = useState('');
  const m = st.model;

  // A new model: its middle block's resid_pre, a context it accepts, centring only for GPT-2.
  useEffect(() => {
    if (!m) return;
    setHook(defaultHook(m.n_layers));
    setContext(Math.min(DEFAULT_CONTEXT, m.n_ctx));
    setCenter(m.family === 'gpt2');
    setPrependBos(m.bosId !== null);
  }, [m]);

  const cap = st.capture;
  const capIsData = cap && cap.dataKey === dataKey;

  return (
    <section className="panel model-panel" aria-label="Language model">
      <div className="panel-head">
        <h2>Language model</h2>
      </div>
      <FileDropZone
        onFiles={dropModelFiles}
        testIds={{ zone: 'model-drop-zone', files: 'model-file-input', folder: 'model-folder-input' }}
      >
        Drop a model folder (<code>config.json</code> <code>model.safetensors</code>{' '}
        <code>tokenizer.json</code>, or a llama2.c <code>.bin</code> + <code>tokenizer.bin</code>) and text (
        <code>.txt</code> <code>.jsonl</code> <code>.json</code> <code>.parquet</code>)
      </FileDropZone>
      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          if (hubId.trim()) void fetchHubModel(hubId);
        }}
      >
        <label
          htmlFor="model-hub-id"
          title="downloaded once per revision (id@revision; main when none is given), then kept in this browser's storage (listed under Save & share)"
        >
          Hugging Face model id
        </label>
        <input
          id="model-hub-id"
          data-testid="model-hub-id"
          value={hubId}
          placeholder="gpt2 or HuggingFaceTB/SmolLM-135M (@revision: optional)"
          onChange={(e) => setHubId(e.target.value)}
        />
        <button type="submit" data-testid="model-hub-fetch" disabled={!!st.busy || !hubId.trim()}>
          Fetch
        </button>
      </form>
      {st.busy && (
        <div className="load-progress" data-testid="model-busy">
          {st.busy}
          {st.progressRows > 0 && ` · ${formatCount(st.progressRows)} rows`}…
        </div>
      )}
      {st.error && (
        <div className="inline-error" role="alert" data-testid="model-error">
          {st.error}
        </div>
      )}
      {m ? (
        <dl className="summary" data-testid="model-summary">
          <dt>model</dt>
          <dd title={m.files.join('\n')}>{m.name}</dd>
          <dt>architecture</dt>
          <dd>{m.architecture}</dd>
          <dt>shape</dt>
          <dd>
            {m.n_layers} blocks · d {m.d_model} · {m.n_heads} heads
            {m.n_kv_heads !== m.n_heads ? ` (${m.n_kv_heads} kv)` : ''} · MLP {m.d_mlp}
          </dd>
          <dt>vocabulary</dt>
          <dd>
            {formatCount(m.vocab_size)} · context {m.n_ctx}
          </dd>
          <dt>size</dt>
          <dd>
            {formatCount(m.params)} parameters · {formatBytes(m.bytes)} (float32)
          </dd>
          <dt>tokenizer</dt>
          <dd>{m.tokenizer}</dd>
        </dl>
      ) : (
        <p className="muted small">No model loaded.</p>
      )}
      <textarea
        className="model-text"
        aria-label="text to capture (one document)"
        data-testid="model-text"
        rows={3}
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        placeholder="Type or paste text (one document), or drop text files above"
      />
      {st.texts.length > 0 && (
        <div className="small" data-testid="model-texts">
          text files: {st.texts.map((t) => `${t.name} (${formatBytes(t.size)})`).join(', ')}{' '}
          <button className="link-button" data-testid="model-texts-clear" onClick={clearTexts}>
            clear
          </button>
        </div>
      )}
      {m && (
        <>
          <div className="field">
            <label htmlFor="model-hook">hook</label>
            <select
              id="model-hook"
              data-testid="model-hook"
              value={hook}
              onChange={(e) => setHook(e.target.value)}
            >
              {hookNames(m.n_layers).map((h) => (
                <option key={h} value={h}>
                  {h}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="model-context" title="tokens per row (SAELens context_size)">
              context ≤ {m.n_ctx}
            </label>
            <input
              id="model-context"
              data-testid="model-context"
              type="number"
              min={2}
              max={m.n_ctx}
              value={context}
              onChange={(e) => setContext(Number(e.target.value))}
            />
          </div>
          <div className="field">
            <label htmlFor="model-max-rows">most rows</label>
            <input
              id="model-max-rows"
              data-testid="model-max-rows"
              type="number"
              min={1}
              value={maxRows}
              onChange={(e) => setMaxRows(Number(e.target.value))}
            />
          </div>
          <div className="model-options">
            <label title="SAELens prepend_bos: BOS opens every row and separates documents">
              <input
                type="checkbox"
                data-testid="model-prepend-bos"
                checked={prependBos}
                onChange={(e) => setPrependBos(e.target.checked)}
              />{' '}
              prepend_bos (BOS marks document starts)
            </label>
            <label title="TransformerLens center_writing_weights: what SAELens's GPT-2 SAEs were trained on">
              <input
                type="checkbox"
                data-testid="model-center"
                checked={center && m.family === 'gpt2'}
                disabled={m.family !== 'gpt2'}
                onChange={(e) => setCenter(e.target.checked)}
              />{' '}
              TransformerLens centring (GPT-2)
            </label>
            <label title="Weight matrices stored as float16 halves on the GPU: half the memory, activations still computed in float32">
              <input
                type="checkbox"
                data-testid="model-f16"
                checked={half}
                onChange={(e) => setHalf(e.target.checked)}
              />{' '}
              half-precision weights (f16)
            </label>
          </div>
          <p className="muted small" data-testid="model-processing">
            processing: {processingWords(center && m.family === 'gpt2', m.family)}
          </p>
          <button
            className="primary"
            data-testid="model-capture"
            disabled={!!st.busy}
            onClick={() =>
              void captureToData(
                {
                  hook,
                  contextSize: context,
                  prependBos,
                  center: center && m.family === 'gpt2',
                  maxRows,
                  weights: half ? 'f16' : 'f32',
                },
                typed,
              )
            }
          >
            Capture as the run's data
          </button>
        </>
      )}
      {cap && (
        <dl className="summary" data-testid="model-capture-summary">
          <dt>captured</dt>
          <dd>
            {formatCount(cap.rows)} rows × {cap.contextSize} tokens at {cap.hook}
            {capIsData ? ' (the data in use)' : ''}
          </dd>
          <dt>processing</dt>
          <dd>{cap.processing}</dd>
          <dt>weights</dt>
          <dd>{cap.weights === 'f16' ? 'float16 on the GPU (fp32 arithmetic)' : 'float32'}</dd>
          <dt>prepend_bos</dt>
          <dd>
            {cap.prependBos ? 'yes (document starts at BOS)' : 'no (document starts unknown within rows)'}
          </dd>
          <dt>export</dt>
          <dd>
            <ExportLink
              testId="model-export-cache"
              busy={!!st.busy}
              run={() => exportCaptureCache(cap.dataKey)}
              mime="application/zip"
            >
              SAELens activation cache (.zip)
            </ExportLink>{' '}
            ·{' '}
            <ExportLink
              testId="model-export-safetensors"
              busy={!!st.busy}
              run={() => exportCaptureSafetensors(cap.dataKey)}
              mime="application/octet-stream"
            >
              .safetensors
            </ExportLink>
            {st.exported && (
              <span className="muted small" data-testid="model-exported">
                {' '}
                {st.exported.name} · {formatBytes(st.exported.bytes)}
              </span>
            )}
          </dd>
        </dl>
      )}
    </section>
  );
}
