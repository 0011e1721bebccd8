// collectFeatures (issue 10): the columns of the asked-for features over a stream of batches, with
// validity, starts and ids concatenated in batch order; a batch without ids gets −1; bad shapes and
// features are refused.
import { describe, expect, it } from 'vitest';
import { collectFeatures } from '../../../src/analysis/featureColumns';
import type { ActivationBatch } from '../../../src/data/types';

const m = 3;
function batch(S: number, T: number, base: number, ids = true): ActivationBatch {
  const N = S * T;
  return {
    S,
    T,
    d: 1,
    x: new Float32Array(N),
    start: Uint8Array.from({ length: N }, (_, n) => (n % T === 0 ? 1 : 0)),
    valid: Uint8Array.from({ length: N }, (_, n) => (n === N - 1 ? 0 : 1)),
    tokenIds: ids ? Int32Array.from({ length: N }, (_, n) => base + n) : undefined,
    seqIndex: new Int32Array(S),
  };
}
// f[n, j] = 100·j + (index of the token over the whole stream)
const forward = (() => {
  let seen = 0;
  return async (b: ActivationBatch) => {
    const N = b.S * b.T;
    const f = new Float32Array(N * m);
    for (let n = 0; n < N; n++) for (let j = 0; j < m; j++) f[n * m + j] = 100 * j + seen + n;
    seen += N;
    return { f };
  };
})();

describe('collectFeatures', () => {
  it('keeps the asked-for columns in order, with valid/start/ids of every batch', async () => {
    const c = await collectFeatures(
      [batch(1, 2, 10), batch(1, 2, 20, false), batch(1, 2, 30)],
      forward,
      m,
      [2, 0],
    );
    expect([c.T, c.sequences]).toEqual([2, 3]);
    expect(Array.from(c.columns[0].values)).toEqual([200, 201, 202, 203, 204, 205]);
    expect(Array.from(c.columns[1].values)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(c.columns[0].ids!)).toEqual([10, 11, -1, -1, 30, 31]);
    expect(Array.from(c.columns[0].valid)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(c.columns[0].start!)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(c.columns[1].ids).toBe(c.columns[0].ids);
  });

  it('stops after maxBatches; no ids at all gives no ids', async () => {
    const c = await collectFeatures([batch(2, 2, 0, false), batch(2, 2, 0, false)], forward, m, [1], 1);
    expect([c.sequences, c.columns[0].values.length, c.columns[0].ids]).toEqual([2, 4, undefined]);
  });

  it('refuses a feature the SAE does not have, and mixed or wrong shapes', async () => {
    await expect(collectFeatures([batch(1, 2, 0)], forward, m, [3])).rejects.toThrow(
      /Feature 3 does not exist: this SAE has features 0–2/,
    );
    await expect(collectFeatures([batch(1, 2, 0), batch(1, 3, 0)], forward, m, [0])).rejects.toThrow(
      /batches of 3 and 2 positions/,
    );
    await expect(
      collectFeatures([batch(1, 2, 0)], async () => ({ f: new Float32Array(5) }), m, [0]),
    ).rejects.toThrow(/forward gave 5 activations for 2 tokens × 3/);
  });
});
