// The training screen end to end in headless Chromium (WebGPU on SwiftShader): the real trainer on the
// built-in tiny dataset, driven through the page like a researcher would.
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

interface RunView {
  id: string;
  name: string;
  status: string;
  error: string | null;
  controlOf: string | null;
  config: Record<string, unknown>;
  history: { step: number[]; loss: number[]; l_recon: number[]; l_temp: number[] };
}

// Tiny preset (d = 16, 64 sequences × 32) and a small SAE, so SwiftShader runs a few steps a second.
// lr 0.01: on this data the method's 3e-4 needs thousands of steps to show a trend above the
// batch-to-batch noise of 128-token batches (checked against the CPU reference).
const TINY =
  '?data=builtin:tiny&d_sae=64&seqs_per_batch=4&context_size=32&training_tokens=6400000&metrics_every=5&lr=0.01&seed=7';

async function runs(page: Page): Promise<RunView[]> {
  return page.evaluate(() => (window.__temposae!.runs as () => RunView[])());
}

async function selected(page: Page): Promise<RunView> {
  return page.evaluate(() => {
    const all = (window.__temposae!.runs as () => RunView[])();
    const sel = (window.__temposae!.selectedRunId as () => string | null)();
    return all.find((r) => r.id === sel)!;
  });
}

/** Wait until the selected run has at least `n` metric readbacks. */
async function waitForReadbacks(page: Page, n: number, timeout = 120_000) {
  await page.waitForFunction(
    (k) => {
      const all = (window.__temposae!.runs as () => RunView[])();
      const sel = (window.__temposae!.selectedRunId as () => string | null)();
      const r = all.find((x) => x.id === sel);
      return !!r && r.history.step.length >= k;
    },
    n,
    { timeout, polling: 200 },
  );
}

async function waitForStatus(page: Page, status: string, timeout = 60_000) {
  await page.waitForFunction(
    (s) => {
      const all = (window.__temposae!.runs as () => RunView[])();
      const sel = (window.__temposae!.selectedRunId as () => string | null)();
      return all.find((x) => x.id === sel)?.status === s;
    },
    status,
    { timeout, polling: 100 },
  );
}

async function ready(h: AppHarness, path = ''): Promise<WatchedPage> {
  const w = await openPage(h, path);
  await w.page.getByTestId('selftest').waitFor({ timeout: 60_000 });
  await w.page.getByTestId('data-summary').waitFor();
  return w;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** A little-endian float32 .npy of shape [S, T, d] (NumPy format v1.0), values from a simple formula. */
function npyBytes(S: number, T: number, d: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${S}, ${T}, ${d}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = new Float32Array(S * T * d).map((_, i) => Math.sin(i * 0.37));
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]);
}

describe('training screen', () => {
  let h: AppHarness;
  let firstLosses: number[] = [];
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('opens on the built-in dataset with the method’s defaults (λ1, lr scaled for it) and the formula', async () => {
    const w = await ready(h);
    const { page } = w;
    await expect(page.getByTestId('data-summary').textContent()).resolves.toContain('built-in: default');
    await expect(page.getByTestId('data-summary').textContent()).resolves.toContain('2048 seq × 128 × 64');
    // The method's λ2, β, μ; λ1 and lr scaled for the built-in data (SYNTHETIC_RECOMMENDED: the method's
    // λ1 0.04 / lr 3e-4 give dense codes on it).
    expect(await page.getByTestId('cfg-l1_coefficient').inputValue()).toBe('1');
    expect(await page.getByTestId('cfg-lr').inputValue()).toBe('0.003');
    expect(await page.getByTestId('cfg-temporal_coefficient').inputValue()).toBe('0.02');
    expect(await page.getByTestId('cfg-alpha_beta').inputValue()).toBe('5');
    // The batch arithmetic is spelled out: 16 × 128 = 2048 tokens per step, 2048·2000 tokens = 2000 steps.
    await expect(page.getByTestId('derived-batch').textContent()).resolves.toBe(
      '2048 tokens per step · 2000 steps',
    );
    const formula = await page.getByTestId('loss-formula').textContent();
    expect(formula).toContain('1·');
    expect(formula).toContain('0.02');
    // The URL carries the whole config from the start.
    const url = new URL(page.url());
    expect(url.searchParams.get('l1_coefficient')).toBe('1');
    expect(url.searchParams.get('data')).toBe('builtin:default');
    await expect(page.getByTestId('btn-primary').getAttribute('aria-disabled')).resolves.toBe('false');
    // Editing a field updates the formula and the URL.
    await page.getByTestId('cfg-temporal_coefficient').fill('0.05');
    await page.getByTestId('cfg-temporal_coefficient').press('Enter');
    await expect(page.getByTestId('loss-formula').textContent()).resolves.toContain('0.05');
    await page.waitForFunction(
      () => new URL(location.href).searchParams.get('temporal_coefficient') === '0.05',
    );
    await page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(page, 'train-idle-1440x900');
    w.assertNoErrors();
    await page.close();
  });

  it('a link fills the config; Start makes the charts grow and the loss fall; pause/step/resume/reset behave', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    expect(await page.getByTestId('cfg-d_sae').inputValue()).toBe('64');
    expect(await page.getByTestId('cfg-lr').inputValue()).toBe('0.01');
    expect(await page.getByTestId('cfg-seed').inputValue()).toBe('7');
    await expect(page.getByTestId('data-summary').textContent()).resolves.toContain('64 seq × 32 × 16');

    await page.getByTestId('btn-primary').click();
    await waitForReadbacks(page, 2);
    const pointsEarly = Number(
      await page.getByTestId('chart-loss-plot').locator('svg').getAttribute('data-points'),
    );
    await waitForReadbacks(page, 12, 180_000);
    const pointsLate = Number(
      await page.getByTestId('chart-loss-plot').locator('svg').getAttribute('data-points'),
    );
    expect(pointsLate).toBeGreaterThan(pointsEarly);
    await expect(page.getByTestId('tokens-per-sec').textContent()).resolves.toMatch(/[\d.]+k? tok\/s/);
    await page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(page, 'train-running-1440x900');
    await page.setViewportSize({ width: 1280, height: 800 });
    await screenshot(page, 'train-running-1280x800');

    // Pause: the run stops within a step and stays put.
    await page.getByTestId('btn-primary').click();
    await waitForStatus(page, 'paused');
    let run = await selected(page);
    firstLosses = run.history.loss.slice(0, 3);
    const h1 = run.history;
    // Loss falls: the mean of the last three readbacks is well below that of the first three.
    expect(mean(h1.loss.slice(-3))).toBeLessThan(0.6 * mean(h1.loss.slice(0, 3)));
    const pausedAt = h1.step.at(-1)!;
    await page.waitForTimeout(1500);
    run = await selected(page);
    expect(run.history.step.at(-1)).toBe(pausedAt);
    await expect(page.getByTestId('run-status').textContent()).resolves.toBe('paused');

    // Step: exactly one more step, recorded.
    await page.getByTestId('btn-step').click();
    await page.waitForFunction(
      (s) => {
        const all = (window.__temposae!.runs as () => RunView[])();
        const sel = (window.__temposae!.selectedRunId as () => string | null)();
        return all.find((x) => x.id === sel)?.history.step.at(-1) === s + 1;
      },
      pausedAt,
      { timeout: 30_000 },
    );
    await expect(page.getByTestId('progress-step').textContent()).resolves.toContain(
      `step ${pausedAt + 1} /`,
    );

    // Resume: training continues from there.
    await page.getByTestId('btn-primary').click();
    await waitForStatus(page, 'running');
    await waitForReadbacks(page, run.history.step.length + 3);
    run = await selected(page);
    expect(run.history.step.at(-1)!).toBeGreaterThan(pausedAt + 1);

    // Reset: back to ready with no history, same config and seed.
    await page.getByTestId('btn-reset').click();
    await waitForStatus(page, 'ready');
    run = await selected(page);
    expect(run.history.step).toEqual([]);
    expect(run.config.seed).toBe(7);
    await expect(
      page.getByTestId('chart-loss-plot').locator('svg').getAttribute('data-points'),
    ).resolves.toBe('0');
    w.assertNoErrors();
    await page.close();
  });

  it('the same link in a new page reproduces the first losses', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    await page.getByTestId('btn-primary').click();
    await waitForReadbacks(page, 3);
    await page.getByTestId('btn-primary').click();
    await waitForStatus(page, 'paused');
    const again = (await selected(page)).history.loss.slice(0, 3);
    expect(firstLosses).toHaveLength(3);
    // Same seed, data and GPU: the same numbers up to float32 reduction order (rel. 1e-4).
    for (let i = 0; i < 3; i++)
      expect(Math.abs(again[i] - firstLosses[i])).toBeLessThanOrEqual(1e-4 * firstLosses[i]);

    // A control run: one click, same config and seed with λ2 = 0, selected and shown in the panel.
    const base = await selected(page);
    // Runs saved by earlier pages may have been restored into the list (persistence): count from here.
    const before = (await runs(page)).length;
    await page.locator(`[data-run-id="${base.id}"]`).getByTestId('btn-control').click();
    const all = await runs(page);
    expect(all).toHaveLength(before + 1);
    const ctl = all.find((r) => r.controlOf === base.id)!;
    expect(ctl.config).toEqual({ ...base.config, temporal_coefficient: 0 });
    expect(ctl.name).toContain('control');
    expect(await page.getByTestId('cfg-temporal_coefficient').inputValue()).toBe('0');
    await expect(page.getByTestId('loss-formula').textContent()).resolves.toMatch(/\+ 0·α/);
    await page.getByTestId('btn-step').click();
    await waitForStatus(page, 'paused');
    const ctlRun = await selected(page);
    expect(ctlRun.id).toBe(ctl.id);
    expect(ctlRun.history.step).toEqual([1]);
    expect(await page.getByTestId('run-row').count()).toBe(before + 1);
    // Rename by keyboard: F2 on the run, type, Enter.
    await page.locator(`[data-run-id="${ctl.id}"] .run-main`).focus();
    await page.keyboard.press('F2');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('plain SAE');
    await page.keyboard.press('Enter');
    expect((await runs(page)).find((r) => r.id === ctl.id)!.name).toBe('plain SAE');
    await page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(page, 'train-two-runs-1440x900');
    w.assertNoErrors();
    await page.close();
  });

  it('keyboard only: Tab to Start, Enter starts, Enter again pauses; Space and "." work away from buttons', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    let found = false;
    for (let i = 0; i < 60 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(
        () => document.activeElement?.getAttribute('data-testid') === 'btn-primary',
      );
    }
    expect(found).toBe(true);
    await page.keyboard.press('Enter');
    await waitForStatus(page, 'running');
    await waitForReadbacks(page, 1);
    await page.keyboard.press('Enter');
    await waitForStatus(page, 'paused');
    const steps = (await selected(page)).history.step.at(-1)!;
    // Shortcuts when focus is not in a field or on a button.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('.');
    await page.waitForFunction(
      (s) => {
        const all = (window.__temposae!.runs as () => RunView[])();
        const sel = (window.__temposae!.selectedRunId as () => string | null)();
        return all.find((x) => x.id === sel)?.history.step.at(-1) === s + 1;
      },
      steps,
      { timeout: 30_000 },
    );
    await page.keyboard.press(' ');
    await waitForStatus(page, 'running');
    await page.keyboard.press(' ');
    await waitForStatus(page, 'paused');
    w.assertNoErrors();
    await page.close();
  });

  it('charts read out values on hover and switch to a log axis; the page stays responsive while training', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    await page.getByTestId('btn-primary').click();
    // Long main-thread tasks (> 50 ms) while training would make the page stutter. Measured in steady
    // training, after the run's one-time setup (trainer, pipelines, first readback).
    await waitForReadbacks(page, 2);
    await page.evaluate(() => {
      const g = window as unknown as { __longTasks: number[]; __t0: number };
      g.__longTasks = [];
      g.__t0 = performance.now();
      new PerformanceObserver((l) => l.getEntries().forEach((e) => g.__longTasks.push(e.duration))).observe({
        type: 'longtask',
        buffered: false,
      });
    });
    await waitForReadbacks(page, 8);
    const { longTasks, ms } = await page.evaluate(() => {
      const g = window as unknown as { __longTasks: number[]; __t0: number };
      return { longTasks: g.__longTasks, ms: performance.now() - g.__t0 };
    });
    // Steady training (readbacks 2 to 8 are steps 10 to 40: no evaluation, eval_every 200, and no
    // checkpoint, checkpoint_every 500, in the window): the page only fetches a batch, records one
    // command buffer and applies the run session's events, so no task may pass 50 ms (issue 13; the
    // observer reports only tasks over 50 ms, so none may be seen). A failure lists their durations.
    expect(longTasks, `long tasks in ${Math.round(ms)} ms of steady training`).toEqual([]);
    console.log(`steady training: ${longTasks.length} long tasks (> 50 ms) in ${Math.round(ms)} ms`);
    // The run trains in the engine's Worker (src/engine/worker.ts), not on this thread: the engine says
    // so, and so does the status bar.
    expect(await page.evaluate(() => (window.__temposae!.engine as () => { kind: string })().kind)).toBe(
      'worker',
    );
    await expect.poll(() => page.getByTestId('engine-kind').textContent()).toContain('in a worker');
    await page.getByTestId('btn-primary').click();
    await waitForStatus(page, 'paused');

    const plot = page.getByTestId('chart-loss-plot').locator('svg');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    const readout = page.getByTestId('chart-loss-plot').locator('.readout');
    await readout.waitFor();
    const text = (await readout.textContent())!;
    expect(text).toMatch(/step \d+/);
    expect(text).toContain('L_recon');
    // The read-out shows the numbers of the step under the pointer, as recorded.
    const run = await selected(page);
    const step = Number(/step (\d+)/.exec(text)![1]);
    expect(run.history.step).toContain(step);

    const logBtn = page.getByTestId('chart-loss').getByRole('button', { name: 'log' });
    expect(await logBtn.getAttribute('aria-pressed')).toBe('true');
    const before = await plot.locator('path[data-series="recon"]').getAttribute('d');
    await logBtn.click();
    expect(await logBtn.getAttribute('aria-pressed')).toBe('false');
    const after = await plot.locator('path[data-series="recon"]').getAttribute('d');
    expect(after).not.toBe(before);
    w.assertNoErrors();
    await page.close();
  });

  it('dropped files load with a summary; a bad file is named in words and the loaded data stays', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    await page.getByTestId('file-input').setInputFiles({
      name: 'acts.npy',
      mimeType: 'application/octet-stream',
      buffer: npyBytes(8, 32, 16),
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('acts.npy'),
    );
    const summary = (await page.getByTestId('data-summary').textContent())!;
    expect(summary).toContain('8 seq × 32 × 16');
    expect(summary).toContain('float32');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('data') === 'files');
    // A truncated file: a clear message naming it; the data loaded before is still the one in use.
    const bad = npyBytes(8, 32, 16).subarray(0, 500);
    await page
      .getByTestId('file-input')
      .setInputFiles({ name: 'broken.npy', mimeType: 'application/octet-stream', buffer: bad });
    await page.getByTestId('data-error').waitFor();
    const err = (await page.getByTestId('data-error').textContent())!;
    expect(err).toContain('broken.npy');
    expect(err).toMatch(/still in use/);
    expect(await page.getByTestId('data-summary').textContent()).toContain('acts.npy');
    // A vocabulary dropped on its own gives the loaded data token text and changes nothing else.
    await page.getByTestId('file-input').setInputFiles({
      name: 'vocab.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(['<bos>', 'the', 'cat'])),
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('vocab.json'),
    );
    expect(await page.getByTestId('data-summary').textContent()).toContain('acts.npy');
    // A Hugging Face tokenizer.json (decoded by @huggingface/transformers in the page, no network).
    await page.getByTestId('file-input').setInputFiles({
      name: 'tokenizer.json',
      mimeType: 'application/json',
      buffer: readFileSync('test/fixtures/data/tiny-tokenizer.json'),
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('tokenizer.json'),
    );
    // What the inspector shows with it is read off the page in test/e2e/tokenText.test.ts.
    // Training on the dropped file works.
    await page.getByTestId('btn-step').click();
    await waitForStatus(page, 'paused');
    expect((await selected(page)).history.step).toEqual([1]);
    await screenshot(page, 'train-file-error-1440x900');
    w.assertNoErrors();
    await page.close();
  });

  it('a compressed .npz over the memory cap loads through a scratch file in browser storage and trains', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    // A 1 KB in-memory cap (the user setting for machines short of memory) sends this member through OPFS.
    await page.evaluate(() => localStorage.setItem('temposae.maxInflateBytes', '1024'));
    const npz = zipSync({ 'activations.npy': [new Uint8Array(npyBytes(8, 32, 16)), { level: 6 }] });
    await page.getByTestId('file-input').setInputFiles({
      name: 'acts.npz',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(npz),
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=data-summary]')?.textContent?.includes('acts.npz'),
    );
    expect(await page.getByTestId('data-summary').textContent()).toContain('8 seq × 32 × 16');
    const scratch = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('temposae-scratch');
      const out: [string, number][] = [];
      for await (const [name, h] of (
        dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }
      ).entries())
        out.push([name, (await h.getFile()).size]);
      return out;
    });
    expect(scratch).toHaveLength(1);
    expect(scratch[0][0]).toMatch(/^inflated-[0-9a-f]{8}-\d+\.bin$/);
    expect(scratch[0][1]).toBe(npyBytes(8, 32, 16).length);
    await page.getByTestId('btn-step').click();
    await waitForStatus(page, 'paused');
    const run = await selected(page);
    expect(run.history.step).toEqual([1]);
    expect(run.history.loss.every((v: number) => Number.isFinite(v))).toBe(true);
    await page.evaluate(() => localStorage.removeItem('temposae.maxInflateBytes'));
    // The Storage panel shows the copy; it is read by the loaded data, so it is kept (no Clear).
    await expect(page.getByTestId('scratch-use').textContent()).resolves.toMatch(
      /compressed \.npz files: [\d.]+ KB \(1 read by the loaded data, kept\)/,
    );
    expect(await page.getByTestId('clear-scratch').count()).toBe(0);
    await screenshot(page, 'train-npz-scratch-1440x900');
    w.assertNoErrors();
    // After a reload nothing reads it: Clear removes it.
    await page.reload();
    await page.getByTestId('clear-scratch').click();
    await page.getByTestId('scratch-use').waitFor({ state: 'detached' });
    w.assertNoErrors();
    await page.close();
  });

  it('a run that diverges stops with the reason and what to do, next to the controls', async () => {
    const w = await ready(h, TINY.replace('lr=0.01', 'lr=1e30'));
    const { page } = w;
    await page.getByTestId('btn-primary').click();
    await waitForStatus(page, 'error', 120_000);
    const text = (await page.getByTestId('run-error').textContent())!;
    expect(text).toMatch(/diverged at step \d+/);
    expect(text).toContain('lower the learning rate (it is 1e+30)');
    await expect(page.locator('.message-error').first().textContent()).resolves.toContain('stopped');
    await screenshot(page, 'train-diverged-1440x900');
    // GPU faults are reported as messages, not console errors; nothing else went wrong in the page.
    w.assertNoErrors();
    await page.close();
  });

  it('a config that cannot be trained says why next to the controls and changes nothing else', async () => {
    const w = await ready(h, TINY);
    const { page } = w;
    await page.getByTestId('cfg-architecture').selectOption('topk');
    await page.getByTestId('cfg-k').fill('500');
    await page.getByTestId('cfg-k').press('Enter');
    await expect(page.getByTestId('config-problems').textContent()).resolves.toContain(
      'k must be an integer in 1..d_sae',
    );
    await expect(page.getByTestId('btn-primary').getAttribute('aria-disabled')).resolves.toBe('true');
    // A malformed number is flagged at the field and not taken.
    await page.getByTestId('cfg-lr').fill('fast');
    await page.getByTestId('cfg-lr').press('Enter');
    await expect(page.getByTestId('cfg-lr').getAttribute('aria-invalid')).resolves.toBe('true');
    const url = new URL(page.url());
    expect(url.searchParams.get('lr')).toBe('0.01');
    // Config and data that do not fit together are named before Start, with the limit.
    await page.getByTestId('cfg-defaults').click();
    await page.getByTestId('cfg-context_size').fill('64');
    await page.getByTestId('cfg-context_size').press('Enter');
    await expect(page.locator('.controls .hint').first().textContent()).resolves.toContain(
      "longer than the data's sequences (32 tokens)",
    );
    // A link with a bad value warns in words and keeps the default for it.
    const w2 = await ready(h, '?data=builtin:tiny&d_sae=lots');
    await expect(w2.page.locator('.message').first().textContent()).resolves.toContain('d_sae');
    expect(await w2.page.getByTestId('cfg-d_sae').inputValue()).toBe('512');
    w.assertNoErrors();
    w2.assertNoErrors();
    await page.close();
    await w2.page.close();
  });
});
