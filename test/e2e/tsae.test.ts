// T-SAE in the app end to end (headless Chromium, WebGPU on SwiftShader), issue 14: picked in the Train
// tab's form, which then shows the Matryoshka prefix fields and the contrastive ones (and no λ1); the
// loss formula names L_mat with the prefixes and weights typed and the contrastive term; a short run on
// the built-in tiny data logs L_mat and L_nce (the loss chart draws both lines), and its held-out
// evaluation shows a table per Matryoshka prefix whose whole-dictionary row is the run's explained
// variance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, screenshot, startApp, type AppHarness, type WatchedPage } from './harness';

const STEPS = 30;
const TINY = `?data=builtin:tiny&d_sae=64&seqs_per_batch=4&context_size=32&training_tokens=${128 * STEPS}&metrics_every=5&eval_every=0&lr=0.02&seed=7`;

interface RunView {
  id: string;
  status: string;
  config: Record<string, unknown>;
  history: {
    step: number[];
    loss: number[];
    l_mat: number[];
    l_nce: number[];
    l_temp: number[];
    alpha: number[];
  };
}
interface EvalView {
  step: number;
  metrics: Record<string, number>;
  prefixes?: { start: number; end: number; explained_variance: number }[];
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

async function setField(page: Page, key: string, value: string) {
  await page.getByTestId(`cfg-${key}`).fill(value);
  await page.getByTestId(`cfg-${key}`).press('Enter');
}

describe('T-SAE in the app', () => {
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

  it('picked in the form, trains with L_mat and L_nce, and its evaluation shows each prefix', async () => {
    const { page } = w;
    await page.getByTestId('cfg-architecture').selectOption('tsae');
    // The form shows what T-SAE reads: k, the prefixes, the contrastive knobs (T-SAE's 0.1, cosine), not λ1.
    await expect(page.getByTestId('cfg-contrastive_coefficient').inputValue()).resolves.toBe('0.1');
    await expect(page.getByTestId('cfg-contrastive_similarity').inputValue()).resolves.toBe('cosine');
    await expect(page.getByTestId('cfg-matryoshka_widths').inputValue()).resolves.toBe('');
    expect(await page.getByTestId('cfg-l1_coefficient').count()).toBe(0);
    // Empty widths: the default 20 % high-level prefix, weights 0.1 / 0.4.
    await expect(page.getByTestId('loss-formula-matryoshka').textContent()).resolves.toMatch(
      /e = \[12, 64\], c = \[0\.1, 0\.4\]/,
    );
    await setField(page, 'k', '2');
    await setField(page, 'matryoshka_widths', '16');
    await setField(page, 'matryoshka_weights', '0.3, 0.7');
    await setField(page, 'contrastive_coefficient', '0.5');
    await page.waitForFunction(() => {
      const q = new URL(location.href).searchParams;
      return q.get('architecture') === 'tsae' && q.get('contrastive_coefficient') === '0.5';
    });
    const formula = (await page.getByTestId('loss-formula').textContent())!;
    expect(formula).toMatch(/L\s*mat/);
    expect(formula).toMatch(/0\.5·L\s*nce/);
    expect(formula).not.toContain('sparse');
    await expect(page.getByTestId('loss-formula-matryoshka').textContent()).resolves.toMatch(
      /e = \[16, 64\], c = \[0\.3, 0\.7\]/,
    );
    await screenshot(page, 'tsae-form');

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
    const run = (await runs(page)).find((r) => r.id === id)!;
    expect(run.config).toMatchObject({ architecture: 'tsae', matryoshka_widths: [16], k: 2 });
    const i = run.history.step.length - 1;
    expect(run.history.l_nce[i]).toBeGreaterThan(0);
    expect(run.history.l_mat[i]).toBeGreaterThan(0);
    const chart = (await page.getByTestId('chart-loss').textContent())!;
    expect(chart).toContain('L_mat');
    expect(chart).toContain('c·L_nce');
    await screenshot(page, 'tsae-trained');

    // The evaluation, per prefix: [0, 16) and [0, 64); the second is the whole dictionary, so its explained
    // variance is the run's.
    const ev = (await evals(page, id)).at(-1)!;
    expect(ev.prefixes!.map((g) => [g.start, g.end])).toEqual([
      [0, 16],
      [16, 64],
    ]);
    expect(ev.prefixes![1].explained_variance).toBeCloseTo(ev.metrics.explained_variance, 4);
    await page.getByTestId('tab-features').click();
    const table = page.getByTestId('prefix-table');
    await table.waitFor({ timeout: 30_000 });
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('0 … 15');
    expect(rows[1]).toContain(ev.metrics.explained_variance.toFixed(4));
    await screenshot(page, 'tsae-prefixes');
  });
});
