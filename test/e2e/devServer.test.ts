// The README's first command (`npm start` = the Vite dev server) gives a working app: served from
// source (not dist/), it opens on the built-in dataset, the kernel self-test passes, and Start trains.
// The other e2e tests use the production build; this one catches what only breaks in dev (raw .wgsl
// imports, dependency pre-bundling, module workers).
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from './harness';

describe('npm start (Vite dev server)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
    await server.listen();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.close();
  });

  it('serves the app with the built-in dataset ready, and a run trains', async () => {
    const address = server.httpServer!.address();
    if (!address || typeof address === 'string') throw new Error('dev server has no port');
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // A small SAE so that SwiftShader gets through a few steps quickly; the data is the default.
    await page.goto(`http://127.0.0.1:${address.port}/?d_sae=64&seqs_per_batch=4&metrics_every=2`);
    await page.getByTestId('selftest').waitFor({ timeout: 180_000 });
    await expect(page.getByTestId('selftest').textContent()).resolves.toContain('passed');
    await expect(page.getByTestId('data-summary').textContent()).resolves.toMatch(/built-in/);
    await page.getByTestId('btn-primary').click();
    await page.waitForFunction(
      () => {
        const rs = (window.__temposae!.runs as () => { history: { step: number[]; loss: number[] } }[])();
        return rs.length === 1 && rs[0].history.step.length >= 2;
      },
      null,
      { timeout: 180_000, polling: 250 },
    );
    const run = await page.evaluate(
      () =>
        (
          window.__temposae!.runs as () => {
            history: { loss: number[] };
            config: { l1_coefficient: number; lr: number; d_sae: number };
          }[]
        )()[0],
    );
    expect(run.history.loss.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    // The link set d_sae only: the built-in data's recommended λ1 and lr (README) are kept.
    expect(run.config).toMatchObject({ d_sae: 64, l1_coefficient: 1, lr: 3e-3 });
    await screenshot(page, 'dev-server-training');
    expect(errors).toEqual([]);
    await page.close();
  });
});
