// CPU twins of shaders/lm_norm.wgsl (LayerNorm and RMSNorm modes), in float64, row by row over [N, d].

type Vec = ArrayLike<number>;

function rowMean(x: Vec, o: number, d: number, f: (v: number) => number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += f(x[o + k]);
  return s / d;
}

/** y = (x − μ)/√(σ² + eps)·w + b with the biased variance σ² (torch.nn.LayerNorm). */
export function layerNormTwin(x: Vec, w: Vec, b: Vec, N: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    const o = n * d;
    const mu = rowMean(x, o, d, (v) => v);
    const inv = 1 / Math.sqrt(rowMean(x, o, d, (v) => (v - mu) * (v - mu)) + eps);
    for (let k = 0; k < d; k++) y[o + k] = (x[o + k] - mu) * inv * w[k] + b[k];
  }
  return y;
}

/** y = x/√(mean(x²) + eps)·w (LlamaRMSNorm). */
export function rmsNormTwin(x: Vec, w: Vec, N: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    const o = n * d;
    const inv = 1 / Math.sqrt(rowMean(x, o, d, (v) => v * v) + eps);
    for (let k = 0; k < d; k++) y[o + k] = x[o + k] * inv * w[k];
  }
  return y;
}
