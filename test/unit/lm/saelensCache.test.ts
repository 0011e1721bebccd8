// The SAELens cache writer (src/lm/capture/saelensCache.ts): what it writes reads back row for row
// through the app's own cache reader (src/data/arrowCache.ts) and through apache-arrow, with the
// datasets layout (extension type and its metadata, Sequence token_ids, shards named -of-N).
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { openArrowCache } from '../../../src/data/arrowCache';
import { bytesByteSource } from '../../../src/data/byteSource';
import { SaeLensCacheWriter, type CacheSink } from '../../../src/lm/capture/saelensCache';

function memorySink() {
  const files = new Map<string, Uint8Array[]>();
  const sink: CacheSink = {
    append: async (name, b) => void (files.get(name) ?? files.set(name, []).get(name)!).push(b.slice()),
    rename: async (from, to) => {
      files.set(to, files.get(from)!);
      files.delete(from);
    },
    writeText: async (name, text) => void files.set(name, [new TextEncoder().encode(text)]),
  };
  const bytes = (name: string) => {
    const parts = files.get(name)!;
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) out.set(p, (o += p.length) - p.length);
    return out;
  };
  return { sink, files, bytes };
}

const value = (s: number, t: number, j: number) => s * 1000 + t * 10 + j + 0.25;

describe('SaeLensCacheWriter', () => {
  it('rows in several batches and shards read back through openArrowCache, in order', async () => {
    const T = 4;
    const d = 3;
    const S = 11;
    const { sink, files, bytes } = memorySink();
    const w = new SaeLensCacheWriter(sink, {
      hookName: 'blocks.1.hook_resid_pre',
      T,
      d,
      rowsPerBatch: 3,
      shardBytes: 600,
    });
    const x = Float32Array.from({ length: S * T * d }, (_, i) =>
      value(Math.floor(i / (T * d)), Math.floor(i / d) % T, i % d),
    );
    const ids = Int32Array.from({ length: S * T }, (_, i) => (i * 7) % 50);
    // Appended in uneven pieces, as a capture's batches arrive.
    await w.append(x.subarray(0, 2 * T * d), ids.subarray(0, 2 * T), 2);
    await w.append(x.subarray(2 * T * d), ids.subarray(2 * T), S - 2);
    const { rows, files: shards } = await w.finish();
    expect(rows).toBe(S);
    expect(shards.length).toBeGreaterThan(1);
    expect(shards[0]).toBe(`data-00000-of-${String(shards.length).padStart(5, '0')}.arrow`);
    expect([...files.keys()].sort()).toEqual([...shards, 'dataset_info.json', 'state.json'].sort());

    const srcs = [...files.keys()].map((n) => bytesByteSource(bytes(n), n));
    const cache = await openArrowCache('cache', srcs);
    expect([cache.numSequences, cache.seqLen, cache.d]).toEqual([S, T, d]);
    const all = await cache.readSequences([...Array(S).keys()]);
    expect(Array.from(all.x)).toEqual(Array.from(x));
    expect(Array.from(all.tokenIds!)).toEqual(Array.from(ids));
  });

  it('the datasets layout: Array2D extension metadata as datasets serialises it, Sequence ids, state and info', async () => {
    const { sink, bytes } = memorySink();
    const w = new SaeLensCacheWriter(sink, {
      hookName: 'blocks.0.hook_resid_post',
      T: 2,
      d: 5,
      description: { model: 'm' },
    });
    await w.append(new Float32Array(2 * 2 * 5).fill(1.5), Int32Array.of(1, 2, 3, 4), 2);
    await w.finish();
    const table = tableFromIPC(bytes('data-00000-of-00001.arrow'));
    const f = table.schema.fields[0];
    expect(f.name).toBe('blocks.0.hook_resid_post');
    expect(f.metadata.get('ARROW:extension:name')).toBe('datasets.features.features.Array2DExtensionType');
    expect(f.metadata.get('ARROW:extension:metadata')).toBe('[[2, 5], "float32"]');
    expect(String(f.type)).toBe('List<List<Float32>>');
    expect(String(table.schema.fields[1].type)).toBe('FixedSizeList[2]<Int32>');
    expect(table.numRows).toBe(2);
    expect(table.getChild('token_ids')!.get(1)!.toArray()).toEqual(Int32Array.of(3, 4));
    const state = JSON.parse(new TextDecoder().decode(bytes('state.json')));
    expect(state._data_files).toEqual([{ filename: 'data-00000-of-00001.arrow' }]);
    expect(state._fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const info = JSON.parse(new TextDecoder().decode(bytes('dataset_info.json')));
    expect(info.features['blocks.0.hook_resid_post']).toEqual({
      shape: [2, 5],
      dtype: 'float32',
      _type: 'Array2D',
    });
    expect(JSON.parse(info.description).model).toBe('m');
    expect(() => new SaeLensCacheWriter(sink, { hookName: 'resid', T: 2, d: 5 })).toThrow(/blocks\.L\.hook_/);
    await expect(w.append(new Float32Array(3), new Int32Array(2), 1)).rejects.toThrow(/already finished/);
  });
});
