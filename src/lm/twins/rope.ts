// Rotary positions (SPEC §9): the cos/sin table the GPU kernel reads, and the CPU twin of
// shaders/lm_rope.wgsl in float64.
import type { RopeStyle } from '../types';

/** cos and sin of t·θ^(−2j/headDim) for t < T, j < headDim/2, row-major [T, headDim/2], in float64. */
export function ropeTable(
  T: number,
  headDim: number,
  theta: number,
): { cos: Float64Array; sin: Float64Array } {
  const half = headDim / 2;
  const cos = new Float64Array(T * half);
  const sin = new Float64Array(T * half);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < half; j++) {
      const a = t * Math.pow(theta, (-2 * j) / headDim);
      cos[t * half + j] = Math.cos(a);
      sin[t * half + j] = Math.sin(a);
    }
  return { cos, sin };
}

/**
 * x [N, nHeads·headDim] rotated at positions n mod T: pair j is (j, j + headDim/2) for 'half', (2j, 2j+1)
 * for 'interleaved'; x₁' = x₁·cos − x₂·sin, x₂' = x₂·cos + x₁·sin. Returns a new array.
 */
export function ropeTwin(
  x: ArrayLike<number>,
  T: number,
  nHeads: number,
  headDim: number,
  theta: number,
  style: RopeStyle,
): Float64Array {
  const y = Float64Array.from(x);
  const half = headDim / 2;
  const N = x.length / (nHeads * headDim);
  const { cos, sin } = ropeTable(T, headDim, theta);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < nHeads; h++) {
      const base = (n * nHeads + h) * headDim;
      for (let j = 0; j < half; j++) {
        const [i1, i2] = style === 'half' ? [base + j, base + j + half] : [base + 2 * j, base + 2 * j + 1];
        const c = cos[(n % T) * half + j];
        const s = sin[(n % T) * half + j];
        y[i1] = x[i1] * c - x[i2] * s;
        y[i2] = x[i2] * c + x[i1] * s;
      }
    }
  return y;
}
