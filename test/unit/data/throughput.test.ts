// measureLoaderThroughput (used by `npm run bench`) times the real parse → batch path for f32 and f16.
import { describe, expect, it } from 'vitest';
import { measureLoaderThroughput } from '../../../src/data/throughput';

describe('measureLoaderThroughput', () => {
  it('reports tokens/s for float32 and float16 files', async () => {
    const r = await measureLoaderThroughput({ d: 64, seqLen: 32, seqsPerBatch: 8, batches: 10 });
    expect(r.shape).toEqual({ d: 64, seqLen: 32, seqsPerBatch: 8 });
    // Finite and positive; tokens/s above a floor no working loader misses even on a loaded 2-core box.
    for (const v of [r.float32, r.float16]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(10_000);
    }
  });
});
