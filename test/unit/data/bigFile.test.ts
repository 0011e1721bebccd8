// Issue 4, "Done when": a 2 GB file (generated here in os.tmpdir(), removed after) streams through the
// batcher with host memory staying under the cap. Skip with TEMPOSAE_SKIP_BIG_FILE=1 when disk is short.
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBatcher } from '../../../src/data/batcher';
import { openDataset } from '../../../src/data/dataset';
import { fileByteSource } from '../../../src/data/nodeByteSource';
import { npyHeader } from '../../../src/data/npyWrite';

const T = 128;
const D = 768;
const SEQ_BYTES = T * D * 4;
const NUM_SEQ = Math.ceil(2 ** 31 / SEQ_BYTES); // 5462 sequences: 2.0 GiB of float32
const CAP = 256 * 2 ** 20;
const path = join(tmpdir(), `temposae-bigfile-${process.pid}.npy`);

/** Value of sequence s at (t, j): the sequence id in element 0 of every row, a pattern elsewhere. */
const value = (s: number, t: number, j: number) => (j === 0 ? s : ((t * 7 + j) % 64) / 8);

async function writeBigFile() {
  const fh = await open(path, 'w');
  await fh.write(npyHeader('<f4', [NUM_SEQ, T, D]));
  const seq = new Float32Array(T * D);
  for (let t = 0; t < T; t++) for (let j = 1; j < D; j++) seq[t * D + j] = value(0, t, j);
  const group = 32; // write 12 MB at a time
  const buf = new Float32Array(group * T * D);
  for (let s0 = 0; s0 < NUM_SEQ; s0 += group) {
    const n = Math.min(group, NUM_SEQ - s0);
    for (let k = 0; k < n; k++) {
      buf.set(seq, k * T * D);
      for (let t = 0; t < T; t++) buf[(k * T + t) * D] = s0 + k;
    }
    await fh.write(new Uint8Array(buf.buffer, 0, n * SEQ_BYTES));
  }
  await fh.close();
}

afterAll(() => rm(path, { force: true }));

describe.skipIf(!!process.env.TEMPOSAE_SKIP_BIG_FILE)('a 2 GB activation file', () => {
  it('streams a whole epoch with host memory under the 256 MB cap', { timeout: 600_000 }, async () => {
    await writeBigFile();
    const src = await fileByteSource(path);
    expect(src.size).toBeGreaterThanOrEqual(2 ** 31);
    const ds = await openDataset([src]);
    expect([ds.numSequences, ds.seqLen, ds.d]).toEqual([NUM_SEQ, T, D]);
    global.gc?.();
    const base = process.memoryUsage();
    const b = await createBatcher(ds, {
      seqsPerBatch: 16,
      contextSize: T,
      seed: 1,
      heldOutFraction: 0.01,
      prefetch: 2,
    });
    expect(b.hostBytes).toBeLessThan(CAP);
    let peakRss = 0;
    let peakAb = 0;
    const seen = new Uint8Array(NUM_SEQ);
    const t0 = performance.now();
    for (let i = 0; i < b.batchesPerEpoch; i++) {
      const batch = await b.next();
      for (let s = 0; s < batch.S; s++) {
        const id = batch.seqIndex[s];
        seen[id]++;
        // Spot-check values: element 0 of every row is the sequence id; another element the pattern.
        expect(batch.x[s * T * D]).toBe(id);
        expect(batch.x[(s * T + 5) * D + 9]).toBe(value(id, 5, 9));
      }
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss - base.rss);
      peakAb = Math.max(peakAb, m.arrayBuffers - base.arrayBuffers);
    }
    const secs = (performance.now() - t0) / 1000;
    const mb = (x: number) => (x / 2 ** 20).toFixed(0);
    console.log(
      `2 GiB epoch: ${b.batchesPerEpoch} batches in ${secs.toFixed(1)} s (${((b.batchesPerEpoch * 16 * T) / secs / 1e6).toFixed(2)} M tokens/s); ` +
        `peak growth rss ${mb(peakRss)} MB, arrayBuffers ${mb(peakAb)} MB (estimate ${mb(b.hostBytes)} MB, cap ${mb(CAP)} MB)`,
    );
    // Every training sequence exactly once; no held-out one.
    expect(seen.reduce((a, v) => a + (v === 1 ? 1 : 0), 0)).toBe(b.batchesPerEpoch * 16);
    expect(peakAb).toBeLessThan(CAP);
    expect(peakRss).toBeLessThan(CAP);
    await src.close?.();
  });
});
