// The worker's engine (EngineHost over workerDeps: its own device, the data opened from a descriptor) on
// Dawn, with every message cloned as postMessage would: a run trains on the built-in data; its checkpoint
// streams to the page chunk by chunk (no chunk larger than one tensor), restores in a new build from the
// stored Blob and continues with the same numbers as the run that never stopped; the weights, one
// parameter, held-out features, neighbours and matching come back as replies; destroying the device
// reaches the page as a 'lost' fault and the next build gets a fresh device.
import { describe, expect, it } from 'vitest';
import { EngineHost, type CheckpointFiles } from '../../src/engine/engineHost';
import { bytesReader } from '../../src/io/checkpoint';
import { concatParts } from '../../src/io/safetensors';
import { workerDeps } from '../../src/engine/workerDeps';
import type { EngineEvent, ToEngine } from '../../src/engine/protocol';
import type { SessionEvent } from '../../src/engine/runSession';
import { EngineClient } from '../../src/app/engineClient';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { impliedByData } from '../../src/engine/defaults';
import type { StepMetrics } from '../../src/sae/types';
import { testGpuApi } from '../helpers/dawn';

function engine(gpu: GPU, files?: CheckpointFiles) {
  const client = new EngineClient();
  const host: EngineHost = new EngineHost(
    workerDeps(() => host, gpu, files),
    (e: EngineEvent, t) => {
      const copy = structuredClone(e, { transfer: t ?? [] });
      setTimeout(() => client.receive(copy), 0);
    },
  );
  client.attach('worker', {
    post: (m: ToEngine, t) => {
      const copy = structuredClone(m, { transfer: t ?? [] });
      setTimeout(() => host.handle(copy), 0);
    },
    close() {},
  });
  return client;
}

const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  ...impliedByData(16, 'tiny'),
  d_in: 16,
  d_sae: 32,
  seqs_per_batch: 4,
  context_size: 32,
  metrics_every: 1,
  eval_every: 0,
  checkpoint_every: 0,
  training_tokens: 12 * 4 * 32,
  seed: 3,
};

describe('the worker engine on Dawn (cloned messages)', () => {
  it('trains, streams a checkpoint per tensor, restores it in a new build and continues identically', async () => {
    const gpu = await testGpuApi();
    const client = engine(gpu);
    expect((await client.call('hello', {})).adapter).toBeTruthy();
    await client.call('data', { dataKey: 'b', descriptor: { kind: 'builtin', preset: 'tiny', seed: 1234 } });
    const metrics = new Map<string, StepMetrics[]>();
    client.onSession((runId, gen, e: SessionEvent) => {
      if (e.type !== 'metrics') return;
      const k = `${runId}/${gen}`;
      metrics.set(k, [...(metrics.get(k) ?? []), e.metrics]);
    });
    // Checkpoints the schedule asks for are kept as Blobs (the page's storage), chunk sizes noted.
    const files = new Map<number, Blob>();
    const chunks: number[] = [];
    client.handle('saveCheckpoint', async ({ runId, step }) => {
      const parts: Uint8Array[] = [];
      await client.streamCheckpoint(runId, { write: (b) => void (parts.push(b), chunks.push(b.length)) }, {});
      files.set(step, new Blob(parts as BlobPart[]));
      return null;
    });
    // Run A: 6 steps then paused (a checkpoint at the pause), then on to the end.
    await client.call('open', { runId: 'A', gen: 1, cfg, dataKey: 'b', restore: null });
    for (let k = 0; k < 5; k++) await client.call('step', { runId: 'A', gen: 1 });
    const training = client.call('train', { runId: 'A', gen: 1 });
    await client.call('control', { runId: 'A', gen: 1, after: 'pause' });
    const paused = await training;
    expect(paused.end).toBe('pause');
    const at = paused.step;
    const file = files.get(at)!;
    expect(file).toBeDefined();
    // The header first, then one chunk per state tensor, none larger than the largest (d·d_sae floats):
    // the whole state (about 12·d·d_sae floats) never crosses at once.
    const tensorChunks = chunks.slice(1);
    expect(Math.max(...tensorChunks)).toBe(16 * 32 * 4);
    expect(tensorChunks.length).toBeGreaterThanOrEqual(10);
    expect(file.size).toBe(chunks.reduce((a, b) => a + b, 0));
    expect((await client.call('train', { runId: 'A', gen: 1 })).end).toBe('done');

    // Run B: built from A's checkpoint file, trained to the end: the same metrics after the checkpoint.
    const r = await client.call('open', {
      runId: 'B',
      gen: 1,
      cfg,
      dataKey: 'b',
      restore: { checkpoint: file, fileName: 'A.safetensors' },
    });
    expect(r.step).toBe(at);
    expect((await client.call('train', { runId: 'B', gen: 1 })).end).toBe('done');
    const a = metrics.get('A/1')!.filter((m) => m.step > at);
    const b = metrics.get('B/1')!;
    expect(b.map((m) => m.step)).toEqual(a.map((m) => m.step));
    b.forEach((m, i) => expect(m.loss, `loss at step ${m.step}`).toBe(a[i].loss));

    // What the page asks of a built run comes back as replies.
    const w = await client.call('weights', { runId: 'B' });
    expect(w.weights.W_dec.length).toBe(32 * 16);
    const W_dec = await client.call('readParameter', { runId: 'B', name: 'W_dec' });
    expect(Array.from(W_dec)).toEqual(Array.from(w.weights.W_dec));
    const held = await client.call('collectFeatures', { runId: 'B', features: [0, 3] });
    expect(held.columns).toHaveLength(2);
    expect(held.sequences).toBeGreaterThan(0);
    const nb = await client.call('neighbours', { runId: 'B', feature: 0 });
    expect(nb.nearest.length).toBeGreaterThan(0);
    expect(nb.trueFeature).not.toBeNull(); // the built-in data knows its true features
    const m = await client.call('match', { runA: 'A', runB: 'B' });
    expect(m.meanCos).toBeCloseTo(1, 5); // the same weights: every row matches itself
    await client.call('evaluate', { runId: 'B' });

    // A device lost on purpose reaches the page; the next build gets a fresh device.
    const lost = new Promise<string>((resolve) =>
      client.onDeviceFault((s, reason) => resolve(`${s}:${reason}`)),
    );
    await client.call('destroyDevice', {});
    expect(await lost).toBe('lost:destroyed');
    await client.call('close', { runId: 'A' });
    await client.call('close', { runId: 'B' });
    const again = await client.call('open', {
      runId: 'C',
      gen: 1,
      cfg,
      dataKey: 'b',
      restore: { checkpoint: file, fileName: 'A.safetensors' },
    });
    expect(again.step).toBe(at);
    expect((await client.call('step', { runId: 'C', gen: 1 })).stepped).toBe(true);
    await client.call('close', { runId: 'C' });
  });

  it('an engine with its own files (the worker’s OPFS sync handles) writes the checkpoint at a path and restores from it', async () => {
    // Files as the worker's sync-handle store keeps them, in memory: written part by part, whole at the end.
    const stored = new Map<string, Uint8Array>();
    const parts: number[] = [];
    const files: CheckpointFiles = {
      async write(path, fill) {
        const got: Uint8Array[] = [];
        await fill({ write: (b) => void (got.push(b.slice()), parts.push(b.length)) });
        stored.set(path, concatParts(got));
        return stored.get(path)!.length;
      },
      async reader(path) {
        const f = stored.get(path);
        if (!f) throw new Error(`${path}: not found`);
        return bytesReader(f);
      },
    };
    const client = engine(await testGpuApi(), files);
    expect((await client.call('hello', {})).files).toBe(true);
    await client.call('data', { dataKey: 'b', descriptor: { kind: 'builtin', preset: 'tiny', seed: 1234 } });
    // The page is never asked for a chunk: the engine writes the file itself.
    client.handle('sink', async () => {
      throw new Error('no chunk may come to the page');
    });
    await client.call('open', { runId: 'A', gen: 1, cfg, dataKey: 'b', restore: null });
    for (let k = 0; k < 4; k++) await client.call('step', { runId: 'A', gen: 1 });
    const path = 'runs/A/checkpoints/step-000000004.safetensors';
    const w = await client.call('writeCheckpointFile', { runId: 'A', path, extra: { run_name: 'A' } });
    expect(w).toEqual({ step: 4, bytes: stored.get(path)!.length });
    expect(Math.max(...parts.slice(1))).toBe(16 * 32 * 4); // one tensor at a time
    const before = await client.call('readParameter', { runId: 'A', name: 'W_enc' });
    const r = await client.call('open', {
      runId: 'B',
      gen: 1,
      cfg,
      dataKey: 'b',
      restore: { checkpointPath: path },
    });
    expect(r.step).toBe(4);
    expect(Array.from(await client.call('readParameter', { runId: 'B', name: 'W_enc' }))).toEqual(
      Array.from(before),
    );
    await expect(
      client.call('open', {
        runId: 'C',
        gen: 1,
        cfg,
        dataKey: 'b',
        restore: { checkpointPath: 'runs/none.safetensors' },
      }),
    ).rejects.toThrow('not found');
    await client.call('close', { runId: 'A' });
    await client.call('close', { runId: 'B' });
  });
});
