// The Features tab (issue 6): for the selected run's latest held-out evaluation, the temporal
// clustering (dendrogram + heatmap), sparsity heatmaps, position analysis, the density histogram and
// the evaluation history; the feature inspector on the right. Views update as evaluations arrive.
import { useMemo } from 'react';
import { evaluateRun } from '../../app/evaluation';
import { inspectFeature } from '../../app/evaluationInspect';
import { useAnalysisStore, type RunAnalysis } from '../../store/analysisStore';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { LineChart } from '../charts/LineChart';
import { useElementWidth } from '../charts/useElementWidth';
import { ClusterView } from './ClusterView';
import { DensityView } from './DensityView';
import { Heatmap, heatmapHeight } from './Heatmap';
import { InspectorView } from './InspectorView';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';
import { formatMetric, METRICS } from './metricInfo';

const EMPTY: RunAnalysis = { evals: [], latest: null, evaluating: false, error: null };

function RunPicker({ runs, selected }: { runs: RunRecord[]; selected: string | null }) {
  const select = useRunsStore((s) => s.selectRun);
  return (
    <select
      value={selected ?? ''}
      onChange={(e) => select(e.target.value || null)}
      data-testid="analysis-run"
      aria-label="Run to analyse"
    >
      {runs.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name} ({r.status})
        </option>
      ))}
    </select>
  );
}

export function FeaturesView() {
  const runs = useRunsStore((s) => s.runs);
  const selectedId = useRunsStore((s) => s.selectedRunId);
  const run = runs.find((r) => r.id === selectedId) ?? runs[runs.length - 1];
  const a = useAnalysisStore((s) => (run ? (s.byRun[run.id] ?? EMPTY) : EMPTY));
  const clusterK = useAnalysisStore((s) => s.clusterK);
  const heatMode = useAnalysisStore((s) => s.heatMode);
  const heatSequence = useAnalysisStore((s) => s.heatSequence);
  const st = useAnalysisStore.getState();
  const [mainRef, mainW] = useElementWidth<HTMLDivElement>();
  const [sideRef, sideW] = useElementWidth<HTMLDivElement>();
  if (!run)
    return (
      <section className="panel" data-testid="analysis-features">
        <p className="muted">
          No runs yet: start one on the Train tab; its held-out evaluations appear here.
        </p>
      </section>
    );
  const latest = a.latest;
  const last = a.evals[a.evals.length - 1];
  const canEval = run.status !== 'ready' && run.status !== 'starting';
  return (
    <div className="an-features" data-testid="analysis-features">
      <div className="an-bar">
        <RunPicker runs={runs} selected={run.id} />
        <button
          type="button"
          disabled={!canEval || a.evaluating}
          onClick={() => void evaluateRun(run.id)}
          data-testid="evaluate-now"
        >
          {a.evaluating ? 'Evaluating…' : 'Evaluate now'}
        </button>
        <span className="muted" data-testid="eval-status">
          {last
            ? `held-out evaluation at step ${last.step} · ${last.metrics.tokens} tokens · ${Math.round(last.ms)} ms · every ${run.config.eval_every || '—'} steps and at the end`
            : a.evaluating
              ? 'evaluating…'
              : `no evaluation yet (every ${run.config.eval_every || '—'} steps and at the end)`}
        </span>
        {a.error ? <span className="an-error">{a.error}</span> : null}
      </div>
      {last ? <MetricStrip analysis={a} /> : null}
      <div className="an-columns">
        <div className="an-main" ref={mainRef}>
          {latest?.clustering ? (
            <Panel
              title="Temporal clustering"
              testId="panel-cluster"
              exportName={`clustering-${run.id}-step${latest.step}`}
              note={`${latest.clustering.features.length} most variable features, Pearson correlation of their activations over ${latest.clustering.tokens} held-out tokens, average linkage on 1 − corr; rows in leaf order. Click a leaf to inspect.`}
              tools={
                <>
                  <label className="an-inline">
                    K{' '}
                    <input
                      type="number"
                      min={2}
                      max={512}
                      value={clusterK}
                      style={{ width: 60 }}
                      data-testid="cluster-k"
                      onChange={(e) => st.setClusterK(Number(e.target.value))}
                      onBlur={() => canEval && void evaluateRun(run.id)}
                    />
                  </label>
                  <select
                    value={heatMode}
                    onChange={(e) => st.setHeatMode(e.target.value as 'position' | 'sequence')}
                    data-testid="heat-mode"
                  >
                    <option value="position">by position</option>
                    <option value="sequence">across a sequence</option>
                  </select>
                  {heatMode === 'sequence' ? (
                    <input
                      type="number"
                      min={0}
                      max={latest.clustering.heatBySequence.length - 1}
                      value={heatSequence}
                      style={{ width: 48 }}
                      aria-label="held-out sequence"
                      onChange={(e) => st.setHeatSequence(Number(e.target.value))}
                    />
                  ) : null}
                </>
              }
              data={{
                csv: () =>
                  toCsv(
                    ['row', 'feature', 'merge', 'a', 'b', 'dist', 'size'],
                    latest.clustering!.order.map((k, row) => [
                      row,
                      latest.clustering!.features[k],
                      row < latest.clustering!.linkage.a.length ? row : null,
                      latest.clustering!.linkage.a[row],
                      latest.clustering!.linkage.b[row],
                      latest.clustering!.linkage.dist[row],
                      latest.clustering!.linkage.size[row],
                    ]),
                  ),
                json: () => ({ step: latest.step, ...latest.clustering }),
              }}
            >
              <ClusterView
                clustering={latest.clustering}
                mode={heatMode}
                sequence={heatSequence}
                width={Math.max(320, mainW - 20)}
                onOpenFeature={(f) => void inspectFeature(run.id, f)}
              />
            </Panel>
          ) : (
            <section className="an-panel" data-testid="panel-cluster-empty">
              <p className="muted">
                {a.evaluating
                  ? 'Evaluating on the held-out sequences…'
                  : 'The clustering appears after the first held-out evaluation.'}
              </p>
            </section>
          )}
          {latest && last ? (
            <SparsityPanels analysis={a} runId={run.id} width={Math.max(320, mainW - 20)} />
          ) : null}
          {last ? <PositionPanel analysis={a} runId={run.id} /> : null}
          {last ? (
            <Panel
              title="Feature density"
              testId="panel-density"
              exportName={`density-${run.id}-step${last.step}`}
              note="log10(firing density + 1e-10) of every feature on the held-out set; dead features at −10."
              data={{
                csv: () =>
                  toCsv(
                    ['feature', 'density', 'log10_density'],
                    (latest?.features.density ?? []).map((d, i) => [i, d, latest!.features.logDensity[i]]),
                  ),
                json: () => ({
                  step: last.step,
                  histogram: last.densityHist,
                  density: latest?.features.density,
                }),
              }}
            >
              <DensityView hist={last.densityHist} width={Math.max(320, mainW - 20)} />
            </Panel>
          ) : null}
          {a.evals.length ? <HistoryPanel analysis={a} runId={run.id} /> : null}
        </div>
        <div className="an-side" ref={sideRef}>
          <InspectorView width={sideW || 420} />
        </div>
      </div>
    </div>
  );
}

function MetricStrip({ analysis }: { analysis: RunAnalysis }) {
  const m = analysis.evals[analysis.evals.length - 1].metrics;
  return (
    <dl className="an-strip" data-testid="metric-strip">
      {METRICS.filter((x) => m[x.key] !== undefined).map((x) => (
        <div key={x.key} title={x.help}>
          <dt>{x.label}</dt>
          <dd data-metric={x.key}>{formatMetric(m[x.key])}</dd>
        </div>
      ))}
    </dl>
  );
}

function SparsityPanels({ analysis, runId, width }: { analysis: RunAnalysis; runId: string; width: number }) {
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

function PositionPanel({ analysis, runId }: { analysis: RunAnalysis; runId: string }) {
  const evals = analysis.evals;
  const last = evals[evals.length - 1];
  const first = evals[0];
  const series = (key: 'recon_loss' | 'l0' | 'tv_ratio', color: string) => {
    const pos = (a: number[]) => a.map((_, t) => t);
    const out = [
      {
        id: `${key}-last`,
        label: `step ${last.step}`,
        color,
        x: pos(last.byPosition[key]),
        y: last.byPosition[key],
      },
    ];
    if (first !== last)
      out.unshift({
        id: `${key}-first`,
        label: `step ${first.step}`,
        color: '#8a93b2',
        x: pos(first.byPosition[key]),
        y: first.byPosition[key],
      });
    return out;
  };
  const charts = useMemo(
    () => ({
      recon: series('recon_loss', '#7dd3fc'),
      l0: series('l0', '#fbbf24'),
      tv: series('tv_ratio', '#f0abfc'),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [evals],
  );
  const T = last.byPosition.l0.length;
  return (
    <Panel
      title="By position"
      testId="panel-position"
      exportName={`position-${runId}-step${last.step}`}
      note={`Reconstruction loss ‖x − x̂‖², L0 and temporal change (tv ratio of the pair ending at t) at each position; grey: first evaluation (step ${first.step}).`}
      data={{
        csv: () =>
          toCsv(
            ['position', 'recon_loss', 'l0', 'tv_ratio', 'jaccard', 'flip_rate', 'mean_run_length'],
            Array.from({ length: T }, (_, t) => [
              t,
              last.byPosition.recon_loss[t],
              last.byPosition.l0[t],
              last.byPosition.tv_ratio[t],
              last.byPosition.jaccard[t],
              last.byPosition.flip_rate[t],
              last.byPosition.mean_run_length[t],
            ]),
          ),
        json: () => ({ step: last.step, ...last.byPosition }),
      }}
    >
      <div className="an-grid3">
        <div>
          <h4>recon loss</h4>
          <LineChart
            series={charts.recon}
            height={140}
            xLabel="position"
            ariaLabel="Reconstruction loss by position"
            testId="pos-recon"
          />
        </div>
        <div>
          <h4>L0</h4>
          <LineChart
            series={charts.l0}
            height={140}
            xLabel="position"
            ariaLabel="L0 by position"
            testId="pos-l0"
          />
        </div>
        <div>
          <h4>temporal change (tv ratio)</h4>
          <LineChart
            series={charts.tv}
            height={140}
            xLabel="position"
            ariaLabel="Temporal change by position"
            testId="pos-tv"
          />
        </div>
      </div>
    </Panel>
  );
}

function HistoryPanel({ analysis, runId }: { analysis: RunAnalysis; runId: string }) {
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
        xLabel="step"
        ariaLabel="Held-out metrics over training"
        testId="history-chart"
      />
    </Panel>
  );
}
