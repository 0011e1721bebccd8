// The app's experiment session (src/app/experimentSession.ts) against the real run machinery
// (trainingLoop, RunSession, the built-in tiny data) with a fake trainer: runs one after another,
// Pause pauses the run in training, a page that died mid-experiment comes back 'interrupted' and
// Resume finishes without training the finished runs again, the table is the runs' own final
// evaluations, and a deleted run stops the experiment with a message naming it.
import { beforeEach, describe, expect, it } from 'vitest';
import { loadBuiltin, openRunData } from '../../../src/app/dataSession';
import {
  EXPERIMENT_STORAGE_KEY,
  experimentConfigFor,
  experimentSettled,
  installExperiments,
  pauseExperiment,
  resumeExperiment,
  startExperiment,
  useExperimentStore,
} from '../../../src/app/experimentSession';
import { deleteRun, setRunStorage, setTrainingBackend } from '../../../src/app/trainingLoop';
import type { ActivationBatch } from '../../../src/data/types';
import type { TrainConfig } from '../../../src/sae/config';
import type { SaeTrainerApi } from '../../../src/sae/trainerApi';
import type { StepMetrics } from '../../../src/sae/types';
import { useAnalysisStore } from '../../../src/store/analysisStore';
import { useAppStore } from '../../../src/store/appStore';
import { findRun, useRunsStore } from '../../../src/store/runsStore';
import { useWorkspaceStore } from '../../../src/store/workspaceStore';

/** f: feature n mod m on at token n (value 1 + λ2), x̂ = x / 2; metrics a known function of the step. */
class FakeTrainer implements SaeTrainerApi {
  step = 0;
  gpuBytes = 0;
  constructor(readonly cfg: TrainConfig) {}
  trainStep() {
    this.step++;
  }
  async readMetrics(): Promise<StepMetrics> {
    await new Promise((r) => setTimeout(r, 1));
    const s = this.step;
    return {
      step: s,
      tokens_seen: s * this.cfg.seqs_per_batch * this.cfg.context_size,
      l_recon: 1 / s,
      l_sparse: 0.5,
      l_temp: 0,
      l_aux: 0,
      loss: 1 / s,
      alpha: 1,
      l_max: 1,
      l0: 1,
      dead_count: 0,
      grad_norm: 1,
      lr: this.cfg.lr,
    } as StepMetrics;
  }
  async forward(b: ActivationBatch) {
    const m = this.cfg.d_sae,
      N = b.S * b.T;
    const f = new Float32Array(N * m);
    for (let n = 0; n < N; n++) f[n * m + (n % m)] = 1 + this.cfg.temporal_coefficient + this.cfg.seed / 100;
    return { f, xhat: b.x.map((v) => v / 2) };
  }
  async getWeights() {
    const { d_in, d_sae } = this.cfg;
    const W_dec = new Float32Array(d_sae * d_in);
    for (let i = 0; i < d_sae; i++) W_dec[i * d_in + (i % d_in)] = 1;
    return {
      d_in,
      d_sae,
      W_enc: new Float32Array(d_in * d_sae),
      b_enc: new Float32Array(d_sae),
      W_dec,
      b_dec: new Float32Array(d_in),
    };
  }
  getState(): never {
    throw new Error('unused');
  }
  setState() {}
  destroy() {}
}

let created: TrainConfig[] = [];
const memory = new Map<string, string>();

beforeEach(() => {
  created = [];
  memory.clear();
  (globalThis as { localStorage?: unknown }).localStorage = {
    getItem: (k: string) => memory.get(k) ?? null,
    setItem: (k: string, v: string) => void memory.set(k, v),
    removeItem: (k: string) => void memory.delete(k),
  };
  useExperimentStore.setState({ record: null });
  useRunsStore.setState({ runs: [], selectedRunId: null });
  setRunStorage(null);
  setTrainingBackend({
    openData: openRunData,
    createTrainer: async (cfg) => {
      created.push(cfg);
      return new FakeTrainer(cfg) as unknown as SaeTrainerApi;
    },
    yieldToPage: () => new Promise((r) => setTimeout(r, 0)),
    now: () => performance.now(),
  });
});

function config(key: string, steps = 20) {
  const draft = {
    ...useWorkspaceStore.getState().draft,
    d_sae: 8,
    seqs_per_batch: 2,
    context_size: 32,
    metrics_every: 5,
    eval_every: 0,
  };
  return experimentConfigFor({
    name: 'unit',
    dataKey: key,
    draft,
    picks: [
      { architecture: 'relu', temporal_coefficient: 0 },
      { architecture: 'relu', temporal_coefficient: 0.5 },
    ],
    seeds: [1, 2],
    trainingTokens: steps * 64,
    l0Search: { steps: 3, probes: 2 },
  });
}

const until = async (f: () => boolean, what: string) => {
  for (let i = 0; i < 2000 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!f()) throw new Error(`timed out waiting for ${what}`);
};

describe('experiment session', () => {
  it('pause, a page that died, resume: finished runs are not trained again; the table is their evaluations', async () => {
    const data = loadBuiltin('tiny');
    const x = config(data.key);
    expect(x.dataset).toBe('builtin:tiny');
    expect(x.base.seed).toBeUndefined();
    void startExperiment(x, data.key);
    expect(() => startExperiment(x, data.key)).toThrow('An experiment is running');
    const rec = () => useExperimentStore.getState().record!;
    await until(() => {
      const items = Object.values(rec().items);
      return items.length === 2 && (findRun(items[1].runId)?.progress.step ?? 0) >= 5;
    }, 'the second run to train');
    await pauseExperiment();
    expect(rec().status).toBe('paused');
    const [first, second] = Object.values(rec().items);
    expect(first.outcome).toBeDefined();
    expect(findRun(first.runId)!.status).toBe('done');
    expect(findRun(second.runId)!.status).toBe('paused');
    expect(created.length).toBe(2);

    // The page dies while the experiment runs: the saved record says 'running'; at the next start it
    // is 'interrupted'.
    const saved = JSON.parse(memory.get(EXPERIMENT_STORAGE_KEY)!);
    memory.set(EXPERIMENT_STORAGE_KEY, JSON.stringify({ ...saved, status: 'running' }));
    useExperimentStore.setState({ record: null });
    installExperiments();
    expect(rec().status).toBe('interrupted');
    await resumeExperiment();
    await experimentSettled();
    expect(rec().status, rec().error ?? '').toBe('done');
    // Two more trainers (the third and fourth runs); the paused one went on with its own.
    expect(created.map((c) => [c.temporal_coefficient, c.seed])).toEqual([
      [0, 1],
      [0, 2],
      [0.5, 1],
      [0.5, 2],
    ]);
    const report = rec().report!;
    const runs = useRunsStore.getState().runs;
    expect(runs.map((r) => r.name)).toEqual([
      'ReLU seed 1',
      'ReLU seed 2',
      'ReLU + ours λ2=0.5 seed 1',
      'ReLU + ours λ2=0.5 seed 2',
    ]);
    report.runs.forEach((r, i) => {
      const ev = useAnalysisStore.getState().byRun[runs[i].id].evals.at(-1)!;
      expect(ev.step).toBe(20);
      expect(r.metrics.l1).toBe(ev.metrics.l1);
      expect(r.metrics.explained_variance).toBe(ev.metrics.explained_variance);
      expect(r.metrics.tokens_seen).toBe(20 * 64);
    });
    // l1 = the one active feature's value: 1 + λ2 + seed/100 (as Float32).
    const l1 = report.runs.filter((r) => r.method === 'ReLU + ours λ2=0.5').map((r) => r.metrics.l1);
    expect(l1[0]).toBeCloseTo(1.51, 6);
    expect(l1[1]).toBeCloseTo(1.52, 6);
    expect(report.table.cells['ReLU + ours λ2=0.5'].explained_variance.n).toBe(2);
    expect(JSON.parse(memory.get(EXPERIMENT_STORAGE_KEY)!).status).toBe('done');
  });

  it('a deleted run stops the experiment with its name; no data, no experiment', async () => {
    const data = loadBuiltin('tiny');
    void startExperiment(config(data.key, 400), data.key);
    const rec = () => useExperimentStore.getState().record!;
    await until(() => Object.keys(rec().items).length === 1, 'the first run');
    await deleteRun(Object.values(rec().items)[0].runId);
    await experimentSettled();
    expect(rec().status).toBe('error');
    expect(rec().error).toContain('“ReLU seed 1” was deleted');
    expect(() => config('no-such-data')).toThrow('Load data first');
  });

  it('a record the browser will not store is said in words; the experiment goes on in the page', async () => {
    (globalThis as { localStorage?: unknown }).localStorage = {
      getItem: () => null,
      setItem: () => {
        throw new Error('The quota has been exceeded.');
      },
      removeItem: () => {},
    };
    const data = loadBuiltin('tiny');
    await startExperiment(config(data.key, 5), data.key);
    expect(useExperimentStore.getState().record!.status).toBe('done');
    const m = useAppStore.getState().messages.filter((x) => x.title === 'The experiment could not be saved');
    expect(m.length).toBe(1);
    expect(m[0].detail).toContain('The quota has been exceeded.');
  });
});
