// "What the method is doing" beside the selected run's summary: the notes of src/analysis/methodNotes.ts
// from its logged step metrics (α saturated or stuck at ½, the temporal term negligible or dominant,
// dead features, no learning), each with what to try. Recomputed when a readback arrives.
import { useMemo } from 'react';
import { methodNotes } from '../../analysis/methodNotes';
import { useRunsStore } from '../../store/runsStore';
import './analysis.css';

export function MethodNotes() {
  const run = useRunsStore((s) => s.runs.find((r) => r.id === s.selectedRunId));
  const rows = run?.history.step.length ?? 0;
  // The store replaces the history object on every readback, so it is the memo's key.
  const history = run?.history;
  const config = run?.config;
  const notes = useMemo(() => (history && config ? methodNotes(history, config) : []), [history, config]);
  if (!run) return null;
  return (
    <section className="panel method-notes" aria-label="What the method is doing" data-testid="method-notes">
      <h2>What the method is doing</h2>
      {notes.length === 0 ? (
        <p className="muted">
          {rows < 5 ? 'Needs at least 5 readbacks.' : 'Nothing unusual in the logged curves.'}
        </p>
      ) : (
        <ul>
          {notes.map((n) => (
            <li key={n.id} data-note={n.id} className={n.level === 'warn' ? 'warn' : undefined}>
              <span>{n.text}</span>
              {n.suggestion ? <span className="muted"> {n.suggestion}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
