// CPU twin of the InfoNCE kernels (shaders/infonce_norms, _logits, _lse, _softmax, _grad, _add): the same outputs in
// float64 (formulas in each kernel's header). test/unit/methodTwins.test.ts ties it to the reference
// (src/sae/reference/infonce.ts): ∂L_nce/∂f[n, 0:H] = g_code[0, n] + g_code[1, n].

export interface NceInputs {
  f: ArrayLike<number>;
  N: number;
  m: number;
  H: number;
  /** Rows of the pairs' current and previous tokens. */
  cur: ArrayLike<number>;
  prev: ArrayLike<number>;
  tau: number;
  cosine: boolean;
}

export const NO_PAIR = 0xffffffff;

/** [2N]: the pair in which row n is the current token, then the one in which it is the previous token. */
export function nceRoles(N: number, cur: ArrayLike<number>, prev: ArrayLike<number>): Uint32Array {
  const role = new Uint32Array(2 * N).fill(NO_PAIR);
  for (let p = 0; p < cur.length; p++) {
    role[cur[p]] = p;
    role[N + prev[p]] = p;
  }
  return role;
}

export function infoNceTwin(a: NceInputs) {
  const { f, N, m, H, cur, prev } = a;
  const P = cur.length;
  const rows = [...Array.from(cur), ...Array.from(prev)];
  const norms = new Float64Array(2 * P);
  for (let k = 0; k < 2 * P; k++) {
    let s = 0;
    for (let h = 0; h < H; h++) s += f[rows[k] * m + h] ** 2;
    norms[k] = Math.sqrt(s);
  }
  const code = (k: number, h: number) => {
    const v = f[rows[k] * m + h];
    return !a.cosine ? v : norms[k] > 0 ? v / norms[k] : 0;
  };
  const logits = new Float64Array(P * P);
  for (let p = 0; p < P; p++)
    for (let q = 0; q < P; q++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += f[rows[p] * m + h] * f[rows[P + q] * m + h];
      if (a.cosine) {
        const nn = norms[p] * norms[P + q];
        s = nn > 0 ? s / nn : 0;
      }
      logits[p * P + q] = s / a.tau;
    }
  const lse = new Float64Array(2 * P);
  let loss = 0;
  for (let k = 0; k < 2 * P; k++) {
    const col = k >= P;
    const r = col ? k - P : k;
    const at = (j: number) => (col ? logits[j * P + r] : logits[r * P + j]);
    let mx = -Infinity;
    for (let j = 0; j < P; j++) mx = Math.max(mx, at(j));
    let s = 0;
    for (let j = 0; j < P; j++) s += Math.exp(at(j) - mx);
    lse[k] = mx + Math.log(s);
    loss += lse[k] - logits[r * P + r];
  }
  loss = P > 0 ? loss / (2 * P) : 0;
  // infonce_softmax: G = (row softmax + column softmax − 2·labels)/(2P·τ).
  const gmat = new Float64Array(P * P);
  for (let p = 0; p < P; p++)
    for (let q = 0; q < P; q++) {
      const s = logits[p * P + q];
      const g = Math.exp(s - lse[p]) + Math.exp(s - lse[P + q]) - (p === q ? 2 : 0);
      gmat[p * P + q] = g / a.tau / (2 * P);
    }
  const role = nceRoles(N, cur, prev);
  const gCode = new Float64Array(2 * N * H);
  for (let k = 0; k < 2 * N; k++) {
    const r = role[k];
    if (r === NO_PAIR) continue;
    const side = k >= N ? 1 : 0;
    const own = side ? P + r : r;
    const other0 = side ? 0 : P;
    const o = k * H;
    let dot = 0;
    for (let h = 0; h < H; h++) {
      let u = 0;
      for (let j = 0; j < P; j++) u += gmat[side ? j * P + r : r * P + j] * code(other0 + j, h);
      gCode[o + h] = u;
      dot += code(own, h) * u;
    }
    if (a.cosine) {
      const nr = norms[own];
      for (let h = 0; h < H; h++) gCode[o + h] = nr > 0 ? (gCode[o + h] - code(own, h) * dot) / nr : 0;
    }
  }
  return { norms, logits, lse, loss, gmat, gCode };
}

/** infonce_add.wgsl: g[n, h] += coef·(g_code[0, n, h] + g_code[1, n, h]) for h < H; g is [N, m]. */
export function infoNceAddTwin(
  g: ArrayLike<number>,
  gCode: ArrayLike<number>,
  N: number,
  m: number,
  H: number,
  coef: number,
): Float64Array {
  const out = Float64Array.from(g);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++) out[n * m + h] += coef * (gCode[n * H + h] + gCode[(N + n) * H + h]);
  return out;
}
