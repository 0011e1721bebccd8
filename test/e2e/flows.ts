// What several e2e tests do the same way, as a user does it: open the app and wait for its self-test,
// start a run and wait until it is trained and evaluated, open Features and read the inspector, download
// an export. State is only read through the read-only hooks (runs, analysis).
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { randomModel } from '../fixtures/lm/randomModel';
import { byteLevelBpe } from '../fixtures/lm/tokenizerJson';
import { hfFolderFiles } from '../fixtures/lm/writers';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

/** Start the app server, open `urlPath`, wait until the GPU self-test and the data summary show. */
export async function openApp(urlPath: string): Promise<{ h: AppHarness; w: WatchedPage }> {
  const h = await startApp();
  const w = await openPage(h, urlPath);
  await w.page.getByTestId('selftest').waitFor({ timeout: 60_000 });
  await w.page.getByTestId('data-summary').waitFor();
  return { h, w };
}

export async function runs(page: Page): Promise<{ id: string; status: string }[]> {
  return page.evaluate(() => (window.__temposae!.runs as () => { id: string; status: string }[])());
}

/**
 * Start a new run on the loaded data (Train → Start) and wait until it is done and its evaluation at
 * `steps` is there; resolves with the run's id. On a timeout: a screenshot `${shot}-timeout` and the
 * run's state in the error.
 */
export async function trainAndEvaluate(page: Page, steps: number, shot: string): Promise<string> {
  const before = (await runs(page)).length;
  await page.getByTestId('tab-train').click();
  await page.getByTestId('btn-primary').click();
  await page.waitForFunction((n) => (window.__temposae!.runs as () => unknown[])().length > n, before);
  const id = (await runs(page))[before].id;
  await page
    .waitForFunction(
      ([rid, at]) => {
        const r = (window.__temposae!.runs as () => { id: string; status: string }[])().find(
          (x) => x.id === rid,
        );
        const a = (
          window.__temposae!.analysis as () => {
            byRun: Record<string, { evals: { step: number }[]; evaluating: boolean }>;
          }
        )().byRun[rid as string];
        return r?.status === 'done' && !!a && !a.evaluating && a.evals.some((e) => e.step === at);
      },
      [id, steps] as const,
      { timeout: 120_000, polling: 250 },
    )
    .catch(async (e) => {
      await screenshot(page, `${shot}-timeout`);
      const state = await page.evaluate(
        (rid) => ({
          run: (window.__temposae!.runs as () => { id: string }[])().find((x) => x.id === rid),
          analysis: (window.__temposae!.analysis as () => { byRun: Record<string, unknown> })().byRun[rid],
        }),
        id,
      );
      throw new Error(`${(e as Error).message}: ${JSON.stringify(state).slice(0, 1500)}`);
    });
  return id;
}

export interface InspectorView {
  /** Token cells of the activation strip and of the top contexts (text and tooltip). */
  strip: { text: string; title: string }[];
  contexts: { text: string; title: string }[];
  /** Every token text shown, strip then contexts. */
  shown: string[];
  /** Where the token text comes from, as the inspector says it. */
  source: string;
  /** The inspector's whole text. */
  text: string;
}

/** Open Features, click the first leaf of the clustering view, return what the inspector shows. */
export async function readInspector(page: Page, shot: string): Promise<InspectorView> {
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
  return readShown(page, shot);
}

/** What the open inspector shows (after a screenshot `shot`). */
export async function readShown(page: Page, shot: string): Promise<InspectorView> {
  const inspector = page.getByTestId('inspector');
  await inspector.scrollIntoViewIfNeeded();
  await screenshot(page, shot);
  const cells = async (testId: string) =>
    page
      .getByTestId(testId)
      .locator('.an-tok')
      .evaluateAll((els) =>
        els.map((e) => ({ text: e.textContent ?? '', title: e.getAttribute('title') ?? '' })),
      );
  const strip = await cells('inspector-tokens');
  const contexts = await cells('inspector-contexts');
  return {
    strip,
    contexts,
    shown: [...strip, ...contexts].map((c) => c.text),
    source: (await page.getByTestId('inspector-token-source').textContent())!,
    text: (await inspector.textContent())!,
  };
}

/** Click `testId` and return the bytes of the download it starts. */
export async function download(page: Page, testId: string): Promise<Buffer> {
  const [d] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByTestId(testId).click(),
  ]);
  return readFileSync((await d.path())!);
}

/**
 * The language-model tests' setting: a seeded random 2-block GPT-2 HF folder (config.json,
 * model.safetensors, tokenizer.json, tokenizer_config.json) with a small byte-level BPE, and 48 short
 * documents (a few hundred tokens of that tokenizer, about 40 rows of 16), trained 12 steps of 4 × 16.
 */
export const LM_T = 16;
export const LM_STEPS = 12;
export const LM_URL_CONFIG = `?d_sae=32&seqs_per_batch=4&training_tokens=${4 * LM_T * LM_STEPS}&metrics_every=4&eval_every=0&lr=0.01&seed=3`;
export const LM_SENTENCES = [
  'The world said hello to the cafe.',
  'She had an end, and then she said hello again to the world.',
  'Hello there, the end and the world and the hello.',
  'The cafe and the world said hello; she and the end.',
];
export const LM_DOCS = Array.from(
  { length: 48 },
  (_, i) => `${LM_SENTENCES[i % 4]} ${LM_SENTENCES[(i * 3 + 1) % 4]}`,
);
/** The documents as a .jsonl file ({"text": …} a line). */
export const lmDocsJsonl = (): Buffer =>
  Buffer.from(LM_DOCS.map((text) => JSON.stringify({ text })).join('\n'));

export function tinyGpt2() {
  const tokJson = byteLevelBpe();
  const vocabSize = Object.keys((tokJson.model as { vocab: object }).vocab).length;
  const model = randomModel({ family: 'gpt2', seed: 51, vocab_size: vocabSize });
  const tokCfg = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' };
  const folder = hfFolderFiles(model, tokJson, tokCfg);
  return { tokJson, vocabSize, model, tokCfg, folder };
}
