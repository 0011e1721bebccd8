// One checkpoint = one safetensors file, the same bytes in OPFS/IndexedDB (app) and on disk (CLI).
// Tensors: the parameters (W_enc, b_enc, W_dec, b_dec, log_threshold), BatchTopK's inference threshold
// topk_threshold [1] (SaeWeights.topk_threshold), Adam moments (adam_m.*, adam_v.*) and
// tokens_since_fired, all F32 exactly as the trainer holds them. Everything else that a resume needs
// to continue identically — step, tokens seen, Adam step, L_max, the config, the batcher's
// position/RNG state (opaque JSON from the data layer), the input scaling factor — is JSON in the
// safetensors `__metadata__` under `temposae_checkpoint`. Numbers go through JSON.stringify, which
// round-trips every double exactly.
//
// Streamed (streamCheckpoint; openCheckpoint + restoreCheckpoint): the header first, then one tensor at
// a time read back from the trainer and handed to a ByteSink (an OPFS file, a file descriptor), and on
// restore one tensor at a time read from a ByteReader and written to the GPU. The host holds one tensor,
// not the 12·d·d_sae bytes of weights and Adam moments; the bytes are those of serializeCheckpoint.
import type { TrainConfig } from '../sae/config';
import {
  TOPK_THRESHOLD,
  type SaeTrainerApi,
  type StateTensorInfo,
  type TrainerState,
} from '../sae/trainerApi';
import type { SaeWeights } from '../sae/types';
import { SaeFileError } from './errors';
import {
  concatParts,
  parseSafetensorsHeader,
  readSafetensors,
  safetensorsHeaderBytes,
  safetensorsHeaderLength,
  tensorToFloat32,
  writeSafetensorsParts,
  type SafeEntry,
  type TensorToWrite,
} from './safetensors';

export const CHECKPOINT_FORMAT = 'temposae-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface Checkpoint {
  config: TrainConfig;
  trainer: TrainerState;
  /** The batcher's getState() (JSON-serialisable), so resumed runs see the same batches. */
  data_state: unknown;
  /** Input scaling factor s the run trains with (1 when none). */
  scaling_factor: number;
  /** Any other JSON state the training loop owns (e.g. its own RNG state). */
  extra?: Record<string, unknown>;
  /** ISO time it was written. */
  created_at: string;
}

/** Everything a checkpoint holds besides its tensors (its JSON metadata). */
export type CheckpointMeta = Omit<Checkpoint, 'trainer'> & {
  step: number;
  tokens_seen: number;
  adam_step: number;
  l_max: number | null;
};

/** Where a streamed file goes, part after part. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void> | void;
}

/** Random access to a stored file (an OPFS File, a file descriptor, bytes in memory). */
export interface ByteReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array> | Uint8Array;
}

/** Reads of bytes in memory; each read is a copy (a reader's tensors may be changed by their user). */
export function bytesReader(bytes: Uint8Array): ByteReader {
  return { size: bytes.length, read: (o, n) => bytes.slice(o, o + n) };
}

type Params = Omit<SaeWeights, 'd_in' | 'd_sae'>;
const PARAM_KEYS = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const;

function paramShapes(d: number, m: number): Record<(typeof PARAM_KEYS)[number], number[]> {
  return { W_enc: [d, m], b_enc: [m], W_dec: [m, d], b_dec: [d], log_threshold: [m] };
}

function metadataOf(c: CheckpointMeta, d: number, m: number): Record<string, string> {
  const meta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    d_in: d,
    d_sae: m,
    step: c.step,
    tokens_seen: c.tokens_seen,
    adam_step: c.adam_step,
    l_max: c.l_max,
    config: c.config,
    data_state: c.data_state,
    scaling_factor: c.scaling_factor,
    extra: c.extra ?? {},
    created_at: c.created_at,
  };
  return { temposae_checkpoint: JSON.stringify(meta) };
}

export function serializeCheckpoint(c: Checkpoint): Uint8Array {
  return concatParts(serializeCheckpointParts(c));
}

/** The checkpoint file as parts (header, then views of the state's arrays): no copy of the weights. */
export function serializeCheckpointParts(c: Checkpoint): Uint8Array[] {
  const { weights, adam } = c.trainer;
  const shapes = paramShapes(weights.d_in, weights.d_sae);
  const t: Record<string, TensorToWrite> = {};
  const add = (prefix: string, p: Params) => {
    for (const k of PARAM_KEYS) {
      const a = p[k];
      if (a) t[prefix + k] = { data: a, shape: shapes[k] };
    }
  };
  add('', weights);
  if (weights.topk_threshold !== undefined)
    t[TOPK_THRESHOLD] = { data: Float32Array.of(weights.topk_threshold), shape: [1] };
  add('adam_m.', adam.m);
  add('adam_v.', adam.v);
  t.tokens_since_fired = { data: c.trainer.tokens_since_fired, shape: [weights.d_sae] };
  const meta: CheckpointMeta = {
    config: c.config,
    data_state: c.data_state,
    scaling_factor: c.scaling_factor,
    extra: c.extra,
    created_at: c.created_at,
    step: c.trainer.step,
    tokens_seen: c.trainer.tokens_seen,
    adam_step: adam.step,
    l_max: c.trainer.alpha.l_max,
  };
  return writeSafetensorsParts(t, metadataOf(meta, weights.d_in, weights.d_sae));
}

type Streamable = SaeTrainerApi &
  Required<Pick<SaeTrainerApi, 'stateTensors' | 'readStateTensor' | 'readCounters'>>;

function readsPerTensor(t: SaeTrainerApi): t is Streamable {
  return !!t.stateTensors && !!t.readStateTensor && !!t.readCounters;
}

/**
 * Write the trainer's checkpoint to `sink`: the header, then each state tensor as it comes back from the
 * GPU (a trainer without per-tensor reads gives its whole state at once). Resolves with its step.
 */
export async function streamCheckpoint(
  trainer: SaeTrainerApi,
  base: Omit<Checkpoint, 'trainer'>,
  sink: ByteSink,
): Promise<number> {
  if (!readsPerTensor(trainer)) {
    const state = await trainer.getState();
    for (const p of serializeCheckpointParts({ ...base, trainer: state })) await sink.write(p);
    return state.step;
  }
  const c = await trainer.readCounters();
  const tensors = trainer.stateTensors();
  const meta: CheckpointMeta = { ...base, ...c, adam_step: c.step };
  const specs = tensors.map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape }));
  await sink.write(safetensorsHeaderBytes(specs, metadataOf(meta, trainer.cfg.d_in, trainer.cfg.d_sae)));
  for (const t of tensors) {
    const a = await trainer.readStateTensor(t.name);
    if (a.length !== t.shape.reduce((x, y) => x * y, 1))
      throw new Error(`checkpoint: ${t.name} came back with ${a.length} values, expected [${t.shape}]`);
    await sink.write(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return c.step;
}

/** A checkpoint whose header was read and checked; its tensors are read one at a time. */
export interface OpenedCheckpoint {
  fileName: string;
  meta: CheckpointMeta & { d_in: number; d_sae: number };
  /** The tensors in the file, by name (all F32, shapes checked against d_in/d_sae). */
  tensors: Map<string, StateTensorInfo>;
  readTensor(name: string): Promise<Float32Array>;
}

/** The checked metadata of a checkpoint (every field a resume needs, of the right type). */
function checkpointMetaOf(
  metadata: Record<string, string>,
  fileName: string,
): CheckpointMeta & { d_in: number; d_sae: number } {
  const raw = metadata.temposae_checkpoint;
  if (!raw) throw new SaeFileError(fileName, 'not a TempoSAE checkpoint (no temposae_checkpoint metadata)');
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(raw);
  } catch (e) {
    throw new SaeFileError(fileName, `checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new SaeFileError(fileName, 'not a TempoSAE checkpoint');
  if (typeof meta.version !== 'number' || meta.version > CHECKPOINT_VERSION)
    throw new SaeFileError(
      fileName,
      `checkpoint format ${String(meta.version)} is newer than this TempoSAE reads`,
    );
  const d = meta.d_in as number;
  const m = meta.d_sae as number;
  if (!Number.isSafeInteger(d) || !Number.isSafeInteger(m) || d <= 0 || m <= 0)
    throw new SaeFileError(fileName, 'checkpoint metadata has no valid d_in/d_sae');
  const num = (k: string): number => {
    if (typeof meta[k] !== 'number')
      throw new SaeFileError(fileName, `checkpoint metadata: ${k} is not a number`);
    return meta[k] as number;
  };
  const l_max = meta.l_max;
  if (l_max !== null && typeof l_max !== 'number')
    throw new SaeFileError(fileName, 'checkpoint metadata: l_max');
  return {
    d_in: d,
    d_sae: m,
    config: meta.config as TrainConfig,
    step: num('step'),
    tokens_seen: num('tokens_seen'),
    adam_step: num('adam_step'),
    l_max: l_max as number | null,
    data_state: meta.data_state,
    scaling_factor: num('scaling_factor'),
    extra: (meta.extra as Record<string, unknown>) ?? {},
    created_at: String(meta.created_at ?? ''),
  };
}

/** Every tensor a checkpoint may hold; optional: JumpReLU's log_threshold and its moments, BatchTopK's θ. */
function expectedTensors(d: number, m: number): { name: string; shape: number[]; optional: boolean }[] {
  const shapes = paramShapes(d, m);
  const out: { name: string; shape: number[]; optional: boolean }[] = [];
  for (const prefix of ['', 'adam_m.', 'adam_v.'])
    for (const k of PARAM_KEYS)
      out.push({ name: prefix + k, shape: shapes[k], optional: k === 'log_threshold' });
  out.push({ name: TOPK_THRESHOLD, shape: [1], optional: true });
  out.push({ name: 'tokens_since_fired', shape: [m], optional: false });
  return out;
}

/** The tensors of a checkpoint's header that a resume reads, checked (dtype F32, shapes from d_in/d_sae). */
function checkedTensors(
  entries: Map<string, { dtype: string; shape: number[] }>,
  d: number,
  m: number,
  fileName: string,
): Map<string, StateTensorInfo> {
  const out = new Map<string, StateTensorInfo>();
  for (const want of expectedTensors(d, m)) {
    const t = entries.get(want.name);
    if (!t && want.optional) continue;
    if (!t) throw new SaeFileError(fileName, `tensor ${want.name} is missing`);
    if (t.dtype !== 'F32')
      throw new SaeFileError(fileName, `tensor ${want.name} is ${t.dtype}, checkpoints are F32`);
    if (t.shape.join(',') !== want.shape.join(','))
      throw new SaeFileError(
        fileName,
        `tensor ${want.name} has shape [${t.shape}], expected [${want.shape}]`,
      );
    out.set(want.name, { name: want.name, shape: want.shape });
  }
  return out;
}

function checkpointFrom(
  meta: CheckpointMeta & { d_in: number; d_sae: number },
  read: (name: string) => Float32Array,
  has: (name: string) => boolean,
): Checkpoint {
  const params = (prefix: string): Params => {
    const p: Params = {
      W_enc: read(prefix + 'W_enc'),
      b_enc: read(prefix + 'b_enc'),
      W_dec: read(prefix + 'W_dec'),
      b_dec: read(prefix + 'b_dec'),
    };
    if (has(prefix + 'log_threshold')) p.log_threshold = read(prefix + 'log_threshold');
    return p;
  };
  return {
    config: meta.config,
    trainer: {
      step: meta.step,
      tokens_seen: meta.tokens_seen,
      weights: {
        d_in: meta.d_in,
        d_sae: meta.d_sae,
        ...params(''),
        ...(has(TOPK_THRESHOLD) ? { topk_threshold: read(TOPK_THRESHOLD)[0] } : {}),
      },
      adam: { step: meta.adam_step, m: params('adam_m.'), v: params('adam_v.') },
      alpha: { l_max: meta.l_max },
      tokens_since_fired: read('tokens_since_fired'),
    },
    data_state: meta.data_state,
    scaling_factor: meta.scaling_factor,
    extra: meta.extra ?? {},
    created_at: meta.created_at,
  };
}

export function parseCheckpoint(bytes: Uint8Array, fileName: string): Checkpoint {
  const sf = readSafetensors(bytes, fileName);
  const meta = checkpointMetaOf(sf.metadata, fileName);
  const tensors = checkedTensors(sf.tensors, meta.d_in, meta.d_sae, fileName);
  return checkpointFrom(
    meta,
    (k) => tensorToFloat32(sf.tensors.get(k)!, k, fileName),
    (k) => tensors.has(k),
  );
}

/**
 * Read and check a checkpoint's header from `r` (the 8-byte length, then the JSON; no tensor data), so a
 * bad file is refused before a trainer is built. Its tensors are read later, one at a time.
 */
export async function openCheckpoint(r: ByteReader, fileName: string): Promise<OpenedCheckpoint> {
  const n = safetensorsHeaderLength(await r.read(0, Math.min(8, r.size)), r.size, fileName);
  const h = parseSafetensorsHeader(await r.read(8, n), r.size, fileName);
  const meta = checkpointMetaOf(h.metadata, fileName);
  const byName = new Map<string, SafeEntry>(h.entries.map((e) => [e.name, e]));
  const tensors = checkedTensors(byName, meta.d_in, meta.d_sae, fileName);
  return {
    fileName,
    meta,
    tensors,
    async readTensor(name) {
      const e = byName.get(name);
      if (!e || !tensors.has(name)) throw new SaeFileError(fileName, `tensor ${name} is missing`);
      let bytes = await r.read(h.dataStart + e.begin, e.end - e.begin);
      if (bytes.length !== e.end - e.begin)
        throw new SaeFileError(fileName, `tensor ${name}: read ${bytes.length} of ${e.end - e.begin} bytes`);
      if ((bytes.byteOffset & 3) !== 0) bytes = bytes.slice();
      return tensorToFloat32({ dtype: 'F32', shape: e.shape, bytes }, name, fileName);
    },
  };
}

/** The whole checkpoint in memory (small runs, tests, trainers without per-tensor writes). */
export async function readCheckpoint(ck: OpenedCheckpoint): Promise<Checkpoint> {
  const arrays = new Map<string, Float32Array>();
  for (const name of ck.tensors.keys()) arrays.set(name, await ck.readTensor(name));
  return checkpointFrom(
    ck.meta,
    (k) => arrays.get(k)!,
    (k) => arrays.has(k),
  );
}

/**
 * Fill a trainer built for the checkpoint's config with createTrainer(gpu, cfg, null) from it, one
 * tensor at a time; a trainer without per-tensor writes gets the whole state at once.
 */
export async function restoreCheckpoint(trainer: SaeTrainerApi, ck: OpenedCheckpoint): Promise<void> {
  const { d_in, d_sae } = trainer.cfg;
  if (d_in !== ck.meta.d_in || d_sae !== ck.meta.d_sae)
    throw new SaeFileError(
      ck.fileName,
      `the checkpoint is ${ck.meta.d_in}×${ck.meta.d_sae} but the run is ${d_in}×${d_sae} (d_in × d_sae)`,
    );
  if (!trainer.stateTensors || !trainer.writeStateTensor || !trainer.setCounters) {
    trainer.setState((await readCheckpoint(ck)).trainer);
    return;
  }
  for (const t of trainer.stateTensors()) {
    // A tensor the file lacks keeps the trainer's init (the thresholds of a run that has none).
    if (!ck.tensors.has(t.name)) {
      if (t.name.endsWith('log_threshold') || t.name === TOPK_THRESHOLD) continue;
      throw new SaeFileError(ck.fileName, `tensor ${t.name} is missing`);
    }
    trainer.writeStateTensor(t.name, await ck.readTensor(t.name));
  }
  trainer.setCounters({ step: ck.meta.step, tokens_seen: ck.meta.tokens_seen, l_max: ck.meta.l_max });
}
