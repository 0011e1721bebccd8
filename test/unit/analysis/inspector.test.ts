import { describe, expect, it } from 'vitest';
import { nearestByDecoder, summarizeFeature } from '../../../src/analysis/inspector';

describe('feature inspector numbers', () => {
  it('density, top contexts with suppression, histogram', () => {
    // Two sequences of T = 10. Sequence 0 has a run 3,4,5 (values 1, 3, 2); sequence 1 has 5 at t = 9
    // and padding at t = 0.
    const v = new Float32Array(20);
    v[3] = 1;
    v[4] = 3;
    v[5] = 2;
    v[19] = 5; // prettier-ignore
    const valid = new Uint8Array(20).fill(1);
    valid[10] = 0;
    const s = summarizeFeature({ values: v, valid, T: 10 }, { window: 2, bins: 5 });
    expect(s.density).toBeCloseTo(4 / 19, 12);
    expect(s.meanActive).toBeCloseTo(11 / 4, 12);
    expect(s.max).toBe(5);
    expect(s.strongestSequence).toBe(1);
    // 5 (seq 1, t 9) first; then 3 at t 4; t 5 and t 3 are inside that window.
    expect(s.contexts.map((c) => [c.sequence, c.position, c.value])).toEqual([[1, 9, 5], [0, 4, 3]]); // prettier-ignore
    expect(s.contexts[0]).toMatchObject({ from: 7, to: 10 });
    expect(s.histogram.counts).toEqual([0, 1, 1, 1, 1]);
  });

  it('nearest decoder rows by cosine, itself excluded', () => {
    const W = Float32Array.from([1, 0, 0.8, 0.6, 0, 1, -1, 0]);
    expect(nearestByDecoder(W, 4, 2, 0, 2)).toEqual([
      { feature: 1, cos: expect.closeTo(0.8, 6) },
      { feature: 2, cos: 0 },
    ]);
  });
});
