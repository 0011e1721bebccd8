// Host-side layout of what the SAE kernels share: the Params uniform (PARAMS_FIELDS generates both its
// WGSL struct and its packer), the small `state` and `metrics` buffers and the fault bits.
import { architectureOf, EXTRA_PARAMS } from '../architectures';
import type { TrainConfig } from '../config';

/**
 * Indices into the `state` buffer (f32): alpha.wgsl writes 0–3, auxk_select.wgsl 4–5, batchtopk_cut.wgsl
 * 6 (BatchTopK's inference threshold θ, trainer state: snapshotted, checkpointed; shaders/lib_batchtopk.wgsl).
 */
export const STATE = {
  l_max: 0,
  has_l_max: 1,
  alpha: 2,
  l_recon: 3,
  aux_scale: 4,
  num_dead: 5,
  topk_threshold: 6,
} as const;
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
  /** Matryoshka: L_mat = Σ_g c_g·L_g (0 for other architectures). */
  l_mat: 10,
  /** T-SAE: the InfoNCE loss L_nce, without its coefficient (0 otherwise). */
  l_nce: 11,
  /** Matryoshka: L_g of prefix g at prefix_recon + g, g < 8 (the kernels' MAX_GROUPS). */
  prefix_recon: 16,
} as const;
export const METRIC_FLOATS = 24;

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

interface ParamsField {
  name: string;
  type: 'u32' | 'f32';
  /** The comment on the WGSL field. */
  doc: string;
  value(c: TrainConfig, s: StepScalars): number;
}

const modeFlags = (c: TrainConfig) =>
  (c.recon_loss === 'norm' ? 1 : 0) |
  (c.seq_start_mode === 'skip' ? 2 : 0) |
  (c.lmax_mode === 'ema' ? 4 : 0) |
  (c.alpha_mode === 'relative' ? 8 : 0);

/**
 * The Params uniform every SAE kernel reads (`p.<name>`), one row per field in memory order: both the
 * WGSL struct (paramsStructWgsl, put in front of each kernel by withSaeStructs) and the host packer
 * (packParams) are generated from this table, so they cannot drift apart.
 */
export const PARAMS_FIELDS: readonly ParamsField[] = [
  { name: 'N', type: 'u32', doc: 'rows in the batch, S·T', value: (_, s) => s.N },
  { name: 'T', type: 'u32', doc: 'positions per sequence', value: (_, s) => s.T },
  { name: 'd', type: 'u32', doc: 'd_in', value: (c) => c.d_in },
  { name: 'm', type: 'u32', doc: 'd_sae', value: (c) => c.d_sae },
  { name: 'k', type: 'u32', doc: 'TopK: active features per row', value: (c) => c.k },
  {
    name: 'flags',
    type: 'u32',
    doc: "bit 0 recon 'norm', bit 1 seq_start 'skip', bit 2 lmax 'ema', bit 3 alpha 'relative'",
    value: modeFlags,
  },
  { name: 'n_valid', type: 'f32', doc: 'valid (non-padding) tokens in the batch', value: (_, s) => s.nValid },
  {
    name: 'inv_n',
    type: 'f32',
    doc: '1 / n_valid: every loss is a mean over valid tokens',
    value: (_, s) => (s.nValid > 0 ? 1 / s.nValid : 0),
  },
  { name: 'lambda1', type: 'f32', doc: 'l1_coefficient', value: (c) => c.l1_coefficient },
  { name: 'lambda2', type: 'f32', doc: 'temporal_coefficient', value: (c) => c.temporal_coefficient },
  { name: 'alpha_beta', type: 'f32', doc: 'β of α = σ(β·gap)', value: (c) => c.alpha_beta },
  { name: 'lmax_momentum', type: 'f32', doc: 'μ', value: (c) => c.lmax_momentum },
  { name: 'lr', type: 'f32', doc: 'learning rate of this step (lrAt on the CPU)', value: (_, s) => s.lr },
  { name: 'adam_beta1', type: 'f32', doc: 'β1', value: (c) => c.adam_beta1 },
  { name: 'adam_beta2', type: 'f32', doc: 'β2', value: (c) => c.adam_beta2 },
  { name: 'adam_eps', type: 'f32', doc: 'ε', value: (c) => c.adam_eps },
  // Bias corrections in float64 on the CPU, then rounded once.
  {
    name: 'bc1',
    type: 'f32',
    doc: '1 − β1^t, Adam bias correction of this step',
    value: (c, s) => 1 - Math.pow(c.adam_beta1, s.step),
  },
  { name: 'bc2', type: 'f32', doc: '1 − β2^t', value: (c, s) => 1 - Math.pow(c.adam_beta2, s.step) },
  { name: 'jr_bandwidth', type: 'f32', doc: 'JumpReLU ε', value: (c) => c.jumprelu_bandwidth },
  {
    name: 'dead_window',
    type: 'f32',
    doc: 'dead_feature_window in tokens',
    value: (c) => c.dead_feature_window,
  },
  {
    name: 'step',
    type: 'u32',
    doc: '1-based index of this step (recorded with a fault)',
    value: (_, s) => s.step,
  },
  {
    name: 'adam_one_minus_beta1',
    type: 'f32',
    doc: '1 − β1 computed in float64 (f32(1) − f32(β2) is off by 1e-5 relative)',
    value: (c) => 1 - c.adam_beta1,
  },
  { name: 'adam_one_minus_beta2', type: 'f32', doc: '1 − β2', value: (c) => 1 - c.adam_beta2 },
  {
    name: 'aux_k',
    type: 'u32',
    doc: 'TopK AuxK: dead features used to reconstruct the residual',
    value: (c) => c.aux_k,
  },
  {
    name: 'aux_k_coefficient',
    type: 'f32',
    doc: 'TopK AuxK coefficient (0: off)',
    value: (c) => (auxkOn(c) ? c.aux_k_coefficient : 0),
  },
  {
    name: 'topk_threshold_lr',
    type: 'f32',
    doc: 'BatchTopK: rate of the inference threshold θ moving average',
    value: (c) => c.topk_threshold_lr,
  },
];

/** Words of the uniform: the fields, padded to a multiple of 16 bytes (WGSL uniform buffer rule). */
const PARAMS_WORDS = Math.ceil(PARAMS_FIELDS.length / 4) * 4;
export const PARAMS_BYTES = PARAMS_WORDS * 4;

/** The WGSL `struct Params` of PARAMS_FIELDS (padding fields _p0, _p1, … at the end). */
export function paramsStructWgsl(): string {
  const width = Math.max(...PARAMS_FIELDS.map((f) => f.name.length + f.type.length + 3));
  const lines = PARAMS_FIELDS.map((f) => `  ${`${f.name}: ${f.type},`.padEnd(width)} // ${f.doc}`);
  for (let i = PARAMS_FIELDS.length; i < PARAMS_WORDS; i++)
    lines.push(`  _p${i - PARAMS_FIELDS.length}: u32,`);
  return [
    '// Generated from PARAMS_FIELDS (src/sae/gpu/layout.ts), the same table packParams writes from.',
    'struct Params {',
    ...lines,
    '}',
  ].join('\n');
}

/** Bytes of the Params uniform for one step (written into `buf` when given, so steps allocate nothing). */
export function packParams(
  cfg: TrainConfig,
  s: StepScalars,
  buf: ArrayBuffer = new ArrayBuffer(PARAMS_BYTES),
): ArrayBuffer {
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  PARAMS_FIELDS.forEach((field, i) => {
    if (field.type === 'u32') u[i] = field.value(cfg, s);
    else f[i] = field.value(cfg, s);
  });
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
