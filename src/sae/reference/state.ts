// Float64 mirrors of the trainer's plain data (src/sae/types.ts, src/sae/trainerApi.ts) and converters.
// The reference computes in float64 so that it is an oracle for the float32 GPU trainer: its own
// rounding error is ~1e-16 relative, far below any tolerance a float32 comparison needs.
import type { TrainerState } from '../trainerApi';
import type { AdamState, SaeWeights } from '../types';

/** The trainable parameters, float64, same row-major shapes as SaeWeights. */
export interface RefParams {
  W_enc: Float64Array; // [d_in, d_sae]
  b_enc: Float64Array; // [d_sae]
  W_dec: Float64Array; // [d_sae, d_in]
  b_dec: Float64Array; // [d_in]
  /** JumpReLU only: log θ [d_sae]. */
  log_threshold?: Float64Array;
}

export interface RefWeights extends RefParams {
  d_in: number;
  d_sae: number;
  /** BatchTopK family: the inference threshold θ (SaeWeights.topk_threshold; trainer state, not trained). */
  topk_threshold?: number;
}

export interface RefAdam {
  /** Updates done so far (the next update uses bias correction with t = step + 1). */
  step: number;
  m: RefParams;
  v: RefParams;
}

/** Mirrors TrainerState with float64 arrays. */
export interface RefState {
  step: number;
  tokens_seen: number;
  weights: RefWeights;
  adam: RefAdam;
  alpha: { l_max: number | null };
  /** [d_sae] valid tokens since each feature last fired. */
  tokens_since_fired: Float64Array;
}

export const PARAM_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

type AnyParams = Partial<Record<ParamName, ArrayLike<number>>>;

function mapParams<A extends AnyParams, R>(p: A, f: (a: ArrayLike<number>) => R): Record<string, R> {
  const out: Record<string, R> = {};
  for (const k of PARAM_NAMES) {
    const a = p[k];
    if (a) out[k] = f(a);
  }
  return out;
}

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

export function paramsToF64(p: Omit<SaeWeights, 'd_in' | 'd_sae'>): RefParams {
  return mapParams(p, f64) as unknown as RefParams;
}

export function paramsToF32(p: RefParams): Omit<SaeWeights, 'd_in' | 'd_sae'> {
  return mapParams(p, f32) as unknown as Omit<SaeWeights, 'd_in' | 'd_sae'>;
}

/** Deep copy of float64 parameters. */
export function cloneParams(p: RefParams): RefParams {
  return mapParams(p, (a) => Float64Array.from(a)) as unknown as RefParams;
}

/** Zeros shaped like `p`. */
export function zerosLike(p: RefParams): RefParams {
  return mapParams(p, (a) => new Float64Array(a.length)) as unknown as RefParams;
}

const theta = (t: number | undefined) => (t === undefined ? {} : { topk_threshold: t });

export function refWeightsFromSae(w: SaeWeights): RefWeights {
  return { d_in: w.d_in, d_sae: w.d_sae, ...paramsToF64(w), ...theta(w.topk_threshold) };
}

export function saeWeightsFromRef(w: RefWeights): SaeWeights {
  const t = w.topk_threshold;
  return { d_in: w.d_in, d_sae: w.d_sae, ...paramsToF32(w), ...theta(t === undefined ? t : Math.fround(t)) };
}

export function refStateFromTrainer(s: TrainerState): RefState {
  return {
    step: s.step,
    tokens_seen: s.tokens_seen,
    weights: refWeightsFromSae(s.weights),
    adam: { step: s.adam.step, m: paramsToF64(s.adam.m), v: paramsToF64(s.adam.v) },
    alpha: { l_max: s.alpha.l_max },
    tokens_since_fired: Float64Array.from(s.tokens_since_fired),
  };
}

export function trainerStateFromRef(s: RefState): TrainerState {
  const adam: AdamState = { step: s.adam.step, m: paramsToF32(s.adam.m), v: paramsToF32(s.adam.v) };
  return {
    step: s.step,
    tokens_seen: s.tokens_seen,
    weights: saeWeightsFromRef(s.weights),
    adam,
    alpha: { l_max: s.alpha.l_max },
    tokens_since_fired: Float32Array.from(s.tokens_since_fired),
  };
}

/** The state before the first step: these weights (e.g. from initWeights), zero moments, no L_max. */
export function initRefState(w: SaeWeights): RefState {
  const weights = refWeightsFromSae(w);
  return {
    step: 0,
    tokens_seen: 0,
    weights,
    adam: { step: 0, m: zerosLike(weights), v: zerosLike(weights) },
    alpha: { l_max: null },
    tokens_since_fired: new Float64Array(w.d_sae),
  };
}
