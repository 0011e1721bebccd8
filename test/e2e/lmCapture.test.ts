// A language model in the tab (issue 11), end to end through the UI only: pick a seeded random tiny
// GPT-2 HF folder (config.json, model.safetensors, tokenizer.json in the real formats) and a .jsonl of
// documents on the model panel, check what the panel says (architecture, default hook, centring), see a
// broken safetensors refused with the loader's message while the model stays, capture, Start, train a few
// steps, open Features, click a feature and read words of the tokenizer's own vocabulary in the
// inspector; export the SAE (cfg.json metadata names the hook, model and centring) and the captured set
// as a SAELens activation cache (.zip), unzip it as a user would, pick the folder in the data panel, and
// train again on it with the same token text.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
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
import { randomModel } from '../fixtures/lm/randomModel';
import { byteLevelBpe } from '../fixtures/lm/tokenizerJson';
import { hfFolderFiles, llama2cFixture, writeLlama2c, writeLlama2cTokenizer } from '../fixtures/lm/writers';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

const T = 16;
const STEPS = 12;
const HOOK = 'blocks.1.hook_resid_pre';
const URL_CONFIG = `?d_sae=32&seqs_per_batch=4&training_tokens=${4 * T * STEPS}&metrics_every=4&eval_every=0&lr=0.01&seed=3`;

const SENTENCES = [
  'The world said hello to the cafe.',
  'She had an end, and then she said hello again to the world.',
  'Hello there, the end and the world and the hello.',
  'The cafe and the world said hello; she and the end.',
];
// 48 short documents: a few hundred tokens of this tokenizer, about 40 rows of 16.
const DOCS = Array.from({ length: 48 }, (_, i) => `${SENTENCES[i % 4]} ${SENTENCES[(i * 3 + 1) % 4]}`);

type Upload = { name: string; buffer: Buffer };

async function runs(page: Page): Promise<{ id: string; status: string }[]> {
  return page.evaluate(() => (window.__temposae!.runs as () => { id: string; status: string }[])());
}

/** Start a new run on the loaded data and wait until it is done and evaluated (read-only hooks). */
async function trainAndEvaluate(page: Page, shot: string) {
  const before = (await runs(page)).length;
  await page.getByTestId('tab-train').click();
  await page.getByTestId('btn-primary').click();
  await page.waitForFunction((n) => (window.__temposae!.runs as () => unknown[])().length > n, before);
  const id = (await runs(page))[before].id;
  await page
    .waitForFunction(
      ([rid, steps]) => {
        const r = (window.__temposae!.runs as () => { id: string; status: string }[])().find(
          (x) => x.id === rid,
        );
        const a = (
          window.__temposae!.analysis as () => {
            byRun: Record<string, { evals: { step: number }[]; evaluating: boolean }>;
          }
        )().byRun[rid as string];
        return r?.status === 'done' && !!a && !a.evaluating && a.evals.some((e) => e.step === steps);
      },
      [id, STEPS] as const,
      { timeout: 60_000, polling: 250 },
    )
    .catch(async (e) => {
      await screenshot(page, `${shot}-timeout`);
      throw e;
    });
}

/** Open Features, click the first leaf of the clustering view, return the token cells shown. */
async function readInspector(page: Page, shot: string) {
  await page.getByTestId('tab-features').click();
  await page.getByTestId('cluster-view').waitFor();
  const leaf = page.locator('[data-testid^="leaf-"]').first();
  const feature = (await leaf.getAttribute('data-testid'))!.slice('leaf-'.length);
  await leaf.click();
  await page.waitForFunction(
    (f) => document.querySelector('[data-testid="inspector-body"]')?.getAttribute('data-feature') === f,
    feature,
    { timeout: 60_000 },
  );
  const inspector = page.getByTestId('inspector');
  await inspector.scrollIntoViewIfNeeded();
  await screenshot(page, shot);
  const cells = (testId: string) =>
    page
      .getByTestId(testId)
      .locator('.an-tok')
      .evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  return {
    shown: [...(await cells('inspector-tokens')), ...(await cells('inspector-contexts'))],
    source: (await page.getByTestId('inspector-token-source').textContent())!,
  };
}

async function download(page: Page, testId: string): Promise<Buffer> {
  const [d] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByTestId(testId).click(),
  ]);
  return readFileSync((await d.path())!);
}

describe('a language model in the tab', () => {
  let h: AppHarness;
  let w: WatchedPage;
  let root: string;
  const tokJson = byteLevelBpe();
  const vocabSize = Object.keys((tokJson.model as { vocab: object }).vocab).length;
  const model = randomModel({ family: 'gpt2', seed: 51, vocab_size: vocabSize });
  const tokCfg = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' };
  const folder = hfFolderFiles(model, tokJson, tokCfg);
  const uploads: Upload[] = Object.entries(folder).map(([name, b]) => ({ name, buffer: Buffer.from(b) }));
  const jsonl = Buffer.from(DOCS.map((text) => JSON.stringify({ text })).join('\n'));

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'temposae-lm-'));
    h = await startApp();
    w = await openPage(h, URL_CONFIG);
    await w.page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await w.page.getByTestId('data-summary').waitFor();
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

    await trainAndEvaluate(page, 'lmcapture-train');
    const r = await readInspector(page, 'lmcapture-inspector');
    expect(r.source).toContain('tokenizer.json');
    expect(r.shown.length).toBeGreaterThan(T - 1);
    expect(r.shown.filter((t) => /^\[\d+\]$/.test(t))).toEqual([]);
    expect(
      r.shown.every((t) => vocabText.has(t)),
      r.shown.join(' '),
    ).toBe(true);
    // Whole words of the merges (␣the, hello, ␣world …), not only bytes.
    expect(r.shown.filter((t) => t.replace('␣', '').length >= 3).length, r.shown.join(' ')).toBeGreaterThan(
      3,
    );

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
    await trainAndEvaluate(page, 'lmcapture-cache-train');
    const r2 = await readInspector(page, 'lmcapture-cache-inspector');
    expect(r2.shown.filter((t) => /^\[\d+\]$/.test(t))).toEqual([]);
    expect(
      r2.shown.every((t) => vocabText.has(t)),
      r2.shown.join(' '),
    ).toBe(true);
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
      .fill(Array.from({ length: 24 }, (_, i) => SENTENCES[i % 4]).join(' '));
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
    await trainAndEvaluate(page, 'lmcapture-llama2c-train');
    const r = await readInspector(page, 'lmcapture-llama2c-inspector');
    expect(r.source).toContain('tokenizer.bin');
    expect(r.shown.filter((t) => /^\[\d+\]$/.test(t))).toEqual([]);
    expect(
      r.shown.every((t) => vocabText.has(t)),
      r.shown.join(' '),
    ).toBe(true);
    expect(r.shown.filter((t) => t.replace('␣', '').length >= 3).length, r.shown.join(' ')).toBeGreaterThan(
      3,
    );
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
