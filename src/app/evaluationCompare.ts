// Cross-run feature matching (SPEC §6) for the comparison view: greedy one-to-one matching of the two
// runs' decoder rows by cosine, read from their live trainers.
import { greedyMatch } from '../analysis/matching';
import { useAnalysisStore } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { getRunHandles } from './trainingLoop';

export async function matchRuns(runA: string, runB: string): Promise<void> {
  const store = useAnalysisStore.getState();
  const ha = getRunHandles(runA),
    hb = getRunHandles(runB);
  const name = (id: string) => findRun(id)?.name ?? id;
  if (!ha || !hb) {
    const missing = !ha ? runA : runB;
    throw new Error(`“${name(missing)}” has no weights in this page: train it first.`);
  }
  const [wa, wb] = await Promise.all([ha.trainer.getWeights(), hb.trainer.getWeights()]);
  if (wa.d_in !== wb.d_in)
    throw new Error(
      `The runs have different widths (${wa.d_in} and ${wb.d_in}); their features cannot be compared.`,
    );
  const r = greedyMatch(wa.W_dec, wa.d_sae, wb.W_dec, wb.d_sae, wa.d_in);
  const pairs: [number, number, number][] = [];
  for (let k = 0; k < Math.min(50, r.a.length); k++) pairs.push([r.a[k], r.b[k], r.cos[k]]);
  store.matchingComputed({ runA, runB, meanCos: r.meanCos, cos: Array.from(r.cos), pairs });
}
