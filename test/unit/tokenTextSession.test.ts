// Which token text a drop gives (issue 10): tokenizer files alone attach to the loaded data; with
// activations they come along; the built-in vocabulary marks <bos>; without IndexedDB (Node) nothing
// is remembered and nothing fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  builtinTokenText,
  dataIdentity,
  isTokenTextOnly,
  pruneRemembered,
  recallTokenText,
  rememberTokenText,
  tokenTextOfDrop,
} from '../../src/app/tokenTextSession';
import { bytesByteSource } from '../../src/data/byteSource';
import { createSyntheticSource, syntheticConfig } from '../../src/data/synthetic';

const src = (name: string, v: unknown) =>
  bytesByteSource(new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v)), name);
const tokenizer = () =>
  bytesByteSource(readFileSync(join(__dirname, '../fixtures/data/tiny-tokenizer.json')), 'c/tokenizer.json');

describe('token text of a drop', () => {
  it('tokenizer files alone are token text only; with an activation file they are not', async () => {
    const cfg = src('c/tokenizer_config.json', {});
    expect(isTokenTextOnly([tokenizer(), cfg])).toBe(true);
    expect(isTokenTextOnly([tokenizer(), src('c/acts.npy', 'x')])).toBe(false);
    expect(isTokenTextOnly([])).toBe(false);
    const tt = await tokenTextOfDrop([src('c/acts.npy', 'x'), cfg, tokenizer()]);
    expect([tt!.name, tt!.text(4)]).toEqual(['c/tokenizer.json', ' hi']);
    expect(await tokenTextOfDrop([src('c/acts.npy', 'x')])).toBeNull();
  });

  it('a bad tokenizer in a drop is an error naming it', async () => {
    await expect(tokenTextOfDrop([src('vocab.json', [1])])).rejects.toThrow(
      /^vocab\.json: a vocabulary list/,
    );
  });

  it('the built-in vocabulary: <bos> is special, f0… are words, unknown ids are not made up', () => {
    const s = createSyntheticSource(syntheticConfig('tiny', 1234));
    const tt = builtinTokenText(s);
    expect([tt.text(0), tt.special(0), tt.text(2), tt.special(2)]).toEqual(['<bos>', true, 'f0', false]);
    expect(tt.known(tt.size)).toBe(false);
    expect(dataIdentity(s)).toBe(`${s.name}|${s.numSequences}|${s.seqLen}|${s.d}`);
  });

  it('without IndexedDB remembering is a no-op and recalling finds nothing', async () => {
    await rememberTokenText('x|1|2|3', [tokenizer()]);
    expect(await recallTokenText('x|1|2|3')).toBeNull();
  });

  it('remembers at most 8 datasets and 128 MB, newest first; the one just saved always stays', () => {
    const e = (identity: string, bytes: number, savedAt: number) => ({ identity, bytes, savedAt });
    const index = Array.from({ length: 8 }, (_, i) => e(`d${i}`, 1 << 20, i));
    const r = pruneRemembered(index, e('new', 1 << 20, 100));
    expect(r.index.map((x) => x.identity)).toEqual(['new', 'd7', 'd6', 'd5', 'd4', 'd3', 'd2', 'd1']);
    expect(r.evict).toEqual(['d0']);
    // Saving one already remembered replaces it.
    expect(pruneRemembered(index, e('d3', 5, 200)).index.filter((x) => x.identity === 'd3')).toEqual([
      e('d3', 5, 200),
    ]);
    // Bytes: two 100 MB tokenizers do not both fit 128 MB; one bigger than the bound alone is still kept.
    const big = pruneRemembered([e('a', 100 << 20, 1)], e('b', 100 << 20, 2));
    expect([big.index.map((x) => x.identity), big.evict]).toEqual([['b'], ['a']]);
    expect(pruneRemembered([], e('huge', 1 << 30, 1)).index.length).toBe(1);
  });
});
