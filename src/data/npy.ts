// .npy reader (numpy format versions 1.0, 2.0, 3.0; numpy/lib/format.py). Only the header is parsed
// eagerly; the data is read per sequence. Untrusted input (SPEC §7): header ≤ 10 000 bytes, no object
// dtypes (they would need unpickling, which we never do), file length exactly header + data.
import type { ByteSource } from './byteSource';
import { DataFileError, check } from './errors';
import { denseActivationSource, sequenceShape, type DenseTokenIds } from './tensorSource';
import type { ActivationSource, SourceDtype } from './types';

export const NPY_MAX_HEADER = 10_000;

export type NpyDtype = SourceDtype | 'int32' | 'int64';

export interface NpyHeader {
  dtype: NpyDtype;
  bigEndian: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
  /** Bytes of data (product of shape × element size). */
  dataBytes: number;
}

const ELEM: Record<NpyDtype, number> = { float32: 4, float16: 2, bfloat16: 2, int32: 4, int64: 8 };

function parseDescr(file: string, descr: string): { dtype: NpyDtype; bigEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m || /O/.test(descr)) {
    if (/O/.test(descr))
      throw new DataFileError(file, `object dtype '${descr}' refused: it would need unpickling`);
    throw new DataFileError(file, `unsupported dtype '${descr}' (use float32 or float16)`);
  }
  const [, order, kind, size] = m;
  const bigEndian = order === '>';
  const key = `${kind}${size}`;
  const map: Record<string, NpyDtype> = { f4: 'float32', f2: 'float16', i4: 'int32', i8: 'int64' };
  const dtype = map[key];
  if (!dtype) throw new DataFileError(file, `unsupported dtype '${descr}' (use float32 or float16)`);
  return { dtype, bigEndian };
}

/** Parses the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }. */
export function parseNpyHeaderText(file: string, text: string): Omit<NpyHeader, 'dataOffset' | 'dataBytes'> {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  if (!descr) {
    if (/'descr'\s*:\s*\[/.test(text))
      throw new DataFileError(file, 'structured (record) dtypes are not supported');
    throw new DataFileError(file, "npy header has no 'descr'");
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  check(fortran, file, "npy header has no 'fortran_order'");
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  check(shapeM, file, "npy header has no 'shape'");
  const parts = shapeM[1]
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const shape = parts.map((p) => {
    check(/^\d+L?$/.test(p), file, `bad shape entry '${p}'`);
    const v = Number(p.replace('L', ''));
    check(Number.isSafeInteger(v), file, `shape entry ${p} too large`);
    return v;
  });
  const { dtype, bigEndian } = parseDescr(file, descr[1]);
  if (fortran[1] === 'True' && shape.filter((s) => s > 1).length > 1) {
    throw new DataFileError(
      file,
      'Fortran-ordered arrays are not supported (save with np.ascontiguousarray)',
    );
  }
  return { dtype, bigEndian, shape };
}

/** Reads and checks the header of an .npy stored in `src` (the whole source is the .npy). */
export async function readNpyHeader(src: ByteSource): Promise<NpyHeader> {
  const file = src.name;
  check(src.size >= 10, file, `truncated file: ${src.size} bytes is too short for an .npy header`);
  const pre = await src.read(0, 12 <= src.size ? 12 : 10);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  check(
    magic.every((b, i) => pre[i] === b),
    file,
    'not an .npy file (bad magic)',
  );
  const major = pre[6];
  check(major >= 1 && major <= 3, file, `unsupported .npy version ${major}.${pre[7]}`);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = pre[8] | (pre[9] << 8);
    start = 10;
  } else {
    check(pre.length >= 12, file, 'truncated file: header length missing');
    headerLen = (pre[8] | (pre[9] << 8) | (pre[10] << 16) | (pre[11] << 24)) >>> 0;
    start = 12;
  }
  check(headerLen <= NPY_MAX_HEADER, file, `header too large: ${headerLen} bytes (limit ${NPY_MAX_HEADER})`);
  check(
    start + headerLen <= src.size,
    file,
    `header length ${headerLen} runs past the end of the file (${src.size} bytes)`,
  );
  const hb = await src.read(start, headerLen);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(hb);
  } catch {
    throw new DataFileError(file, 'npy header is not valid UTF-8');
  }
  const h = parseNpyHeaderText(file, text);
  const n = h.shape.reduce((a, b) => a * b, 1);
  const dataBytes = n * ELEM[h.dtype];
  check(Number.isSafeInteger(dataBytes), file, `shape [${h.shape}] is too large`);
  const dataOffset = start + headerLen;
  const expected = dataOffset + dataBytes;
  if (src.size < expected) {
    throw new DataFileError(
      file,
      `truncated file: shape [${h.shape}] needs ${expected} bytes, the file has ${src.size}`,
    );
  }
  if (src.size > expected) {
    throw new DataFileError(
      file,
      `${src.size - expected} trailing bytes after the data of shape [${h.shape}]`,
    );
  }
  return { ...h, dataOffset, dataBytes };
}

export interface NpyOptions {
  /** Tokens per sequence, required when the activations are [N, d]. */
  seqLen?: number;
  flatSeqLen?: number;
}

/** An .npy of activations [S, T, d] or [N, d] (float32 / float16), optionally with token ids beside it. */
export async function openNpy(
  src: ByteSource,
  opts: NpyOptions = {},
  tokenIds?: { src: ByteSource; header: NpyHeader },
  name = src.name,
): Promise<ActivationSource> {
  const h = await readNpyHeader(src);
  if (h.dtype === 'int32' || h.dtype === 'int64') {
    throw new DataFileError(src.name, `activations must be float32 or float16, got ${h.dtype}`);
  }
  const shape = sequenceShape(src.name, h.shape, opts.seqLen, opts.flatSeqLen);
  let tokens: DenseTokenIds | undefined;
  if (tokenIds) {
    const th = tokenIds.header;
    const tfile = tokenIds.src.name;
    if (th.dtype !== 'int32' && th.dtype !== 'int64')
      throw new DataFileError(tfile, `token_ids must be int32 or int64, got ${th.dtype}`);
    const n = th.shape.reduce((a, b) => a * b, 1);
    check(
      n === shape.S * shape.T,
      tfile,
      `token_ids shape [${th.shape}] does not match ${shape.S} sequences × ${shape.T} positions`,
    );
    tokens = {
      src: tokenIds.src,
      offset: th.dataOffset,
      bytes: th.dtype === 'int32' ? 4 : 8,
      bigEndian: th.bigEndian,
    };
  }
  return denseActivationSource(
    name,
    shape,
    { src, offset: h.dataOffset, dtype: h.dtype, bigEndian: h.bigEndian },
    tokens,
  );
}
