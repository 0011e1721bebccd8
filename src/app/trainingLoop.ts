// The runs of this page, outside React: one RunSession (src/engine/runSession.ts) per built run, and the
// state machine of the buttons around it:
//
//   ready ──start──▶ starting ──▶ running ──pause──▶ paused ──resume──▶ running ──▶ done
//     │                              │                  │
//     └──step──▶ (starting) ─▶ paused ◀──step──┘        └──stop──▶ stopped      (any) ──reset──▶ ready
//
// The session trains, reads metrics back, evaluates and checkpoints on the schedule of
// src/engine/schedule.ts; this module applies the session's events to the stores (the store receives
// plain data only) and reports failures in words. Each run has one cancellation: an AbortController,
// aborted by reset, delete and a lost device; work begun before it writes nothing afterwards.
import { architectureOf } from '../sae/architectures';
import { totalSteps, tokensPerStep, type TrainConfig } from '../sae/config';
import type { SaeTrainerApi, TrainerState } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import type { ActivationBatch } from '../data/types';
import type { OpenedCheckpoint } from '../io/checkpoint';
import { RunSession, type RunData, type SessionEvent } from '../engine/runSession';
import { findRun, useRunsStore, type RunStatus } from '../store/runsStore';
import { useAnalysisStore } from '../store/analysisStore';
import { useAppStore } from '../store/appStore';
import { emitRunEvent } from './runEvents';
import { etaSeconds, RateMeter } from './rateMeter';

export type { RunData };

/** What the loop needs from the rest of the app; the real one is in src/app/trainingBackend.ts. */
export interface TrainingBackend {
  /** Open the run's data (the source under `dataKey`) as batches of cfg.seqs_per_batch × cfg.context_size. */
  openData(dataKey: string, cfg: TrainConfig): Promise<RunData>;
  /** Build the trainer from weights initialised on the first batch (SPEC §3); throws a readable Error. */
  createTrainer(cfg: TrainConfig, firstBatch: ActivationBatch): Promise<SaeTrainerApi>;
  /** Persistence: open the data at a saved position (the batcher's getState()), for an exact resume. */
  openDataAt?(dataKey: string, cfg: TrainConfig, position: unknown): Promise<RunData>;
  /**
   * Persistence: a trainer on the current (possibly new) device from a saved TrainerState, or empty
   * (null) to be filled from a streamed checkpoint.
   */
  restoreTrainer?(cfg: TrainConfig, state: TrainerState | null): Promise<SaeTrainerApi>;
  /** Let the event loop run (input, rendering) between steps. */
  yieldToPage(): Promise<void>;
  now(): number;
}

/** Where a run continues from: loaded lazily, when the run is next built (src/app/persistence). */
export type RestoreSource = () => Promise<
  { dataKey: string; position: unknown } & ({ state: TrainerState } | { checkpoint: OpenedCheckpoint })
>;

/** Where runs are kept (src/app/persistence installs it); the loop calls it, nothing listens for events. */
export interface RunStorage {
  /** Write the session's checkpoint (the loop waits, so the trainer and the data position agree). */
  saveCheckpoint(runId: string, session: RunSession): Promise<void>;
  /** The run was reset: its old trajectory's checkpoints do not belong to the fresh run. */
  runReset(runId: string): void;
  /** A run started training on the page's device (watch it for loss). */
  runStarted(runId: string): void;
  /** Building the run failed: where it can continue from a checkpoint, the source (it stays resumable). */
  restoreAfterFailure(runId: string): Promise<RestoreSource | null>;
}

interface Controller {
  session: RunSession | null;
  /** The run's one cancellation; replaced by a fresh one when aborted. */
  abort: AbortController;
  building: Promise<void> | null;
  /** Set to false to make the loop stop after the current step. */
  wantRunning: boolean;
  /** Status the loop leaves the run in when it stops early. */
  stopAs: 'paused' | 'stopped';
  loop: Promise<void> | null;
  rate: RateMeter;
  /** Read-backs not yet written to the store, and when the store was last written. */
  unflushed: StepMetrics[];
  lastFlush: number;
  /** A saved point to build from instead of a fresh init (persistence: reload, device loss). */
  restore: RestoreSource | null;
}

let backend: TrainingBackend | null = null;
let storage: RunStorage | null = null;
const controllers = new Map<string, Controller>();

export function setTrainingBackend(b: TrainingBackend): void {
  backend = b;
}

export function setRunStorage(s: RunStorage | null): void {
  storage = s;
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
      session: null,
      abort: new AbortController(),
      building: null,
      wantRunning: false,
      stopAs: 'paused',
      loop: null,
      rate: new RateMeter(),
      unflushed: [],
      lastFlush: -Infinity,
      restore: null,
    };
    controllers.set(id, c);
  }
  return c;
}

/** The next build of this run continues from `source` (a persisted run after a reload). */
export function setRunRestore(id: string, source: RestoreSource | null): void {
  ctlOf(id).restore = source;
}

/**
 * Drop the run's session (its device was lost) and continue from `source` when resumed. A loop still
 * waiting on the lost device ends on its own later; its session was cancelled, so it writes nothing.
 */
export function rebuildRunFrom(id: string, source: RestoreSource): void {
  const c = ctlOf(id);
  release(c);
  c.loop = null;
  c.building = null;
  c.restore = source;
}

function status(id: string): RunStatus | undefined {
  return findRun(id)?.status;
}

function setStatus(id: string, s: RunStatus, error?: string) {
  useRunsStore.getState().setRunStatus(id, s, error);
}

/** The key of a run's message at the top of the page: news about a run replaces its older news. */
export function runMessageKey(id: string): string {
  return `run:${id}`;
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
    key: runMessageKey(id),
  });
  emitRunEvent({ type: 'error', runId: id, message });
  const c = controllers.get(id);
  if (storage && c && !c.session) {
    // A saved run that could not be rebuilt (e.g. its files are not loaded yet) stays resumable: the
    // message says what to do, and Resume tries again from the same checkpoint.
    const signal = c.abort.signal;
    void storage
      .restoreAfterFailure(id)
      .then((source) => {
        if (!source || signal.aborted || findRun(id)?.status !== 'error') return;
        setStatus(id, 'paused');
        c.restore = source;
      })
      .catch(() => {}); // the run keeps its error message; nothing else to say
  }
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
// The session's events, applied to the stores

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

function apply(id: string, c: Controller, e: SessionEvent): void {
  if (!findRun(id)) return;
  const analysis = useAnalysisStore.getState();
  switch (e.type) {
    case 'metrics': {
      const now = need().now();
      c.rate.sample(now, e.metrics.tokens_seen);
      c.unflushed.push(e.metrics);
      if (e.flush || now - c.lastFlush >= FLUSH_MS) flush(id, c);
      emitRunEvent({ type: 'metrics', runId: id, metrics: e.metrics });
      break;
    }
    case 'evaluating':
      analysis.evaluationStarted(id);
      break;
    case 'evaluated': {
      const { step, stepEnd, tokensSeen, ms, result: r } = e.evaluation;
      analysis.evaluationRecorded(
        id,
        {
          step,
          tokensSeen,
          metrics: r.metrics,
          byPosition: r.byPosition,
          densityHist: r.densityHist,
          ms,
          stepEnd,
        },
        { step, T: r.T, clustering: r.clustering, features: r.features },
      );
      break;
    }
    case 'evaluationFailed':
      analysis.evaluationFailed(id, e.message);
      break;
  }
}

// ---------------------------------------------------------------------------------------------------
// Building, stepping

async function openSession(id: string, c: Controller, signal: AbortSignal): Promise<RunSession | null> {
  const run = findRun(id)!;
  const b = need();
  const cfg = run.config;
  let restore = null;
  let dataKey = run.dataKey;
  if (c.restore) {
    if (!b.openDataAt || !b.restoreTrainer)
      throw new Error('This training backend cannot restore saved runs.');
    const r = await c.restore();
    dataKey = r.dataKey;
    restore =
      'state' in r
        ? { position: r.position, state: r.state }
        : { position: r.position, checkpoint: r.checkpoint };
  }
  return RunSession.open({
    cfg,
    signal,
    restore,
    openData: (position) => (restore ? b.openDataAt!(dataKey, cfg, position) : b.openData(dataKey, cfg)),
    createTrainer: (from) =>
      'firstBatch' in from
        ? b.createTrainer(cfg, from.firstBatch)
        : b.restoreTrainer!(cfg, 'state' in from ? from.state : null),
    yieldToHost: () => b.yieldToPage(),
    now: () => b.now(),
    onEvent: (e) => apply(id, c, e),
    saveCheckpoint: async (s) => {
      // The saved run record must include the history up to the checkpoint.
      flush(id, c);
      try {
        await storage?.saveCheckpoint(id, s);
      } catch (e) {
        // Saving is best effort: a failed checkpoint never stops training (persistence reports it).
        console.warn(`checkpoint of ${id} at step ${s.step} failed:`, e);
      }
    },
    evaluation: 'background',
    clusterK: () => useAnalysisStore.getState().clusterK,
  });
}

async function ensureBuilt(id: string, c: Controller): Promise<boolean> {
  if (c.session) return true;
  const signal = c.abort.signal;
  if (!c.building) {
    c.building = (async () => {
      setStatus(id, 'starting');
      const s = await openSession(id, c, signal);
      if (!s || signal.aborted) return;
      c.restore = null;
      c.session = s;
    })().finally(() => {
      c.building = null;
    });
  }
  await c.building;
  return !signal.aborted && c.session !== null;
}

async function loop(id: string, c: Controller, s: RunSession): Promise<void> {
  const b = need();
  c.rate.restart();
  c.rate.sample(b.now(), s.step * tokensPerStep(s.cfg));
  try {
    const end = await s.train({
      after: () => (c.wantRunning ? 'none' : c.stopAs === 'stopped' ? 'stop' : 'pause'),
    });
    if (end === 'cancelled' || s.signal.aborted) return;
    flush(id, c);
    if (end === 'done') {
      setStatus(id, 'done');
      emitRunEvent({ type: 'done', runId: id, step: s.step });
    } else {
      const as = end === 'stop' ? 'stopped' : 'paused';
      setStatus(id, as);
      emitRunEvent({ type: as, runId: id, step: s.step });
    }
  } catch (e) {
    if (!s.signal.aborted) {
      flush(id, c);
      fail(id, e);
    }
  } finally {
    if (!s.signal.aborted) c.wantRunning = false;
  }
}

function launch(id: string, c: Controller) {
  c.wantRunning = true;
  c.stopAs = 'paused';
  setStatus(id, 'running');
  storage?.runStarted(id);
  const p: Promise<void> = loop(id, c, c.session!).finally(() => {
    if (c.loop === p) c.loop = null;
  });
  c.loop = p;
}

// ---------------------------------------------------------------------------------------------------
// The verbs. Each is safe to call in any state: a verb that does not apply does nothing.

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
  if (!c || (!c.session && !c.restore) || status(id) !== 'paused' || c.loop) return;
  if (!c.session) {
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
    const session = c.session!;
    if (!(await session.stepOnce())) return;
    if (session.signal.aborted) return;
    flush(id, c);
    setStatus(id, 'paused');
    emitRunEvent({ type: 'stepped', runId: id, step: session.step });
  } catch (e) {
    if (!c.abort.signal.aborted) fail(id, e);
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
    emitRunEvent({ type: 'stopped', runId: id, step: c?.session?.step ?? 0 });
    // A stopped run has ended: it gets its final evaluation, as at the end of a loop.
    void c?.session?.evaluateAtEnd();
  }
}

/** Cancel everything the run has in flight and free its GPU memory (its record stays). */
function release(c: Controller) {
  c.abort.abort();
  c.abort = new AbortController();
  c.wantRunning = false;
  c.session = null;
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
  useAnalysisStore.getState().forgetRun(id);
  setStatus(id, 'ready');
  storage?.runReset(id);
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
  useAnalysisStore.getState().forgetRun(id);
  emitRunEvent({ type: 'deleted', runId: id });
}

/** The run's live session (null before start / after reset), for evaluation, export and comparison. */
export function getRunSession(id: string): RunSession | null {
  return controllers.get(id)?.session ?? null;
}

/** The live trainer and data of a run (null before start / after reset). */
export function getRunHandles(id: string): { trainer: SaeTrainerApi; data: RunData } | null {
  const s = getRunSession(id);
  return s && !s.closed ? { trainer: s.trainer, data: s.data } : null;
}

/** Resolves when the run's loop (if any) has ended. */
export function whenIdle(id: string): Promise<void> {
  return controllers.get(id)?.loop ?? Promise.resolve();
}
