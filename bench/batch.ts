// Seeded activation batches for the bench (SPEC §2 layout: S sequences × T positions, row n = s·T + t).
// Timing does not depend on the values, but the peer-vs-reference loss test does, so the data is
// drawn from the repo's seeded RNG and has sequence starts at t = 0 plus one document start per row.
import { Rng } from '../src/data/rng';
import type { ActivationBatch } from '../src/data/types';

export function benchBatch(S: number, T: number, d: number, seed: number): ActivationBatch {
  const rng = new Rng(seed, 7);
  const N = S * T;
  const x = new Float32Array(N * d);
  // A slowly drifting mean per sequence gives adjacent tokens correlated activations, like real ones.
  for (let s = 0; s < S; s++) {
    const mean = Float32Array.from({ length: d }, () => rng.normal());
    for (let t = 0; t < T; t++) {
      const row = (s * T + t) * d;
      for (let j = 0; j < d; j++) {
        mean[j] = 0.95 * mean[j] + 0.3 * rng.normal();
        x[row + j] = mean[j] + 0.5 * rng.normal();
      }
    }
  }
  const start = new Uint8Array(N);
  for (let s = 0; s < S; s++) {
    start[s * T] = 1;
    if (T > 2) start[s * T + 1 + rng.int(T - 1)] = 1; // a document boundary inside the row
  }
  return {
    S,
    T,
    d,
    x,
    start,
    valid: new Uint8Array(N).fill(1),
    seqIndex: Int32Array.from({ length: S }, (_, s) => s),
  };
}
