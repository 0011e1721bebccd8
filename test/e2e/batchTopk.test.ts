// BatchTopK in the app end to end (headless Chromium, WebGPU on SwiftShader), issue 14: the architecture
// is picked in the Train tab's form, which then shows k and θ's rate (and no λ1); a short run on the
// built-in tiny data trains with exactly k active features per token, is evaluated on held-out data at
// inference (f = pre·H(pre − θ)); the app's SAE export is a SAELens JumpReLU whose threshold is θ for
// every feature, and importing that zip gives a run whose held-out evaluation equals the trained run's;
// after a reload the run's stored checkpoint exports the same θ.
import { unzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

const STEPS = 40;
const TINY = `?data=builtin:tiny&d_sae=64&seqs_per_batch=4&context_size=32&training_tokens=${128 * STEPS}&metrics_every=5&eval_every=20&lr=0.02&temporal_coefficient=0.3&seed=7`;

interface RunView {
  id: string;
  status: string;
  config: Record<string, unknown>;
}
interface EvalView {
  step: number;
  metrics: Record<string, number>;
}

const runs = (page: Page): Promise<RunView[]> =>
  page.evaluate(() => (window.__temposae!.runs as () => RunView[])());
const evals = (page: Page, id: string): Promise<EvalView[]> =>
  page.evaluate(
    (rid) =>
      ((window.__temposae!.analysis as () => { byRun: Record<string, { evals: EvalView[] }> })().byRun[rid]
        ?.evals ?? []) as EvalView[],
    id,
  );

async function download(page: Page, testId: string): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return readFileSync((await d.path())!);
}

/** Little-endian float32 values of one tensor of a safetensors file. */
function tensor(bytes: Uint8Array, name: string): { shape: number[]; data: Float32Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const t = header[name] as { shape: number[]; data_offsets: [number, number] };
  const raw = bytes.slice(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
  return { shape: t.shape, data: new Float32Array(raw.buffer) };
}

describe('BatchTopK in the app', () => {
  let h: AppHarness;
  let w: WatchedPage;
  beforeAll(async () => {
    h = await startApp();
    w = await openPage(h, TINY);
    await w.page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await w.page.getByTestId('data-summary').waitFor();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('picked in the form, trains at L0 = k, evaluates through θ, exports as JumpReLU θ and imports back', async () => {
    const { page } = w;
    await page.getByTestId('cfg-architecture').selectOption('batchtopk');
    // The form shows what BatchTopK reads: k and θ's rate (SAELens's 0.01), not λ1.
    await expect(page.getByTestId('cfg-topk_threshold_lr').inputValue()).resolves.toBe('0.01');
    expect(await page.getByTestId('cfg-l1_coefficient').count()).toBe(0);
    await page.getByTestId('cfg-k').fill('2');
    await page.getByTestId('cfg-k').press('Enter');
    await page.getByTestId('cfg-topk_threshold_lr').fill('0.1');
    await page.getByTestId('cfg-topk_threshold_lr').press('Enter');
    await page.waitForFunction(() => {
      const q = new URL(location.href).searchParams;
      return (
        q.get('architecture') === 'batchtopk' && q.get('k') === '2' && q.get('topk_threshold_lr') === '0.1'
      );
    });
    // No sparsity term in the loss: L = L_recon + λ2·α·L_temp.
    const formula = (await page.getByTestId('loss-formula').textContent())!;
    expect(formula).toContain('0.3');
    expect(formula).not.toContain('sparse');

    await page.getByTestId('btn-primary').click();
    const id = (await runs(page))[0].id;
    await page.waitForFunction(
      ([rid, steps]) => {
        const r = (window.__temposae!.runs as () => RunView[])().find((x) => x.id === rid);
        const a = (
          window.__temposae!.analysis as () => {
            byRun: Record<string, { evals: EvalView[]; evaluating: boolean }>;
          }
        )().byRun[rid as string];
        return r?.status === 'done' && !!a && !a.evaluating && a.evals.some((e) => e.step === steps);
      },
      [id, STEPS] as const,
      { timeout: 240_000, polling: 250 },
    );
    // Training keeps exactly k·N entries of the batch: the run's L0 reads 2.
    const details = page.getByTestId('run-details');
    await expect(details.textContent()).resolves.toContain('BatchTopK k=2');
    expect((await details.locator('tr', { hasText: 'L0' }).locator('td').textContent())?.trim()).toMatch(
      /^2(\.0+)?$/,
    );
    await screenshot(page, 'batchtopk-trained');
    // Held-out evaluation at inference: L0 through θ, not fixed at k.
    const ev = (await evals(page, id)).at(-1)!;
    expect(ev.metrics.l0).toBeGreaterThan(0.5);
    expect(ev.metrics.l0).toBeLessThan(8);
    expect(ev.metrics.explained_variance).toBeGreaterThan(0);

    // The app's export: a SAELens JumpReLU with threshold = θ for every feature.
    const zip = await download(page, 'btn-export-sae');
    const files = unzipSync(new Uint8Array(zip));
    const name = (f: string) => Object.keys(files).find((k) => k.endsWith(`/${f}`))!;
    const cfg = JSON.parse(new TextDecoder().decode(files[name('cfg.json')]));
    expect(cfg.architecture).toBe('jumprelu');
    expect(cfg.metadata.temposae_architecture).toBe('batchtopk');
    const th = tensor(files[name('sae_weights.safetensors')], 'threshold');
    expect(th.shape).toEqual([64]);
    expect(th.data[0]).toBeGreaterThan(0);
    expect(Array.from(th.data).every((v) => v === th.data[0])).toBe(true);

    // Imported back (the Storage panel's input, as a user drops the zip): a BatchTopK run whose
    // held-out evaluation equals the trained run's (same SAE at inference, same held-out sequences).
    const before = (await runs(page)).length;
    await page
      .getByTestId('import-sae-input')
      .setInputFiles({ name: 'btk.zip', mimeType: 'application/zip', buffer: zip });
    await page.waitForFunction((n) => (window.__temposae!.runs as () => unknown[])().length > n, before, {
      timeout: 60_000,
    });
    const imported = (await runs(page))[before];
    expect(imported.config.architecture).toBe('batchtopk');
    await page.waitForFunction(
      (rid) =>
        ((window.__temposae!.analysis as () => { byRun: Record<string, { evals: unknown[] }> })().byRun[rid]
          ?.evals.length ?? 0) > 0,
      imported.id,
      { timeout: 60_000 },
    );
    const ie = (await evals(page, imported.id)).at(-1)!;
    expect(ie.metrics.l0).toBeCloseTo(ev.metrics.l0, 6);
    expect(ie.metrics.explained_variance).toBeCloseTo(ev.metrics.explained_variance, 5);

    // After a reload the run comes back from its stored checkpoint (θ is its tensor topk_threshold):
    // exporting it again writes the same threshold.
    await page.reload();
    await page.getByTestId('data-summary').waitFor();
    await page.waitForFunction(
      (rid) => (window.__temposae!.runs as () => RunView[])().find((r) => r.id === rid)?.status === 'done',
      id,
      { timeout: 60_000 },
    );
    await page.locator(`[data-testid="run-row"][data-run-id="${id}"] .run-main`).click();
    const again = unzipSync(new Uint8Array(await download(page, 'btn-export-sae')));
    const th2 = tensor(
      again[Object.keys(again).find((k) => k.endsWith('/sae_weights.safetensors'))!],
      'threshold',
    );
    expect(Array.from(th2.data)).toEqual(Array.from(th.data));
    w.assertNoErrors();
  });
});
