// The one-click experiment through the UI (issue 14): on the built-in tiny data, the Experiment tab
// with ReLU (plain) and TopK + ours λ2 = 0.5 × seeds 1, 2 at a matched L0 of 4 is set up by clicks and
// typing: ReLU's λ1 comes from 2 short probe runs, TopK's k is the target. The page is reloaded while
// a later run trains; the experiment comes back interrupted and Resume finishes it without training
// the finished runs again. The search, the table, the frontier plot and the sentences are then checked
// against the runs' own logged final evaluations (read through the read-only `runs` and `analysis`
// hooks): the table is rebuilt from those numbers and must match the screen, and the downloaded
// table.json holds the same runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { experimentRunOf } from '../../src/analysis/experimentPlan';
import { experimentTable, fmt, type ExperimentRun } from '../../src/analysis/experimentTable';
import { methodNotes, type NoteColumns, type NoteConfig } from '../../src/analysis/methodNotes';
import { download, openApp } from './flows';
import { screenshot, type AppHarness, type WatchedPage } from './harness';

const STEPS = 20;
const PROBE_STEPS = 3;
const TARGET_L0 = 4;
const LINK = `?data=builtin:tiny&d_sae=32&seqs_per_batch=4&context_size=32&training_tokens=${STEPS * 128}&metrics_every=4&eval_every=0&checkpoint_every=5&lr=0.01&seed=9`;
const METHODS = ['ReLU', 'Matryoshka BatchTopK + ours λ2=0.5'];
const SEEDS = [1, 2];
/** The runs in training order: the search's probes, then method × seed. */
const NAMES = [
  'ReLU λ1 … (L0 search 1/2)',
  'ReLU λ1 … (L0 search 2/2)',
  ...METHODS.flatMap((m) => SEEDS.map((s) => `${m} seed ${s}`)),
];
const nameOf = (r: { name: string }) => r.name.replace(/λ1 \S+ /, 'λ1 … ');

interface RunView {
  id: string;
  name: string;
  status: string;
  config: {
    seed: number;
    temporal_coefficient: number;
    l1_coefficient: number;
    k: number;
    architecture: string;
  };
  history: { step: number[]; tokens_seen: number[] };
}
interface EvalView {
  step: number;
  metrics: Record<string, number>;
  prefixes?: { explained_variance: number }[];
}

const readRuns = (page: Page) => page.evaluate(() => (window.__temposae!.runs as () => RunView[])());
const readEvals = (page: Page) =>
  page.evaluate(() => {
    const a = (window.__temposae!.analysis as () => { byRun: Record<string, { evals: EvalView[] }> })();
    return Object.fromEntries(Object.entries(a.byRun).map(([id, r]) => [id, r.evals]));
  });

/** Click the method grid's boxes so that exactly `ids` are checked; returns how many boxes there are. */
async function pickOnly(page: Page, ids: string[]): Promise<number> {
  const boxes = page.locator('[data-testid^="exp-pick-"]');
  const all = await boxes.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!));
  for (const id of all) {
    const box = page.getByTestId(id);
    if ((await box.isChecked()) !== ids.includes(id)) await box.click();
  }
  return all.length;
}

/** Status of the experiment as the page says it. */
const status = (page: Page) => page.getByTestId('exp-status').getAttribute('data-status');

describe('the methods experiment from the UI', () => {
  let h: AppHarness;
  let w: WatchedPage;
  beforeAll(async () => {
    ({ h, w } = await openApp(LINK));
  }, 90_000);
  afterAll(async () => {
    await h?.close();
  });

  it('matched L0, 2 methods × 2 seeds: run, reload mid-experiment, resume; the search, table, frontier and sentences are the runs’ numbers', async () => {
    const { page } = w;
    await page.getByTestId('tab-experiment').click();
    await page.getByTestId('exp-name').fill('tiny matched L0');
    await page.getByTestId('exp-lambdas').fill('0, 0.5');
    // Every architecture of the registry has a row; keep ReLU plain and Matryoshka BatchTopK + ours
    // (its per-prefix explained variance has columns; ReLU's cells there show —).
    const boxes = await pickOnly(page, ['exp-pick-relu-0', 'exp-pick-matryoshka_batchtopk-0.5']);
    expect(boxes).toBeGreaterThanOrEqual(6); // ≥ 3 architectures × 2 λ2 values
    await page.getByTestId('exp-seeds').fill(SEEDS.join(', '));
    await page.getByTestId('exp-tokens').fill(String(STEPS * 128));
    await page.getByTestId('exp-matched').click();
    await page.getByTestId('exp-target-l0').fill(String(TARGET_L0));
    await page.getByTestId('exp-probes').fill('2');
    await page.getByTestId('exp-steps').fill(String(PROBE_STEPS));
    await page.getByTestId('exp-run').click();

    // Reload while a run of the methods (not a probe) trains, after its first checkpoint.
    await page.waitForFunction(
      () => {
        const runs = (window.__temposae!.runs as () => RunView[])();
        const p = (window.__temposae!.persistence as () => { checkpoints: Record<string, unknown[]> })();
        const last = runs.at(-1);
        return runs.length >= 4 && last?.status === 'running' && (p.checkpoints[last.id]?.length ?? 0) > 0;
      },
      undefined,
      { timeout: 60_000, polling: 100 },
    );
    const before = await readRuns(page);
    await page.reload();
    const k = before.length - 1; // the run that was training
    expect(before.slice(0, k).map((r) => r.status)).toEqual(new Array(k).fill('done'));
    expect(before.map(nameOf)).toEqual(NAMES.slice(0, k + 1));
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await page.getByTestId('tab-experiment').click();
    await expect.poll(() => status(page), { timeout: 10_000 }).toBe('interrupted');
    await expect.poll(async () => (await readRuns(page)).length, { timeout: 20_000 }).toBe(k + 1);
    await screenshot(page, 'experiment-interrupted');
    // The finished runs' results are in the table before anything trains again.
    await expect
      .poll(() => page.getByTestId('exp-results').textContent(), { timeout: 10_000 })
      .toContain(`So far (${k - 2} runs finished)`);
    await page.getByTestId('exp-resume').click();
    await expect.poll(() => status(page), { timeout: 120_000, interval: 500 }).toBe('done');

    const runs = await readRuns(page);
    // One run per probe and per method × seed, nothing trained twice: the runs finished before the
    // reload are the same records with the same histories; the interrupted one continued under its id
    // with its history from before the reload.
    expect(runs.map(nameOf)).toEqual(NAMES);
    for (const r of before.slice(0, k))
      expect(runs.find((x) => x.id === r.id)!.history.step).toEqual(r.history.step);
    expect(runs[k].id).toBe(before[k].id);
    expect(runs[k].history.step[0]).toBe(4);
    const evals = await readEvals(page);
    const last = (r: RunView) => evals[r.id].at(-1)!;

    // The search: each probe's L0 is its run's logged held-out L0; the second λ1 follows from the
    // first's L0 (×4 above the target, ÷4 below); the closest in log terms is ReLU's λ1; TopK has k.
    const probes = runs.slice(0, 2).map((r) => ({
      l1: r.config.l1_coefficient,
      l0: last(r).metrics.l0,
      steps: r.history.step.at(-1),
    }));
    expect(probes.map((p) => p.steps)).toEqual([PROBE_STEPS, PROBE_STEPS]);
    expect(probes[1].l1).toBe(probes[0].l0 > TARGET_L0 ? probes[0].l1 * 4 : probes[0].l1 / 4);
    const err = (p: { l0: number }) => Math.abs(Math.log(p.l0 / TARGET_L0));
    const best = err(probes[1]) < err(probes[0]) ? probes[1] : probes[0];
    for (const r of runs.slice(2, 4)) expect(r.config.l1_coefficient).toBe(best.l1);
    for (const r of runs.slice(4))
      expect(r.config).toMatchObject({
        architecture: 'matryoshka_batchtopk',
        k: TARGET_L0,
        temporal_coefficient: 0.5,
      });
    const search = (await page.getByTestId('exp-search').textContent()) ?? '';
    expect(search).toContain(`λ1 ${fmt(best.l1)} gave L0 ${fmt(best.l0)} (target ${TARGET_L0})`);
    for (const p of probes) expect(search).toContain(`λ1 ${fmt(p.l1)} → ${fmt(p.l0)}`);

    // The table from the runs' own numbers.
    const main = runs.slice(2);
    const expRuns: ExperimentRun[] = main.map((r) => {
      expect(r.status).toBe('done');
      expect(last(r).step).toBe(STEPS);
      const [method, seed] = r.name.split(' seed ');
      expect(r.config.seed).toBe(Number(seed));
      return experimentRunOf(
        method,
        Number(seed),
        r.history.tokens_seen.at(-1),
        last(r).metrics,
        last(r).prefixes,
      );
    });
    const want = experimentTable(expRuns);
    expect(want.methods).toEqual(METHODS);

    // The table on screen: every cell is the mean (± interval) of the runs' own numbers.
    const cells = await page
      .getByTestId('exp-table')
      .locator('td')
      .evaluateAll((tds) =>
        tds.map((td) => ({
          method: td.getAttribute('data-method')!,
          metric: td.getAttribute('data-metric')!,
          mean: Number(td.getAttribute('data-mean')),
          text: td.textContent ?? '',
        })),
      );
    expect(cells.length).toBe(want.methods.length * want.metrics.length);
    for (const c of cells) {
      const wc = want.cells[c.method][c.metric];
      if (Number.isFinite(wc.mean)) expect(c.mean, `${c.method} ${c.metric}`).toBe(wc.mean);
      expect(c.text).toBe(`${fmt(wc.mean)}${Number.isFinite(wc.half) ? ` ± ${fmt(wc.half)}` : ''}`);
    }
    const tv = want.cells[METHODS[1]].tv_ratio;
    expect(tv.values).toEqual(main.slice(2).map((r) => last(r).metrics.tv_ratio));
    // Per Matryoshka prefix (d_sae 32: ends 4, 8, 16, 32): each column the runs' own prefix explained
    // variance; ReLU has no prefixes, so its cells there say —.
    const prefixCols = want.metrics.filter((k) => k.startsWith('explained_variance_prefix_'));
    expect(prefixCols).toEqual([1, 2, 3, 4].map((g) => `explained_variance_prefix_${g}`));
    expect(want.cells[METHODS[1]].explained_variance_prefix_1.values).toEqual(
      main.slice(2).map((r) => last(r).prefixes![0].explained_variance),
    );
    for (const k of prefixCols)
      expect(cells.find((c) => c.method === 'ReLU' && c.metric === k)!.text, k).toBe('—');

    // The L0 – explained-variance frontier: one point per method at its means.
    const pts = await page
      .getByTestId('exp-frontier-ev')
      .locator('g.exp-point')
      .evaluateAll((gs) =>
        gs.map((g) => ({
          method: g.getAttribute('data-method')!,
          x: Number(g.getAttribute('data-x')),
          y: Number(g.getAttribute('data-y')),
        })),
      );
    expect(pts).toEqual(
      METHODS.map((m) => ({
        method: m,
        x: want.cells[m].l0.mean,
        y: want.cells[m].explained_variance.mean,
      })),
    );
    expect(await page.getByTestId('exp-frontier-smooth').locator('g.exp-point').count()).toBe(2);

    // The sentences: the same words from the same numbers, quoting the runs' means.
    const sentences = await page
      .getByTestId('exp-sentences')
      .locator('li')
      .evaluateAll((lis) =>
        lis.map((li) => ({ metric: li.getAttribute('data-metric'), text: li.textContent })),
      );
    expect(sentences).toEqual(want.sentences);
    const tvSentence = sentences.find((s) => s.metric === 'tv_ratio')!.text!;
    expect(tvSentence).toContain(fmt(tv.mean));
    expect(tvSentence).toContain(fmt(want.cells.ReLU.tv_ratio.mean));
    // Next to each run, what the method is doing: the notes of its own logged curves.
    const rows = await page
      .getByTestId('exp-runs')
      .locator('tr[data-kind="run"]')
      .evaluateAll((trs) =>
        trs.map((tr) => ({
          id: tr.getAttribute('data-run-id'),
          notes: tr.querySelector('td.exp-notes')?.getAttribute('data-notes'),
        })),
      );
    expect(rows.map((r) => r.id)).toEqual(main.map((r) => r.id));
    // These runs have notes (plain: the temporal term is off; ours: α's range or saturation).
    expect(rows.every((r) => r.notes)).toBe(true);
    for (const [i, row] of rows.entries()) {
      const r = main[i] as unknown as { history: NoteColumns; config: NoteConfig };
      expect(row.notes).toBe(
        methodNotes(r.history, r.config)
          .map((n) => n.id)
          .join(' '),
      );
    }
    // By position: the FFT ratio's chart by default.
    expect(await page.getByTestId('exp-bypos').getAttribute('data-metric')).toBe('fft_hf_ratio');

    // The download holds the same runs, table and search.
    const json = JSON.parse((await download(page, 'exp-dl-json')).toString('utf8'));
    expect(json.runs).toEqual(JSON.parse(JSON.stringify(expRuns)));
    expect(json.table.sentences).toEqual(want.sentences);
    expect(json.l0_search.ReLU.chosen).toBe(best.l1);
    expect(json.by_position.metrics).toContain('fft_hf_ratio');
    await screenshot(page, 'experiment-done');
    w.assertNoErrors();
  }, 180_000);
});
