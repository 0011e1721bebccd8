// The Compare tab (issue 6): every held-out metric of the chosen runs in one table, the L0 –
// explained-variance frontier (with the method's published baselines as labelled imported points),
// metric vs knob for a sweep, cross-run feature matching, and the form that queues a sweep.
import { useAnalysisStore, type FrontierMetric } from '../../store/analysisStore';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { runColor } from '../charts/palette';
import { useElementWidth } from '../charts/useElementWidth';
import { formatLr, latestLossRecovered, LOSS_RECOVERED_FIELDS } from '../probe/lossRecoveredFormat';
import { latestEval } from './latestEval';
import { MatchingPanel } from './MatchingPanel';
import { Panel } from './Panel';
import { REFERENCE_POINTS, ScatterFrontier } from './ScatterFrontier';
import { SweepPanel } from './SweepPanel';
import { toCsv } from './exportFiles';
import { formatMetric, METRICS } from './metricInfo';

export function CompareView() {
  const runs = useRunsStore((s) => s.runs);
  const byRun = useAnalysisStore((s) => s.byRun);
  const chosen = useAnalysisStore((s) => s.compareRunIds);
  const showRefs = useAnalysisStore((s) => s.showReferences);
  const frontierMetric = useAnalysisStore((s) => s.frontierMetric);
  const sweeps = useAnalysisStore((s) => s.sweeps);
  const st = useAnalysisStore.getState();
  const [ref, width] = useElementWidth<HTMLDivElement>();
  const evaluated = runs.filter((r) => latestEval(byRun, r.id));
  const shown = chosen.length ? runs.filter((r) => chosen.includes(r.id)) : evaluated;
  const metrics = METRICS.filter((m) =>
    shown.some((r) => latestEval(byRun, r.id)?.metrics[m.key] !== undefined),
  );
  // Loss recovered with the model (issue 12): columns when any shown run has it.
  const lrOf = (id: string) => latestLossRecovered(byRun[id]);
  const lrKeys = shown.some((r) => lrOf(r.id)) ? (['ce_loss_score', 'kl_div_score'] as const) : [];
  const rowsOf = (rs: RunRecord[]) =>
    rs.map((r) => {
      const e = latestEval(byRun, r.id);
      return [
        r.name,
        e?.step ?? null,
        r.config.temporal_coefficient,
        r.config.l1_coefficient,
        ...metrics.map((m) => e?.metrics[m.key] ?? null),
        ...lrKeys.map((k) => lrOf(r.id)?.[k] ?? null),
      ];
    });
  const points = shown.flatMap((r) => {
    if (frontierMetric === 'ce_loss_score') {
      // L0 of the evaluation record that carries the loss-recovered numbers.
      const lr = lrOf(r.id);
      const rec = byRun[r.id]?.evals.find((x) => x.step === lr?.step);
      return lr && rec?.metrics.l0 !== undefined
        ? [
            {
              id: r.id,
              label: r.name,
              color: runColor(r.colorIndex),
              l0: rec.metrics.l0,
              value: lr.ce_loss_score,
            },
          ]
        : [];
    }
    const e = latestEval(byRun, r.id);
    const v = e?.metrics[frontierMetric];
    return e && v !== undefined
      ? [{ id: r.id, label: r.name, color: runColor(r.colorIndex), l0: e.metrics.l0, value: v }]
      : [];
  });
  return (
    <div className="an-compare" data-testid="analysis-compare" ref={ref}>
      <Panel
        title="Runs side by side"
        testId="panel-table"
        exportName="comparison"
        note="Latest held-out evaluation of each run (SPEC §6 names). Tick runs to restrict the views; none ticked shows every evaluated run."
        data={{
          csv: () =>
            toCsv(
              [
                'run',
                'step',
                'temporal_coefficient',
                'l1_coefficient',
                ...metrics.map((m) => m.key),
                ...lrKeys,
              ],
              rowsOf(shown),
            ),
          json: () =>
            shown.map((r) => ({
              run: r.name,
              id: r.id,
              config: r.config,
              evaluation: latestEval(byRun, r.id) ?? null,
            })),
        }}
      >
        {runs.length === 0 ? <p className="muted">No runs yet.</p> : null}
        <div className="an-table-wrap">
          <table className="an-table" data-testid="compare-table">
            <thead>
              <tr>
                <th />
                <th>run</th>
                <th>step</th>
                <th title="temporal_coefficient">λ2</th>
                {metrics.map((m) => (
                  <th key={m.key} title={m.help}>
                    {m.label}
                  </th>
                ))}
                {lrKeys.map((k) => (
                  <th key={k} title={LOSS_RECOVERED_FIELDS.find((f) => f.key === k)?.help}>
                    {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const e = latestEval(byRun, r.id);
                return (
                  <tr
                    key={r.id}
                    data-testid={`compare-row-${r.id}`}
                    className={shown.includes(r) ? '' : 'an-dim'}
                  >
                    <td>
                      <input
                        type="checkbox"
                        checked={chosen.includes(r.id)}
                        onChange={() => st.toggleCompareRun(r.id)}
                        aria-label={`compare ${r.name}`}
                      />
                    </td>
                    <td>
                      <span className="an-swatch" style={{ background: runColor(r.colorIndex) }} /> {r.name}
                    </td>
                    <td>{e ? e.step : r.status}</td>
                    <td>{r.config.temporal_coefficient}</td>
                    {metrics.map((m) => {
                      const v = e?.metrics[m.key];
                      return (
                        <td
                          key={m.key}
                          data-testid={`cmp-${r.id}-${m.key}`}
                          data-value={v ?? ''}
                          className="num"
                        >
                          {formatMetric(v)}
                        </td>
                      );
                    })}
                    {lrKeys.map((k) => {
                      const v = lrOf(r.id)?.[k];
                      return (
                        <td key={k} data-testid={`cmp-${r.id}-${k}`} data-value={v ?? ''} className="num">
                          {v === undefined ? '—' : formatLr(v)}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Panel>
      <div className="an-row">
        <Panel
          title={`L0 – ${frontierMetric === 'explained_variance' ? 'explained variance' : frontierMetric} frontier`}
          testId="panel-frontier"
          exportName="frontier"
          className="an-half"
          tools={
            <>
              <select
                value={frontierMetric}
                onChange={(e) => st.setFrontierMetric(e.target.value as FrontierMetric)}
                aria-label="y axis"
                data-testid="frontier-metric"
                style={{ width: 150 }}
              >
                <option value="explained_variance">explained variance</option>
                <option value="mmcs">mmcs</option>
                <option value="ce_loss_score">ce_loss_score (with the model)</option>
              </select>
              <label className="an-inline">
                <input
                  type="checkbox"
                  checked={showRefs}
                  onChange={(e) => st.setShowReferences(e.target.checked)}
                  data-testid="show-references"
                />{' '}
                published baselines
              </label>
            </>
          }
          note={
            showRefs && frontierMetric === 'explained_variance'
              ? 'Hollow diamonds: numbers imported from the method’s paper (TopK, JumpReLU, ReLU SAEs on gemma-2-2b layer 12) — not runs of this app, and not the same data.'
              : frontierMetric === 'ce_loss_score'
                ? 'ce_loss_score of each run’s SAE spliced into the loaded model (Features → Evaluate with the model); no published baselines are drawn: the paper’s are on another model and data.'
                : undefined
          }
          data={{
            csv: () =>
              toCsv(
                ['run', 'l0', frontierMetric],
                points.map((q) => [q.label, q.l0, q.value]),
              ),
            json: () => ({
              metric: frontierMetric,
              runs: points,
              imported_references: showRefs ? REFERENCE_POINTS : [],
            }),
          }}
        >
          <ScatterFrontier
            points={points}
            references={showRefs && frontierMetric === 'explained_variance' ? REFERENCE_POINTS : []}
            yLabel={frontierMetric === 'explained_variance' ? 'explained variance' : frontierMetric}
            width={Math.max(300, width / 2 - 24)}
          />
        </Panel>
        <MatchingPanel runs={evaluated.length ? evaluated : runs} width={Math.max(300, width / 2 - 24)} />
      </div>
      <SweepPanel sweeps={sweeps} runs={runs} />
    </div>
  );
}
