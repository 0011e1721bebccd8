// Runs that last, end to end in headless Chromium (WebGPU on SwiftShader, OPFS storage):
//  - a reload in the middle of a run finds the run, its charts and checkpoints intact; resuming it
//    re-trains the steps after the checkpoint with exactly the losses logged before the reload
//    (same batches, same numbers);
//  - destroying the GPU device mid-run (the test hook window.__temposae.destroyDevice) gets a new
//    device and training goes on from the last checkpoint;
//  - the storage panel shows the use and the checkpoints, and the SAE export downloads a zip that
//    imports back as a run with identical weights.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSaeFolder } from '../../src/io/importSae';
import { unzipFolder } from '../../src/io/zip';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

interface RunView {
  id: string;
  name: string;
  status: string;
  error: string | null;
  progress: { step: number };
  history: { step: number[]; l_recon: number[]; loss: number[] };
}

// Tiny preset and a small SAE (a few steps a second on SwiftShader); checkpoints every 50 steps and a
// readback every 5, so the reload lands between checkpoints with logged steps after the last one.
const TINY =
  '?data=builtin:tiny&d_sae=64&seqs_per_batch=4&context_size=32&training_tokens=6400000&metrics_every=5&lr=0.01&seed=11&checkpoint_every=50&eval_every=25';

const runs = (page: Page) => page.evaluate(() => (window.__temposae!.runs as () => RunView[])());

async function waitRun(page: Page, pred: string, arg: unknown, timeout = 180_000) {
  await page.waitForFunction(
    ([src, a]) => {
      const all = (window.__temposae!.runs as () => RunView[])();
      return new Function('runs', 'arg', `return (${src})(runs, arg)`)(all, a);
    },
    [pred, arg] as const,
    { timeout, polling: 200 },
  );
}

async function ready(h: AppHarness, path = ''): Promise<WatchedPage> {
  const w = await openPage(h, path);
  await w.page.getByTestId('selftest').waitFor({ timeout: 180_000 });
  await w.page.getByTestId('data-summary').waitFor();
  await w.page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
  return w;
}

const checkpointSteps = (page: Page, runId: string) =>
  page.evaluate(
    (id) =>
      (
        (window.__temposae!.persistence as () => { checkpoints: Record<string, { step: number }[]> })()
          .checkpoints[id] ?? []
      ).map((c) => c.step),
    runId,
  );

/** Who wrote the last checkpoint (the Storage panel's state): the engine's worker or the page. */
const checkpointsBy = (page: Page) =>
  page.evaluate(
    () => (window.__temposae!.persistence as () => { checkpointsBy: string | null })().checkpointsBy,
  );

// Messages that a deliberate device loss is allowed to print.
const DEVICE_LOSS_NOISE = [/device.*(lost|destroyed)/i, /Instance dropped/i, /GPUDevice/i];

describe('persistence in the browser', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a reload mid-run keeps the run, its charts and checkpoints; resuming repeats the same numbers', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    await page.getByTestId('btn-primary').click();
    // Past the first checkpoint (step 50) with readbacks after it.
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].history.step.at(-1) >= 65', null);
    const runId = (await runs(page))[0].id;
    const evalsOf = (id: string) =>
      page.evaluate(
        (runId) =>
          (
            (
              window.__temposae!.analysis as () => {
                byRun: Record<string, { evals: { step: number; metrics: { explained_variance: number } }[] }>;
              }
            )().byRun[runId]?.evals ?? []
          ).map((e) => [e.step, e.metrics.explained_variance]),
        id,
      );
    await page.waitForFunction(
      (runId) =>
        ((window.__temposae!.analysis as () => { byRun: Record<string, { evals: unknown[] }> })().byRun[runId]
          ?.evals.length ?? 0) >= 2,
      runId,
      { timeout: 120_000 },
    );
    // Reload between two checkpoints (every 50 steps) with readbacks logged after the newer one, so
    // that the resume has logged steps to repeat (training went on while the evaluations came in).
    await waitRun(
      page,
      '(rs) => { const m = rs[0].history.step.at(-1) % 50; return m >= 10 && m <= 35; }',
      null,
    );
    const before = (await runs(page))[0];
    const evalsBefore = await evalsOf(before.id);
    const cks = await checkpointSteps(page, before.id);
    expect(cks.length).toBeGreaterThan(0);
    // The engine's worker wrote them itself through OPFS sync access handles (no byte via the page).
    expect(await checkpointsBy(page)).toMatch(/worker.*sync access/);
    await page.reload();
    await page.getByTestId('data-summary').waitFor();
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].status === "paused"', null, 60_000);
    const after = (await runs(page))[0];
    expect(after.id).toBe(before.id);
    expect(after.name).toBe(before.name);
    const C = after.progress.step;
    // The storage listing is refreshed just after the runs come back.
    await page.waitForFunction(
      (id) =>
        ((window.__temposae!.persistence as () => { checkpoints: Record<string, unknown[]> })().checkpoints[
          id
        ]?.length ?? 0) > 0,
      after.id,
    );
    const cksAfter = await checkpointSteps(page, after.id);
    expect(cksAfter).toContain(C);
    expect(C).toBeGreaterThanOrEqual(50);
    // The history up to the checkpoint is intact (rows after it will be trained again).
    expect(after.history.step.length).toBeGreaterThan(0);
    expect(after.history.step.at(-1)).toBeLessThanOrEqual(C);
    after.history.step.forEach((s, i) => {
      expect(s).toBe(before.history.step[i]);
      expect(after.history.l_recon[i]).toBe(before.history.l_recon[i]);
    });
    // Held-out evaluations up to the checkpoint come back too, with the same numbers.
    // (One that was still being saved when the page reloaded may come back too: at most one more.)
    const evalsAfter = await evalsOf(after.id);
    const kept = evalsBefore.filter(([s]) => s <= C);
    expect(evalsAfter.slice(0, kept.length)).toEqual(kept);
    expect(evalsAfter.length - kept.length).toBeLessThanOrEqual(1);
    expect(evalsAfter.every(([s]) => s <= C)).toBe(true);
    expect(evalsAfter.length).toBeGreaterThanOrEqual(2);
    // The charts show it before anything is resumed.
    await page.locator(`[data-testid="run-row"][data-run-id="${after.id}"] .run-main`).click();
    const points = Number(
      await page.getByTestId('chart-loss-plot').locator('svg').getAttribute('data-points'),
    );
    expect(points).toBeGreaterThan(0);
    await expect(page.getByTestId('storage-use').textContent()).resolves.toMatch(
      /Stored in browser files \(OPFS\): runs [\d.]+ (KB|MB)/,
    );
    expect(await page.getByTestId('checkpoint-row').count()).toBe(cksAfter.length);
    await screenshot(page, 'persist-after-reload');

    // Resume: the steps after the checkpoint that were logged before the reload come out identical.
    const target = before.history.step.at(-1)!;
    await page.getByTestId('btn-primary').click();
    await waitRun(page, '(rs, t) => rs[0].history.step.at(-1) >= t', target);
    await page.getByTestId('btn-primary').click(); // pause
    const resumed = (await runs(page))[0];
    let compared = 0;
    before.history.step.forEach((s, i) => {
      if (s <= C) return;
      const j = resumed.history.step.indexOf(s);
      expect(j, `step ${s} logged after the resume`).toBeGreaterThanOrEqual(0);
      expect(resumed.history.l_recon[j], `l_recon at step ${s}`).toBeCloseTo(before.history.l_recon[i], 6);
      compared++;
    });
    expect(compared).toBeGreaterThan(0);
    // No step is logged twice.
    expect(new Set(resumed.history.step).size).toBe(resumed.history.step.length);
    // Pausing writes a checkpoint at the step it paused at: wait until it is stored and listed (a count
    // taken before it lands would be off by one), then the oldest one can be deleted from the panel.
    await waitRun(page, '(rs) => rs[0].status === "paused"', null, 60_000);
    const pausedAt = (await runs(page))[0].progress.step;
    await page.waitForFunction(
      ([id, s]) =>
        (
          (window.__temposae!.persistence as () => { checkpoints: Record<string, { step: number }[]> })()
            .checkpoints[id] ?? []
        ).some((c) => c.step === s),
      [resumed.id, pausedAt] as const,
    );
    await page.waitForFunction(
      (s) => document.querySelector(`[data-testid="checkpoint-row"][data-step="${s}"]`) !== null,
      pausedAt,
    );
    const rowsBefore = await page.getByTestId('checkpoint-row').count();
    expect(rowsBefore).toBeGreaterThanOrEqual(2);
    const oldest = await page.getByTestId('checkpoint-row').first().getAttribute('data-step');
    await page.getByTestId('checkpoint-row').first().getByRole('button').click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="checkpoint-row"]').length === n - 1,
      rowsBefore,
    );
    expect(await checkpointSteps(page, resumed.id)).not.toContain(Number(oldest));
    w.assertNoErrors();
    await page.close();
  });

  it('destroying the GPU device mid-run: a new device, training goes on from the last checkpoint', async () => {
    const ctx = await h.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(h.baseUrl + TINY);
    await page.getByTestId('selftest').waitFor({ timeout: 180_000 });
    await page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
    await page.getByTestId('btn-primary').click();
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].history.step.at(-1) >= 55', null);
    const id = (await runs(page))[0].id;
    expect((await checkpointSteps(page, id)).length).toBeGreaterThan(0);
    await page.waitForFunction(() => typeof window.__temposae?.destroyDevice === 'function');
    const stepAtLoss = (await runs(page))[0].history.step.at(-1)!;
    await page.evaluate(() => (window.__temposae!.destroyDevice as () => void)());
    // Training continues past where it was when the device went away, on a new device.
    await waitRun(
      page,
      '(rs, s) => rs[0].status === "running" && rs[0].history.step.at(-1) >= s + 15',
      stepAtLoss,
    );
    const r = (await runs(page))[0];
    expect(r.error).toBeNull();
    expect(new Set(r.history.step).size).toBe(r.history.step.length);
    expect(r.history.loss.every((v) => Number.isFinite(v))).toBe(true);
    const phase = await page.getByTestId('gpu-phase').textContent();
    expect(phase).not.toMatch(/lost/i);
    await screenshot(page, 'persist-after-device-loss');
    expect(errors.filter((e) => !DEVICE_LOSS_NOISE.some((re) => re.test(e)))).toEqual([]);
    await ctx.close();
  });

  it('IndexedDB storage (the fallback, chosen through localStorage) restores a run after a reload', async () => {
    const ctx = await h.browser.newContext({ viewport: { width: 1440, height: 900 } });
    await ctx.addInitScript(() => localStorage.setItem('temposae.storage', 'indexeddb'));
    const page = await ctx.newPage();
    await page.goto(h.baseUrl + TINY.replace('checkpoint_every=50', 'checkpoint_every=10'));
    await page.getByTestId('selftest').waitFor({ timeout: 180_000 });
    await page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
    await page.getByTestId('btn-primary').click();
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].history.step.at(-1) >= 15', null);
    const id = (await runs(page))[0].id;
    await page.waitForFunction((rid) => {
      const p = (window.__temposae!.persistence as () => { checkpoints: Record<string, unknown[]> })();
      return (p.checkpoints[rid] ?? []).length > 0;
    }, id);
    // IndexedDB has no sync handles: the worker streams each chunk to the page, which stores it.
    expect(await checkpointsBy(page)).toMatch(/page/);
    await page.reload();
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].status === "paused"', null, 60_000);
    const r = (await runs(page))[0];
    expect(r.id).toBe(id);
    expect(r.progress.step).toBeGreaterThanOrEqual(10);
    await page.locator(`[data-testid="run-row"][data-run-id="${id}"] .run-main`).click();
    await expect(page.getByTestId('storage-use').textContent()).resolves.toMatch(
      /Stored in IndexedDB: runs [\d.]+ KB/,
    );
    // Resume works from the IndexedDB checkpoint.
    await page.getByTestId('btn-primary').click();
    await waitRun(page, '(rs, s) => rs[0].history.step.at(-1) >= s + 5', r.progress.step);
    await ctx.close();
  });

  it('exports the SAE as a zip that imports back as a run with the same weights', async () => {
    const ctx = await h.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    const page = await ctx.newPage();
    await page.goto(h.baseUrl + TINY.replace('checkpoint_every=50', 'checkpoint_every=10'));
    await page.getByTestId('selftest').waitFor({ timeout: 180_000 });
    await page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
    await page.getByTestId('btn-primary').click();
    await waitRun(page, '(rs) => rs.length === 1 && rs[0].history.step.at(-1) >= 10', null);
    await page.getByTestId('btn-primary').click(); // pause
    await waitRun(page, '(rs) => rs[0].status === "paused"', null);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('btn-export-sae').click(),
    ]);
    const file = await download.path();
    const zip = new Uint8Array(readFileSync(file!));
    const exported = importSaeFolder(unzipFolder(zip, 'export.zip'), 'export.zip');
    expect(exported.format).toBe('temposae');
    expect(exported.config).toMatchObject({ d_sae: 64, seed: 11, lr: 0.01 });
    const [jsonDl] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('btn-export-history-json').click(),
    ]);
    const hist = JSON.parse(readFileSync((await jsonDl.path())!, 'utf8'));
    expect(hist.format).toBe('temposae-history');
    expect(hist.train.length).toBeGreaterThan(0);

    // Import the zip back through the panel: a new run whose weights are those of the file.
    await page
      .getByTestId('import-sae-input')
      .setInputFiles({ name: 'export.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });
    await waitRun(page, '(rs) => rs.length === 2 && rs[1].status === "paused"', null, 120_000);
    const imported = (await runs(page))[1];
    expect(imported.name).toMatch(/imported/);
    expect(imported.history.step.length).toBe(hist.train.length);
    // It was built on the GPU from the file: exporting it again gives the same weights, bit for bit.
    await page.waitForFunction(() => (window.__temposae!.selectedRunId as () => string)() !== null);
    const [again] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('btn-export-sae').click(),
    ]);
    const reexported = importSaeFolder(
      unzipFolder(new Uint8Array(readFileSync((await again.path())!)), 'again.zip'),
      'again.zip',
    );
    for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const)
      expect(Array.from(reexported.weights[k]), k).toEqual(Array.from(exported.weights[k]));
    await screenshot(page, 'persist-imported');
    await ctx.close();
  });
});
