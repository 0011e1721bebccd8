// Small seeded cases for the CPU reference tests (d = 5, m = 7, S = 2, T = 4 unless stated).
import { Rng } from '../../src/data/rng';
import type { ActivationBatch } from '../../src/data/types';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { PARAM_NAMES, referenceObjective, type RefParams, type RefWeights } from '../../src/sae/reference';

export function cfgFor(overrides: Partial<TrainConfig>): TrainConfig {
  return { ...DEFAULT_CONFIG, d_in: 5, d_sae: 7, seqs_per_batch: 2, context_size: 4, ...overrides };
}

/** A batch with doc starts and padding at the given (s, t) positions; t = 0 is always a start. */
export function makeBatch(
  S: number,
  T: number,
  d: number,
  seed: number,
  opts: { starts?: [number, number][]; pads?: [number, number][]; scale?: number } = {},
): ActivationBatch {
  const rng = new Rng(seed, 7);
  const N = S * T;
  const x = new Float32Array(N * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * (opts.scale ?? 1);
  const start = new Uint8Array(N);
  const valid = new Uint8Array(N).fill(1);
  for (let s = 0; s < S; s++) start[s * T] = 1;
  for (const [s, t] of opts.starts ?? []) start[s * T + t] = 1;
  for (const [s, t] of opts.pads ?? []) valid[s * T + t] = 0;
  return { S, T, d, x, start, valid, seqIndex: Int32Array.from({ length: S }, (_, s) => s) };
}

/** Random float64 weights (decoder rows not unit norm on purpose: the raw gradient must not care). */
export function randomWeights(d: number, m: number, seed: number, logTheta?: number): RefWeights {
  const rng = new Rng(seed, 11);
  const arr = (n: number, s: number, mean = 0) =>
    Float64Array.from({ length: n }, () => mean + s * rng.normal());
  const w: RefWeights = {
    d_in: d,
    d_sae: m,
    W_enc: arr(d * m, 0.6),
    b_enc: arr(m, 0.2),
    W_dec: arr(m * d, 0.5),
    b_dec: arr(d, 0.2),
  };
  if (logTheta !== undefined) w.log_threshold = arr(m, 0.1, logTheta);
  return w;
}

/** Central finite differences of `loss` for every element of every parameter present in `w`. */
export function finiteDiff(w: RefWeights, loss: (w: RefWeights) => number, h = 1e-6): RefParams {
  const out: Partial<RefParams> = {};
  for (const k of PARAM_NAMES) {
    const a = w[k];
    if (!a) continue;
    const g = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      a[i] = v + h;
      const lp = loss(w);
      a[i] = v - h;
      const lm = loss(w);
      a[i] = v;
      g[i] = (lp - lm) / (2 * h);
    }
    out[k] = g;
  }
  return out as RefParams;
}

/**
 * Distance of the case from every kink of the loss (ReLU at 0, JumpReLU at θ, the TopK boundary, the
 * AuxK boundary, |D| at 0 for a pair that is not identically 0). Finite differences are only valid
 * when this exceeds the step h by far.
 */
export function kinkDistance(
  w: RefWeights,
  batch: ActivationBatch,
  cfg: TrainConfig,
  tsf: ArrayLike<number>,
): number {
  const obj = referenceObjective(w, batch, cfg, 0.5, tsf);
  const { fwd, plan, auxk } = obj;
  const m = w.d_sae;
  let dist = Infinity;
  for (let n = 0; n < fwd.N; n++) {
    if (!plan.valid[n]) continue;
    const row = Array.from(fwd.pre.subarray(n * m, (n + 1) * m));
    if (cfg.architecture === 'relu') for (const p of row) dist = Math.min(dist, Math.abs(p));
    if (cfg.architecture === 'jumprelu')
      row.forEach((p, i) => (dist = Math.min(dist, Math.abs(p - Math.exp(w.log_threshold![i])))));
    if (cfg.architecture === 'topk') {
      const sorted = [...row].sort((a, b) => b - a);
      dist = Math.min(dist, sorted[cfg.k - 1] - sorted[cfg.k]);
      for (let r = 0; r < cfg.k; r++) dist = Math.min(dist, Math.abs(sorted[r]));
      if (auxk.num_dead > auxk.chosen[n].length) {
        const deadPre = row.filter((_, i) => tsf[i] >= cfg.dead_feature_window).sort((a, b) => b - a);
        const ka = auxk.chosen[n].length;
        dist = Math.min(dist, deadPre[ka - 1] - deadPre[ka]);
      }
    }
    if (plan.hasD[n])
      for (let i = 0; i < m; i++) {
        const D = fwd.f[n * m + i] - (plan.hasPrev[n] ? fwd.f[(n - 1) * m + i] : 0);
        if (D !== 0) dist = Math.min(dist, Math.abs(D));
      }
  }
  return dist;
}
