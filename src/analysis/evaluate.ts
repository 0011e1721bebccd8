// Held-out evaluation (SPEC §6): stream batches through an SAE forward pass into the metric
// accumulators, then cluster the most variable features. Two paths, same EvalResult:
//   GPU reductions (opts.evalForward, the trainer's evalForward): each batch's forward pass is reduced
//     on the GPU to the accumulators' sums (EvalSums; shaders/eval_*.wgsl) and only those come back;
//     the accumulators add them in float64 (addSums). For the clustering traces the batches' f stay on
//     the GPU while they fit the trainer's evaluation cache (evalForward's `keep`), and the K chosen
//     features are gathered from there (K × tokens read back); beyond it, from a second pass of
//     forward + gather, submitted all at once.
//   CPU reductions (`forward` alone, the twin): f and x̂ come back and the accumulators reduce them.
//     Forward results are kept up to `cacheBytes` for the traces, else the batches needed for them are
//     run forward again.
// T-SAE's metrics (SPEC §11, literature.ts) need whole traces of every active feature, so they are
// computed from f read back for the first held-out batches only, up to `literatureTokens` valid tokens
// (on the GPU path the same evalForward call gathers every feature of those batches when the gather
// buffer stays ≤ 16 MB, else a plain forward is submitted in the same group: same weights either way).
// Memory is bounded: accumulators are O(d_sae·T), the traces hold at most `maxClusterTokens` tokens.
// A second pass may see a later training step than the first (the trainer keeps training between
// awaits). The result is plain data (numbers and arrays) ready for the store and for JSON.
import type { ActivationBatch } from '../data/types';
import type { EvalForwardOptions, EvalPartials, ForwardResult, KeptFeatures } from '../sae/trainerApi';
import type { EvalChunk } from './chunk';
import { clusterTraces, DEFAULT_CLUSTER_K, mostVariable, TraceCollector } from './clustering';
import { matchTrueFeatures, mmcs, recovered } from './groundTruth';
import { LiteratureAccumulator, type Decoder, type LiteratureMetrics } from './literature';
import { densityHistogram, logDensity, type DensityHistogram } from './histogram';
import { ReconAccumulator } from './reconstruction';
import { positionBins, SparsityAccumulator } from './sparsity';
import { autocorrBins, TemporalAccumulator } from './temporal';

/** Let other tasks (rendering, input, training steps) run. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export type ForwardFn = (batch: ActivationBatch) => Promise<ForwardResult>;
/** Forward + GPU evaluation reductions of one batch (SaeTrainerApi.evalForward). */
export type EvalForwardFn = (batch: ActivationBatch, opts?: EvalForwardOptions) => Promise<EvalPartials>;

export interface EvalOptions {
  /** Dictionary size of the SAE (the width of f). */
  d_sae: number;
  /** Reduce on the GPU (the trainer's evalForward); without it f and x̂ are read back and reduced here. */
  evalForward?: EvalForwardFn;
  /** Features to cluster (SPEC §6 default 128); 0 skips clustering. */
  clusterK?: number;
  /** Held-out tokens whose traces are correlated (default 65 536). */
  maxClusterTokens?: number;
  /** Forward results kept in memory to avoid a second forward pass (default 64 MB). */
  cacheBytes?: number;
  /** Sequences shown in the "across a sequence" heatmap (default 8). */
  heatSequences?: number;
  /**
   * Held-out batches whose forward passes are submitted together (bytes they bring back: f and x̂, or
   * on the GPU path their sums; default 128 MB).
   * A trainer that keeps training between awaits queues its steps after a whole group, so every
   * batch of a group sees the same weights; with one group the evaluation is of one step exactly.
   */
  groupBytes?: number;
  /** Called synchronously right after each group's forward passes were submitted (group index). */
  onSubmit?: (group: number) => void;
  /**
   * Synthetic data: the true dictionary [F, d] and the decoder [d_sae, d] for mmcs / recovered. A
   * function is called right after the first group's forward passes are submitted (same weights).
   */
  groundTruth?: { trueDict: Float32Array; F: number; W_dec: Float32Array | (() => Promise<Float32Array>) };
  /**
   * SPEC §11 metrics over the first held-out batches up to this many valid tokens (default 16 384;
   * 0 skips them). Their f and x are held until the end, so the batches taken are also capped at
   * `literatureBytes` (default 64 MB) of f and x; a first batch larger than that alone skips them.
   */
  literatureTokens?: number;
  literatureBytes?: number;
  /** Matryoshka prefix ends (ascending, last = d_sae): per-group metrics and explained variance per prefix. */
  prefixes?: number[];
  /** The decoder for the per-prefix explained variance; a function is called with the first group (same weights). */
  decoder?: Decoder | (() => Promise<Decoder>);
}

/** Every scalar of SPEC §6 under its SAEBench / SPEC name (mmcs and recovered only on synthetic data). */
export interface EvalMetrics {
  explained_variance: number;
  mse: number;
  cossim: number;
  l2_ratio: number;
  relative_reconstruction_bias: number;
  l0: number;
  l1: number;
  dead_count: number;
  dense_count: number;
  dead_share: number;
  tv_ratio: number;
  jaccard: number;
  autocorr: number;
  mean_run_length: number;
  flip_rate: number;
  mmcs?: number;
  recovered?: number;
  /** SPEC §11 (T-SAE): activation smoothness, high/low frequency energy ratio, sequence-level L0. */
  act_smoothness?: number;
  fft_hf_ratio?: number;
  sequence_l0?: number;
  /** Valid held-out tokens and adjacent pairs the numbers are over. */
  tokens: number;
  pairs: number;
}

export interface EvalByPosition {
  /** Each [T]; index = position in the sequence (temporal ones: of the later token of a pair). */
  recon_loss: number[];
  l0: number[];
  tv_ratio: number[];
  jaccard: number[];
  flip_rate: number[];
  mean_run_length: number[];
  /** Lag-1 autocorrelation per position bin, with each bin's first position. */
  autocorr: number[];
  autocorr_bin_start: number[];
  /**
   * SPEC §11 by position (literature.ts): mean |Δf|/‖Δx‖ over active features; cumulative sequence L0
   * (all NaN when the literature metrics were skipped; absent in evaluations stored before them).
   */
  act_smoothness: number[];
  sequence_l0: number[];
  /** SPEC §11 windowed FFT ratio by the window's last position (fftByPosition.ts; absent in older evaluations). */
  fft_hf_ratio: number[];
  /**
   * Matryoshka architectures: prefix g's explained variance by position (literature.ts
   * explained_variance_prefix[g − 1]), g = 1…G; absent without prefixes or literature metrics.
   */
  [prefix: `explained_variance_prefix_${number}`]: number[];
}

export interface EvalClustering {
  /** [K] feature ids (most variable first); order: indices into it, dendrogram left to right. */
  features: number[];
  order: number[];
  linkage: { a: number[]; b: number[]; dist: number[]; size: number[] };
  /** [K][T] mean activation of each clustered feature by position. */
  heatByPosition: number[][];
  /** [K][P] firing frequency by position bin (sparsity heatmap), P = fireBins. */
  fireByPosition: number[][];
  fireBins: number;
  /** Up to heatSequences × [K][T] activations across whole held-out sequences. */
  heatBySequence: number[][][];
  tokens: number;
}

/** The per-feature part of an evaluation (kept for the latest evaluation only: it scales with d_sae). */
export interface EvalFeatures {
  /** [d_sae] firing density and its log10(density + 1e-10). */
  density: number[];
  logDensity: number[];
  /** Ground truth only: [F] best decoder row and cosine per true feature. */
  trueMatch?: { index: number[]; cos: number[] };
}

export interface EvalResult {
  metrics: EvalMetrics;
  byPosition: EvalByPosition;
  densityHist: DensityHistogram;
  clustering: EvalClustering | null;
  features: EvalFeatures;
  T: number;
  /** SPEC §11 metrics with their per-group / per-prefix parts (null when skipped). */
  literature?: LiteratureMetrics | null;
}

/** Held-out batches, iterable more than once (a second pass may run). */
export type HeldOut = () => AsyncIterable<ActivationBatch> | Iterable<ActivationBatch>;

function toChunk(b: ActivationBatch, r: ForwardResult, m: number): EvalChunk {
  return { S: b.S, T: b.T, d: b.d, m, x: b.x, xhat: r.xhat, f: r.f, start: b.start, valid: b.valid };
}

const arr = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : NaN));

export async function evaluateHeldOut(
  forward: ForwardFn,
  heldOut: HeldOut,
  opts: EvalOptions,
): Promise<EvalResult> {
  const m = opts.d_sae;
  const K = opts.clusterK ?? DEFAULT_CLUSTER_K;
  const maxTok = opts.maxClusterTokens ?? 65_536;
  const cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
  const nSeqHeat = opts.heatSequences ?? 8;
  // Typed through a holder: TypeScript does not see assignments made inside the closures below.
  let recon = null as ReconAccumulator | null;
  let sparse = null as SparsityAccumulator | null;
  let temporal = null as TemporalAccumulator | null;
  let T = 0;
  const cache: EvalChunk[] = [];
  let cached = 0,
    cacheOk = true;
  const groupBytes = opts.groupBytes ?? 128 * 1024 * 1024;
  const W0 = opts.groundTruth?.W_dec;
  let decoder: Promise<Float32Array> | null = W0 instanceof Float32Array ? Promise.resolve(W0) : null;
  let group: ActivationBatch[] = [],
    gBytes = 0,
    groups = 0;
  const gpu = opts.evalForward;
  const allIds = Int32Array.from({ length: m }, (_, i) => i);
  // SPEC §11: chunks of the first batches (x and f), consumed at the end when the decoder is known.
  const litTokens = opts.literatureTokens ?? 16_384;
  const litCap = opts.literatureBytes ?? 64 * 1024 * 1024;
  const litChunks: EvalChunk[] = [];
  let litSeen = 0,
    litBytes = 0;
  const D0 = opts.decoder;
  let litDecoder: Promise<Decoder> | null = D0 && typeof D0 !== 'function' ? Promise.resolve(D0) : null;
  const wantLiterature = (b: ActivationBatch) => {
    if (litSeen >= litTokens) return false;
    const bytes = b.S * b.T * (m + b.d) * 4;
    if (litBytes + bytes > litCap) return false;
    litBytes += bytes;
    for (let n = 0; n < b.valid.length; n++) litSeen += b.valid[n];
    return true;
  };
  // GPU path: batches whose f the trainer kept on the GPU, in order, while every batch so far was kept.
  const kept: KeptFeatures[] = [];
  let keepOk = K > 0;
  const flush = async () => {
    if (!group.length) return;
    // Submit every forward of the group before awaiting any (see groupBytes).
    const lit = gpu ? group.map(wantLiterature) : [];
    const gatherAll = (b: ActivationBatch) => b.S * b.T * m * 4 <= 16 * 1024 * 1024;
    const pending = group.map((b, k) =>
      gpu ? gpu(b, { keep: keepOk, gather: lit[k] && gatherAll(b) ? allIds : undefined }) : forward(b),
    );
    // GPU path, f too large to gather: a plain forward for the SPEC §11 metrics, submitted with the group.
    const litPending = group.map((b, k) => (lit[k] && !gatherAll(b) ? forward(b) : null));
    const W = opts.groundTruth?.W_dec;
    if (groups === 0 && typeof W === 'function') decoder = W();
    if (groups === 0 && typeof D0 === 'function') litDecoder = D0();
    opts.onSubmit?.(groups++);
    const results = await Promise.all(pending);
    const litResults = await Promise.all(litPending);
    for (let k = 0; k < group.length; k++) {
      const lr = litResults[k];
      const r = results[k];
      if (lr) litChunks.push(toChunk(group[k], lr, m));
      else if (lit[k] && !('f' in r) && r.traces) litChunks.push(gatheredChunk(group[k], r.traces, m));
      if ('f' in r) consume(group[k], r);
      else consumeSums(group[k], r);
      // One batch of CPU reductions per task, so a page stays responsive during an evaluation
      // (the results are already read back: yielding cannot change which weights they are of).
      await nextTask();
    }
    group = [];
    gBytes = 0;
  };
  const init = (b: ActivationBatch) => {
    if (recon) return;
    T = b.T;
    recon = new ReconAccumulator(b.d, T);
    sparse = new SparsityAccumulator(m, T);
    temporal = new TemporalAccumulator(m, T);
  };
  const consumeSums = (b: ActivationBatch, r: EvalPartials) => {
    if (r.kept) {
      if (keepOk) kept.push(r.kept);
      else r.kept.release();
    } else if (keepOk) {
      // Out of room: the traces will come from a second pass; free what was kept.
      keepOk = false;
      releaseAll(kept);
    }
    if (!r.sums) throw new Error('evaluation: the GPU returned no evaluation sums');
    init(b);
    recon!.addSums(r.sums, b);
    sparse!.addSums(r.sums, b);
    temporal!.addSums(r.sums, b);
  };
  const consume = (b: ActivationBatch, r: ForwardResult) => {
    const c = toChunk(b, r, m);
    init(b);
    if (wantLiterature(b)) litChunks.push(c);
    recon!.add(c);
    sparse!.add(c);
    temporal!.add(c);
    if (cacheOk && K > 0) {
      cached += c.f.byteLength;
      if (cached <= cacheBytes) cache.push(c);
      else {
        cacheOk = false;
        cache.length = 0;
      }
    }
  };
  const add = (b: ActivationBatch) => {
    group.push(b);
    // Bytes each batch brings back: its sums (GPU path, see EvalSums) or f and x̂.
    const P = positionBins(m, b.T),
      Q = autocorrBins(m, b.T);
    gBytes += gpu
      ? (b.S * b.T * 10 + b.d * 2 + m * (2 + P + 5 * Q) + 2 * b.T) * 4
      : b.S * b.T * (m + b.d) * 4;
    return gBytes >= groupBytes;
  };
  try {
    return await finish();
  } finally {
    releaseAll(kept);
  }

  async function finish(): Promise<EvalResult> {
    const src = heldOut();
    if (Symbol.iterator in src) {
      // A synchronous source (batches already in memory): the first group is submitted before this
      // function first awaits, i.e. at the training step at which it was called.
      for (const b of src) if (add(b)) await flush();
    } else {
      for await (const b of src) if (add(b)) await flush();
    }
    await flush();
    if (!recon || !sparse || !temporal || recon.tokens === 0)
      throw new Error('evaluation: the held-out set has no valid tokens');
    const rm = recon.result(),
      sm = sparse.result(),
      tm = temporal.result();
    const metrics: EvalMetrics = {
      ...rm,
      l0: sm.l0,
      l1: sm.l1,
      dead_count: sm.dead_count,
      dense_count: sm.dense_count,
      dead_share: sm.dead_share,
      tv_ratio: tm.tv_ratio,
      jaccard: tm.jaccard,
      autocorr: tm.autocorr,
      mean_run_length: tm.mean_run_length,
      flip_rate: tm.flip_rate,
      tokens: recon.tokens,
      pairs: tm.pairs,
    };
    const features: EvalFeatures = {
      density: arr(sparse.density()),
      logDensity: arr(logDensity(sparse.density())),
    };
    if (opts.groundTruth && decoder) {
      const g = opts.groundTruth;
      const d = recon.d;
      const match = matchTrueFeatures(g.trueDict, g.F, await decoder, m, d);
      metrics.mmcs = mmcs(match);
      metrics.recovered = recovered(match);
      features.trueMatch = { index: arr(match.index), cos: arr(match.cos) };
    }
    let literature: LiteratureMetrics | null = null;
    if (litChunks.length) {
      const dec = opts.prefixes && litDecoder ? await litDecoder : undefined;
      const lit = new LiteratureAccumulator(m, T, recon.d, opts.prefixes, dec);
      // About 2^20 entries of f per task (rows are independent here), so a page stays responsive: at
      // d_sae 4096 and T 128 that is 2 rows, ~35 ms on a 2-core machine with ~500 features per row.
      for (const c of litChunks) {
        const step = Math.max(1, Math.floor(2 ** 20 / (c.T * c.m)));
        for (let s0 = 0; s0 < c.S; s0 += step) {
          lit.add(rowsOf(c, s0, Math.min(c.S, s0 + step)));
          await nextTask();
        }
      }
      litChunks.length = 0;
      literature = lit.result();
      metrics.act_smoothness = literature.act_smoothness;
      metrics.fft_hf_ratio = literature.fft_hf_ratio;
      metrics.sequence_l0 = literature.sequence_l0;
    }
    const rb = recon.byPosition(),
      tb = temporal.byPosition();
    const byPosition: EvalByPosition = {
      recon_loss: arr(rb.recon_loss),
      l0: arr(sparse.l0ByPosition()),
      tv_ratio: arr(tb.tv_ratio),
      jaccard: arr(tb.jaccard),
      flip_rate: arr(tb.flip_rate),
      mean_run_length: arr(tb.mean_run_length),
      autocorr: arr(tb.autocorr),
      autocorr_bin_start: arr(tb.autocorr_bin_start),
      act_smoothness: literature ? arr(literature.byPosition.act_smoothness) : new Array<number>(T).fill(NaN),
      sequence_l0: literature ? arr(literature.byPosition.sequence_l0) : new Array<number>(T).fill(NaN),
      fft_hf_ratio: literature ? arr(literature.byPosition.fft_hf_ratio) : new Array<number>(T).fill(NaN),
    };
    literature?.byPosition.explained_variance_prefix?.forEach(
      (row, g) => (byPosition[`explained_variance_prefix_${g + 1}`] = arr(row)),
    );
    let clustering: EvalClustering | null = null;
    const chosen = K > 0 ? mostVariable(sparse.variance(), K) : new Int32Array(0);
    if (chosen.length >= 2) {
      const col = new TraceCollector(chosen, Math.min(maxTok, recon.tokens));
      if (gpu && keepOk && kept.length) await gatherKept(kept, heldOut, col);
      else if (gpu) await gatherTraces(gpu, heldOut, col);
      else if (cacheOk) for (const c of cache) col.add(c);
      else
        for await (const b of heldOut()) {
          if (col.full) break;
          col.add(toChunk(b, await forward(b), m));
        }
      const res = clusterTraces(col.traces, chosen, col.n, col.maxTokens);
      clustering = {
        features: arr(res.features),
        order: arr(res.order),
        linkage: {
          a: arr(res.linkage.a),
          b: arr(res.linkage.b),
          dist: arr(res.linkage.dist),
          size: arr(res.linkage.size),
        },
        ...heatmaps(col, T, nSeqHeat),
        ...fireHeat(sparse, chosen),
        tokens: col.n,
      };
    }
    const densityHist = densityHistogram(sparse.density());
    return { metrics, byPosition, densityHist, clustering, features, T, literature };
  }
}

/** Rows [s0, s1) of a chunk as a chunk (views, no copies). */
function rowsOf(c: EvalChunk, s0: number, s1: number): EvalChunk {
  if (s0 === 0 && s1 === c.S) return c;
  const { T, d, m } = c;
  const r = (a: Float32Array | Uint8Array, w: number) => a.subarray(s0 * T * w, s1 * T * w);
  return {
    ...c,
    S: s1 - s0,
    x: r(c.x, d) as Float32Array,
    xhat: r(c.xhat, d) as Float32Array,
    f: r(c.f, m) as Float32Array,
    start: r(c.start, 1) as Uint8Array,
    valid: r(c.valid, 1) as Uint8Array,
  };
}

/** A chunk from every feature gathered (feature-major [m·rows]) for the SPEC §11 metrics; x̂ is not needed. */
function gatheredChunk(b: ActivationBatch, traces: Float32Array, m: number): EvalChunk {
  const rows = b.S * b.T;
  const f = new Float32Array(rows * m);
  for (let i = 0; i < m; i++) for (let n = 0; n < rows; n++) f[n * m + i] = traces[i * rows + n];
  return {
    S: b.S,
    T: b.T,
    d: b.d,
    m,
    x: b.x,
    xhat: new Float32Array(rows * b.d),
    f,
    start: b.start,
    valid: b.valid,
  };
}

function releaseAll(kept: KeptFeatures[]): void {
  for (const k of kept) k.release();
  kept.length = 0;
}

/** The clustering traces gathered from the batches' f kept on the GPU (same batches, same order). */
async function gatherKept(kept: KeptFeatures[], heldOut: HeldOut, col: TraceCollector): Promise<void> {
  const batches: ActivationBatch[] = [];
  const src = heldOut();
  if (Symbol.iterator in src) {
    for (const b of src) if (batches.push(b) >= kept.length) break;
  } else {
    for await (const b of src) if (batches.push(b) >= kept.length) break;
  }
  let tokens = 0,
    n = 0;
  while (n < batches.length && tokens < col.maxTokens) for (const v of batches[n++].valid) tokens += v;
  const traces = await Promise.all(kept.slice(0, n).map((k) => k.gather(col.features)));
  for (let k = 0; k < n; k++) col.addGathered(batches[k], traces[k]);
}

/**
 * The clustering traces from the GPU: forward + gather of the chosen features for just enough batches to
 * fill the collector, all submitted before any is awaited (so they see one set of weights).
 */
async function gatherTraces(gpu: EvalForwardFn, heldOut: HeldOut, col: TraceCollector): Promise<void> {
  const batches: ActivationBatch[] = [];
  let tokens = 0;
  const want = (b: ActivationBatch) => {
    batches.push(b);
    for (let n = 0; n < b.valid.length; n++) tokens += b.valid[n];
    return tokens >= col.maxTokens;
  };
  const src = heldOut();
  if (Symbol.iterator in src) {
    for (const b of src) if (want(b)) break;
  } else {
    for await (const b of src) if (want(b)) break;
  }
  const pending = batches.map((b) => gpu(b, { gather: col.features, reduce: false }));
  const results = await Promise.all(pending);
  batches.forEach((b, k) => col.addGathered(b, results[k].traces!));
}

function heatmaps(col: TraceCollector, T: number, nSeq: number) {
  const K = col.features.length,
    cap = col.maxTokens;
  const sum = Array.from({ length: K }, () => new Float64Array(T));
  const cnt = new Float64Array(T);
  const seqs: number[][][] = [];
  const seqIdx = new Map<number, number>();
  for (let k = 0; k < col.n; k++) {
    const t = col.position[k];
    cnt[t]++;
    for (let j = 0; j < K; j++) sum[j][t] += col.traces[j * cap + k];
    const s = col.sequence[k];
    let si = seqIdx.get(s);
    if (si === undefined && seqIdx.size < nSeq) {
      si = seqIdx.size;
      seqIdx.set(s, si);
      seqs.push(Array.from({ length: K }, () => new Array<number>(T).fill(0)));
    }
    if (si !== undefined) for (let j = 0; j < K; j++) seqs[si][j][t] = col.traces[j * cap + k];
  }
  return {
    heatByPosition: sum.map((row) => Array.from(row, (v, t) => (cnt[t] > 0 ? v / cnt[t] : 0))),
    heatBySequence: seqs,
  };
}

function fireHeat(sparse: SparsityAccumulator, chosen: Int32Array) {
  const P = sparse.P;
  const tok = sparse.tokensByBin();
  const rows = Array.from(chosen, (i) =>
    Array.from({ length: P }, (_, b) => (tok[b] > 0 ? sparse.fireByPos[i * P + b] / tok[b] : 0)),
  );
  return { fireByPosition: rows, fireBins: P };
}
