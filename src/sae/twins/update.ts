// CPU twins of shaders/bdec_grad.wgsl, dec_project.wgsl, adam.wgsl and dec_renorm.wgsl (float64).

export function bdecGradTwin(
  g_xhat: ArrayLike<number>,
  W_enc: ArrayLike<number>,
  grad_b_enc: ArrayLike<number>,
  N: number,
  d: number,
  m: number,
): Float64Array {
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += g_xhat[n * d + j];
    for (let i = 0; i < m; i++) s -= W_enc[j * m + i] * grad_b_enc[i];
    out[j] = s;
  }
  return out;
}

export function decProjectTwin(
  W_dec: ArrayLike<number>,
  grad: ArrayLike<number>,
  m: number,
  d: number,
): Float64Array {
  const out = Float64Array.from(grad);
  for (let r = 0; r < m; r++) {
    let dot = 0,
      nn = 0;
    for (let j = 0; j < d; j++) {
      dot += grad[r * d + j] * W_dec[r * d + j];
      nn += W_dec[r * d + j] ** 2;
    }
    const c = nn > 0 ? dot / nn : 0;
    for (let j = 0; j < d; j++) out[r * d + j] -= c * W_dec[r * d + j];
  }
  return out;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step. */
  t: number;
}

export function adamTwin(
  p: ArrayLike<number>,
  g: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  h: AdamHyper,
): { p: Float64Array; m: Float64Array; v: Float64Array } {
  const n = p.length;
  const P = new Float64Array(n),
    Mo = new Float64Array(n),
    V = new Float64Array(n);
  const bc1 = 1 - h.beta1 ** h.t;
  const bc2 = 1 - h.beta2 ** h.t;
  for (let i = 0; i < n; i++) {
    Mo[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    V[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    P[i] = p[i] - (h.lr * (Mo[i] / bc1)) / (Math.sqrt(V[i] / bc2) + h.eps);
  }
  return { p: P, m: Mo, v: V };
}

export function decRenormTwin(W_dec: ArrayLike<number>, m: number, d: number): Float64Array {
  const out = Float64Array.from(W_dec);
  for (let r = 0; r < m; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += out[r * d + j] ** 2;
    const nrm = Math.sqrt(s);
    if (nrm > 0) for (let j = 0; j < d; j++) out[r * d + j] /= nrm;
  }
  return out;
}
