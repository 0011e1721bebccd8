// Every GPU buffer the trainer allocates, with its size, computed from the config and the chunk plan
// alone so the memory plan can refuse a config before anything is allocated. Shapes in comments
// (N = S·T rows; split buffers are named `base#i`, see chunks.ts).
import { tokensPerStep, type TrainConfig } from '../config';
import { blockName, PARAM_PREFIXES, type ChunkPlan } from './chunks';
import {
  auxkOn,
  COUNTERS,
  GRAD_PARTS,
  METRIC_FLOATS,
  PARAM_NAMES,
  PARAMS_BYTES,
  STATE_FLOATS,
  trainedParams,
} from './layout';

export interface BufferSpec {
  name: string;
  bytes: number;
  kind: 'storage' | 'uniform' | 'staging';
}

export const STAGING_RING = 2;

export function paramSizes(cfg: TrainConfig): Record<(typeof PARAM_NAMES)[number], number> {
  const d = cfg.d_in;
  const m = cfg.d_sae;
  return { W_enc: d * m, b_enc: m, W_dec: m * d, b_dec: d, log_threshold: m };
}

export interface AdamDispatch {
  /** Buffer name of the parameter block (`W_enc#0`, `b_enc`, …) and the parameter it belongs to. */
  name: string;
  param: (typeof PARAM_NAMES)[number];
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
  const add = (name: string, param: AdamDispatch['param'], count: number) => {
    const workgroups = Math.min(GRAD_PARTS, Math.ceil(count / 256));
    out.push({ name, param, count, workgroups, base });
    base += workgroups;
  };
  for (const p of trainedParams(cfg)) {
    if (p === 'W_enc' || p === 'W_dec')
      chunks.featBlocks.forEach((f, i) => add(blockName(p, i), p, f.feats * cfg.d_in));
    else add(p, p, sizes[p]);
  }
  return out;
}

/** `snapshots`: keep a GPU copy of weights + Adam state for divergence restore (one more copy of both). */
export function bufferSpecs(cfg: TrainConfig, chunks: ChunkPlan, snapshots = true): BufferSpec[] {
  const N = tokensPerStep(cfg);
  const d = cfg.d_in;
  const m = cfg.d_sae;
  const s = (name: string, floats: number): BufferSpec => ({ name, bytes: floats * 4, kind: 'storage' });
  const sizes = paramSizes(cfg);
  const out: BufferSpec[] = [
    s('x', N * d), // [N, d] batch
    s('rowflags', N), // [N] start/valid bits
    s('xc', N * d), // [N, d] x − b_dec
    s('xhat', N * d), // [N, d]
    s('g_xhat', N * d), // [N, d] ∂L/∂x̂
    s('aux_rows', N), // [N] AuxK ‖ê − e‖² per row (stays 0 without AuxK)
  ];
  const rowSplit = ['pre', 'f', 'g', ...(auxkOn(cfg) ? ['f_aux'] : [])];
  // [rows, m] blocks: pre-activations, features, ∂L/∂f then ∂L/∂pre, AuxK's chosen dead pre.
  for (const base of rowSplit)
    chunks.rowBlocks.forEach((b, i) => out.push(s(blockName(base, i), b.rows * m)));
  if (auxkOn(cfg)) out.push(s('ehat', N * d)); // [N, d] AuxK: ê, then g_ê
  for (const p of PARAM_NAMES)
    for (const prefix of PARAM_PREFIXES) {
      if (!snapshots && prefix.startsWith('snapshot')) continue;
      // Value, gradient, Adam m and v, and the last good copies of value, m and v (divergence restore).
      if (p === 'W_enc' || p === 'W_dec')
        chunks.featBlocks.forEach((b, i) => out.push(s(blockName(`${prefix}${p}`, i), b.feats * d)));
      else out.push(s(`${prefix}${p}`, sizes[p]));
    }
  out.push(
    s('tokens_since_fired', m),
    s('row_stats', N * 4),
    s('state', STATE_FLOATS),
    s(
      'partials',
      adamDispatches(cfg, chunks).reduce((a, x) => a + x.workgroups, 0),
    ),
    s('counters', COUNTERS),
    s('metrics', METRIC_FLOATS),
    { name: 'params', bytes: PARAMS_BYTES, kind: 'uniform' },
  );
  if (snapshots) out.push(s('snapshot_tokens_since_fired', m), s('snapshot_state', STATE_FLOATS));
  for (let i = 0; i < STAGING_RING; i++)
    out.push({ name: `staging${i}`, bytes: (METRIC_FLOATS + COUNTERS) * 4, kind: 'staging' });
  return out;
}
