// Checkpoints through OPFS sync access handles in a real dedicated worker (Chromium): storage-test.html
// starts workers that save and restore through RunRepository over opfsSyncStore, as the engine's worker
// does (src/app/persistence/opfsSync.ts). A worker terminated in the middle of a save (a crash) leaves
// the previous checkpoint whole; another worker cannot sweep the partial file while the save holds it;
// the quota (lowered through the DevTools protocol) and a missing file give messages naming the file.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckCommand } from '../../src/app/persistence/opfsSyncCheck.worker';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

type Answer = { ok: boolean; value?: unknown; error?: string; progress?: number };

const spawn = (page: Page) => page.evaluate(() => window.__opfsCheck!.spawn());
const kill = (page: Page, n: number) => page.evaluate((k) => window.__opfsCheck!.kill(k), n);
async function call<T>(page: Page, n: number, cmd: CheckCommand, untilProgress?: number): Promise<T> {
  const a: Answer = await page.evaluate(
    ([k, c, u]) => window.__opfsCheck!.call(k, c, { untilProgress: u ?? undefined }),
    [n, cmd, untilProgress ?? null] as const,
  );
  if (!a.ok && a.progress === undefined) throw new Error(a.error);
  return (a.progress !== undefined ? a : a.value) as T;
}

const D = 64,
  M = 1024; // 1.6 MB a checkpoint (weights and Adam moments)
const CK = 'runs/run-1/checkpoints/';

describe('checkpoints through OPFS sync access handles in a worker', () => {
  let h: AppHarness;
  let w: WatchedPage;
  beforeAll(async () => {
    h = await startApp();
    w = await openPage(h, 'storage-test.html');
    await w.page.locator('#result[data-ready="1"]').waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('save, crash mid-save, restore the old one, sweep, save again; quota and missing file in words', async () => {
    const { page } = w;
    expect(await page.evaluate(() => window.__opfsCheck!.pageHasSyncHandles)).toBe(false);
    const a = await spawn(page);
    expect(await call(page, a, { op: 'env' })).toEqual({ syncHandles: true });

    const saved = await call<{ path: string; bytes: number; ms: number }>(page, a, {
      op: 'save',
      runId: 'run-1',
      step: 1,
      d: D,
      m: M,
    });
    expect(saved.path).toBe(`${CK}step-000000001.safetensors`);
    expect(saved.bytes).toBeGreaterThan(6 * D * M * 4); // W_enc, W_dec and their two Adam moments
    const back = await call<{ step: number; exact: boolean; ms: number }>(page, a, {
      op: 'restore',
      runId: 'run-1',
      d: D,
      m: M,
    });
    expect(back).toMatchObject({ step: 1, exact: true });

    // A save of step 2, slowed down part by part; after its 3rd part the worker is terminated.
    const progress = await call<{ progress: number; of: number }>(
      page,
      a,
      { op: 'save', runId: 'run-1', step: 2, d: D, m: M, partDelayMs: 300 },
      3,
    );
    expect(progress.progress).toBe(3);
    const listed = async () =>
      (await call<{ path: string; bytes: number }[]>(page, b, { op: 'list', prefix: CK })).map((e) => e.path);
    const entries = async () =>
      (await call<string[]>(page, b, { op: 'entries', dir: ['runs', 'run-1', 'checkpoints'] })).sort();
    const b = await spawn(page);
    // Mid-save, OPFS holds the old checkpoint and the partial file the save writes to.
    const during = await entries();
    expect(during.map((e) => e.split(' ')[0])).toEqual([
      'step-000000001.safetensors',
      'step-000000002.safetensors.partial',
    ]);
    expect(during[0]).toBe(`step-000000001.safetensors file ${saved.bytes}`);
    // The running save holds its partial file: another worker's sweep leaves it.
    expect(await call(page, b, { op: 'sweep' })).toEqual([]);
    await kill(page, a);
    // The old checkpoint is whole and is what a restore finds.
    expect(await call(page, b, { op: 'restore', runId: 'run-1', d: D, m: M })).toMatchObject({
      step: 1,
      exact: true,
      skipped: [],
    });
    // Once the dead worker's lock is gone, the cut-off save is swept.
    let swept: string[] = [];
    for (let i = 0; i < 50 && !swept.length; i++) {
      swept = await call<string[]>(page, b, { op: 'sweep' });
      if (!swept.length) await page.waitForTimeout(100);
    }
    expect(swept).toEqual([`${CK}step-000000002.safetensors.partial`]);
    expect(await entries()).toEqual([`step-000000001.safetensors file ${saved.bytes}`]);
    await call(page, b, { op: 'save', runId: 'run-1', step: 2, d: D, m: M });
    expect(await listed()).toEqual([`${CK}step-000000001.safetensors`, `${CK}step-000000002.safetensors`]);
    expect((await entries()).length).toBe(2);
    expect(await call(page, b, { op: 'restore', runId: 'run-1', d: D, m: M })).toMatchObject({
      step: 2,
      exact: true,
    });

    // A missing file, named.
    expect(await call(page, b, { op: 'read-missing' })).toBe(
      'runs/none/checkpoints/step-000000001.safetensors: not found',
    );

    // The quota lowered to what is stored plus 1 MB: a 1.6 MB save is refused naming its file, nothing of
    // it is left, and step 2 still restores.
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(page.url()).origin;
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 1_000_000 });
    const full = await call(page, b, { op: 'save', runId: 'run-1', step: 3, d: D, m: M }).then(
      () => 'saved',
      (e: Error) => e.message,
    );
    expect(full).toMatch(
      /^StorageFullError: Browser storage is full: could not save runs\/run-1\/checkpoints\/step-000000003\.safetensors \(/,
    );
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    expect((await entries()).map((e) => e.split(' ')[0])).toEqual([
      'step-000000001.safetensors',
      'step-000000002.safetensors',
    ]);
    expect(await call(page, b, { op: 'restore', runId: 'run-1', d: D, m: M })).toMatchObject({
      step: 2,
      exact: true,
    });
    console.log(
      `opfsSync: ${saved.bytes} bytes saved in ${saved.ms.toFixed(0)} ms, restored in ${back.ms.toFixed(0)} ms`,
    );
    await page
      .locator('#result')
      .evaluate(
        (el, t) => (el.textContent = t),
        `saved, crashed, restored, swept: ${JSON.stringify({ swept, full })}`,
      );
    await screenshot(page, 'opfs-sync');
    w.assertNoErrors();
  });
});
