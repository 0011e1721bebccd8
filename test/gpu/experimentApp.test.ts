// The app's experiment and the CLI's `experiment` give the same table.json (issue 14): the app's own
// modules (the built-in data as the page loads it, its draft config, the experiment session driving
// trainingLoop with the page's backend, on Dawn's device here) train 2 methods × 2 seeds at matched L0
// (λ1 searched for ReLU, k set for Matryoshka BatchTopK + ours); the experiment file the panel downloads
// is given to `cli experiment`, and its table.json is the app's byte for byte. Every number in the app's
// table is a run's own final held-out evaluation, the per-prefix explained variance too (the app's
// EvalRecord.prefixes, the CLI's eval.json literature.groups).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { experimentConfigJson, experimentReportJson } from '../../src/analysis/experimentPlan';
import { loadBuiltin } from '../../src/app/dataSession';
import { experimentConfigFor, startExperiment, useExperimentStore } from '../../src/app/experimentSession';
import { createBrowserBackend } from '../../src/app/trainingBackend';
import { setRunStorage, setTrainingBackend } from '../../src/app/trainingLoop';
import { useAnalysisStore } from '../../src/store/analysisStore';
import { findRun } from '../../src/store/runsStore';
import { useWorkspaceStore } from '../../src/store/workspaceStore';
import { getTestGpu } from '../helpers/dawn';
import { cli, tempDir } from './cli-helpers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const MAT = 'Matryoshka BatchTopK + ours λ2=0.5';

describe('the app’s experiment = the CLI’s experiment', () => {
  it('builtin:tiny, ReLU / Matryoshka BatchTopK + ours × 2 seeds at L0 6: the same table.json', async () => {
    const gpu = await getTestGpu();
    setTrainingBackend(createBrowserBackend(() => Promise.resolve(gpu)));
    setRunStorage(null);
    const loaded = loadBuiltin('tiny');
    const draft = {
      ...useWorkspaceStore.getState().draft,
      d_sae: 32,
      seqs_per_batch: 4,
      context_size: 32,
      metrics_every: 5,
      eval_every: 0,
    };
    const x = experimentConfigFor({
      name: 'app = cli',
      dataKey: loaded.key,
      draft,
      picks: [
        { architecture: 'relu', temporal_coefficient: 0 },
        { architecture: 'matryoshka_batchtopk', temporal_coefficient: 0.5 },
      ],
      seeds: [1, 2],
      trainingTokens: 4 * 4 * 32,
      targetL0: 6,
      l0Search: { steps: 3, probes: 2 },
    });
    expect(x.methods.map((m) => m.name)).toEqual(['ReLU', MAT]);
    expect(x.methods[1].config.k).toBe(6);
    expect(x.methods[1].target_l0).toBeUndefined();

    await startExperiment(x, loaded.key);
    const rec = useExperimentStore.getState().record!;
    expect(rec.status, rec.error ?? '').toBe('done');
    const report = rec.report!;
    expect(report.runs.length).toBe(4);
    expect(Object.keys(report.l0_search)).toEqual(['ReLU']);
    // Each table value is its run's own final held-out evaluation in the app.
    for (const item of Object.values(rec.items)) {
      const run = findRun(item.runId)!;
      expect(run.status).toBe('done');
      const ev = useAnalysisStore.getState().byRun[item.runId].evals.at(-1)!;
      if (item.kind === 'probe') {
        const s = report.l0_search[item.method];
        expect(s.probes.map((p) => p.l0)).toContain(ev.metrics.l0);
        continue;
      }
      expect(run.config.seed).toBe(item.seed);
      const cell = report.table.cells[item.method].explained_variance;
      expect(cell.values[cell.seeds.indexOf(item.seed)]).toBe(ev.metrics.explained_variance);
      if (item.method === 'ReLU') expect(run.config.l1_coefficient).toBe(report.l0_search.ReLU.chosen);
      else
        expect(run.config).toMatchObject({
          architecture: 'matryoshka_batchtopk',
          k: 6,
          temporal_coefficient: 0.5,
        });
      // Per Matryoshka prefix: each column is the evaluation's own prefix explained variance; ReLU has
      // no prefixes, so no values there (— in the table), never a number.
      const prefixes = item.method === MAT ? ev.prefixes! : [];
      if (item.method === MAT) expect(prefixes.length).toBe(4); // d_sae/8, /4, /2 and d_sae
      prefixes.forEach((g, i) => {
        const pc = report.table.cells[item.method][`explained_variance_prefix_${i + 1}`];
        expect(pc.values[pc.seeds.indexOf(item.seed)]).toBe(g.explained_variance);
      });
      if (item.method === 'ReLU') expect(report.table.cells.ReLU.explained_variance_prefix_1.n).toBe(0);
    }

    // The CLI, with the experiment file the panel downloads.
    const dir = tempDir('exp-app');
    dirs.push(dir);
    const file = path.join(dir, 'experiment.json');
    writeFileSync(file, experimentConfigJson(x));
    const out = path.join(dir, 'out');
    const r = await cli(['experiment', '--config', file, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(report.table.metrics.slice(0, 5)).toEqual([
      'explained_variance',
      ...[1, 2, 3, 4].map((g) => `explained_variance_prefix_${g}`),
    ]);
    // By position too: each prefix's line from the evaluations (mean over the Matryoshka seeds).
    expect(report.by_position.metrics).toEqual(
      expect.arrayContaining([1, 2, 3, 4].map((g) => `explained_variance_prefix_${g}`)),
    );
    expect(report.by_position.cells[MAT].explained_variance_prefix_1.n[0]).toBe(2);
    // One method with prefixes: nothing to compare them with, so no prefix sentence (ReLU is not in one).
    expect(report.table.sentences.some((s) => s.metric.startsWith('explained_variance_prefix'))).toBe(false);
    expect(readFileSync(path.join(out, 'table.json'), 'utf8')).toBe(experimentReportJson(report));
  }, 300_000);
});
