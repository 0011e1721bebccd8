// Shared pieces of the model loaders (SPEC §7, files are hostile): the byte budget checked before any
// weight is allocated, config numbers checked to be sane integers, and float decoding into float32.
import { DataFileError } from '../../data/errors';
import { decodeBF16, decodeF16, decodeF32 } from '../../data/halfFloat';
import type { ByteSource } from '../../data/byteSource';

/** Default weight budget (float32 bytes): 2 GiB holds gpt2-medium (1.4 GB) with room for activations. */
export const DEFAULT_MODEL_BYTE_BUDGET = 2 ** 31;

export interface LoadOptions {
  /**
   * Largest float32 weight footprint to accept, in bytes (the adapter's memory, say). A larger model is
   * refused before any weight is read, with the bytes it needs.
   */
  maxBytes?: number;
}

/** Largest dimension a config may declare; keeps every product of two a safe integer. */
const MAX_DIM = 1 << 24;

/** A config value that must be a positive integer ≤ 2²⁴; throws naming the file and the key. */
export function positiveInt(file: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_DIM)
    throw new DataFileError(
      file,
      `${key} must be a positive integer ≤ ${MAX_DIM} (got ${JSON.stringify(v)})`,
    );
  return v;
}

/** Refuses a model whose float32 weights (`floats` values) exceed the budget, before allocating. */
export function checkBudget(file: string, floats: number, opts: LoadOptions): number {
  const bytes = floats * 4;
  const budget = opts.maxBytes ?? DEFAULT_MODEL_BYTE_BUDGET;
  if (!Number.isSafeInteger(bytes) || bytes > budget)
    throw new DataFileError(
      file,
      `the model needs ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB) of float32 weights, ` +
        `more than the ${budget} bytes (${(budget / 2 ** 20).toFixed(1)} MiB) allowed`,
    );
  return bytes;
}

export type FloatDtype = 'F32' | 'F16' | 'BF16';

/** Reads `count` floats of `dtype` at `offset` of `src` into a new float32 array. */
export async function readFloats(
  src: ByteSource,
  offset: number,
  count: number,
  dtype: FloatDtype,
): Promise<Float32Array> {
  const elem = dtype === 'F32' ? 4 : 2;
  const bytes = await src.read(offset, count * elem);
  const out = new Float32Array(count);
  if (dtype === 'F32') decodeF32(bytes, count, out, 0);
  else if (dtype === 'F16') decodeF16(bytes, count, out, 0);
  else {
    // decodeBF16 reads bytes one at a time, so an unaligned view is fine.
    decodeBF16(bytes, count, out, 0);
  }
  return out;
}

/** [rows, cols] → [cols, rows] (HF Linear and llama2.c store [out, in]; the model wants [in, out]). */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
