// Held-out evaluation of runs (issue 6, SPEC §6). The run's session in the engine evaluates on its
// schedule (src/engine/schedule.ts: every eval_every steps and when the run ends) and on request; the
// reductions and the clustering run in the engine (the Worker), and the results reach the analysis store
// through the session's events (src/app/trainingLoop.ts). This module is what the rest of the app asks:
// evaluate now, wait for it.
import { useAnalysisStore } from '../store/analysisStore';
import { exposeForTests } from './gpuSession';
import { getEngine, runIsBuilt } from './trainingLoop';

export { groundTruthOf, HELD_OUT_CACHE_BYTES, limitBatches, MAX_EVAL_BATCHES } from '../engine/runSession';
export { evaluationDue } from '../engine/schedule';

export const NOT_BUILT = 'The run has no trained weights in this page yet: start it (or resume it) first.';

/** Throws NOT_BUILT in words when the engine holds no weights for the run. */
export function needBuilt(runId: string): void {
  if (!runIsBuilt(runId)) throw new Error(NOT_BUILT);
}

/** Evaluate a run now (or right after the evaluation in progress). Resolves when its record is stored. */
export async function evaluateRun(runId: string): Promise<void> {
  if (!runIsBuilt(runId)) {
    useAnalysisStore.getState().evaluationFailed(runId, NOT_BUILT);
    return;
  }
  try {
    await getEngine().call('evaluate', { runId });
  } catch (e) {
    useAnalysisStore.getState().evaluationFailed(runId, e instanceof Error ? e.message : String(e));
  }
}

/** Resolves when the run has no evaluation in progress (or queued). */
export async function evaluationSettled(runId: string): Promise<void> {
  if (!runIsBuilt(runId)) return;
  await getEngine()
    .call('evaluationSettled', { runId })
    .catch(() => {});
}

/** Read-only view of the analysis store for end-to-end tests and DevTools; call once at startup. */
export function installEvaluation(): () => void {
  exposeForTests('analysis', () => useAnalysisStore.getState());
  return () => {};
}
