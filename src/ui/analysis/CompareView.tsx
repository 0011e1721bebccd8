// The Compare tab (issue 6): every held-out metric of the chosen runs in one table, the L0 –
// explained-variance frontier (with the method's published baselines as labelled imported points),
// metric vs knob for a sweep, cross-run feature matching, and the form that queues a sweep.
import { useMemo, useState } from 'react';
import { matchRuns } from '../../app/evaluationCompare';
import { parseSweepValues, startSweep, stopSweep, SWEEP_KNOBS } from '../../app/sweep';
import { useAnalysisStore, type EvalRecord, type SweepRecord } from '../../store/analysisStore';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { LineChart } from '../charts/LineChart';
import { runColor } from '../charts/palette';
import { useElementWidth } from '../charts/useElementWidth';
import { BinBars } from './BinBars';
import { Panel } from './Panel';
import { REFERENCE_POINTS, ScatterFrontier } from './ScatterFrontier';
import { toCsv } from './exportFiles';
import { formatMetric, METRICS } from './metricInfo';

function latestEval(byRun: Record<string, { evals: EvalRecord[] }>, id: string): EvalRecord | undefined {
  const e = byRun[id]?.evals;
  return e && e.length ? e[e.length - 1] : undefined;
}

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
  const rowsOf = (rs: RunRecord[]) =>
    rs.map((r) => {
      const e = latestEval(byRun, r.id);
      return [
        r.name,
        e?.step ?? null,
        r.config.temporal_coefficient,
        r.config.l1_coefficient,
        ...metrics.map((m) => e?.metrics[m.key] ?? null),
      ];
    });
  const points = shown.flatMap((r) => {
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
              ['run', 'step', 'temporal_coefficient', 'l1_coefficient', ...metrics.map((m) => m.key)],
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
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Panel>
      <div className="an-row">
        <Panel
          title="L0 – explained variance frontier"
          testId="panel-frontier"
          exportName="frontier"
          className="an-half"
          tools={
            <>
              <select
                value={frontierMetric}
                onChange={(e) => st.setFrontierMetric(e.target.value as 'explained_variance' | 'mmcs')}
                aria-label="y axis"
                style={{ width: 150 }}
              >
                <option value="explained_variance">explained variance</option>
                <option value="mmcs">mmcs</option>
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
            yLabel={frontierMetric === 'mmcs' ? 'mmcs' : 'explained variance'}
            width={Math.max(300, width / 2 - 24)}
          />
        </Panel>
        <MatchingPanel runs={evaluated.length ? evaluated : runs} width={Math.max(300, width / 2 - 24)} />
      </div>
      <SweepPanel sweeps={sweeps} runs={runs} />
    </div>
  );
}

function SweepPanel({ sweeps, runs }: { sweeps: SweepRecord[]; runs: RunRecord[] }) {
  const byRun = useAnalysisStore((s) => s.byRun);
  const metric = useAnalysisStore((s) => s.sweepMetric);
  const setMetric = useAnalysisStore((s) => s.setSweepMetric);
  const selected = useRunsStore((s) => s.selectedRunId);
  const [knob, setKnob] = useState(SWEEP_KNOBS[0].key);
  const k = SWEEP_KNOBS.find((x) => x.key === knob)!;
  const [text, setText] = useState(SWEEP_KNOBS[0].values.join(', '));
  const [err, setErr] = useState<string | null>(null);
  const base = runs.find((r) => r.id === selected) ?? runs[runs.length - 1];
  const sweep = sweeps[sweeps.length - 1];
  const series = useMemo(() => {
    if (!sweep) return [];
    const xs: number[] = [],
      ys: number[] = [];
    sweep.runIds.forEach((id, i) => {
      const v = latestEval(byRun, id)?.metrics[metric as keyof EvalRecord['metrics']];
      if (v !== undefined && Number.isFinite(v)) {
        xs.push(sweep.values[i]);
        ys.push(v);
      }
    });
    return [{ id: 'sweep', label: metric, color: '#f0abfc', x: xs, y: ys }];
  }, [sweep, byRun, metric]);
  const start = () => {
    setErr(null);
    try {
      if (!base) throw new Error('Make a run first: a sweep varies one knob of an existing run.');
      startSweep(base.id, knob, parseSweepValues(text, k));
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Panel
      title="Sweep"
      testId="panel-sweep"
      exportName="sweep"
      note="Variants of one run over one knob, same seed and data, trained one after another; each is evaluated at its end."
      tools={
        <select
          value={metric}
          onChange={(e) => setMetric(e.target.value)}
          aria-label="metric"
          data-testid="sweep-metric"
        >
          {METRICS.map((m) => (
            <option key={m.key} value={m.key}>
              {m.label}
            </option>
          ))}
        </select>
      }
      data={
        sweep
          ? {
              csv: () =>
                toCsv(
                  [String(sweep.knob), 'run', ...METRICS.map((m) => m.key)],
                  sweep.runIds.map((id, i) => {
                    const e = latestEval(byRun, id);
                    return [
                      sweep.values[i],
                      runs.find((r) => r.id === id)?.name ?? id,
                      ...METRICS.map((m) => e?.metrics[m.key]),
                    ];
                  }),
                ),
              json: () => ({
                ...sweep,
                evaluations: sweep.runIds.map((id) => latestEval(byRun, id) ?? null),
              }),
            }
          : undefined
      }
    >
      <div className="an-sweep-form">
        <span className="muted">from “{base?.name ?? '—'}”:</span>
        <select
          value={knob}
          onChange={(e) => {
            const nk = SWEEP_KNOBS.find((x) => x.key === e.target.value)!;
            setKnob(nk.key);
            setText(nk.values.join(', '));
          }}
          aria-label="knob"
          data-testid="sweep-knob"
        >
          {SWEEP_KNOBS.map((x) => (
            <option key={x.key} value={x.key}>
              {x.label} ({x.key})
            </option>
          ))}
        </select>
        <input
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="values"
          data-testid="sweep-values"
          style={{ width: 200 }}
        />
        <button
          type="button"
          onClick={start}
          disabled={!base || sweep?.status === 'running'}
          data-testid="sweep-start"
        >
          Run sweep
        </button>
        {sweep?.status === 'running' ? (
          <button type="button" onClick={() => void stopSweep(sweep.id)}>
            Stop sweep
          </button>
        ) : null}
        {err ? <span className="an-error">{err}</span> : null}
      </div>
      {sweep ? (
        <>
          <p className="muted" data-testid="sweep-status" data-status={sweep.status}>
            {sweep.knob} ∈ {'{'}
            {sweep.values.join(', ')}
            {'}'} · {sweep.status}
            {sweep.error ? ` — ${sweep.error}` : ''}
          </p>
          <LineChart
            series={series}
            height={180}
            xLabel={String(sweep.knob)}
            ariaLabel={`${metric} versus ${String(sweep.knob)}`}
            testId="sweep-chart"
          />
        </>
      ) : null}
    </Panel>
  );
}

function MatchingPanel({ runs, width }: { runs: RunRecord[]; width: number }) {
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
