// CPU twin of the BatchTopK kernels (shaders/batchtopk_hist, _decide, _ties, _cut, _apply, _infer):
// f with exactly min(k·N_valid, #positive) entries kept, ties to the lower flat index, the threshold
// update in float32 as batchtopk_cut.wgsl computes it, and the inference f = pre·H(pre − max(θ, 0)).
// The same rules as the float64 reference (src/sae/reference/batchTopk.ts), on float32 values.
import { batchTopkActive, batchTopkMinActive, thresholdActive } from '../reference/batchTopk';

export function batchTopkTwin(
  pre: Float32Array,
  valid: ArrayLike<number>,
  N: number,
  m: number,
  k: number,
  /** θ before the step. */
  theta: number,
  /** topk_threshold_lr. */
  lr: number,
): { f: Float32Array; theta: number; inferF: Float32Array } {
  const active = batchTopkActive(pre, N, m, k, valid);
  const f = new Float32Array(N * m);
  let any = false;
  for (let q = 0; q < N * m; q++)
    if (active[q]) {
      f[q] = pre[q];
      any = true;
    }
  const fr = Math.fround;
  const l = fr(lr);
  // θ ← (1 − lr)·θ + lr·v*, each operation rounded to float32 (a fused multiply-add on the GPU may
  // round once less: the test allows 1 ulp-scale differences).
  const next = any
    ? fr(fr(fr(1 - l) * fr(theta)) + fr(l * fr(batchTopkMinActive(f, N, m, valid))))
    : fr(theta);
  const inferActive = thresholdActive(pre, next);
  const inferF = new Float32Array(N * m);
  for (let q = 0; q < N * m; q++) if (inferActive[q] && valid[Math.floor(q / m)]) inferF[q] = pre[q];
  return { f, theta: next, inferF };
}
