// `eval --sae DIR --model DIR --text FILE...` (src/cli/lossRecoveredCli.ts): a random tiny GPT-2 written
// as an HF folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), a TempoSAE
// export of an SAE trained on s·x (s = 2, folded into the folder), a .txt and a .jsonl file. The JSON
// line's SAEBench numbers must equal the float64 reference on the same packed rows (tokenized and packed
// here with the same tokenizer and packer), within the GPU path's tolerance (test/gpu/lmLossRecovered).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFolder } from '../../src/cli/runFolder';
import { Rng } from '../../src/data/rng';
import { buildSaeFolder } from '../../src/io/exportSae';
import { foldInputScaling } from '../../src/io/fold';
import { lossRecoveredReference } from '../../src/lm/lossRecovered';
import { packDocuments } from '../../src/lm/text';
import { hfTokenizer } from '../../src/lm/tokenizer';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import { referenceForward } from '../../src/sae/reference/forward';
import { refWeightsFromSae } from '../../src/sae/reference/state';
import { randomModel } from '../fixtures/lm/randomModel';
import { byteLevelBpe } from '../fixtures/lm/tokenizerJson';
import { writeHfGpt2 } from '../fixtures/lm/writers';
import { cli, tempDir } from './cli-helpers';

const HOOK = 'blocks.0.hook_resid_post';
const DOCS = [
  'The world said hello to the cafe.',
  'She had an end, and then she said hello again and again to the world.',
  'Hello there\n\nthe end',
];

async function setup() {
  const tokJson = byteLevelBpe();
  const tokCfg = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' };
  const vocab = Object.keys((tokJson.model as { vocab: object }).vocab).length; // 287, <|endoftext|> = 286
  const model = randomModel({ family: 'gpt2', seed: 31, vocab_size: vocab });
  expect(model.config.bos_token_id).toBe(vocab - 1);
  const modelDir = tempDir('lr-model');
  const hf = writeHfGpt2(model);
  writeFileSync(path.join(modelDir, 'config.json'), hf.config);
  writeFileSync(path.join(modelDir, 'model.safetensors'), hf.weights);
  writeFileSync(path.join(modelDir, 'tokenizer.json'), JSON.stringify(tokJson));
  writeFileSync(path.join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokCfg));

  const d = model.config.d_model;
  const m = 24;
  const rng = new Rng(5, 6);
  const s = 2;
  // Weights on s·x, as a normalizing run holds them; the export folds s in.
  const onScaled = {
    d_in: d,
    d_sae: m,
    W_enc: Float32Array.from({ length: d * m }, () => rng.normal() / Math.sqrt(d)),
    b_enc: Float32Array.from({ length: m }, () => -0.1),
    W_dec: Float32Array.from({ length: m * d }, () => rng.normal() / Math.sqrt(m)),
    b_dec: Float32Array.from({ length: d }, () => 0.1 * rng.normal()),
  };
  const config = { ...DEFAULT_CONFIG, architecture: 'relu' as const, d_in: d, d_sae: m };
  const saeDir = tempDir('lr-sae');
  writeFolder(
    saeDir,
    buildSaeFolder({
      weights: onScaled,
      config,
      scaling_factor: s,
      density: null,
      steps: 0,
      tokens_seen: 0,
      provenance: { hook_name: HOOK },
    }),
  );
  const textDir = tempDir('lr-text');
  const txt = path.join(textDir, 'a.txt');
  const jsonl = path.join(textDir, 'b.jsonl');
  writeFileSync(txt, DOCS[0]);
  writeFileSync(
    jsonl,
    DOCS.slice(1)
      .map((t) => JSON.stringify({ text: t }))
      .join('\n') + '\n',
  );
  const tok = await hfTokenizer(tokJson, 'tokenizer.json', tokCfg);
  return { model, modelDir, saeDir, txt, jsonl, tok, raw: foldInputScaling(onScaled, s), d };
}

type Setup = Awaited<ReturnType<typeof setup>>;
const T = 8;

/** eval on both text files with rows of T tokens, plus `extra` flags. */
const evalLr = (st: Setup, extra: string[]) =>
  cli([
    'eval',
    '--sae',
    st.saeDir,
    '--model',
    st.modelDir,
    '--text',
    st.txt,
    st.jsonl,
    '--context-size',
    `${T}`,
    ...extra,
  ]);

/** The float64 reference on the first R rows packed from `docs` with the same tokenizer and packer. */
function reference(st: Setup, docs: string[], R: number, prependBos = true) {
  const rows = packDocuments(
    docs.map((t) => st.tok.encode(t)),
    { contextSize: T, bosId: st.tok.bosId, prependBos },
  ).slice(0, R);
  expect(rows.length).toBe(R);
  const ids = new Int32Array(R * T);
  rows.forEach((row, i) => ids.set(row.ids, i * T));
  const rw = refWeightsFromSae(st.raw);
  const sae = (x: Float64Array, N: number) =>
    referenceForward(rw, { S: 1, T: N, d: st.d, x: Float32Array.from(x) }, { architecture: 'relu', k: 0 })
      .xhat;
  return { ids, metrics: lossRecoveredReference(st.model, ids, R, T, HOOK, sae).metrics };
}

const MEANS = [
  'ce_loss_with_sae',
  'ce_loss_without_sae',
  'ce_loss_with_ablation',
  'kl_div_with_sae',
  'kl_div_with_ablation',
] as const;

describe('eval --model --text: loss recovered on the JSON line', () => {
  it('= the float64 reference on the same packed rows', async () => {
    const st = await setup();
    const r = await evalLr(st, ['--max-rows', '5', '--batch-seqs', '2']);
    expect(r.code, r.err).toBe(0);
    const j = r.json;
    expect(j).toMatchObject({ command: 'eval', hook_name: HOOK, context_size: T, rows: 5, centered: false });
    const { ids, metrics: want } = reference(st, DOCS, 5);
    // BOS opens every row and separates documents: those positions are left out.
    expect(ids.filter((t) => t === st.tok.bosId).length).toBeGreaterThanOrEqual(5);
    for (const k of MEANS)
      expect(Math.abs((j[k] as number) - want[k]), `${k}: cli ${j[k]} reference ${want[k]}`).toBeLessThan(
        2e-4 * Math.abs(want[k]) + 1e-5,
      );
    expect(Math.abs((j.ce_loss_score as number) - want.ce_loss_score)).toBeLessThan(1e-3);
    expect(Math.abs((j.kl_div_score as number) - want.kl_div_score)).toBeLessThan(1e-3);
    expect([j.ce_tokens, j.kl_tokens, j.total_tokens_eval_reconstruction]).toEqual([
      want.ce_tokens,
      want.kl_tokens,
      5 * T,
    ]);
    expect(r.err).toMatch(/loss recovered: 5 rows of 8 tokens at blocks\.0\.hook_resid_post/);
  });

  it("the capture command's text and weight flags: --no-prepend-bos --txt-split paragraph --weights f16", async () => {
    const st = await setup();
    const r = await evalLr(st, [
      '--max-rows',
      '4',
      '--no-prepend-bos',
      '--txt-split',
      'paragraph',
      '--weights',
      'f16',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ prepend_bos: false, weights: 'f16', rows: 4 });
    // The third document has two paragraphs; without BOS no row holds one.
    const { ids, metrics: want } = reference(st, [DOCS[0], DOCS[1], 'Hello there', 'the end'], 4, false);
    expect(ids.includes(st.tok.bosId!)).toBe(false);
    // f16 projection weights move the logits by ~1e-3 of their size: the means agree to 2 %.
    for (const k of ['ce_loss_without_sae', 'ce_loss_with_sae', 'ce_loss_with_ablation'] as const)
      expect(Math.abs((r.json[k] as number) - want[k]), k).toBeLessThan(0.02 * want[k]);
    expect(r.json.ce_tokens).toBe(4 * (T - 1));
  });

  it('says what is missing: --text, a hook name, a text format it reads, a full row', async () => {
    const { modelDir, saeDir, txt } = await setup();
    const run = (extra: string[]) => cli(['eval', '--sae', saeDir, '--model', modelDir, ...extra]);
    const noText = await run([]);
    expect(noText.code).not.toBe(0);
    expect(noText.err).toMatch(/needs --text FILE/);
    const csv = path.join(path.dirname(txt), 'c.csv');
    writeFileSync(csv, 'text\nhello');
    expect((await run(['--text', csv])).err).toMatch(/c\.csv: not a text file this app reads/);
    expect((await run(['--text', txt, '--context-size', '4096'])).err).toMatch(/no full row of 4096 tokens/);
    expect(
      (await run(['--text', txt, '--context-size', '8', '--hook-name', 'blocks.9.hook_resid_post'])).err,
    ).toMatch(/blocks 0–1/);
  });
});
