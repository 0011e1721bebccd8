import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SaeFileError } from '../../../src/io/errors';
import {
  MAX_HEADER_BYTES,
  halfToFloat,
  readSafetensors,
  tensorToFloat32,
  writeSafetensors,
} from '../../../src/io/safetensors';

/** A safetensors file from a header object and raw data bytes, for hand-made (and broken) cases. */
function handMade(header: object, data: Uint8Array, headerLenOverride?: bigint): Uint8Array {
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

function expectFileError(f: () => unknown, re: RegExp) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SaeFileError);
    expect((e as SaeFileError).file).toBe('w.safetensors');
    expect((e as Error).message).toMatch(re);
    return;
  }
  throw new Error('expected a SaeFileError');
}

describe('safetensors writer', () => {
  it('writes the documented layout: u64 LE header length, JSON header padded to 8, contiguous data', () => {
    const a = new Float32Array([1, -2, 3.5, 0.25, 7, 8]);
    const b = new Float32Array([9, 10]);
    const bytes = writeSafetensors({ a: { data: a, shape: [2, 3] }, b: { data: b, shape: [2] } }, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect(header.a).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.b).toEqual({ dtype: 'F32', shape: [2], data_offsets: [24, 32] });
    expect(bytes.length).toBe(8 + n + 32);
    // The data are the little-endian float32 bytes, in order.
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 8, true)).toBe(3.5);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 24, true)).toBe(9);
  });

  it('round-trips values and metadata exactly', () => {
    const w = new Float32Array(37).map((_, i) => Math.sin(i) * 1e3);
    const f = readSafetensors(writeSafetensors({ w: { data: w, shape: [37] } }, { x: 'y' }), 'w.safetensors');
    expect(f.metadata).toEqual({ x: 'y' });
    expect(Array.from(tensorToFloat32(f.tensors.get('w')!, 'w', 'w.safetensors'))).toEqual(Array.from(w));
  });

  it('numpy reads what we write (independent parser)', () => {
    if (!existsSync('/usr/bin/python3')) return; // python3-numpy is a test dependency on CI (README)
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import numpy']);
    } catch {
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'st-'));
    try {
      const W = new Float32Array(12).map((_, i) => i * 0.5 - 2);
      const file = path.join(dir, 'w.safetensors');
      writeFileSync(
        file,
        writeSafetensors({
          W_enc: { data: W, shape: [3, 4] },
          b: { data: new Float32Array([1, 2]), shape: [2] },
        }),
      );
      const py = `
import json, struct, sys, numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
t = h['W_enc']; s, e = t['data_offsets']
a = np.frombuffer(b[8+n+s:8+n+e], dtype='<f4').reshape(t['shape'])
print(json.dumps({'shape': list(a.shape), 'sum_row1': float(a[1].sum()), 'last': float(a[2, 3])}))`;
      const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file]).toString());
      expect(out).toEqual({ shape: [3, 4], sum_row1: 0 + 0.5 + 1 + 1.5, last: 3.5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('safetensors strict reader (SPEC §7)', () => {
  const f32 = (vals: number[]) => new Uint8Array(new Float32Array(vals).buffer);
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('accepts a valid hand-made file', () => {
    const f = readSafetensors(handMade(ok, f32([1, 2])), 'w.safetensors');
    expect(Array.from(tensorToFloat32(f.tensors.get('a')!, 'a', 'w'))).toEqual([1, 2]);
  });
  it('refuses a file shorter than 8 bytes', () => {
    expectFileError(() => readSafetensors(new Uint8Array(5), 'w.safetensors'), /shorter than the 8-byte/);
  });
  it('refuses a header over 100 MB before reading it', () => {
    expectFileError(
      () => readSafetensors(handMade(ok, f32([1, 2]), BigInt(MAX_HEADER_BYTES + 1)), 'w.safetensors'),
      /over the 104857600-byte limit/,
    );
  });
  it('refuses a header that runs past the end', () => {
    expectFileError(
      () => readSafetensors(handMade(ok, f32([1, 2]), 10_000n), 'w.safetensors'),
      /past the end/,
    );
  });
  it('refuses invalid JSON', () => {
    const b = handMade(ok, f32([1, 2]));
    b[9] = 0x7b; // '{' where '"' was: breaks the JSON
    expectFileError(() => readSafetensors(b, 'w.safetensors'), /not valid UTF-8 JSON/);
  });
  it('refuses trailing bytes (exact length)', () => {
    expectFileError(() => readSafetensors(handMade(ok, f32([1, 2, 3])), 'w.safetensors'), /4 trailing bytes/);
  });
  it('refuses a truncated file', () => {
    expectFileError(() => readSafetensors(handMade(ok, f32([1])), 'w.safetensors'), /truncated/);
  });
  it('refuses a gap between tensors', () => {
    const h = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
    };
    expectFileError(() => readSafetensors(handMade(h, f32([1, 2, 3])), 'w.safetensors'), /gap of 4 bytes/);
  });
  it('refuses overlapping tensors', () => {
    const h = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    };
    expectFileError(() => readSafetensors(handMade(h, f32([1, 2])), 'w.safetensors'), /overlap/);
  });
  it('refuses a byte size that disagrees with the shape', () => {
    const h = { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } };
    expectFileError(() => readSafetensors(handMade(h, f32([1, 2])), 'w.safetensors'), /needs 12/);
  });
  it('refuses unknown dtypes and bad shapes', () => {
    const h1 = { a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } };
    expectFileError(() => readSafetensors(handMade(h1, f32([1, 2])), 'w.safetensors'), /unsupported dtype/);
    const h2 = { a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } };
    expectFileError(
      () => readSafetensors(handMade(h2, f32([1, 2])), 'w.safetensors'),
      /non-negative integers/,
    );
  });
  it('refuses non-string metadata', () => {
    const h = { ...ok, __metadata__: { a: 1 } };
    expectFileError(
      () => readSafetensors(handMade(h, f32([1, 2])), 'w.safetensors'),
      /__metadata__.a is not a string/,
    );
  });
  it('converts F16 and BF16 exactly', () => {
    // F16: 0x3c00 = 1, 0xc000 = −2, 0x0001 = 2^-24 (subnormal), 0x7bff = 65504.
    expect([0x3c00, 0xc000, 0x0001, 0x7bff].map(halfToFloat)).toEqual([1, -2, 2 ** -24, 65504]);
    const h = { a: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } };
    // BF16 0x3fc0 = 1.5, 0xc120 = −10.
    const f = readSafetensors(handMade(h, new Uint8Array([0xc0, 0x3f, 0x20, 0xc1])), 'w.safetensors');
    expect(Array.from(tensorToFloat32(f.tensors.get('a')!, 'a', 'w'))).toEqual([1.5, -10]);
  });
});
