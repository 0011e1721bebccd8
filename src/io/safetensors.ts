// safetensors writer and strict reader for SAE weights, sparsity and checkpoints.
// Format (huggingface/safetensors): u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data.
// Strict checks of SPEC §7 for untrusted files: header ≤ 100 MB, inside the file, valid JSON of the
// right shape, known dtypes, byte size = product of the shape × dtype size, tensors contiguous in
// offset order with no gap or overlap, covering the data exactly, and the file length exact.
import { SaeFileError } from './errors';

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I32' | 'I64' | 'U8';

const DTYPE_BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1 };

/** SPEC §7: a larger header is refused before it is read. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** The tensor's bytes, little-endian, a view into the file (aligned copy when the file's offset is not). */
  bytes: Uint8Array;
}

export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** A tensor to write; typed arrays are written in their own dtype. */
export type TensorInput = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface TensorToWrite {
  data: TensorInput;
  shape: number[];
}

function dtypeOf(a: TensorInput): SafeDtype {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Float64Array) return 'F64';
  if (a instanceof Int32Array) return 'I32';
  return 'U8';
}

/** Parts laid end to end, in one buffer. */
export function concatParts(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Serialize tensors (in the given key order) and string metadata into one buffer. */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array {
  return concatParts(writeSafetensorsParts(tensors, metadata));
}

/**
 * The file as parts — the header, then views of the tensors' own bytes — so large checkpoints are
 * written without a second copy in memory. The header is padded with spaces to a multiple of 8 bytes,
 * as the reference implementation does, so every tensor starts 8-byte aligned.
 */
export function writeSafetensorsParts(
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const specs: { name: string; dtype: SafeDtype; shape: number[] }[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`writeSafetensors: ${name} has ${t.data.length} values but shape [${t.shape}]`);
    specs.push({ name, dtype: dtypeOf(t.data), shape: t.shape });
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return [safetensorsHeaderBytes(specs, metadata), ...parts];
}

/**
 * The header (8-byte length + JSON) of a file holding these tensors in this order: what a streamed
 * writer puts first, before the tensors' bytes follow one by one.
 */
export function safetensorsHeaderBytes(
  specs: { name: string; dtype: SafeDtype; shape: number[] }[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of specs) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const head = new Uint8Array(8 + hb.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(hb.length), true);
  head.set(hb, 8);
  return head;
}

/** A tensor's place in a safetensors file: `begin`/`end` are byte offsets into the data section. */
export interface SafeEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** The checked header of a safetensors file: its tensors (in offset order), metadata, where data starts. */
export interface SafeHeader {
  entries: SafeEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/**
 * The length of a safetensors header from the file's first 8 bytes, checked against the SPEC §7 limit
 * and the file's length (a streamed reader reads this many bytes after the first 8).
 */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number, fileName: string): number {
  if (fileLength < 8 || first8.length < 8)
    throw new SaeFileError(
      fileName,
      `not a safetensors file: ${fileLength} bytes, shorter than the 8-byte header length`,
    );
  const n64 = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    throw new SaeFileError(
      fileName,
      `header length ${n64} bytes is over the ${MAX_HEADER_BYTES}-byte limit (SPEC §7)`,
    );
  const n = Number(n64);
  if (8 + n > fileLength)
    throw new SaeFileError(
      fileName,
      `header (${n} bytes) runs past the end of the file (${fileLength} bytes)`,
    );
  return n;
}

/** Parse and check a whole safetensors file. Throws SaeFileError naming `file` and the problem. */
export function readSafetensors(file: Uint8Array, fileName: string): SafeFile {
  const n = safetensorsHeaderLength(file.subarray(0, 8), file.length, fileName);
  const { entries, metadata, dataStart } = parseSafetensorsHeader(
    file.subarray(8, 8 + n),
    file.length,
    fileName,
  );
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    let bytes = file.subarray(dataStart + e.begin, dataStart + e.end);
    // Typed-array views need their element alignment; copy the few tensors that are not aligned.
    if ((bytes.byteOffset & 7) !== 0) bytes = bytes.slice();
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes });
  }
  return { tensors, metadata };
}

/**
 * Check a safetensors header (the JSON bytes after the 8-byte length) against a file of `fileLength`
 * bytes: every SPEC §7 check of readSafetensors, without the data in memory (streamed readers).
 */
export function parseSafetensorsHeader(json: Uint8Array, fileLength: number, fileName: string): SafeHeader {
  const fail = (problem: string): never => {
    throw new SaeFileError(fileName, problem);
  };
  const n = json.length;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('__metadata__ is not an object');
    for (const [k, v] of Object.entries(m as object)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }
  const dataStart = 8 + n;
  const dataLen = fileLength - dataStart;
  const entries: SafeEntry[] = [];
  for (const [name, raw] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    if (typeof raw !== 'object' || raw === null) fail(`tensor ${name}: entry is not an object`);
    const t = raw as Record<string, unknown>;
    const dtype = t.dtype as SafeDtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
      fail(`tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      fail(`tensor ${name}: shape must be a list of non-negative integers`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0))
      fail(`tensor ${name}: data_offsets must be two non-negative integers`);
    const [begin, end] = off as [number, number];
    if (end < begin) fail(`tensor ${name}: data_offsets end ${end} is before begin ${begin}`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count * DTYPE_BYTES[dtype])) fail(`tensor ${name}: shape is too large`);
    if (end - begin !== count * DTYPE_BYTES[dtype])
      fail(
        `tensor ${name}: ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${count * DTYPE_BYTES[dtype]}`,
      );
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // Contiguity: sorted by begin, each starts where the previous ended, the last ends at the data's end.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expect = 0;
  for (const e of entries) {
    if (e.begin < expect) fail(`tensor ${e.name}: bytes ${e.begin}..${e.end} overlap the previous tensor`);
    if (e.begin > expect)
      fail(`tensor ${e.name}: gap of ${e.begin - expect} bytes before it (tensors must be contiguous)`);
    expect = e.end;
  }
  if (expect !== dataLen)
    fail(
      expect < dataLen
        ? `${dataLen - expect} trailing bytes after the last tensor (file length must be exact)`
        : `file is truncated: tensors need ${expect} data bytes, the file has ${dataLen}`,
    );
  return { entries, metadata, dataStart };
}

/** A tensor's values as float32 (F32, F16, BF16, F64 accepted). */
export function tensorToFloat32(t: SafeTensor, what: string, fileName: string): Float32Array {
  const n = t.bytes.length / DTYPE_BYTES[t.dtype];
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  // Allocated lazily: the F32 path usually returns a view.
  let out!: Float32Array;
  if (t.dtype !== 'F32' || (t.bytes.byteOffset & 3) !== 0) out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      // Every WebGPU platform is little-endian, like the file; the reader aligned the view. A view, not
      // a copy: a checkpoint's tensors share the file's buffer instead of doubling the memory.
      if ((t.bytes.byteOffset & 3) === 0) return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      throw new SaeFileError(
        fileName,
        `${what} has dtype ${t.dtype}; a float tensor (F32, F16, BF16, F64) is needed`,
      );
  }
}

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
