// .safetensors reader (huggingface/safetensors format: u64 LE header length, JSON header, data).
// Checks per SPEC §7: header ≤ 100 MB, every tensor's byte range matches its dtype × shape, ranges are
// contiguous from 0 with no overlap or gap, and the file ends exactly where the last tensor does.
// Activations: the float tensor (F32/F16/BF16) named `activations`, or the only float tensor, of
// shape [S, T, d] (or [N, d] with a sequence length); `token_ids` [S, T] as I32/I64 when present.
import type { ByteSource } from './byteSource';
import { DataFileError, check } from './errors';
import { denseActivationSource, sequenceShape, type DenseTokenIds } from './tensorSource';
import type { ActivationSource, SourceDtype } from './types';

export const SAFETENSORS_MAX_HEADER = 100_000_000;

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};
const FLOAT: Record<string, SourceDtype> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  bytes: number;
}

export async function readSafetensorsHeader(
  src: ByteSource,
): Promise<{ tensors: SafetensorsTensor[]; metadata: Record<string, string> }> {
  const file = src.name;
  check(src.size >= 8, file, 'truncated file: too short for a safetensors header length');
  const lenBytes = await src.read(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  check(
    n <= BigInt(SAFETENSORS_MAX_HEADER),
    file,
    `header too large: ${n} bytes (limit ${SAFETENSORS_MAX_HEADER})`,
  );
  const headerLen = Number(n);
  check(
    8 + headerLen <= src.size,
    file,
    `header length ${headerLen} runs past the end of the file (${src.size} bytes)`,
  );
  const text = new TextDecoder('utf-8', { fatal: false }).decode(await src.read(8, headerLen));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataFileError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  check(json && typeof json === 'object' && !Array.isArray(json), file, 'header is not a JSON object');
  const dataStart = 8 + headerLen;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object') metadata = v as Record<string, string>;
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    check(t && typeof t === 'object', file, `tensor '${name}' has no description`);
    check(typeof t.dtype === 'string', file, `tensor '${name}' has no dtype`);
    const elem = DTYPE_BYTES[t.dtype];
    check(elem !== undefined, file, `tensor '${name}' has unknown dtype '${t.dtype}'`);
    check(
      Array.isArray(t.shape) && t.shape.every((s) => Number.isSafeInteger(s) && s >= 0),
      file,
      `tensor '${name}' has a bad shape`,
    );
    const shape = t.shape as number[];
    const off = t.data_offsets;
    check(
      Array.isArray(off) &&
        off.length === 2 &&
        off.every((o) => Number.isSafeInteger(o) && o >= 0) &&
        off[0] <= off[1],
      file,
      `tensor '${name}' has bad data_offsets`,
    );
    const [b, e] = off as [number, number];
    const need = shape.reduce((a, s) => a * s, 1) * elem;
    check(
      e - b === need,
      file,
      `tensor '${name}' spans ${e - b} bytes but ${t.dtype}[${shape}] needs ${need}`,
    );
    tensors.push({ name, dtype: t.dtype, shape, offset: dataStart + b, bytes: need });
  }
  // Contiguous, no overlap, no gap, exact length.
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset || a.bytes - b.bytes);
  let at = dataStart;
  for (const t of sorted) {
    if (t.offset < at) throw new DataFileError(file, `tensor '${t.name}' overlaps the previous tensor`);
    if (t.offset > at)
      throw new DataFileError(file, `gap of ${t.offset - at} bytes before tensor '${t.name}'`);
    at = t.offset + t.bytes;
  }
  if (at > src.size)
    throw new DataFileError(file, `truncated file: tensors need ${at} bytes, the file has ${src.size}`);
  if (at < src.size) throw new DataFileError(file, `${src.size - at} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

export interface SafetensorsOptions {
  seqLen?: number;
  flatSeqLen?: number;
  /** Name of the activation tensor when the file holds several float tensors. */
  tensorName?: string;
}

export async function openSafetensors(
  src: ByteSource,
  opts: SafetensorsOptions = {},
): Promise<ActivationSource> {
  const file = src.name;
  const { tensors } = await readSafetensorsHeader(src);
  const ids = tensors.find((t) => t.name === 'token_ids');
  const others = tensors.filter((t) => t !== ids);
  let act: SafetensorsTensor | undefined;
  if (opts.tensorName) {
    act = others.find((t) => t.name === opts.tensorName);
    check(act, file, `no tensor named '${opts.tensorName}'`);
  } else {
    const floats = others.filter((t) => FLOAT[t.dtype]);
    act = floats.find((t) => t.name === 'activations') ?? (floats.length === 1 ? floats[0] : undefined);
    if (!act) {
      if (floats.length === 0) {
        const what = others.map((t) => `${t.name} (${t.dtype})`).join(', ') || 'nothing';
        throw new DataFileError(file, `no F32/F16/BF16 activation tensor; the file holds ${what}`);
      }
      throw new DataFileError(
        file,
        `several float tensors (${floats.map((t) => t.name).join(', ')}); name one 'activations'`,
      );
    }
  }
  const dtype = FLOAT[act.dtype];
  check(dtype, file, `unsupported dtype ${act.dtype} for '${act.name}' (use F32, F16 or BF16)`);
  const shape = sequenceShape(file, act.shape, opts.seqLen, opts.flatSeqLen);
  let tokens: DenseTokenIds | undefined;
  if (ids) {
    check(ids.dtype === 'I32' || ids.dtype === 'I64', file, `token_ids must be I32 or I64, got ${ids.dtype}`);
    const n = ids.shape.reduce((a, s) => a * s, 1);
    check(
      n === shape.S * shape.T,
      file,
      `token_ids [${ids.shape}] does not match ${shape.S} sequences × ${shape.T} positions`,
    );
    tokens = { src, offset: ids.offset, bytes: ids.dtype === 'I32' ? 4 : 8, bigEndian: false };
  }
  return denseActivationSource(file, shape, { src, offset: act.offset, dtype, bigEndian: false }, tokens);
}
