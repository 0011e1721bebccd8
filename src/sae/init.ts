// The initial weights every run starts from (SPEC §3), shared by the GPU trainer and the CPU reference
// so that both start from bit-identical float32 values.
//
//   W_dec [d_sae, d_in]: row i = g/‖g‖ with g the next d_in standard normals of Rng(seed, RNG_STREAM_INIT),
//                        rows drawn in order 0..d_sae−1 (normalized in float64, then rounded to float32)
//   W_enc [d_in, d_sae]: W_decᵀ (the same float32 values)
//   b_enc [d_sae]:       0
//   b_dec [d_in]:        mean of the first batch's valid tokens (zeros if it has none)
//   log_threshold:       log(jumprelu_init_threshold) per feature, JumpReLU only
import type { ActivationBatch } from '../data/types';
import { Rng } from '../data/rng';
import { architectureOf } from './architectures';
import type { TrainConfig } from './config';
import type { TrainerState } from './trainerApi';
import type { AdamState, SaeWeights } from './types';

/** The Rng stream of weight initialization (other streams: data shuffling, synthetic data, …). */
export const RNG_STREAM_INIT = 1;

export type InitConfig = Pick<
  TrainConfig,
  'architecture' | 'd_in' | 'd_sae' | 'seed' | 'jumprelu_init_threshold'
>;

export function initWeights(cfg: InitConfig, firstBatch: ActivationBatch): SaeWeights {
  const d = cfg.d_in;
  const m = cfg.d_sae;
  if (firstBatch.d !== d)
    throw new Error(`initWeights: the first batch has width ${firstBatch.d}, the config has d_in = ${d}`);
  const rng = new Rng(cfg.seed, RNG_STREAM_INIT);
  const W_dec = new Float32Array(m * d);
  const W_enc = new Float32Array(d * m);
  const row = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) {
      row[j] = rng.normal();
      ss += row[j] * row[j];
    }
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < d; j++) {
      const w = Math.fround(row[j] * inv);
      W_dec[i * d + j] = w;
      W_enc[j * m + i] = w;
    }
  }
  const b_dec = new Float32Array(d);
  const sum = new Float64Array(d);
  let count = 0;
  const N = firstBatch.S * firstBatch.T;
  for (let n = 0; n < N; n++) {
    if (!firstBatch.valid[n]) continue;
    count++;
    for (let j = 0; j < d; j++) sum[j] += firstBatch.x[n * d + j];
  }
  if (count > 0) for (let j = 0; j < d; j++) b_dec[j] = sum[j] / count;
  const w: SaeWeights = { d_in: d, d_sae: m, W_enc, b_enc: new Float32Array(m), W_dec, b_dec };
  const extra = architectureOf(cfg).initExtra(cfg);
  for (const p of architectureOf(cfg).extraParams) w[p] = new Float32Array(m).fill(extra[p]!);
  return w;
}

/** Zero Adam moments shaped like `w` (step 0). */
export function zeroAdam(w: SaeWeights): AdamState {
  const zeros = () => ({
    W_enc: new Float32Array(w.W_enc.length),
    b_enc: new Float32Array(w.b_enc.length),
    W_dec: new Float32Array(w.W_dec.length),
    b_dec: new Float32Array(w.b_dec.length),
    ...(w.log_threshold ? { log_threshold: new Float32Array(w.log_threshold.length) } : {}),
  });
  return { step: 0, m: zeros(), v: zeros() };
}

/** The state of a run before its first step: these weights, zero Adam moments, no L_max yet. */
export function initialTrainerState(w: SaeWeights): TrainerState {
  return {
    step: 0,
    tokens_seen: 0,
    weights: w,
    adam: zeroAdam(w),
    alpha: { l_max: null },
    tokens_since_fired: new Float32Array(w.d_sae),
  };
}
