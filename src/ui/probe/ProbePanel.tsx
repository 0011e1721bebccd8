// The live probe (issue 12): type a sentence, see per token the most active features of the run's SAE
// (with their change from the previous token), the reconstruction error and the CE change with the SAE
// spliced in. Clicking a feature opens it in the inspector. Steering: a greedy continuation with a
// multiple of a feature's decoder row added at the hook.
import { useState } from 'react';
import { inspectFeature } from '../../app/evaluationInspect';
import { probeRun, steerRun, type ProbeResult } from '../../app/lossRecoveredSession';
import { useModelStore } from '../../app/modelSession';

const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const signed = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : '—');

export function ProbePanel({ runId }: { runId: string }) {
  const model = useModelStore((s) => s.model);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ProbeResult | null>(null);
  const [feature, setFeature] = useState(0);
  const [alpha, setAlpha] = useState(4);
  const [steered, setSteered] = useState<string | null>(null);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="an-panel" data-testid="panel-probe">
      <div className="an-bar">
        <strong>Live probe</strong>
        <input
          type="text"
          value={text}
          placeholder={model ? 'Type a sentence' : 'Load a model first'}
          style={{ flex: 1, minWidth: 200 }}
          data-testid="probe-text"
          aria-label="Sentence to probe"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void run(async () => setResult(await probeRun(runId, text)));
          }}
        />
        <button
          type="button"
          disabled={!model || busy}
          onClick={() => void run(async () => setResult(await probeRun(runId, text)))}
          data-testid="probe-run"
        >
          {busy ? 'Probing…' : 'Probe'}
        </button>
        {error ? (
          <span className="an-error" data-testid="probe-error">
            {error}
          </span>
        ) : null}
      </div>
      {result ? (
        <table className="an-table" data-testid="probe-table">
          <thead>
            <tr>
              <th>t</th>
              <th>token</th>
              <th title="‖x − x̂‖² / ‖x‖²">recon err</th>
              <th title="next-token CE with x̂ spliced in minus clean CE (nats)">ΔCE</th>
              <th title="KL(clean ‖ spliced)">KL</th>
              <th>L0</th>
              <th>top features (value, Δ from previous token)</th>
            </tr>
          </thead>
          <tbody>
            {result.tokens.map((t) => (
              <tr key={t.position} data-testid="probe-row" className={t.kept ? '' : 'muted'}>
                <td>{t.position}</td>
                <td>
                  <code>{JSON.stringify(t.text)}</code>
                </td>
                <td data-col="recon">{fmt(t.reconError)}</td>
                <td data-col="dce">{signed(t.dCe)}</td>
                <td>{fmt(t.klSae, 4)}</td>
                <td>{t.l0}</td>
                <td>
                  {t.top.map((f) => (
                    <button
                      key={f.feature}
                      type="button"
                      className="an-chip"
                      data-testid="probe-feature"
                      data-feature={f.feature}
                      title={`feature ${f.feature}: ${f.value.toFixed(4)} (Δ ${signed(f.delta)}); click to inspect`}
                      onClick={() => {
                        setFeature(f.feature);
                        void inspectFeature(runId, f.feature);
                      }}
                    >
                      #{f.feature} {f.value.toFixed(2)} ({signed(f.delta)})
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div className="an-bar">
        <span className="muted">Steer:</span>
        <label className="an-inline">
          feature{' '}
          <input
            type="number"
            min={0}
            value={feature}
            style={{ width: 70 }}
            data-testid="steer-feature"
            onChange={(e) => setFeature(Number(e.target.value))}
          />
        </label>
        <label className="an-inline">
          ×{' '}
          <input
            type="number"
            step="any"
            value={alpha}
            style={{ width: 60 }}
            data-testid="steer-alpha"
            onChange={(e) => setAlpha(Number(e.target.value))}
          />
        </label>
        <button
          type="button"
          disabled={!model || busy || !text.trim()}
          onClick={() => void run(async () => setSteered(await steerRun(runId, text, feature, alpha, 12)))}
          data-testid="steer-run"
        >
          Continue (greedy, 12 tokens)
        </button>
        {steered !== null ? (
          <span data-testid="steer-output">
            <code>{JSON.stringify(steered)}</code>
          </span>
        ) : null}
      </div>
    </section>
  );
}
