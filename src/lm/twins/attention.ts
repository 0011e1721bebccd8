// CPU twin of shaders/lm_attention.wgsl in float64: causal softmax attention with grouped-query heads over
// S independent sequences of T tokens, the plain way (all scores, then max-subtracted softmax).

/**
 * z [S·T, nHeads·headDim] from q [S·T, nHeads·headDim], k and v [S·T, nKv·headDim]: query head h reads kv
 * head h / (nHeads/nKv); row s·T + t attends to rows s·T … s·T + t with weights softmax(q·k/√headDim).
 */
export function attentionTwin(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  S: number,
  T: number,
  nHeads: number,
  nKv: number,
  headDim: number,
): Float64Array {
  const qd = nHeads * headDim;
  const kvd = nKv * headDim;
  const z = new Float64Array(S * T * qd);
  const scale = 1 / Math.sqrt(headDim);
  const scores = new Float64Array(T);
  for (let s = 0; s < S; s++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < nHeads; h++) {
        const qo = (s * T + t) * qd + h * headDim;
        const g = Math.floor(h / (nHeads / nKv)) * headDim;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          let dot = 0;
          for (let e = 0; e < headDim; e++) dot += q[qo + e] * k[(s * T + j) * kvd + g + e];
          scores[j] = dot * scale;
          max = Math.max(max, scores[j]);
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) sum += scores[j] = Math.exp(scores[j] - max);
        for (let j = 0; j <= t; j++) {
          const p = scores[j] / sum;
          for (let e = 0; e < headDim; e++) z[qo + e] += p * v[(s * T + j) * kvd + g + e];
        }
      }
  return z;
}
