// The streaming batcher keeps sequence order, shuffles whole sequences with the seed, never trains on
// held-out sequences, honours document starts and padding, resumes exactly, and scales inputs.
import { describe, expect, it } from 'vitest';
import { createBatcher, type BatcherOptions } from '../../../src/data/batcher';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { openNpy } from '../../../src/data/npy';
import { encodeNpy } from '../../../src/data/npyWrite';
import type { ActivationBatch } from '../../../src/data/types';
import { arraySource, code } from '../../fixtures/data/arraySource';

const base: BatcherOptions = { seqsPerBatch: 4, contextSize: 8, seed: 5 };

/** Every row of the batch is position posOffset + t of sequence seqIndex[s], in order. */
function expectWholeSequences(b: ActivationBatch) {
  for (let s = 0; s < b.S; s++) {
    for (let t = 0; t < b.T; t++) {
      for (let j = 0; j < b.d; j++) {
        expect(b.x[(s * b.T + t) * b.d + j]).toBe(Math.fround(code(b.seqIndex[s], b.posOffset![s] + t, j)));
      }
    }
  }
}

const key = (b: ActivationBatch) => Array.from(b.seqIndex, (s, k) => `${s}@${b.posOffset![k]}`);

describe('createBatcher', () => {
  it('delivers whole sequences in order, each training window once per epoch, seeded', async () => {
    const src = arraySource(20, 8, 3);
    const b = await createBatcher(src, base);
    expect([b.trainWindows, b.batchesPerEpoch, b.heldOutWindows]).toEqual([20, 5, 0]);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = await b.next();
      expect([batch.S, batch.T, batch.d]).toEqual([4, 8, 3]);
      expectWholeSequences(batch);
      expect(Array.from(batch.start)).toEqual([...Array(32)].map((_, n) => (n % 8 === 0 ? 1 : 0)));
      seen.push(...key(batch));
    }
    expect(new Set(seen).size).toBe(20);
    // Shuffled, reproducibly: not in file order, the same for the same seed, different for another.
    expect(seen.map((k) => Number(k.split('@')[0]))).not.toEqual([...Array(20)].map((_, i) => i));
    const again = await createBatcher(arraySource(20, 8, 3), base);
    expect(key(await again.next())).toEqual(seen.slice(0, 4));
    const other = await createBatcher(arraySource(20, 8, 3), { ...base, seed: 6 });
    expect(key(await other.next())).not.toEqual(seen.slice(0, 4));
    // Epoch 2 covers everything again in a new order.
    const e2: string[] = [];
    for (let i = 0; i < 5; i++) e2.push(...key(await b.next()));
    expect(new Set(e2)).toEqual(new Set(seen));
    expect(e2).not.toEqual(seen);
  });

  it('cuts long sequences into consecutive windows of T', async () => {
    const b = await createBatcher(arraySource(3, 32, 2), { ...base, seqsPerBatch: 3 });
    expect(b.trainWindows).toBe(12);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const batch = await b.next();
      expectWholeSequences(batch);
      key(batch).forEach((k) => seen.add(k));
    }
    expect([...seen].sort()).toEqual([0, 1, 2].flatMap((s) => [0, 8, 16, 24].map((o) => `${s}@${o}`)).sort());
  });

  it('reads only the windows from sources that can (a long-sequence .npy)', async () => {
    const S = 3,
      L = 32,
      d = 2;
    const vals = new Float32Array(S * L * d);
    for (let s = 0; s < S; s++)
      for (let t = 0; t < L; t++) for (let j = 0; j < d; j++) vals[(s * L + t) * d + j] = code(s, t, j);
    const bytes = bytesByteSource(encodeNpy(vals, [S, L, d], '<f4'), 'long.npy');
    const reads: number[] = [];
    const spy = { ...bytes, read: (o: number, n: number) => (reads.push(n), bytes.read(o, n)) };
    const src = await openNpy(spy);
    const b = await createBatcher(src, { ...base, seqsPerBatch: 3, prefetch: 0 });
    reads.length = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const batch = await b.next();
      expectWholeSequences(batch);
      key(batch).forEach((k) => seen.add(k));
    }
    expect(seen.size).toBe(12);
    // Each read is one window or a run of adjacent windows, never a whole 32-token sequence per window.
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.reduce((a, n) => a + n, 0)).toBe(12 * 8 * d * 4);
  });

  it('never trains on held-out sequences, and evaluates on exactly those', async () => {
    const b = await createBatcher(arraySource(40, 16, 2), { ...base, heldOutFraction: 0.25 });
    const held = new Set<number>();
    for await (const batch of b.heldOutBatches()) {
      expectWholeSequences(batch);
      batch.seqIndex.forEach((s) => held.add(s));
    }
    expect(held.size).toBe(10);
    expect(b.heldOutWindows).toBe(20);
    // The split does not depend on the run's seed (runs compare on the same held-out data)…
    const other = await createBatcher(arraySource(40, 16, 2), { ...base, seed: 99, heldOutFraction: 0.25 });
    const held2 = new Set<number>();
    for await (const batch of other.heldOutBatches()) batch.seqIndex.forEach((s) => held2.add(s));
    expect(held2).toEqual(held);
    // …but on its own seed.
    const moved = await createBatcher(arraySource(40, 16, 2), {
      ...base,
      splitSeed: 1,
      heldOutFraction: 0.25,
    });
    const held3 = new Set<number>();
    for await (const batch of moved.heldOutBatches()) batch.seqIndex.forEach((s) => held3.add(s));
    expect(held3).not.toEqual(held);
    for (let i = 0; i < 3 * b.batchesPerEpoch; i++) {
      (await b.next()).seqIndex.forEach((s) => expect(held.has(s)).toBe(false));
    }
  });

  it('uses a separate held-out source whole, and all of the training source', async () => {
    const ho = arraySource(3, 8, 2, { name: 'ho' });
    const b = await createBatcher(arraySource(8, 8, 2), { ...base, heldOutSource: ho });
    expect([b.trainWindows, b.heldOutWindows]).toEqual([8, 3]);
    const batches = [];
    for await (const batch of b.heldOutBatches()) batches.push(batch);
    expect(batches.map((x) => x.S)).toEqual([3]);
    await expect(
      createBatcher(arraySource(8, 8, 2), { ...base, heldOutSource: arraySource(3, 8, 5, { name: 'wide' }) }),
    ).rejects.toThrow(/wide: held-out width 5 differs/);
  });

  it('marks document starts and padding from token ids', async () => {
    // Token id = t, except: id 50 (BOS) at t = 3 and id 99 (pad) at t = 6, 7.
    const tokenId = (_s: number, t: number) => (t === 3 ? 50 : t >= 6 ? 99 : t);
    const b = await createBatcher(arraySource(8, 8, 2, { tokenId }), {
      ...base,
      docStartTokenIds: [50],
      padTokenId: 99,
    });
    const batch = await b.next();
    expect(Array.from(batch.start.subarray(0, 8))).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(batch.valid.subarray(0, 8))).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(batch.tokenIds!.subarray(8, 16))).toEqual([0, 1, 2, 50, 4, 5, 99, 99]);
  });

  it('gives the same batches with any prefetch depth, and resumes exactly from getState', async () => {
    const run = async (prefetch: number, n: number) => {
      const b = await createBatcher(arraySource(24, 8, 2), { ...base, prefetch });
      const out = [];
      for (let i = 0; i < n; i++) out.push(key(await b.next()));
      return { out, b };
    };
    const ref = (await run(0, 14)).out;
    expect((await run(3, 14)).out).toEqual(ref);
    const { b } = await run(2, 8); // 8 batches: into the second epoch (6 per epoch)
    const state = JSON.parse(JSON.stringify(b.getState()));
    expect(state).toMatchObject({ epoch: 1, cursor: 2, seed: 5 });
    const resumed = await createBatcher(arraySource(24, 8, 2), { ...base, resume: state });
    const rest = [];
    for (let i = 0; i < 6; i++) rest.push(key(await resumed.next()));
    expect(rest).toEqual(ref.slice(8));
  });

  it('scales inputs so that mean ‖x‖² = d over the estimation batches (expected_average_only_in)', async () => {
    const d = 4;
    const src = arraySource(16, 8, d, { value: (s, t, j) => (s + 1) * (j + 1) * 0.5 + t * 0.01 });
    const b = await createBatcher(src, { ...base, normalize: 'expected_average_only_in', normBatches: 4 });
    // 4 batches × 4 = the whole epoch: compute the mean squared norm of every row by hand.
    let sum = 0;
    for (let s = 0; s < 16; s++)
      for (let t = 0; t < 8; t++)
        for (let j = 0; j < d; j++) sum += ((s + 1) * (j + 1) * 0.5 + t * 0.01) ** 2;
    const expected = Math.sqrt((d * 16 * 8) / sum);
    expect(b.scale).toBeCloseTo(expected, 5);
    let sq = 0;
    for (let i = 0; i < 4; i++) {
      const batch = await b.next();
      for (const v of batch.x) sq += v * v;
    }
    expect(sq / (16 * 8)).toBeCloseTo(d, 3);
    expect(b.getState().scale).toBe(b.scale);
    const plain = await createBatcher(src, base);
    expect(plain.scale).toBe(1);
  });

  it('skips NaN/Inf rows with a count, or rejects them naming the place', async () => {
    const value = (s: number, t: number, j: number) =>
      s === 2 && t === 5 && j === 1 ? NaN : s === 3 && t === 0 && j === 0 ? Infinity : 1;
    const b = await createBatcher(arraySource(4, 8, 2, { value }), base);
    const batch = await b.next();
    const s2 = batch.seqIndex.indexOf(2);
    const s3 = batch.seqIndex.indexOf(3);
    expect(batch.valid[s2 * 8 + 5]).toBe(0);
    expect(batch.valid[s3 * 8]).toBe(0);
    expect(Array.from(batch.x.subarray((s2 * 8 + 5) * 2, (s2 * 8 + 6) * 2))).toEqual([0, 0]);
    expect(batch.valid.reduce((a, v) => a + v, 0)).toBe(30);
    expect(b.nonFiniteRowsSkipped).toBe(2);
    const strict = await createBatcher(arraySource(4, 8, 2, { value, name: 'bad.npy' }), {
      ...base,
      nonFinite: 'reject',
    });
    const err = await strict.next().catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(/^bad\.npy: NaN or Inf in sequence [23], position [05]/);
  });

  it('refuses shapes it cannot serve, before reading anything', async () => {
    await expect(
      createBatcher(arraySource(4, 8, 2, { name: 'short' }), { ...base, contextSize: 16 }),
    ).rejects.toThrow(/short: sequences have 8 tokens, shorter than the context size 16/);
    await expect(createBatcher(arraySource(3, 8, 2, { name: 'few' }), base)).rejects.toThrow(
      /few: only 3 training sequences/,
    );
    await expect(
      createBatcher(arraySource(64, 1024, 4096), { ...base, maxHostBytes: 64 << 20 }),
    ).rejects.toThrow(/over the 64 MB cap/);
  });
});
