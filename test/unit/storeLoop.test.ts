// The training loop's state machine against a fake trainer whose metrics are a known function of the
// step, so the store's history can be checked exactly.
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import type { SaeTrainerApi } from '../../src/sae/trainerApi';
import type { StepMetrics } from '../../src/sae/types';
import type { ActivationBatch } from '../../src/data/types';
import { useRunsStore } from '../../src/store/runsStore';
import { useAppStore } from '../../src/store/appStore';
import {
  adviceFor,
  createRun,
  deleteRun,
  getRunHandles,
  makeControlRun,
  pauseRun,
  resetRun,
  resumeRun,
  setTrainingBackend,
  startRun,
  stepRun,
  stopRun,
  whenIdle,
} from '../../src/app/trainingLoop';
import { onRunEvent, type RunEvent } from '../../src/app/runEvents';

const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  seqs_per_batch: 2,
  context_size: 4,
  training_tokens: 8 * 20, // 20 steps
  metrics_every: 5,
};

function batch(i: number): ActivationBatch {
  return {
    S: 2,
    T: 4,
    d: 1,
    x: new Float32Array(8).fill(i),
    start: new Uint8Array(8),
    valid: new Uint8Array(8).fill(1),
    seqIndex: new Int32Array([i, i]),
  };
}

/** loss = 1/step; l_temp carries λ2 so control runs are visible; records the batches it saw. */
class FakeTrainer implements SaeTrainerApi {
  step = 0;
  gpuBytes = 0;
  seen: number[] = [];
  destroyed = false;
  failAtRead: number | null = null;
  constructor(readonly cfg: TrainConfig) {}
  trainStep(b: ActivationBatch) {
    this.seen.push(b.x[0]);
    this.step++;
  }
  async readMetrics(): Promise<StepMetrics> {
    await Promise.resolve();
    if (this.failAtRead !== null && this.step >= this.failAtRead)
      throw new Error(`Training diverged at step ${this.step}: L_recon is NaN.`);
    const s = this.step;
    return {
      step: s,
      tokens_seen: s * 8,
      l_recon: 1 / s,
      l_sparse: 0.5,
      l_temp: this.cfg.temporal_coefficient,
      l_aux: 0,
      loss: 1 / s + 0.02,
      alpha: 0.5,
      l_max: 1,
      l0: 3,
      dead_count: 0,
      grad_norm: 1,
      lr: this.cfg.lr,
    };
  }
  forward(): never {
    throw new Error('unused');
  }
  getWeights(): never {
    throw new Error('unused');
  }
  getState(): never {
    throw new Error('unused');
  }
  setState() {}
  destroy() {
    this.destroyed = true;
  }
}

let trainers: FakeTrainer[] = [];
let createError: string | null = null;
let clock = 0;

beforeEach(() => {
  trainers = [];
  createError = null;
  useRunsStore.setState({ runs: [], selectedRunId: null });
  useAppStore.setState({ messages: [] });
  setTrainingBackend({
    async openData() {
      let i = 0;
      return { next: async () => batch(++i) };
    },
    async createTrainer(c) {
      if (createError) throw new Error(createError);
      const t = new FakeTrainer(c);
      trainers.push(t);
      return t;
    },
    yieldToPage: () => new Promise((r) => setTimeout(r, 0)),
    now: () => (clock += 100),
  });
});

const run = (id: string) => useRunsStore.getState().runs.find((r) => r.id === id)!;

describe('advice after a failure', () => {
  const named = (name: string) => Object.assign(new Error('x'), { name });
  it('says what to change, by kind of error', () => {
    expect(adviceFor(named('TrainingDivergedError'), { ...cfg, lr: 0.5 })).toContain(
      'lower the learning rate (it is 0.5)',
    );
    expect(adviceFor(named('ConfigRefusedError'), cfg)).toContain('d_sae');
    expect(adviceFor(named('DataFileError'), cfg)).toContain('drop another');
    expect(adviceFor(new Error('?'), cfg)).toContain('Reset');
  });
});

describe('training loop state machine', () => {
  it('start trains to the token budget, reading metrics every metrics_every steps', async () => {
    const events: RunEvent[] = [];
    const off = onRunEvent((e) => events.push(e));
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    expect(run(id).status).toBe('ready');
    await startRun(id);
    expect(run(id).status).toBe('running');
    await whenIdle(id);
    off();
    expect(run(id).status).toBe('done');
    expect(run(id).history.step).toEqual([5, 10, 15, 20]);
    expect(run(id).history.l_recon).toEqual([1 / 5, 1 / 10, 1 / 15, 1 / 20]);
    expect(run(id).progress.step).toBe(20);
    // 8 tokens per 100 ms of fake clock between samples → 5 steps·8 tokens / 0.1·k s.
    expect(run(id).progress.tokensPerSec).toBeGreaterThan(0);
    expect(run(id).progress.etaSec).toBe(0);
    // The first batch initialises the trainer and is trained on as step 1; no batch is skipped.
    expect(trainers[0].seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'created',
      'started',
      'metrics',
      'metrics',
      'metrics',
      'metrics',
      'done',
    ]);
  });

  it('pause stops after the current step and records it; resume continues from there', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await startRun(id);
    await pauseRun(id);
    expect(run(id).status).toBe('paused');
    const t = trainers[0];
    const pausedAt = t.step;
    expect(pausedAt).toBeLessThan(20);
    // The paused step's metrics are in the history (the charts show where it stopped).
    expect(run(id).history.step.at(-1)).toBe(pausedAt);
    await resumeRun(id);
    expect(run(id).status).toBe('running');
    await whenIdle(id);
    expect(run(id).status).toBe('done');
    expect(t.seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // No step is recorded twice.
    expect(new Set(run(id).history.step).size).toBe(run(id).history.step.length);
  });

  it('step from ready builds, trains exactly one step and leaves the run paused', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await stepRun(id);
    expect(run(id).status).toBe('paused');
    expect(run(id).history.step).toEqual([1]);
    await stepRun(id);
    await stepRun(id);
    expect(run(id).history.step).toEqual([1, 2, 3]);
    expect(trainers).toHaveLength(1);
  });

  it('reset frees the trainer and history; a restart repeats the same batches', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await stepRun(id);
    await stepRun(id);
    await resetRun(id);
    expect(trainers[0].destroyed).toBe(true);
    expect(run(id).status).toBe('ready');
    expect(run(id).history.step).toEqual([]);
    expect(run(id).progress.step).toBe(0);
    expect(getRunHandles(id)).toBeNull();
    await stepRun(id);
    expect(trainers[1].seen).toEqual([1]);
  });

  it('reset while running stops the loop without writing stale metrics', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await startRun(id);
    await resetRun(id);
    expect(run(id).status).toBe('ready');
    await new Promise((r) => setTimeout(r, 20));
    expect(run(id).history.step).toEqual([]);
  });

  it('stop ends the run early and keeps its trainer for analysis', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await startRun(id);
    await stopRun(id);
    expect(run(id).status).toBe('stopped');
    expect(getRunHandles(id)?.trainer).toBe(trainers[0]);
    await resumeRun(id); // a stopped run does not resume
    expect(run(id).status).toBe('stopped');
  });

  it('a control run copies config and seed with λ2 = 0', async () => {
    const id = createRun({ config: { ...cfg, seed: 7 }, dataKey: 'k', dataLabel: 'data', name: 'A' });
    const ctl = makeControlRun(id);
    const r = run(ctl);
    expect(r.config).toEqual({ ...cfg, seed: 7, temporal_coefficient: 0 });
    expect(r.controlOf).toBe(id);
    expect(r.name).toContain('control');
    expect(useRunsStore.getState().selectedRunId).toBe(ctl);
    await stepRun(ctl);
    expect(r.dataKey).toBe('k');
    expect(run(ctl).history.l_temp).toEqual([0]);
  });

  it('a trainer that cannot be built puts the run in error with the reason, shown at the top', async () => {
    createError = 'This config needs 9.1 GiB of GPU memory; the adapter allows 4 GiB per buffer.';
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await startRun(id);
    expect(run(id).status).toBe('error');
    expect(run(id).error).toContain(createError);
    expect(run(id).error).toContain('Reset');
    const msg = useAppStore.getState().messages.at(-1)!;
    expect(msg.level).toBe('error');
    expect(msg.detail).toContain('9.1 GiB');
    // Reset clears the error so the user can try again.
    createError = null;
    await resetRun(id);
    expect(run(id).status).toBe('ready');
    expect(run(id).error).toBeNull();
  });

  it('a divergence at readback stops the run with the trainer’s message and keeps earlier history', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await stepRun(id);
    trainers[0].failAtRead = 7;
    await resumeRun(id);
    await whenIdle(id);
    expect(run(id).status).toBe('error');
    expect(run(id).error).toContain('diverged at step 10');
    expect(run(id).error).toContain('Reset'); // a plain Error gets the generic advice
    expect(run(id).history.step).toEqual([1, 5]);
  });

  it('batches read-backs into the store at most every FLUSH_MS, with everything there when it stops', async () => {
    // A fast GPU: 1 ms of clock per call, so 20 read-backs arrive well within one flush interval.
    const fast = { ...cfg, training_tokens: 8 * 100, metrics_every: 5 };
    setTrainingBackend({
      async openData() {
        let i = 0;
        return { next: async () => batch(++i) };
      },
      async createTrainer(c) {
        const t = new FakeTrainer(c);
        trainers.push(t);
        return t;
      },
      yieldToPage: () => Promise.resolve(),
      now: () => (clock += 1),
    });
    const id = createRun({ config: fast, dataKey: 'k', dataLabel: 'data' });
    let historyWrites = 0;
    const off = useRunsStore.subscribe((s, prev) => {
      const a = s.runs.find((r) => r.id === id)?.history;
      const b = prev.runs.find((r) => r.id === id)?.history;
      if (a !== b) historyWrites++;
    });
    let events = 0;
    const offEv = onRunEvent((e) => (e.type === 'metrics' ? events++ : 0));
    await startRun(id);
    await whenIdle(id);
    off();
    offEv();
    expect(events).toBe(20); // one event per read-back
    expect(run(id).history.step).toEqual(Array.from({ length: 20 }, (_, i) => 5 * (i + 1)));
    expect(historyWrites).toBeLessThan(5); // but few store writes (first one, then on stop)
  });

  it('delete frees the GPU memory and removes the run', async () => {
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await stepRun(id);
    await deleteRun(id);
    expect(trainers[0].destroyed).toBe(true);
    expect(useRunsStore.getState().runs).toEqual([]);
  });
});
