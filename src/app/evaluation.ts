// Held-out evaluation of runs (issue 6, SPEC §6). The run's session evaluates on its schedule
// (src/engine/schedule.ts: every eval_every steps and when the run ends) and on request; its
// results reach the analysis store through the session's events (src/app/trainingLoop.ts). This module
// is what the rest of the app asks: evaluate now, wait for it, and the handles the inspector reads.
import type { Batcher } from '../data/batcher';
import type { SaeTrainerApi } from '../sae/trainerApi';
import { useAnalysisStore } from '../store/analysisStore';
import { exposeForTests } from './gpuSession';
import { getRunSession } from './trainingLoop';

export { groundTruthOf, HELD_OUT_CACHE_BYTES, limitBatches, MAX_EVAL_BATCHES } from '../engine/runSession';
export { evaluationDue } from '../engine/schedule';

export interface EvalHandles {
  trainer: SaeTrainerApi;
  batcher: Batcher;
}

const NOT_BUILT = 'The run has no trained weights in this page yet: start it (or resume it) first.';

/** The live trainer and batcher of a run, or a message saying why it cannot be evaluated. */
export function evalHandles(runId: string): EvalHandles | string {
  const s = getRunSession(runId);
  if (!s || s.closed) return NOT_BUILT;
  const problem = s.evaluationProblem();
  if (problem) return problem;
  return { trainer: s.trainer, batcher: s.batcher! };
}

/** Evaluate a run now (or right after the evaluation in progress). Resolves when its record is stored. */
export function evaluateRun(runId: string): Promise<void> {
  const s = getRunSession(runId);
  if (!s || s.closed) {
    useAnalysisStore.getState().evaluationFailed(runId, NOT_BUILT);
    return Promise.resolve();
  }
  return s.evaluate();
}

/** Resolves when the run has no evaluation in progress (or queued). */
export async function evaluationSettled(runId: string): Promise<void> {
  await getRunSession(runId)?.evaluationSettled();
}

/** Read-only view of the analysis store for end-to-end tests and DevTools; call once at startup. */
export function installEvaluation(): () => void {
  exposeForTests('analysis', () => useAnalysisStore.getState());
  return () => {};
}
