// Sparsity metrics (SPEC §6): l0 (mean active features per valid token), l1 (mean ‖f‖₁), per-feature
// firing density, dead (density 0) and dense (density > 0.1) counts, L0 by position, and a
// feature × position firing count. Also the per-feature Σf and Σf² the temporal clustering uses to pick
// the most variable features. "Active" means f > 0 (TopK/JumpReLU zeros are exact zeros).
import type { EvalSums } from '../sae/trainerApi';
import { checkChunk, checkSums, type EvalChunk } from './chunk';

/** SPEC §6: a feature firing on more than this share of tokens counts as dense. */
export const DENSE_THRESHOLD = 0.1;
/** Cap on the cells of the feature × position count; longer contexts are binned (see positionBins). */
export const MAX_FIRE_BY_POS_CELLS = 4_000_000;

export interface SparsityMetrics {
  l0: number;
  l1: number;
  dead_count: number;
  dense_count: number;
  /** dead_count / d_sae. */
  dead_share: number;
}

/** Number of position bins of the feature × position counts: T, or fewer when m·T is too large. */
export function positionBins(m: number, T: number): number {
  return Math.max(1, Math.min(T, Math.floor(MAX_FIRE_BY_POS_CELLS / Math.max(1, m))));
}

export class SparsityAccumulator {
  private n = 0;
  private l0Sum = 0;
  private l1Sum = 0;
  /** [m] tokens on which each feature fired. */
  readonly fireCount: Float64Array;
  /** [m] Σ f and Σ f² over valid tokens (for variance). */
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  private readonly l0ByPos: Float64Array;
  private readonly countByPos: Float64Array;
  /** [m · P] firing counts per feature and position bin (P = positionBins(m, T)). */
  readonly fireByPos: Uint32Array;
  readonly P: number;

  constructor(
    readonly m: number,
    readonly T: number,
  ) {
    this.fireCount = new Float64Array(m);
    this.sum = new Float64Array(m);
    this.sumSq = new Float64Array(m);
    this.l0ByPos = new Float64Array(T);
    this.countByPos = new Float64Array(T);
    this.P = positionBins(m, T);
    this.fireByPos = new Uint32Array(m * this.P);
  }

  /** Position bin of position t. */
  bin(t: number): number {
    return Math.floor((t * this.P) / this.T);
  }

  add(c: EvalChunk): void {
    checkChunk(c);
    if (c.m !== this.m || c.T !== this.T)
      throw new Error(`evaluation chunk shape changed (m ${c.m}, T ${c.T})`);
    const { m, f, valid } = c;
    const N = c.S * c.T;
    const P = this.P;
    for (let n = 0; n < N; n++) {
      if (!valid[n]) continue;
      const t = n % c.T;
      const b = this.bin(t);
      const o = n * m;
      let l0 = 0,
        l1 = 0;
      for (let i = 0; i < m; i++) {
        const v = f[o + i];
        if (v === 0) continue;
        l1 += Math.abs(v);
        this.sum[i] += v;
        this.sumSq[i] += v * v;
        if (v > 0) {
          l0++;
          this.fireCount[i]++;
          this.fireByPos[i * P + b]++;
        }
      }
      this.n++;
      this.l0Sum += l0;
      this.l1Sum += l1;
      this.l0ByPos[t] += l0;
      this.countByPos[t]++;
    }
  }

  /**
   * The same sums from a batch reduced on the GPU (EvalSums): per-token L0/L1 and per-feature Σf, Σf²
   * and firing counts by position bin, added in float64 (a batch's f32 sums are of at most rows terms).
   */
  addSums(s: EvalSums, flags: Pick<EvalChunk, 'S' | 'T' | 'start' | 'valid'>): void {
    checkSums(s, flags, this.T);
    const { m, P } = this;
    if (s.P !== P || s.fireByPos.length !== m * P || s.featStats.length !== 2 * m)
      throw new Error(`evaluation sums: per-feature arrays do not match d_sae ${m} × ${P} position bins`);
    for (let n = 0; n < s.rows; n++) {
      if (!flags.valid[n]) continue;
      const t = n % s.T;
      const l0 = s.rowFeat[6 * n],
        l1 = s.rowFeat[6 * n + 1];
      this.n++;
      this.l0Sum += l0;
      this.l1Sum += l1;
      this.l0ByPos[t] += l0;
      this.countByPos[t]++;
    }
    for (let i = 0; i < m; i++) {
      this.sum[i] += s.featStats[2 * i];
      this.sumSq[i] += s.featStats[2 * i + 1];
      let c = 0;
      for (let b = 0; b < P; b++) {
        const k = s.fireByPos[i * P + b];
        this.fireByPos[i * P + b] += k;
        c += k;
      }
      this.fireCount[i] += c;
    }
  }

  get tokens(): number {
    return this.n;
  }

  /** [m] share of valid tokens on which each feature fired. */
  density(): Float64Array {
    const d = new Float64Array(this.m);
    if (this.n > 0) for (let i = 0; i < this.m; i++) d[i] = this.fireCount[i] / this.n;
    return d;
  }

  /** [m] variance of each feature's activation over valid tokens. */
  variance(): Float64Array {
    const v = new Float64Array(this.m);
    if (this.n === 0) return v;
    for (let i = 0; i < this.m; i++) {
      const mu = this.sum[i] / this.n;
      v[i] = Math.max(0, this.sumSq[i] / this.n - mu * mu);
    }
    return v;
  }

  result(): SparsityMetrics {
    let dead = 0,
      dense = 0;
    const dens = this.density();
    for (let i = 0; i < this.m; i++) {
      if (this.fireCount[i] === 0) dead++;
      else if (dens[i] > DENSE_THRESHOLD) dense++;
    }
    return {
      l0: this.n > 0 ? this.l0Sum / this.n : NaN,
      l1: this.n > 0 ? this.l1Sum / this.n : NaN,
      dead_count: dead,
      dense_count: dense,
      dead_share: dead / this.m,
    };
  }

  /** [T] mean L0 of the tokens at each position (NaN where none). */
  l0ByPosition(): Float64Array {
    const r = new Float64Array(this.T);
    for (let t = 0; t < this.T; t++)
      r[t] = this.countByPos[t] > 0 ? this.l0ByPos[t] / this.countByPos[t] : NaN;
    return r;
  }

  /** [P] valid tokens per position bin (the denominators of fireByPos). */
  tokensByBin(): Float64Array {
    const r = new Float64Array(this.P);
    for (let t = 0; t < this.T; t++) r[this.bin(t)] += this.countByPos[t];
    return r;
  }
}
