// Sparsity views of the Features tab (issue 6): feature × position firing frequency of the clustered
// features (leaf order), L0 by position × evaluation step (sparsity evolution), dead share over training.
import { useMemo } from 'react';
import type { RunAnalysis } from '../../store/analysisStore';
import { LineChart } from '../charts/LineChart';
import { Heatmap, heatmapHeight } from './Heatmap';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';

export function SparsityPanels({
  analysis,
  runId,
  width,
}: {
  analysis: RunAnalysis;
  runId: string;
  width: number;
}) {
  const latest = analysis.latest!;
  const c = latest.clustering;
  const evals = analysis.evals;
  const T = latest.T;
  const fireRows = c ? c.order.map((k) => c.fireByPosition[k]) : [];
  const l0Rows = evals.map((e) => e.byPosition.l0.map((v) => (Number.isFinite(v) ? v : 0)));
  const fireH = Math.max(2, Math.min(10, 400 / Math.max(1, fireRows.length)));
  const l0H = Math.max(4, Math.min(14, 300 / Math.max(1, l0Rows.length)));
  const dead = useMemo(
    () => [
      {
        id: 'dead',
        label: 'dead share',
        color: '#f87171',
        x: evals.map((e) => e.step),
        y: evals.map((e) => e.metrics.dead_share),
      },
    ],
    [evals],
  );
  return (
    <Panel
      title="Sparsity"
      testId="panel-sparsity"
      exportName={`sparsity-${runId}-step${latest.step}`}
      note="Left: firing frequency of the clustered features (leaf order) by position. Right: L0 by position at each evaluation step. Below: dead share over training."
      data={{
        csv: () =>
          toCsv(
            ['step', ...Array.from({ length: T }, (_, t) => `l0_pos${t}`)],
            evals.map((e) => [e.step, ...e.byPosition.l0]),
          ),
        json: () => ({
          fire_by_position: c
            ? { features: c.order.map((k) => c.features[k]), bins: c.fireBins, rows: fireRows }
            : null,
          l0_by_position_by_step: evals.map((e) => ({ step: e.step, l0: e.byPosition.l0 })),
          dead_share: evals.map((e) => ({ step: e.step, dead_share: e.metrics.dead_share })),
        }),
      }}
    >
      <svg
        width={width}
        height={Math.max(heatmapHeight(fireRows.length, fireH), heatmapHeight(l0Rows.length, l0H)) + 14}
        role="img"
        aria-label="Sparsity heatmaps"
        data-testid="sparsity-svg"
      >
        {c ? (
          <>
            <text x={4} y={10} fontSize={10} fill="#8a93b2">
              feature × position firing frequency
            </text>
            <Heatmap
              at={{ x: 0, y: 14 }}
              rows={fireRows}
              width={width / 2 - 8}
              rowHeight={fireH}
              xLabel={c.fireBins === T ? 'position' : `position bin (${c.fireBins} bins)`}
              labelWidth={30}
              yLabel="feature (leaf order)"
              legendLabel="firing freq."
              ariaLabel="Feature by position firing frequency"
              testId="fire-heatmap"
            />
          </>
        ) : null}
        <text x={width / 2 + 4} y={10} fontSize={10} fill="#8a93b2">
          L0 by position × training step
        </text>
        <Heatmap
          at={{ x: width / 2, y: 14 }}
          rows={l0Rows}
          width={width / 2 - 8}
          rowHeight={l0H}
          xLabel="position"
          rowLabels={evals.map((e) => String(e.step))}
          labelWidth={44}
          legendLabel="L0"
          ariaLabel="L0 by position and training step"
          testId="l0-heatmap"
        />
      </svg>
      <LineChart
        series={dead}
        height={110}
        yDomain={[0, 1]}
        xLabel="step"
        ariaLabel="Dead share over training"
        testId="dead-share-chart"
      />
    </Panel>
  );
}
