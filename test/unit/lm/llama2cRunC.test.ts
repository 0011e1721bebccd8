// llama2.c's tokenizer and greedy generation, pinned against llama2.c's own run.c (karpathy/llama2.c at
// 350e04f) on the fixture model (writers.ts llama2cFixture). The pinned ids came from:
//   node scripts/run-ts.mjs test/fixtures/lm/writeLlama2cFixture.ts /tmp/l2c && cd /tmp/l2c
//   # run.c, with `fprintf(stderr, "%d ", next);` after generate()'s safe_printf(piece):
//   gcc -O2 -o run_ids run_ids.c -lm
//   ./run_ids model.bin -z tokenizer.bin -t 0 -n 40 -i "The she and" 2>&1 >/dev/null
//   # encode(): a 10-line main around run.c built with -DTESTING, printing encode(t, text, 1, 1):
//   ./enc tokenizer.bin 315 "$text" 1 1
// run.c prints the prompt's tokens after the first, then each greedy token, 40 positions in all.
import { describe, expect, it } from 'vitest';
import { bytesByteSource } from '../../../src/data/byteSource';
import { Rng } from '../../../src/data/rng';
import { loadLlama2c } from '../../../src/lm/load/llama2c';
import { forwardReference, generateGreedy } from '../../../src/lm/reference/forward';
import { Llama2cTokenizer, parseLlama2cTokenizer } from '../../../src/lm/tokenizer/llama2c';
import { llama2cFixture, writeLlama2c, writeLlama2cTokenizer } from '../../fixtures/lm/writers';

const { model: fixture, vocab } = llama2cFixture();
const tokenizer = () =>
  new Llama2cTokenizer(parseLlama2cTokenizer(writeLlama2cTokenizer(vocab), 'tokenizer.bin', 315));

/** run.c encode(text, bos = 1, eos = 1) on the fixture tokenizer. */
const RUN_C_ENCODE: [string, number[]][] = [
  ['', [1, 2]],
  [' ', [1, 307, 2]],
  ['  hello   the', [1, 307, 312, 307, 282, 2]],
  ['line one\nline two\n', [1, 259, 269, 284, 260, 259, 289, 260, 13, 269, 284, 260, 278, 122, 263, 13, 2]],
  ['\ttab\t', [1, 259, 12, 261, 262, 101, 12, 2]],
  ['café é', [1, 259, 102, 262, 105, 275, 259, 275, 2]],
  ['日本 日本語', [1, 259, 306, 259, 306, 235, 173, 161, 2]],
  ['emoji 🙂!', [1, 259, 260, 112, 263, 109, 268, 259, 243, 162, 156, 133, 274, 2]],
  ['Thé she, and the hell.', [1, 259, 299, 275, 302, 273, 285, 265, 270, 282, 311, 272, 2]],
  ['ab😀cd', [1, 285, 101, 243, 162, 155, 131, 102, 270, 2]],
  ['   ', [1, 308, 259, 2]],
];

/** run.c -t 0 -n 40: the prompt's tokens after BOS's successor, then the greedy continuation. */
const RUN_C_GENERATE: [string, number[]][] = [
  [
    'The she and',
    [
      305, 280, 302, 285, 265, 270, 33, 235, 167, 48, 311, 92, 34, 158, 251, 187, 175, 186, 92, 298, 30, 57,
      121, 185, 92, 37, 251, 187, 251, 187, 251, 75, 51, 158, 186, 121, 15, 15, 174, 264,
    ],
  ],
  [
    'hello',
    [
      312, 101, 91, 313, 193, 99, 302, 101, 66, 150, 142, 62, 245, 84, 180, 246, 101, 180, 173, 137, 298, 173,
      158, 35, 167, 92, 150, 125, 181, 259, 15, 174, 48, 60, 166, 193, 142, 125, 211, 98,
    ],
  ],
  [
    'Th',
    [
      259, 299, 125, 37, 158, 251, 188, 150, 246, 115, 313, 137, 98, 269, 270, 259, 167, 202, 77, 62, 98, 245,
      246, 219, 88, 193, 15, 174, 119, 158, 80, 185, 167, 219, 15, 15, 15, 15, 15, 15,
    ],
  ],
];

describe('llama2.c tokenizer = run.c encode', () => {
  const tok = tokenizer();
  for (const [text, ids] of RUN_C_ENCODE)
    it(`encodes ${JSON.stringify(text)}`, () => {
      expect(tok.encode(text, { bos: true, eos: true })).toEqual(ids);
      expect(tok.encodeReference(text, { bos: true, eos: true })).toEqual(ids);
    });

  it('the heap encoder equals the literal run.c loop on 300 random strings of pieces, bytes and Unicode', () => {
    const alphabet = [
      'the',
      ' ',
      '  ',
      'h',
      'e',
      'l',
      'o',
      ' she',
      'and',
      'é',
      '日',
      '本',
      '\n',
      '🙂',
      'T',
      'x',
      'q',
      ',',
      '.',
    ];
    const r = new Rng(31, 2);
    for (let k = 0; k < 300; k++) {
      let s = '';
      const n = r.int(40);
      for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
      expect(tok.encode(s), JSON.stringify(s)).toEqual(tok.encodeReference(s));
    }
  });

  it('groups a byte with the continuation bytes after it (at most 4) and stops at a NUL, as run.c does', () => {
    // run.c encode(t, "h\x80\x80e", 0, 0) and "日\x80\x80\x80\x80x": no piece for the groups, so bytes + 3.
    expect(tok.encode(Uint8Array.from([0x68, 0x80, 0x80, 0x65]))).toEqual([259, 107, 131, 131, 260]);
    const odd = Uint8Array.from([0xe6, 0x97, 0xa5, 0x80, 0x80, 0x80, 0x80, 0x78]);
    expect(tok.encode(odd)).toEqual([259, 233, 154, 168, 131, 131, 131, 131, 123]);
    expect(tok.encodeReference(odd)).toEqual(tok.encode(odd));
    // The C string ends at the first NUL.
    expect(tok.encode(Uint8Array.from([0x68, 0x80, 0x80, 0x65, 0x00, 0x74]))).toEqual([
      259, 107, 131, 131, 260,
    ]);
  });

  it('decodes as run.c prints: no leading space after BOS, byte pieces as their bytes', () => {
    for (const [text, ids] of RUN_C_ENCODE) {
      // The dummy prefix " " is dropped after BOS, so the text comes back (a leading space included).
      expect(tok.decode(ids.slice(1, -1), 1), JSON.stringify(text)).toBe(text);
    }
    expect(tok.tokenText(259)).toBe(' ');
    expect(tok.tokenText(3 + 0x0a)).toBe('\n');
    expect(tok.tokenText(3 + 0xe6)).toBe('\\xe6');
    expect(() => tok.tokenText(315)).toThrow(/outside the vocabulary/);
  });
});

describe('llama2.c greedy generation = run.c at temperature 0', () => {
  it('the float64 reference, from the .bin file, continues each prompt with run.c’s tokens', async () => {
    const model = await loadLlama2c(bytesByteSource(writeLlama2c(fixture, 0), 'model.bin'));
    const tok = tokenizer();
    for (const [prompt, printed] of RUN_C_GENERATE) {
      const ids = tok.encode(prompt, { bos: true });
      expect(printed.slice(0, ids.length - 1)).toEqual(ids.slice(1));
      const steps = 40;
      const n = steps - (ids.length - 1);
      const out = generateGreedy(model, ids, n, { stopAt: [1] });
      expect(Array.from(out), prompt).toEqual(printed.slice(ids.length - 1));
    }
  });

  it('the greedy choices are not near-ties (float32 run.c and the float64 reference cannot disagree by rounding)', () => {
    const tok = tokenizer();
    const [prompt, printed] = RUN_C_GENERATE[0];
    const ids = tok.encode(prompt, { bos: true });
    const seq = [ids[0], ...printed].slice(0, 40);
    const V = fixture.config.vocab_size;
    const { logits } = forwardReference(fixture, Int32Array.from(seq), 1, seq.length);
    let minGap = Infinity;
    for (let t = ids.length - 1; t < seq.length; t++) {
      const row = Array.from(logits.subarray(t * V, (t + 1) * V)).sort((a, b) => b - a);
      minGap = Math.min(minGap, row[0] - row[1]);
    }
    expect(minGap).toBeGreaterThan(1e-3);
  });
});
