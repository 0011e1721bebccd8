// Every GPU buffer the trainer allocates, as a typed set (SaeBufferSet: one field per role, blocks as
// arrays), with its size computed from the config and the chunk plan alone so the memory plan can refuse
// a config before anything is allocated. Shapes in comments (N = S·T rows; a split buffer's blocks are
// labelled `base#i`, see chunks.ts).
import { architectureOf } from '../architectures';
import { tokensPerStep, type TrainConfig } from '../config';
import { blockName, type ChunkPlan } from './chunks';
import {
  auxkOn,
  COUNTERS,
  GRAD_PARTS,
  METRIC_FLOATS,
  PARAM_NAMES,
  PARAMS_BYTES,
  type ParamName,
  STATE_FLOATS,
  trainedParams,
} from './layout';

export interface BufferSpec {
  name: string;
  bytes: number;
  kind: 'storage' | 'uniform' | 'staging';
}

export const STAGING_RING = 2;

/** Bytes of the method kernels' uniforms (struct Mat and struct Nce, shaders/method_common.wgsl). */
export const MAT_UNIFORM_BYTES = 96;
export const NCE_UNIFORM_BYTES = 32;

export function paramSizes(cfg: TrainConfig): Record<ParamName, number> {
  const d = cfg.d_in;
  const m = cfg.d_sae;
  return { W_enc: d * m, b_enc: m, W_dec: m * d, b_dec: d, log_threshold: m };
}

export interface AdamDispatch {
  /** Label of the parameter block (`W_enc#0`, `b_enc`, …), the parameter and the block's index in it. */
  name: string;
  param: ParamName;
  block: number;
  count: number;
  /** Workgroups (≤ GRAD_PARTS), each writing one gradient-norm partial sum at partials[base + wid]. */
  workgroups: number;
  base: number;
}

/** One Adam dispatch per parameter block, with its slice of the partial-sum buffer. */
export function adamDispatches(cfg: TrainConfig, chunks: ChunkPlan): AdamDispatch[] {
  const sizes = paramSizes(cfg);
  const out: AdamDispatch[] = [];
  let base = 0;
  const add = (name: string, param: ParamName, count: number, block = 0) => {
    const workgroups = Math.min(GRAD_PARTS, Math.ceil(count / 256));
    out.push({ name, param, block, count, workgroups, base });
    base += workgroups;
  };
  for (const p of trainedParams(cfg)) {
    if (p === 'W_enc' || p === 'W_dec')
      chunks.featBlocks.forEach((f, i) => add(blockName(p, i), p, f.feats * cfg.d_in, i));
    else add(p, p, sizes[p]);
  }
  return out;
}

/** Value, gradient, Adam moments and last good copies (divergence restore) of one parameter: one buffer
 * per feature block for W_enc (by columns) and W_dec (by rows), one for the others. */
export interface ParamSet<B> {
  value: B[];
  grad: B[];
  adam_m: B[];
  adam_v: B[];
  /** The last good copies of value, m and v (null without divergence snapshots). */
  snapshot: B[] | null;
  snapshot_m: B[] | null;
  snapshot_v: B[] | null;
}

/**
 * Every buffer of the trainer by role, typed: `B` is BufferSpec for the plan (sizes only) and GPUBuffer
 * once allocated (saeBuffers.ts maps one to the other, keeping the shape). Shapes with N = S·T rows:
 */
export interface SaeBufferSet<B> {
  x: B; // [N, d] batch
  rowflags: B; // [N] start/valid bits
  xc: B; // [N, d] x − b_dec
  xhat: B; // [N, d]
  g_xhat: B; // [N, d] ∂L/∂x̂
  aux_rows: B; // [N] AuxK ‖ê − e‖² per row (stays 0 without AuxK)
  /** [rows, m] per row block: pre-activations, features, ∂L/∂f then ∂L/∂pre, AuxK's chosen dead pre. */
  pre: B[];
  f: B[];
  g: B[];
  f_aux: B[] | null;
  ehat: B | null; // [N, d] AuxK: ê, then g_ê
  /** BatchTopK selection (GpuRecipe.activation 'batchtopk'; shaders/batchtopk_*.wgsl): select state
   * [8] u32 (shaders/lib_batchtopk.wgsl), the radix histogram [256] u32, ties at v* per row [N] u32. */
  btk: { sel: B; hist: B; row_ties: B } | null;
  /**
   * Matryoshka (GpuRecipe.matryoshka; shaders/matryoshka_*.wgsl): prefix residuals R and their cumulative
   * gradients C [G, N, d] each, per-prefix row losses [G, N], the Mat uniform (written per batch).
   */
  mat: { resid: B; cgrad: B; row_loss: B; params: B } | null;
  /**
   * T-SAE InfoNCE (GpuRecipe.contrastive; shaders/infonce_*.wgsl), sized for P ≤ N pairs: pair rows
   * [2N] u32 and each row's pair per role [2N] u32 (both written per batch), code norms [2N], logits
   * [N, N], log-sum-exps [2N], the logits' gradient G [N, N], the loss [1], ∂ of the codes [2, N, H],
   * the Nce uniform.
   */
  nce: {
    pairs: B;
    role: B;
    norms: B;
    logits: B;
    lse: B;
    gmat: B;
    loss: B;
    g_code: B;
    params: B;
  } | null;
  param: Record<ParamName, ParamSet<B>>;
  tokens_since_fired: B; // [m]
  row_stats: B; // [N, 4]
  state: B; // [STATE_FLOATS] L_max, α, AuxK scale (layout.ts STATE)
  partials: B; // gradient-norm partial sums, one per Adam workgroup
  counters: B; // [COUNTERS] u32
  metrics: B; // [METRIC_FLOATS]
  uniform: B; // the Params uniform
  /** The last good copies of tokens_since_fired and state (null without divergence snapshots). */
  snapshot: { tokens_since_fired: B; state: B } | null;
  /** Readback ring for the metrics. */
  staging: B[];
}

/** The typed buffer set of a config, sizes only (nothing allocated); names label the GPU buffers. */
export function saeBufferLayout(
  cfg: TrainConfig,
  chunks: ChunkPlan,
  snapshots = true,
): SaeBufferSet<BufferSpec> {
  const N = tokensPerStep(cfg);
  const d = cfg.d_in;
  const m = cfg.d_sae;
  const s = (name: string, floats: number): BufferSpec => ({ name, bytes: floats * 4, kind: 'storage' });
  const sizes = paramSizes(cfg);
  const aux = auxkOn(cfg);
  const matPlan = architectureOf(cfg).gpu.matryoshka?.(cfg) ?? null;
  const ncePlan = architectureOf(cfg).gpu.contrastive?.(cfg) ?? null;
  const rows = (base: string) => chunks.rowBlocks.map((b, i) => s(blockName(base, i), b.rows * m));
  const paramBufs = (p: ParamName, prefix: string) =>
    p === 'W_enc' || p === 'W_dec'
      ? chunks.featBlocks.map((b, i) => s(blockName(`${prefix}${p}`, i), b.feats * d))
      : [s(`${prefix}${p}`, sizes[p])];
  const paramSet = (p: ParamName): ParamSet<BufferSpec> => ({
    value: paramBufs(p, ''),
    grad: paramBufs(p, 'grad_'),
    adam_m: paramBufs(p, 'adam_m_'),
    adam_v: paramBufs(p, 'adam_v_'),
    snapshot: snapshots ? paramBufs(p, 'snapshot_') : null,
    snapshot_m: snapshots ? paramBufs(p, 'snapshot_m_') : null,
    snapshot_v: snapshots ? paramBufs(p, 'snapshot_v_') : null,
  });
  return {
    x: s('x', N * d),
    rowflags: s('rowflags', N),
    xc: s('xc', N * d),
    xhat: s('xhat', N * d),
    g_xhat: s('g_xhat', N * d),
    aux_rows: s('aux_rows', N),
    pre: rows('pre'),
    f: rows('f'),
    g: rows('g'),
    f_aux: aux ? rows('f_aux') : null,
    ehat: aux ? s('ehat', N * d) : null,
    btk:
      architectureOf(cfg).gpu.activation === 'batchtopk'
        ? { sel: s('btk_sel', 8), hist: s('btk_hist', 256), row_ties: s('btk_row_ties', N) }
        : null,
    mat: matPlan
      ? {
          resid: s('mat_resid', matPlan.ends.length * N * d),
          cgrad: s('mat_cgrad', matPlan.ends.length * N * d),
          row_loss: s('mat_row_loss', matPlan.ends.length * N),
          params: { name: 'mat_params', bytes: MAT_UNIFORM_BYTES, kind: 'uniform' },
        }
      : null,
    nce: ncePlan
      ? {
          pairs: s('nce_pairs', 2 * N),
          role: s('nce_role', 2 * N),
          norms: s('nce_norms', 2 * N),
          logits: s('nce_logits', N * N),
          lse: s('nce_lse', 2 * N),
          gmat: s('nce_gmat', N * N),
          loss: s('nce_loss', 1),
          g_code: s('nce_g_code', 2 * N * ncePlan.H),
          params: { name: 'nce_params', bytes: NCE_UNIFORM_BYTES, kind: 'uniform' },
        }
      : null,
    param: Object.fromEntries(PARAM_NAMES.map((p) => [p, paramSet(p)])) as Record<
      ParamName,
      ParamSet<BufferSpec>
    >,
    tokens_since_fired: s('tokens_since_fired', m),
    row_stats: s('row_stats', N * 4),
    state: s('state', STATE_FLOATS),
    partials: s(
      'partials',
      adamDispatches(cfg, chunks).reduce((a, x) => a + x.workgroups, 0),
    ),
    counters: s('counters', COUNTERS),
    metrics: s('metrics', METRIC_FLOATS),
    uniform: { name: 'params', bytes: PARAMS_BYTES, kind: 'uniform' },
    snapshot: snapshots
      ? { tokens_since_fired: s('snapshot_tokens_since_fired', m), state: s('snapshot_state', STATE_FLOATS) }
      : null,
    staging: Array.from({ length: STAGING_RING }, (_, i) => ({
      name: `staging${i}`,
      bytes: (METRIC_FLOATS + COUNTERS) * 4,
      kind: 'staging' as const,
    })),
  };
}

const isSpec = (v: unknown): v is BufferSpec =>
  typeof v === 'object' && v !== null && 'bytes' in v && 'kind' in v && 'name' in v;

/** Every buffer of a planned set, in a fixed order (the set's fields, blocks in order). */
export function setLeaves(set: SaeBufferSet<BufferSpec>): BufferSpec[] {
  const out: BufferSpec[] = [];
  const walk = (v: unknown): void => {
    if (v === null) return;
    if (isSpec(v)) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else Object.values(v as object).forEach(walk);
  };
  walk(set);
  return out;
}

/** The same set with every planned buffer replaced by `fn(spec)` (allocation keeps the set's shape). */
export function mapSet<B>(set: SaeBufferSet<BufferSpec>, fn: (s: BufferSpec) => B): SaeBufferSet<B> {
  const map = (v: unknown): unknown => {
    if (v === null) return null;
    if (isSpec(v)) return fn(v);
    if (Array.isArray(v)) return v.map(map);
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, map(x)]));
  };
  return map(set) as SaeBufferSet<B>;
}

/** Every buffer the trainer allocates, flat (the memory plan's input). */
export function bufferSpecs(cfg: TrainConfig, chunks: ChunkPlan, snapshots = true): BufferSpec[] {
  return setLeaves(saeBufferLayout(cfg, chunks, snapshots));
}
