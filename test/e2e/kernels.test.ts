// The built app's WGSL kernels on Chromium's own WebGPU (SwiftShader here): kernel-test.html runs one
// training step per architecture and compares it with the float64 reference in the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_IDS } from '../../src/sae/architectures';
import { openPage, screenshot, startApp, type AppHarness } from './harness';

describe('kernel parity in headless Chromium', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('one GPU step per architecture matches the reference in the page', async () => {
    const w = await openPage(h, 'kernel-test.html');
    const { page } = w;
    await page.locator('#result[data-done="1"]').waitFor({ timeout: 300_000 });
    const report = await page.evaluate(() => window.__kernelTest);
    await screenshot(page, 'kernel-test');
    expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
    if (report && 'cases' in report) {
      // Every architecture in the registry, none skipped.
      expect(report.cases.map((c) => c.architecture)).toEqual(ARCHITECTURE_IDS);
      for (const c of report.cases) expect(c.worst, `${c.architecture}: ${c.worstAt}`).toBeLessThanOrEqual(1);
    }
    w.assertNoErrors();
    await page.close();
  });
});
