// Run storage over the BlobStore interface (memory implementation; OPFS and IndexedDB are exercised by
// the browser end-to-end tests): records, checkpoints, fallback past damaged checkpoints, pruning,
// usage, and a full disk reported as StorageFullError with nothing already stored lost.
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../../src/app/persistence/blobStore';
import { RunRepository } from '../../../src/app/persistence/runRepository';
import { StorageFullError, storageWriteError } from '../../../src/app/persistence/storageErrors';
import { DEFAULT_CONFIG } from '../../../src/sae/config';
import { initialTrainerState } from '../../../src/sae/init';
import { emptyHistory, type RunRecord } from '../../../src/store/runsStore';
import type { Checkpoint } from '../../../src/io/checkpoint';

const cfg = { ...DEFAULT_CONFIG, d_in: 4, d_sae: 6 };

function record(id: string, createdAt: number): RunRecord {
  const history = emptyHistory();
  history.step.push(10, 20);
  history.l_recon.push(0.5, NaN);
  return {
    id,
    name: `run ${id}`,
    config: cfg,
    dataKey: 'data-1',
    dataLabel: 'built-in: tiny',
    status: 'running',
    history,
    progress: { step: 20, totalSteps: 100, tokensSeen: 40960, tokensPerSec: 1000, etaSec: 80 },
    error: null,
    controlOf: null,
    visible: true,
    colorIndex: 0,
    createdAt,
  };
}

function ck(step: number): Checkpoint {
  const w = {
    d_in: 4,
    d_sae: 6,
    W_enc: new Float32Array(24).fill(step),
    b_enc: new Float32Array(6),
    W_dec: new Float32Array(24),
    b_dec: new Float32Array(4),
  };
  const trainer = { ...initialTrainerState(w), step, tokens_seen: step * 2048 };
  return {
    config: cfg,
    trainer,
    data_state: { epoch: 0, cursor: step, scale: 1, seed: 42, nonFiniteRowsSkipped: 0 },
    scaling_factor: 1,
    created_at: 'now',
  };
}

describe('RunRepository', () => {
  it('stores run records (NaN kept) and lists them in creation order', async () => {
    const repo = new RunRepository(memoryStore());
    await repo.saveRun(record('run-2', 2));
    await repo.saveRun(record('run-1', 1));
    const { runs, problems } = await repo.listRuns();
    expect(problems).toEqual([]);
    expect(runs.map((r) => r.record.id)).toEqual(['run-1', 'run-2']);
    expect(runs[0].record.history.l_recon[0]).toBe(0.5);
    expect(runs[0].record.history.l_recon[1]).toBeNaN();
    expect(runs[0].record.config).toEqual(cfg);
  });

  it('keeps checkpoints per step, loads the newest readable one, prunes, deletes and reports usage', async () => {
    const store = memoryStore();
    const repo = new RunRepository(store);
    await repo.saveRun(record('run-1', 1));
    for (const s of [5, 10, 15]) await repo.saveCheckpoint('run-1', ck(s));
    expect((await repo.checkpoints('run-1')).map((c) => c.step)).toEqual([5, 10, 15]);
    const latest = await repo.loadLatestCheckpoint('run-1');
    expect(latest!.info.step).toBe(15);
    expect(latest!.checkpoint.trainer.weights.W_enc[0]).toBe(15);
    expect(latest!.checkpoint.data_state).toEqual(ck(15).data_state);
    // A write cut short (crash, tab closed) is skipped in favour of the previous checkpoint.
    const path = latest!.info.path;
    await store.put(path, (await store.get(path))!.subarray(0, 100));
    const fallback = await repo.loadLatestCheckpoint('run-1');
    expect(fallback!.info.step).toBe(10);
    expect(fallback!.skipped[0]).toMatch(/step-000000015.safetensors/);
    // Only checkpoints at or before a step (e.g. the step the history was saved at).
    expect((await repo.loadLatestCheckpoint('run-1', 7))!.info.step).toBe(5);
    await repo.saveCheckpoint('run-1', ck(20), 2);
    expect((await repo.checkpoints('run-1')).map((c) => c.step)).toEqual([15, 20]);
    await repo.deleteCheckpoint('run-1', 15);
    expect((await repo.checkpoints('run-1')).map((c) => c.step)).toEqual([20]);
    const u = await repo.usage();
    expect(u.total).toBe(store.used());
    expect(u.perRun['run-1']).toBe(store.used());
    await repo.deleteRun('run-1');
    expect((await repo.listRuns()).runs).toEqual([]);
    expect(store.used()).toBe(0);
  });

  it('a full disk is a StorageFullError naming the file and size; what was stored stays', async () => {
    const store = memoryStore(6000);
    const repo = new RunRepository(store);
    await repo.saveRun(record('run-1', 1));
    await repo.saveCheckpoint('run-1', ck(5));
    let err: unknown;
    try {
      await repo.saveCheckpoint('run-1', ck(10));
    } catch (e) {
      err = storageWriteError(e, 'checkpoint at step 10', 5000);
    }
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(
      /Browser storage is full: could not save checkpoint at step 10 \(4.9 KB\)/,
    );
    expect((err as Error).message).toMatch(/Delete old checkpoints/);
    expect((await repo.loadLatestCheckpoint('run-1'))!.info.step).toBe(5);
    expect((await repo.listRuns()).runs).toHaveLength(1);
  });
});
