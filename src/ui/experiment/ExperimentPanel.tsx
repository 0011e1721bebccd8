// The Experiment tab (issue 14): pick methods (every architecture of the registry, each without and
// with the temporal penalty at the λ2 values given), seeds, a token budget and optionally a target L0;
// Run trains them one after another (src/app/experimentSession.ts) and the tab shows the runs, the
// table (method × metric, mean ± interval over seeds), the L0 – explained-variance and L0 – smoothness
// frontiers and the generated sentences, with the CLI's downloads (table.json, CSV, HTML report) and
// the experiment file that `experiment --config` reproduces.
import { useMemo, useState } from 'react';
import { experimentConfigJson, experimentReportJson, type MethodPick } from '../../analysis/experimentPlan';
import {
  byPositionCsv,
  experimentCsv,
  experimentHtml,
  fmt,
  metricTitle,
  frontierAxes,
  type ExperimentTable,
} from '../../analysis/experimentTable';
import {
  discardExperiment,
  experimentConfigFor,
  partialReport,
  pauseExperiment,
  resumeExperiment,
  startExperiment,
  useExperimentStore,
  type ExperimentRecord,
} from '../../app/experimentSession';
import { methodNotes } from '../../analysis/methodNotes';
import { ARCHITECTURE_IDS, architectureOf } from '../../sae/architectures';
import type { Architecture } from '../../sae/config';
import { useRunsStore } from '../../store/runsStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { downloadBlob, slug } from '../analysis/exportFiles';
import { ByPositionView } from './ByPositionView';
import { FrontierPlot } from './FrontierPlot';
import './experiment.css';

const pickKey = (a: string, l2: number) => `${a}|${l2}`;

/** "1, 2, 3" → numbers; throws naming the first bad entry. */
function parseList(text: string, what: string, check: (v: number) => boolean, rule: string): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error(`Give at least one ${what}.`);
  const out = parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v) || !check(v)) throw new Error(`${what}: “${p}” is not ${rule}.`);
    return v;
  });
  if (new Set(out).size !== out.length) throw new Error(`${what}: each value once, please.`);
  return out;
}

/** A short number field of the setup. */
function Narrow(p: { value: string; set: (v: string) => void; testId: string; disabled?: boolean }) {
  return (
    <input
      value={p.value}
      onChange={(e) => p.set(e.target.value)}
      disabled={p.disabled}
      data-testid={p.testId}
      className="exp-narrow"
      inputMode="decimal"
    />
  );
}

function Setup({ busy }: { busy: boolean }) {
  const draft = useWorkspaceStore((s) => s.draft);
  const data = useWorkspaceStore((s) => s.data);
  const [name, setName] = useState('TempoSAE experiment');
  const [lambdas, setLambdas] = useState('0, 0.02');
  const [picked, setPicked] = useState<Set<string>>(
    () =>
      new Set([
        pickKey('relu', 0),
        pickKey('relu', 0.02),
        ...ARCHITECTURE_IDS.slice(1).map((a) => pickKey(a, 0)),
      ]),
  );
  const [seeds, setSeeds] = useState('1, 2, 3');
  const [tokens, setTokens] = useState(String(draft.training_tokens));
  const [matched, setMatched] = useState(false);
  const [targetL0, setTargetL0] = useState('32');
  const [steps, setSteps] = useState('200');
  const [probes, setProbes] = useState('6');
  const [error, setError] = useState<string | null>(null);
  let l2s: number[] = [];
  let l2Error: string | null = null;
  try {
    l2s = parseList(lambdas, 'λ2', (v) => v >= 0, 'a number ≥ 0');
  } catch (e) {
    l2Error = (e as Error).message;
  }
  const toggle = (k: string) =>
    setPicked((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  const run = () => {
    setError(null);
    try {
      if (!data.key) throw new Error('Load data first (the Train tab’s data panel).');
      if (l2Error) throw new Error(l2Error);
      const picks: MethodPick[] = [];
      for (const a of ARCHITECTURE_IDS)
        for (const v of l2s)
          if (picked.has(pickKey(a, v))) picks.push({ architecture: a, temporal_coefficient: v });
      const budget = Number(tokens);
      if (!Number.isInteger(budget) || budget <= 0)
        throw new Error('The token budget must be a whole number > 0.');
      const one = (t: string, what: string) => {
        const v = Number(t);
        if (!Number.isInteger(v) || v <= 0) throw new Error(`${what} must be a whole number > 0.`);
        return v;
      };
      const x = experimentConfigFor({
        name,
        dataKey: data.key,
        draft,
        picks,
        seeds: parseList(seeds, 'seeds', (v) => Number.isInteger(v) && v >= 0, 'a whole number ≥ 0'),
        trainingTokens: budget,
        targetL0: matched ? Number(targetL0) : undefined,
        l0Search: { steps: one(steps, 'Search steps'), probes: one(probes, 'Probes') },
      });
      void startExperiment(x, data.key).catch((e) => setError((e as Error).message));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="an-panel exp-setup" data-testid="exp-setup">
      <h3>New experiment</h3>
      <p className="muted">
        Every run uses the Train tab’s settings (d_sae {draft.d_sae}, {draft.seqs_per_batch} ×{' '}
        {draft.context_size} tokens a step, lr {draft.lr}) on <b>{data.summary?.label ?? 'no data loaded'}</b>
        ; each method sets the architecture and λ2, each seed the run’s seed. The first method picked is the
        baseline of the sentences.
      </p>
      <label className="exp-field">
        Name <input value={name} onChange={(e) => setName(e.target.value)} data-testid="exp-name" />
      </label>
      <label className="exp-field">
        λ2 values (0 = without the temporal penalty){' '}
        <input value={lambdas} onChange={(e) => setLambdas(e.target.value)} data-testid="exp-lambdas" />
      </label>
      {l2Error ? <p className="exp-error">{l2Error}</p> : null}
      <table className="exp-picks" data-testid="exp-picks">
        <thead>
          <tr>
            <th>architecture</th>
            {l2s.map((v) => (
              <th key={v}>{v === 0 ? 'plain (λ2 0)' : `+ ours λ2 ${v}`}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ARCHITECTURE_IDS.map((a: Architecture) => (
            <tr key={a}>
              <th title={architectureOf(a).option}>{architectureOf(a).name}</th>
              {l2s.map((v) => (
                <td key={v}>
                  <input
                    type="checkbox"
                    checked={picked.has(pickKey(a, v))}
                    onChange={() => toggle(pickKey(a, v))}
                    data-testid={`exp-pick-${a}-${v}`}
                    aria-label={`${architectureOf(a).name} λ2 ${v}`}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <label className="exp-field">
        Seeds <input value={seeds} onChange={(e) => setSeeds(e.target.value)} data-testid="exp-seeds" />
      </label>
      <label className="exp-field">
        Token budget per run{' '}
        <input
          value={tokens}
          onChange={(e) => setTokens(e.target.value)}
          data-testid="exp-tokens"
          inputMode="numeric"
        />
      </label>
      <label className="exp-field">
        <input
          type="checkbox"
          checked={matched}
          onChange={(e) => setMatched(e.target.checked)}
          data-testid="exp-matched"
        />{' '}
        Matched L0 at <Narrow value={targetL0} set={setTargetL0} testId="exp-target-l0" disabled={!matched} />
      </label>
      {matched ? (
        <p className="muted">
          TopK-like architectures get k = the target; the others search λ1 with{' '}
          <Narrow value={probes} set={setProbes} testId="exp-probes" /> short runs of{' '}
          <Narrow value={steps} set={setSteps} testId="exp-steps" /> steps on the first seed (×4 until
          bracketed, then bisection; the probe closest to the target wins).
        </p>
      ) : null}
      <button className="primary" onClick={run} disabled={busy} data-testid="exp-run">
        Run experiment
      </button>
      {error ? (
        <p className="exp-error" data-testid="exp-error">
          {error}
        </p>
      ) : null}
    </section>
  );
}

function Progress({ r }: { r: ExperimentRecord }) {
  const runs = useRunsStore((s) => s.runs);
  const items = Object.entries(r.items);
  const done = items.filter(([, i]) => i.outcome).length;
  const cur = r.current ? r.items[r.current] : undefined;
  const curRun = cur ? runs.find((x) => x.id === cur.runId) : undefined;
  const say: Record<string, string> = {
    running: 'Running',
    pausing: 'Pausing…',
    paused: 'Paused',
    interrupted: 'Interrupted by a reload: Resume goes on where it was',
    done: 'Done',
    error: 'Stopped by an error',
  };
  return (
    <section className="an-panel" data-testid="exp-progress">
      <div className="an-panel-head">
        <h3>{r.config.name}</h3>
        <span className="muted">on {r.dataLabel}</span>
      </div>
      <p data-testid="exp-status" data-status={r.status}>
        {say[r.status]} · {done} of {r.total || '?'} runs finished
        {r.status === 'running' && cur && curRun
          ? ` · training ${cur.label}: step ${curRun.progress.step} of ${curRun.progress.totalSteps}`
          : ''}
      </p>
      {r.error ? (
        <p className="exp-error" data-testid="exp-run-error">
          {r.error}
        </p>
      ) : null}
      <div className="exp-buttons">
        {r.status === 'running' ? (
          <button onClick={() => void pauseExperiment()} data-testid="exp-pause">
            Pause
          </button>
        ) : null}
        {r.status === 'paused' || r.status === 'interrupted' || r.status === 'error' ? (
          <button className="primary" onClick={() => void resumeExperiment()} data-testid="exp-resume">
            Resume
          </button>
        ) : null}
        {r.status !== 'running' && r.status !== 'pausing' ? (
          <button onClick={() => void discardExperiment()} data-testid="exp-discard">
            New experiment (the runs stay in the run list)
          </button>
        ) : null}
      </div>
      <table className="exp-runs" data-testid="exp-runs">
        <thead>
          <tr>
            <th>run</th>
            <th>status</th>
            <th>held-out L0</th>
            <th>what the method is doing (from the logged curves)</th>
          </tr>
        </thead>
        <tbody>
          {items.map(([k, i]) => {
            const run = runs.find((x) => x.id === i.runId);
            const notes = run && i.kind === 'run' ? methodNotes(run.history, run.config) : [];
            return (
              <tr key={k} data-run-id={i.runId} data-kind={i.kind}>
                <td>{i.label}</td>
                <td>{i.outcome ? 'done' : (run?.status ?? 'missing')}</td>
                <td>{i.outcome ? fmt(i.outcome.run.metrics.l0) : ''}</td>
                <td className="exp-notes" data-notes={notes.map((n) => n.id).join(' ')}>
                  {run && i.kind === 'run' && notes.length === 0
                    ? run.history.step.length < 5
                      ? 'needs at least 5 readbacks'
                      : 'nothing unusual'
                    : null}
                  {notes.map((n) => (
                    <span
                      key={n.id}
                      title={n.suggestion ?? ''}
                      className={n.level === 'warn' ? 'warn' : undefined}
                    >
                      {n.text}{' '}
                    </span>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {Object.entries(r.searches).map(([m, s]) => (
        <p key={m} className="muted" data-testid="exp-search">
          {m}: λ1 {fmt(s.chosen)} gave L0 {fmt(s.chosen_l0)} (target {s.target_l0}) in {s.probes.length}{' '}
          probes of {s.steps} steps (
          {s.probes.map((p) => `λ1 ${fmt(p.l1_coefficient)} → ${fmt(p.l0)}`).join(', ')}).
        </p>
      ))}
    </section>
  );
}

function TableView({ t }: { t: ExperimentTable }) {
  return (
    <div className="exp-table-wrap">
      <table className="exp-table" data-testid="exp-table">
        <thead>
          <tr>
            <th>method</th>
            {t.metrics.map((k) => (
              <th key={k} title={metricTitle(k)}>
                {k}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {t.methods.map((m) => (
            <tr key={m}>
              <th>{m}</th>
              {t.metrics.map((k) => {
                const c = t.cells[m][k];
                return (
                  <td
                    key={k}
                    data-method={m}
                    data-metric={k}
                    data-mean={c.mean}
                    data-n={c.n}
                    title={
                      c.n
                        ? `seeds ${c.seeds.join(', ')}: ${c.values.map(fmt).join(', ')}`
                        : `${m}'s runs do not report ${k}`
                    }
                  >
                    {fmt(c.mean)}
                    {Number.isFinite(c.half) ? ` ± ${fmt(c.half)}` : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Results({ r }: { r: ExperimentRecord }) {
  const report = useMemo(() => r.report ?? partialReport(r), [r]);
  if (!report) return null;
  const t = report.table;
  const final = r.report !== null;
  const file = slug(r.config.name);
  const dl = (name: string, text: string, type: string) => downloadBlob(name, new Blob([text], { type }));
  return (
    <section className="an-panel" data-testid="exp-results" data-final={final}>
      <div className="an-panel-head">
        <h3>{final ? 'The answer' : `So far (${report.runs.length} runs finished)`}</h3>
        <div className="an-tools">
          <button
            onClick={() => dl(`${file}-table.json`, experimentReportJson(report), 'application/json')}
            data-testid="exp-dl-json"
          >
            table.json
          </button>
          <button
            onClick={() => dl(`${file}-table.csv`, experimentCsv(t), 'text/csv')}
            data-testid="exp-dl-csv"
          >
            CSV
          </button>
          <button
            onClick={() => dl(`${file}-by_position.csv`, byPositionCsv(report.by_position), 'text/csv')}
            data-testid="exp-dl-bypos"
          >
            by position CSV
          </button>
          <button
            onClick={() =>
              dl(`${file}-report.html`, experimentHtml(t, r.config.name, report.by_position), 'text/html')
            }
            data-testid="exp-dl-html"
          >
            HTML report
          </button>
          <button
            onClick={() => dl(`${file}-experiment.json`, experimentConfigJson(r.config), 'application/json')}
            data-testid="exp-dl-config"
            title="npm run cli -- experiment --config FILE --out DIR reproduces this table"
          >
            experiment file (for the CLI)
          </button>
        </div>
      </div>
      <p className="muted">
        Each cell: the mean over seeds of the runs’ final held-out evaluations ± the half-width of the
        two-sided {Math.round(t.level * 100)} % Student t interval (hover for the per-seed values).
      </p>
      <TableView t={t} />
      <div className="exp-frontiers">
        {frontierAxes(t).map(([x, y], i) => (
          <FrontierPlot
            key={y}
            table={t}
            x={x}
            y={y}
            testId={i === 0 ? 'exp-frontier-ev' : 'exp-frontier-smooth'}
          />
        ))}
      </div>
      <ByPositionView b={report.by_position} methods={t.methods} />
      <h4>What the numbers say</h4>
      <ul data-testid="exp-sentences">
        {t.sentences.map((s) => (
          <li key={s.metric} data-metric={s.metric}>
            {s.text}
          </li>
        ))}
        {t.sentences.length === 0 ? (
          <li className="muted">Two methods are needed for a comparison.</li>
        ) : null}
      </ul>
    </section>
  );
}

export function ExperimentPanel() {
  const r = useExperimentStore((s) => s.record);
  const busy = r !== null && r.status !== 'done' && r.status !== 'error';
  return (
    <div className="exp-view" data-testid="experiment-view">
      {r ? <Progress r={r} /> : null}
      {r ? <Results r={r} /> : null}
      {!busy ? <Setup busy={busy} /> : null}
    </div>
  );
}
