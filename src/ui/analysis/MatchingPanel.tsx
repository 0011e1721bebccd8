// Cross-run feature matching in the Compare tab (SPEC §6): pick two runs, match their decoder rows
// greedily by cosine, show the mean matched cosine and the histogram of matched cosines.
import { useMemo, useState } from 'react';
import { matchRuns } from '../../app/evaluationCompare';
import { useAnalysisStore } from '../../store/analysisStore';
import type { RunRecord } from '../../store/runsStore';
import { BinBars } from './BinBars';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';

export function MatchingPanel({ runs, width }: { runs: RunRecord[]; width: number }) {
  const matching = useAnalysisStore((s) => s.matching);
  const [a, setA] = useState<string>('');
  const [b, setB] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const ra = a || runs[0]?.id || '';
  const rb = b || runs[1]?.id || runs[0]?.id || '';
  const go = async () => {
    setErr(null);
    setBusy(true);
    try {
      await matchRuns(ra, rb);
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const name = (id: string) => runs.find((r) => r.id === id)?.name ?? id;
  const hist = useMemo(() => {
    const bins = 20,
      counts = new Array<number>(bins).fill(0);
    for (const c of matching?.cos ?? [])
      counts[Math.max(0, Math.min(bins - 1, Math.floor(((c + 1) / 2) * bins)))]++;
    return counts;
  }, [matching]);
  return (
    <Panel
      title="Cross-run feature matching"
      testId="panel-matching"
      exportName="matching"
      className="an-half"
      note="Greedy one-to-one matching of decoder rows by cosine (SPEC §6)."
      data={
        matching
          ? {
              csv: () =>
                toCsv(
                  ['rank', 'feature_a', 'feature_b', 'cos'],
                  matching.cos.map((c, i) => [
                    i,
                    matching.pairs[i]?.[0] ?? null,
                    matching.pairs[i]?.[1] ?? null,
                    c,
                  ]),
                ),
              json: () => matching,
            }
          : undefined
      }
    >
      <div className="an-sweep-form">
        <select value={ra} onChange={(e) => setA(e.target.value)} aria-label="run A" data-testid="match-a">
          {runs.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
        <span>vs</span>
        <select value={rb} onChange={(e) => setB(e.target.value)} aria-label="run B" data-testid="match-b">
          {runs.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void go()} disabled={busy || !ra || !rb} data-testid="match-go">
          {busy ? 'Matching…' : 'Match'}
        </button>
        {err ? <span className="an-error">{err}</span> : null}
      </div>
      {matching ? (
        <>
          <p data-testid="match-mean">
            {name(matching.runA)} ↔ {name(matching.runB)}: mean matched cosine{' '}
            <b>{matching.meanCos.toFixed(4)}</b> over {matching.cos.length} pairs
          </p>
          <BinBars
            edges={Array.from({ length: hist.length + 1 }, (_, i) => -1 + (2 * i) / hist.length)}
            values={hist}
            width={width}
            height={150}
            xTicks={4}
            color="#4ade80"
            xLabel="matched cosine"
            ariaLabel="Histogram of matched cosines"
            testId="match-svg"
          />
        </>
      ) : null}
    </Panel>
  );
}
