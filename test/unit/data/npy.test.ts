// .npy / .npz written by numpy itself load with the right shapes, values and token ids.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { openDataset } from '../../../src/data/dataset';
import { fileByteSource } from '../../../src/data/nodeByteSource';
import { numpyFixtureScript, numpyPython, runNumpy } from '../../fixtures/data/numpy';

// Values every file holds: x[s, t, j] = s*1000 + t*10 + j*0.5 (exact in f16 for these sizes: < 2048
// needs care, so f16 files use s*100 + t + j/4, also exact).
const S = 3,
  T = 5,
  D = 4;
const f32v = (s: number, t: number, j: number) => s * 1000 + t * 10 + j * 0.5;
const f16v = (s: number, t: number, j: number) => s * 100 + t + j / 4;

const dir = mkdtempSync(join(tmpdir(), 'temposae-npy-'));
const committed = join(__dirname, '../../fixtures/data/numpy');

beforeAll(() => {
  if (!numpyPython()) {
    // No numpy here: use the files committed from a machine that had it.
    for (const f of readdirSync(committed)) writeFileSync(join(dir, f), readFileSync(join(committed, f)));
    return;
  }
  runNumpy(numpyFixtureScript(S, T, D), dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(name: string, seqLen?: number) {
  const src = await fileByteSource(join(dir, name));
  return openDataset([src], { seqLen });
}

function expectValues(x: Float32Array, seqs: number[], fn: (s: number, t: number, j: number) => number) {
  seqs.forEach((s, k) => {
    for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) expect(x[(k * T + t) * D + j]).toBe(fn(s, t, j));
  });
}

describe('numpy-written .npy', () => {
  it.each([
    ['f32.npy', f32v, 'float32'],
    ['f32be.npy', f32v, 'float32'],
    ['v2.npy', f32v, 'float32'],
    ['v3.npy', f32v, 'float32'],
    ['f16.npy', f16v, 'float16'],
    ['f16be.npy', f16v, 'float16'],
  ] as const)('%s: shape and values', async (name, fn, dtype) => {
    const src = await open(name);
    expect([src.numSequences, src.seqLen, src.d, src.dtype, src.hasTokenIds]).toEqual([
      S,
      T,
      D,
      dtype,
      false,
    ]);
    const r = await src.readSequences([2, 0, 2, 1]);
    expectValues(r.x, [2, 0, 2, 1], fn);
  });

  it('[N, d] needs a sequence length and then splits rows into sequences', async () => {
    await expect(open('flat.npy')).rejects.toThrow(/give a sequence length/);
    await expect(open('flat.npy', 4)).rejects.toThrow(/not a whole number of sequences/);
    const src = await open('flat.npy', T);
    expect([src.numSequences, src.seqLen]).toEqual([S, T]);
    expectValues((await src.readSequences([1])).x, [1], f32v);
  });

  it('refuses object (pickle) and float64 arrays with a message naming the file', async () => {
    await expect(open('objects.npy')).rejects.toThrow(/objects\.npy: object dtype .* refused/);
    await expect(open('f64.npy')).rejects.toThrow(/f64\.npy: unsupported dtype '<f8'/);
  });
});

describe('numpy-written .npz', () => {
  it('stored: activations and int64 token_ids', async () => {
    const src = await open('stored.npz');
    expect([src.numSequences, src.seqLen, src.d, src.hasTokenIds]).toEqual([S, T, D, true]);
    const r = await src.readSequences([1, 2]);
    expectValues(r.x, [1, 2], f32v);
    expect(Array.from(r.tokenIds!)).toEqual([...Array(2 * T)].map((_, i) => (T + i) * 7 + 1));
  });

  it('deflated (savez_compressed): f16 activations and int32 token_ids', async () => {
    const src = await open('deflated.npz');
    expect(src.dtype).toBe('float16');
    const r = await src.readSequences([0]);
    expectValues(r.x, [0], f16v);
    expect(Array.from(r.tokenIds!)).toEqual([1, 8, 15, 22, 29]);
  });

  it('deflated members over the memory cap are refused with advice', async () => {
    const bytes = readFileSync(join(dir, 'deflated.npz'));
    await expect(openDataset([bytesByteSource(bytes, 'big.npz')], { maxInflateBytes: 100 })).rejects.toThrow(
      /big\.npz\/.*exceeds the 0 MB memory cap.*np\.savez/,
    );
  });
});
