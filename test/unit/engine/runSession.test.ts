// RunSession against a fake trainer (metrics a known function of the step) on the real batcher over the
// built-in tiny dataset: what it does after each step follows dueAt, evaluations and checkpoints land at
// the scheduled steps in order, aborting the signal frees the trainer and silences the session, and a
// checkpoint is the same file the whole-state writer makes.
import { describe, expect, it } from 'vitest';
import { createSyntheticSource, syntheticConfig } from '../../../src/data/synthetic';
import type { ActivationBatch } from '../../../src/data/types';
import { RunSession, type SessionEvent, type TrainerSource } from '../../../src/engine/runSession';
import { serializeCheckpoint } from '../../../src/io/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';
import { initialTrainerState, initWeights } from '../../../src/sae/init';
import { openRunBatcher } from '../../../src/sae/runBatcher';
import type { SaeTrainerApi, TrainerState } from '../../../src/sae/trainerApi';
import type { StepMetrics } from '../../../src/sae/types';

const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  d_in: 16,
  d_sae: 8,
  seqs_per_batch: 4,
  context_size: 8,
  training_tokens: 4 * 8 * 12, // 12 steps
  metrics_every: 5,
  eval_every: 4,
  checkpoint_every: 6,
};

class FakeTrainer implements SaeTrainerApi {
  step = 0;
  gpuBytes = 0;
  destroyed = false;
  state: TrainerState;
  constructor(
    readonly cfg: TrainConfig,
    init: TrainerState,
  ) {
    this.state = init;
    this.step = init.step;
  }
  trainStep() {
    this.step++;
  }
  async readMetrics(): Promise<StepMetrics> {
    const s = this.step;
    return {
      step: s,
      tokens_seen: s * 32,
      l_recon: 1 / s,
      l_sparse: 0,
      l_temp: 0,
      l_aux: 0,
      loss: 1 / s,
      alpha: 1,
      l_max: 1,
      l0: 1,
      dead_count: 0,
      grad_norm: 1,
      lr: 0,
    };
  }
  async forward(b: ActivationBatch) {
    const n = b.S * b.T;
    return { f: new Float32Array(n * this.cfg.d_sae), xhat: new Float32Array(b.x) };
  }
  async getWeights() {
    return this.state.weights;
  }
  async getState() {
    return { ...this.state, step: this.step, tokens_seen: this.step * 32 };
  }
  setState() {}
  destroy() {
    this.destroyed = true;
  }
}

async function open(o: { evaluation: 'inline' | 'background'; signal?: AbortSignal; saves?: number[] }) {
  const source = createSyntheticSource(syntheticConfig('tiny', 1234));
  const events: SessionEvent[] = [];
  let trainer: FakeTrainer | null = null;
  const s = await RunSession.open({
    cfg,
    signal: o.signal ?? new AbortController().signal,
    openData: async () => {
      const batcher = await openRunBatcher(source, cfg);
      return { batcher, next: () => batcher.next() };
    },
    createTrainer: async (from: TrainerSource) => {
      if (!('firstBatch' in from)) throw new Error('fresh runs only here');
      trainer = new FakeTrainer(cfg, initialTrainerState(initWeights(cfg, from.firstBatch)));
      return trainer;
    },
    yieldToHost: () => Promise.resolve(),
    now: () => 0,
    onEvent: (e) => events.push(e),
    saveCheckpoint: async (session) => void o.saves?.push(session.step),
    evaluation: o.evaluation,
  });
  return { s: s!, events, trainer: () => trainer! };
}

describe('RunSession', () => {
  it('trains to the budget with metrics, evaluations and checkpoints where dueAt puts them', async () => {
    const saves: number[] = [];
    const { s, events } = await open({ evaluation: 'inline', saves });
    expect(await s.train({ after: () => 'none' })).toBe('done');
    const seq = events
      .filter((e) => e.type !== 'evaluating')
      .map((e) =>
        e.type === 'metrics'
          ? `m${e.metrics.step}`
          : e.type === 'evaluated'
            ? `e${e.evaluation.step}`
            : e.type,
      );
    expect(seq).toEqual(['e4', 'm5', 'e8', 'm10', 'm12', 'e12']);
    expect(saves).toEqual([6, 12]);
    expect(s.latestEvaluation?.step).toBe(12);
    expect(s.latestEvaluation?.result.metrics.tokens).toBeGreaterThan(0);
  });

  it('pausing after a step: metrics and a checkpoint of that step; a further train() goes on from there', async () => {
    const saves: number[] = [];
    const { s, events } = await open({ evaluation: 'inline', saves });
    let n = 0;
    expect(await s.train({ after: () => (++n === 3 ? 'pause' : 'none') })).toBe('pause');
    expect(s.step).toBe(3);
    expect(saves).toEqual([3]);
    expect(events.at(-1)).toMatchObject({ type: 'metrics', flush: true });
    expect(await s.train({ after: () => 'none', stopAt: 7 })).toBe('pause');
    expect(s.step).toBe(7);
    expect(saves).toEqual([3, 6, 7]);
  });

  it('aborting frees the trainer and data; nothing is reported afterwards', async () => {
    const ac = new AbortController();
    const { s, events, trainer } = await open({ evaluation: 'background', signal: ac.signal });
    await s.stepOnce();
    const before = events.length;
    const p = s.train({ after: () => 'none' });
    ac.abort();
    expect(await p).toBe('cancelled');
    expect(trainer().destroyed).toBe(true);
    expect(s.closed).toBe(true);
    expect(events.length).toBe(before);
  });

  it('writes the same checkpoint file as the whole-state writer (a trainer without per-tensor reads)', async () => {
    const { s, trainer } = await open({ evaluation: 'inline' });
    await s.stepOnce();
    await s.stepOnce();
    const parts: Uint8Array[] = [];
    const meta = s.checkpointMeta({ run_name: 'x' });
    const step = await s.writeCheckpoint({ write: (b) => void parts.push(b.slice()) }, { run_name: 'x' });
    expect(step).toBe(2);
    const whole = serializeCheckpoint({
      ...meta,
      trainer: await trainer().getState(),
      created_at: meta.created_at,
    });
    const got = Buffer.concat(parts);
    // created_at differs by the clock between the two calls: compare with it replaced.
    const strip = (b: Uint8Array) => new TextDecoder().decode(b).replace(/"created_at\\":\\"[^\\]*\\"/, '');
    expect(strip(got)).toBe(strip(whole));
    expect(meta.data_state).toEqual(s.batcher!.getState());
  });
});
