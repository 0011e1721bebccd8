// CPU twins of shaders/matryoshka_resid.wgsl, matryoshka_rowloss.wgsl, matryoshka_grad_f.wgsl and
// matryoshka_grad_wdec.wgsl: the same outputs in float64, element for element (the formulas are in each
// kernel's header). test/unit/methodTwins.test.ts ties them to the reference (matryoshka.ts).

export interface MatInputs {
  N: number;
  d: number;
  m: number;
  /** Valid tokens (the N of every mean). */
  nValid: number;
  ends: number[];
  weights: number[];
  x: ArrayLike<number>;
  f: ArrayLike<number>;
  W_dec: ArrayLike<number>;
  b_dec: ArrayLike<number>;
  valid: ArrayLike<number>;
}

/** R and C, each [G, N, d]. */
export function matryoshkaResidTwin(a: MatInputs): { resid: Float64Array; cgrad: Float64Array } {
  const { N, d, m, ends, weights } = a;
  const G = ends.length;
  const ND = N * d;
  const resid = new Float64Array(G * ND),
    cgrad = new Float64Array(G * ND);
  const twoOverN = 2 / Math.max(a.nValid, 1);
  const r = new Float64Array(G);
  for (let n = 0; n < N; n++) {
    if (!a.valid[n]) continue;
    for (let j = 0; j < d; j++) {
      const k = n * d + j;
      let xh = a.b_dec[j];
      let i = 0;
      for (let g = 0; g < G; g++) {
        for (; i < ends[g]; i++) xh += a.f[n * m + i] * a.W_dec[i * d + j];
        r[g] = xh - a.x[k];
        resid[g * ND + k] = r[g];
      }
      let c = 0;
      for (let g = G - 1; g >= 0; g--) {
        c += (weights[g] / G) * twoOverN * r[g];
        cgrad[g * ND + k] = c;
      }
    }
  }
  return { resid, cgrad };
}

/** [G, N] Σ_j R². */
export function matryoshkaRowLossTwin(
  resid: ArrayLike<number>,
  G: number,
  N: number,
  d: number,
): Float64Array {
  const out = new Float64Array(G * N);
  for (let k = 0; k < G * N; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += resid[k * d + j] ** 2;
    out[k] = s;
  }
  return out;
}

function groupOf(ends: number[], i: number): number {
  let g = 0;
  while (g + 1 < ends.length && i >= ends[g]) g++;
  return g;
}

/** [N, m] ∂L_mat/∂f. */
export function matryoshkaGradFTwin(a: MatInputs, cgrad: ArrayLike<number>): Float64Array {
  const { N, d, m, ends } = a;
  const out = new Float64Array(N * m);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < m; i++) {
      const o = groupOf(ends, i) * N * d + n * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += cgrad[o + j] * a.W_dec[i * d + j];
      out[n * m + i] = s;
    }
  return out;
}

/** [m, d] ∂W_dec (decoder side). */
export function matryoshkaGradWdecTwin(a: MatInputs, cgrad: ArrayLike<number>): Float64Array {
  const { N, d, m, ends } = a;
  const out = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const o = groupOf(ends, i) * N * d;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += a.f[n * m + i] * cgrad[o + n * d + j];
      out[i * d + j] = s;
    }
  }
  return out;
}

/**
 * [d] ∂L_mat/∂b_dec through x̂ = Σ_n C[0, n, :]: what bdec_grad.wgsl sums when the trainer binds C's first
 * [N, d] slice as its g_x̂ (every prefix holds b_dec, and C[0] carries all of them).
 */
export function matryoshkaBdecTwin(cgrad: ArrayLike<number>, N: number, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let n = 0; n < N; n++) for (let j = 0; j < d; j++) out[j] += cgrad[n * d + j];
  return out;
}
