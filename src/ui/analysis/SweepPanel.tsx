// Sweeps in the Compare tab (issue 6): the form that queues variants of a run over one knob, the
// sweep's status, and the chosen metric against the knob's value.
import { useMemo, useState } from 'react';
import { parseSweepValues, startSweep, stopSweep, SWEEP_KNOBS } from '../../app/sweep';
import { useAnalysisStore, type EvalRecord, type SweepRecord } from '../../store/analysisStore';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { LineChart } from '../charts/LineChart';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';
import { latestEval } from './latestEval';
import { METRICS } from './metricInfo';

export function SweepPanel({ sweeps, runs }: { sweeps: SweepRecord[]; runs: RunRecord[] }) {
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
            markPoints
            xLabel={String(sweep.knob)}
            ariaLabel={`${metric} versus ${String(sweep.knob)}`}
            testId="sweep-chart"
          />
        </>
      ) : null}
    </Panel>
  );
}
