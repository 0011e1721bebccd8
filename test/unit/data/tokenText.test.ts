// Token text from a dropped tokenizer.json (through @huggingface/transformers, no network) or a JSON
// vocabulary; ids are shown when there is none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { idsTokenText, loadTokenText } from '../../../src/data/tokenText';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('token text', () => {
  it('decodes ids with a tiny byte-level BPE tokenizer.json', async () => {
    const bytes = readFileSync(join(__dirname, '../../fixtures/data/tiny-tokenizer.json'));
    const tt = await loadTokenText(bytesByteSource(bytes, 'tokenizer.json'));
    expect([tt.kind, tt.size]).toEqual(['tokenizer', 7]);
    // Byte-level pieces become text: "Ġthere" is " there".
    expect(tt.text(3)).toBe('hi');
    expect(tt.text(4)).toBe(' hi');
    expect(tt.text(5)).toBe(' there');
    expect(tt.text(6)).toBe('<|endoftext|>');
    expect(tt.text(99)).toBe('[99]');
  });

  it('reads a vocabulary list or a token → id object', async () => {
    const list = await loadTokenText(bytesByteSource(enc(['a', 'b', ' c']), 'vocab.json'));
    expect([list.kind, list.text(2), list.text(3)]).toEqual(['vocabulary', ' c', '[3]']);
    const obj = await loadTokenText(bytesByteSource(enc({ x: 1, y: 0 }), 'vocab.json'));
    expect([obj.text(0), obj.text(1)]).toEqual(['y', 'x']);
  });

  it('shows ids without a tokenizer', () => {
    expect(idsTokenText().text(42)).toBe('[42]');
  });

  it.each([
    ['{not json', /^t\.json: not valid JSON/],
    [[1, 2], /^t\.json: a vocabulary list must hold only strings/],
    [{ a: 'x' }, /^t\.json: a vocabulary object must map tokens to integer ids/],
    [{ model: { type: 'Nonsense' } }, /^t\.json: not a tokenizer this app can read/],
  ])('bad token files give a DataFileError (%#)', async (content, msg) => {
    const err = await loadTokenText(bytesByteSource(enc(content), 't.json')).catch((e) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect(err.message).toMatch(msg);
  });
});
