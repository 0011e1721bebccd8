// Activations from the model straight into training (src/lm/capture/source.ts): an ActivationSource
// whose sequences are the model's hook values for packed rows, computed on demand in forward batches of
// at most batchRows; through the app's batcher, BOS separators become document starts.
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../../src/data/batcher';
import { referenceHookForward } from '../../../src/lm/capture/capture';
import { collectRows, lmActivationSource } from '../../../src/lm/capture/source';
import { forwardReference } from '../../../src/lm/reference/forward';
import { packDocuments } from '../../../src/lm/text';
import { randomIds, randomModel } from '../../fixtures/lm/randomModel';

describe('lmActivationSource', () => {
  const model = randomModel({ family: 'gpt2', seed: 61 });
  const T = 8;
  const d = model.config.d_model;
  const bos = model.config.bos_token_id!;
  const hook = 'blocks.0.hook_resid_post';
  const docs = Array.from({ length: 12 }, (_, i) => Array.from(randomIds(bos, 1, 2 + (i % 6), 100 + i)));
  const rows = packDocuments(docs, { contextSize: T, bosId: bos });

  it('reads any sequences in any order, each the hook value of its own row, batchRows at a time', async () => {
    const src = lmActivationSource({
      name: 'lm',
      rows,
      T,
      d,
      forward: referenceHookForward(model, { hook, T }),
      batchRows: 2,
    });
    expect([src.numSequences, src.seqLen, src.d, src.hasTokenIds]).toEqual([rows.length, T, d, true]);
    const idx = [4, 0, 3, 3, 1];
    const { x, tokenIds } = await src.readSequences(idx);
    expect(src.forwards).toBe(3);
    idx.forEach((i, k) => {
      expect(Array.from(tokenIds!.subarray(k * T, (k + 1) * T))).toEqual(Array.from(rows[i].ids));
      const want = forwardReference(model, rows[i].ids, 1, T, { capture: [hook] }).hooks.get(hook)!;
      for (let j = 0; j < T * d; j++) expect(x[k * T * d + j]).toBeCloseTo(want[j], 5);
    });
    await expect(src.readSequences([rows.length])).rejects.toThrow(/outside/);
  });

  it('feeds the app batcher: BOS separators inside a row mark document starts', async () => {
    const src = lmActivationSource({
      name: 'lm',
      rows,
      T,
      d,
      forward: referenceHookForward(model, { hook, T }),
      batchRows: 4,
    });
    const batcher = await createBatcher(src, {
      seqsPerBatch: 2,
      contextSize: T,
      seed: 1,
      heldOutFraction: 0,
      docStartTokenIds: [bos],
    });
    let interior = 0;
    for (let k = 0; k < 4; k++) {
      const b = await batcher.next();
      expect([b.S, b.T, b.d]).toEqual([2, T, d]);
      for (let n = 0; n < b.S * T; n++) {
        expect(b.start[n]).toBe(n % T === 0 || b.tokenIds![n] === bos ? 1 : 0);
        if (n % T !== 0 && b.start[n]) interior++;
      }
    }
    // Short documents: some separators fall inside rows.
    expect(interior).toBeGreaterThan(0);
  });

  it('collectRows stops at maxRows', async () => {
    async function* gen() {
      yield* rows;
    }
    expect((await collectRows(gen(), 3)).length).toBe(3);
    expect((await collectRows(rows)).length).toBe(rows.length);
  });
});
