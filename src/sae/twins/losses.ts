// CPU twins of shaders/recon.wgsl, feature_grad.wgsl, column.wgsl and finalize.wgsl (alpha.wgsl's twin is
// updateAlpha in src/sae/alpha.ts). Float64; the row rules (predecessor, D_next, padding) are the same
// as in feature_grad.wgsl's header comment.
import type { TrainConfig } from '../config';
import { architectureOf } from '../architectures';

export interface Rows {
  N: number;
  T: number;
  start: ArrayLike<number>;
  valid: ArrayLike<number>;
}

export function nValidOf(r: Rows): number {
  let c = 0;
  for (let n = 0; n < r.N; n++) c += r.valid[n] ? 1 : 0;
  return c;
}

export function hasPrev(r: Rows, n: number): boolean {
  return n % r.T !== 0 && !r.start[n] && !!r.valid[n - 1];
}

export function reconTwin(
  cfg: Pick<TrainConfig, 'recon_loss'>,
  r: Rows,
  x: ArrayLike<number>,
  xhat: ArrayLike<number>,
  d: number,
): { rowLoss: Float64Array; g_xhat: Float64Array; l_recon: number } {
  const nv = nValidOf(r);
  const rowLoss = new Float64Array(r.N);
  const g = new Float64Array(r.N * d);
  let total = 0;
  for (let n = 0; n < r.N; n++) {
    if (!r.valid[n]) continue;
    let sq = 0;
    for (let j = 0; j < d; j++) sq += (xhat[n * d + j] - x[n * d + j]) ** 2;
    const norm = Math.sqrt(sq);
    rowLoss[n] = cfg.recon_loss === 'norm' ? norm : sq;
    total += rowLoss[n];
    const scale = cfg.recon_loss === 'norm' ? (norm > 0 ? 1 / nv / norm : 0) : 2 / nv;
    for (let j = 0; j < d; j++) g[n * d + j] = scale * (xhat[n * d + j] - x[n * d + j]);
  }
  return { rowLoss, g_xhat: g, l_recon: total / nv };
}

const sgn = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);

export interface FeatureGradOut {
  g_pre: Float64Array;
  /** JumpReLU: per-element ∂L/∂log θ terms (0 elsewhere). */
  thetaTerms: Float64Array;
  sparse: number;
  temp: number;
  l0: number;
}

export function featureGradTwin(
  cfg: Pick<
    TrainConfig,
    'architecture' | 'l1_coefficient' | 'temporal_coefficient' | 'seq_start_mode' | 'jumprelu_bandwidth'
  >,
  r: Rows,
  alpha: number,
  g_f: ArrayLike<number>,
  f: ArrayLike<number>,
  pre: ArrayLike<number>,
  logThreshold: ArrayLike<number>,
  m: number,
): FeatureGradOut {
  const inv = 1 / nValidOf(r);
  const cTemp = cfg.temporal_coefficient * alpha * inv;
  const arch = architectureOf(cfg);
  const threshold = arch.extraParams.includes('log_threshold');
  const g_pre = new Float64Array(r.N * m);
  const thetaTerms = new Float64Array(r.N * m);
  let sparse = 0,
    temp = 0,
    l0 = 0;
  for (let n = 0; n < r.N; n++) {
    const valid = !!r.valid[n];
    const prev = hasPrev(r, n);
    const countD = valid && (prev || cfg.seq_start_mode === 'zero');
    const countNext = valid && (n + 1) % r.T !== 0 && n + 1 < r.N && !!r.valid[n + 1] && hasPrev(r, n + 1);
    for (let i = 0; i < m; i++) {
      const fi = f[n * m + i];
      const fp = prev ? f[(n - 1) * m + i] : 0;
      let dL = g_f[n * m + i];
      if (arch.sparsity === 'L1') dL += cfg.l1_coefficient * inv * sgn(fi);
      if (countD) {
        dL += cTemp * sgn(fi - fp);
        temp += Math.abs(fi - fp);
      }
      if (countNext) dL -= cTemp * sgn(f[(n + 1) * m + i] - fi);
      const active = valid && fi > 0;
      g_pre[n * m + i] = active ? dL : 0;
      if (threshold) {
        const theta = Math.exp(logThreshold[i]);
        const eps = cfg.jumprelu_bandwidth;
        const u = (pre[n * m + i] - theta) / eps;
        if (valid && Math.abs(u) < 0.5)
          thetaTerms[n * m + i] =
            theta *
            (dL * (-theta / eps) + (arch.sparsity === 'L0' ? cfg.l1_coefficient * inv * (-1 / eps) : 0));
      }
      if (arch.sparsity === 'L1') sparse += Math.abs(fi);
      else if (arch.sparsity === 'L0' && active) sparse += 1;
      if (active) l0 += 1;
    }
  }
  return { g_pre, thetaTerms, sparse: sparse * inv, temp: temp * inv, l0: l0 * inv };
}

/** Column sums: ∂b_enc, ∂log θ, and the dead-feature counters. */
export function columnTwin(
  r: Rows,
  g_pre: ArrayLike<number>,
  thetaTerms: ArrayLike<number>,
  f: ArrayLike<number>,
  tokensSinceFired: ArrayLike<number>,
  deadWindow: number,
  m: number,
): {
  grad_b_enc: Float64Array;
  grad_log_threshold: Float64Array;
  tokens_since_fired: Float64Array;
  dead: number;
} {
  const gb = new Float64Array(m);
  const gt = new Float64Array(m);
  const tsf = new Float64Array(m);
  const nv = nValidOf(r);
  let dead = 0;
  for (let i = 0; i < m; i++) {
    let fired = false;
    for (let n = 0; n < r.N; n++) {
      gb[i] += g_pre[n * m + i];
      gt[i] += thetaTerms[n * m + i];
      fired ||= f[n * m + i] > 0;
    }
    tsf[i] = fired ? 0 : tokensSinceFired[i] + nv;
    if (tsf[i] >= deadWindow) dead++;
  }
  return { grad_b_enc: gb, grad_log_threshold: gt, tokens_since_fired: tsf, dead };
}
