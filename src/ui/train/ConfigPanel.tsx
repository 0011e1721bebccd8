import { useId, useState } from 'react';
import {
  DEFAULT_CONFIG,
  tokensPerStep,
  totalSteps,
  validateConfig,
  type TrainConfig,
} from '../../sae/config';
import { formatCount } from '../format';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { FIELD_GROUPS, fieldText, parseField, type FieldSpec } from './configFields';

/** One knob: the text is kept locally while typing and committed when it parses. */
function ConfigField({ spec, value, disabled }: { spec: FieldSpec; value: unknown; disabled: boolean }) {
  const setField = useWorkspaceStore((s) => s.setConfigField);
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const helpId = `${id}-help`;
  const shown = text ?? fieldText(value);

  const commit = (t: string) => {
    const r = parseField(spec, t);
    if ('error' in r) {
      setError(r.error);
      return;
    }
    setError(null);
    setText(null);
    setField(spec.key, r.value as TrainConfig[typeof spec.key]);
  };

  const k = spec.kind;
  return (
    <div className={`field${error ? ' field-bad' : ''}`} title={spec.help}>
      <label htmlFor={id}>{spec.label}</label>
      {k.type === 'select' ? (
        <select
          id={id}
          data-testid={`cfg-${spec.key}`}
          value={String(value)}
          disabled={disabled}
          aria-describedby={helpId}
          onChange={(e) => commit(e.target.value)}
        >
          {k.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          data-testid={`cfg-${spec.key}`}
          inputMode={k.type === 'intList' || k.type === 'numberList' ? 'text' : 'decimal'}
          spellCheck={false}
          value={shown}
          disabled={disabled}
          aria-invalid={!!error}
          aria-describedby={helpId}
          onChange={(e) => {
            setText(e.target.value);
            const r = parseField(spec, e.target.value);
            setError('error' in r ? r.error : null);
          }}
          onBlur={(e) => (text !== null ? commit(e.target.value) : undefined)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit((e.target as HTMLInputElement).value);
            if (e.key === 'Escape') {
              setText(null);
              setError(null);
            }
          }}
        />
      )}
      <small id={helpId} className="field-help">
        {error ? <span className="bad">must be {error}. </span> : null}
        {spec.help}
      </small>
    </div>
  );
}

/** Every knob of the run, grouped, each with a one-line explanation; edits go to the draft config. */
export function ConfigPanel() {
  const draft = useWorkspaceStore((s) => s.draft);
  const replaceDraft = useWorkspaceStore((s) => s.replaceDraft);
  const [showAdvanced, setShowAdvanced] = useState(false);
  const problems = validateConfig(draft);
  return (
    <section className="panel config-panel" aria-label="Configuration">
      {FIELD_GROUPS.filter((g) => !g.advanced || showAdvanced).map((g) => (
        <fieldset key={g.title} className="field-group">
          <legend>{g.title}</legend>
          {g.fields
            .filter((f) => !f.applies || f.applies(draft))
            .map((f) => (
              <ConfigField key={f.key} spec={f} value={draft[f.key]} disabled={false} />
            ))}
          {g.title === 'Batches' && problems.length === 0 && (
            <div className="derived" data-testid="derived-batch">
              {formatCount(tokensPerStep(draft))} tokens per step · {formatCount(totalSteps(draft))} steps
            </div>
          )}
        </fieldset>
      ))}
      <div className="config-links">
        <button
          className="link-button"
          onClick={() => setShowAdvanced((v) => !v)}
          aria-expanded={showAdvanced}
        >
          {showAdvanced ? 'Hide' : 'Show'} data handling and bookkeeping
        </button>
        <button
          className="link-button"
          data-testid="cfg-defaults"
          title="The method's defaults; the data's width and document starts are kept"
          onClick={() =>
            replaceDraft({
              ...DEFAULT_CONFIG,
              d_in: draft.d_in,
              doc_start_token_ids: draft.doc_start_token_ids,
              pad_token_id: draft.pad_token_id,
            })
          }
        >
          defaults
        </button>
      </div>
      {problems.length > 0 && (
        <div className="inline-error" role="alert" data-testid="config-problems">
          {problems.map((p) => (
            <div key={p}>{p}</div>
          ))}
        </div>
      )}
    </section>
  );
}
