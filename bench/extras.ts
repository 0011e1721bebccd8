// The bench's host-side lines: data-loader throughput next to the trainer's consumption rate (issue 4
// asks the loader to keep ≥ 10× ahead), and the temporal clustering time (issue 6: 256 features × 64k
// tokens). Both call the real code: src/data's parsers and batcher, src/analysis's clustering.
import { benchClustering } from '../src/analysis/clusteringBench';
import { createBatcher } from '../src/data/batcher';
import { bytesByteSource } from '../src/data/byteSource';
import { toF16 } from '../src/data/npyWrite';
import { openSafetensors } from '../src/data/safetensors';
import { measureLoaderThroughput } from '../src/data/throughput';
import { Rng } from '../src/data/rng';

export interface LoaderRates {
  npy_f32: number;
  npy_f16: number;
  safetensors_f32: number;
  safetensors_f16: number;
}

/** A .safetensors file holding one activation tensor [S, T, d] (F32 or F16 bits), per the format spec. */
export function safetensorsBytes(data: Float32Array | Uint16Array, shape: number[]): Uint8Array {
  const dtype = data instanceof Float32Array ? 'F32' : 'F16';
  let json = JSON.stringify({ activations: { dtype, shape, data_offsets: [0, data.byteLength] } });
  json += ' '.repeat((8 - (json.length % 8)) % 8); // 8-byte aligned data, as the reference writer does
  const header = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + header.length + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 8 + header.length);
  return out;
}

/**
 * Tokens/s that `batcher.next()` delivers at the trainer's batch shape. .npy: src/data's own
 * measureLoaderThroughput; .safetensors: the same method (in-memory file of 4 batches' worth of
 * sequences, one warm-up batch, `batches` timed) through openSafetensors.
 */
export async function loaderRates(d: number, S: number, T: number, batches = 12): Promise<LoaderRates> {
  const npy = await measureLoaderThroughput({ d, seqLen: T, seqsPerBatch: S, batches });
  const numSeq = 4 * S;
  const rng = new Rng(1, 3);
  const x = Float32Array.from({ length: numSeq * T * d }, () => rng.normal());
  const rate = async (bytes: Uint8Array): Promise<number> => {
    const src = await openSafetensors(bytesByteSource(bytes, 'bench.safetensors'));
    const b = await createBatcher(src, { seqsPerBatch: S, contextSize: T, seed: 1, prefetch: 1 });
    await b.next();
    const t0 = performance.now();
    for (let i = 0; i < batches; i++) await b.next();
    return (batches * S * T) / ((performance.now() - t0) / 1000);
  };
  return {
    npy_f32: npy.float32,
    npy_f16: npy.float16,
    safetensors_f32: await rate(safetensorsBytes(x, [numSeq, T, d])),
    safetensors_f16: await rate(safetensorsBytes(toF16(x), [numSeq, T, d])),
  };
}

/** Clustering of 256 features × 65,536 tokens (correlation + average linkage + leaf order), best of 3. */
export function clusteringTime(): { features: number; tokens: number; density: number; ms: number } {
  const r = benchClustering({ K: 256, N: 65_536, repeats: 3 });
  return { features: r.K, tokens: r.N, density: r.density, ms: r.ms };
}
