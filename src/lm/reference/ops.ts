// The pieces of a transformer block in float64 (SPEC §9), each a plain loop over rows so that the WGSL
// twins and hand-worked tests can follow them line by line. Shapes in comments; all matrices [in, out].

/** Weights arrive as float32 (loaded files) or float64 (tests). */
export type Vec = Float32Array | Float64Array;

/** y[N, out] = x[N, in]·W[in, out] (+ b[out]). */
export function matmul(
  x: Float64Array,
  W: Vec,
  b: Vec | null,
  N: number,
  nIn: number,
  nOut: number,
): Float64Array {
  const y = new Float64Array(N * nOut);
  for (let i = 0; i < N; i++) {
    const yo = i * nOut;
    if (b) for (let j = 0; j < nOut; j++) y[yo + j] = b[j];
    for (let k = 0; k < nIn; k++) {
      const xv = x[i * nIn + k];
      if (xv === 0) continue;
      const wo = k * nOut;
      for (let j = 0; j < nOut; j++) y[yo + j] += xv * W[wo + j];
    }
  }
  return y;
}

/** y[N, V] = x[N, d]·Wᵀ with W [V, d] (the unembedding, an NT product). */
export function matmulNT(x: Float64Array, W: Vec, N: number, d: number, V: number) {
  const y = new Float64Array(N * V);
  for (let i = 0; i < N; i++)
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k] * W[v * d + k];
      y[i * V + v] = s;
    }
  return y;
}

/**
 * LayerNorm over each row of x [N, d]: (x − mean)/√(var + eps)·w + b, var the biased (1/d) variance
 * (torch.nn.LayerNorm, GPT-2's ln_1 / ln_2 / ln_f).
 */
export function layerNorm(
  x: Float64Array,
  w: Vec,
  b: Vec | null,
  N: number,
  d: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(N * d);
  for (let i = 0; i < N; i++) {
    const o = i * d;
    let mean = 0;
    for (let k = 0; k < d; k++) mean += x[o + k];
    mean /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x[o + k] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let k = 0; k < d; k++) y[o + k] = (x[o + k] - mean) * inv * w[k] + (b ? b[k] : 0);
  }
  return y;
}

/** RMSNorm over each row: x/√(mean(x²) + eps)·w (LlamaRMSNorm, llama2.c rmsnorm). */
export function rmsNorm(x: Float64Array, w: Vec, N: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(N * d);
  for (let i = 0; i < N; i++) {
    const o = i * d;
    let ss = 0;
    for (let k = 0; k < d; k++) ss += x[o + k] * x[o + k];
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let k = 0; k < d; k++) y[o + k] = x[o + k] * inv * w[k];
  }
  return y;
}

/** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** SiLU (swish): x·σ(x) = x/(1 + e^−x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** Inverse frequency of rotary pair j of a head: θ^(−2j/head_dim). */
export function ropeFrequency(j: number, headDim: number, theta: number): number {
  return Math.pow(theta, (-2 * j) / headDim);
}

/**
 * Rotates, in place, every head of one row of q or k ([nHeads·headDim]) for position pos. Pair j
 * (frequency ropeFrequency(j)) is dimensions (j, j + headDim/2) for 'half' (HF rotate_half) and
 * (2j, 2j+1) for 'interleaved' (llama2.c run.c). With angle a = pos·freq:
 *   x₁' = x₁·cos a − x₂·sin a,   x₂' = x₂·cos a + x₁·sin a.
 */
export function applyRope(
  row: Float64Array,
  offset: number,
  nHeads: number,
  headDim: number,
  pos: number,
  theta: number,
  style: 'half' | 'interleaved',
): void {
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    const base = offset + h * headDim;
    for (let j = 0; j < half; j++) {
      const a = pos * ropeFrequency(j, headDim, theta);
      const c = Math.cos(a);
      const s = Math.sin(a);
      const i1 = style === 'half' ? base + j : base + 2 * j;
      const i2 = style === 'half' ? base + j + half : base + 2 * j + 1;
      const x1 = row[i1];
      const x2 = row[i2];
      row[i1] = x1 * c - x2 * s;
      row[i2] = x2 * c + x1 * s;
    }
  }
}
