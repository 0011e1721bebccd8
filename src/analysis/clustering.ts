// Temporal clustering (SPEC §6): the K most variable features, the Pearson correlation of their
// activation traces over the held-out tokens, average linkage on 1 − corr, leaf order for the heatmap.
import type { EvalChunk } from './chunk';
import { leafOrder, upgma, type Linkage } from './upgma';

export const DEFAULT_CLUSTER_K = 128;

/** The K features with the largest variance (ties: lower index); features with zero variance are never picked. */
export function mostVariable(variance: ArrayLike<number>, K: number): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < variance.length; i++) if (variance[i] > 0) idx.push(i);
  idx.sort((a, b) => variance[b] - variance[a] || a - b);
  return Int32Array.from(idx.slice(0, K));
}

/**
 * Collects the activation traces of chosen features over valid tokens, feature-major [K, capacity], up to
 * `maxTokens` tokens (bounded memory), with each token's position and whether it continues the previous
 * one (for the "across a sequence" heatmap).
 */
export class TraceCollector {
  readonly traces: Float32Array;
  readonly position: Int32Array;
  /** Index of the chunk-local sequence each token belongs to, counted across all chunks added. */
  readonly sequence: Int32Array;
  n = 0;
  private seqBase = 0;

  constructor(
    readonly features: Int32Array,
    readonly maxTokens: number,
  ) {
    this.traces = new Float32Array(features.length * maxTokens);
    this.position = new Int32Array(maxTokens);
    this.sequence = new Int32Array(maxTokens);
  }

  get full(): boolean {
    return this.n >= this.maxTokens;
  }

  add(c: EvalChunk): void {
    const m = c.m;
    this.addRows(c, (n, j) => c.f[n * m + this.features[j]]);
  }

  /**
   * The same from traces gathered on the GPU (eval_gather.wgsl): `traces` [K·rows] feature-major, the
   * activations of `features` (in order) for every row of the batch.
   */
  addGathered(c: Pick<EvalChunk, 'S' | 'T' | 'valid'>, traces: Float32Array): void {
    const rows = c.S * c.T;
    if (traces.length !== this.features.length * rows)
      throw new Error(`traces: ${traces.length} values, expected ${this.features.length}×${rows}`);
    this.addRows(c, (n, j) => traces[j * rows + n]);
  }

  private addRows(c: Pick<EvalChunk, 'S' | 'T' | 'valid'>, value: (n: number, j: number) => number): void {
    const K = this.features.length,
      cap = this.maxTokens;
    const N = c.S * c.T;
    for (let n = 0; n < N && this.n < cap; n++) {
      if (!c.valid[n]) continue;
      const k = this.n++;
      for (let j = 0; j < K; j++) this.traces[j * cap + k] = value(n, j);
      this.position[k] = n % c.T;
      this.sequence[k] = this.seqBase + Math.floor(n / c.T);
    }
    this.seqBase += c.S;
  }
}

/**
 * [K·K] Pearson correlations of K traces of length N (feature-major, row stride `stride`). Raw sums
 * in float64 then cov = E[ab] − E[a]E[b]. Sparse traces (SAE activations mostly are) take a
 * token-major pass over the non-zeros, Σ_t nnz_t² work; dense ones (above ~25 % firing) a 4×4
 * register-blocked product.
 * A constant trace has no correlation: its row is 0 with 1 on the diagonal (distance 1 to everything).
 */
export function correlation(traces: Float32Array, K: number, N: number, stride = N): Float64Array {
  const mean = new Float64Array(K);
  const S = new Float64Array(K * K);
  const nnzTok = new Int32Array(N + 1);
  let nnz = 0;
  for (let i = 0; i < K; i++) {
    const o = i * stride;
    let s = 0;
    for (let t = 0; t < N; t++) {
      const v = traces[o + t];
      s += v;
      if (v !== 0) nnzTok[t + 1]++;
    }
    mean[i] = s / N;
  }
  let work = 0;
  for (let t = 0; t < N; t++) {
    work += nnzTok[t + 1] * nnzTok[t + 1];
    nnzTok[t + 1] += nnzTok[t];
  }
  nnz = nnzTok[N];
  // Measured here: a sparse update costs ~15× a dense multiply-add (scattered writes into S).
  if (work * 15 < K * K * N) {
    // CSR by token: feature index and value of each non-zero.
    const fi = new Int32Array(nnz),
      fv = new Float64Array(nnz),
      fill = nnzTok.slice(0, N);
    for (let i = 0; i < K; i++) {
      const o = i * stride;
      for (let t = 0; t < N; t++) {
        const v = traces[o + t];
        if (v !== 0) {
          const p = fill[t]++;
          fi[p] = i;
          fv[p] = v;
        }
      }
    }
    for (let t = 0; t < N; t++) {
      const lo = nnzTok[t],
        hi = nnzTok[t + 1];
      for (let p = lo; p < hi; p++) {
        const row = fi[p] * K,
          v = fv[p];
        for (let q = p; q < hi; q++) S[row + fi[q]] += v * fv[q];
      }
    }
  } else {
    denseGram(traces, K, N, stride, S);
  }
  const corr = new Float64Array(K * K);
  const sd = new Float64Array(K);
  for (let i = 0; i < K; i++) sd[i] = Math.sqrt(Math.max(0, S[i * K + i] / N - mean[i] * mean[i]));
  for (let i = 0; i < K; i++) {
    corr[i * K + i] = 1;
    for (let j = i + 1; j < K; j++) {
      // Both triangles were accumulated with i < j by feature index order.
      const sij = S[i * K + j];
      let r = 0;
      if (sd[i] > 0 && sd[j] > 0) r = (sij / N - mean[i] * mean[j]) / (sd[i] * sd[j]);
      r = Math.max(-1, Math.min(1, r));
      corr[i * K + j] = r;
      corr[j * K + i] = r;
    }
  }
  return corr;
}

/** Upper triangle (i ≤ j) of traces·tracesᵀ, 4×4 blocks (measured ~1 s for 256×64k on these CPUs). */
function denseGram(Z: Float32Array, K: number, N: number, stride: number, S: Float64Array): void {
  const K4 = K - (K % 4);
  for (let i = 0; i < K4; i += 4) {
    for (let j = i; j < K4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0; // prettier-ignore
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0; // prettier-ignore
      const a0 = i * stride, a1 = a0 + stride, a2 = a1 + stride, a3 = a2 + stride; // prettier-ignore
      const b0 = j * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride; // prettier-ignore
      for (let t = 0; t < N; t++) {
        const x0 = Z[a0 + t], x1 = Z[a1 + t], x2 = Z[a2 + t], x3 = Z[a3 + t]; // prettier-ignore
        const y0 = Z[b0 + t], y1 = Z[b1 + t], y2 = Z[b2 + t], y3 = Z[b3 + t]; // prettier-ignore
        c00 += x0 * y0;
        c01 += x0 * y1;
        c02 += x0 * y2;
        c03 += x0 * y3; // prettier-ignore
        c10 += x1 * y0;
        c11 += x1 * y1;
        c12 += x1 * y2;
        c13 += x1 * y3; // prettier-ignore
        c20 += x2 * y0;
        c21 += x2 * y1;
        c22 += x2 * y2;
        c23 += x2 * y3; // prettier-ignore
        c30 += x3 * y0;
        c31 += x3 * y1;
        c32 += x3 * y2;
        c33 += x3 * y3; // prettier-ignore
      }
      const blk = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 4; c++) if (i + r <= j + c) S[(i + r) * K + j + c] = blk[r * 4 + c];
    }
  }
  // Leftover rows/columns when K is not a multiple of 4.
  for (let i = 0; i < K; i++) {
    for (let j = Math.max(i, K4); j < K; j++) {
      let s = 0;
      const a = i * stride,
        b = j * stride;
      for (let t = 0; t < N; t++) s += Z[a + t] * Z[b + t];
      S[i * K + j] = s;
    }
  }
}

export interface ClusteringResult {
  /** [K] feature ids of the clustered features (most variable first). */
  features: Int32Array;
  /** [K·K] correlations, rows/cols in `features` order. */
  corr: Float64Array;
  linkage: Linkage;
  /** [K] indices into `features`, left to right along the dendrogram. */
  order: Int32Array;
  tokens: number;
}

/** Correlate, cluster with average linkage on 1 − corr, and order the leaves. */
export function clusterTraces(
  traces: Float32Array,
  features: Int32Array,
  N: number,
  stride = N,
): ClusteringResult {
  const K = features.length;
  if (K === 0) return { features, corr: new Float64Array(0), linkage: { n: 0, a: new Int32Array(0), b: new Int32Array(0), dist: new Float64Array(0), size: new Int32Array(0) }, order: new Int32Array(0), tokens: N }; // prettier-ignore
  const corr = correlation(traces, K, N, stride);
  const D = new Float64Array(K * K);
  for (let i = 0; i < K * K; i++) D[i] = 1 - corr[i];
  for (let i = 0; i < K; i++) D[i * K + i] = 0;
  const linkage = upgma(D, K);
  return { features, corr, linkage, order: leafOrder(linkage), tokens: N };
}
