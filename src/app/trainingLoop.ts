// The training loop, outside React. One module owns every run's state transitions:
//
//   ready ──start──▶ starting ──▶ running ──pause──▶ paused ──resume──▶ running ──▶ done
//     │                              │                  │
//     └──step──▶ (starting) ─▶ paused ◀──step──┘        └──stop──▶ stopped      (any) ──reset──▶ ready
//
// Per step the main thread only fetches a batch and records one command buffer (trainer.trainStep
// never awaits the GPU); metrics are read back asynchronously every `metrics_every` steps, which also
// keeps the CPU from running ahead of the GPU. Between steps the loop yields to the event loop so the
// page stays responsive. The store receives plain data only; GPU objects stay in this module.
import { architectureOf } from '../sae/architectures';
import { totalSteps, tokensPerStep, type TrainConfig } from '../sae/config';
import type { SaeTrainerApi, TrainerState } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import type { ActivationBatch } from '../data/types';
import { findRun, useRunsStore, type RunStatus } from '../store/runsStore';
import { useAppStore } from '../store/appStore';
import { emitRunEvent } from './runEvents';
import { etaSeconds, RateMeter } from './rateMeter';

/** The training batches of one run. */
export interface RunData {
  next(): Promise<ActivationBatch>;
  /** The underlying batcher (src/data), for persistence (position state) and evaluation (held-out). */
  batcher?: unknown;
  destroy?(): void;
}

/** What the loop needs from the rest of the app; the real one is in src/app/trainingBackend.ts. */
export interface TrainingBackend {
  /** Open the run's data (the source under `dataKey`) as batches of cfg.seqs_per_batch × cfg.context_size. */
  openData(dataKey: string, cfg: TrainConfig): Promise<RunData>;
  /** Initialise weights from the first batch (SPEC §3) and build the trainer; throws a readable Error. */
  createTrainer(cfg: TrainConfig, firstBatch: ActivationBatch): Promise<SaeTrainerApi>;
  /** Persistence: open the data at a saved position (the batcher's getState()), for an exact resume. */
  openDataAt?(dataKey: string, cfg: TrainConfig, position: unknown): Promise<RunData>;
  /** Persistence: rebuild a trainer from a saved TrainerState on the current (possibly new) device. */
  restoreTrainer?(cfg: TrainConfig, state: TrainerState): Promise<SaeTrainerApi>;
  /** Let the event loop run (input, rendering) between steps. */
  yieldToPage(): Promise<void>;
  now(): number;
}

interface Controller {
  trainer: SaeTrainerApi | null;
  data: RunData | null;
  /** The first batch, used for init and then trained on as step 1. */
  pending: ActivationBatch | null;
  /** Set to false to make the loop stop after the current step. */
  wantRunning: boolean;
  /** Status the loop leaves the run in when it stops early. */
  stopAs: 'paused' | 'stopped';
  loop: Promise<void> | null;
  building: Promise<void> | null;
  lastReadStep: number;
  rate: RateMeter;
  /** Read-backs not yet written to the store, and when the store was last written. */
  unflushed: StepMetrics[];
  lastFlush: number;
  /** Bumped by reset/delete so that work started before it does not write into the store. */
  epoch: number;
  /** A saved point to build from instead of a fresh init (persistence: reload, device loss). */
  restore: RestoreSource | null;
}

/** Where a run continues from: loaded lazily, when the run is next built (src/app/persistence). */
export type RestoreSource = () => Promise<{ dataKey: string; position: unknown; state: TrainerState }>;
/** Called with the loop waiting, so the trainer and the data position agree (src/app/persistence). */
export type CheckpointHook = (runId: string, reason: 'interval' | 'pause') => Promise<void>;
let checkpointHook: CheckpointHook | null = null;

export function setCheckpointHook(hook: CheckpointHook | null): void {
  checkpointHook = hook;
}

async function checkpointNow(id: string, reason: 'interval' | 'pause'): Promise<void> {
  try {
    await checkpointHook?.(id, reason);
  } catch (e) {
    // Saving is best effort: a failed checkpoint must never stop training (persistence reports it).
    console.warn(`checkpoint of ${id} failed:`, e);
  }
}

/** The next build of this run continues from `source` (a persisted run after a reload). */
export function setRunRestore(id: string, source: RestoreSource | null): void {
  ctlOf(id).restore = source;
}

/**
 * Drop the run's trainer and data (its device was lost) and continue from `source` when resumed. A loop
 * still waiting on the lost device ends on its own later; its epoch no longer matches, so it writes nothing.
 */
export function rebuildRunFrom(id: string, source: RestoreSource): void {
  const c = ctlOf(id);
  release(c);
  c.loop = null;
  c.building = null;
  c.restore = source;
}

/** Build a run's trainer and data without training (an imported SAE to evaluate or inspect); it ends paused. */
export async function prepareRun(id: string): Promise<boolean> {
  const c = ctlOf(id);
  try {
    if (!(await ensureBuilt(id, c))) return false;
  } catch (e) {
    fail(id, e);
    return false;
  }
  setStatus(id, 'paused');
  return true;
}

async function buildRestored(b: TrainingBackend, cfg: TrainConfig, source: RestoreSource) {
  if (!b.openDataAt || !b.restoreTrainer) throw new Error('This training backend cannot restore saved runs.');
  const r = await source();
  const data = await b.openDataAt(r.dataKey, cfg, r.position);
  try {
    return { data, trainer: await b.restoreTrainer(cfg, r.state) };
  } catch (e) {
    data.destroy?.();
    throw e;
  }
}

let backend: TrainingBackend | null = null;
const controllers = new Map<string, Controller>();

export function setTrainingBackend(b: TrainingBackend): void {
  backend = b;
}

function need(): TrainingBackend {
  if (!backend)
    throw new Error('The training backend is not installed (call setTrainingBackend at startup).');
  return backend;
}

function ctlOf(id: string): Controller {
  let c = controllers.get(id);
  if (!c) {
    c = {
      trainer: null,
      data: null,
      pending: null,
      wantRunning: false,
      stopAs: 'paused',
      loop: null,
      building: null,
      lastReadStep: -1,
      rate: new RateMeter(),
      unflushed: [],
      lastFlush: -Infinity,
      epoch: 0,
      restore: null,
    };
    controllers.set(id, c);
  }
  return c;
}

function status(id: string): RunStatus | undefined {
  return findRun(id)?.status;
}

function setStatus(id: string, s: RunStatus, error?: string) {
  useRunsStore.getState().setRunStatus(id, s, error);
}

/** What to do next after a failure, by kind (errors are told apart by name: the loop imports no GPU code). */
export function adviceFor(e: unknown, cfg: TrainConfig | undefined): string {
  const name = e instanceof Error ? e.name : '';
  if (name === 'TrainingDivergedError')
    return `In the panel, lower the learning rate (it is ${cfg?.lr ?? '?'}) or λ1/λ2 and press Start for a new run; this run's charts stay for comparison.`;
  if (name === 'ConfigRefusedError')
    return 'Make d_sae or sequences × length smaller in the panel and press Start for a new run.';
  if (name === 'DataFileError')
    return 'Fix the file or drop another one, then press Reset to try this run again.';
  return 'Press Reset to try this run again, or change the config and press Start for a new run.';
}

/** Turn any failure into words a researcher can act on, and show it on the run and at the top. */
function fail(id: string, e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  const run = findRun(id);
  const advice = adviceFor(e, run?.config);
  setStatus(id, 'error', `${message} ${advice}`);
  useAppStore.getState().postMessage({
    level: 'error',
    title: `Run “${run?.name ?? id}” stopped`,
    detail: `${message} ${advice}`,
  });
  emitRunEvent({ type: 'error', runId: id, message });
}

// ---------------------------------------------------------------------------------------------------
// Creating runs

export interface CreateRunOptions {
  config: TrainConfig;
  dataKey: string;
  dataLabel: string;
  name?: string;
  controlOf?: string | null;
}

function describeConfig(c: TrainConfig): string {
  const arch = architectureOf(c).label(c);
  return `${arch} ${c.d_sae} · λ2 ${c.temporal_coefficient}`;
}

/** Add a run in status 'ready' (nothing allocated) and select it; returns its id. */
export function createRun(o: CreateRunOptions): string {
  const id = useRunsStore.getState().addRun({
    name: o.name ?? describeConfig(o.config),
    config: o.config,
    dataKey: o.dataKey,
    dataLabel: o.dataLabel,
    controlOf: o.controlOf ?? null,
  });
  emitRunEvent({ type: 'created', runId: id });
  return id;
}

/** A control run for `id`: the same config, data and seed with λ2 = 0 (a plain SAE). */
export function makeControlRun(id: string): string {
  const run = findRun(id);
  if (!run) throw new Error(`No run ${id}`);
  const config = { ...run.config, temporal_coefficient: 0 };
  return createRun({
    config,
    dataKey: run.dataKey,
    dataLabel: run.dataLabel,
    name: `${describeConfig(config)} · control of ${run.id}`,
    controlOf: id,
  });
}

// ---------------------------------------------------------------------------------------------------
// Building, stepping, reading back

async function ensureBuilt(id: string, c: Controller): Promise<boolean> {
  if (c.trainer) return true;
  if (!c.building) {
    const epoch = c.epoch;
    c.building = (async () => {
      const run = findRun(id)!;
      setStatus(id, 'starting');
      const b = need();
      const restored = c.restore ? await buildRestored(b, run.config, c.restore) : null;
      const data = restored?.data ?? (await b.openData(run.dataKey, run.config));
      if (c.epoch !== epoch) {
        restored?.trainer.destroy();
        return data.destroy?.();
      }
      const first = restored ? null : await data.next();
      const trainer = restored?.trainer ?? (await b.createTrainer(run.config, first!));
      c.restore = null;
      if (c.epoch !== epoch) {
        trainer.destroy();
        return data.destroy?.();
      }
      c.data = data;
      c.pending = first;
      c.trainer = trainer;
    })().finally(() => {
      c.building = null;
    });
  }
  const epoch = c.epoch;
  await c.building;
  return c.epoch === epoch && c.trainer !== null;
}

async function stepOnce(c: Controller): Promise<void> {
  const batch = c.pending ?? (await c.data!.next());
  c.pending = null;
  c.trainer!.trainStep(batch);
}

/** Read the latest step's metrics into the store (once per step), with speed and time left. */
/**
 * The store (and so React) gets read-backs at most every FLUSH_MS: on a fast GPU a run may read back
 * dozens of times a second, and re-drawing every chart for each would make the page the bottleneck.
 * Events still go out per read-back; everything is flushed before a checkpoint and when the loop stops.
 */
export const FLUSH_MS = 150;

function flush(id: string, c: Controller): void {
  if (c.unflushed.length === 0) return;
  const store = useRunsStore.getState();
  const ms = c.unflushed;
  c.unflushed = [];
  c.lastFlush = need().now();
  store.appendMetricsBatch(id, ms);
  const m = ms[ms.length - 1];
  const run = findRun(id)!;
  const rate = c.rate.tokensPerSec;
  store.setRunProgress(id, {
    step: m.step,
    tokensSeen: m.tokens_seen,
    tokensPerSec: rate,
    etaSec: etaSeconds(m.tokens_seen, totalSteps(run.config) * tokensPerStep(run.config), rate),
  });
}

/** Read the latest step's metrics (once per step); they reach the store within FLUSH_MS, or now if `force`. */
async function readAndRecord(id: string, c: Controller, force = false): Promise<StepMetrics | null> {
  const t = c.trainer!;
  if (t.step === c.lastReadStep || t.step === 0) {
    if (force) flush(id, c);
    return null;
  }
  const epoch = c.epoch;
  const m = await t.readMetrics();
  if (c.epoch !== epoch || !findRun(id)) return null;
  c.lastReadStep = m.step;
  const now = need().now();
  c.rate.sample(now, m.tokens_seen);
  c.unflushed.push(m);
  if (force || now - c.lastFlush >= FLUSH_MS) flush(id, c);
  emitRunEvent({ type: 'metrics', runId: id, metrics: m });
  return m;
}

async function loop(id: string, c: Controller): Promise<void> {
  const b = need();
  const run = findRun(id)!;
  const total = totalSteps(run.config);
  const every = Math.max(1, run.config.metrics_every);
  const epoch = c.epoch;
  c.rate.restart();
  c.rate.sample(b.now(), c.trainer!.step * tokensPerStep(run.config));
  try {
    while (c.wantRunning && c.trainer!.step < total) {
      await stepOnce(c);
      if (c.epoch !== epoch) return;
      if (c.trainer!.step % every === 0) await readAndRecord(id, c);
      else await b.yieldToPage();
      if (c.epoch !== epoch) return;
      const ce = run.config.checkpoint_every;
      if (ce > 0 && c.trainer!.step % ce === 0 && c.trainer!.step < total) {
        await readAndRecord(id, c, true);
        await checkpointNow(id, 'interval');
      }
      if (c.epoch !== epoch) return;
    }
    await readAndRecord(id, c, true);
    if (c.epoch !== epoch) return;
    await checkpointNow(id, 'pause');
    if (c.epoch !== epoch) return;
    const step = c.trainer!.step;
    if (step >= total) {
      setStatus(id, 'done');
      emitRunEvent({ type: 'done', runId: id, step });
    } else {
      setStatus(id, c.stopAs);
      emitRunEvent({ type: c.stopAs, runId: id, step });
    }
  } catch (e) {
    if (c.epoch === epoch) fail(id, e);
  } finally {
    if (c.epoch === epoch) c.wantRunning = false;
  }
}

function launch(id: string, c: Controller) {
  c.wantRunning = true;
  c.stopAs = 'paused';
  setStatus(id, 'running');
  const p: Promise<void> = loop(id, c).finally(() => {
    if (c.loop === p) c.loop = null;
  });
  c.loop = p;
}

// ---------------------------------------------------------------------------------------------------
// The verbs. Each is safe to call in any state: a verb that does not apply does nothing.

/** Build the run's data and trainer if needed and train until paused, stopped or done. */
export async function startRun(id: string): Promise<void> {
  const s = status(id);
  if (s === 'paused') return resumeRun(id);
  if (s !== 'ready') return;
  const c = ctlOf(id);
  try {
    if (!(await ensureBuilt(id, c))) return;
  } catch (e) {
    fail(id, e);
    return;
  }
  emitRunEvent({ type: 'started', runId: id });
  launch(id, c);
}

/** Stop after the current step and read its metrics; resolves once the run is paused. */
export async function pauseRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (!c || !c.loop) return;
  c.wantRunning = false;
  c.stopAs = 'paused';
  await c.loop;
}

export async function resumeRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (!c || (!c.trainer && !c.restore) || status(id) !== 'paused' || c.loop) return;
  if (!c.trainer) {
    // A run restored from storage: build it from its checkpoint first.
    try {
      if (!(await ensureBuilt(id, c))) return;
    } catch (e) {
      fail(id, e);
      return;
    }
  }
  emitRunEvent({ type: 'resumed', runId: id });
  launch(id, c);
}

/** One training step from 'ready' or 'paused' (building first if needed); the run ends up paused. */
export async function stepRun(id: string): Promise<void> {
  const s = status(id);
  if (s !== 'ready' && s !== 'paused') return;
  const c = ctlOf(id);
  try {
    if (!(await ensureBuilt(id, c))) return;
    const run = findRun(id)!;
    if (c.trainer!.step >= totalSteps(run.config)) return;
    const epoch = c.epoch;
    await stepOnce(c);
    await readAndRecord(id, c, true);
    if (c.epoch !== epoch) return;
    setStatus(id, 'paused');
    emitRunEvent({ type: 'stepped', runId: id, step: c.trainer!.step });
  } catch (e) {
    fail(id, e);
  }
}

/** End the run early; its trainer stays for evaluation and export. */
export async function stopRun(id: string): Promise<void> {
  const c = controllers.get(id);
  const s = status(id);
  if (c?.loop) {
    c.wantRunning = false;
    c.stopAs = 'stopped';
    await c.loop;
  } else if (s === 'paused') {
    setStatus(id, 'stopped');
    emitRunEvent({ type: 'stopped', runId: id, step: c?.trainer?.step ?? 0 });
  }
}

function release(c: Controller) {
  c.epoch++;
  c.wantRunning = false;
  c.trainer?.destroy();
  c.data?.destroy?.();
  c.trainer = null;
  c.data = null;
  c.pending = null;
  c.lastReadStep = -1;
  c.unflushed = [];
  c.restore = null;
}

/** Forget the trained weights and history: the run is 'ready' again with the same config and seed. */
export async function resetRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (c) {
    const loop = c.loop;
    release(c);
    await loop;
  }
  if (!findRun(id)) return;
  useRunsStore.getState().clearRunHistory(id);
  setStatus(id, 'ready');
  emitRunEvent({ type: 'reset', runId: id });
}

/** Remove a run and free its GPU memory. */
export async function deleteRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (c) {
    const loop = c.loop;
    release(c);
    controllers.delete(id);
    await loop;
  }
  useRunsStore.getState().removeRun(id);
  emitRunEvent({ type: 'deleted', runId: id });
}

/** The live trainer and data of a run (null before start / after reset), for evaluation and export. */
export function getRunHandles(id: string): { trainer: SaeTrainerApi; data: RunData } | null {
  const c = controllers.get(id);
  return c?.trainer && c.data ? { trainer: c.trainer, data: c.data } : null;
}

/** Resolves when the run's loop (if any) has ended. */
export function whenIdle(id: string): Promise<void> {
  return controllers.get(id)?.loop ?? Promise.resolve();
}
