// How the big matrices are split when one buffer would exceed the adapter's binding limit
// (maxStorageBufferBindingSize / maxBufferSize). Two independent splits, each as coarse as the limit allows:
//   row blocks     of the [N, m] activations (pre, f, g, f_aux): whole sequences, so every per-row kernel
//                  (TopK, AuxK, the temporal term with its n−1/n+1 neighbours) sees complete rows and
//                  complete sequences;
//   feature blocks of the weights: W_enc [d, m] by columns (stored [d, feats]) and W_dec [m, d] by rows,
//                  with their gradients, Adam moments and snapshots.
// The GEMMs address blocks through offsets and leading dimensions (src/gpu/gemm.ts); the per-feature
// kernels accumulate across blocks. With a large limit there is one block of each kind.
import type { TrainConfig } from '../config';

export interface RowBlock {
  row0: number;
  rows: number;
}

export interface FeatBlock {
  feat0: number;
  feats: number;
}

export interface ChunkPlan {
  rowBlocks: RowBlock[];
  featBlocks: FeatBlock[];
}

/** The split for a binding limit in bytes, or a reason why even one sequence / one feature is too big. */
export function planChunks(cfg: TrainConfig, bindLimit: number): ChunkPlan | { error: string } {
  const { d_in: d, d_sae: m, seqs_per_batch: S, context_size: T } = cfg;
  const maxFloats = Math.floor(bindLimit / 4);
  const seqFloats = T * m;
  if (seqFloats > maxFloats)
    return {
      error: `one sequence of feature activations (context_size × d_sae = ${T}×${m}) needs ${seqFloats * 4} bytes`,
    };
  if (d > maxFloats) return { error: `one decoder row (d_in = ${d}) needs ${d * 4} bytes` };
  const seqsPerBlock = Math.min(S, Math.floor(maxFloats / seqFloats));
  const rowBlocks: RowBlock[] = [];
  for (let s = 0; s < S; s += seqsPerBlock)
    rowBlocks.push({ row0: s * T, rows: Math.min(seqsPerBlock, S - s) * T });
  // Keep blocks a multiple of 64 features when splitting (whole GEMM tiles), else as large as allowed.
  let perBlock = Math.min(m, Math.floor(maxFloats / d));
  if (perBlock < m && perBlock >= 64) perBlock -= perBlock % 64;
  const featBlocks: FeatBlock[] = [];
  for (let f = 0; f < m; f += perBlock) featBlocks.push({ feat0: f, feats: Math.min(perBlock, m - f) });
  return { rowBlocks, featBlocks };
}

/** Buffer name of block `i` of a split buffer (`pre#0`, `W_enc#2`, …). */
export function blockName(base: string, i: number): string {
  return `${base}#${i}`;
}
