// The engine protocol on the in-process transport, with every message passed through structuredClone
// (as postMessage to a Worker would: plain data only, transferred buffers detached) and delivered
// asynchronously: a command gives its events and reply, a trainer's failure keeps its kind, a device
// fault reaches the page, closing a run aborts it (nothing reported after), commands of an old build are
// refused, and page-made data is read from the page by request.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/sae/config';
import type { SaeTrainerApi } from '../../../src/sae/trainerApi';
import type { StepMetrics } from '../../../src/sae/types';
import type { ActivationBatch } from '../../../src/data/types';
import { EngineHost } from '../../../src/engine/engineHost';
import type { EngineEvent, ToEngine } from '../../../src/engine/protocol';
import type { SessionEvent } from '../../../src/engine/runSession';
import { backendDeps, EngineClient, type TrainingBackend } from '../../../src/app/engineClient';
import { workerDeps } from '../../../src/engine/workerDeps';
import { createSyntheticSource, syntheticConfig } from '../../../src/data/synthetic';
import { openRunBatcher } from '../../../src/sae/runBatcher';

const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  d_in: 1,
  seqs_per_batch: 2,
  context_size: 4,
  training_tokens: 8 * 20, // 20 steps
  metrics_every: 5,
  eval_every: 0,
  checkpoint_every: 0,
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

class FakeTrainer implements SaeTrainerApi {
  step = 0;
  gpuBytes = 0;
  destroyed = false;
  failAt: number | null = null;
  constructor(readonly cfg: TrainConfig) {}
  trainStep() {
    this.step++;
  }
  async readMetrics(): Promise<StepMetrics> {
    await Promise.resolve();
    if (this.failAt !== null && this.step >= this.failAt) {
      const e = new Error(`Training diverged at step ${this.step}: L_recon is NaN.`);
      e.name = 'TrainingDivergedError';
      throw e;
    }
    const s = this.step;
    return {
      step: s,
      tokens_seen: s * 8,
      l_recon: 1 / s,
      l_sparse: 0.5,
      l_temp: 0,
      l_aux: 0,
      loss: 1 / s,
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

/** A host and a client joined as a Worker would join them: cloned messages, delivered later. */
function cloned(host: (post: (e: EngineEvent, t?: Transferable[]) => void) => EngineHost) {
  const client = new EngineClient();
  const seen: EngineEvent[] = [];
  const h = host((e, t) => {
    const copy = structuredClone(e, { transfer: t ?? [] });
    seen.push(copy);
    setTimeout(() => client.receive(copy), 0);
  });
  client.attach('in-process', {
    post: (m: ToEngine, t) => {
      const copy = structuredClone(m, { transfer: t ?? [] });
      setTimeout(() => h.handle(copy), 0);
    },
    close() {},
  });
  return { client, host: h, seen };
}

function fakeEngine() {
  const trainers: FakeTrainer[] = [];
  const backend: TrainingBackend = {
    async openData() {
      let i = 0;
      return { next: async () => batch(++i) };
    },
    async createTrainer(c) {
      const t = new FakeTrainer(c);
      trainers.push(t);
      return t;
    },
    yieldToPage: () => new Promise((r) => setTimeout(r, 0)),
    now: () => 0,
  };
  const e = cloned((post) => new EngineHost(backendDeps(backend), post));
  const events: { runId: string; gen: number; e: SessionEvent }[] = [];
  e.client.onSession((runId, gen, ev) => events.push({ runId, gen, e: ev }));
  // The schedule's checkpoints are asked of the page (the loop waits for the answer).
  const saves: { runId: string; step: number }[] = [];
  e.client.handle('saveCheckpoint', async ({ runId, step }) => {
    saves.push({ runId, step });
    return null;
  });
  return { ...e, trainers, events, saves };
}

describe('engine protocol (in-process transport, cloned messages)', () => {
  it('open + train: the session events arrive tagged with the run and build, then the reply', async () => {
    const { client, events, trainers, saves } = fakeEngine();
    const hello = await client.call('hello', {});
    expect(hello.kind).toBe('in-process');
    expect(await client.call('open', { runId: 'r1', gen: 1, cfg, dataKey: 'k', restore: null })).toEqual({
      step: 0,
      tokensSeen: 0,
    });
    const r = await client.call('train', { runId: 'r1', gen: 1 });
    expect(r).toEqual({ end: 'done', step: 20 });
    const steps = events
      .filter((x) => x.e.type === 'metrics')
      .map((x) => (x.e as { metrics: StepMetrics }).metrics.step);
    expect(steps).toEqual([5, 10, 15, 20]);
    expect(events.every((x) => x.runId === 'r1' && x.gen === 1)).toBe(true);
    expect(trainers).toHaveLength(1);
    // checkpoint_every 0: only the end's checkpoint, asked of the page before the reply.
    expect(saves).toEqual([{ runId: 'r1', step: 20 }]);
  });

  it('control pauses after the step in progress; step gives one more', async () => {
    const { client, trainers } = fakeEngine();
    await client.call('open', { runId: 'r', gen: 1, cfg, dataKey: 'k', restore: null });
    const training = client.call('train', { runId: 'r', gen: 1 });
    await client.call('control', { runId: 'r', gen: 1, after: 'pause' });
    const r = await training;
    expect(r.end).toBe('pause');
    expect(r.step).toBeLessThan(20);
    expect(await client.call('step', { runId: 'r', gen: 1 })).toEqual({ stepped: true, step: r.step + 1 });
    expect(trainers[0].step).toBe(r.step + 1);
  });

  it('a trainer failure comes back as an error of the same kind and message', async () => {
    const { client, trainers } = fakeEngine();
    await client.call('open', { runId: 'r', gen: 1, cfg, dataKey: 'k', restore: null });
    trainers[0].failAt = 7;
    const err = await client.call('train', { runId: 'r', gen: 1 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('TrainingDivergedError');
    expect((err as Error).message).toContain('diverged at step 10');
  });

  it('a device fault reaches the page’s listeners', async () => {
    const { client, host } = fakeEngine();
    const faults: string[] = [];
    client.onDeviceFault((s, reason, message) => faults.push(`${s}:${reason}:${message}`));
    host.deviceFault('lost', 'unknown', 'the driver reset');
    await new Promise((r) => setTimeout(r, 5));
    expect(faults).toEqual(['lost:unknown:the driver reset']);
  });

  it('close aborts a training run: the loop ends cancelled, nothing is reported after, the trainer is freed', async () => {
    const { client, events, trainers } = fakeEngine();
    await client.call('open', {
      runId: 'r',
      gen: 1,
      cfg: { ...cfg, training_tokens: 8 * 10_000 },
      dataKey: 'k',
      restore: null,
    });
    const training = client.call('train', { runId: 'r', gen: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await client.call('close', { runId: 'r' });
    const n = events.length;
    expect(await training).toEqual({ end: 'cancelled', step: 0 });
    expect(trainers[0].destroyed).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(events.length).toBe(n);
    // The closed build's commands are refused in words.
    await expect(client.call('step', { runId: 'r', gen: 1 })).rejects.toThrow('closed');
    await expect(client.call('weights', { runId: 'r' })).rejects.toThrow('no trained weights');
  });

  it('a new build replaces the old: the old build’s commands are refused and its control ignored', async () => {
    const { client, trainers } = fakeEngine();
    await client.call('open', { runId: 'r', gen: 1, cfg, dataKey: 'k', restore: null });
    await client.call('open', { runId: 'r', gen: 2, cfg, dataKey: 'k', restore: null });
    expect(trainers[0].destroyed).toBe(true);
    await expect(client.call('train', { runId: 'r', gen: 1 })).rejects.toThrow('closed');
    await client.call('control', { runId: 'r', gen: 1, after: 'stop' });
    expect((await client.call('train', { runId: 'r', gen: 2 })).end).toBe('done');
  });

  it('page-made data: the worker reads its sequences from the page by request (cloned both ways)', async () => {
    const page = createSyntheticSource(syntheticConfig('tiny', 5));
    const e = cloned((post) => {
      const h: EngineHost = new EngineHost(
        workerDeps(() => h, undefined),
        post,
      );
      return h;
    });
    let reads = 0;
    e.client.handle('read', async ({ indices, windows, length }) => {
      reads++;
      return windows && length !== undefined && page.readWindows
        ? page.readWindows(windows, length)
        : page.readSequences(indices ?? []);
    });
    e.client.describeData = () => ({
      kind: 'page',
      name: page.name,
      numSequences: page.numSequences,
      seqLen: page.seqLen,
      d: page.d,
      dtype: page.dtype,
      hasTokenIds: page.hasTokenIds,
      windows: typeof page.readWindows === 'function',
    });
    await e.client.ensureData('made');
    // The worker's deps open it as a source whose reads go to the page: same batches as on the page.
    const deps = workerDeps(() => e.host, undefined);
    deps.registerData!('made', e.client.describeData('made')!);
    // (deps here are a second instance on the same host, so the requests travel through the same client.)
    const c = { ...cfg, d_in: page.d, context_size: 16, seqs_per_batch: 2 };
    const viaPage = await deps.openData('made', c, undefined, false);
    const local = await openRunBatcher(page, c);
    const [a, b] = [await viaPage.next(), await local.next()];
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.tokenIds!)).toEqual(Array.from(b.tokenIds!));
    expect(reads).toBeGreaterThan(0);
  });

  it('the worker opens the built-in data from its descriptor: the same batches as the page', async () => {
    const deps = workerDeps(() => {
      throw new Error('no requests expected');
    }, undefined);
    deps.registerData!('b', { kind: 'builtin', preset: 'tiny', seed: 1234 });
    const page = createSyntheticSource(syntheticConfig('tiny', 1234));
    const c = { ...cfg, d_in: page.d, context_size: 16, seqs_per_batch: 2 };
    const [w, p] = [await deps.openData('b', c, undefined, false), await openRunBatcher(page, c)];
    for (let k = 0; k < 3; k++)
      expect(Array.from((await w.next()).x)).toEqual(Array.from((await p.next()).x));
    await expect(deps.openData('unknown', c, undefined, false)).rejects.toThrow('no longer loaded');
    const hello = await deps.hello();
    expect(hello.adapter).toBeNull();
    expect(hello.reason).toContain('WebGPU');
  });
});
