// Temporal metrics from the T-SAE paper (SPEC §11; Bhalla et al., arXiv 2511.05541), computed the way
// the paper's code does (AI4LIFE-GROUP/temporal-saes, dictionary_learning/dictionary_learning/
// evaluation.py), on the held-out sequences of SPEC §6 with our pair rules (chunk.ts isValidPair):
//
//   act_smoothness  lipschitz_cont: per sequence, for each feature active somewhere in it,
//                   max over adjacent pairs of |f_t,i − f_{t−1},i| / ‖x_t − x_{t−1}‖₂, averaged over
//                   those features; then averaged over sequences (the paper's mean over eval batches of
//                   one sequence each). Lower is smoother.
//   fft_hf_ratio    fft_smoothness: per sequence, each active feature's trace → |rfft|², cutoff_idx =
//                   int(0.5·bins), Σ high / (Σ low + 1e-10) (fft.ts hfLfRatio), averaged over active
//                   features, then over sequences. Lower is smoother.
//   sequence_l0     sequence_l0 = (f.sum(0) != 0).sum(): distinct features active in a sequence,
//                   averaged over sequences.
//   explained_variance per Matryoshka prefix p: 1 − Σ‖x − x̂_p‖² / Σ‖x − x̄‖², x̂_p = b_dec + Σ_{i<p} f_i·W_dec_i
//                   (the reconstruction each nested prefix is trained on; SPEC §6's definition).
//
// Our choices where the paper's setting differs (each written down because it changes numbers):
//   - "Sequence" = a segment: a maximal stretch of valid tokens of a row joined by valid pairs (a
//     document start or padding cuts a row), so no difference across two documents is counted, as in
//     SPEC §6. The paper's eval contexts are single 128-token rows with BOS removed. Segments shorter
//     than 2 tokens have no pair and are skipped.
//   - Pairs with ‖x_t − x_{t−1}‖ = 0 are left out of the smoothness max (the paper would divide by 0).
//   - Per-group variants (the paper's "_h" for the high-level group 0 and "_l" for the rest) are
//     reported per Matryoshka group [p_{g−1}, p_g): features active in the group, as the paper splits f.
//   - The paper's frac_variance_explained_high/_low use x̂ without b_dec and a per-batch variance; ours
//     is cumulative (prefix) with b_dec and held-out-wide means, matching the Matryoshka loss.
//   - By position (t = the later token of a pair, or the token itself):
//       act_smoothness[t]  mean over segments with a pair ending at t of the mean over the segment's
//                          active features of |Δf_i|/‖Δx‖ (the max over t has no per-position form);
//       sequence_l0[t]     distinct features active in positions 0..t of a segment (cumulative),
//                          at row position t, mean over the segments covering t;
//       explained_variance_prefix[g][t]  the prefix EV over the tokens at position t (x̄ global).
//       fft_hf_ratio[t]    the FFT ratio of the FFT_WINDOW (8) tokens ending at t (fftByPosition.ts),
//                          mean over the features active in that window, then over the segments
//                          holding a whole window ending at t (the whole-trace ratio has no per-token
//                          form; a short window's spectrum is the nearest local one).
import type { EvalChunk } from './chunk';
import { checkChunk, isValidPair } from './chunk';
import { hfLfRatio } from './fft';
import { FFT_WINDOW, windowedHfLfRatio } from './fftByPosition';

export interface LiteratureGroup {
  /** Features [start, end) of this Matryoshka group; explained variance is of the prefix [0, end). */
  start: number;
  end: number;
  explained_variance: number;
  act_smoothness: number;
  fft_hf_ratio: number;
}

export interface LiteratureMetrics {
  act_smoothness: number;
  fft_hf_ratio: number;
  sequence_l0: number;
  /** Segments (sequences in the paper's sense) and valid tokens the numbers are over. */
  segments: number;
  tokens: number;
  /** Per Matryoshka group (absent without prefixes). */
  groups?: LiteratureGroup[];
  byPosition: {
    act_smoothness: number[];
    sequence_l0: number[];
    /** Windowed FFT ratio by the window's last position (fftByPosition.ts). */
    fft_hf_ratio: number[];
    /** [groups][T] prefix explained variance by position (absent without prefixes). */
    explained_variance_prefix?: number[][];
  };
}

export interface Decoder {
  d_in: number;
  d_sae: number;
  /** [d_sae·d_in] */
  W_dec: ArrayLike<number>;
  /** [d_in] */
  b_dec: ArrayLike<number>;
}

/** Matryoshka group boundaries from prefix ends (ascending, last = m); [m] when none are given. */
export function groupBounds(m: number, prefixEnds?: number[]): number[] {
  const ends = prefixEnds && prefixEnds.length ? [...prefixEnds] : [m];
  for (let g = 0; g < ends.length; g++) {
    const e = ends[g];
    if (!Number.isInteger(e) || e <= (g ? ends[g - 1] : 0) || e > m)
      throw new Error(`Matryoshka prefixes must be increasing integers in 1..${m} (got ${ends.join(', ')})`);
  }
  if (ends[ends.length - 1] !== m) ends.push(m);
  return ends;
}

interface Sums {
  smooth: number;
  smoothN: number;
  fft: number;
  fftN: number;
}

const zeroSums = (): Sums => ({ smooth: 0, smoothN: 0, fft: 0, fftN: 0 });

export class LiteratureAccumulator {
  private segments = 0;
  private tokens = 0;
  private seqL0 = 0;
  private readonly all: Sums = zeroSums();
  private readonly perGroup: Sums[];
  private readonly ends: number[];
  private readonly groupOf: Int32Array;
  private readonly posSmooth: Float64Array;
  private readonly posSmoothN: Float64Array;
  private readonly posL0: Float64Array;
  private readonly posL0N: Float64Array;
  private readonly posFft: Float64Array;
  private readonly posFftN: Float64Array;
  // Prefix explained variance: per group, per position, Σ‖x − x̂_p‖²; x sums for x̄ and Σ‖x‖².
  private readonly err: Float64Array[];
  private readonly xSum: Float64Array;
  private readonly xxByPos: Float64Array;
  private readonly xSumByPos: Float64Array[];
  private readonly tokByPos: Float64Array;

  constructor(
    readonly m: number,
    readonly T: number,
    readonly d: number,
    /** Matryoshka prefix ends (e.g. [0.2·m, m]); prefix EV needs `decoder` too. */
    prefixEnds?: number[],
    private readonly decoder?: Decoder,
  ) {
    this.ends = groupBounds(m, prefixEnds);
    this.groupOf = new Int32Array(m);
    for (let g = 0, i = 0; g < this.ends.length; g++) for (; i < this.ends[g]; i++) this.groupOf[i] = g;
    this.perGroup = this.ends.map(zeroSums);
    const z = () => new Float64Array(T);
    this.posSmooth = z();
    this.posSmoothN = z();
    this.posL0 = z();
    this.posL0N = z();
    this.posFft = z();
    this.posFftN = z();
    const G = decoder ? this.ends.length : 0;
    if (decoder && (decoder.d_in !== d || decoder.d_sae !== m))
      throw new Error(`literature metrics: decoder is ${decoder.d_sae}×${decoder.d_in}, expected ${m}×${d}`);
    this.err = Array.from({ length: G }, z);
    this.xSum = new Float64Array(d);
    this.xxByPos = z();
    this.xSumByPos = decoder ? Array.from({ length: T }, () => new Float64Array(d)) : [];
    this.tokByPos = z();
  }

  add(c: EvalChunk): void {
    checkChunk(c);
    if (c.m !== this.m || c.T !== this.T || c.d !== this.d)
      throw new Error(`literature metrics: chunk shape changed (m ${c.m}, T ${c.T}, d ${c.d})`);
    const { T } = c;
    for (let s = 0; s < c.S; s++) {
      let a = 0;
      while (a < T) {
        const n0 = s * T + a;
        if (!c.valid[n0]) {
          a++;
          continue;
        }
        let b = a + 1;
        while (b < T && isValidPair(c, s * T + b, b)) b++;
        this.segment(c, s * T, a, b);
        a = b;
      }
    }
    if (this.decoder) this.addPrefixErrors(c);
  }

  /** Segment [a, b) of the row starting at flat index r0. */
  private segment(c: EvalChunk, r0: number, a: number, b: number): void {
    const { m, d, f, x } = c;
    const L = b - a;
    this.tokens += L;
    // Active features of the segment; the cumulative count gives sequence_l0 by position.
    const seen = new Uint8Array(m);
    const active: number[] = [];
    for (let t = a; t < b; t++) {
      const o = (r0 + t) * m;
      for (let i = 0; i < m; i++)
        if (f[o + i] !== 0 && !seen[i]) {
          seen[i] = 1;
          active.push(i);
        }
      this.posL0[t] += active.length;
      this.posL0N[t]++;
    }
    this.segments++;
    this.seqL0 += active.length;
    if (L < 2 || active.length === 0) return;
    // ‖Δx‖ per pair ending at t.
    const dx = new Float64Array(L);
    for (let t = a + 1; t < b; t++) {
      let ss = 0;
      const o = (r0 + t) * d;
      for (let j = 0; j < d; j++) ss += (x[o + j] - x[o - d + j]) ** 2;
      dx[t - a] = Math.sqrt(ss);
    }
    const G = this.ends.length;
    const gSmooth = new Float64Array(G),
      gFft = new Float64Array(G),
      gN = new Float64Array(G);
    let smooth = 0,
      fft = 0;
    const posSum = new Float64Array(L);
    const trace = new Float64Array(L);
    // Windowed FFT ratio per position of the segment: sum and count over the features with a value.
    const win = new Float64Array(L),
      fftSum = new Float64Array(L),
      fftCnt = new Float64Array(L);
    for (const i of active) {
      let mx = 0,
        any = false;
      for (let t = a; t < b; t++) trace[t - a] = f[(r0 + t) * m + i];
      for (let u = 1; u < L; u++) {
        if (!(dx[u] > 0)) continue;
        const r = Math.abs(trace[u] - trace[u - 1]) / dx[u];
        posSum[u] += r;
        if (r > mx || !any) mx = r;
        any = true;
      }
      const h = hfLfRatio(trace);
      if (L >= FFT_WINDOW) {
        windowedHfLfRatio(trace, FFT_WINDOW, 0.5, win);
        for (let u = FFT_WINDOW - 1; u < L; u++)
          if (!Number.isNaN(win[u])) {
            fftSum[u] += win[u];
            fftCnt[u]++;
          }
      }
      const g = this.groupOf[i];
      smooth += mx;
      fft += h;
      gSmooth[g] += mx;
      gFft[g] += h;
      gN[g]++;
    }
    const k = active.length;
    this.all.smooth += smooth / k;
    this.all.smoothN++;
    this.all.fft += fft / k;
    this.all.fftN++;
    for (let g = 0; g < G; g++) {
      if (!gN[g]) continue;
      const p = this.perGroup[g];
      p.smooth += gSmooth[g] / gN[g];
      p.smoothN++;
      p.fft += gFft[g] / gN[g];
      p.fftN++;
    }
    for (let u = 1; u < L; u++) {
      if (!(dx[u] > 0)) continue;
      this.posSmooth[a + u] += posSum[u] / k;
      this.posSmoothN[a + u]++;
    }
    for (let u = 0; u < L; u++)
      if (fftCnt[u] > 0) {
        this.posFft[a + u] += fftSum[u] / fftCnt[u];
        this.posFftN[a + u]++;
      }
  }

  private addPrefixErrors(c: EvalChunk): void {
    const dec = this.decoder!;
    const { m, d, f, x, T } = c;
    const N = c.S * T;
    const xh = new Float64Array(d);
    for (let n = 0; n < N; n++) {
      if (!c.valid[n]) continue;
      const t = n % T;
      const xo = n * d;
      this.tokByPos[t]++;
      for (let j = 0; j < d; j++) {
        const v = x[xo + j];
        this.xSum[j] += v;
        this.xSumByPos[t][j] += v;
        this.xxByPos[t] += v * v;
        xh[j] = dec.b_dec[j];
      }
      let i = 0;
      for (let g = 0; g < this.ends.length; g++) {
        for (; i < this.ends[g]; i++) {
          const v = f[n * m + i];
          if (v === 0) continue;
          for (let j = 0; j < d; j++) xh[j] += v * dec.W_dec[i * d + j];
        }
        let e = 0;
        for (let j = 0; j < d; j++) e += (x[xo + j] - xh[j]) ** 2;
        this.err[g][t] += e;
      }
    }
  }

  result(): LiteratureMetrics {
    const r = (s: number, n: number) => (n > 0 ? s / n : NaN);
    const T = this.T;
    const out: LiteratureMetrics = {
      act_smoothness: r(this.all.smooth, this.all.smoothN),
      fft_hf_ratio: r(this.all.fft, this.all.fftN),
      sequence_l0: r(this.seqL0, this.segments),
      segments: this.segments,
      tokens: this.tokens,
      byPosition: {
        act_smoothness: Array.from({ length: T }, (_, t) => r(this.posSmooth[t], this.posSmoothN[t])),
        sequence_l0: Array.from({ length: T }, (_, t) => r(this.posL0[t], this.posL0N[t])),
        fft_hf_ratio: Array.from({ length: T }, (_, t) => r(this.posFft[t], this.posFftN[t])),
      },
    };
    if (this.decoder) {
      // Σ‖x − x̄‖² = Σ‖x‖² − ‖Σx‖²/N over all tokens, and per position with the global x̄:
      // Σ_t‖x − x̄‖² = Σ_t‖x‖² − 2 x̄·Σ_t x + N_t‖x̄‖².
      let N = 0;
      for (let t = 0; t < T; t++) N += this.tokByPos[t];
      const mean = Array.from(this.xSum, (v) => (N > 0 ? v / N : 0));
      const mm = mean.reduce((s, v) => s + v * v, 0);
      const varByPos = new Float64Array(T);
      let varAll = 0;
      for (let t = 0; t < T; t++) {
        let dot = 0;
        for (let j = 0; j < this.d; j++) dot += mean[j] * this.xSumByPos[t][j];
        varByPos[t] = this.xxByPos[t] - 2 * dot + this.tokByPos[t] * mm;
        varAll += varByPos[t];
      }
      const evPos = this.err.map((e) =>
        Array.from(e, (v, t) => (this.tokByPos[t] > 0 && varByPos[t] > 0 ? 1 - v / varByPos[t] : NaN)),
      );
      out.byPosition.explained_variance_prefix = evPos;
      out.groups = this.ends.map((end, g) => {
        const errAll = this.err[g].reduce((s, v) => s + v, 0);
        const p = this.perGroup[g];
        return {
          start: g ? this.ends[g - 1] : 0,
          end,
          explained_variance: varAll > 0 ? 1 - errAll / varAll : NaN,
          act_smoothness: r(p.smooth, p.smoothN),
          fft_hf_ratio: r(p.fft, p.fftN),
        };
      });
    } else if (this.ends.length > 1) {
      out.groups = this.ends.map((end, g) => {
        const p = this.perGroup[g];
        return {
          start: g ? this.ends[g - 1] : 0,
          end,
          explained_variance: NaN,
          act_smoothness: r(p.smooth, p.smoothN),
          fft_hf_ratio: r(p.fft, p.fftN),
        };
      });
    }
    return out;
  }
}
