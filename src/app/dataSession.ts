// The loaded datasets of this page, outside the store (an ActivationSource holds file handles and
// generators, not plain data). The store gets a summary and the key; runs refer to data by key.
// Loading new data never unloads the old: a failed load leaves everything as it was (SPEC §7).
import type { Batcher, BatcherState } from '../data/batcher';
import { opfsScratch } from '../data/opfsScratch';
import { HELD_OUT_FRACTION, openRunBatcher } from '../sae/runBatcher';
import { blobByteSource, type ByteSource } from '../data/byteSource';
import { openDataset } from '../data/dataset';
import { idsTokenText, type TokenText } from '../data/tokenText';
import {
  createSyntheticSource,
  SYNTHETIC_PRESETS,
  syntheticConfig,
  type SyntheticPreset,
} from '../data/synthetic';
import type { ActivationSource } from '../data/types';
import type { TrainConfig } from '../sae/config';
import type { SaeProvenance } from '../io/saelensCfg';
import { useWorkspaceStore, type DataSummary } from '../store/workspaceStore';
import type { RunData } from './trainingLoop';
import { impliedByData } from '../engine/defaults';
import type { DataDescriptor } from '../engine/protocol';
import {
  builtinTokenText,
  dataIdentity,
  isTokenTextOnly,
  recallTokenText,
  rememberTokenText,
  tokenTextOfDrop,
} from './tokenTextSession';

/** Share of sequences held out for evaluation (never trained on). */
export { HELD_OUT_FRACTION };
/** The built-in data's own seed: the dataset stays the same whatever the run's seed (that shuffles). */
export const BUILTIN_DATA_SEED = 1234;

export interface LoadedData {
  key: string;
  source: ActivationSource;
  summary: DataSummary;
  /** Config fields the data implies (d_in, doc-start ids), applied to the draft on load. */
  implied: Partial<TrainConfig>;
  /** Token ids → text for the inspector (a dropped tokenizer, the synthetic vocabulary, or ids). */
  tokenText: TokenText;
  /** Where data made in this page came from (a model's capture): hook, model, processing, for exports. */
  provenance?: SaeProvenance;
  /** How the run engine (its Worker) opens the same data itself (src/engine/protocol.ts). */
  descriptor?: DataDescriptor;
}

const loaded = new Map<string, LoadedData>();
let nextKey = 1;

export function getLoadedData(key: string): LoadedData | undefined {
  return loaded.get(key);
}

/**
 * How the engine opens the data under `key`: the built-in generator or the dropped files themselves (the
 * engine decodes batches off the page's thread); data made in this page is read from here ('page').
 */
export function dataDescriptor(key: string): DataDescriptor | null {
  const data = loaded.get(key);
  if (!data) return null;
  if (data.descriptor) return data.descriptor;
  const s = data.source;
  return {
    kind: 'page',
    name: s.name,
    numSequences: s.numSequences,
    seqLen: s.seqLen,
    d: s.d,
    dtype: s.dtype,
    hasTokenIds: s.hasTokenIds,
    windows: typeof s.readWindows === 'function',
  };
}

/** Keys of every dataset loaded in this page (persistence finds a restored run's data among them). */
export function loadedDataKeys(): string[] {
  return [...loaded.keys()];
}

export const BUILTIN_PRESETS = Object.keys(SYNTHETIC_PRESETS) as SyntheticPreset[];

function summarize(source: ActivationSource, extra: Partial<DataSummary>): DataSummary {
  return {
    label: source.name,
    numSequences: source.numSequences,
    seqLen: source.seqLen,
    d: source.d,
    dtype: source.dtype,
    tokens: source.numSequences * source.seqLen,
    heldOutShare: HELD_OUT_FRACTION,
    scaling: 'as stored',
    hasTokenText: source.hasTokenIds,
    hasGroundTruth: false,
    files: [],
    ...extra,
  };
}

function publish(
  source: ActivationSource,
  summary: DataSummary,
  implied: Partial<TrainConfig>,
  tokenText: TokenText,
): LoadedData {
  const key = `data-${nextKey++}`;
  const entry = { key, source, summary, implied, tokenText };
  loaded.set(key, entry);
  const ws = useWorkspaceStore.getState();
  ws.dataLoaded(key, summary);
  // The data fixes the width and, for the built-in data, how documents start; the rest stays.
  ws.replaceDraft({ ...useWorkspaceStore.getState().draft, ...implied });
  return entry;
}

/** The built-in synthetic dataset (SPEC §8) with known true features. */
export function loadBuiltin(preset: string): LoadedData {
  if (!(BUILTIN_PRESETS as string[]).includes(preset)) {
    const msg = `There is no built-in dataset “${preset}”; choose one of ${BUILTIN_PRESETS.join(', ')}.`;
    useWorkspaceStore.getState().dataFailed(msg);
    throw new Error(msg);
  }
  useWorkspaceStore.getState().chooseData({ kind: 'builtin', preset });
  const cfg = syntheticConfig(preset as SyntheticPreset, BUILTIN_DATA_SEED);
  const source = createSyntheticSource(cfg);
  const summary = summarize(source, {
    label: `built-in: ${preset}`,
    hasTokenText: true,
    hasGroundTruth: true,
    scaling: 'none (unit-scale)',
    files: [],
  });
  const tokenText = builtinTokenText(source);
  // The method's defaults (λ1 0.04, lr 3e-4) give dense codes on this data; SYNTHETIC_RECOMMENDED holds the
  // settings measured to recover its true features (src/data/synthetic.ts explains the scale argument).
  // The CLI starts from the same (src/engine/defaults.ts). A link's own values still win (boot.ts
  // re-applies them after this).
  const implied = impliedByData(source.d, preset as SyntheticPreset);
  const entry = publish(source, summary, implied, tokenText);
  entry.descriptor = { kind: 'builtin', preset: preset as SyntheticPreset, seed: BUILTIN_DATA_SEED };
  return entry;
}

/**
 * localStorage key: the largest compressed .npz member inflated into memory, in bytes (default 256 MB);
 * larger ones go through a scratch file. Lower it on machines short of memory.
 */
export const INFLATE_CAP_KEY = 'temposae.maxInflateBytes';

function inflateCap(): number | undefined {
  try {
    const v = Number(localStorage.getItem(INFLATE_CAP_KEY));
    return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A dropped or picked file with its path inside a dropped folder (for SAELens cache folders). */
export interface PickedFile {
  file: Blob & { name: string };
  path: string;
}

/** Open dropped files/folders as one dataset; on failure the current data stays and the reason is shown. */
export async function loadFiles(files: PickedFile[]): Promise<LoadedData | null> {
  const ws = useWorkspaceStore.getState();
  if (files.length === 0) {
    ws.dataFailed('Nothing to load: the drop held no files.');
    return null;
  }
  const total = files.reduce((n, f) => n + f.file.size, 0);
  const label = files.length === 1 ? files[0].path : `${files.length} files`;
  ws.dataLoading({ name: label, loadedBytes: 0, totalBytes: total });
  let opened = 0;
  // Parsers read headers and then only the sequences they need; progress counts files opened.
  const sources: ByteSource[] = files.map((f) => {
    const src = blobByteSource(f.file, f.path);
    let counted = false;
    return {
      name: src.name,
      size: src.size,
      async read(offset: number, length: number) {
        if (!counted) {
          counted = true;
          opened += f.file.size;
          useWorkspaceStore.getState().dataLoading({ name: f.path, loadedBytes: opened, totalBytes: total });
        }
        return src.read(offset, length);
      },
    };
  });
  try {
    // Token text (src/app/tokenTextSession.ts): from the drop, or remembered for this data.
    const dropped = await tokenTextOfDrop(sources);
    if (dropped && isTokenTextOnly(sources)) return attachTokenText(dropped, sources);
    const folder = files[0].path.includes('/') ? files[0].path.split('/')[0] : undefined;
    const options = {
      folderName: folder,
      // [N, d] arrays carry no sequence boundaries: cut them into sequences of the configured context size.
      flatSeqLen: useWorkspaceStore.getState().draft.context_size,
      maxInflateBytes: inflateCap(),
    };
    // Deflated .npz members over the in-memory cap are inflated once into browser files.
    const source = await openDataset(sources, { ...options, scratch: await opfsScratch() });
    const identity = dataIdentity(source);
    if (dropped) void rememberTokenText(identity, sources);
    const tokenText = dropped ?? (await recallTokenText(identity));
    useWorkspaceStore.getState().chooseData({ kind: 'files', label: source.name });
    const summary = summarize(source, {
      label: source.name,
      files: files.map((f) => f.path),
      scaling: 'as stored (see config)',
      hasTokenText: !!tokenText,
      tokenTextName: tokenText?.name,
    });
    const entry = publish(source, summary, { d_in: source.d }, tokenText ?? idsTokenText());
    // The engine opens the same files with the same options (a scratch copy made here is reused there).
    entry.descriptor = {
      kind: 'files',
      files: files.map((f) => ({ file: f.file, path: f.path })),
      ...options,
    };
    return entry;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    useWorkspaceStore
      .getState()
      .dataFailed(`${message}. The data loaded before is still in use; fix the file or drop another one.`);
    return null;
  }
}

/**
 * Data made in this page (a language model's capture, src/app/modelSession.ts) as the current dataset,
 * with its provenance for the SAE's cfg.json. The data loaded before stays loaded.
 */
export function loadMadeSource(
  source: ActivationSource,
  extra: Partial<DataSummary>,
  implied: Partial<TrainConfig>,
  tokenText: TokenText,
  provenance: SaeProvenance,
): LoadedData {
  useWorkspaceStore.getState().chooseData({ kind: 'files', label: source.name });
  const entry = publish(source, summarize(source, extra), implied, tokenText);
  entry.provenance = provenance;
  return entry;
}

/** A tokenizer dropped on its own: it gives text to the data already loaded (nothing else changes). */
function attachTokenText(tokenText: TokenText, files: ByteSource[]): LoadedData | null {
  const ws = useWorkspaceStore.getState();
  const current = ws.data.key ? loaded.get(ws.data.key) : undefined;
  if (!current) {
    ws.dataFailed(`${tokenText.name} is a tokenizer; drop activation files too, or load data first.`);
    return null;
  }
  current.tokenText = tokenText;
  void rememberTokenText(dataIdentity(current.source), files);
  current.summary = { ...current.summary, hasTokenText: true, tokenTextName: tokenText.name };
  ws.dataLoaded(current.key, current.summary);
  return current;
}

/** Batches for a run: S × T windows of the data in a seeded order, with the held-out split. */
export async function openRunData(
  key: string,
  cfg: TrainConfig,
  resume?: BatcherState,
): Promise<RunData & { batcher: Batcher }> {
  const data = loaded.get(key);
  if (!data)
    throw new Error('The data this run was made with is no longer loaded; load it again and reset the run.');
  if (data.source.d !== cfg.d_in)
    throw new Error(`The data is ${data.source.d} wide but the run's d_in is ${cfg.d_in}.`);
  const batcher = await openRunBatcher(data.source, cfg, resume);
  return { batcher, next: () => batcher.next() };
}
