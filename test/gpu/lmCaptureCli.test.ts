// `capture --model DIR --text FILE... --hook NAME --out DIR` (src/cli/captureCommand.ts) on SwiftShader:
// a random tiny GPT-2 HF folder (tokenizer.json) with centring, and a llama2.c .bin + tokenizer.bin over a
// .parquet file. The cache folder it writes must read back through the app's reader with the packed
// token ids of the same text and, row by row, the float64 reference's hook values (|gpu − ref| ≤
// 1e-4 + 1e-4·|ref|: the WGSL forward matches the reference to ~2e-5 at these sizes, test/gpu/lmForward);
// and `train --data OUT` must train on it. `train --model` streams the same activations into training.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { openArrowCache } from '../../src/data/arrowCache';
import { bytesByteSource } from '../../src/data/byteSource';
import { fileByteSource } from '../../src/data/nodeByteSource';
import { centerResidual, forwardReference } from '../../src/lm/reference/forward';
import { packTexts } from '../../src/lm/text';
import {
  hfTokenizer,
  llama2cLmTokenizer,
  Llama2cTokenizer,
  parseLlama2cTokenizer,
} from '../../src/lm/tokenizer';
import type { LanguageModel } from '../../src/lm/types';
import { randomModel } from '../fixtures/lm/randomModel';
import { byteLevelBpe } from '../fixtures/lm/tokenizerJson';
import { hfFolderFiles, llama2cFixture, writeLlama2c, writeLlama2cTokenizer } from '../fixtures/lm/writers';
import { cli, tempDir } from './cli-helpers';
import type { LmTokenizer } from '../../src/lm/tokenizer';

const DOCS = [
  'The world said hello to the cafe.',
  'She had an end, and then she said hello again and again to the world.',
  'Hello there\n\nthe end and the world and the hello',
  'café, é — 日本',
];

async function readCache(dir: string) {
  const files = await Promise.all(readdirSync(dir).map((n) => fileByteSource(path.join(dir, n))));
  return openArrowCache(dir, files);
}

/** The rows the CLI must have packed, and each row's reference hook values. */
async function expectCacheMatches(
  out: string,
  model: LanguageModel,
  tok: LmTokenizer,
  sources: (ReturnType<typeof bytesByteSource> | string)[],
  hook: string,
  T: number,
  center: boolean,
) {
  const rows = [];
  for await (const r of packTexts(sources, tok, { contextSize: T })) rows.push(r);
  const cache = await readCache(out);
  expect([cache.numSequences, cache.seqLen, cache.d]).toEqual([rows.length, T, model.config.d_model]);
  const got = await cache.readSequences([...rows.keys()]);
  const d = model.config.d_model;
  let worst = 0;
  rows.forEach((r, s) => {
    expect(Array.from(got.tokenIds!.subarray(s * T, (s + 1) * T))).toEqual(Array.from(r.ids));
    let want = forwardReference(model, r.ids, 1, T, { capture: [hook], logits: false }).hooks.get(hook)!;
    if (center) want = centerResidual(want, d);
    for (let i = 0; i < want.length; i++) {
      const e = Math.abs(got.x[s * T * d + i] - want[i]);
      worst = Math.max(worst, e / (1e-4 + 1e-4 * Math.abs(want[i])));
    }
  });
  expect(worst).toBeLessThanOrEqual(1);
  return rows.length;
}

describe('CLI capture', () => {
  it('GPT-2 HF folder, .txt + .jsonl, centred resid_pre → a SAELens cache that trains again', async () => {
    const tokJson = byteLevelBpe();
    const vocab = Object.keys((tokJson.model as { vocab: object }).vocab).length;
    const model = randomModel({ family: 'gpt2', seed: 51, vocab_size: vocab });
    const modelDir = tempDir('cap-gpt2');
    const tokCfg = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' };
    for (const [name, bytes] of Object.entries(hfFolderFiles(model, tokJson, tokCfg)))
      writeFileSync(path.join(modelDir, name), bytes);
    const textDir = tempDir('cap-text');
    const txt = path.join(textDir, 'a.txt');
    const jsonl = path.join(textDir, 'b.jsonl');
    writeFileSync(txt, DOCS[0]);
    writeFileSync(
      jsonl,
      DOCS.slice(1)
        .map((text) => JSON.stringify({ text }))
        .join('\n'),
    );
    const out = path.join(tempDir('cap-out'), 'cache');
    const hook = 'blocks.1.hook_resid_pre';
    const T = 12;
    const r = await cli([
      'capture',
      '--model',
      modelDir,
      '--text',
      txt,
      jsonl,
      '--hook',
      hook,
      '--context-size',
      String(T),
      '--batch-seqs',
      '3',
      '--center',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({
      command: 'capture',
      hook_name: hook,
      context_size: T,
      d_in: 16,
      center_writing_weights: true,
    });
    const tok = await hfTokenizer(tokJson, 'tokenizer.json', tokCfg);
    const sources = [bytesByteSource(new TextEncoder().encode(DOCS[0]), 'a.txt'), ...DOCS.slice(1)];
    const n = await expectCacheMatches(out, model, tok, sources, hook, T, true);
    expect(r.json.rows).toBe(n);
    expect(n).toBeGreaterThan(3); // more than one batch of 3

    // The cache trains again.
    const run = tempDir('cap-train');
    const t = await cli([
      'train',
      '--data',
      out,
      '--out',
      run,
      '--steps',
      '3',
      '--seq-len',
      String(T),
      '--d-sae',
      '32',
      '--batch-seqs',
      '2',
      '--metrics-every',
      '1',
      '--eval-every',
      '0',
    ]);
    expect(t.code, t.err).toBe(0);
    expect(t.json.step).toBe(3);

    // A second capture into the same folder is refused.
    const again = await cli([
      'capture',
      '--model',
      modelDir,
      '--text',
      txt,
      '--context-size',
      String(T),
      '--hook',
      hook,
      '--out',
      out,
    ]);
    expect(again.code, again.err).toBe(2);
    expect(again.err).toMatch(/already holds/);
  });

  it('train --model DIR --text FILE... --hook NAME: activations stream from the model into training, and resume', async () => {
    const { model, vocab } = llama2cFixture();
    const modelDir = tempDir('trm-l2c');
    writeFileSync(path.join(modelDir, 'stories.bin'), writeLlama2c(model, 0));
    writeFileSync(path.join(modelDir, 'tokenizer.bin'), writeLlama2cTokenizer(vocab));
    const jsonl = path.join(tempDir('trm-text'), 'd.jsonl');
    writeFileSync(jsonl, [...DOCS, ...DOCS].map((text) => JSON.stringify({ text })).join('\n'));
    const run = tempDir('trm-run');
    const args = [
      '--model',
      modelDir,
      '--text',
      jsonl,
      '--hook',
      'blocks.1.hook_resid_post',
      '--context-size',
      '8',
    ];
    const tiny = ['--d-sae', '32', '--batch-seqs', '2', '--metrics-every', '1', '--eval-every', '0'];
    const t = await cli(['train', ...args, ...tiny, '--steps', '3', '--out', run]);
    expect(t.code, t.err).toBe(0);
    expect(t.json.step).toBe(3);
    // The tokenizer's BOS (run.c: 1) separates documents, so the batcher marks document starts at it.
    const cfg = JSON.parse(readFileSync(path.join(run, 'cfg.json'), 'utf8'));
    expect((cfg.metadata ?? cfg).doc_start_token_ids).toEqual([1]);
    // The checkpoint names the model data; --resume reopens it without the flags.
    const r = await cli(['train', '--resume', run, '--steps', '5']);
    expect(r.code, r.err).toBe(0);
    expect(r.json.step).toBe(5);
    const both = await cli(['train', ...args, '--data', jsonl, '--out', tempDir('trm-x')]);
    expect(both.code).toBe(2);
  });

  it('llama2.c .bin + tokenizer.bin over a .parquet text column, hook_mlp_out', async () => {
    const { model, vocab } = llama2cFixture();
    const modelDir = tempDir('cap-l2c');
    writeFileSync(path.join(modelDir, 'stories.bin'), writeLlama2c(model, 1));
    const tokBin = writeLlama2cTokenizer(vocab);
    writeFileSync(path.join(modelDir, 'tokenizer.bin'), tokBin);
    const pq = path.join(tempDir('cap-pq'), 'train.parquet');
    writeFileSync(
      pq,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'text', data: DOCS, type: 'STRING' }] })),
    );
    const out = path.join(tempDir('cap-out2'), 'cache');
    const hook = 'blocks.0.hook_mlp_out';
    const T = 10;
    const r = await cli([
      'capture',
      '--model',
      modelDir,
      '--text',
      pq,
      '--hook',
      hook,
      '--context-size',
      String(T),
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const tok = llama2cLmTokenizer(
      new Llama2cTokenizer(parseLlama2cTokenizer(tokBin, 'tokenizer.bin', vocab.length)),
    );
    await expectCacheMatches(out, model, tok, [...DOCS], hook, T, false);
    // Centring is refused for RMSNorm models.
    const c = await cli([
      'capture',
      '--model',
      modelDir,
      '--text',
      pq,
      '--hook',
      hook,
      '--center',
      '--out',
      path.join(out, 'x'),
    ]);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/RMSNorm/);
  });
});
