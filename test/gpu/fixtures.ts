// Shared cases for the GPU trainer tests: small configs and batches with doc starts and padding.
import { Rng } from '../../src/data/rng';
import type { ActivationBatch } from '../../src/data/types';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';

/** d = 12, m = 40, S = 3, T = 8 (N = 24): every tile and workgroup has partial edges. */
export function gpuCfg(o: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    d_in: 12,
    d_sae: 40,
    k: 6,
    seqs_per_batch: 3,
    context_size: 8,
    // JumpReLU: θ and ε large enough that some pre-activations fall inside the rectangle kernel.
    jumprelu_init_threshold: 0.3,
    jumprelu_bandwidth: 0.4,
    lr: 1e-2,
    ...o,
  };
}

/**
 * A batch with a planted temporal structure (slowly varying rows) so features persist across tokens,
 * a document start at (1, 4), trailing padding at (2, 6..7) and a padding token at (0, 3) followed by
 * a valid token (an effective start).
 */
export function gpuBatch(cfg: TrainConfig, seed: number, opts: { pads?: boolean } = {}): ActivationBatch {
  const S = cfg.seqs_per_batch;
  const T = cfg.context_size;
  const d = cfg.d_in;
  const rng = new Rng(seed, 21);
  const N = S * T;
  const x = new Float32Array(N * d);
  for (let s = 0; s < S; s++) {
    const base = Float64Array.from({ length: d }, () => rng.normal());
    for (let t = 0; t < T; t++)
      for (let j = 0; j < d; j++) x[(s * T + t) * d + j] = base[j] + 0.5 * rng.normal() + 0.3;
  }
  const start = new Uint8Array(N);
  const valid = new Uint8Array(N).fill(1);
  for (let s = 0; s < S; s++) start[s * T] = 1;
  if (S > 1 && T > 4) start[1 * T + 4] = 1;
  if (opts.pads !== false && S > 2 && T > 7) {
    valid[2 * T + 6] = 0;
    valid[2 * T + 7] = 0;
    valid[0 * T + 3] = 0;
  }
  return { S, T, d, x, start, valid, seqIndex: Int32Array.from({ length: S }, (_, s) => s) };
}
