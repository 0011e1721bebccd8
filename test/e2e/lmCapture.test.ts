// A language model in the tab (issue 11), end to end through the UI only: pick a seeded random tiny
// GPT-2 HF folder (config.json, model.safetensors, tokenizer.json in the real formats) and a .jsonl of
// documents on the model panel, check what the panel says (architecture, default hook, centring), see a
// broken safetensors refused with the loader's message while the model stays, capture, Start, train a few
// steps, open Features, click a feature and read words of the tokenizer's own vocabulary in the
// inspector; export the SAE (cfg.json metadata names the hook, model and centring) and the captured set
// as a SAELens activation cache (.zip), unzip it as a user would, pick the folder in the data panel, and
// train again on it with the same token text.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayToken } from '../../src/analysis/tokenDisplay';
import { openArrowCache } from '../../src/data/arrowCache';
import { bytesByteSource } from '../../src/data/byteSource';
import { readSafetensors } from '../../src/io/safetensors';
import {
  hfTokenizer,
  llama2cLmTokenizer,
  Llama2cTokenizer,
  parseLlama2cTokenizer,
} from '../../src/lm/tokenizer';
import { llama2cFixture, writeLlama2c, writeLlama2cTokenizer } from '../fixtures/lm/writers';
import {
  download,
  LM_SENTENCES,
  LM_STEPS,
  LM_T as T,
  LM_URL_CONFIG,
  lmDocsJsonl,
  openApp,
  readInspector,
  tinyGpt2,
  trainAndEvaluate,
  type InspectorView,
} from './flows';
import { screenshot, type AppHarness, type WatchedPage } from './harness';

const HOOK = 'blocks.1.hook_resid_pre';

type Upload = { name: string; buffer: Buffer };

/** Every token shown is text of the vocabulary (no [id] placeholder), whole words among them. */
function expectVocabText(r: InspectorView, vocabText: Set<string>, wholeWords = true) {
  expect(r.shown.length).toBeGreaterThan(T - 1);
  expect(r.shown.filter((t) => /^\[\d+\]$/.test(t))).toEqual([]);
  expect(
    r.shown.every((t) => vocabText.has(t)),
    r.shown.join(' '),
  ).toBe(true);
  // Whole words of the merges (␣the, hello, ␣world …), not only bytes.
  if (wholeWords)
    expect(r.shown.filter((t) => t.replace('␣', '').length >= 3).length, r.shown.join(' ')).toBeGreaterThan(
      3,
    );
}

describe('a language model in the tab', () => {
  let h: AppHarness;
  let w: WatchedPage;
  let root: string;
  const { tokJson, vocabSize, tokCfg, folder } = tinyGpt2();
  const uploads: Upload[] = Object.entries(folder).map(([name, b]) => ({ name, buffer: Buffer.from(b) }));
  const jsonl = lmDocsJsonl();

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'temposae-lm-'));
    ({ h, w } = await openApp(LM_URL_CONFIG));
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await h?.close();
  });

  it('drop a GPT-2 folder and text, capture, train, read the vocabulary, export the cache, train on it again', async () => {
    const { page } = w;
    const tok = await hfTokenizer(tokJson, 'tokenizer.json', tokCfg);
    // Every token of this vocabulary as the inspector shows it (spaces as ␣).
    const vocabText = new Set(
      Array.from({ length: vocabSize }, (_, i) => displayToken(tok.tokenText.text(i))),
    );

    // The model folder and the text in one pick.
    await page.getByTestId('model-file-input').setInputFiles(
      [...uploads, { name: 'docs.jsonl', buffer: jsonl }].map((f) => ({
        ...f,
        mimeType: 'application/octet-stream',
      })),
    );
    const summary = page.getByTestId('model-summary');
    await summary.waitFor();
    const said = (await summary.textContent())!;
    expect(said).toContain('GPT-2: LayerNorm, learned positions, GELU MLP');
    expect(said).toContain('2 blocks · d 16 · 4 heads');
    expect(said).toContain(`${vocabSize}`);
    expect(await page.getByTestId('model-texts').textContent()).toContain('docs.jsonl');
    expect(await page.getByTestId('model-hook').inputValue()).toBe(HOOK);
    expect(await page.getByTestId('model-center').isChecked()).toBe(true);
    expect(await page.getByTestId('model-processing').textContent()).toContain('center_writing_weights');

    // A broken weights file is refused with the loader's message; the model loaded stays.
    const broken = Buffer.from(
      folder['model.safetensors'].subarray(0, folder['model.safetensors'].length - 40),
    );
    await page.getByTestId('model-file-input').setInputFiles(
      [
        { name: 'config.json', buffer: Buffer.from(folder['config.json']) },
        { name: 'model.safetensors', buffer: broken },
        { name: 'tokenizer.json', buffer: Buffer.from(folder['tokenizer.json']) },
      ].map((f) => ({ ...f, mimeType: 'application/octet-stream' })),
    );
    const error = page.getByTestId('model-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/model\.safetensors.*still loaded/s);
    expect(await summary.textContent()).toBe(said);

    // Capture at 16 tokens a row: the run's data is the model at the hook.
    await page.getByTestId('model-context').fill(String(T));
    await page.getByTestId('model-capture').click();
    await page.waitForFunction(
      (hook) => document.querySelector('[data-testid=data-summary]')?.textContent?.includes(hook),
      HOOK,
    );
    const capSummary = (await page.getByTestId('model-capture-summary').textContent())!;
    expect(capSummary).toMatch(/\d+ rows × 16 tokens at blocks\.1\.hook_resid_pre \(the data in use\)/);
    expect(capSummary).toContain('center_writing_weights');
    const dataSaid = (await page.getByTestId('data-summary').textContent())!;
    expect(dataSaid).toContain('× 16 × 16');
    expect(dataSaid).toContain('tokenizer.json');
    await screenshot(page, 'lmcapture-captured');

    await trainAndEvaluate(page, LM_STEPS, 'lmcapture-train');
    const r = await readInspector(page, 'lmcapture-inspector');
    expect(r.source).toContain('tokenizer.json');
    expectVocabText(r, vocabText);

    // The SAE's cfg.json carries where its activations came from.
    await page.getByTestId('tab-train').click();
    const sae = unzipSync(new Uint8Array(await download(page, 'btn-export-sae')));
    const cfgName = Object.keys(sae).find((n) => n.endsWith('/cfg.json'))!;
    const cfg = JSON.parse(new TextDecoder().decode(sae[cfgName])) as { metadata: Record<string, unknown> };
    expect(cfg.metadata).toMatchObject({
      hook_name: HOOK,
      hook_layer: 1,
      model_name: 'gpt2',
      prepend_bos: true,
      context_size: T,
      model_from_pretrained_kwargs: { center_writing_weights: true },
    });

    // The captured set as a SAELens cache, unzipped and picked as a folder in the data panel.
    const zip = unzipSync(new Uint8Array(await download(page, 'model-export-cache')));
    const names = Object.keys(zip);
    const top = names[0].split('/')[0];
    expect(names.every((n) => n.startsWith(`${top}/`))).toBe(true);
    for (const f of ['dataset_info.json', 'state.json', 'data-00000-of-00001.arrow', 'tokenizer.json'])
      expect(names, names.join(', ')).toContain(`${top}/${f}`);
    const info = JSON.parse(new TextDecoder().decode(zip[`${top}/dataset_info.json`])) as {
      description: string;
    };
    expect(info.description).toContain('center_writing_weights');
    const dir = path.join(root, top);
    mkdirSync(dir);
    for (const [n, b] of Object.entries(zip)) writeFileSync(path.join(root, n), b);
    // The same set as one .safetensors: activations [S, T, d] and token_ids [S, T], equal to the cache's
    // rows (the same forward over the same batches of 16 rows: the numbers are the same bytes).
    const st = readSafetensors(
      new Uint8Array(await download(page, 'model-export-safetensors')),
      'x.safetensors',
    );
    const cache = await openArrowCache(
      top,
      Object.entries(zip)
        .filter(([n]) => !n.endsWith('/'))
        .map(([n, b]) => bytesByteSource(b, n.slice(top.length + 1))),
    );
    const acts = st.tensors.get('activations')!;
    const ids = st.tensors.get('token_ids')!;
    expect([acts.dtype, acts.shape, ids.dtype, ids.shape]).toEqual([
      'F32',
      [cache.numSequences, T, 16],
      'I32',
      [cache.numSequences, T],
    ]);
    const rows = await cache.readSequences([...Array(cache.numSequences).keys()]);
    const x = new Float32Array(acts.bytes.slice().buffer);
    expect(x.length).toBe(rows.x.length);
    expect(x.every((v, i) => v === rows.x[i])).toBe(true);
    expect(Array.from(new Int32Array(ids.bytes.slice().buffer))).toEqual(Array.from(rows.tokenIds!));
    expect(st.metadata.hook_name).toBe(HOOK);
    expect(st.metadata.center_writing_weights).toBe('true');

    await page.getByTestId('folder-input').setInputFiles(dir);
    await page.waitForFunction(
      (name) => document.querySelector('[data-testid=data-summary]')?.textContent?.includes(name),
      top,
    );
    const again = (await page.getByTestId('data-summary').textContent())!;
    expect(again).toContain('× 16 × 16');
    expect(again).toContain('tokenizer.json');
    await trainAndEvaluate(page, LM_STEPS, 'lmcapture-cache-train');
    const r2 = await readInspector(page, 'lmcapture-cache-inspector');
    expectVocabText(r2, vocabText, false);
  });

  it('a llama2.c .bin + tokenizer.bin and typed text: RMSNorm, no centring, another hook, its own token text', async () => {
    const { page } = w;
    const { model: llama, vocab } = llama2cFixture();
    const tokBin = writeLlama2cTokenizer(vocab);
    const tok = llama2cLmTokenizer(
      new Llama2cTokenizer(parseLlama2cTokenizer(tokBin, 'tokenizer.bin', vocab.length), 'tokenizer.bin'),
    );
    const vocabText = new Set(
      Array.from({ length: vocab.length }, (_, i) => displayToken(tok.tokenText.text(i))),
    );
    await page.getByTestId('tab-train').click();
    await page.getByTestId('model-texts-clear').click();
    // Dropped on the Data panel by mistake: it is a model, so the model panel takes it.
    await page.getByTestId('file-input').setInputFiles([
      {
        name: 'stories.bin',
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(writeLlama2c(llama, 1)),
      },
      { name: 'tokenizer.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(tokBin) },
    ]);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=model-summary]')?.textContent?.includes('stories'),
    );
    const said = (await page.getByTestId('model-summary').textContent())!;
    expect(said).toContain(
      'Llama: RMSNorm, rotary positions (llama2.c pairs), SwiGLU MLP, grouped-query attention',
    );
    expect(said).toContain('4 heads (2 kv)');
    expect(await page.getByTestId('model-center').isDisabled()).toBe(true);
    expect(await page.getByTestId('model-processing').textContent()).toContain('RMSNorm model');
    // A text file dragged onto the model panel's drop zone (a real drop event with a DataTransfer).
    const dt = await page.evaluateHandle(() => {
      const d = new DataTransfer();
      d.items.add(
        new File(['the end and the world and the hello. '.repeat(8)], 'extra.txt', { type: 'text/plain' }),
      );
      return d;
    });
    await page.getByTestId('model-drop-zone').dispatchEvent('drop', { dataTransfer: dt });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=model-texts]')?.textContent?.includes('extra.txt'),
    );
    await page
      .getByTestId('model-text')
      .fill(Array.from({ length: 24 }, (_, i) => LM_SENTENCES[i % 4]).join(' '));
    await page.getByTestId('model-hook').selectOption('blocks.0.hook_mlp_out');
    await page.getByTestId('model-f16').check();
    await page.getByTestId('model-context').fill(String(T));
    await page.getByTestId('model-capture').click();
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=data-summary]')
        ?.textContent?.includes('stories · blocks.0.hook_mlp_out'),
    );
    expect(await page.getByTestId('data-summary').textContent()).toContain('× 16 × 32');
    const capSaid = (await page.getByTestId('model-capture-summary').textContent())!;
    expect(capSaid).toContain('RMSNorm model');
    expect(capSaid).toContain('float16 on the GPU');
    await trainAndEvaluate(page, LM_STEPS, 'lmcapture-llama2c-train');
    const r = await readInspector(page, 'lmcapture-llama2c-inspector');
    expect(r.source).toContain('tokenizer.bin');
    expectVocabText(r, vocabText);
    // Its cache export carries the vocabulary as vocab.json (tokenizer.bin is not token text on its own).
    await page.getByTestId('tab-train').click();
    const zip = unzipSync(new Uint8Array(await download(page, 'model-export-cache')));
    const names = Object.keys(zip);
    expect(
      names.some((n) => n.endsWith('/vocab.json')),
      names.join(', '),
    ).toBe(true);
    expect(
      names.some((n) => n.endsWith('/tokenizer.bin')),
      names.join(', '),
    ).toBe(true);
    w.assertNoErrors();
  });
});
