import { useState } from 'react';
import { totalSteps } from '../../sae/config';
import { useRunsStore, type RunRecord } from '../../store/runsStore';
import { pressControl, selectRunAndShowConfig } from '../../app/trainActions';
import { deleteRun } from '../../app/trainingLoop';
import { runColor } from '../charts/palette';

function lastOf(a: number[]): number | undefined {
  return a.length ? a[a.length - 1] : undefined;
}

/** Inline rename: Enter keeps the new name, Escape or an empty name keeps the old one. */
function NameEditor({ run, done }: { run: RunRecord; done: () => void }) {
  const rename = useRunsStore((s) => s.renameRun);
  const [text, setText] = useState(run.name);
  const commit = () => {
    if (text.trim()) rename(run.id, text.trim());
    done();
  };
  return (
    <input
      className="run-rename"
      aria-label={`New name for ${run.name}`}
      autoFocus
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') done();
      }}
    />
  );
}

function RunRow({ run, selected }: { run: RunRecord; selected: boolean }) {
  const toggle = useRunsStore((s) => s.toggleRunVisible);
  const [editing, setEditing] = useState(false);
  const loss = lastOf(run.history.loss);
  const l0 = lastOf(run.history.l0);
  const frac = Math.min(1, run.progress.step / totalSteps(run.config));
  const c = run.config;
  return (
    <li
      className={`run-row${selected ? ' selected' : ''}`}
      data-testid="run-row"
      data-run-id={run.id}
      data-status={run.status}
    >
      <input
        type="checkbox"
        checked={run.visible || selected}
        disabled={selected}
        onChange={() => toggle(run.id)}
        aria-label={`Draw ${run.name} in the charts`}
        style={{ accentColor: runColor(run.colorIndex) }}
      />
      {editing ? (
        <NameEditor run={run} done={() => setEditing(false)} />
      ) : (
        <button
          className="run-main"
          onClick={() => selectRunAndShowConfig(run.id)}
          onDoubleClick={() => setEditing(true)}
          onKeyDown={(e) => (e.key === 'F2' ? setEditing(true) : undefined)}
          aria-keyshortcuts="F2"
          aria-pressed={selected}
          title={`${run.name} on ${run.dataLabel} (double-click or F2 to rename)`}
        >
          <span className="run-name">
            <span className="swatch" style={{ background: runColor(run.colorIndex) }} />
            {run.name}
          </span>
          <span className="run-meta">
            <span className={`status-word status-${run.status}`}>{run.status}</span>
            <span>λ2 {c.temporal_coefficient}</span>
            <span>seed {c.seed}</span>
            {loss !== undefined && <span>L {loss.toPrecision(3)}</span>}
            {l0 !== undefined && <span>L0 {l0.toFixed(1)}</span>}
          </span>
          <span className="mini-bar" aria-hidden>
            <span style={{ width: `${(frac * 100).toFixed(1)}%`, background: runColor(run.colorIndex) }} />
          </span>
        </button>
      )}
      <div className="run-actions">
        <button
          data-testid="btn-control"
          onClick={() => pressControl(run.id)}
          disabled={c.temporal_coefficient === 0}
          title="Make a control run: same config, data and seed with λ2 = 0"
        >
          control
        </button>
        <button
          aria-label={`Delete ${run.name}`}
          title="Delete this run and free its GPU memory"
          onClick={() => void deleteRun(run.id)}
        >
          ×
        </button>
      </div>
    </li>
  );
}

/** Several runs side by side: status, progress, last loss; one click makes a control run. */
export function RunList() {
  const runs = useRunsStore((s) => s.runs);
  const selectedId = useRunsStore((s) => s.selectedRunId);
  return (
    <section className="panel run-list" aria-label="Runs">
      <h2>Runs</h2>
      {runs.length === 0 ? (
        <p className="muted small">
          No runs yet. Press Start: each run keeps its config, seed and charts here.
        </p>
      ) : (
        <ul>
          {runs.map((r) => (
            <RunRow key={r.id} run={r} selected={r.id === selectedId} />
          ))}
        </ul>
      )}
    </section>
  );
}
