import { useEffect } from 'react';
import { totalSteps } from '../../sae/config';
import { useRunsStore } from '../../store/runsStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import {
  cannotStartReason,
  matchingSelectedRun,
  pressPrimary,
  pressReset,
  pressStep,
  pressStop,
  primaryActionFor,
} from '../../app/trainActions';
import { formatCount, formatDuration } from '../format';

const PRIMARY_LABEL = {
  new: 'Start',
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  wait: 'Starting…',
} as const;

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return (
    !!el &&
    (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable)
  );
}

/** Start/pause/resume, single step, reset, stop; a progress bar with tokens/s and time left. */
export function Controls() {
  // Subscribe to what decides the buttons; the decision itself lives in src/app/trainActions.ts.
  const selected = useRunsStore((s) => s.runs.find((r) => r.id === s.selectedRunId));
  const draft = useWorkspaceStore((s) => s.draft);
  const dataKey = useWorkspaceStore((s) => s.data.key);
  const run = selected ? matchingSelectedRun() : undefined;
  const action = primaryActionFor(run, draft, dataKey);
  const blocked = action === 'new' ? cannotStartReason() : null;
  const s = run?.status;

  useEffect(() => {
    // Space: start/pause; period: one step. Not while typing in a field or on a button (Space clicks it).
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if ((e.target as HTMLElement | null)?.tagName === 'BUTTON') return;
      if (e.key === ' ') {
        e.preventDefault();
        void pressPrimary();
      } else if (e.key === '.') {
        e.preventDefault();
        void pressStep();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const p = run?.progress;
  const total = run ? totalSteps(run.config) : totalSteps(draft);
  const frac = p ? Math.min(1, p.step / total) : 0;
  const differs = selected && run && action === 'new' && (s === 'paused' || s === 'ready');

  return (
    <section className="controls" aria-label="Training controls">
      <div className="buttons">
        <button
          className="primary"
          data-testid="btn-primary"
          onClick={() => (action === 'wait' || blocked ? undefined : void pressPrimary())}
          // aria-disabled, not disabled: a disabled button loses keyboard focus while the run starts,
          // and the next Enter (to pause) would go nowhere.
          aria-disabled={action === 'wait' || !!blocked}
          aria-keyshortcuts="Space"
          title={blocked ?? `${PRIMARY_LABEL[action]} (Space)`}
        >
          <span aria-hidden className="icon">
            {action === 'pause' ? '❚❚' : '▶'}
          </span>
          {action === 'new' && selected && s !== 'ready' ? 'Start new run' : PRIMARY_LABEL[action]}
        </button>
        <button
          data-testid="btn-step"
          onClick={() => void pressStep()}
          disabled={s === 'running' || s === 'starting' || (!run && !!cannotStartReason())}
          aria-keyshortcuts="."
          title="One training step (.)"
        >
          Step
        </button>
        <button
          data-testid="btn-reset"
          onClick={() => void pressReset()}
          disabled={!selected || selected.status === 'ready' || selected.status === 'starting'}
          title="Forget the weights and charts of this run; same config and seed"
        >
          Reset
        </button>
        <button
          data-testid="btn-stop"
          onClick={() => void pressStop()}
          disabled={!selected || (selected.status !== 'running' && selected.status !== 'paused')}
          title="End this run early; its weights stay for analysis and export"
        >
          Stop
        </button>
      </div>
      <div className="progress" data-testid="progress">
        <div
          className="bar"
          role="progressbar"
          aria-label="Training progress"
          aria-valuemin={0}
          aria-valuemax={total}
          aria-valuenow={p?.step ?? 0}
        >
          <div
            className={`fill status-${selected?.status ?? 'none'}`}
            style={{ width: `${(frac * 100).toFixed(2)}%` }}
          />
        </div>
        <div className="progress-text">
          <span data-testid="progress-step">
            step {formatCount(p?.step ?? 0)} / {formatCount(total)}
          </span>
          <span>{formatCount(p?.tokensSeen ?? 0)} tokens</span>
          <span data-testid="tokens-per-sec">
            {p?.tokensPerSec ? `${formatCount(Math.round(p.tokensPerSec))} tok/s` : '— tok/s'}
          </span>
          <span>{p?.etaSec != null && s === 'running' ? `${formatDuration(p.etaSec)} left` : ''}</span>
          <span className={`status-word status-${selected?.status ?? 'none'}`} data-testid="run-status">
            {selected ? selected.status : 'no run yet'}
          </span>
        </div>
      </div>
      {blocked && <div className="hint">{blocked}</div>}
      <div className="keys muted" aria-hidden>
        <kbd>Space</kbd> start/pause · <kbd>.</kbd> one step
      </div>
      {differs && (
        <div className="hint">The panel’s config differs from this run’s: Start makes a new run.</div>
      )}
      {selected?.status === 'error' && (
        <div className="inline-error" role="alert" data-testid="run-error">
          <b>This run stopped:</b> {selected.error}
        </div>
      )}
    </section>
  );
}
