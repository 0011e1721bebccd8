// Runs that last (issue 7): every run's record (config, status, metric history) is saved as it changes;
// checkpoints (weights, Adam, L_max, dead counters, data position) are written when the run's session
// says (src/engine/schedule.ts: every checkpoint_every steps and whenever the loop stops) with the loop
// waiting, so the trainer and the batcher agree. They are streamed: one tensor at a time goes from the
// GPU to the file (src/io/checkpoint.ts), and a restore reads them back the same way. On startup the saved runs come back into the run list; a run that was training comes
// back paused at its last checkpoint and resumes identically. If the GPU device is lost, every run
// with a trainer is rebuilt from its last checkpoint on a new device, and runs that were training go on.
// A full disk or a denied quota is a message in words; training continues in memory.
import { readCheckpoint, type ByteSink, type Checkpoint, type OpenedCheckpoint } from '../../io/checkpoint';
import { clearScratch, scratchUsage } from '../../data/opfsScratch';
import { useAnalysisStore, type EvalRecord } from '../../store/analysisStore';
import { useAppStore } from '../../store/appStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { findRun, useRunsStore, type MetricHistory, type RunRecord } from '../../store/runsStore';
import { exposeForTests } from '../gpuSession';
import {
  getEngine,
  rebuildRunFrom,
  runIsBuilt,
  resumeRun,
  runMessageKey,
  setRunRestore,
  setRunStorage,
  type CheckpointWriter,
  type RestoreSource,
} from '../trainingLoop';
import type { BlobStore } from './blobStore';
import { dataRefOf, ensureDataLoaded, type DataRef } from './dataRef';
import { openBrowserStore, storageEstimate } from './openStore';
import { RunRepository } from './runRepository';
import { formatBytes, StorageFullError, storageWriteError } from './storageErrors';
import { useStorageStore } from './storageStore';

/** Checkpoints kept per run automatically (older ones are deleted; the user can delete more). */
export const KEEP_CHECKPOINTS = 3;
/** Run records are written at most this often while metrics stream in. */
const RECORD_SAVE_MS = 1500;

let repo: RunRepository | null = null;
/** The data each run trains on, remembered when the run is first saved. */
const dataRefs = new Map<string, DataRef | null>();
const saved = new Map<string, RunRecord>();
/** The evaluation list last written for each run (identity: the store replaces it on change). */
const savedEvals = new Map<string, readonly EvalRecord[]>();
let flushTimer: ReturnType<typeof setTimeout> | null = null;

function report(e: unknown, what: string) {
  const err = e instanceof StorageFullError ? e : storageWriteError(e, what, 0);
  const message = err.message;
  // A full disk met by the engine's worker arrives as an Error named so (it crossed the protocol).
  const full = err instanceof StorageFullError || err.name === 'StorageFullError';
  useStorageStore.setState({ problem: message });
  useAppStore.getState().postMessage({
    level: full ? 'error' : 'warning',
    title: full ? 'Browser storage is full' : 'Could not save a run',
    detail: message,
  });
}

/** Re-reads what is stored for the storage panel. Never rejects: it runs from timers and run events,
 *  and a listing that fails is shown as a storage problem, not an uncaught error. */
async function refreshUsage() {
  try {
    await readUsage();
  } catch (e) {
    const detail = `Listing the stored runs failed: ${(e as Error)?.message ?? String(e)}`;
    useStorageStore.setState({ problem: detail });
    useAppStore.getState().postMessage({ level: 'warning', title: 'Could not read browser storage', detail });
  }
}

async function readUsage() {
  if (!repo) return;
  const [u, est, scratch] = await Promise.all([
    repo.usage(),
    storageEstimate(),
    scratchUsage().catch(() => ({ bytes: 0, files: 0, inUse: 0 })),
  ]);
  const checkpoints: Record<string, Awaited<ReturnType<RunRepository['checkpoints']>>> = {};
  for (const id of Object.keys(u.perRun)) checkpoints[id] = await repo.checkpoints(id);
  useStorageStore.setState({
    runBytes: u.total,
    perRun: u.perRun,
    checkpoints,
    scratch,
    originUsage: est?.usage ?? null,
    originQuota: est?.quota ?? null,
  });
}

function dataRefFor(r: RunRecord): DataRef | null {
  if (!dataRefs.has(r.id)) dataRefs.set(r.id, dataRefOf(r.dataKey));
  return dataRefs.get(r.id) ?? null;
}

async function saveRecord(r: RunRecord) {
  if (!repo) return;
  try {
    await repo.saveRun(r, dataRefFor(r));
    saved.set(r.id, r);
  } catch (e) {
    report(e, `run “${r.name}”`);
  }
}

/** Save the records that changed since they were last saved; forget deleted runs. */
async function flushRecords() {
  flushTimer = null;
  if (!repo) return;
  const runs = useRunsStore.getState().runs;
  for (const r of runs) if (saved.get(r.id) !== r) await saveRecord(r);
  const alive = new Set(runs.map((r) => r.id));
  for (const id of [...saved.keys()])
    if (!alive.has(id)) {
      saved.delete(id);
      dataRefs.delete(id);
      await repo.deleteRun(id).catch((e) => report(e, 'a deleted run'));
    }
  await refreshUsage();
}

function scheduleFlush(delay = RECORD_SAVE_MS) {
  if (flushTimer === null) flushTimer = setTimeout(() => void flushRecords(), delay);
}

/** Write a checkpoint of a run now, streamed tensor by tensor from the engine (its loop waits for it). */
export async function checkpointRun(id: string, ck: CheckpointWriter): Promise<void> {
  const run = findRun(id);
  if (!repo || !run) return;
  const step = ck.step;
  const extra = { run_name: run.name };
  try {
    if (ck.writeFile && repo.store.kind === 'opfs') {
      // The engine's worker writes the file itself through OPFS sync access handles: no byte of the
      // checkpoint comes to this page.
      const writeFile = ck.writeFile;
      await repo.saveCheckpointFile(id, step, (path) => writeFile(path, extra), KEEP_CHECKPOINTS);
      useStorageStore.setState({ checkpointsBy: 'engine worker (OPFS sync access handles)' });
    } else {
      await repo.saveCheckpointStream(id, step, (sink) => ck.write(sink, extra), KEEP_CHECKPOINTS);
      useStorageStore.setState({ checkpointsBy: 'page (streamed from the engine)' });
    }
    // The record goes after the checkpoint, so a saved history never runs ahead of a saved state by
    // more than the steps since that checkpoint.
    await saveRecord(findRun(id) ?? run);
    useStorageStore.setState({ problem: null });
  } catch (e) {
    report(e, `the checkpoint of “${run.name}” at step ${step}`);
  }
  await refreshUsage();
}

/** Keep only the history rows up to `step` (those after it will be trained again). */
function historyUpTo(h: MetricHistory, step: number): MetricHistory {
  const keep = h.step.filter((s) => s <= step).length;
  const out = { ...h };
  for (const k of Object.keys(h) as (keyof MetricHistory)[]) out[k] = h[k].slice(0, keep);
  return out;
}

function replaceRecord(r: RunRecord) {
  useRunsStore.setState((s) => ({ runs: s.runs.map((x) => (x.id === r.id ? r : x)) }));
}

/** Where a saved run continues from: its newest readable checkpoint, with its data (re)loaded. */
function restoreSource(id: string): RestoreSource {
  return async () => {
    if (!repo) throw new Error('Storage is not open.');
    const run = findRun(id);
    // Only the header is read here (the newest readable one); the engine reads the file itself, one
    // tensor at a time, onto the GPU when the trainer is built.
    const found = await repo.openLatestCheckpoint(id);
    if (!found) throw new Error('No readable checkpoint is left for this run; reset it to train again.');
    const dataKey = ensureDataLoaded(dataRefs.get(id) ?? null, run?.name ?? id);
    if (run && run.dataKey !== dataKey) replaceRecord({ ...run, dataKey });
    // The worker reads an OPFS checkpoint itself (sync access handles); otherwise it gets the file.
    if (getEngine().files && repo.store.kind === 'opfs') return { dataKey, checkpointPath: found.info.path };
    const file = await repo.store.blob(found.info.path);
    if (!file) throw new Error(`${found.info.path} was listed but cannot be read.`);
    return { dataKey, checkpoint: file, fileName: found.info.path };
  };
}

/** Bring the saved runs back into the run list (runs already in it are left alone). */
async function restoreRuns(): Promise<number> {
  if (!repo) return 0;
  const { runs, problems } = await repo.listRuns();
  for (const p of problems) useStorageStore.setState((s) => ({ notes: [...s.notes, p] }));
  let n = 0;
  for (const { record, data, checkpoints } of runs) {
    if (findRun(record.id)) continue;
    const last = checkpoints[checkpoints.length - 1];
    dataRefs.set(record.id, (data as DataRef | null) ?? null);
    let r: RunRecord;
    if (last) {
      const wasLive = ['running', 'starting', 'paused', 'error'].includes(record.status);
      r = {
        ...record,
        // A run that was training comes back paused at its checkpoint; finished runs stay finished.
        status: wasLive ? 'paused' : record.status,
        error: null,
        history: historyUpTo(record.history, last.step),
        progress: { ...record.progress, step: last.step, tokensPerSec: null, etaSec: null },
      };
    } else {
      // Nothing to continue from: the run starts over with the same config and seed.
      r = { ...record, status: 'ready', error: null, history: historyUpTo(record.history, -1) };
      r.progress = { ...record.progress, step: 0, tokensSeen: 0, tokensPerSec: null, etaSec: null };
    }
    r.progress.tokensSeen = r.history.tokens_seen.at(-1) ?? (last ? r.progress.tokensSeen : 0);
    // Held-out evaluations up to the checkpoint come back with the run (later ones will be redone).
    const upTo = last ? last.step : -1;
    const evals = (await repo.loadEvals(r.id).catch(() => [])) as EvalRecord[];
    if (findRun(r.id)) continue; // a run with this id appeared meanwhile: it is not replaced
    const kept = evals.filter((e) => e.step <= upTo);
    if (kept.length) useAnalysisStore.getState().evaluationsRestored(r.id, kept);
    useRunsStore.getState().restoreRun(r);
    saved.set(r.id, r);
    savedEvals.set(r.id, useAnalysisStore.getState().byRun[r.id]?.evals ?? []);
    if (last) setRunRestore(r.id, restoreSource(r.id));
    n++;
  }
  return n;
}

/** Device lost: rebuild every run that has a trainer from its last checkpoint; go on where it was training. */
async function onDeviceLost() {
  for (const run of useRunsStore.getState().runs) {
    const live = runIsBuilt(run.id) || run.status === 'running' || run.status === 'starting';
    if (!live || !repo) continue;
    const wasTraining = run.status === 'running' || run.status === 'starting' || run.status === 'error';
    const last = (await repo.checkpoints(run.id)).at(-1);
    if (!last) {
      useAppStore.getState().postMessage({
        level: 'error',
        title: `Run “${run.name}” lost its GPU state`,
        detail: 'The device was lost before the run’s first checkpoint; press Reset to train it again.',
      });
      continue;
    }
    rebuildRunFrom(run.id, restoreSource(run.id));
    const now = findRun(run.id) ?? run;
    replaceRecord({
      ...now,
      status: 'paused',
      error: null,
      history: historyUpTo(now.history, last.step),
      progress: { ...now.progress, step: last.step, tokensPerSec: null, etaSec: null },
    });
    // The loop may already have reported the lost device as the run failing; that is not the news:
    // this message takes the run's place at the top (same key).
    useAppStore.getState().postMessage({
      level: 'info',
      title: `Run “${run.name}” moved to a new GPU device`,
      detail: `The device was lost; the run continues from its checkpoint at step ${last.step}.`,
      key: runMessageKey(run.id),
    });
    if (wasTraining) void resumeRun(run.id);
  }
}

let watching: object | null = null;
/** Watch the engine's device (in its worker, or the page's) for loss; the test hook can lose it. */
function watchGpu() {
  let engine: ReturnType<typeof getEngine>;
  try {
    engine = getEngine();
  } catch {
    return; // no engine installed (storage alone, in tests)
  }
  if (watching === engine) return;
  watching = engine;
  engine.onDeviceFault((status) => {
    if (status === 'lost') void onDeviceLost();
  });
  // A test hook (read-only otherwise): lose the engine's device on purpose, as a driver reset would.
  exposeForTests('destroyDevice', () => void engine.call('destroyDevice', {}).catch(() => {}));
}

/** Open storage, restore saved runs, and keep runs saved from now on. Call once at startup. */
export async function installPersistence(store?: BlobStore): Promise<void> {
  let s = store;
  if (!s) {
    const opened = await openBrowserStore();
    s = opened.store;
    useStorageStore.setState({ notes: opened.notes });
    if (opened.denied)
      useAppStore
        .getState()
        .postMessage({ level: 'warning', title: 'Runs will not be saved', detail: opened.denied.message });
  }
  repo = new RunRepository(s);
  useStorageStore.setState({ kind: s.kind });
  const restored = await restoreRuns();
  useStorageStore.setState({ restored });
  if (restored)
    useAppStore.getState().postMessage({
      level: 'info',
      title: `${restored} saved run${restored > 1 ? 's' : ''} restored`,
      detail: 'Runs that were training are paused at their last checkpoint; resume continues them exactly.',
    });
  const r = repo;
  setRunStorage({
    saveCheckpoint: (id, ck) => checkpointRun(id, ck),
    runReset(id) {
      // The old trajectory's checkpoints do not belong to the fresh run.
      void r
        .checkpoints(id)
        .then(async (cs) => {
          for (const c of cs) await r.deleteCheckpoint(id, c.step);
        })
        .catch((err) => report(err, 'the old checkpoints of a reset run'))
        .then(refreshUsage);
    },
    runStarted: () => watchGpu(),
    restoreAfterFailure: async (id) => ((await r.checkpoints(id)).length ? restoreSource(id) : null),
  });
  useRunsStore.subscribe(() => scheduleFlush());
  // Newly loaded data may have left a scratch copy of a compressed .npz: show its size.
  useWorkspaceStore.subscribe((s, prev) => {
    if (s.data !== prev.data) void refreshUsage();
  });
  useAnalysisStore.subscribe((s) => {
    // Each new evaluation is saved beside the run record (evaluations are rare: every eval_every steps).
    for (const [id, a] of Object.entries(s.byRun)) {
      if (savedEvals.get(id) === a.evals || !findRun(id) || !repo) continue;
      savedEvals.set(id, a.evals);
      void repo.saveEvals(id, a.evals).catch((e) => report(e, 'the evaluation history'));
    }
  });
  watchGpu();
  exposeForTests('persistence', () => ({ ...useStorageStore.getState() }));
  exposeForTests('flushRuns', () => flushRecords());
  await refreshUsage();
}

/** The newest readable stored checkpoint of a run (export after a reload), or null. */
export async function loadRunCheckpoint(runId: string): Promise<Checkpoint | null> {
  const found = await repo?.openLatestCheckpoint(runId);
  return found ? readCheckpoint(found.checkpoint) : null;
}

/** The newest readable stored checkpoint of a run, its header read (tensors are read one at a time). */
export async function openRunCheckpoint(runId: string): Promise<OpenedCheckpoint | null> {
  return (await repo?.openLatestCheckpoint(runId))?.checkpoint ?? null;
}

/**
 * Write an export file part by part into browser storage (`exports/`, where only the newest export is
 * kept) and hand it back as a Blob for the download: the file itself, not a copy in this page's memory.
 * Without storage the parts become Blobs as they come (the browser holds them, not this page's heap).
 */
export async function writeExportFile(name: string, fill: (sink: ByteSink) => Promise<void>): Promise<Blob> {
  if (!repo) {
    const parts: Blob[] = [];
    await fill({ write: (b) => void parts.push(new Blob([b as BlobPart])) });
    return new Blob(parts);
  }
  const store = repo.store;
  const path = `exports/${name}`;
  for (const e of await store.list('exports/')) if (e.path !== path) await store.delete(e.path);
  await store.putStream(path, fill);
  const blob = await store.blob(path);
  if (!blob) throw new Error(`${path} was written but cannot be read back`);
  return blob;
}

/** Delete one stored checkpoint (the Storage panel). */
export async function deleteStoredCheckpoint(runId: string, step: number): Promise<void> {
  if (!repo) return;
  await repo.deleteCheckpoint(runId, step);
  await refreshUsage();
}

/** Remove the scratch copies of compressed .npz members that the page is not reading from. */
export async function clearScratchCopies(): Promise<void> {
  await clearScratch().catch(() => {});
  await refreshUsage();
}

export { formatBytes };
