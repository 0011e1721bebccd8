// The streaming batcher (SPEC §2): batches of S whole sequences × T consecutive positions, sequences
// in a seeded shuffled order, tokens inside a sequence never reordered. A source sequence longer than
// T is cut into consecutive windows of T (a tail shorter than T is dropped); each window is a sequence
// of the batch, starting with start = 1. The held-out split is made over *source* sequences, so no
// window of a held-out sequence is ever trained on.
//
// Memory: only the batch being delivered and `prefetch` batches in flight are in host memory, plus the
// shuffled order (4 bytes per window). `createBatcher` refuses options whose estimate passes
// `maxHostBytes` instead of finding out later.
//
// Resume: the order of epoch e is a pure function of (seed, e), so { epoch, cursor } and the input
// scale are the whole state (getState / options.resume).
import { DataFileError } from './errors';
import { Rng } from './rng';
import type { ActivationBatch, ActivationSource } from './types';

/** Default seed of the held-out split (the same for every run on a dataset). */
export const HELD_OUT_SPLIT_SEED = 0x5eed;

export interface BatcherOptions {
  /** S: sequences per batch. */
  seqsPerBatch: number;
  /** T: positions per sequence (SAELens context_size). */
  contextSize: number;
  seed: number;
  /** Share of source sequences held out for evaluation (0..0.5). Ignored when heldOutSource is set. */
  heldOutFraction?: number;
  /**
   * Seed of the held-out split (default HELD_OUT_SPLIT_SEED, not the run's seed): runs that differ only
   * in their seed are evaluated on the same held-out sequences, so their metrics compare.
   */
  splitSeed?: number;
  /** A separate held-out dataset (same width); then all of `source` is training data. */
  heldOutSource?: ActivationSource;
  /** Token ids that start a new document inside a sequence (BOS / separator). */
  docStartTokenIds?: number[];
  /** Padding token id: valid = 0 there. */
  padTokenId?: number | null;
  /** 'expected_average_only_in': scale x so that mean ‖x‖² = d (SPEC §7, like SAELens). */
  normalize?: 'none' | 'expected_average_only_in';
  /** Training batches used to estimate the input scale. */
  normBatches?: number;
  /** Rows with NaN/Inf: 'skip' zeroes them and sets valid = 0 (counted), 'reject' throws. */
  nonFinite?: 'skip' | 'reject';
  /** Host memory cap in bytes (default 256 MB). */
  maxHostBytes?: number;
  /** Batches assembled ahead of the one being delivered (default 1). */
  prefetch?: number;
  /** Continue exactly where a previous batcher stopped. */
  resume?: BatcherState;
}

export interface BatcherState {
  epoch: number;
  /** Batches delivered in this epoch. */
  cursor: number;
  /** The input scale in use (1 when not normalizing). */
  scale: number;
  /** Seed the order was derived from (a resumed batcher must use the same). */
  seed: number;
  nonFiniteRowsSkipped: number;
}

export interface Batcher {
  readonly source: ActivationSource;
  /** Multiply raw activations by this; exports fold it in (SAELens `expected_average_only_in`). */
  readonly scale: number;
  /** Training windows per epoch, and batches per epoch. */
  readonly trainWindows: number;
  readonly batchesPerEpoch: number;
  /** Held-out windows (never trained on). */
  readonly heldOutWindows: number;
  /** Rows with NaN/Inf zeroed and marked invalid so far (nonFinite: 'skip'). */
  readonly nonFiniteRowsSkipped: number;
  /** The next training batch (already prefetched when the trainer is slower than the disk). */
  next(): Promise<ActivationBatch>;
  /** Held-out batches in a fixed order (the last one may have fewer sequences). */
  heldOutBatches(): AsyncGenerator<ActivationBatch>;
  getState(): BatcherState;
  /** Estimated peak host bytes of this batcher. */
  readonly hostBytes: number;
}

/** Window u of a source: sequence `seq`, positions [offset, offset + T). */
interface WindowRef {
  seq: number;
  offset: number;
}

export async function createBatcher(source: ActivationSource, opts: BatcherOptions): Promise<Batcher> {
  const S = opts.seqsPerBatch;
  const T = opts.contextSize;
  const d = source.d;
  const maxHostBytes = opts.maxHostBytes ?? 256 * 2 ** 20;
  const prefetch = Math.max(0, opts.prefetch ?? 1);
  const nonFinite = opts.nonFinite ?? 'skip';
  if (!Number.isInteger(S) || S < 1 || !Number.isInteger(T) || T < 1)
    throw new Error(`batch shape S=${S}, T=${T} must be positive integers`);
  if (T > source.seqLen) {
    throw new DataFileError(
      source.name,
      `sequences have ${source.seqLen} tokens, shorter than the context size ${T}`,
    );
  }
  const heldOut = opts.heldOutSource;
  if (heldOut) {
    if (heldOut.d !== d)
      throw new DataFileError(
        heldOut.name,
        `held-out width ${heldOut.d} differs from the training data's ${d}`,
      );
    if (T > heldOut.seqLen)
      throw new DataFileError(
        heldOut.name,
        `held-out sequences have ${heldOut.seqLen} tokens, fewer than ${T}`,
      );
  }
  const W = Math.floor(source.seqLen / T); // windows per source sequence

  // Held-out split over whole source sequences, from its own seed (see splitSeed).
  const frac = heldOut ? 0 : Math.min(0.5, Math.max(0, opts.heldOutFraction ?? 0));
  const all = new Int32Array(source.numSequences).map((_, i) => i);
  new Rng(opts.splitSeed ?? HELD_OUT_SPLIT_SEED, 7).shuffle(all);
  const nHeld = frac > 0 ? Math.max(1, Math.round(frac * source.numSequences)) : 0;
  const heldSeqs = Int32Array.from(all.subarray(0, nHeld)).sort();
  const trainSeqs = Int32Array.from(all.subarray(nHeld)).sort();
  const trainWindows = trainSeqs.length * W;
  if (trainWindows < S) {
    throw new DataFileError(
      source.name,
      `only ${trainWindows} training sequences of ${T} tokens; a batch needs ${S}`,
    );
  }
  const batchesPerEpoch = Math.floor(trainWindows / S);

  // Memory estimate: each in-flight batch holds the bytes read from the file, their float32 decoding
  // (whole source sequences, or only the windows when the source has readWindows) and the batch;
  // buffers of delivered batches live until the garbage
  // collector runs. The 2 GB test measured up to 2.1× the live bytes (128 MB of ArrayBuffers for
  // 60 MB live, S 16 × T 128 × d 768, prefetch 2), so the estimate counts them three times.
  const readLen = source.readWindows ? T : source.seqLen;
  const readBytes = S * readLen * (d * 4 + 4) * 2;
  const batchBytes = S * T * (d * 4 + 4 + 2) + S * 8;
  const hostBytes =
    3 * ((prefetch + 1) * (readBytes + batchBytes) + batchBytes) + trainWindows * 4 + source.numSequences * 8;
  if (hostBytes > maxHostBytes) {
    throw new Error(
      `a batch of ${S} × ${T} (source sequences of ${source.seqLen} × ${d}) needs about ${(hostBytes / 2 ** 20).toFixed(0)} MB ` +
        `of host memory with prefetch ${prefetch}, over the ${(maxHostBytes / 2 ** 20).toFixed(0)} MB cap`,
    );
  }

  const docStarts = new Set(opts.docStartTokenIds ?? []);
  const pad = opts.padTokenId ?? null;
  let skipped = opts.resume?.nonFiniteRowsSkipped ?? 0;

  // Order of epoch e: a Fisher–Yates permutation of the training windows from Rng(seed, 1000 + e).
  let orderEpoch = -1;
  let order = new Int32Array(0);
  const windowOf = (u: number): WindowRef => ({ seq: trainSeqs[Math.floor(u / W)], offset: (u % W) * T });
  const orderFor = (epoch: number): Int32Array => {
    if (orderEpoch !== epoch) {
      order = new Int32Array(trainWindows).map((_, i) => i);
      new Rng(opts.seed, 1000 + epoch).shuffle(order);
      orderEpoch = epoch;
    }
    return order;
  };

  /** Reads windows and builds a batch (x unscaled when scale = 1). */
  const assemble = async (
    src: ActivationSource,
    wins: WindowRef[],
    scale: number,
  ): Promise<{ batch: ActivationBatch; bad: number }> => {
    const n = wins.length;
    const L = src.seqLen;
    const seqIndex = Int32Array.from(wins, (w) => w.seq);
    const posOffset = Int32Array.from(wins, (w) => w.offset);
    let x: Float32Array;
    let tokenIds: Int32Array | undefined;
    const seqs = [...new Set(seqIndex)];
    if (L === T && seqs.length === n) {
      // Each window is a whole source sequence: the read already has the batch layout.
      ({ x, tokenIds } = await src.readSequences(seqs));
    } else if (src.readWindows) {
      // Long sequences: read just the windows (no whole sequence per window).
      ({ x, tokenIds } = await src.readWindows(wins, T));
    } else {
      const raw = await src.readSequences(seqs);
      x = new Float32Array(n * T * d);
      tokenIds = raw.tokenIds ? new Int32Array(n * T) : undefined;
      const slot = new Map(seqs.map((s, i) => [s, i]));
      wins.forEach((w, s) => {
        const base = slot.get(w.seq)! * L + w.offset;
        x.set(raw.x.subarray(base * d, (base + T) * d), s * T * d);
        if (tokenIds && raw.tokenIds) tokenIds.set(raw.tokenIds.subarray(base, base + T), s * T);
      });
    }
    const start = new Uint8Array(n * T);
    const valid = new Uint8Array(n * T).fill(1);
    let bad = 0;
    for (let r = 0; r < n * T; r++) {
      const t = r % T;
      const id = tokenIds ? tokenIds[r] : -1;
      if (t === 0 || (tokenIds && docStarts.has(id))) start[r] = 1;
      if (tokenIds && pad !== null && id === pad) valid[r] = 0;
      // v·0 is NaN exactly when v is NaN or ±Inf: one branch-free pass per row.
      let probe = 0;
      for (let j = r * d; j < (r + 1) * d; j++) probe += x[j] * 0;
      const finite = probe === 0;
      if (!finite) {
        const s = Math.floor(r / T);
        if (nonFinite === 'reject') {
          throw new DataFileError(
            src.name,
            `NaN or Inf in sequence ${seqIndex[s]}, position ${posOffset[s] + t}`,
          );
        }
        x.fill(0, r * d, (r + 1) * d);
        valid[r] = 0;
        bad++;
      }
    }
    if (scale !== 1) for (let j = 0; j < x.length; j++) x[j] *= scale;
    const batch: ActivationBatch = { S: n, T, d, x, start, valid, seqIndex, posOffset };
    if (tokenIds) batch.tokenIds = tokenIds;
    return { batch, bad };
  };

  const trainBatchAt = (epoch: number, cursor: number, scale: number) => {
    const o = orderFor(epoch);
    const wins: WindowRef[] = [];
    for (let s = 0; s < S; s++) wins.push(windowOf(o[cursor * S + s]));
    return assemble(source, wins, scale);
  };

  // Input scale (SPEC §7): sqrt(d / mean ‖x‖²) over the valid rows of the first training batches of
  // epoch 0. SAELens divides by the mean norm instead; both agree when norms are equal. Estimated
  // from fixed positions so a resumed run gets the same number (it is stored in the state anyway).
  let scale = opts.resume?.scale ?? 1;
  if (!opts.resume && opts.normalize === 'expected_average_only_in') {
    const nb = Math.min(batchesPerEpoch, Math.max(1, opts.normBatches ?? 8));
    let sum = 0;
    let rows = 0;
    for (let b = 0; b < nb; b++) {
      const { batch } = await trainBatchAt(0, b, 1);
      for (let r = 0; r < batch.S * T; r++) {
        if (!batch.valid[r]) continue;
        let q = 0;
        for (let j = r * d; j < (r + 1) * d; j++) q += batch.x[j] * batch.x[j];
        sum += q;
        rows++;
      }
    }
    if (rows === 0 || sum === 0)
      throw new DataFileError(
        source.name,
        'cannot estimate the input scale: the first batches have no non-zero valid rows',
      );
    scale = Math.sqrt((d * rows) / sum);
  }

  let epoch = opts.resume?.epoch ?? 0;
  let cursor = opts.resume?.cursor ?? 0;
  if (opts.resume && opts.resume.seed !== opts.seed)
    throw new Error(`resume state was made with seed ${opts.resume.seed}, not ${opts.seed}`);
  const queue: Promise<{ batch: ActivationBatch; bad: number }>[] = [];
  let qEpoch = epoch;
  let qCursor = cursor;
  const enqueue = () => {
    const p = trainBatchAt(qEpoch, qCursor, scale);
    p.catch(() => undefined); // surfaced when next() awaits it
    queue.push(p);
    qCursor++;
    if (qCursor >= batchesPerEpoch) {
      qCursor = 0;
      qEpoch++;
    }
  };

  const heldWindows: { src: ActivationSource; wins: WindowRef[] } = heldOut
    ? { src: heldOut, wins: [] }
    : { src: source, wins: [] };
  {
    const hs = heldOut ? Int32Array.from({ length: heldOut.numSequences }, (_, i) => i) : heldSeqs;
    const hw = Math.floor(heldWindows.src.seqLen / T);
    for (const seq of hs) for (let k = 0; k < hw; k++) heldWindows.wins.push({ seq, offset: k * T });
  }

  return {
    source,
    get scale() {
      return scale;
    },
    trainWindows,
    batchesPerEpoch,
    heldOutWindows: heldWindows.wins.length,
    get nonFiniteRowsSkipped() {
      return skipped;
    },
    hostBytes,
    async next() {
      while (queue.length < 1 + prefetch) enqueue();
      const p = queue.shift()!;
      let got: { batch: ActivationBatch; bad: number };
      try {
        got = await p;
      } catch (e) {
        // Drop what was prefetched so a retry re-reads this very position.
        queue.length = 0;
        qEpoch = epoch;
        qCursor = cursor;
        throw e;
      }
      const { batch, bad } = got;
      skipped += bad; // counted on delivery so the state matches what training has seen
      cursor++;
      if (cursor >= batchesPerEpoch) {
        cursor = 0;
        epoch++;
      }
      while (queue.length < prefetch) enqueue();
      return batch;
    },
    async *heldOutBatches() {
      const { src, wins } = heldWindows;
      for (let i = 0; i < wins.length; i += S) yield (await assemble(src, wins.slice(i, i + S), scale)).batch;
    },
    getState() {
      return { epoch, cursor, scale, seed: opts.seed, nonFiniteRowsSkipped: skipped };
    },
  };
}
