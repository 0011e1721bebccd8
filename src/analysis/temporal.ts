// Temporal stability metrics of SPEC §6, over valid adjacent pairs only (see isValidPair), overall and
// by position (position = t of the later token of the pair, so index 0 is always NaN).
//   tv_ratio   = Σ_pairs ‖f_t − f_{t−1}‖₁ / Σ_pairs ‖f_t‖₁
//   jaccard    = mean over pairs of |A_t ∩ A_{t−1}| / |A_t ∪ A_{t−1}|, A = {i : f_i > 0}; pairs with
//                both sets empty have no defined overlap and are left out.
//   autocorr   = mean over alive features (fired at least once on the held-out set) of the Pearson
//                correlation of (f_{t−1,i}, f_{t,i}) across pairs; a feature whose value is constant on
//                either side has no correlation and is left out (autocorr_features says how many count).
//   mean_run_length = mean length of maximal runs of consecutive valid positions where a feature is
//                active (a document start or padding ends a run) = active tokens / runs.
//   flip_rate  = Σ_pairs #{i alive : active changed} / (pairs · alive).
// Features where both sides are 0 add nothing to any sum, so the inner loop skips them: the work is
// proportional to the active entries plus one read of f.
import type { EvalSums } from '../sae/trainerApi';
import { checkChunk, checkSums, isValidPair, type EvalChunk } from './chunk';

export interface TemporalMetrics {
  tv_ratio: number;
  jaccard: number;
  autocorr: number;
  mean_run_length: number;
  flip_rate: number;
  /** Valid adjacent pairs counted. */
  pairs: number;
  /** Alive features whose lag-1 autocorrelation is defined (the autocorr mean's denominator). */
  autocorr_features: number;
}

export interface TemporalByPosition {
  /** [T] each metric over the pairs ending at position t (NaN where none). */
  tv_ratio: Float64Array;
  jaccard: Float64Array;
  flip_rate: Float64Array;
  /** [T] mean length of the runs starting at position t. */
  mean_run_length: Float64Array;
  /** Autocorrelation per position bin (per-feature sums per position would cost 5·m·T doubles). */
  autocorr: Float64Array;
  /** [bins] first position of each autocorrelation bin. */
  autocorr_bin_start: Int32Array;
}

/** Bound on the per-feature, per-bin autocorrelation sums (5 arrays of m·Q doubles). */
const MAX_AUTOCORR_CELLS = 2_000_000;

/** Position bins of the per-feature autocorrelation sums: up to 16, fewer when m is large or T small. */
export function autocorrBins(m: number, T: number): number {
  return Math.max(1, Math.min(16, T - 1, Math.floor(MAX_AUTOCORR_CELLS / Math.max(1, m))));
}

export class TemporalAccumulator {
  private pairs = 0;
  private tvNum = 0;
  private tvDen = 0;
  private jacSum = 0;
  private jacCount = 0;
  private flips = 0;
  private runTokens = 0;
  private runCount = 0;
  private readonly fired: Uint8Array;
  private readonly runStart: Int32Array;
  private readonly runLen: Int32Array;
  // Per-feature sums over pairs for the autocorrelation, per position bin: index q·m + i.
  private readonly sa: Float64Array;
  private readonly sb: Float64Array;
  private readonly saa: Float64Array;
  private readonly sbb: Float64Array;
  private readonly sab: Float64Array;
  private readonly Q: number;
  private readonly pairsByBin: Float64Array;
  private readonly pos: {
    pairs: Float64Array;
    tvNum: Float64Array;
    tvDen: Float64Array;
    jacSum: Float64Array;
    jacCount: Float64Array;
    flips: Float64Array;
    runLen: Float64Array;
    runs: Float64Array;
  };

  constructor(
    readonly m: number,
    readonly T: number,
  ) {
    this.fired = new Uint8Array(m);
    this.runStart = new Int32Array(m).fill(-1);
    this.runLen = new Int32Array(m);
    this.Q = autocorrBins(m, T);
    const cells = this.Q * m;
    this.sa = new Float64Array(cells);
    this.sb = new Float64Array(cells);
    this.saa = new Float64Array(cells);
    this.sbb = new Float64Array(cells);
    this.sab = new Float64Array(cells);
    this.pairsByBin = new Float64Array(this.Q);
    const z = () => new Float64Array(T);
    this.pos = {
      pairs: z(),
      tvNum: z(),
      tvDen: z(),
      jacSum: z(),
      jacCount: z(),
      flips: z(),
      runLen: z(),
      runs: z(),
    };
  }

  /** Autocorrelation bin of the pair ending at position t ≥ 1. */
  private binOf(t: number): number {
    return this.T <= 1 ? 0 : Math.min(this.Q - 1, Math.floor(((t - 1) * this.Q) / (this.T - 1)));
  }

  private closeRun(i: number): void {
    const s = this.runStart[i];
    if (s < 0) return;
    this.runCount++;
    this.runTokens += this.runLen[i];
    this.pos.runLen[s] += this.runLen[i];
    this.pos.runs[s]++;
    this.runStart[i] = -1;
  }

  add(c: EvalChunk): void {
    checkChunk(c);
    if (c.m !== this.m || c.T !== this.T)
      throw new Error(`evaluation chunk shape changed (m ${c.m}, T ${c.T})`);
    const { m, f, valid, T } = c;
    const N = c.S * T;
    for (let n = 0; n < N; n++) {
      if (!valid[n]) continue;
      const t = n % T;
      const pair = isValidPair(c, n, t);
      const o = n * m;
      if (!pair) {
        // A break: every open run ends here.
        for (let i = 0; i < m; i++) if (this.runStart[i] >= 0) this.closeRun(i);
        for (let i = 0; i < m; i++) {
          if (f[o + i] > 0) {
            this.fired[i] = 1;
            this.runStart[i] = t;
            this.runLen[i] = 1;
          }
        }
        continue;
      }
      const po = o - m;
      const qo = this.binOf(t) * m;
      let num = 0,
        den = 0,
        inter = 0,
        uni = 0,
        flips = 0;
      for (let i = 0; i < m; i++) {
        const a = f[po + i],
          b = f[o + i];
        if (a === 0 && b === 0) continue;
        num += Math.abs(b - a);
        den += Math.abs(b);
        const aOn = a > 0,
          bOn = b > 0;
        if (aOn && bOn) {
          inter++;
          uni++;
          this.runLen[i]++;
        } else if (aOn || bOn) {
          uni++;
          flips++;
          if (bOn) {
            this.fired[i] = 1;
            this.runStart[i] = t;
            this.runLen[i] = 1;
          } else {
            this.closeRun(i);
          }
        }
        const q = qo + i;
        this.sa[q] += a;
        this.sb[q] += b;
        this.saa[q] += a * a;
        this.sbb[q] += b * b;
        this.sab[q] += a * b;
      }
      this.addPair(t, num, den, inter, uni, flips);
    }
    // Chunks hold whole sequences, so no run continues into the next chunk.
    for (let i = 0; i < m; i++) if (this.runStart[i] >= 0) this.closeRun(i);
  }

  /** One valid pair ending at position t: Σ|Δf|, Σ|f|, |A ∩ A'|, |A ∪ A'|, features that switched. */
  private addPair(t: number, num: number, den: number, inter: number, uni: number, flips: number): void {
    const P = this.pos;
    this.pairs++;
    this.pairsByBin[this.binOf(t)]++;
    this.tvNum += num;
    this.tvDen += den;
    this.flips += flips;
    P.pairs[t]++;
    P.tvNum[t] += num;
    P.tvDen[t] += den;
    P.flips[t] += flips;
    if (uni > 0) {
      const j = inter / uni;
      this.jacSum += j;
      this.jacCount++;
      P.jacSum[t] += j;
      P.jacCount[t]++;
    }
  }

  /**
   * The same sums from a batch reduced on the GPU (EvalSums): per-token pair sums (kept for valid
   * pairs only, decided here from the flags as in add), runs by start position, per-feature lag-1
   * sums by bin, and `fired` from the firing counts. Added in float64 across batches.
   */
  addSums(s: EvalSums, flags: Pick<EvalChunk, 'S' | 'T' | 'start' | 'valid'>): void {
    checkSums(s, flags, this.T);
    const { m, Q, T } = this;
    if (s.Q !== Q || s.autocorr.length !== 5 * Q * m)
      throw new Error(`evaluation sums: autocorrelation sums do not match d_sae ${m} × ${Q} bins`);
    for (let n = 0; n < s.rows; n++) {
      const t = n % T;
      if (!flags.valid[n] || !isValidPair(flags, n, t)) continue;
      const o = 6 * n;
      const inter = s.rowFeat[o + 4],
        uni = s.rowFeat[o + 5];
      this.addPair(t, s.rowFeat[o + 2], s.rowFeat[o + 3], inter, uni, uni - inter);
    }
    for (let t = 0; t < T; t++) {
      this.runCount += s.runs[t];
      this.runTokens += s.runs[T + t];
      this.pos.runs[t] += s.runs[t];
      this.pos.runLen[t] += s.runs[T + t];
    }
    const QM = Q * m;
    for (let k = 0; k < QM; k++) {
      this.sa[k] += s.autocorr[k];
      this.sb[k] += s.autocorr[QM + k];
      this.saa[k] += s.autocorr[2 * QM + k];
      this.sbb[k] += s.autocorr[3 * QM + k];
      this.sab[k] += s.autocorr[4 * QM + k];
    }
    const P = s.P;
    for (let i = 0; i < m; i++)
      for (let b = 0; b < P && !this.fired[i]; b++) if (s.fireByPos[i * P + b] > 0) this.fired[i] = 1;
  }

  private aliveCount(): number {
    let a = 0;
    for (let i = 0; i < this.m; i++) a += this.fired[i];
    return a;
  }

  /** Mean over alive features of the lag-1 correlation, from the sums of bins lo..hi−1. */
  private autocorrOver(lo: number, hi: number): { mean: number; features: number } {
    const m = this.m;
    let np = 0;
    for (let q = lo; q < hi; q++) np += this.pairsByBin[q];
    if (np < 2) return { mean: NaN, features: 0 };
    let sum = 0,
      count = 0;
    for (let i = 0; i < m; i++) {
      if (!this.fired[i]) continue;
      let sa = 0,
        sb = 0,
        saa = 0,
        sbb = 0,
        sab = 0;
      for (let q = lo; q < hi; q++) {
        const k = q * m + i;
        sa += this.sa[k];
        sb += this.sb[k];
        saa += this.saa[k];
        sbb += this.sbb[k];
        sab += this.sab[k];
      }
      const ma = sa / np,
        mb = sb / np;
      const va = saa / np - ma * ma,
        vb = sbb / np - mb * mb;
      // Relative guard: a variance that is only rounding noise of E[a²] counts as zero.
      if (!(va > 1e-12 * (saa / np)) || !(vb > 1e-12 * (sbb / np))) continue;
      sum += (sab / np - ma * mb) / Math.sqrt(va * vb);
      count++;
    }
    return { mean: count > 0 ? sum / count : NaN, features: count };
  }

  result(): TemporalMetrics {
    const alive = this.aliveCount();
    const ac = this.autocorrOver(0, this.Q);
    return {
      tv_ratio: this.tvDen > 0 ? this.tvNum / this.tvDen : NaN,
      jaccard: this.jacCount > 0 ? this.jacSum / this.jacCount : NaN,
      autocorr: ac.mean,
      mean_run_length: this.runCount > 0 ? this.runTokens / this.runCount : NaN,
      flip_rate: this.pairs > 0 && alive > 0 ? this.flips / (this.pairs * alive) : NaN,
      pairs: this.pairs,
      autocorr_features: ac.features,
    };
  }

  byPosition(): TemporalByPosition {
    const T = this.T,
      P = this.pos;
    const alive = this.aliveCount();
    const div = (a: Float64Array, b: Float64Array, scale = 1) => {
      const r = new Float64Array(T);
      for (let t = 0; t < T; t++) r[t] = b[t] > 0 ? a[t] / (b[t] * scale) : NaN;
      return r;
    };
    const autocorr = new Float64Array(this.Q);
    const starts = new Int32Array(this.Q);
    for (let q = 0; q < this.Q; q++) {
      autocorr[q] = this.autocorrOver(q, q + 1).mean;
      starts[q] = 1 + Math.ceil((q * (T - 1)) / this.Q);
    }
    return {
      tv_ratio: div(P.tvNum, P.tvDen),
      jaccard: div(P.jacSum, P.jacCount),
      flip_rate: alive > 0 ? div(P.flips, P.pairs, alive) : new Float64Array(T).fill(NaN),
      mean_run_length: div(P.runLen, P.runs),
      autocorr,
      autocorr_bin_start: starts,
    };
  }
}
