// The page's run verbs over an engine whose messages arrive later (as from a Worker): a step's metrics
// reach the page before its reply, so Resume pressed in between must not be undone by the step's reply
// (the run stays running), and the engine never drives one session from two loops at once.
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';
import type { SaeTrainerApi } from '../../../src/sae/trainerApi';
import type { StepMetrics } from '../../../src/sae/types';
import { EngineHost } from '../../../src/engine/engineHost';
import type { EngineEvent, ToEngine } from '../../../src/engine/protocol';
import { backendDeps, EngineClient, type TrainingBackend } from '../../../src/app/engineClient';
import {
  createRun,
  pauseRun,
  resumeRun,
  setEngine,
  setRunStorage,
  stepRun,
  whenIdle,
} from '../../../src/app/trainingLoop';
import { useRunsStore } from '../../../src/store/runsStore';

const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  seqs_per_batch: 2,
  context_size: 4,
  training_tokens: 8 * 400,
  metrics_every: 1,
  eval_every: 0,
  checkpoint_every: 0,
};

let inStep = 0;
let overlap = false;
class SlowTrainer {
  step = 0;
  gpuBytes = 0;
  constructor(readonly cfg: TrainConfig) {}
  trainStep() {
    if (inStep++ > 0) overlap = true;
    this.step++;
  }
  async readMetrics(): Promise<StepMetrics> {
    await new Promise((r) => setTimeout(r, 1));
    inStep--;
    const s = this.step;
    return {
      step: s,
      tokens_seen: s * 8,
      l_recon: 1,
      l_sparse: 0,
      l_temp: 0,
      l_aux: 0,
      loss: 1,
      alpha: 1,
      l_max: 1,
      l0: 1,
      dead_count: 0,
      grad_norm: 1,
      lr: 1,
    };
  }
  destroy() {}
}

function asyncEngine(): EngineClient {
  const backend: TrainingBackend = {
    async openData() {
      const b = {
        S: 2,
        T: 4,
        d: 1,
        x: new Float32Array(8),
        start: new Uint8Array(8),
        valid: new Uint8Array(8).fill(1),
        seqIndex: new Int32Array(2),
      };
      return { next: async () => b };
    },
    createTrainer: async (c) => new SlowTrainer(c) as unknown as SaeTrainerApi,
    yieldToPage: () => new Promise((r) => setTimeout(r, 0)),
    now: () => performance.now(),
  };
  const client = new EngineClient();
  // Messages one at a time, 3 ms apart, each its own task (as a Worker's are): the page runs between a
  // step's metrics event and its reply.
  const queue: (() => void)[] = [];
  let draining = false;
  const deliver = (f: () => void) => {
    queue.push(f);
    if (draining) return;
    draining = true;
    const next = () => {
      const g = queue.shift();
      if (!g) return void (draining = false);
      g();
      setTimeout(next, 3);
    };
    setTimeout(next, 3);
  };
  const host = new EngineHost(backendDeps(backend), (e: EngineEvent) => {
    const copy = structuredClone(e);
    deliver(() => client.receive(copy));
  });
  client.attach('worker', {
    post: (m: ToEngine) => {
      const copy = structuredClone(m);
      setTimeout(() => host.handle(copy), 1);
    },
    close() {},
  });
  return client;
}

const run = (id: string) => useRunsStore.getState().runs.find((r) => r.id === id)!;

beforeEach(() => {
  useRunsStore.setState({ runs: [], selectedRunId: null });
  setRunStorage(null);
  inStep = 0;
  overlap = false;
});

describe('run verbs over a message-passing engine', () => {
  it('Resume pressed when a step’s metrics arrive (before its reply) leaves the run running', async () => {
    setEngine(asyncEngine());
    const id = createRun({ config: cfg, dataKey: 'k', dataLabel: 'data' });
    await stepRun(id);
    const stepping = stepRun(id);
    // The user sees step 2 in the charts and presses Resume at once.
    while (run(id).history.step.at(-1) !== 2) await new Promise((r) => setTimeout(r, 0));
    const resumed = resumeRun(id);
    await stepping;
    await resumed;
    expect(run(id).status).toBe('running');
    await new Promise((r) => setTimeout(r, 30));
    expect(run(id).status).toBe('running');
    await pauseRun(id);
    expect(run(id).status).toBe('paused');
    expect(overlap).toBe(false);
    // Every step once, in order.
    const h = run(id).history.step;
    expect(h).toEqual(Array.from({ length: h.length }, (_, i) => i + 1));
    await whenIdle(id);
  });
});
