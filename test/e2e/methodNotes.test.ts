// "What the method is doing" beside the run summary, end to end: a run on the built-in tiny data with a
// λ2 far too small to matter is started from the page, and the panel names the negligible temporal
// term with the numbers of the run's own logged curves (the same notes methodNotes gives for the
// history the page holds, read through the read-only test hook).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodNotes, type NoteColumns, type NoteConfig } from '../../src/analysis/methodNotes';
import { openPage, screenshot, startApp, type AppHarness } from './harness';

const LINK =
  '?data=builtin:tiny&d_sae=64&seqs_per_batch=4&context_size=32&training_tokens=6400000&metrics_every=5&lr=0.01&seed=7&temporal_coefficient=0.00001';

interface RunView {
  id: string;
  config: NoteConfig;
  history: NoteColumns;
}

describe('method notes panel', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('names a negligible temporal term next to the run, with the run’s own numbers', async () => {
    const w = await openPage(h, LINK);
    const { page } = w;
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await page.getByTestId('data-summary').waitFor();
    await page.getByTestId('btn-primary').click();
    await page.waitForFunction(
      () => {
        const all = (window.__temposae!.runs as () => RunView[])();
        const sel = (window.__temposae!.selectedRunId as () => string | null)();
        return (all.find((r) => r.id === sel)?.history.step.length ?? 0) >= 8;
      },
      undefined,
      { timeout: 120_000, polling: 200 },
    );
    await page.getByTestId('btn-primary').click(); // pause: the history stops growing
    await page.waitForTimeout(500);
    const run = await page.evaluate(() => {
      const all = (window.__temposae!.runs as () => RunView[])();
      const sel = (window.__temposae!.selectedRunId as () => string | null)();
      return all.find((r) => r.id === sel)!;
    });
    const want = methodNotes(run.history, run.config);
    expect(want.map((n) => n.id)).toContain('temporal-negligible');
    const panel = page.getByTestId('method-notes');
    await expect
      .poll(async () => panel.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-note'))))
      .toEqual(want.map((n) => n.id));
    const text = (await panel.textContent()) ?? '';
    for (const n of want) expect(text).toContain(n.text);
    expect(text).toContain('Try λ2 = ');
    await screenshot(page, 'method-notes');
    w.assertNoErrors();
    await page.close();
  });
});
