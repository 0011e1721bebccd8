// Every GPU buffer the trainer allocates, with its size, computed from the config alone so the memory
// plan can refuse a config before anything is allocated. Shapes in comments (N = S·T rows).
import { tokensPerStep, type TrainConfig } from '../config';
import {
  auxkOn,
  COUNTERS,
  GRAD_PARTS,
  METRIC_FLOATS,
  PARAM_NAMES,
  PARAMS_BYTES,
  STATE_FLOATS,
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

export function bufferSpecs(cfg: TrainConfig): BufferSpec[] {
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
    s('pre', N * m), // [N, m]
    s('f', N * m), // [N, m]
    s('g', N * m), // [N, m] ∂L/∂f then ∂L/∂pre
    s('aux_rows', N), // [N] AuxK ‖ê − e‖² per row (stays 0 without AuxK)
  ];
  if (auxkOn(cfg))
    out.push(
      s('f_aux', N * m), // [N, m] AuxK: chosen dead pre-activations
      s('ehat', N * d), // [N, d] AuxK: ê, then g_ê
    );
  for (const p of PARAM_NAMES) {
    out.push(
      s(p, sizes[p]),
      s(`grad_${p}`, sizes[p]),
      s(`adam_m_${p}`, sizes[p]),
      s(`adam_v_${p}`, sizes[p]),
    );
    // The last good state, restored when a readback finds a non-finite value.
    out.push(s(`snapshot_${p}`, sizes[p]), s(`snapshot_m_${p}`, sizes[p]), s(`snapshot_v_${p}`, sizes[p]));
  }
  out.push(
    s('tokens_since_fired', m),
    s('snapshot_tokens_since_fired', m),
    s('row_stats', N * 4),
    s('state', STATE_FLOATS),
    s('snapshot_state', STATE_FLOATS),
    s('partials', PARAM_NAMES.length * GRAD_PARTS),
    s('counters', COUNTERS),
    s('metrics', METRIC_FLOATS),
    { name: 'params', bytes: PARAMS_BYTES, kind: 'uniform' },
  );
  for (let i = 0; i < STAGING_RING; i++)
    out.push({ name: `staging${i}`, bytes: (METRIC_FLOATS + COUNTERS) * 4, kind: 'staging' });
  return out;
}
