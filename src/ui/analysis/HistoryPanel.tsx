// Held-out metrics over training (issue 6): one line per key metric across the run's evaluations, and
// every metric of every evaluation as CSV/JSON.
import { useMemo } from 'react';
import type { RunAnalysis } from '../../store/analysisStore';
import { LineChart } from '../charts/LineChart';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';
import { METRICS } from './metricInfo';

export function HistoryPanel({ analysis, runId }: { analysis: RunAnalysis; runId: string }) {
  const evals = analysis.evals;
  const keys = ['explained_variance', 'tv_ratio', 'jaccard', 'autocorr', 'mmcs'] as const;
  const colors = ['#7dd3fc', '#f0abfc', '#4ade80', '#fb923c', '#facc15'];
  const series = useMemo(
    () =>
      keys
        .filter((k) => evals.some((e) => e.metrics[k] !== undefined))
        .map((k) => ({
          id: k,
          label: k,
          color: colors[keys.indexOf(k)],
          x: evals.map((e) => e.step),
          y: evals.map((e) => e.metrics[k] ?? NaN),
        })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [evals],
  );
  return (
    <Panel
      title="Held-out metrics over training"
      testId="panel-history"
      exportName={`eval-history-${runId}`}
      data={{
        csv: () =>
          toCsv(
            ['step', 'tokens_seen', ...METRICS.map((m) => m.key)],
            evals.map((e) => [e.step, e.tokensSeen, ...METRICS.map((m) => e.metrics[m.key])]),
          ),
        json: () => evals.map((e) => ({ step: e.step, tokens_seen: e.tokensSeen, ...e.metrics })),
      }}
    >
      <div className="an-legend">
        {series.map((x) => (
          <span key={x.id}>
            <span className="an-swatch" style={{ background: x.color }} /> {x.label}
          </span>
        ))}
      </div>
      <LineChart
        series={series}
        height={160}
        markPoints={evals.length <= 40}
        xLabel="step"
        ariaLabel="Held-out metrics over training"
        testId="history-chart"
      />
    </Panel>
  );
}
