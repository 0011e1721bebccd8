// An ActivationSource over a dense row-major tensor [S, T, d] stored at a byte offset of a file, with
// optional token ids [S, T] in the same or another file. Used by .npy, .npz and .safetensors.
import type { ActivationSource, SourceDtype } from './types';
import type { ByteSource } from './byteSource';
import { DataFileError } from './errors';
import { decodeBF16, decodeF16, decodeF32 } from './halfFloat';

export interface DenseTensor {
  src: ByteSource;
  /** Byte offset of element [0, 0, 0]. */
  offset: number;
  dtype: SourceDtype;
  bigEndian: boolean;
}

export interface DenseTokenIds {
  src: ByteSource;
  offset: number;
  /** Bytes per id: int32 or int64. */
  bytes: 4 | 8;
  bigEndian: boolean;
}

/** Largest single read a source issues. */
export const READ_CHUNK_BYTES = 16 << 20;
/** Bytes of reads a source keeps outstanding at once. */
export const IN_FLIGHT_BYTES = 32 << 20;

export const BYTES_PER: Record<SourceDtype, number> = { float32: 4, float16: 2, bfloat16: 2 };

/** Decodes `count` values of `dtype` into out[outOffset…]. */
export function decodeFloats(
  bytes: Uint8Array,
  dtype: SourceDtype,
  count: number,
  out: Float32Array,
  outOffset: number,
  bigEndian: boolean,
): void {
  if (dtype === 'float32') decodeF32(bytes, count, out, outOffset, bigEndian);
  else if (dtype === 'float16') decodeF16(bytes, count, out, outOffset, bigEndian);
  else decodeBF16(bytes, count, out, outOffset);
}

/** Decodes int32/int64 token ids; an int64 outside the int32 range is an error (no vocabulary is that big). */
export function decodeTokenIds(
  file: string,
  bytes: Uint8Array,
  width: 4 | 8,
  count: number,
  out: Int32Array,
  outOffset: number,
  bigEndian: boolean,
): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * width);
  for (let i = 0; i < count; i++) {
    if (width === 4) {
      out[outOffset + i] = dv.getInt32(4 * i, !bigEndian);
    } else {
      const v = dv.getBigInt64(8 * i, !bigEndian);
      if (v < -2147483648n || v > 2147483647n) {
        throw new DataFileError(file, `token id ${v} does not fit in int32`);
      }
      out[outOffset + i] = Number(v);
    }
  }
}

/**
 * Blocks that follow each other in the file (after sorting and removing repeats) become one read each,
 * so a sequential scan reads large contiguous chunks. Keys are block starts; block k + 1 follows block
 * k when its start is `step` later. `at` maps each start to the output positions it fills.
 */
export function contiguousRuns(
  starts: number[],
  step = 1,
  maxCount = Infinity,
): { first: number; count: number; at: Map<number, number[]> }[] {
  const at = new Map<number, number[]>();
  starts.forEach((v, pos) => {
    const l = at.get(v);
    if (l) l.push(pos);
    else at.set(v, [pos]);
  });
  const uniq = [...at.keys()].sort((a, b) => a - b);
  const out: { first: number; count: number; at: Map<number, number[]> }[] = [];
  for (const v of uniq) {
    const last = out[out.length - 1];
    if (last && v === last.first + last.count * step && last.count < maxCount) last.count++;
    else out.push({ first: v, count: 1, at });
  }
  return out;
}

export function denseActivationSource(
  name: string,
  shape: { S: number; T: number; d: number },
  x: DenseTensor,
  tokens?: DenseTokenIds,
): ActivationSource {
  const { S, T, d } = shape;
  /** Reads blocks of `len` tokens starting at flat token positions `starts` (row-major [S·T]). */
  const readBlocks = async (starts: number[], len: number) => {
    const blockElems = len * d;
    const blockBytes = blockElems * BYTES_PER[x.dtype];
    const out = new Float32Array(starts.length * blockElems);
    const ids = tokens ? new Int32Array(starts.length * len) : undefined;
    // Reads of at most ~16 MB each, several in flight (file reads are latency-bound: one at a time
    // reached a third of the disk's rate), at most IN_FLIGHT_BYTES outstanding.
    const runs = contiguousRuns(starts, len, Math.max(1, Math.floor(READ_CHUNK_BYTES / blockBytes)));
    const readRun = async (r: (typeof runs)[number]) => {
      const [bytes, tb] = await Promise.all([
        x.src.read(x.offset + r.first * d * BYTES_PER[x.dtype], r.count * blockBytes),
        tokens ? tokens.src.read(tokens.offset + r.first * tokens.bytes, r.count * len * tokens.bytes) : null,
      ]);
      for (let k = 0; k < r.count; k++) {
        for (const pos of r.at.get(r.first + k * len)!) {
          decodeFloats(
            bytes.subarray(k * blockBytes),
            x.dtype,
            blockElems,
            out,
            pos * blockElems,
            x.bigEndian,
          );
          if (tb && ids && tokens) {
            const w = tokens.bytes;
            decodeTokenIds(
              tokens.src.name,
              tb.subarray(k * len * w),
              w,
              len,
              ids,
              pos * len,
              tokens.bigEndian,
            );
          }
        }
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < runs.length) await readRun(runs[next++]);
    };
    const first = runs.length ? Math.min(READ_CHUNK_BYTES, blockBytes * runs[0].count) : 1;
    const lanes = Math.max(1, Math.min(runs.length, Math.floor(IN_FLIGHT_BYTES / first)));
    await Promise.all(Array.from({ length: lanes }, worker));
    return ids ? { x: out, tokenIds: ids } : { x: out };
  };

  return {
    name,
    numSequences: S,
    seqLen: T,
    d,
    dtype: x.dtype,
    hasTokenIds: !!tokens,
    readSequences(indices) {
      for (const i of indices) {
        if (!Number.isInteger(i) || i < 0 || i >= S)
          throw new RangeError(`${name}: sequence ${i} out of 0..${S - 1}`);
      }
      return readBlocks(
        indices.map((i) => i * T),
        T,
      );
    },
    readWindows(windows, length) {
      for (const w of windows) {
        if (!Number.isInteger(w.seq) || w.seq < 0 || w.seq >= S || w.offset < 0 || w.offset + length > T)
          throw new RangeError(`${name}: window ${w.seq}@${w.offset}+${length} outside ${S} × ${T}`);
      }
      return readBlocks(
        windows.map((w) => w.seq * T + w.offset),
        length,
      );
    },
  };
}

/** Splits a leading dimension into sequences: [S, T, d] as is, [N, d] with seqLen. */
export function sequenceShape(
  file: string,
  shape: number[],
  seqLen: number | undefined,
  flatSeqLen?: number,
): { S: number; T: number; d: number } {
  if (shape.length === 3) {
    const [S, T, d] = shape;
    if (seqLen !== undefined && seqLen !== T) {
      throw new DataFileError(
        file,
        `shape [${shape}] has ${T} positions per sequence, but sequence length ${seqLen} was given`,
      );
    }
    if (S < 1 || T < 1 || d < 1) throw new DataFileError(file, `empty activation tensor [${shape}]`);
    return { S, T, d };
  }
  if (shape.length === 2) {
    const [N, d] = shape;
    seqLen ??= flatSeqLen;
    if (seqLen === undefined) {
      throw new DataFileError(
        file,
        `activations are [N, d] = [${shape}]: give a sequence length (tokens per sequence)`,
      );
    }
    if (!Number.isInteger(seqLen) || seqLen < 1)
      throw new DataFileError(file, `sequence length ${seqLen} is not a positive integer`);
    if (N % seqLen !== 0)
      throw new DataFileError(file, `${N} rows are not a whole number of sequences of ${seqLen}`);
    if (N < 1 || d < 1) throw new DataFileError(file, `empty activation tensor [${shape}]`);
    return { S: N / seqLen, T: seqLen, d };
  }
  throw new DataFileError(file, `activations must be [S, T, d] or [N, d]; got shape [${shape}]`);
}
