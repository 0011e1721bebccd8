// What the Storage panel shows: where runs are kept, how much space they use, each run's checkpoints,
// and the last storage problem in words. Plain data, changed only by src/app/persistence.
import { create } from 'zustand';
import type { CheckpointInfo } from './runRepository';

export interface StorageState {
  /** 'opfs' | 'indexeddb' | 'memory' (memory: nothing survives a reload), or null before opening. */
  kind: string | null;
  /** Bytes of TempoSAE's stored runs, and the origin's usage and quota as the browser estimates them. */
  runBytes: number;
  perRun: Record<string, number>;
  originUsage: number | null;
  originQuota: number | null;
  checkpoints: Record<string, CheckpointInfo[]>;
  /** The last failed save, in words (null when saving works). */
  problem: string | null;
  notes: string[];
  /** Runs restored from storage at startup. */
  restored: number;
  /** Scratch copies of compressed .npz members (bytes, files, files this page reads from). */
  scratch: { bytes: number; files: number; inUse: number };
  /** Who wrote the last checkpoint: the engine's worker itself (OPFS sync handles) or the page. */
  checkpointsBy: string | null;
}

export const useStorageStore = create<StorageState>()(() => ({
  kind: null,
  runBytes: 0,
  perRun: {},
  originUsage: null,
  originQuota: null,
  checkpoints: {},
  problem: null,
  notes: [],
  restored: 0,
  scratch: { bytes: 0, files: 0, inUse: 0 },
  checkpointsBy: null,
}));
