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
});
