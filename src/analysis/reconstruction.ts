// Reconstruction metrics under SAEBench "core" names (SPEC §6), streamed over chunks in float64.
//   explained_variance = 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖²   (x̄: per-dimension mean of the held-out tokens)
//   mse = mean over elements of (x − x̂)², cossim = mean per token of cos(x, x̂),
//   l2_ratio = mean ‖x̂‖/‖x‖, relative_reconstruction_bias = E‖x̂‖² / E[x̂·x].
// Σ‖x − x̄‖² needs the mean of the whole set; it is merged chunk by chunk with Chan et al.'s parallel
// variance update, so no second pass and no cancellation from Σ‖x‖² − N‖x̄‖² on offset data.
// Tokens with ‖x‖ = 0 (or ‖x̂‖ = 0 for cossim) have no defined ratio/cosine and are left out of those two.
import type { EvalSums } from '../sae/trainerApi';
import { checkChunk, checkSums, type EvalChunk } from './chunk';

export interface ReconMetrics {
  explained_variance: number;
  mse: number;
  cossim: number;
  l2_ratio: number;
  relative_reconstruction_bias: number;
}

export interface ReconByPosition {
  /** [T] mean ‖x − x̂‖² of the tokens at each position (NaN where no valid token). */
  recon_loss: Float64Array;
}

export class ReconAccumulator {
  private n = 0;
  private readonly mean: Float64Array;
  private m2 = 0;
  private sse = 0;
  private cosSum = 0;
  private cosCount = 0;
  private ratioSum = 0;
  private ratioCount = 0;
  private xhatSq = 0;
  private xhatDotX = 0;
  private readonly sseByPos: Float64Array;
  private readonly countByPos: Float64Array;
  private readonly chunkMean: Float64Array;

  constructor(
    readonly d: number,
    readonly T: number,
  ) {
    this.mean = new Float64Array(d);
    this.chunkMean = new Float64Array(d);
    this.sseByPos = new Float64Array(T);
    this.countByPos = new Float64Array(T);
  }

  add(c: EvalChunk): void {
    checkChunk(c);
    if (c.d !== this.d || c.T !== this.T)
      throw new Error(`evaluation chunk shape changed (d ${c.d}, T ${c.T})`);
    const { d, x, xhat, valid } = c;
    const N = c.S * c.T;
    const cm = this.chunkMean.fill(0);
    let nb = 0;
    for (let n = 0; n < N; n++) {
      if (!valid[n]) continue;
      nb++;
      const o = n * d;
      let err = 0,
        xx = 0,
        hh = 0,
        hx = 0;
      for (let j = 0; j < d; j++) {
        const xv = x[o + j],
          hv = xhat[o + j],
          e = xv - hv;
        err += e * e;
        xx += xv * xv;
        hh += hv * hv;
        hx += hv * xv;
        cm[j] += xv;
      }
      this.addToken(err, xx, hh, hx, n % c.T);
    }
    if (nb === 0) return;
    for (let j = 0; j < d; j++) cm[j] /= nb;
    let m2b = 0;
    for (let n = 0; n < N; n++) {
      if (!valid[n]) continue;
      const o = n * d;
      for (let j = 0; j < d; j++) {
        const e = x[o + j] - cm[j];
        m2b += e * e;
      }
    }
    this.merge(cm, nb, m2b);
  }

  /**
   * The same sums from a batch reduced on the GPU (EvalSums, src/sae/trainerApi.ts): per-token sums are
   * added here in float64 exactly as add() adds its own, and the batch's Σx and Σ(x − x̄_b)² per
   * dimension give its mean and M2 for the merge. Batches are summed in float64 on the host: f32
   * partial sums of one batch err by ~rows·2⁻²⁴ relative, and adding many batches in f32 would grow that.
   */
  addSums(s: EvalSums, flags: Pick<EvalChunk, 'S' | 'T' | 'start' | 'valid'>): void {
    checkSums(s, flags, this.T);
    const { valid } = flags;
    const r = s.rowRecon;
    let nb = 0;
    for (let n = 0; n < s.rows; n++) {
      if (!valid[n]) continue;
      nb++;
      this.addToken(r[4 * n], r[4 * n + 1], r[4 * n + 2], r[4 * n + 3], n % s.T);
    }
    if (nb === 0) return;
    if (s.xStats.length !== 2 * this.d)
      throw new Error(`evaluation sums: xStats has ${s.xStats.length} values, expected ${2 * this.d}`);
    const cm = this.chunkMean;
    let m2b = 0;
    for (let j = 0; j < this.d; j++) {
      cm[j] = s.xStats[2 * j] / nb;
      m2b += s.xStats[2 * j + 1];
    }
    this.merge(cm, nb, m2b);
  }

  /** One valid token's ‖x − x̂‖², ‖x‖², ‖x̂‖², x̂·x at position t. */
  private addToken(err: number, xx: number, hh: number, hx: number, t: number): void {
    this.sse += err;
    this.xhatSq += hh;
    this.xhatDotX += hx;
    if (xx > 0) {
      this.ratioSum += Math.sqrt(hh / xx);
      this.ratioCount++;
      if (hh > 0) {
        this.cosSum += hx / Math.sqrt(xx * hh);
        this.cosCount++;
      }
    }
    this.sseByPos[t] += err;
    this.countByPos[t]++;
  }

  private merge(cm: Float64Array, nb: number, m2b: number): void {
    const d = this.d;
    // Chan, Golub & LeVeque (1979): M2 = M2_a + M2_b + ‖δ‖²·n_a·n_b/(n_a + n_b).
    const na = this.n;
    const tot = na + nb;
    let delta2 = 0;
    for (let j = 0; j < d; j++) {
      const dj = cm[j] - this.mean[j];
      delta2 += dj * dj;
      this.mean[j] += (dj * nb) / tot;
    }
    this.m2 += m2b + (delta2 * na * nb) / tot;
    this.n = tot;
  }

  /** Valid tokens seen so far. */
  get tokens(): number {
    return this.n;
  }

  result(): ReconMetrics {
    const n = this.n;
    return {
      explained_variance: this.m2 > 0 ? 1 - this.sse / this.m2 : NaN,
      mse: n > 0 ? this.sse / (n * this.d) : NaN,
      cossim: this.cosCount > 0 ? this.cosSum / this.cosCount : NaN,
      l2_ratio: this.ratioCount > 0 ? this.ratioSum / this.ratioCount : NaN,
      relative_reconstruction_bias: this.xhatDotX !== 0 ? this.xhatSq / this.xhatDotX : NaN,
    };
  }

  byPosition(): ReconByPosition {
    const r = new Float64Array(this.T);
    for (let t = 0; t < this.T; t++)
      r[t] = this.countByPos[t] > 0 ? this.sseByPos[t] / this.countByPos[t] : NaN;
    return { recon_loss: r };
  }
}
