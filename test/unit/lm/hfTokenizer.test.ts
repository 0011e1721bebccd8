// HF tokenizer.json through @huggingface/transformers (src/lm/tokenizer/hf.ts) against the reference
// implementation, Hugging Face's Rust `tokenizers`, on awkward strings (spaces, newlines, tabs, accents,
// CJK, emoji through byte fallback, a special token inside text), for a GPT-2-style byte-level BPE and a
// Llama-2-style sentencepiece BPE with byte fallback (test/fixtures/lm/tokenizerJson.ts). The pinned ids
// came from the npm package `tokenizers` 0.23.2 (Rust core), installed outside the project:
//   tok = Tokenizer.fromFile(file); (await tok.encode(text, null, { addSpecialTokens: false })).getIds()
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { DataFileError } from '../../../src/data/errors';
import { hfTokenizer, loadLmTokenizer } from '../../../src/lm/tokenizer';
import { AWKWARD_STRINGS, byteLevelBpe, llamaBpe } from '../../fixtures/lm/tokenizerJson';
import { llama2cFixture, writeLlama2cTokenizer } from '../../fixtures/lm/writers';

const RUST_BYTE_LEVEL: [string, number[]][] = [
  ['hello world', [269, 282]],
  [' hello  world ', [270, 32, 282, 32]],
  ['   ', [273]],
  ['The she and the hello.', [285, 266, 262, 258, 270, 46]],
  ['line one\nline two\n\n', [108, 260, 101, 32, 263, 101, 10, 108, 260, 101, 256, 119, 111, 271]],
  ['\ttab\t', [9, 116, 97, 98, 9]],
  ['café, é', [277, 44, 32, 274]],
  ['日本 日本語', [284, 230, 156, 172, 32, 284, 230, 156, 172, 232, 170, 158]],
  ['emoji 🙂!', [101, 109, 111, 106, 105, 32, 240, 159, 153, 130, 33]],
  ['ab😀cd', [97, 98, 240, 159, 152, 128, 99, 100]],
  ['a<|endoftext|>b', [97, 286, 98]],
  [
    "it's 3.14 — ‘quoted’",
    [
      105, 116, 39, 115, 32, 51, 46, 49, 52, 32, 226, 128, 148, 32, 226, 128, 152, 113, 117, 111, 116, 101,
      100, 226, 128, 153,
    ],
  ],
];

const RUST_LLAMA: [string, number[]][] = [
  ['hello world', [291, 297]],
  [' hello  world ', [259, 291, 292, 270, 294, 267, 265, 259]],
  ['   ', [292, 292]],
  ['The she and the hello.', [259, 302, 287, 285, 282, 291, 272]],
  [
    'line one\nline two\n\n',
    [259, 267, 279, 264, 260, 259, 268, 264, 260, 13, 267, 279, 264, 260, 280, 270, 268, 13, 13],
  ],
  ['\ttab\t', [259, 12, 261, 263, 101, 12]],
  ['café, é', [259, 301, 273, 259, 274]],
  ['日本 日本語', [259, 298, 259, 298, 235, 173, 161]],
  ['emoji 🙂!', [259, 260, 112, 268, 109, 279, 259, 243, 162, 156, 133, 36]],
  ['ab😀cd', [283, 101, 243, 162, 155, 131, 277, 265]],
  ['a<|endoftext|>b', [283, 63, 127, 260, 264, 265, 268, 278, 261, 260, 123, 261, 127, 65, 101]],
  [
    "it's 3.14 — ‘quoted’",
    [
      259, 279, 261, 42, 266, 259, 54, 272, 52, 55, 259, 229, 131, 151, 259, 229, 131, 155, 116, 120, 268,
      261, 260, 265, 229, 131, 156,
    ],
  ],
];

describe('HF tokenizer.json = Rust tokenizers', () => {
  for (const [kind, json, pinned] of [
    ['byte-level BPE (GPT-2)', byteLevelBpe, RUST_BYTE_LEVEL],
    ['sentencepiece BPE with byte fallback (Llama)', llamaBpe, RUST_LLAMA],
  ] as const)
    it(`${kind}: every awkward string encodes to the reference ids and decodes back`, async () => {
      const tok = await hfTokenizer(json(), 'tokenizer.json');
      expect(pinned.map(([s]) => s)).toEqual(AWKWARD_STRINGS);
      for (const [text, ids] of pinned) {
        expect(tok.encode(text), JSON.stringify(text)).toEqual(ids);
        expect(tok.decode(ids), JSON.stringify(text)).toBe(text);
      }
    });

  it('special ids come from tokenizer_config.json; the token text of pieces is running text', async () => {
    const tok = await hfTokenizer(byteLevelBpe(), 'tokenizer.json', {
      bos_token: '<|endoftext|>',
      eos_token: { content: '<|endoftext|>' },
    });
    expect(tok.bosId).toBe(286);
    expect(tok.eosId).toBe(286);
    expect(tok.padId).toBeNull();
    expect(tok.tokenText.text(270)).toBe(' hello');
    expect(tok.tokenText.special(286)).toBe(true);
    const llama = await hfTokenizer(llamaBpe(), 'tokenizer.json', { bos_token: '<s>', eos_token: '</s>' });
    expect([llama.bosId, llama.eosId]).toEqual([1, 2]);
    expect(llama.tokenText.text(291)).toBe(' hello');
    expect(llama.tokenText.text(3 + 0x0a)).toBe('\n');
  });
});

describe('loadLmTokenizer', () => {
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  it('finds tokenizer.json (+ tokenizer_config.json) or tokenizer.bin among the files', async () => {
    const hf = await loadLmTokenizer([
      bytesByteSource(new Uint8Array(4), 'model.safetensors'),
      bytesByteSource(enc({ bos_token: '<s>' }), 'tokenizer_config.json'),
      bytesByteSource(enc(llamaBpe()), 'tokenizer.json'),
    ]);
    expect([hf.kind, hf.bosId, hf.encode('hello world')]).toEqual(['hf', 1, [291, 297]]);
    const { vocab } = llama2cFixture();
    const l2c = await loadLmTokenizer(
      [bytesByteSource(writeLlama2cTokenizer(vocab), 'tokenizer.bin')],
      vocab.length,
    );
    expect(l2c.kind).toBe('llama2c');
    expect(l2c.decode(l2c.encode('The she and the hello.'))).toBe('The she and the hello.');
    expect(l2c.tokenText.special(1)).toBe(true);
    expect([l2c.tokenText.text(1), l2c.tokenText.text(2), l2c.tokenText.text(259)]).toEqual([
      '<s>',
      '</s>',
      ' ',
    ]);
  });

  it('refuses a missing, bad or too-large tokenizer with the file named', async () => {
    await expect(loadLmTokenizer([bytesByteSource(new Uint8Array(4), 'model.bin')])).rejects.toThrow(
      /no tokenizer among the files \(model\.bin\)/,
    );
    await expect(loadLmTokenizer([bytesByteSource(enc([1, 2]), 'tokenizer.json')])).rejects.toThrow(
      /tokenizer\.json: not a JSON object/,
    );
    await expect(
      loadLmTokenizer([bytesByteSource(new TextEncoder().encode('{'), 'tokenizer.json')]),
    ).rejects.toBeInstanceOf(DataFileError);
    await expect(
      loadLmTokenizer([bytesByteSource(enc(byteLevelBpe()), 'tokenizer.json')], 100),
    ).rejects.toThrow(/the tokenizer has 287 tokens, the model's vocabulary 100/);
    const { vocab } = llama2cFixture();
    const bin = writeLlama2cTokenizer(vocab);
    // Without the byte tokens at 3..258, run.c's byte fallback would emit the wrong ids.
    await expect(
      loadLmTokenizer([bytesByteSource(writeLlama2cTokenizer(vocab.slice(0, 100)), 'tokenizer.bin')]),
    ).rejects.toThrow(/tokenizer\.bin: 100 tokens; llama2\.c needs/);
    const moved = [...vocab];
    [moved[10], moved[11]] = [moved[11], moved[10]];
    await expect(
      loadLmTokenizer([bytesByteSource(writeLlama2cTokenizer(moved), 'tokenizer.bin')]),
    ).rejects.toThrow(/token 10 is "<0x08>", byte fallback needs <0x07> there/);
    await expect(
      loadLmTokenizer([bytesByteSource(bin.subarray(0, 100), 'tokenizer.bin')], vocab.length),
    ).rejects.toThrow(/tokenizer\.bin: .*truncated at token|tokenizer\.bin: token \d+/);
  });
});
