// CPU twins of shaders/center.wgsl, activate.wgsl (ReLU, JumpReLU) and topk.wgsl. Padding rows give 0.

export function centerTwin(
  x: ArrayLike<number>,
  b_dec: ArrayLike<number>,
  N: number,
  d: number,
): Float64Array {
  const out = new Float64Array(N * d);
  for (let n = 0; n < N; n++) for (let j = 0; j < d; j++) out[n * d + j] = x[n * d + j] - b_dec[j];
  return out;
}

export function reluTwin(
  pre: ArrayLike<number>,
  valid: ArrayLike<number>,
  N: number,
  m: number,
): Float64Array {
  const f = new Float64Array(N * m);
  for (let n = 0; n < N; n++)
    if (valid[n]) for (let i = 0; i < m; i++) f[n * m + i] = Math.max(pre[n * m + i], 0);
  return f;
}

export function jumpReluTwin(
  pre: ArrayLike<number>,
  logThreshold: ArrayLike<number>,
  valid: ArrayLike<number>,
  N: number,
  m: number,
): Float64Array {
  const f = new Float64Array(N * m);
  for (let n = 0; n < N; n++)
    if (valid[n])
      for (let i = 0; i < m; i++) {
        const v = pre[n * m + i];
        // The GPU compares with θ = exp(log θ) computed in f32.
        f[n * m + i] = v > Math.fround(Math.exp(logThreshold[i])) ? v : 0;
      }
  return f;
}

/** f = pre where pre is among the k largest of its row and > 0; ties broken by lower index. */
export function topkTwin(
  pre: ArrayLike<number>,
  valid: ArrayLike<number>,
  N: number,
  m: number,
  k: number,
): Float64Array {
  const f = new Float64Array(N * m);
  const idx = Array.from({ length: m }, (_, i) => i);
  for (let n = 0; n < N; n++) {
    if (!valid[n]) continue;
    const row = (i: number) => pre[n * m + i];
    const order = idx.slice().sort((a, b) => row(b) - row(a) || a - b);
    for (let r = 0; r < Math.min(k, m); r++) {
      const i = order[r];
      if (row(i) > 0) f[n * m + i] = row(i);
    }
  }
  return f;
}
