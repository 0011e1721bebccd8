// CPU twin of shaders/lm_embed.wgsl: x[n] = W_E[ids[n]] (+ W_pos[n mod T]) in float64.

/** x [N, d] for N = ids.length tokens in rows of T; W_pos null for rotary models. */
export function embedTwin(
  ids: ArrayLike<number>,
  W_E: ArrayLike<number>,
  W_pos: ArrayLike<number> | null,
  T: number,
  d: number,
): Float64Array {
  const N = ids.length;
  const x = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    const e = ids[n] * d;
    const p = (n % T) * d;
    for (let j = 0; j < d; j++) x[n * d + j] = W_E[e + j] + (W_pos ? W_pos[p + j] : 0);
  }
  return x;
}
