// Encoder and decoder in float64 (SPEC §3). Shapes: x [N, d], pre/f [N, m], x̂ [N, d], N = S·T.
//
//   pre = (x − b_dec)·W_enc + b_enc
//   ReLU      f = max(pre, 0)                              active ⇔ pre > 0
//   TopK      f = pre if pre is among the k largest of its row and pre > 0, else 0
//             Ties: order by (pre descending, feature index ascending) and take the first k, i.e. an
//             equal value at a lower index wins. The GPU top-k must break ties the same way.
//   JumpReLU  f = pre·H(pre − θ), θ = exp(log_threshold)   active ⇔ pre > θ (strict, H(0) = 0)
//   x̂ = f·W_dec + b_dec
// Every row is computed, padding included (for the inspector); losses and gradients mask padding.
import type { ActivationBatch } from '../../data/types';
import type { TrainConfig } from '../config';
import type { RefWeights } from './state';

export type ForwardConfig = Pick<TrainConfig, 'architecture' | 'k'>;

export interface RefForward {
  N: number;
  /** [N·d] x − b_dec (the encoder input). */
  xc: Float64Array;
  /** [N·m] pre-activations. */
  pre: Float64Array;
  /** [N·m] feature activations. */
  f: Float64Array;
  /** [N·m] 1 where the feature is active (f = pre and the gradient passes to pre). */
  active: Uint8Array;
  /** [N·d] reconstruction. */
  xhat: Float64Array;
}

/** Throws a message naming the first inconsistency between weights, batch and config. */
export function checkForwardInputs(
  w: RefWeights,
  batch: Pick<ActivationBatch, 'S' | 'T' | 'd' | 'x'> & Partial<Pick<ActivationBatch, 'start' | 'valid'>>,
  cfg: ForwardConfig,
): void {
  const d = w.d_in;
  const m = w.d_sae;
  const N = batch.S * batch.T;
  const fail = (msg: string) => {
    throw new Error(`CPU reference: ${msg}`);
  };
  if (batch.d !== d) fail(`the batch has width ${batch.d}, the weights d_in = ${d}`);
  if (batch.x.length !== N * d) fail(`batch.x has ${batch.x.length} values, S·T·d = ${N * d}`);
  if (batch.start && batch.start.length !== N)
    fail(`batch.start has ${batch.start.length} entries, S·T = ${N}`);
  if (batch.valid && batch.valid.length !== N)
    fail(`batch.valid has ${batch.valid.length} entries, S·T = ${N}`);
  const sizes: [string, ArrayLike<number> | undefined, number][] = [
    ['W_enc', w.W_enc, d * m],
    ['b_enc', w.b_enc, m],
    ['W_dec', w.W_dec, m * d],
    ['b_dec', w.b_dec, d],
  ];
  if (cfg.architecture === 'jumprelu') sizes.push(['log_threshold', w.log_threshold, m]);
  for (const [name, a, n] of sizes)
    if (!a || a.length !== n) fail(`${name} has ${a ? a.length : 'no'} values, expected ${n}`);
  if (cfg.architecture === 'topk' && !(Number.isInteger(cfg.k) && cfg.k >= 1 && cfg.k <= m))
    fail(`TopK needs an integer k in 1..d_sae = ${m} (got ${cfg.k})`);
}

/** Indices of the k largest entries of row[0..m), ties to the lower index, in that order. */
export function topkIndices(row: ArrayLike<number>, k: number, candidates?: ArrayLike<number>): number[] {
  const idx = candidates ? Array.from(candidates) : Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, Math.min(k, idx.length));
}

export function referenceForward(
  w: RefWeights,
  batch: Pick<ActivationBatch, 'S' | 'T' | 'd' | 'x'>,
  cfg: ForwardConfig,
): RefForward {
  const d = w.d_in;
  const m = w.d_sae;
  const N = batch.S * batch.T;
  checkForwardInputs(w, batch, cfg);
  const xc = new Float64Array(N * d);
  const pre = new Float64Array(N * m);
  const f = new Float64Array(N * m);
  const active = new Uint8Array(N * m);
  const xhat = new Float64Array(N * d);
  const theta = w.log_threshold ? Array.from(w.log_threshold, Math.exp) : [];
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < d; j++) xc[n * d + j] = batch.x[n * d + j] - w.b_dec[j];
    const p = pre.subarray(n * m, (n + 1) * m);
    p.set(w.b_enc);
    for (let j = 0; j < d; j++) {
      const xv = xc[n * d + j];
      if (xv === 0) continue;
      const Wrow = j * m;
      for (let i = 0; i < m; i++) p[i] += xv * w.W_enc[Wrow + i];
    }
    const a = active.subarray(n * m, (n + 1) * m);
    if (cfg.architecture === 'relu') for (let i = 0; i < m; i++) a[i] = p[i] > 0 ? 1 : 0;
    else if (cfg.architecture === 'jumprelu') for (let i = 0; i < m; i++) a[i] = p[i] > theta[i] ? 1 : 0;
    else for (const i of topkIndices(p, cfg.k)) a[i] = p[i] > 0 ? 1 : 0;
    for (let i = 0; i < m; i++) if (a[i]) f[n * m + i] = p[i];
    for (let j = 0; j < d; j++) xhat[n * d + j] = w.b_dec[j];
    for (let i = 0; i < m; i++) {
      const fv = f[n * m + i];
      if (fv === 0) continue;
      for (let j = 0; j < d; j++) xhat[n * d + j] += fv * w.W_dec[i * d + j];
    }
  }
  return { N, xc, pre, f, active, xhat };
}
