import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, screenshot, startApp, type AppHarness } from './harness';

describe('app shell in headless Chromium (WebGPU on SwiftShader)', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gets a WebGPU device, names the adapter and passes the kernel self-test', async () => {
    const w = await openPage(h);
    const { page } = w;
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    // The self-test result is read back from the GPU and checked in the page; check it here too.
    const selfTest = await page.evaluate(
      () => window.__temposae?.selfTest as { ok: boolean; maxAbsError: number },
    );
    expect(selfTest.ok).toBe(true);
    expect(selfTest.maxAbsError).toBe(0);
    await expect(page.getByTestId('selftest').textContent()).resolves.toContain('passed');
    await expect(page.getByTestId('adapter-name').textContent()).resolves.toContain('SwiftShader');
    await expect(page.getByTestId('gpu-phase').textContent()).resolves.toContain('ready');
    await screenshot(page, 'shell');
    w.assertNoErrors();
    await page.close();
  });

  it('shows the WebGPU help page when WebGPU is unavailable', async () => {
    const w = await openPage(h);
    await w.page.close();
    const page = await h.context.newPage();
    // Remove navigator.gpu before any app script runs, as a browser without WebGPU would.
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    await page.goto(h.baseUrl);
    await page.getByTestId('no-webgpu').waitFor({ timeout: 30_000 });
    const text = await page.getByTestId('no-webgpu').textContent();
    expect(text).toContain('needs WebGPU');
    expect(text).toContain('navigator.gpu is missing');
    await screenshot(page, 'no-webgpu');
    await page.close();
  });
});
