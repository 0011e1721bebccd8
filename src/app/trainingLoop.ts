// The runs of this page, outside React: the state machine of the buttons around each run, over the run
// engine (src/engine/engineHost.ts, reached through src/app/engineClient.ts: in a dedicated Worker in the
// browser, on this thread in Node tests and where a worker gets no GPU adapter):
//
//   ready ──start──▶ starting ──▶ running ──pause──▶ paused ──resume──▶ running ──▶ done
//     │                              │                  │
//     └──step──▶ (starting) ─▶ paused ◀──step──┘        └──stop──▶ stopped      (any) ──reset──▶ ready
//
// The engine holds one RunSession per built run (src/engine/runSession.ts) that trains, reads metrics back,
// evaluates and checkpoints on the schedule of src/engine/schedule.ts; this module sends the verbs as
// commands, applies the session's events to the stores (plain data only) and reports failures in words.
// Each build of a run has a number (`gen`): reset, delete and a lost device close the build and take a new
// number, and events of an old build are dropped, so work begun before writes nothing afterwards.
import { architectureOf } from '../sae/architectures';
import { totalSteps, tokensPerStep, type TrainConfig } from '../sae/config';
import type { SaeTrainerApi, TrainerState } from '../sae/trainerApi';
import type { StepMetrics } from '../sae/types';
import type { ByteSink } from '../io/checkpoint';
import type { RunData, SessionEvent } from '../engine/runSession';
import type { RestoreSpec } from '../engine/protocol';
import { findRun, useRunsStore, type RunStatus } from '../store/runsStore';
import { useAnalysisStore } from '../store/analysisStore';
import { useAppStore } from '../store/appStore';
import { emitRunEvent } from './runEvents';
import { etaSeconds, RateMeter } from './rateMeter';
import { EngineClient, inProcessEngine, type TrainingBackend } from './engineClient';

export type { RunData, TrainingBackend };

/** Where a run continues from: loaded lazily, when the run is next built (src/app/persistence). */
export type RestoreSource = () => Promise<
  { dataKey: string } & (
    | { position: unknown; state: TrainerState }
    | { checkpoint: Blob; fileName: string }
    | { checkpointPath: string }
  )
>;

/** A run's checkpoint, ready to be streamed from the engine into storage. */
export interface CheckpointWriter {
  /** The step it is of. */
  step: number;
  /** Stream it into `sink` (one tensor at a time); resolves with its step. */
  write(sink: ByteSink, extra: Record<string, unknown>): Promise<number>;
  /**
   * Where the engine writes storage files itself (the worker's OPFS sync handles): write it to `path`;
   * resolves with the file's bytes.
   */
  writeFile?(path: string, extra: Record<string, unknown>): Promise<number>;
}

/** Where runs are kept (src/app/persistence installs it); the loop calls it, nothing listens for events. */
export interface RunStorage {
  /** Write the run's checkpoint (the engine's loop waits, so the trainer and the data position agree). */
  saveCheckpoint(runId: string, checkpoint: CheckpointWriter): Promise<void>;
  /** The run was reset: its old trajectory's checkpoints do not belong to the fresh run. */
  runReset(runId: string): void;
  /** A run started training on the engine's device (watch it for loss). */
  runStarted(runId: string): void;
  /** Building the run failed: where it can continue from a checkpoint, the source (it stays resumable). */
  restoreAfterFailure(runId: string): Promise<RestoreSource | null>;
}

interface Controller {
  /** The build number: bumped when the engine's session is closed (reset, delete, device loss). */
  gen: number;
  /** The engine holds a session of build `gen`. */
  built: boolean;
  building: Promise<boolean> | null;
  /** Set to false to make the loop stop after the current step. */
  wantRunning: boolean;
  /** Status the loop leaves the run in when it stops early. */
  stopAs: 'paused' | 'stopped';
  loop: Promise<void> | null;
  /** A single step in flight (Resume waits for it: its reply would otherwise mark the run paused). */
  stepping: Promise<void> | null;
  rate: RateMeter;
  /** Read-backs not yet written to the store, and when the store was last written. */
  unflushed: StepMetrics[];
  lastFlush: number;
  /** The step the engine's session was at when it last said. */
  step: number;
  /** A saved point to build from instead of a fresh init (persistence: reload, device loss). */
  restore: RestoreSource | null;
}

let engine: EngineClient | null = null;
let storage: RunStorage | null = null;
let clock: () => number = () => performance.now();
let offClusterK: (() => void) | null = null;
const controllers = new Map<string, Controller>();

/** Train on this thread over `b` (the page's device and data; Node tests drive it on Dawn). */
export function setTrainingBackend(b: TrainingBackend): void {
  setEngine(inProcessEngine(b), () => b.now());
}

/** Train on `client`'s engine (boot: the Worker); its session events are applied to the stores. */
export function setEngine(client: EngineClient, now: () => number = () => performance.now()): void {
  engine = client;
  clock = now;
  client.onSession((runId, gen, e) => {
    if (engine !== client) return;
    const c = controllers.get(runId);
    if (c && c.gen === gen) apply(runId, c, e);
  });
  client.handle('saveCheckpoint', async ({ runId, gen, step }) => {
    const c = controllers.get(runId);
    if (engine !== client || !c || c.gen !== gen) return null;
    // The saved run record must include the history up to the checkpoint.
    flush(runId, c);
    try {
      await storage?.saveCheckpoint(runId, {
        step,
        write: (sink, extra) => client.streamCheckpoint(runId, sink, extra),
        writeFile: client.files
          ? async (path, extra) => (await client.call('writeCheckpointFile', { runId, path, extra })).bytes
          : undefined,
      });
    } catch (e) {
      // Saving is best effort: a failed checkpoint never stops training (persistence reports it).
      console.warn(`checkpoint of ${runId} at step ${step} failed:`, e);
    }
    return null;
  });
  // The engine clusters features at each evaluation as the analysis view asks.
  offClusterK?.();
  const send = (k: number) => void client.call('settings', { clusterK: k }).catch(() => {});
  send(useAnalysisStore.getState().clusterK);
  offClusterK = useAnalysisStore.subscribe((s, prev) => {
    if (s.clusterK !== prev.clusterK) send(s.clusterK);
  });
}

/** The engine the runs train on (commands for evaluation, the inspector, exports). */
export function getEngine(): EngineClient {
  if (!engine)
    throw new Error(
      'The training engine is not installed (call setEngine or setTrainingBackend at startup).',
    );
  return engine;
}

export function setRunStorage(s: RunStorage | null): void {
  storage = s;
}

function ctlOf(id: string): Controller {
  let c = controllers.get(id);
  if (!c) {
    c = {
      gen: 1,
      built: false,
      building: null,
      wantRunning: false,
      stopAs: 'paused',
      loop: null,
      stepping: null,
      rate: new RateMeter(),
      unflushed: [],
      lastFlush: -Infinity,
      step: 0,
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
 * waiting on the lost device ends on its own later; its build was closed, so it writes nothing.
 */
export function rebuildRunFrom(id: string, source: RestoreSource): void {
  const c = ctlOf(id);
  void release(id, c);
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
  if (storage && c && !c.built) {
    // A saved run that could not be rebuilt (e.g. its files are not loaded yet) stays resumable: the
    // message says what to do, and Resume tries again from the same checkpoint.
    const gen = c.gen;
    void storage
      .restoreAfterFailure(id)
      .then((source) => {
        if (!source || c.gen !== gen || findRun(id)?.status !== 'error') return;
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
  c.lastFlush = clock();
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
      const now = clock();
      c.step = e.metrics.step;
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
          ...(r.literature?.groups ? { prefixes: r.literature.groups } : {}),
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

/** What the engine builds the run from: a saved state or checkpoint (restore), else fresh weights. */
async function restoreSpec(
  id: string,
  c: Controller,
): Promise<{ dataKey: string; spec: RestoreSpec | null }> {
  const run = findRun(id)!;
  if (!c.restore) return { dataKey: run.dataKey, spec: null };
  const r = await c.restore();
  const spec: RestoreSpec =
    'state' in r
      ? { position: r.position, state: r.state }
      : 'checkpointPath' in r
        ? { checkpointPath: r.checkpointPath }
        : { checkpoint: r.checkpoint, fileName: r.fileName };
  return { dataKey: r.dataKey, spec };
}

/** An error of a build that was closed meanwhile is no news: the caller drops it. */
class Superseded extends Error {}

async function ensureBuilt(id: string, c: Controller): Promise<boolean> {
  if (c.built) return true;
  const gen = c.gen;
  if (!c.building) {
    c.building = (async () => {
      setStatus(id, 'starting');
      const eng = getEngine();
      try {
        const { dataKey, spec } = await restoreSpec(id, c);
        await eng.ensureData(dataKey);
        const cfg = findRun(id)!.config;
        const r = await eng.call('open', { runId: id, gen, cfg, dataKey, restore: spec });
        if (c.gen !== gen) return false;
        c.step = r.step;
        c.restore = null;
        c.built = true;
        return true;
      } catch (e) {
        if (c.gen !== gen) throw new Superseded();
        throw e;
      }
    })().finally(() => {
      if (c.gen === gen) c.building = null;
    });
  }
  try {
    return (await c.building) && c.gen === gen && c.built;
  } catch (e) {
    if (e instanceof Superseded || c.gen !== gen) return false;
    throw e;
  }
}

async function loop(id: string, c: Controller): Promise<void> {
  const gen = c.gen;
  const cfg = findRun(id)!.config;
  c.rate.restart();
  c.rate.sample(clock(), c.step * tokensPerStep(cfg));
  try {
    const r = await getEngine().call('train', { runId: id, gen });
    if (r.end === 'cancelled' || c.gen !== gen) return;
    c.step = r.step;
    flush(id, c);
    if (r.end === 'done') {
      setStatus(id, 'done');
      emitRunEvent({ type: 'done', runId: id, step: r.step });
    } else {
      const as = r.end === 'stop' ? 'stopped' : 'paused';
      setStatus(id, as);
      emitRunEvent({ type: as, runId: id, step: r.step });
    }
  } catch (e) {
    if (c.gen === gen) {
      flush(id, c);
      fail(id, e);
    }
  } finally {
    if (c.gen === gen) c.wantRunning = false;
  }
}

function launch(id: string, c: Controller) {
  c.wantRunning = true;
  c.stopAs = 'paused';
  setStatus(id, 'running');
  storage?.runStarted(id);
  const p: Promise<void> = loop(id, c).finally(() => {
    if (c.loop === p) c.loop = null;
  });
  c.loop = p;
}

/** Tell the engine's loop how to go on after the step in progress. */
function control(id: string, c: Controller, after: 'pause' | 'stop') {
  c.wantRunning = false;
  c.stopAs = after === 'stop' ? 'stopped' : 'paused';
  void getEngine()
    .call('control', { runId: id, gen: c.gen, after })
    .catch(() => {});
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
  control(id, c, 'pause');
  await c.loop;
}

export async function resumeRun(id: string): Promise<void> {
  const c = controllers.get(id);
  // A step's events arrive before its reply: the page may see the step and resume before it ended.
  if (c?.stepping) await c.stepping;
  if (!c || (!c.built && !c.restore) || status(id) !== 'paused' || c.loop) return;
  if (!c.built) {
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
  // One step at a time: a second press waits for the first step's reply (a key held down queues steps).
  const before = c.stepping ?? Promise.resolve();
  const p = before
    .then(() => stepOnce(id, c))
    .finally(() => {
      if (c.stepping === p) c.stepping = null;
    });
  c.stepping = p;
  return p;
}

async function stepOnce(id: string, c: Controller): Promise<void> {
  const gen = c.gen;
  try {
    if (!(await ensureBuilt(id, c))) return;
    const r = await getEngine().call('step', { runId: id, gen });
    if (!r.stepped || c.gen !== gen) return;
    c.step = r.step;
    flush(id, c);
    setStatus(id, 'paused');
    emitRunEvent({ type: 'stepped', runId: id, step: r.step });
  } catch (e) {
    if (c.gen === gen) fail(id, e);
  }
}

/** End the run early; its trainer stays for evaluation and export. */
export async function stopRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (c?.stepping) await c.stepping;
  const s = status(id);
  if (c?.loop) {
    control(id, c, 'stop');
    await c.loop;
  } else if (s === 'paused') {
    setStatus(id, 'stopped');
    emitRunEvent({ type: 'stopped', runId: id, step: c?.built ? c.step : 0 });
    // A stopped run has ended: it gets its final evaluation, as at the end of a loop.
    if (c?.built)
      void getEngine()
        .call('evaluateAtEnd', { runId: id })
        .catch(() => {});
  }
}

/** Cancel everything the run has in flight and free its GPU memory (its record stays). */
function release(id: string, c: Controller): Promise<void> {
  c.gen++;
  c.built = false;
  c.building = null;
  c.wantRunning = false;
  c.unflushed = [];
  c.restore = null;
  c.step = 0;
  if (!engine) return Promise.resolve();
  return engine.call('close', { runId: id }).then(
    () => {},
    () => {},
  );
}

/** Forget the trained weights and history: the run is 'ready' again with the same config and seed. */
export async function resetRun(id: string): Promise<void> {
  const c = controllers.get(id);
  if (c) {
    const loop = c.loop;
    const closed = release(id, c);
    await loop;
    await closed;
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
    const closed = release(id, c);
    controllers.delete(id);
    await loop;
    await closed;
  }
  useRunsStore.getState().removeRun(id);
  useAnalysisStore.getState().forgetRun(id);
  emitRunEvent({ type: 'deleted', runId: id });
}

/** True while the engine holds the run's trained weights (built, not reset or lost). */
export function runIsBuilt(id: string): boolean {
  return controllers.get(id)?.built ?? false;
}

/** The step the run's session was at when the engine last said (0 when not built). */
export function runStep(id: string): number {
  const c = controllers.get(id);
  return c?.built ? c.step : 0;
}

/**
 * The live trainer and data of a run, where the engine runs on this thread (tests, DevTools); null
 * before start / after reset, and always null for the worker's engine (ask it with commands).
 */
export function getRunHandles(id: string): { trainer: SaeTrainerApi; data: RunData } | null {
  return engine?.host?.handles(id) ?? null;
}

/** Resolves when the run's loop (if any) has ended. */
export function whenIdle(id: string): Promise<void> {
  return controllers.get(id)?.loop ?? Promise.resolve();
}
