// Loss recovered in the Features tab (issue 12): "Evaluate with the model" for the selected run, a Stop
// button, and the SAEBench core numbers stored with the run's evaluation record.
import { evaluateWithModel, stopLossRecovered } from '../../app/lossRecoveredSession';
import { useModelStore } from '../../app/modelSession';
import { useAnalysisStore, type RunAnalysis } from '../../store/analysisStore';
import { formatLr, latestLossRecovered, LOSS_RECOVERED_FIELDS } from './lossRecoveredFormat';

export function LossRecoveredPanel({ runId, analysis }: { runId: string; analysis: RunAnalysis }) {
  const p = useAnalysisStore((s) => s.lossRecovered[runId]);
  const model = useModelStore((s) => s.model);
  const lr = latestLossRecovered(analysis);
  return (
    <section className="an-panel" data-testid="panel-loss-recovered">
      <div className="an-bar">
        <strong>Loss recovered</strong>
        <button
          type="button"
          disabled={!model || p?.running}
          title={
            model
              ? `Splice the SAE into ${model.name} over the held-out rows`
              : 'Load a model on the Train tab first'
          }
          onClick={() => void evaluateWithModel(runId)}
          data-testid="evaluate-with-model"
        >
          {p?.running ? 'Evaluating with the model…' : 'Evaluate with the model'}
        </button>
        {p?.running ? (
          <button type="button" onClick={() => stopLossRecovered(runId)} data-testid="stop-loss-recovered">
            Stop
          </button>
        ) : null}
        <span className="muted" data-testid="loss-recovered-status">
          {p?.running
            ? `${p.rowsDone} / ${p.rows || '?'} rows`
            : lr
              ? `${lr.model} · ${lr.hook} · ${lr.rows} held-out rows · ${lr.ce_tokens} tokens · step ${lr.step} · ${Math.round(lr.ms)} ms`
              : model
                ? `not evaluated yet (model ${model.name})`
                : 'load a model to evaluate'}
        </span>
        {p?.error ? (
          <span className="an-error" data-testid="loss-recovered-error">
            {p.error}
          </span>
        ) : null}
      </div>
      {lr ? (
        <dl className="an-strip" data-testid="loss-recovered-strip">
          {LOSS_RECOVERED_FIELDS.map((f) => (
            <div key={f.key} title={f.help}>
              <dt>{f.key}</dt>
              <dd data-lr={f.key}>{formatLr(lr[f.key] as number)}</dd>
            </div>
          ))}
        </dl>
      ) : null}
    </section>
  );
}
