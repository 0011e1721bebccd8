// Host-side mirror of the structs the SAE kernels share: the Params uniform (the same struct is declared
// at the top of every shaders/*.wgsl that takes it), the small `state` and `metrics` buffers and the
// fault bits. Keep field order in sync with the WGSL `struct Params`.
import { architectureOf, EXTRA_PARAMS } from '../architectures';
import type { TrainConfig } from '../config';

export const PARAMS_BYTES = 112;

/** Indices into the `state` buffer (f32): alpha.wgsl writes 0–3, auxk_select.wgsl 4–5. */
export const STATE = { l_max: 0, has_l_max: 1, alpha: 2, l_recon: 3, aux_scale: 4, num_dead: 5 } as const;
export const STATE_FLOATS = 8;

/** Indices into the `metrics` buffer (f32) written by finalize.wgsl. */
export const METRIC = {
  l_recon: 0,
  l_sparse: 1,
  l_temp: 2,
  l_aux: 3,
  loss: 4,
  alpha: 5,
  l_max: 6,
  l0: 7,
  dead_count: 8,
  grad_norm: 9,
} as const;
export const METRIC_FLOATS = 16;

/** `counters` (u32, atomic): [0] dead features this step, [1] non-finite parameter bits (cleared per
 * step), [2] latched fault bits, [3] step of the latched fault. */
export const COUNTERS = 4;

/** Parameters in Adam/partials slot order (and fault-bit order): every SAE's four, then the extra ones. */
export const PARAM_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec', ...EXTRA_PARAMS] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** Partial-sum slots per parameter for the gradient norm (adam.wgsl PARTS). */
export const GRAD_PARTS = 1024;

/** Fault bits latched by finalize.wgsl, in words. */
export function faultTerms(bits: number): string[] {
  const out: string[] = [];
  if (bits & 1) out.push('L_recon');
  if (bits & 2) out.push('L_sparse');
  if (bits & 4) out.push('L_temp');
  if (bits & 8) out.push('grad_norm');
  PARAM_NAMES.forEach((name, i) => {
    if (bits & (1 << (4 + i))) out.push(name);
  });
  return out;
}

/** AuxK runs (TopK; Gao et al. 2024; see shaders/auxk_select.wgsl): the architecture's recipe says when. */
export function auxkOn(cfg: TrainConfig): boolean {
  return architectureOf(cfg).gpu.auxk(cfg);
}

/**
 * The products with f go through the zero-skipping kernels (shaders/topk_spmm.wgsl, topk_masked_nt.wgsl):
 * the architecture's recipe says when (TopK: k ≤ d_sae/8, measured in src/sae/architectures/topk.ts).
 */
export function topkSparse(cfg: TrainConfig): boolean {
  return architectureOf(cfg).gpu.sparseProducts(cfg);
}

/** The parameters a config trains: the four every SAE has, then its architecture's extra ones. */
export function trainedParams(cfg: TrainConfig): ParamName[] {
  const extra: readonly string[] = architectureOf(cfg).extraParams;
  return PARAM_NAMES.filter((p) => !(EXTRA_PARAMS as readonly string[]).includes(p) || extra.includes(p));
}

export interface StepScalars {
  /** Rows of the batch buffers (S·T of the training batch). */
  N: number;
  /** Positions per sequence. */
  T: number;
  /** Valid (non-padding) tokens in the batch; losses are means over these. */
  nValid: number;
  /** Learning rate of this step. */
  lr: number;
  /** 1-based index of the step being taken (Adam bias correction, fault reports). */
  step: number;
}

/** Bytes of the Params uniform for one step (written into `buf` when given, so steps allocate nothing). */
export function packParams(
  cfg: TrainConfig,
  s: StepScalars,
  buf: ArrayBuffer = new ArrayBuffer(PARAMS_BYTES),
): ArrayBuffer {
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  const flags =
    (cfg.recon_loss === 'norm' ? 1 : 0) |
    (cfg.seq_start_mode === 'skip' ? 2 : 0) |
    (cfg.lmax_mode === 'ema' ? 4 : 0) |
    (cfg.alpha_mode === 'relative' ? 8 : 0);
  u[0] = s.N;
  u[1] = s.T;
  u[2] = cfg.d_in;
  u[3] = cfg.d_sae;
  u[4] = cfg.k;
  u[5] = flags;
  f[6] = s.nValid;
  f[7] = s.nValid > 0 ? 1 / s.nValid : 0;
  f[8] = cfg.l1_coefficient;
  f[9] = cfg.temporal_coefficient;
  f[10] = cfg.alpha_beta;
  f[11] = cfg.lmax_momentum;
  f[12] = s.lr;
  f[13] = cfg.adam_beta1;
  f[14] = cfg.adam_beta2;
  f[15] = cfg.adam_eps;
  // Bias corrections in float64 on the CPU, then rounded once.
  f[16] = 1 - Math.pow(cfg.adam_beta1, s.step);
  f[17] = 1 - Math.pow(cfg.adam_beta2, s.step);
  f[18] = cfg.jumprelu_bandwidth;
  f[19] = cfg.dead_feature_window;
  u[20] = s.step;
  f[21] = 1 - cfg.adam_beta1;
  f[22] = 1 - cfg.adam_beta2;
  u[23] = cfg.aux_k;
  f[24] = auxkOn(cfg) ? cfg.aux_k_coefficient : 0;
  return buf;
}

/** Row flags of a batch: bit 0 start(n), bit 1 valid(n). */
export function packRowFlags(start: Uint8Array, valid: Uint8Array, out: Uint32Array): number {
  let nValid = 0;
  for (let n = 0; n < start.length; n++) {
    const v = valid[n] ? 1 : 0;
    out[n] = (start[n] ? 1 : 0) | (v << 1);
    nValid += v;
  }
  out.fill(0, start.length);
  return nValid;
}
