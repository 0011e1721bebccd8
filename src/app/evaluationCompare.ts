// Cross-run feature matching (SPEC §6) for the comparison view: greedy one-to-one matching of the two
// runs' decoder rows by cosine, computed in the engine where both runs' weights are (the Worker).
import { useAnalysisStore } from '../store/analysisStore';
import { findRun } from '../store/runsStore';
import { getEngine, runIsBuilt } from './trainingLoop';

export async function matchRuns(runA: string, runB: string): Promise<void> {
  const store = useAnalysisStore.getState();
  const name = (id: string) => findRun(id)?.name ?? id;
  const missing = [runA, runB].find((id) => !runIsBuilt(id));
  if (missing) throw new Error(`“${name(missing)}” has no weights in this page: train it first.`);
  const r = await getEngine().call('match', { runA, runB });
  if (r.d_in[0] !== r.d_in[1])
    throw new Error(
      `The runs have different widths (${r.d_in[0]} and ${r.d_in[1]}); their features cannot be compared.`,
    );
  const pairs: [number, number, number][] = [];
  for (let k = 0; k < Math.min(50, r.a.length); k++) pairs.push([r.a[k], r.b[k], r.cos[k]]);
  store.matchingComputed({ runA, runB, meanCos: r.meanCos, cos: Array.from(r.cos), pairs });
}
