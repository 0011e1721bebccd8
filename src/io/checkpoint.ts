// One checkpoint = one safetensors file, the same bytes in OPFS/IndexedDB (app) and on disk (CLI).
// Tensors: the parameters (W_enc, b_enc, W_dec, b_dec, log_threshold), Adam moments (adam_m.*, adam_v.*)
// and tokens_since_fired, all F32 exactly as the trainer holds them. Everything else that a resume
// needs to continue identically — step, tokens seen, Adam step, L_max, the config, the batcher's
// position/RNG state (opaque JSON from the data layer), the input scaling factor — is JSON in the
// safetensors `__metadata__` under `temposae_checkpoint`. Numbers go through JSON.stringify, which
// round-trips every double exactly.
import type { TrainConfig } from '../sae/config';
import type { TrainerState } from '../sae/trainerApi';
import type { SaeWeights } from '../sae/types';
import { SaeFileError } from './errors';
import {
  concatParts,
  readSafetensors,
  tensorToFloat32,
  writeSafetensorsParts,
  type SafeFile,
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

type Params = Omit<SaeWeights, 'd_in' | 'd_sae'>;
const PARAM_KEYS = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const;

function paramShapes(d: number, m: number): Record<(typeof PARAM_KEYS)[number], number[]> {
  return { W_enc: [d, m], b_enc: [m], W_dec: [m, d], b_dec: [d], log_threshold: [m] };
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
  add('adam_m.', adam.m);
  add('adam_v.', adam.v);
  t.tokens_since_fired = { data: c.trainer.tokens_since_fired, shape: [weights.d_sae] };
  const meta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    d_in: weights.d_in,
    d_sae: weights.d_sae,
    step: c.trainer.step,
    tokens_seen: c.trainer.tokens_seen,
    adam_step: adam.step,
    l_max: c.trainer.alpha.l_max,
    config: c.config,
    data_state: c.data_state,
    scaling_factor: c.scaling_factor,
    extra: c.extra ?? {},
    created_at: c.created_at,
  };
  return writeSafetensorsParts(t, { temposae_checkpoint: JSON.stringify(meta) });
}

export function parseCheckpoint(bytes: Uint8Array, fileName: string): Checkpoint {
  const sf: SafeFile = readSafetensors(bytes, fileName);
  const raw = sf.metadata.temposae_checkpoint;
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
  const shapes = paramShapes(d, m);
  const get = (key: string, shape: number[]): Float32Array => {
    const t = sf.tensors.get(key);
    if (!t) throw new SaeFileError(fileName, `tensor ${key} is missing`);
    if (t.dtype !== 'F32')
      throw new SaeFileError(fileName, `tensor ${key} is ${t.dtype}, checkpoints are F32`);
    if (t.shape.join(',') !== shape.join(','))
      throw new SaeFileError(fileName, `tensor ${key} has shape [${t.shape}], expected [${shape}]`);
    return tensorToFloat32(t, key, fileName);
  };
  const params = (prefix: string): Params => {
    const p: Params = {
      W_enc: get(prefix + 'W_enc', shapes.W_enc),
      b_enc: get(prefix + 'b_enc', shapes.b_enc),
      W_dec: get(prefix + 'W_dec', shapes.W_dec),
      b_dec: get(prefix + 'b_dec', shapes.b_dec),
    };
    if (sf.tensors.has(prefix + 'log_threshold'))
      p.log_threshold = get(prefix + 'log_threshold', shapes.log_threshold);
    return p;
  };
  const num = (k: string): number => {
    if (typeof meta[k] !== 'number')
      throw new SaeFileError(fileName, `checkpoint metadata: ${k} is not a number`);
    return meta[k] as number;
  };
  const l_max = meta.l_max;
  if (l_max !== null && typeof l_max !== 'number')
    throw new SaeFileError(fileName, 'checkpoint metadata: l_max');
  return {
    config: meta.config as TrainConfig,
    trainer: {
      step: num('step'),
      tokens_seen: num('tokens_seen'),
      weights: { d_in: d, d_sae: m, ...params('') },
      adam: { step: num('adam_step'), m: params('adam_m.'), v: params('adam_v.') },
      alpha: { l_max: l_max as number | null },
      tokens_since_fired: get('tokens_since_fired', [m]),
    },
    data_state: meta.data_state,
    scaling_factor: num('scaling_factor'),
    extra: (meta.extra as Record<string, unknown>) ?? {},
    created_at: String(meta.created_at ?? ''),
  };
}
