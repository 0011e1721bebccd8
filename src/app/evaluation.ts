// Held-out evaluation of runs while they train (issue 6, SPEC §6): every eval_every steps and when a
// run ends, the run's held-out batches go through the trainer's GPU forward pass and the GPU
// evaluation reductions (trainer.evalForward: only per-batch sums come back), the metric accumulators
// of src/analysis finish them, and the result lands in the analysis store. One evaluation per run at
// a time; a request that arrives meanwhile runs right after.
// The training loop keeps stepping during an evaluation: a forward pass is queued on the GPU between
// training steps, and the record is labelled with the step at which it began.
import { evaluateHeldOut } from '../analysis/evaluate';
import type { Batcher } from '../data/batcher';
import type { ActivationBatch } from '../data/types';
import type { SaeTrainerApi } from '../sae/trainerApi';
import { useAnalysisStore } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { exposeForTests } from './gpuSession';
import { onRunEvent } from './runEvents';
import { getRunHandles } from './trainingLoop';

/** Held-out batches per evaluation at most (bounded time; the built-in default set needs 13). */
export const MAX_EVAL_BATCHES = 32;

interface GroundTruthSource {
  trueDictionary: Float32Array;
  F: number;
  tokenText?(id: number): string;
}

export interface EvalHandles {
  trainer: SaeTrainerApi;
  batcher: Batcher;
}

/** The live trainer and batcher of a run, or a message saying why it cannot be evaluated. */
export function evalHandles(runId: string): EvalHandles | string {
  const h = getRunHandles(runId);
  if (!h) return 'The run has no trained weights in this page yet: start it (or resume it) first.';
  const batcher = h.data.batcher as Batcher | undefined;
  if (!batcher || typeof batcher.heldOutBatches !== 'function')
    return 'The run’s data has no held-out split to evaluate on.';
  if (batcher.heldOutWindows === 0) return 'The held-out split is empty: load more sequences.';
  return { trainer: h.trainer, batcher };
}

export function groundTruthOf(b: Batcher): GroundTruthSource | null {
  const s = b.source as unknown as Partial<GroundTruthSource>;
  return s.trueDictionary instanceof Float32Array && typeof s.F === 'number'
    ? (s as GroundTruthSource)
    : null;
}

/** The first `max` held-out batches. */
export async function* limitBatches(b: Batcher, max = MAX_EVAL_BATCHES): AsyncGenerator<ActivationBatch> {
  let k = 0;
  for await (const batch of b.heldOutBatches()) {
    if (k++ >= max) return;
    yield batch;
  }
}

/** Held-out batches kept in host memory per batcher when they fit (then an evaluation starts exactly
 * at the step that asked for it: no read of the data between the request and the forward passes). */
export const HELD_OUT_CACHE_BYTES = 64 * 1024 * 1024;
const heldOutCache = new WeakMap<Batcher, Promise<ActivationBatch[] | null>>();

/** Read (once) and keep the held-out batches of a batcher if they fit HELD_OUT_CACHE_BYTES. */
export function cacheHeldOut(b: Batcher): Promise<ActivationBatch[] | null> {
  let p = heldOutCache.get(b);
  if (!p) {
    p = (async () => {
      const out: ActivationBatch[] = [];
      let bytes = 0;
      for await (const batch of limitBatches(b)) {
        bytes += batch.x.byteLength + batch.start.byteLength * 2;
        if (bytes > HELD_OUT_CACHE_BYTES) return null;
        out.push(batch);
      }
      return out;
    })().catch(() => null);
    heldOutCache.set(b, p);
  }
  return p;
}

const ready = new WeakMap<Batcher, ActivationBatch[] | null>();
function cachedNow(b: Batcher): ActivationBatch[] | null {
  return ready.get(b) ?? null;
}
function warm(runId: string) {
  const h = evalHandles(runId);
  if (typeof h !== 'string') void cacheHeldOut(h.batcher).then((c) => ready.set(h.batcher, c));
}

const inFlight = new Map<string, Promise<void>>();
const again = new Set<string>();
const lastEvalStep = new Map<string, number>();
/** Bumped on reset/delete so that an evaluation begun before does not land in the fresh run. */
const generation = new Map<string, number>();

/** Evaluate a run now (or right after the evaluation in progress). Resolves when its record is stored. */
export function evaluateRun(runId: string): Promise<void> {
  const cur = inFlight.get(runId);
  if (cur) {
    again.add(runId);
    return cur;
  }
  const p = (async () => {
    do {
      again.delete(runId);
      await evaluateOnce(runId);
    } while (again.has(runId));
  })().finally(() => inFlight.delete(runId));
  inFlight.set(runId, p);
  return p;
}

async function evaluateOnce(runId: string): Promise<void> {
  const store = useAnalysisStore.getState();
  const run = findRun(runId);
  if (!run) return;
  const h = evalHandles(runId);
  if (typeof h === 'string') {
    store.evaluationFailed(runId, h);
    return;
  }
  const gen = generation.get(runId) ?? 0;
  let step = h.trainer.step;
  const tokensSeen = run.progress.tokensSeen;
  store.evaluationStarted(runId);
  const t0 = performance.now();
  try {
    const gt = groundTruthOf(h.batcher);
    // The decoder is read right after the first group's forward passes (evaluateHeldOut calls W_dec
    // then), so mmcs is of the weights the other metrics are of; `step` is the step those passes saw.
    let stepEnd = step;
    const mem = cachedNow(h.batcher);
    if (!mem) warm(runId);
    const res = await evaluateHeldOut(
      (b) => h.trainer.forward(b),
      () => mem ?? limitBatches(h.batcher),
      {
        d_sae: run.config.d_sae,
        evalForward: h.trainer.evalForward?.bind(h.trainer),
        clusterK: useAnalysisStore.getState().clusterK,
        onSubmit: (g) => {
          if (g === 0) step = h.trainer.step;
          stepEnd = h.trainer.step;
        },
        groundTruth: gt
          ? { trueDict: gt.trueDictionary, F: gt.F, W_dec: () => h.trainer.getWeights().then((w) => w.W_dec) }
          : undefined,
      },
    );
    if (!findRun(runId) || (generation.get(runId) ?? 0) !== gen) return;
    useAnalysisStore.getState().evaluationRecorded(
      runId,
      {
        step,
        tokensSeen,
        metrics: res.metrics,
        byPosition: res.byPosition,
        densityHist: res.densityHist,
        ms: performance.now() - t0,
        stepEnd,
      },
      { step, T: res.T, clustering: res.clustering, features: res.features },
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    useAnalysisStore.getState().evaluationFailed(runId, `Evaluation at step ${step} failed: ${msg}`);
  }
}

/** True when the run crossed a multiple of eval_every since its last evaluation. */
export function evaluationDue(step: number, every: number, last: number | undefined): boolean {
  if (every <= 0 || step <= 0) return false;
  return Math.floor(step / every) > Math.floor((last ?? 0) / every);
}

let installed: (() => void) | null = null;

/** Evaluate runs on schedule (eval_every and at the end); call once at startup. */
export function installEvaluation(): () => void {
  if (installed) return installed;
  const off = onRunEvent((e) => {
    const run = findRun(e.runId);
    switch (e.type) {
      case 'started':
      case 'resumed':
        warm(e.runId);
        break;
      case 'metrics':
        // The step is marked when scheduled, so later readbacks do not queue the same evaluation again.
        if (run && evaluationDue(e.metrics.step, run.config.eval_every, lastEvalStep.get(e.runId))) {
          lastEvalStep.set(e.runId, e.metrics.step);
          void evaluateRun(e.runId);
        }
        break;
      case 'done':
      case 'stopped':
        if (lastEvalStep.get(e.runId) !== e.step) {
          lastEvalStep.set(e.runId, e.step);
          void evaluateRun(e.runId);
        }
        break;
      case 'reset':
      case 'deleted':
        lastEvalStep.delete(e.runId);
        generation.set(e.runId, (generation.get(e.runId) ?? 0) + 1);
        useAnalysisStore.getState().forgetRun(e.runId);
        break;
    }
  });
  // Read-only view for end-to-end tests and DevTools.
  exposeForTests('analysis', () => useAnalysisStore.getState());
  installed = () => {
    off();
    installed = null;
  };
  return installed;
}

/** Resolves when the run has no evaluation in progress (or queued). */
export async function evaluationSettled(runId: string): Promise<void> {
  for (let p = inFlight.get(runId); p; p = inFlight.get(runId)) await p;
}
