// Runs and their checkpoints in a BlobStore:
//   runs/<id>/run.json                               the run record (config, status, metric history)
//   runs/<id>/checkpoints/step-<9 digits>.safetensors one file per checkpoint (src/io/checkpoint.ts)
// A checkpoint is written before the run record that mentions its step, and a checkpoint that fails
// the strict reader (a write cut short) is skipped in favour of the one before it, so a crash or a
// full disk at any moment leaves a loadable run.
import {
  openCheckpoint,
  parseCheckpoint,
  serializeCheckpointParts,
  type ByteSink,
  type Checkpoint,
  type OpenedCheckpoint,
} from '../../io/checkpoint';
import type { RunRecord } from '../../store/runsStore';
import { byteLength, type BlobStore } from './blobStore';

export const RUN_RECORD_VERSION = 1;

export interface CheckpointInfo {
  runId: string;
  step: number;
  path: string;
  bytes: number;
}

export interface StoredRun {
  record: RunRecord;
  /** Which data it trains on, in a form that survives a reload (see dataRef.ts); null when unknown. */
  data: unknown;
  checkpoints: CheckpointInfo[];
}

const runDir = (id: string) => `runs/${id}/`;
const recordPath = (id: string) => `runs/${id}/run.json`;
const ckptDir = (id: string) => `runs/${id}/checkpoints/`;
const evalsPath = (id: string) => `runs/${id}/evals.json`;
const ckptPath = (id: string, step: number) =>
  `${ckptDir(id)}step-${String(step).padStart(9, '0')}.safetensors`;

function encodeRecord(r: RunRecord, data: unknown): Uint8Array {
  // JSON has no NaN: a diverged loss is kept as null and read back as NaN.
  const json = JSON.stringify({ version: RUN_RECORD_VERSION, record: r, data }, (_k, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? null : v,
  );
  return new TextEncoder().encode(json);
}

function decodeRecord(bytes: Uint8Array, path: string): { record: RunRecord; data: unknown } {
  const o = JSON.parse(new TextDecoder().decode(bytes)) as {
    version: number;
    record: RunRecord;
    data?: unknown;
  };
  if (o.version !== RUN_RECORD_VERSION || !o.record?.id)
    throw new Error(`${path}: not a TempoSAE run record`);
  const h = o.record.history as unknown as Record<string, (number | null)[]>;
  for (const k of Object.keys(h)) h[k] = h[k].map((v) => (v === null ? NaN : v));
  return { record: o.record, data: o.data ?? null };
}

export class RunRepository {
  constructor(readonly store: BlobStore) {}

  async saveRun(record: RunRecord, data: unknown = null): Promise<void> {
    await this.store.put(recordPath(record.id), encodeRecord(record, data));
  }

  async checkpoints(runId: string): Promise<CheckpointInfo[]> {
    const entries = await this.store.list(ckptDir(runId));
    return entries
      .map((e) => {
        const m = /step-(\d+)\.safetensors$/.exec(e.path);
        return m ? { runId, step: Number(m[1]), path: e.path, bytes: e.bytes } : null;
      })
      .filter((x): x is CheckpointInfo => x !== null)
      .sort((a, b) => a.step - b.step);
  }

  /** Every stored run (unreadable records are reported in `problems`, not thrown). */
  async listRuns(): Promise<{ runs: StoredRun[]; problems: string[] }> {
    const problems: string[] = [];
    const runs: StoredRun[] = [];
    const records = (await this.store.list('runs/')).filter((e) => e.path.endsWith('/run.json'));
    for (const e of records) {
      try {
        const { record, data } = decodeRecord((await this.store.get(e.path))!, e.path);
        runs.push({ record, data, checkpoints: await this.checkpoints(record.id) });
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    runs.sort((a, b) => a.record.createdAt - b.record.createdAt);
    return { runs, problems };
  }

  /** Write a checkpoint; then keep only the newest `keep` (0 keeps all). */
  async saveCheckpoint(runId: string, ck: Checkpoint, keep = 0): Promise<CheckpointInfo> {
    const parts = serializeCheckpointParts(ck);
    const path = ckptPath(runId, ck.trainer.step);
    await this.store.put(path, parts);
    await this.prune(runId, keep);
    return { runId, step: ck.trainer.step, path, bytes: byteLength(parts) };
  }

  /**
   * Write the checkpoint of `step` as `fill` streams it (one tensor in memory at a time, see
   * src/io/checkpoint.ts streamCheckpoint); then keep only the newest `keep` (0 keeps all).
   */
  async saveCheckpointStream(
    runId: string,
    step: number,
    fill: (sink: ByteSink) => Promise<unknown>,
    keep = 0,
  ): Promise<CheckpointInfo> {
    const put = (path: string) =>
      this.store.putStream(path, async (sink) => {
        await fill(sink);
      });
    return this.saveCheckpointFile(runId, step, put, keep);
  }

  /**
   * The checkpoint of `step` written by someone else at its path (the engine's worker, through OPFS sync
   * access handles: `write` resolves with the bytes once the file is complete); then keep the newest `keep`.
   */
  async saveCheckpointFile(
    runId: string,
    step: number,
    write: (path: string) => Promise<number>,
    keep = 0,
  ): Promise<CheckpointInfo> {
    const path = ckptPath(runId, step);
    const bytes = await write(path);
    await this.prune(runId, keep);
    return { runId, step, path, bytes };
  }

  private async prune(runId: string, keep: number) {
    if (keep <= 0) return;
    const all = await this.checkpoints(runId);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) await this.store.delete(old.path);
  }

  /** A checkpoint's header, read and checked; its tensors are read one at a time (streamed restore). */
  async openCheckpoint(runId: string, step: number): Promise<OpenedCheckpoint> {
    const path = ckptPath(runId, step);
    const r = await this.store.open(path);
    if (!r) throw new Error(`${path}: checkpoint not found`);
    return openCheckpoint(r, path);
  }

  /** The newest checkpoint whose header reads cleanly (and whose length is exact), opened for streaming. */
  async openLatestCheckpoint(
    runId: string,
  ): Promise<{ checkpoint: OpenedCheckpoint; info: CheckpointInfo; skipped: string[] } | null> {
    const skipped: string[] = [];
    for (const info of (await this.checkpoints(runId)).reverse()) {
      try {
        return { checkpoint: await this.openCheckpoint(runId, info.step), info, skipped };
      } catch (e) {
        skipped.push((e as Error).message);
      }
    }
    return null;
  }

  async loadCheckpoint(runId: string, step: number): Promise<Checkpoint> {
    const path = ckptPath(runId, step);
    const bytes = await this.store.get(path);
    if (!bytes) throw new Error(`${path}: checkpoint not found`);
    return parseCheckpoint(bytes, path);
  }

  /** The newest checkpoint that reads cleanly, at or before `maxStep`; broken ones are listed in `skipped`. */
  async loadLatestCheckpoint(
    runId: string,
    maxStep = Infinity,
  ): Promise<{ checkpoint: Checkpoint; info: CheckpointInfo; skipped: string[] } | null> {
    const skipped: string[] = [];
    const all = (await this.checkpoints(runId)).filter((c) => c.step <= maxStep).reverse();
    for (const info of all) {
      try {
        return { checkpoint: await this.loadCheckpoint(runId, info.step), info, skipped };
      } catch (e) {
        skipped.push((e as Error).message);
      }
    }
    return null;
  }

  /** A run's held-out evaluation history (plain JSON; NaN kept as null and read back as NaN). */
  async saveEvals(runId: string, evals: unknown[]): Promise<void> {
    const json = JSON.stringify(evals, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    await this.store.put(evalsPath(runId), new TextEncoder().encode(json));
  }

  async loadEvals(runId: string): Promise<unknown[]> {
    const bytes = await this.store.get(evalsPath(runId));
    if (!bytes) return [];
    const o = JSON.parse(new TextDecoder().decode(bytes), (_k, v) => (v === null ? NaN : v)) as unknown;
    return Array.isArray(o) ? o : [];
  }

  async deleteCheckpoint(runId: string, step: number): Promise<void> {
    await this.store.delete(ckptPath(runId, step));
  }

  async deleteRun(runId: string): Promise<void> {
    for (const e of await this.store.list(runDir(runId))) await this.store.delete(e.path);
  }

  /** Bytes per run (record + checkpoints) and in total. */
  async usage(): Promise<{ total: number; perRun: Record<string, number> }> {
    const perRun: Record<string, number> = {};
    let total = 0;
    for (const e of await this.store.list('runs/')) {
      const id = e.path.split('/')[1];
      perRun[id] = (perRun[id] ?? 0) + e.bytes;
      total += e.bytes;
    }
    return { total, perRun };
  }
}
