// Issue 7, last "done when": `npm run cli -- train` on the built-in dataset produces an SAE folder that
// the app imports and shows. The CLI runs as a real child process (scripts/run-ts.mjs, Dawn on
// SwiftShader); the folder's files are then picked in the app's Import control.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, screenshot, startApp, type AppHarness } from './harness';

interface RunView {
  id: string;
  name: string;
  status: string;
  config: Record<string, unknown>;
  history: { step: number[]; l_recon: number[] };
}

describe('CLI output imported by the app', () => {
  let h: AppHarness;
  let out: string;
  beforeAll(async () => {
    h = await startApp();
    out = mkdtempSync(path.join(tmpdir(), 'temposae-cli-app-'));
  });
  afterAll(async () => {
    await h?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('train on builtin:tiny in Node, import the folder in the page: the run and its history appear', async () => {
    const stdout = execFileSync(
      process.execPath,
      [
        'scripts/run-ts.mjs',
        'src/cli/main.ts',
        'train',
        '--dataset',
        'builtin:tiny',
        '--steps',
        '12',
        '--d-sae',
        '32',
        '--batch-seqs',
        '4',
        '--seq-len',
        '32',
        '--metrics-every',
        '3',
        '--l2',
        '0.04',
        '--adapter',
        'swiftshader',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const last = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ command: 'train', status: 'done', step: 12 });
    expect(typeof last.explained_variance).toBe('number');

    const { page, assertNoErrors } = await openPage(h, '?data=builtin:tiny');
    await page.getByTestId('selftest').waitFor({ timeout: 180_000 });
    await page.waitForFunction(() => window.__temposae?.persistence !== undefined, null, { timeout: 30_000 });
    const files = readdirSync(out)
      .filter((n) => !n.startsWith('checkpoints'))
      .map((n) => ({
        name: n,
        mimeType: 'application/octet-stream',
        buffer: readFileSync(path.join(out, n)),
      }));
    await page.getByTestId('import-sae-input').setInputFiles(files);
    await page.waitForFunction(
      () => {
        const rs = (window.__temposae!.runs as () => RunView[])();
        return rs.length === 1 && rs[0].status === 'paused';
      },
      null,
      { timeout: 120_000, polling: 200 },
    );
    const run = (await page.evaluate(() => (window.__temposae!.runs as () => RunView[])()))[0];
    expect(run.name).toMatch(/imported/);
    expect(run.config).toMatchObject({ d_sae: 32, temporal_coefficient: 0.04, context_size: 32 });
    expect(run.history.step).toEqual([3, 6, 9, 12]);
    const points = Number(
      await page.getByTestId('chart-loss-plot').locator('svg').getAttribute('data-points'),
    );
    expect(points).toBeGreaterThan(0);
    await screenshot(page, 'persist-cli-imported');
    assertNoErrors();
  });
});
