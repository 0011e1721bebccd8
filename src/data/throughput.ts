// Loader throughput for `npm run bench` (issue 4: the loader must be ≥ 10× faster than the trainer
// consumes tokens). Measures the whole host path the trainer sees — .npy parsing, per-sequence
// reads, f16 → f32 decoding, shuffled batch assembly, finite check — over an in-memory file so the
// number does not depend on the disk cache; real files add the OS read rate on top.
import { createBatcher } from './batcher';
import { bytesByteSource } from './byteSource';
import { openNpy } from './npy';
import { encodeNpy, toF16 } from './npyWrite';
import { Rng } from './rng';

export interface LoaderThroughputOptions {
  d?: number;
  seqLen?: number;
  seqsPerBatch?: number;
  /** Batches timed per dtype. */
  batches?: number;
  seed?: number;
}

export interface LoaderThroughput {
  /** Tokens per second delivered by `batcher.next()`. */
  float32: number;
  float16: number;
  shape: { d: number; seqLen: number; seqsPerBatch: number };
}

export async function measureLoaderThroughput(opts: LoaderThroughputOptions = {}): Promise<LoaderThroughput> {
  const d = opts.d ?? 768;
  const T = opts.seqLen ?? 128;
  const S = opts.seqsPerBatch ?? 16;
  const batches = opts.batches ?? 24;
  const seed = opts.seed ?? 1;
  const numSeq = 4 * S; // cycles through epochs: keeps the file small, every batch still re-read and decoded
  const rng = new Rng(seed, 3);
  const x = new Float32Array(numSeq * T * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const rate = async (bytes: Uint8Array): Promise<number> => {
    const src = await openNpy(bytesByteSource(bytes, 'bench.npy'));
    const b = await createBatcher(src, { seqsPerBatch: S, contextSize: T, seed, prefetch: 1 });
    await b.next(); // warm-up (f16 table, JIT)
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) await b.next();
    return (batches * S * T) / ((performance.now() - t0) / 1000);
  };
  const float32 = await rate(encodeNpy(x, [numSeq, T, d], '<f4'));
  const float16 = await rate(encodeNpy(toF16(x), [numSeq, T, d], '<f2'));
  return { float32, float16, shape: { d, seqLen: T, seqsPerBatch: S } };
}
