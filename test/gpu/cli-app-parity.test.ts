// The app and the CLI drive the same RunSession with the same defaults: the app's own modules (the
// built-in data as the page loads it, its draft config, trainingLoop with the page's backend, on Dawn's
// device here) and `cli train` with only the shape flags give the same config — including the built-in
// data's recommended λ1 and lr — the same metric history step for step, and the same final evaluation.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBuiltin } from '../../src/app/dataSession';
import { evaluationSettled } from '../../src/app/evaluation';
import { createBrowserBackend } from '../../src/app/trainingBackend';
import { createRun, setRunStorage, setTrainingBackend, startRun, whenIdle } from '../../src/app/trainingLoop';
import { SYNTHETIC_RECOMMENDED } from '../../src/data/synthetic';
import { historyFromJson } from '../../src/io/history';
import { METRIC_KEYS, findRun } from '../../src/store/runsStore';
import { useAnalysisStore } from '../../src/store/analysisStore';
import { useWorkspaceStore } from '../../src/store/workspaceStore';
import { loadLatestCheckpoint } from '../../src/cli/runFolder';
import { cli, tempDir } from './cli-helpers';
import { getTestGpu } from '../helpers/dawn';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('same data + same config + same seed ⇒ same numbers in the app and the CLI', () => {
  it('builtin:tiny, 12 steps, defaults from the data', async () => {
    const gpu = await getTestGpu();
    // The app: the page's modules, with its backend on this device and no storage.
    setTrainingBackend(createBrowserBackend(() => Promise.resolve(gpu)));
    setRunStorage(null);
    const loaded = loadBuiltin('tiny');
    const shape = {
      d_sae: 32,
      seqs_per_batch: 4,
      context_size: 32,
      metrics_every: 5,
      eval_every: 0,
      seed: 3,
    };
    const config = { ...useWorkspaceStore.getState().draft, ...shape, training_tokens: 12 * 4 * 32 };
    expect(config).toMatchObject(SYNTHETIC_RECOMMENDED.tiny);
    const id = createRun({ config, dataKey: loaded.key, dataLabel: loaded.summary.label });
    await startRun(id);
    await whenIdle(id);
    await evaluationSettled(id);
    const run = findRun(id)!;
    expect(run.status, run.error ?? '').toBe('done');
    const appEval = useAnalysisStore.getState().byRun[id].evals.at(-1)!;

    // The CLI, with the same shape flags and nothing else.
    const out = tempDir('parity');
    dirs.push(out);
    const flags = ['--dataset', 'builtin:tiny', '--d-sae', '32', '--batch-seqs', '4', '--seq-len', '32'];
    const r = await cli([
      'train',
      ...flags,
      '--metrics-every',
      '5',
      '--eval-every',
      '0',
      '--seed',
      '3',
      '--steps',
      '12',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('recommended for the built-in data');
    const ck = loadLatestCheckpoint(out)!.checkpoint;
    expect(ck.config).toEqual(run.config);

    const cliHistory = historyFromJson(readFileSync(`${out}/history.json`, 'utf8'), 'history.json');
    expect(cliHistory.train.map((row) => row.step)).toEqual(run.history.step);
    expect(run.history.step).toEqual([5, 10, 12]);
    for (const k of METRIC_KEYS)
      cliHistory.train.forEach((row, i) => expect(row[k], `${k} at row ${i}`).toBe(run.history[k][i]));
    // The final evaluation: of the same weights on the same held-out batches.
    expect(appEval.step).toBe(12);
    for (const [k, v] of Object.entries(appEval.metrics))
      if (typeof v === 'number' && Number.isFinite(v)) expect(r.json[k], k).toBeCloseTo(v, 6);
    expect(r.json.mmcs).toBeCloseTo(appEval.metrics.mmcs!, 6);
  });
});
