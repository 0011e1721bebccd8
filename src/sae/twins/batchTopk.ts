// CPU twin of the BatchTopK selection kernels (shaders/batchtopk_hist, _decide, _ties, _cut, _apply):
// f with exactly min(k·N_valid, #positive) entries kept, ties to the lower flat index, and the threshold
// update; the same rules as the float64 reference (src/sae/reference/batchTopk.ts), on float32 values.
import { batchTopkActive, batchTopkMinActive } from '../reference/batchTopk';

export function batchTopkTwin(
  pre: Float32Array,
  valid: ArrayLike<number>,
  N: number,
  m: number,
  k: number,
  /** θ before the step (−1: unset, as the T-SAE code's sentinel). */
  theta: number,
  update: boolean,
  beta: number,
): { f: Float32Array; theta: number } {
  const active = batchTopkActive(pre, N, m, k, valid);
  const f = new Float32Array(N * m);
  for (let q = 0; q < N * m; q++) if (active[q]) f[q] = pre[q];
  const mn = batchTopkMinActive(f, N, m, valid);
  const next = !update ? theta : theta < 0 ? mn : Math.fround(beta) * theta + (1 - Math.fround(beta)) * mn;
  return { f, theta: next };
}
