// The most recent held-out evaluation of a run, if any.
import type { EvalRecord } from '../../store/analysisStore';

export function latestEval(
  byRun: Record<string, { evals: EvalRecord[] }>,
  id: string,
): EvalRecord | undefined {
  const e = byRun[id]?.evals;
  return e && e.length ? e[e.length - 1] : undefined;
}
