// Token text in the feature inspector, end to end (issue 10), once per source kind: the built-in data,
// an .npz with token_ids dropped with a vocabulary list, an .npz with a GPT-2 style {"Ġtok": id}
// vocabulary dropped after the data, an .npz with a tokenizer.json (decoded in the page by
// @huggingface/transformers), and a SAELens cache folder (Arrow, token_ids) with a tokenizer.json,
// picked as a folder. Each time only what a user does: drop or pick files, press Start, open Features,
// click a feature in the clustering view, read the inspector. The words of that vocabulary must show
// and no [id] placeholder where the text is known. The vocabulary case also downloads the chosen
// features' dashboard JSON (parsed back strictly) and the HTML report (opened in an offline context:
// no request leaves, the token text shows). A reload then brings the vocabulary back when the same
// activations are dropped again.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/npyWrite';
import { buildArrowCache, cacheJson } from '../fixtures/data/build';
import { parseDashboardFile } from '../../src/io/dashboardJson';
import { download, openApp, readInspector, readShown, trainAndEvaluate, type InspectorView } from './flows';
import { SCREENSHOT_DIR, type AppHarness, type WatchedPage } from './harness';

// 40 sequences × 16 tokens × d 16 (4 held out), d_sae 32, 24 steps of 4 × 16 tokens, evaluated at the end.
const S = 40,
  T = 16,
  D = 16,
  STEPS = 24;
const URL_CONFIG = `?data=builtin:tiny&d_sae=32&seqs_per_batch=4&context_size=${T}&training_tokens=${4 * T * STEPS}&metrics_every=4&eval_every=0&lr=0.01&seed=3`;

const WORDS = [
  '<bos>',
  'apple',
  'river',
  'stone',
  'cloud',
  'tiger',
  'lemon',
  'piano',
  'maple',
  'ocean',
  'ember',
  'quartz',
];
// GPT-2 spelling: a leading space is Ġ. The inspector must show them decoded (" cat" as ␣cat).
const BYTE_LEVEL = [
  '<|endoftext|>',
  'Ġcat',
  'Ġdog',
  'Ġbird',
  'Ġfish',
  'Ġfrog',
  'Ġmoth',
  'Ġwolf',
  'Ġbear',
  'Ġdeer',
  'Ġlynx',
  'Ġnewt',
];

/** Deterministic pseudo-random numbers (tests only). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Token ids in [0, V) and activations that follow them (a direction per token plus noise). */
function tokenData(V: number, seed = 5) {
  const r = lcg(seed);
  const E = Array.from({ length: V }, () => Array.from({ length: D }, () => r() * 2));
  const ids = new Int32Array(S * T);
  const x = new Float32Array(S * T * D);
  for (let n = 0; n < S * T; n++) {
    ids[n] = n % T === 0 ? 0 : 1 + Math.floor(((r() + 1) / 2) * (V - 1));
    for (let j = 0; j < D; j++) x[n * D + j] = E[ids[n]][j] + 0.1 * r();
  }
  return { ids, x };
}

function npz(V: number): Buffer {
  const { ids, x } = tokenData(V);
  return Buffer.from(
    zipSync({
      'activations.npy': encodeNpy(x, [S, T, D], '<f4'),
      'token_ids.npy': encodeNpy(ids, [S, T], '<i4'),
    }),
  );
}

const tinyTokenizer = readFileSync('test/fixtures/data/tiny-tokenizer.json');
const TOKENIZER_TEXT = ['h', 'i', '␣', 'hi', '␣hi', '␣there', '<|endoftext|>'];

type Upload = { name: string; buffer: Buffer };

/** Drop files on the page's file input (or pick a folder), wait until the data panel names `shows`. */
async function drop(page: Page, files: Upload[] | string, shows: string) {
  await page.getByTestId('tab-train').click();
  const input = typeof files === 'string' ? 'folder-input' : 'file-input';
  await page.getByTestId(input).setInputFiles(
    typeof files === 'string'
      ? files
      : files.map((f) => ({
          ...f,
          mimeType: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        })),
  );
  await page.waitForFunction(
    (text) => document.querySelector('[data-testid=data-summary]')?.textContent?.includes(text),
    shows,
  );
}

function expectText(r: InspectorView, words: string[]) {
  const shown = r.shown;
  expect(shown.length).toBeGreaterThan(T - 1);
  // Words of the vocabulary, as text.
  expect(shown.filter((t) => words.includes(t)).length, shown.join(' ')).toBeGreaterThan(T / 2);
  // No [id] placeholder anywhere: every id of this data has text.
  expect(
    shown.filter((t) => /^\[\d+\]$/.test(t)),
    shown.join(' '),
  ).toEqual([]);
  expect(r.text).not.toMatch(/\[\d+\]\[\d+\]/);
  // The tooltip names the id, position and activation.
  expect(r.strip[1].title).toMatch(/ · id \d+( \(special\))? · t 1 · activation /);
}

describe('token text in the inspector, every source', () => {
  let h: AppHarness;
  let w: WatchedPage;
  const dirs: string[] = [];
  beforeAll(async () => {
    ({ h, w } = await openApp(URL_CONFIG));
  });
  afterAll(async () => {
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
    await h?.close();
  });

  it('built-in data: its vocabulary (<bos>, f12 …)', async () => {
    await trainAndEvaluate(w.page, STEPS, 'tokentext');
    const r = await readInspector(w.page, 'tokentext-builtin');
    expect(r.source).toContain('synthetic vocabulary');
    const shown = r.strip.map((c) => c.text);
    expect(
      shown.every((t) => t === '<bos>' || t === '·' || /^f\d+$/.test(t)),
      shown.join(' '),
    ).toBe(true);
    expect(shown.filter((t) => /^f\d+$/.test(t)).length).toBeGreaterThan(0);
    // Temporal behaviour and quantile groups sit beside the text.
    expect(await w.page.getByTestId('inspector-stay-on').textContent()).toMatch(/%|–/);
    expect(await w.page.getByTestId('inspector-quantiles').locator('li').count()).toBeGreaterThan(0);
    // More contexts, less text before each: the inspector redraws from the same forward pass.
    const contexts = w.page.getByTestId('inspector-contexts').locator(':scope > li');
    expect(await contexts.count()).toBe(20);
    await w.page.getByTestId('inspector-top').selectOption('50');
    await w.page.getByTestId('inspector-before').selectOption('4');
    await w.page.waitForFunction(
      () => document.querySelectorAll('[data-testid="inspector-contexts"] > li').length > 20,
    );
    const widths = await contexts.evaluateAll((els) => els.map((e) => e.querySelectorAll('.an-tok').length));
    expect(Math.max(...widths)).toBeLessThanOrEqual(4 + 1 + 4);
    await w.page.getByTestId('inspector-top').selectOption('20');
    await w.page.getByTestId('inspector-before').selectOption('12');
  });

  it('an .npz dropped together with a vocabulary list; its dashboards and report travel', async () => {
    const { page } = w;
    await drop(
      page,
      [
        { name: 'acts.npz', buffer: npz(WORDS.length) },
        { name: 'vocab.json', buffer: Buffer.from(JSON.stringify(WORDS)) },
      ],
      'vocab.json',
    );
    await trainAndEvaluate(page, STEPS, 'tokentext');
    const r = await readInspector(page, 'tokentext-vocab-list');
    expect(r.source).toContain('vocab.json');
    expectText(r, WORDS);
    // The chosen features' dashboards as JSON, parsed back with the app's own strict reader.
    await page.getByTestId('dashboard-features').fill('0, 1, 2');
    const json = await download(page, 'dashboard-json');
    const file = parseDashboardFile(json.toString('utf8'), 'dashboards.json');
    expect(file.features.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(file.token_text.name).toBe('vocab.json');
    const tokens = file.features.flatMap((f) => f.top_contexts.flatMap((c) => c.tokens));
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((t) => WORDS.includes(t))).toBe(true);
    // The one-file HTML report opens with no network at all and shows the token text.
    const html = await download(page, 'report-html');
    const reportPath = path.join(mkdtempSync(path.join(tmpdir(), 'temposae-report-')), 'report.html');
    dirs.push(path.dirname(reportPath));
    writeFileSync(reportPath, html);
    const offline = await h.browser.newContext();
    await offline.setOffline(true);
    const requests: string[] = [];
    offline.on('request', (q) => {
      if (!q.url().startsWith('file:')) requests.push(q.url());
    });
    const rp = await offline.newPage();
    await rp.goto(`file://${reportPath}`);
    const reportText = (await rp.locator('body').textContent())!;
    expect(reportText).toContain('Feature 0');
    expect(await rp.locator('svg path').count()).toBeGreaterThan(2);
    const shownInReport = await rp.locator('.tok').allTextContents();
    expect(shownInReport.filter((t) => WORDS.includes(t)).length).toBeGreaterThan(10);
    expect(shownInReport.filter((t) => /^\[\d+\]$/.test(t))).toEqual([]);
    await rp.screenshot({ path: path.join(SCREENSHOT_DIR, 'tokentext-report.png'), fullPage: false });
    expect(requests).toEqual([]);
    await offline.close();
  });

  it('a GPT-2 style {"Ġtok": id} vocabulary dropped after the data: byte-level pieces decoded', async () => {
    const { page } = w;
    await drop(page, [{ name: 'animals.npz', buffer: npz(BYTE_LEVEL.length) }], 'animals.npz');
    await trainAndEvaluate(page, STEPS, 'tokentext');
    // No text yet: the ids show as ids, and the inspector says how to get text.
    const before = await readInspector(page, 'tokentext-ids-only');
    expect(before.source).toMatch(/token ids — drop a vocabulary or tokenizer\.json/);
    expect(before.strip.every((c) => /^\[\d+\]$/.test(c.text))).toBe(true);
    // The vocabulary dropped now: the open inspector reads the feature again with its text.
    const vocab = Object.fromEntries(BYTE_LEVEL.map((t, i) => [t, i]));
    await drop(page, [{ name: 'vocab.json', buffer: Buffer.from(JSON.stringify(vocab)) }], 'vocab.json');
    await page.getByTestId('tab-features').click();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="inspector-token-source"]')?.textContent?.includes('vocab.json'),
    );
    const r = await readShown(page, 'tokentext-vocab-object');
    expectText(
      r,
      BYTE_LEVEL.map((t) => t.replace('Ġ', '␣')),
    );
    expect(r.text).not.toContain('Ġ');
    expect(r.strip[0].text).toBe('<|endoftext|>');
  });

  it('an .npz with a tokenizer.json, decoded in the page', async () => {
    const { page } = w;
    await drop(
      page,
      [
        { name: 'hi.npz', buffer: npz(7) },
        { name: 'tokenizer.json', buffer: tinyTokenizer },
      ],
      'tokenizer.json',
    );
    await trainAndEvaluate(page, STEPS, 'tokentext');
    const r = await readInspector(page, 'tokentext-tokenizer');
    expect(r.source).toContain('tokenizer.json');
    expectText(r, TOKENIZER_TEXT);
  });

  it('a SAELens cache folder with token_ids and a tokenizer.json, picked as a folder', async () => {
    const { page } = w;
    const root = mkdtempSync(path.join(tmpdir(), 'temposae-tokentext-'));
    dirs.push(root);
    const dir = path.join(root, 'cache');
    mkdirSync(dir);
    const { ids, x } = tokenData(7, 9);
    const arrow = buildArrowCache({
      S,
      T,
      d: D,
      rowsPerBatch: 16,
      value: (s, t, j) => x[(s * T + t) * D + j],
      tokenId: (s, t) => ids[s * T + t],
    });
    const file = 'data-00000-of-00001.arrow';
    writeFileSync(path.join(dir, file), arrow);
    for (const src of cacheJson({ T, d: D, files: [file] }))
      writeFileSync(path.join(dir, src.name), await src.read(0, src.size));
    writeFileSync(path.join(dir, 'tokenizer.json'), tinyTokenizer);
    await drop(page, dir, 'tokenizer.json');
    expect(await page.getByTestId('data-summary').textContent()).toContain(`${S} seq × ${T} × ${D}`);
    await trainAndEvaluate(page, STEPS, 'tokentext');
    const r = await readInspector(page, 'tokentext-saelens-cache');
    expectText(r, TOKENIZER_TEXT);
  });

  it('after a reload, dropping the same activations again brings their vocabulary back', async () => {
    const { page } = w;
    await page.reload();
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await drop(page, [{ name: 'acts.npz', buffer: npz(WORDS.length) }], 'vocab.json (remembered)');
    await trainAndEvaluate(page, STEPS, 'tokentext');
    const r = await readInspector(page, 'tokentext-remembered');
    expectText(r, WORDS);
    w.assertNoErrors();
  });
});
