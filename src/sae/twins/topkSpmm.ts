// CPU twins of shaders/topk_spmm.wgsl (the strided product, zero terms add nothing) and
// shaders/topk_masked_nt.wgsl (A·Bᵀ where the mask is non-zero), in float64.
import type { MaskedShape, SparseShape } from '../gpu/sparseGemm';

export function sparseGemmTwin(
  s: SparseShape,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  C: ArrayLike<number> | null,
  bias?: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(s.rows * s.cols);
  const [offA, offB, offC, sCc] = [s.offA ?? 0, s.offB ?? 0, s.offC ?? 0, s.sCc ?? 1];
  for (let r = 0; r < s.rows; r++)
    for (let c = 0; c < s.cols; c++) {
      let acc = 0;
      for (let t = 0; t < s.K; t++) {
        const a = A[offA + r * s.sAr + t * s.sAk];
        if (a !== 0) acc += a * B[offB + t * s.sBk + c];
      }
      if (bias) acc += bias[(s.offBias ?? 0) + c];
      if (s.accumulate) acc += C![offC + r * s.sCr + c * sCc];
      out[r * s.cols + c] = acc;
    }
  return out;
}

/** [rows, cols] of (A·Bᵀ) ⊙ [mask ≠ 0]; NaN in the mask counts as non-zero. */
export function maskedNtTwin(
  s: MaskedShape,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  M: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(s.rows * s.cols);
  for (let r = 0; r < s.rows; r++)
    for (let c = 0; c < s.cols; c++) {
      if (M[(s.offM ?? 0) + r * s.ldc + c] === 0) continue;
      let acc = 0;
      for (let t = 0; t < s.K; t++) acc += A[(s.offA ?? 0) + r * s.K + t] * B[(s.offB ?? 0) + c * s.K + t];
      out[r * s.cols + c] = acc;
    }
  return out;
}
