// Token text from a dropped tokenizer.json (through @huggingface/transformers, no network) or a JSON
// vocabulary; ids are shown when there is none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import {
  idsTokenText,
  isTokenTextFile,
  loadTokenText,
  tokenTextFromFiles,
} from '../../../src/data/tokenText';

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

describe('token text decoding (issue 10)', () => {
  it('decodes a GPT-2 byte-level vocabulary: Ġ is a space, Ċ a newline, split characters as \\xNN', async () => {
    // "é" is c3 a9: GPT-2 spells those bytes "Ã" and "©".
    const tt = await loadTokenText(
      bytesByteSource(enc({ '<|endoftext|>': 0, Ġworld: 1, Ċ: 2, hello: 3, 'Ã©': 4, Ã: 5 }), 'vocab.json'),
    );
    expect([0, 1, 2, 3, 4, 5].map((i) => tt.text(i))).toEqual([
      '<|endoftext|>',
      ' world',
      '\n',
      'hello',
      'é',
      '\\xc3',
    ]);
    expect(tt.special(0)).toBe(true);
    expect(tt.special(1)).toBe(false);
    expect([tt.known(5), tt.known(6), tt.text(6)]).toEqual([true, false, '[6]']);
  });

  it('decodes SentencePiece pieces (▁ and byte pieces) and marks <s> </s> <pad>', async () => {
    const tt = await loadTokenText(
      bytesByteSource(enc(['<pad>', '<s>', '</s>', '▁the', 'cat', '<0x0A>']), 'vocab.json'),
    );
    expect([3, 4, 5].map((i) => tt.text(i))).toEqual([' the', 'cat', '\n']);
    expect([0, 1, 2, 3].map((i) => tt.special(i))).toEqual([true, true, true, false]);
  });

  it('an object vocabulary with holes: the holes are unknown, not made-up text', async () => {
    const tt = await loadTokenText(bytesByteSource(enc({ a: 0, c: 2 }), 'vocab.json'));
    expect([tt.known(1), tt.text(1), tt.text(2)]).toEqual([false, '[1]', 'c']);
    const err = await loadTokenText(bytesByteSource(enc({ a: 1e9 }), 'v.json')).catch((e) => e);
    expect(err.message).toMatch(/^v\.json: a vocabulary object must map tokens to integer ids/);
    const empty = await loadTokenText(bytesByteSource(enc({}), 'v.json')).catch((e) => e);
    expect(empty.message).toBe('v.json: the vocabulary is empty');
  });

  it('a tokenizer.json marks its special tokens and keeps the space of a metaspace word start', async () => {
    const bytes = readFileSync(join(__dirname, '../../fixtures/data/tiny-tokenizer.json'));
    const tt = await loadTokenText(bytesByteSource(bytes, 'tokenizer.json'));
    expect([tt.special(6), tt.special(4), tt.known(4), tt.known(99)]).toEqual([true, false, true, false]);
    const sp = await loadTokenText(
      bytesByteSource(
        enc({
          version: '1.0',
          truncation: null,
          padding: null,
          added_tokens: [
            {
              id: 0,
              content: '<s>',
              single_word: false,
              lstrip: false,
              rstrip: false,
              normalized: false,
              special: true,
            },
          ],
          normalizer: null,
          post_processor: null,
          pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
          decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
          model: { type: 'WordLevel', vocab: { '<s>': 0, '▁the': 1, cat: 2 }, unk_token: '<s>' },
        }),
        'tokenizer.json',
      ),
    );
    expect([sp.text(1), sp.text(2), sp.special(0)]).toEqual([' the', 'cat', true]);
  });

  it('a byte-level tokenizer piece holding half a character shows its byte, not U+FFFD', async () => {
    const json = JSON.parse(readFileSync(join(__dirname, '../../fixtures/data/tiny-tokenizer.json'), 'utf8'));
    // "Ã" is byte 0xc3, the first half of "é" (c3 a9); "Ã©" is the whole character.
    json.model.vocab['Ã'] = 7;
    json.model.vocab['Ã©'] = 8;
    const tt = await loadTokenText(bytesByteSource(enc(json), 'tokenizer.json'));
    expect([tt.text(7), tt.text(8)]).toEqual(['\\xc3', 'é']);
  });

  it('picks tokenizer.json over vocab files in a drop and ignores tokenizer_config.json as text', async () => {
    const tok = bytesByteSource(
      readFileSync(join(__dirname, '../../fixtures/data/tiny-tokenizer.json')),
      'cache/tokenizer.json',
    );
    const cfg = bytesByteSource(enc({ bos_token: '<|endoftext|>' }), 'cache/tokenizer_config.json');
    const voc = bytesByteSource(enc(['x']), 'cache/vocab.json');
    expect(isTokenTextFile('cache/tokenizer_config.json')).toBe(false);
    expect(isTokenTextFile('cache/tokenizer.json')).toBe(true);
    const tt = await tokenTextFromFiles([voc, cfg, tok]);
    expect([tt!.name, tt!.text(5)]).toEqual(['cache/tokenizer.json', ' there']);
    expect(await tokenTextFromFiles([cfg])).toBeNull();
  });
});
