// Hand-checked safetensors and SAELens-cache fixtures load with the right shapes, values and token
// ids; several files form one dataset; width mismatches are refused.
import { describe, expect, it } from 'vitest';
import { blobByteSource, bytesByteSource } from '../../../src/data/byteSource';
import { checkWidth, openDataset } from '../../../src/data/dataset';
import { readSafetensorsHeader } from '../../../src/data/safetensors';
import { buildArrowCache, buildSafetensors, bytesOf, cacheJson } from '../../fixtures/data/build';
import { encodeNpy, toF16 } from '../../../src/data/npyWrite';

const val = (s: number, t: number, j: number) => s * 100 + t * 10 + j + 0.25;

function grid(S: number, T: number, d: number, fn = val): Float32Array {
  const a = new Float32Array(S * T * d);
  for (let s = 0; s < S; s++)
    for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) a[(s * T + t) * d + j] = fn(s, t, j);
  return a;
}

function expectGrid(x: Float32Array, seqs: number[], T: number, d: number, fn = val) {
  seqs.forEach((s, k) => {
    for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) expect(x[(k * T + t) * d + j]).toBe(fn(s, t, j));
  });
}

describe('safetensors', () => {
  it('reads a file whose bytes we can check by hand', async () => {
    // Header {"a":{"dtype":"F32","shape":[1,2,1],"data_offsets":[0,8]}} then 1.5, -2 as little-endian f32.
    const json = '{"a":{"dtype":"F32","shape":[1,2,1],"data_offsets":[0,8]}}';
    const bytes = new Uint8Array(8 + json.length + 8);
    bytes[0] = json.length; // < 256
    bytes.set(new TextEncoder().encode(json), 8);
    bytes.set([0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0], 8 + json.length); // 1.5f, -2.0f
    const src = await openDataset([bytesByteSource(bytes, 'hand.safetensors')]);
    expect([src.numSequences, src.seqLen, src.d, src.hasTokenIds]).toEqual([1, 2, 1, false]);
    expect(Array.from((await src.readSequences([0])).x)).toEqual([1.5, -2]);
  });

  it.each([
    ['F32', (a: Float32Array) => bytesOf(a)],
    ['F16', (a: Float32Array) => bytesOf(toF16(a))],
    // bf16 = the top 16 bits of the f32 (values chosen exact in bf16: j + 0.25 with small s, t).
    ['BF16', (a: Float32Array) => bytesOf(Uint16Array.from(new Uint32Array(a.buffer), (u) => u >>> 16))],
  ])('%s activations with I64 token_ids', async (dtype, enc) => {
    const S = 3,
      T = 4,
      d = 2;
    const small = (s: number, t: number, j: number) => s * 2 + t + j + 0.25;
    const ids = BigInt64Array.from({ length: S * T }, (_, i) => BigInt(i * 3));
    const bytes = buildSafetensors([
      { name: 'activations', dtype, shape: [S, T, d], data: enc(grid(S, T, d, small)) },
      { name: 'token_ids', dtype: 'I64', shape: [S, T], data: bytesOf(ids) },
    ]);
    const src = await openDataset([bytesByteSource(bytes, 'x.safetensors')]);
    expect([src.numSequences, src.seqLen, src.d, src.hasTokenIds]).toEqual([S, T, d, true]);
    const r = await src.readSequences([2, 0]);
    expectGrid(r.x, [2, 0], T, d, small);
    expect(Array.from(r.tokenIds!)).toEqual([24, 27, 30, 33, 0, 3, 6, 9]);
  });

  it('lists tensors with their absolute offsets', async () => {
    const bytes = buildSafetensors([
      { name: 'b', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
      { name: 'activations', dtype: 'F32', shape: [1, 1, 1], data: new Uint8Array(4) },
    ]);
    const { tensors } = await readSafetensorsHeader(bytesByteSource(bytes, 'h.safetensors'));
    const hl = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(tensors.map((t) => [t.name, t.offset - 8 - hl, t.bytes])).toEqual([
      ['b', 0, 8],
      ['activations', 8, 4],
    ]);
  });
});

describe('SAELens activation cache (HF datasets folder, Arrow IPC stream)', () => {
  const S = 7,
    T = 5,
    d = 3;
  const tok = (s: number, t: number) => s * 10 + t;

  it.each([
    ['list<list<f32>> (HF Array2D storage), int32 ids', {}],
    ['fixed-size lists, int64 ids', { fixed: true, int64Ids: true }],
  ])('%s: shapes, values and token ids across record batches', async (_, extra) => {
    const arrow = buildArrowCache({ S, T, d, rowsPerBatch: 3, value: val, tokenId: tok, ...extra });
    const files = [
      ...cacheJson({ T, d, files: ['data-00000-of-00001.arrow'] }),
      bytesByteSource(arrow, 'data-00000-of-00001.arrow'),
    ];
    const src = await openDataset(files, { folderName: 'cache' });
    expect([src.name, src.numSequences, src.seqLen, src.d, src.hasTokenIds]).toEqual([
      'cache',
      S,
      T,
      d,
      true,
    ]);
    const order = [6, 0, 3, 2];
    const r = await src.readSequences(order);
    expectGrid(r.x, order, T, d);
    expect(Array.from(r.tokenIds!)).toEqual(order.flatMap((s) => [...Array(T)].map((_, t) => tok(s, t))));
  });

  it('float16 values; several shards in state.json order; shape from the first row when there is no JSON', async () => {
    const f16 = (s: number, t: number, j: number) => s + t / 2 + j / 4;
    const a = buildArrowCache({ S: 4, T, d, rowsPerBatch: 2, value: f16, float16: true });
    const b = buildArrowCache({ S: 3, T, d, rowsPerBatch: 2, value: f16, float16: true, firstRow: 4 });
    const files = [
      bytesByteSource(b, 'data-00001-of-00002.arrow'),
      bytesByteSource(a, 'data-00000-of-00002.arrow'),
    ];
    const src = await openDataset(
      files.map((f) => ({ ...f, name: `cache/${f.name}`, read: f.read.bind(f) })),
    );
    expect([src.name, src.numSequences, src.dtype, src.hasTokenIds]).toEqual(['cache', 7, 'float16', false]);
    expectGrid((await src.readSequences([0, 5, 3, 6])).x, [0, 5, 3, 6], T, d, f16);
  });
});

describe('several files form one dataset', () => {
  const T = 4,
    d = 2;
  const file = (name: string, S: number, first: number, width = d) =>
    bytesByteSource(
      buildSafetensors([
        {
          name: 'activations',
          dtype: 'F32',
          shape: [S, T, width],
          data: bytesOf(grid(S, T, width, (s, t, j) => val(s + first, t, j))),
        },
      ]),
      name,
    );

  it('joins files of one width in order', async () => {
    const src = await openDataset([file('a.safetensors', 2, 0), file('b.safetensors', 3, 2)]);
    expect(src.numSequences).toBe(5);
    expectGrid((await src.readSequences([4, 1, 2])).x, [4, 1, 2], T, d);
  });

  it('refuses files whose widths disagree, naming both', async () => {
    await expect(openDataset([file('a.safetensors', 2, 0), file('b.safetensors', 3, 2, 3)])).rejects.toThrow(
      /b\.safetensors: width 3 differs from a\.safetensors \(width 2\)/,
    );
  });

  it("refuses data whose width is not the run's", async () => {
    const src = await openDataset([file('a.safetensors', 2, 0)]);
    expect(() => checkWidth(src, 768)).toThrow(
      /a\.safetensors: activation width 2 does not match the run's d_in = 768/,
    );
    expect(() => checkWidth(src, 2)).not.toThrow();
  });
});

describe('browser files and paired token ids', () => {
  it('reads an .npy from a File (Blob.slice), with token ids from X.token_ids.npy', async () => {
    const S = 2,
      T = 3,
      d = 2;
    const acts = encodeNpy(grid(S, T, d), [S, T, d], '<f4');
    const ids = encodeNpy(
      Int32Array.from({ length: S * T }, (_, i) => 100 + i),
      [S, T],
      '<i4',
    );
    const files = [
      blobByteSource(new File([ids as Uint8Array<ArrayBuffer>], 'run1.token_ids.npy')),
      blobByteSource(new File([acts as Uint8Array<ArrayBuffer>], 'run1.npy')),
    ];
    const src = await openDataset(files);
    expect([src.name, src.numSequences, src.hasTokenIds]).toEqual(['run1.npy', S, true]);
    const r = await src.readSequences([1]);
    expectGrid(r.x, [1], T, d);
    expect(Array.from(r.tokenIds!)).toEqual([103, 104, 105]);
    const bad = encodeNpy(new Int32Array(5), [5], '<i4');
    await expect(
      openDataset([
        blobByteSource(new File([bad as Uint8Array<ArrayBuffer>], 'run1.token_ids.npy')),
        files[1],
      ]),
    ).rejects.toThrow(/run1\.token_ids\.npy: token_ids shape \[5\] does not match 2 sequences × 3 positions/);
  });
});
