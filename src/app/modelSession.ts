// A language model in the tab (issue 11, SPEC §9): the page's path from dropped model files and text to
// a run's dataset. The model (src/lm/load) and its tokenizer (src/lm/tokenizer) are loaded from a drop;
// text is dropped (.txt/.md/.jsonl/.json/.parquet) or typed; a capture packs the text into rows as
// SAELens does (src/lm/text) and publishes lmActivationSource (src/lm/capture/source.ts) as the run's
// data, so training streams activations from the WGSL forward with no file in between. Token text comes
// from the model's own tokenizer; document starts are the BOS separators of the packing
// (doc_start_token_ids = [BOS]). The captured set can be exported as a SAELens activation cache folder
// (.zip) that the data panel reads back. Loading never drops what was loaded before: a bad file leaves
// the model, the text and the data as they were, with the loader's message shown.
import { create } from 'zustand';
import type { GpuContext } from '../gpu/device';
import { blobByteSource, type ByteSource } from '../data/byteSource';
import type { ActivationSource } from '../data/types';
import { gpuHookForward, type HookForward } from '../lm/capture/capture';
import { SaeLensCacheWriter, type CacheSink } from '../lm/capture/saelensCache';
import { collectRows, lmActivationSource } from '../lm/capture/source';
import { loadModelFiles } from '../lm/load';
import { packTexts, textKind } from '../lm/text';
import { loadLmTokenizer, type LmTokenizer } from '../lm/tokenizer';
import { HOOK_POINTS, parseHookName, type LanguageModel } from '../lm/types';
import { safetensorsHeaderBytes } from '../io/safetensors';
import { ZipStreamWriter } from '../io/zipStream';
import { useWorkspaceStore } from '../store/workspaceStore';
import { getLoadedData, loadMadeSource, type PickedFile } from './dataSession';
import { initGpu } from './gpuSession';
import { formatBytes, writeExportFile } from './persistence/persistence';
import { fetchHubFiles, forgetHubModel } from './hubFetch';

/** What the model panel shows of the loaded model. */
export interface ModelSummary {
  /** The model file (config.json's folder, or the .bin). */
  name: string;
  family: 'gpt2' | 'llama';
  /** In words: norm, positions, MLP. */
  architecture: string;
  n_layers: number;
  d_model: number;
  n_heads: number;
  n_kv_heads: number;
  d_mlp: number;
  vocab_size: number;
  n_ctx: number;
  params: number;
  /** float32 bytes of the weights in this page. */
  bytes: number;
  tokenizer: string;
  bosId: number | null;
  files: string[];
}

/** The processing and shape of one capture (shown in the UI, stored in exports). */
export interface CaptureSettings {
  hook: string;
  contextSize: number;
  prependBos: boolean;
  /** TransformerLens center_writing_weights (GPT-2 only). */
  center: boolean;
  /** Stop after this many rows. */
  maxRows: number;
  /** Weights on the GPU: float32, or float16 halves (half the memory; SPEC §9). Default f32. */
  weights?: 'f32' | 'f16';
}

export interface CaptureSummary extends CaptureSettings {
  dataKey: string;
  model: string;
  rows: number;
  tokens: number;
  /** The processing in words ("TransformerLens center_writing_weights", "none: raw HF weights"). */
  processing: string;
}

export interface ModelPanelState {
  model: ModelSummary | null;
  /** Dropped text files (names and sizes), in the order they are packed. */
  texts: { name: string; size: number }[];
  /** What is running now, in words (loading, capturing, exporting), or null. */
  busy: string | null;
  /** Why the last action failed; what was loaded before stays. */
  error: string | null;
  /** Rows captured so far while a capture runs. */
  progressRows: number;
  capture: CaptureSummary | null;
  /** The last export: its file name and size. */
  exported: { name: string; bytes: number } | null;
}

export const useModelStore = create<ModelPanelState>()(() => ({
  model: null,
  texts: [],
  busy: null,
  error: null,
  progressRows: 0,
  capture: null,
  exported: null,
}));

const set = (p: Partial<ModelPanelState>) => useModelStore.setState(p);

interface LoadedModel {
  model: LanguageModel;
  tokenizer: LmTokenizer;
  summary: ModelSummary;
  /** The tokenizer's own files, copied into exported caches so their token text comes back. */
  tokenizerFiles: PickedFile[];
}

interface CaptureEntry {
  summary: CaptureSummary;
  source: ActivationSource;
  tokenizer: LmTokenizer;
  tokenizerFiles: PickedFile[];
  d: number;
  description: Record<string, unknown>;
}

let current: LoadedModel | null = null;
let textFiles: PickedFile[] = [];
const captures = new Map<string, CaptureEntry>();

/** Rows per forward call of a capture (the GPU forward's S). */
export const CAPTURE_BATCH_ROWS = 16;
/** Default cap on rows per capture (the rows' token ids are held; activations are computed on demand). */
export const DEFAULT_MAX_ROWS = 4096;

/**
 * One live WGSL forward at a time, however many captures the page holds: each capture's forward is
 * made on its first read and the previous capture's is destroyed then (its weights leave the GPU), so
 * GPU memory holds one model copy; reading an older capture again uploads its model again. Forward
 * calls are serialized (a destroy never lands inside another capture's readback).
 */
let live: { owner: object; gpu: GpuContext; run: ReturnType<typeof gpuHookForward> } | null = null;
let queue: Promise<unknown> = Promise.resolve();

/**
 * The live forward for `owner`, made (on the page's current device: a lost device gives a new one)
 * unless it is already live there; the one before is destroyed.
 */
async function ensureLive(owner: object, make: (gpu: GpuContext) => ReturnType<typeof gpuHookForward>) {
  const gpu = await initGpu();
  if (live?.owner === owner && live.gpu === gpu) return live.run;
  live?.run.destroy();
  live = null;
  madeForwards++;
  live = { owner, gpu, run: make(gpu) };
  return live.run;
}

/** Runs `task` after every GPU forward task queued before it. */
function enqueue<R>(task: () => R | Promise<R>): Promise<R> {
  const next = queue.then(task);
  queue = next.catch(() => {});
  return next;
}

/** GPU forwards made so far and whether one is alive now (one model copy on the GPU at a time). */
export function forwardPoolStats(): { made: number; live: boolean } {
  return { made: madeForwards, live: !!live };
}
let madeForwards = 0;

/**
 * The forward of a new capture: made now (so a hook, context or memory plan the GPU forward refuses
 * fails the capture), then remade whenever another capture's forward has taken its place.
 */
async function hookForwardFor(
  model: LanguageModel,
  S: number,
  o: { hook: string; T: number; center: boolean; weights: 'f32' | 'f16' },
): Promise<HookForward> {
  const owner = {};
  const make = (gpu: GpuContext) => gpuHookForward(gpu, model, S, o);
  await enqueue(() => ensureLive(owner, make));
  return (ids, rows) => enqueue(async () => (await ensureLive(owner, make)).forward(ids, rows));
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Files that belong to the model (not documents), even when their names end in .json. */
const MODEL_JSON =
  /^(config|tokenizer|tokenizer_config|generation_config|special_tokens_map|added_tokens|vocab)\.json$|\.index\.json$/i;

/** Whether a dropped file is text to capture (by name) rather than a model or tokenizer file. */
export function isTextFile(path: string): boolean {
  const b = base(path);
  return textKind(b) !== null && !MODEL_JSON.test(b);
}

/**
 * Whether a drop holds a language model (config.json + a .safetensors, or a llama2.c .bin +
 * tokenizer.bin): the data panel hands such drops to the model panel. Activation files, SAELens cache
 * folders and SAE folders (cfg.json) are not models.
 */
export function isModelDrop(paths: string[]): boolean {
  const names = paths.map(base);
  const has = (re: RegExp) => names.some((n) => re.test(n));
  return (
    (has(/^config\.json$/) && has(/\.safetensors$/)) ||
    (has(/^tokenizer\.bin$/) && has(/\.bin$/i) && names.filter((n) => /\.bin$/i.test(n)).length >= 2)
  );
}

const TOKENIZER_FILES = /^(tokenizer\.json|tokenizer_config\.json|tokenizer\.bin)$/i;

function familyWords(m: LanguageModel): string {
  const c = m.config;
  return c.family === 'gpt2'
    ? 'GPT-2: LayerNorm, learned positions, GELU MLP'
    : `Llama: RMSNorm, rotary positions (${c.rope_style === 'interleaved' ? 'llama2.c pairs' : 'HF rotate_half'}), SwiGLU MLP${c.n_kv_heads < c.n_heads ? ', grouped-query attention' : ''}`;
}

function paramCount(m: LanguageModel): number {
  const w = m.weights;
  let n = w.W_E.length + (w.W_pos?.length ?? 0) + w.ln_final_w.length + (w.ln_final_b?.length ?? 0);
  if (w.W_U !== w.W_E) n += w.W_U.length;
  for (const b of w.blocks) for (const v of Object.values(b)) if (v instanceof Float32Array) n += v.length;
  return n;
}

function summarizeModel(m: LanguageModel, tok: LmTokenizer, files: PickedFile[]): ModelSummary {
  const c = m.config;
  const params = paramCount(m);
  const weightsFile = files.find(
    (f) => /\.(safetensors|bin)$/i.test(f.path) && !TOKENIZER_FILES.test(base(f.path)),
  );
  const stem = weightsFile ? base(weightsFile.path).replace(/\.(safetensors|bin)$/i, '') : undefined;
  const folder = weightsFile?.path.includes('/') ? weightsFile.path.split('/').slice(-2, -1)[0] : undefined;
  return {
    // A folder's name (gpt2, stories15M…); files picked without one: the .bin's name, or the family.
    name: folder ?? (stem && stem !== 'model' ? stem : c.family),
    family: c.family,
    architecture: familyWords(m),
    n_layers: c.n_layers,
    d_model: c.d_model,
    n_heads: c.n_heads,
    n_kv_heads: c.n_kv_heads,
    d_mlp: c.d_mlp,
    vocab_size: c.vocab_size,
    n_ctx: c.n_ctx,
    params,
    bytes: params * 4,
    tokenizer: tok.name,
    bosId: tok.bosId,
    files: files.map((f) => f.path),
  };
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * A drop on the model panel: model and tokenizer files load a model (replacing the current one only
 * when all of it loads), text files become the text to capture (appended to those dropped before).
 */
export async function dropModelFiles(files: PickedFile[]): Promise<void> {
  if (useModelStore.getState().busy) {
    set({ error: `Wait until ${useModelStore.getState().busy} has finished.` });
    return;
  }
  const texts = files.filter((f) => isTextFile(f.path));
  const rest = files.filter((f) => !isTextFile(f.path));
  if (!files.length) {
    set({ error: 'Nothing to load: the drop held no files.' });
    return;
  }
  set({ error: null });
  if (rest.length) {
    set({ busy: `loading ${rest.length === 1 ? rest[0].path : `${rest.length} files`}` });
    const sources: ByteSource[] = rest.map((f) => blobByteSource(f.file, f.path));
    try {
      const model = await loadModelFiles(sources);
      const tokenizer = await loadLmTokenizer(sources, model.config.vocab_size);
      const summary = summarizeModel(model, tokenizer, rest);
      current = {
        model,
        tokenizer,
        summary,
        tokenizerFiles: rest.filter((f) => TOKENIZER_FILES.test(base(f.path))),
      };
      set({ model: summary });
    } catch (e) {
      set({
        error: `${messageOf(e)}. ${current ? `${current.summary.name} is still loaded` : 'No model is loaded'}; fix the file or drop another.`,
      });
    } finally {
      set({ busy: null });
    }
  }
  if (texts.length) {
    textFiles = [...textFiles, ...texts];
    set({ texts: textFiles.map((f) => ({ name: f.path, size: f.file.size })) });
  }
}

/**
 * Fetch a model from the Hugging Face hub by id (src/app/hubFetch: cached in OPFS, so a second fetch or
 * a reload reads the cache), showing bytes of total, then load it as dropped files are loaded.
 */
export async function fetchHubModel(id: string): Promise<void> {
  if (useModelStore.getState().busy) {
    set({ error: `Wait until ${useModelStore.getState().busy} has finished.` });
    return;
  }
  set({ error: null, busy: `fetching ${id.trim()} from the hub` });
  let files: PickedFile[];
  try {
    files = (
      await fetchHubFiles(id, (p) =>
        set({
          busy: `downloading ${p.file} · ${formatBytes(p.loaded)}${p.total !== null ? ` of ${formatBytes(p.total)}` : ''}`,
        }),
      )
    ).files;
  } catch (e) {
    set({
      busy: null,
      error: `${messageOf(e)}. ${current ? `${current.summary.name} is still loaded` : 'No model is loaded'}.`,
    });
    return;
  }
  set({ busy: null });
  const before = current;
  await dropModelFiles(files);
  // Cached files that do not load are not kept: the next fetch downloads them again.
  if (current === before) await forgetHubModel(id);
}

/** Forget the dropped text files (typed text stays in the textarea). */
export function clearTexts(): void {
  textFiles = [];
  set({ texts: [] });
}

/** The hook names of a model, resid_pre of every block first, then the other points. */
export function hookNames(n_layers: number): string[] {
  const out: string[] = [];
  for (const p of HOOK_POINTS) for (let L = 0; L < n_layers; L++) out.push(`blocks.${L}.${p}`);
  return out;
}

/** The default hook: the middle block's hook_resid_pre. */
export function defaultHook(n_layers: number): string {
  return `blocks.${Math.floor(n_layers / 2)}.hook_resid_pre`;
}

export function processingWords(center: boolean, family: 'gpt2' | 'llama'): string {
  if (family !== 'gpt2') return 'none (RMSNorm model: raw weights, as TransformerLens loads it)';
  return center
    ? 'TransformerLens center_writing_weights (each residual row minus its mean over d_model)'
    : 'none: raw HF weights (TransformerLens with center_writing_weights=False)';
}

/** Rows as they are packed, showing the count and letting the page paint every 256 rows. */
async function* withProgress<R>(rows: AsyncIterable<R>): AsyncGenerator<R> {
  let n = 0;
  for await (const r of rows) {
    yield r;
    if (++n % 256 === 0) {
      set({ progressRows: n });
      await new Promise((res) => setTimeout(res, 0));
    }
  }
}

/**
 * Capture: packs the dropped files and the typed text into rows, and publishes the model at the hook as
 * the run's dataset (lmActivationSource: each read runs the forward). Returns the data key, or null
 * with the reason in the panel.
 */
export async function captureToData(settings: CaptureSettings, typed: string): Promise<string | null> {
  const m = current;
  if (!m) {
    set({
      error:
        'Drop a model first (config.json + model.safetensors + tokenizer.json, or a .bin + tokenizer.bin).',
    });
    return null;
  }
  if (useModelStore.getState().busy) return null;
  const { hook, contextSize: T, prependBos, center } = settings;
  const weights = settings.weights ?? 'f32';
  const c = m.model.config;
  const texts: (ByteSource | string)[] = textFiles.map((f) => blobByteSource(f.file, f.path));
  if (typed.trim()) texts.push(typed);
  set({ error: null, busy: 'capturing', progressRows: 0 });
  try {
    parseHookName(hook, c.n_layers);
    if (!(Number.isInteger(T) && T >= 2 && T <= c.n_ctx))
      throw new Error(`context size ${T} is not in 2..${c.n_ctx} (the model's context)`);
    if (!(Number.isInteger(settings.maxRows) && settings.maxRows >= 1))
      throw new Error(`rows must be a positive integer (got ${settings.maxRows})`);
    if (center && c.family !== 'gpt2') throw new Error('centring applies to LayerNorm (GPT-2) models only');
    if (prependBos && m.tokenizer.bosId === null)
      throw new Error(`${m.tokenizer.name} names no BOS token: turn prepend_bos off`);
    if (!texts.length)
      throw new Error('No text: drop .txt / .jsonl / .json / .parquet files or type some text');
    const rows = await collectRows(
      withProgress(packTexts(texts, m.tokenizer, { contextSize: T, prependBos })),
      settings.maxRows,
    );
    if (!rows.length)
      throw new Error(
        `the text makes no full row of ${T} tokens (SAELens drops the last partial row): add text or lower the context size`,
      );
    set({ progressRows: rows.length });
    const S = Math.min(CAPTURE_BATCH_ROWS, rows.length);
    const forward = await hookForwardFor(m.model, S, { hook, T, center, weights });
    const name = `${m.summary.name} · ${hook}`;
    const source = lmActivationSource({ name, rows, T, d: c.d_model, forward, batchRows: S });
    const processing = processingWords(center, c.family);
    const tokens = rows.length * T;
    const data = loadMadeSource(
      source,
      {
        label: name,
        files: [
          ...m.summary.files,
          ...textFiles.map((f) => f.path),
          ...(typed.trim() ? ['(typed text)'] : []),
        ],
        scaling: 'as captured (see config)',
        hasTokenText: true,
        tokenTextName: m.tokenizer.name,
      },
      {
        d_in: c.d_model,
        context_size: T,
        // Document starts: the packing's BOS separators (SPEC §9); without prepend_bos none are marked.
        doc_start_token_ids: prependBos && m.tokenizer.bosId !== null ? [m.tokenizer.bosId] : [],
      },
      m.tokenizer.tokenText,
      {
        model_name: m.summary.name,
        hook_name: hook,
        hook_layer: parseHookName(hook, c.n_layers).layer,
        dataset_path: texts.length === 1 && typeof texts[0] !== 'string' ? texts[0].name : name,
        prepend_bos: prependBos,
        model_from_pretrained_kwargs: { center_writing_weights: center },
      },
    );
    const summary: CaptureSummary = {
      ...settings,
      dataKey: data.key,
      model: m.summary.name,
      rows: rows.length,
      tokens,
      processing,
    };
    captures.set(data.key, {
      summary,
      source,
      tokenizer: m.tokenizer,
      tokenizerFiles: m.tokenizerFiles,
      d: c.d_model,
      description: {
        model: m.summary.name,
        family: c.family,
        hook_name: hook,
        context_size: T,
        prepend_bos: prependBos,
        center_writing_weights: center,
        processing,
        tokenizer: m.tokenizer.name,
        weights,
        made_by: 'TempoSAE (browser capture)',
      },
    });
    set({ capture: summary, exported: null });
    return data.key;
  } catch (e) {
    const had = useWorkspaceStore.getState().data.summary;
    set({
      error: `${messageOf(e)}. ${had ? `The data loaded before (${had.label}) is still in use.` : ''}`.trim(),
    });
    return null;
  } finally {
    set({ busy: null });
  }
}

/** The model loaded in this page and its tokenizer (loss recovered and the probe use this one), or null. */
export function loadedModel(): { model: LanguageModel; tokenizer: LmTokenizer; name: string } | null {
  return current ? { model: current.model, tokenizer: current.tokenizer, name: current.summary.name } : null;
}

/** The capture behind a dataset key (the run's data), if that data was captured in this page. */
export function captureOf(dataKey: string): CaptureSummary | null {
  return captures.get(dataKey)?.summary ?? null;
}

/** An in-memory CacheSink: file name → parts. */
function memorySink(): CacheSink & { files: Map<string, Uint8Array[]> } {
  const files = new Map<string, Uint8Array[]>();
  return {
    files,
    append: async (name, bytes) =>
      void (files.get(name) ?? files.set(name, []).get(name)!).push(bytes.slice()),
    rename: async (from, to) => {
      const v = files.get(from);
      if (!v) throw new Error(`cache export: ${from} was never written`);
      files.delete(from);
      files.set(to, v);
    },
    writeText: async (name, text) => void files.set(name, [new TextEncoder().encode(text)]),
  };
}

/** Every captured row in order, a forward batch at a time (the progress shows the rows done). */
async function eachBatch(
  source: ActivationSource,
  fn: (x: Float32Array, ids: Int32Array, rows: number, first: number) => Promise<void>,
): Promise<void> {
  const n = source.numSequences;
  for (let i0 = 0; i0 < n; i0 += CAPTURE_BATCH_ROWS) {
    const idx = Array.from({ length: Math.min(CAPTURE_BATCH_ROWS, n - i0) }, (_, k) => i0 + k);
    const { x, tokenIds } = await source.readSequences(idx);
    await fn(x, tokenIds!, idx.length, i0);
    set({ progressRows: i0 + idx.length });
  }
}

const exportStem = (c: CaptureSummary) =>
  `${c.model}-${c.hook}-T${c.contextSize}`.replace(/[^A-Za-z0-9._-]+/g, '_');

const bytesOf = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * The captured set of `dataKey` as one .safetensors file: `activations` [S, T, d] float32 and
 * `token_ids` [S, T] int32 (what the data panel and safetensors.numpy read), the capture's provenance
 * as string metadata. Streamed: the activations are written batch by batch as the forward makes them;
 * only the token ids (already held) are gathered.
 */
export function exportCaptureSafetensors(dataKey: string): Promise<{ name: string; blob: Blob }> {
  return asExport(dataKey, 'exporting the activations', async ({ summary, source, d, description }) => {
    const n = source.numSequences;
    const T = summary.contextSize;
    const header = safetensorsHeaderBytes(
      [
        { name: 'activations', dtype: 'F32', shape: [n, T, d] },
        { name: 'token_ids', dtype: 'I32', shape: [n, T] },
      ],
      Object.fromEntries(Object.entries(description).map(([k, v]) => [k, String(v)])),
    );
    const name = `${exportStem(summary)}.safetensors`;
    const ids = new Int32Array(n * T);
    const blob = await writeExportFile(name, async (out) => {
      await out.write(header);
      await eachBatch(source, async (x, batchIds, _rows, first) => {
        ids.set(batchIds, first * T);
        await out.write(bytesOf(x));
      });
      await out.write(bytesOf(ids));
    });
    return { name, blob };
  });
}

/** An export of a capture: the panel shows it running, then its name and size, or why it failed. */
async function asExport(
  dataKey: string,
  busy: string,
  make: (cap: CaptureEntry) => Promise<{ name: string; blob: Blob }>,
): Promise<{ name: string; blob: Blob }> {
  const cap = captures.get(dataKey);
  if (!cap || !getLoadedData(dataKey))
    throw new Error('This data was not captured from a model in this page');
  set({ busy, error: null });
  try {
    const r = await make(cap);
    set({ exported: { name: r.name, bytes: r.blob.size } });
    return r;
  } catch (e) {
    set({ error: `Export failed: ${messageOf(e)}` });
    throw e;
  } finally {
    set({ busy: null });
  }
}

/**
 * The captured set of `dataKey` as a SAELens activation cache folder in a .zip (dataset_info.json,
 * state.json, data-*.arrow with token_ids, plus the tokenizer's files so the token text comes back when
 * the folder is dropped again). Activations are computed again by the forward, batch by batch, in
 * sequence order; the archive's parts are held until the shard names are known.
 */
export function exportCaptureCache(dataKey: string): Promise<{ name: string; blob: Blob }> {
  return asExport(dataKey, 'exporting the cache', async (cap) => {
    const { summary, source } = cap;
    const sink = memorySink();
    const writer = new SaeLensCacheWriter(sink, {
      hookName: summary.hook,
      T: summary.contextSize,
      d: cap.d,
      description: cap.description,
    });
    await eachBatch(source, (x, ids, n) => writer.append(x, ids, n));
    await writer.finish();
    const folder = exportStem(summary);
    const name = `${folder}.zip`;
    const extra: [string, Uint8Array][] = [];
    for (const f of cap.tokenizerFiles)
      extra.push([base(f.path), new Uint8Array(await f.file.arrayBuffer())]);
    if (cap.tokenizer.kind === 'llama2c') {
      // The data panel reads a vocabulary list as token text (tokenizer.bin is the model's file).
      const vocab = Array.from({ length: cap.tokenizer.vocabSize }, (_, i) =>
        cap.tokenizer.tokenText.text(i),
      );
      extra.push(['vocab.json', new TextEncoder().encode(JSON.stringify(vocab))]);
    }
    const blob = await writeExportFile(name, async (out) => {
      const z = new ZipStreamWriter(out);
      for (const [f, parts] of sink.files)
        await z.add(`${folder}/${f}`, async (k) => {
          for (const p of parts) await k.write(p);
        });
      for (const [f, b] of extra) await z.add(`${folder}/${f}`, async (k) => k.write(b));
      await z.finish();
    });
    return { name, blob };
  });
}
