// Streamed checkpoints in the app's storage (memory BlobStore; OPFS and IndexedDB in the browser tests):
// a checkpoint written part by part reads back whole and exact through the header-first reader, a write
// cut short is skipped for the one before it, pruning keeps the newest, and a failing writer leaves the
// previous checkpoint as it was.
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../../src/app/persistence/blobStore';
import { RunRepository } from '../../../src/app/persistence/runRepository';
import { readCheckpoint, serializeCheckpointParts, type Checkpoint } from '../../../src/io/checkpoint';
import { DEFAULT_CONFIG } from '../../../src/sae/config';
import { initialTrainerState } from '../../../src/sae/init';

const cfg = { ...DEFAULT_CONFIG, d_in: 4, d_sae: 6 };

function ck(step: number): Checkpoint {
  const w = {
    d_in: 4,
    d_sae: 6,
    W_enc: new Float32Array(24).map((_, i) => step + i / 8),
    b_enc: new Float32Array(6).fill(-step),
    W_dec: new Float32Array(24).fill(0.5),
    b_dec: new Float32Array(4).fill(step / 3),
  };
  return {
    config: cfg,
    trainer: { ...initialTrainerState(w), step, tokens_seen: step * 2048, alpha: { l_max: 0.1 + 0.2 } },
    data_state: { epoch: 0, cursor: step, scale: 1, seed: 42, nonFiniteRowsSkipped: 0 },
    scaling_factor: 1,
    extra: {},
    created_at: 'now',
  };
}

const fill = (c: Checkpoint) => async (sink: { write(b: Uint8Array): unknown }) => {
  for (const p of serializeCheckpointParts(c)) await sink.write(p);
};

describe('RunRepository, streamed', () => {
  it('writes part by part, reads back exactly, skips a cut-short newest one, prunes', async () => {
    const store = memoryStore();
    const repo = new RunRepository(store);
    for (const s of [5, 10, 15]) await repo.saveCheckpointStream('run-1', s, fill(ck(s)), 3);
    const latest = (await repo.openLatestCheckpoint('run-1'))!;
    expect(latest.info.step).toBe(15);
    expect(latest.checkpoint.meta.data_state).toEqual(ck(15).data_state);
    expect(await readCheckpoint(latest.checkpoint)).toEqual(ck(15));
    // A write cut short is refused from its header and length alone, before any tensor is read.
    await store.put(latest.info.path, (await store.get(latest.info.path))!.subarray(0, 300));
    const fallback = (await repo.openLatestCheckpoint('run-1'))!;
    expect(fallback.info.step).toBe(10);
    expect(fallback.skipped[0]).toMatch(/step-000000015.safetensors/);
    await repo.saveCheckpointStream('run-1', 20, fill(ck(20)), 2);
    expect((await repo.checkpoints('run-1')).map((c) => c.step)).toEqual([15, 20]);
  });

  it('a writer that fails half-way stores nothing under that name and keeps the others', async () => {
    const repo = new RunRepository(memoryStore());
    await repo.saveCheckpointStream('run-1', 5, fill(ck(5)));
    await expect(
      repo.saveCheckpointStream('run-1', 10, async (sink) => {
        await sink.write(serializeCheckpointParts(ck(10))[0]);
        throw new Error('the device was lost');
      }),
    ).rejects.toThrow('the device was lost');
    expect((await repo.checkpoints('run-1')).map((c) => c.step)).toEqual([5]);
    expect((await readCheckpoint((await repo.openLatestCheckpoint('run-1'))!.checkpoint)).trainer.step).toBe(
      5,
    );
  });
});
