// float16 / bfloat16 → float32 on the host. A 65 536-entry table makes f16 one lookup per value
// (256 KB, built once); bf16 is the top half of an f32, so a shift suffices.

let f16Table: Float32Array | null = null;

function f16ToF32Slow(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24; // subnormal
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32Slow(h);
  }
  return f16Table;
}

/** One IEEE half → number. */
export function f16ToF32(h: number): number {
  return table()[h & 0xffff];
}

/** Decode `count` halves (little-endian unless `bigEndian`) from `bytes` into `out` at `outOffset`. */
export function decodeF16(
  bytes: Uint8Array,
  count: number,
  out: Float32Array,
  outOffset: number,
  bigEndian = false,
): void {
  const t = table();
  if (!bigEndian && bytes.byteOffset % 2 === 0) {
    const u16 = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    for (let i = 0; i < count; i++) out[outOffset + i] = t[u16[i]];
    return;
  }
  for (let i = 0; i < count; i++) {
    const h = bigEndian ? (bytes[2 * i] << 8) | bytes[2 * i + 1] : bytes[2 * i] | (bytes[2 * i + 1] << 8);
    out[outOffset + i] = t[h];
  }
}

/** Decode `count` little-endian bfloat16 values into `out` at `outOffset`. */
export function decodeBF16(bytes: Uint8Array, count: number, out: Float32Array, outOffset: number): void {
  const u32 = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
  for (let i = 0; i < count; i++) u32[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
}

/** Decode `count` float32 values (little-endian unless `bigEndian`) into `out` at `outOffset`. */
export function decodeF32(
  bytes: Uint8Array,
  count: number,
  out: Float32Array,
  outOffset: number,
  bigEndian = false,
): void {
  if (!bigEndian) {
    new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4).set(bytes.subarray(0, count * 4));
    return;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * 4);
  for (let i = 0; i < count; i++) out[outOffset + i] = dv.getFloat32(4 * i, false);
}
