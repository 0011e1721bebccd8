// Capture (src/lm/capture/capture.ts) with the float64 reference forward: packed rows go through in
// order, in batches (the last one short), into the SAELens cache writer; every stored row is the hook's
// value for that row alone, token ids beside it; centring and its GPT-2-only rule.
import { describe, expect, it } from 'vitest';
import { openArrowCache } from '../../../src/data/arrowCache';
import { bytesByteSource } from '../../../src/data/byteSource';
import { capture, referenceHookForward } from '../../../src/lm/capture/capture';
import { SaeLensCacheWriter, type CacheSink } from '../../../src/lm/capture/saelensCache';
import { centerResidual, forwardReference } from '../../../src/lm/reference/forward';
import { packDocuments } from '../../../src/lm/text';
import { randomIds, randomModel } from '../../fixtures/lm/randomModel';

function memoryFolder() {
  const files = new Map<string, Uint8Array>();
  const sink: CacheSink = {
    append: async (n, b) => {
      const old = files.get(n) ?? new Uint8Array(0);
      const all = new Uint8Array(old.length + b.length);
      all.set(old);
      all.set(b, old.length);
      files.set(n, all);
    },
    rename: async (a, b) => {
      files.set(b, files.get(a)!);
      files.delete(a);
    },
    writeText: async (n, t) => void files.set(n, new TextEncoder().encode(t)),
  };
  return { sink, sources: () => [...files].map(([n, b]) => bytesByteSource(b, n)) };
}

describe('capture', () => {
  it('rows → hook values → cache, in order and in batches of S, each row equal to its own forward', async () => {
    const model = randomModel({ family: 'llama', seed: 41 });
    const T = 6;
    const d = model.config.d_model;
    const hook = 'blocks.1.hook_resid_mid';
    const docs = Array.from({ length: 9 }, (_, i) =>
      Array.from(randomIds(model.config.vocab_size, 1, 3 + (i % 5), i)),
    );
    const rows = packDocuments(docs, { contextSize: T, bosId: 1 });
    const R = rows.length;
    expect(R % 2).toBe(1); // the last batch is short
    const { sink, sources } = memoryFolder();
    const writer = new SaeLensCacheWriter(sink, { hookName: hook, T, d, rowsPerBatch: 2 });
    const batches: number[] = [];
    const res = await capture(rows, referenceHookForward(model, { hook, T }), 2, T, {
      append: (x, ids, start, n) => {
        batches.push(n);
        expect(start[0]).toBe(1);
        return writer.append(x, ids, n);
      },
    });
    await writer.finish();
    expect(res).toMatchObject({ rows: R, tokens: R * T });
    expect(batches).toEqual([...Array((R - 1) / 2).fill(2), 1]);
    const cache = await openArrowCache('cache', sources());
    const got = await cache.readSequences([...Array(R).keys()]);
    rows.forEach((r, s) => {
      expect(Array.from(got.tokenIds!.subarray(s * T, (s + 1) * T))).toEqual(Array.from(r.ids));
      const want = forwardReference(model, r.ids, 1, T, { capture: [hook] }).hooks.get(hook)!;
      const row = got.x.subarray(s * T * d, (s + 1) * T * d);
      for (let i = 0; i < want.length; i++) expect(row[i]).toBeCloseTo(want[i], 5);
    });
    // maxRows stops early.
    const few = await capture(
      rows,
      referenceHookForward(model, { hook, T }),
      2,
      T,
      { append: async () => {} },
      { maxRows: 3 },
    );
    expect(few.rows).toBe(3);
  });

  it('centre: GPT-2 rows lose their mean over d_model; a Llama model refuses', async () => {
    const g = randomModel({ family: 'gpt2', seed: 42 });
    const T = 5;
    const hook = 'blocks.0.hook_resid_post';
    const ids = randomIds(g.config.vocab_size, 2, T, 3);
    const x = await referenceHookForward(g, { hook, T, center: true })(ids, 2);
    const raw = forwardReference(g, ids, 2, T, { capture: [hook] }).hooks.get(hook)!;
    const want = centerResidual(raw, g.config.d_model);
    for (let i = 0; i < want.length; i++) expect(x[i]).toBeCloseTo(want[i], 5);
    const l = randomModel({ family: 'llama', seed: 42 });
    expect(() => referenceHookForward(l, { hook, T, center: true })).toThrow(/RMSNorm/);
    expect(() => referenceHookForward(l, { hook: 'blocks.5.hook_resid_post', T })).toThrow(/blocks 0–1/);
    expect(() => referenceHookForward(l, { hook, T: 999 })).toThrow(/context size 999/);
  });
});
