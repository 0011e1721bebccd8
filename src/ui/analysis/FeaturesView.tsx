// The Features tab (issue 6): for the selected run's latest held-out evaluation, the temporal
// clustering (dendrogram + heatmap), sparsity heatmaps, position analysis, the density histogram and
// the evaluation history; the feature inspector on the right. Views update as evaluations arrive.
import { evaluateRun } from '../../app/evaluation';
import { inspectFeature } from '../../app/evaluationInspect';
import { useAnalysisStore, type RunAnalysis } from '../../store/analysisStore';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { useElementWidth } from '../charts/useElementWidth';
import { LossRecoveredPanel } from '../probe/LossRecoveredPanel';
import { ProbePanel } from '../probe/ProbePanel';
import { ClusterView } from './ClusterView';
import { DensityView } from './DensityView';
import { HistoryPanel } from './HistoryPanel';
import { InspectorView } from './InspectorView';
import { Panel } from './Panel';
import { PositionPanel } from './PositionPanel';
import { PrefixPanel } from './PrefixPanel';
import { SparsityPanels } from './SparsityPanel';
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
      <LossRecoveredPanel runId={run.id} analysis={a} />
      <ProbePanel key={run.id} runId={run.id} />
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
          {last?.prefixes?.length ? (
            <PrefixPanel runId={run.id} step={last.step} prefixes={last.prefixes} />
          ) : null}
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
