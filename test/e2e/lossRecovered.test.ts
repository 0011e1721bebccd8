// The SAE spliced back into the model (issue 12), end to end through the UI only: pick a seeded random
// tiny GPT-2 HF folder and a .jsonl on the model panel, capture, train a few steps, then on Features
// "Evaluate with the model": the SAEBench core numbers appear there, in Compare's table and as the
// frontier's ce_loss_score axis; the Stop button stops a second evaluation; type a sentence in the live
// probe, see a row per token with its features and CE change, click a feature and land in the inspector.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  download,
  LM_STEPS,
  LM_T as T,
  LM_URL_CONFIG,
  lmDocsJsonl,
  openApp,
  runs,
  tinyGpt2,
  trainAndEvaluate,
} from './flows';
import { screenshot, type AppHarness, type WatchedPage } from './harness';

/** Pick an SAE .zip in the storage panel's import; resolves with the new run's id. */
async function importSae(page: Page, zip: Buffer): Promise<string> {
  const before = (await runs(page)).length;
  await page
    .getByTestId('import-sae-input')
    .setInputFiles({ name: 'sae.zip', mimeType: 'application/zip', buffer: zip });
  await page.waitForFunction((n) => (window.__temposae!.runs as () => unknown[])().length > n, before, {
    timeout: 60_000,
  });
  return (await runs(page))[before].id;
}

describe('loss recovered and the live probe', () => {
  let h: AppHarness;
  let w: WatchedPage;
  const { folder } = tinyGpt2();

  beforeAll(async () => {
    ({ h, w } = await openApp(LM_URL_CONFIG));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('evaluate with the model, see it in Features, Compare and the frontier; probe a sentence; inspect a feature', async () => {
    const { page } = w;
    const files = [
      ...Object.entries(folder).map(([name, b]) => ({ name, buffer: Buffer.from(b) })),
      { name: 'docs.jsonl', buffer: lmDocsJsonl() },
    ];
    await page
      .getByTestId('model-file-input')
      .setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
    await page.getByTestId('model-summary').waitFor();
    await page.getByTestId('model-context').fill(String(T));
    await page.getByTestId('model-capture').click();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('hook_resid_pre'),
    );
    const id = await trainAndEvaluate(page, LM_STEPS, 'lossrecovered-train');

    // Features: evaluate with the model; the SAEBench numbers appear.
    await page.getByTestId('tab-features').click();
    await page.getByTestId('evaluate-with-model').click();
    const strip = page.getByTestId('loss-recovered-strip');
    await strip.waitFor({ timeout: 60_000 });
    const num = async (k: string) => Number(await strip.locator(`[data-lr="${k}"]`).textContent());
    const lr = {
      score: await num('ce_loss_score'),
      sae: await num('ce_loss_with_sae'),
      clean: await num('ce_loss_without_sae'),
      abl: await num('ce_loss_with_ablation'),
      kl: await num('kl_div_with_sae'),
      klScore: await num('kl_div_score'),
    };
    for (const v of Object.values(lr)) expect(Number.isFinite(v), JSON.stringify(lr)).toBe(true);
    // The displayed score is the ratio of the displayed CEs (4 decimals each).
    expect(lr.score).toBeCloseTo((lr.abl - lr.sae) / (lr.abl - lr.clean), 1);
    expect(lr.clean).toBeGreaterThan(0);
    expect(lr.kl).toBeGreaterThanOrEqual(0);
    const status = (await page.getByTestId('loss-recovered-status').textContent())!;
    expect(status).toMatch(/gpt2 · blocks\.1\.hook_resid_pre · \d+ held-out rows/);
    // Stored with the run's evaluation record (what persistence saves and exports write).
    const stored = await page.evaluate(
      (rid) =>
        (
          window.__temposae!.analysis as () => {
            byRun: Record<string, { evals: { lossRecovered?: { ce_loss_score: number } }[] }>;
          }
        )().byRun[rid].evals.at(-1)?.lossRecovered?.ce_loss_score,
      id,
    );
    expect(stored).toBeCloseTo(lr.score, 3);
    await screenshot(page, 'lossrecovered-features');

    // Stop: a second evaluation stopped at once leaves the stored numbers and says so.
    await page.getByTestId('evaluate-with-model').click();
    await page.getByTestId('stop-loss-recovered').click();
    await page.getByTestId('loss-recovered-error').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('loss-recovered-error').textContent()).toContain('Stopped');
    expect(await num('ce_loss_score')).toBe(lr.score);

    // The same SAE exported as a SAELens folder and imported as a run: its loss recovered on the same
    // held-out rows matches (the export folds the input scaling into the weights).
    await page.getByTestId('tab-train').click();
    // The history export carries them in the evaluation rows, under the SAEBench names.
    const hist = JSON.parse((await download(page, 'btn-export-history-json')).toString('utf8')) as {
      eval: Record<string, number>[];
    };
    expect(hist.eval.at(-1)?.ce_loss_score).toBeCloseTo(lr.score, 3);
    expect(hist.eval.at(-1)?.loss_recovered_rows).toBeGreaterThan(0);
    const saeZip = await download(page, 'btn-export-sae');
    const imported = await importSae(page, saeZip);
    await page.waitForFunction(
      (rid) =>
        ((window.__temposae!.analysis as () => { byRun: Record<string, { evals: unknown[] }> })().byRun[rid]
          ?.evals.length ?? 0) > 0,
      imported,
      { timeout: 60_000 },
    );
    await page.getByTestId('tab-features').click();
    await page.getByTestId('analysis-run').selectOption(imported);
    await page.getByTestId('evaluate-with-model').click();
    await page.waitForFunction(
      (rid) =>
        (
          window.__temposae!.analysis as () => {
            byRun: Record<string, { evals: { lossRecovered?: unknown }[] }>;
          }
        )().byRun[rid]?.evals.some((e) => e.lossRecovered),
      imported,
      { timeout: 60_000 },
    );
    const importedCe = await num('ce_loss_with_sae');
    expect(Math.abs(importedCe - lr.sae), `${importedCe} vs ${lr.sae}`).toBeLessThan(2e-3);
    expect(await num('ce_loss_without_sae')).toBe(lr.clean);

    // The same folder imported onto a capture at another hook (same width): refused, naming both hooks.
    await page.getByTestId('tab-train').click();
    await page.getByTestId('model-hook').selectOption('blocks.0.hook_resid_pre');
    await page.getByTestId('model-capture').click();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('blocks.0.hook_resid_pre'),
    );
    const elsewhere = await importSae(page, saeZip);
    await page.getByTestId('tab-features').click();
    await page.getByTestId('analysis-run').selectOption(elsewhere);
    await page.getByTestId('evaluate-with-model').click();
    const refused = page.getByTestId('loss-recovered-error');
    await refused.waitFor({ timeout: 60_000 });
    expect(await refused.textContent()).toMatch(
      /trained at blocks\.1\.hook_resid_pre.*captured at blocks\.0\.hook_resid_pre/,
    );

    // Compare: the columns and the frontier's ce_loss_score axis.
    await page.getByTestId('tab-compare').click();
    const cell = page.getByTestId(`cmp-${id}-ce_loss_score`);
    await cell.waitFor();
    expect(Number(await cell.getAttribute('data-value'))).toBeCloseTo(lr.score, 3);
    await page.getByTestId('frontier-metric').selectOption('ce_loss_score');
    const point = page.getByTestId('frontier-svg').locator('.an-point');
    await point.first().waitFor();
    expect(await point.count()).toBe(2);
    expect(await point.first().locator('title').textContent()).toContain('ce_loss_score');
    expect(
      Number(await page.getByTestId(`cmp-${imported}-ce_loss_score`).getAttribute('data-value')),
    ).toBeCloseTo(lr.score, 1);
    await screenshot(page, 'lossrecovered-compare');

    // The live probe: a row per token, with features and the CE change.
    await page.getByTestId('tab-features').click();
    await page.getByTestId('analysis-run').selectOption(id);
    await page.getByTestId('probe-text').fill('She said hello to the world.');
    await page.getByTestId('probe-run').click();
    await page.getByTestId('probe-table').waitFor({ timeout: 60_000 });
    const rows = page.getByTestId('probe-row');
    const n = await rows.count();
    expect(n).toBeGreaterThan(3);
    const dce = await rows.locator('[data-col="dce"]').allTextContents();
    // Every position but the last has a next token, so a CE change; the last has none.
    expect(
      dce.slice(0, -1).every((t) => /^[+-]\d/.test(t)),
      dce.join(' '),
    ).toBe(true);
    expect(dce.at(-1)).toBe('—');
    const chips = page.getByTestId('probe-feature');
    expect(await chips.count()).toBeGreaterThan(0);
    await screenshot(page, 'lossrecovered-probe');
    const f = (await chips.first().getAttribute('data-feature'))!;
    await chips.first().click();
    await page.waitForFunction(
      (ft) => document.querySelector('[data-testid="inspector-body"]')?.getAttribute('data-feature') === ft,
      f,
      { timeout: 60_000 },
    );

    // Steering: a greedy continuation comes back as text.
    await page.getByTestId('steer-run').click();
    await page.getByTestId('steer-output').waitFor({ timeout: 60_000 });
    await screenshot(page, 'lossrecovered-inspector');

    // A reload brings the numbers back with the run's evaluation history (no model needed to show them).
    await page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
    await page.waitForTimeout(1500); // the evaluation history is written just after it changes
    await page.reload();
    await page.getByTestId('data-summary').waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      (rid) => (window.__temposae!.runs as () => { id: string }[])().some((r) => r.id === rid),
      id,
      { timeout: 60_000 },
    );
    await page.getByTestId('tab-features').click();
    await page.getByTestId('analysis-run').selectOption(id);
    await page.getByTestId('loss-recovered-strip').waitFor({ timeout: 30_000 });
    expect(await num('ce_loss_score')).toBe(lr.score);
    await screenshot(page, 'lossrecovered-reloaded');
    w.assertNoErrors();
  });
});
