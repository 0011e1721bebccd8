// Feature inspector (issues 6, 10): the feature's activation over one held-out sequence with the tokens
// as text shaded by activation, its top-k contexts (12 tokens before, 4 after), samples from lower
// activation intervals (sae_vis's quantile groups), the histogram of its activations, its temporal
// behaviour (stay-on probability, run lengths), the decoder rows nearest to it, its density and, on
// synthetic data, the true feature it matches. Token text comes from the run's data, whatever its source.
import { inspectFeature } from '../../app/evaluationInspect';
import { dashboardFileOfInspector } from '../../app/dashboardExport';
import type { DashboardContext } from '../../analysis/featureDashboard';
import { displayToken } from '../../analysis/tokenDisplay';
import { useAnalysisStore, type InspectorData } from '../../store/analysisStore';
import { useEffect } from 'react';
import { findRun } from '../../store/runsStore';
import { useWorkspaceStore } from '../../store/workspaceStore';
import { BinBars } from './BinBars';
import { DashboardExport } from './DashboardExport';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';
import { TokenStrip } from './TokenStrip';

/** Activation over the sequence as bars, positions along x (the chart exported as SVG/PNG). */
function TraceChart({ d, width }: { d: InspectorData; width: number }) {
  const T = d.trace.tokens.length;
  return (
    <BinBars
      edges={Array.from({ length: T + 1 }, (_, t) => t)}
      values={d.trace.tokens.map((c) => c.value)}
      width={width}
      height={110}
      color="#f0abfc"
      title={(t) => `${t} ${displayToken(d.trace.tokens[t].text)}: ${d.trace.tokens[t].value.toPrecision(3)}`}
      xLabel={`position in held-out sequence ${d.trace.sequence}`}
      ariaLabel="Activation across the sequence"
      testId="inspector-trace-svg"
    />
  );
}

function HistogramChart({ d, width }: { d: InspectorData; width: number }) {
  return (
    <BinBars
      edges={d.histogram.edges}
      values={d.histogram.counts}
      width={width}
      height={110}
      xTicks={5}
      color="#7dd3fc"
      xLabel="activation (non-zero only)"
      ariaLabel="Histogram of non-zero activations"
      testId="inspector-hist-svg"
    />
  );
}

function RunLengthChart({ d, width }: { d: InspectorData; width: number }) {
  const counts = d.dashboard.temporal.runLengthCounts;
  return (
    <BinBars
      edges={Array.from({ length: counts.length + 1 }, (_, k) => k + 1)}
      values={counts}
      width={width}
      height={90}
      color="#86efac"
      title={(k) => `runs of ${k + 1}${k === counts.length - 1 ? '+' : ''} tokens: ${counts[k]}`}
      xLabel={`run length (tokens; last bar ${counts.length}+)`}
      ariaLabel="Run lengths of the feature"
      testId="inspector-runs-svg"
    />
  );
}

const OPTION_CHOICES = {
  top: [10, 20, 50, 100],
  before: [4, 8, 12, 24],
  after: [0, 2, 4, 8],
} as const;

/** How many contexts, and how many tokens before/after each (the dashboards and exports follow). */
function OptionsBar({ onChange }: { onChange: () => void }) {
  const o = useAnalysisStore((s) => s.inspectorOptions);
  const set = useAnalysisStore((s) => s.setInspectorOptions);
  const pick = (k: keyof typeof OPTION_CHOICES, label: string) => (
    <label className="an-inline">
      {label}{' '}
      <select
        value={o[k]}
        data-testid={`inspector-${k}`}
        onChange={(e) => {
          set({ [k]: Number(e.target.value) });
          onChange();
        }}
      >
        {OPTION_CHOICES[k].map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="an-options muted">
      {pick('top', 'show')} {pick('before', 'tokens before')} {pick('after', 'after')}
    </div>
  );
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');

function Context({
  c,
  max,
  onOpen,
}: {
  c: DashboardContext;
  max: number;
  onOpen: (sequence: number) => void;
}) {
  return (
    <li>
      <button type="button" className="an-link an-ctx-value" onClick={() => onOpen(c.sequence)}>
        {c.value.toPrecision(3)}
      </button>{' '}
      <TokenStrip tokens={c.tokens} max={max} center={c.center} firstPosition={c.position - c.center} />{' '}
      <span className="muted">
        seq {c.sequence} t {c.position}
      </span>
    </li>
  );
}

export function InspectorView({ width }: { width: number }) {
  const ins = useAnalysisStore((s) => s.inspector);
  const close = useAnalysisStore((s) => s.closeInspector);
  // A tokenizer dropped after the inspector was filled: read the feature again with the new text.
  const dataKey = useWorkspaceStore((s) => s.data.key);
  const textName = useWorkspaceStore((s) => s.data.summary?.tokenTextName);
  const shownName = ins.data?.tokenSource.name;
  useEffect(() => {
    const { runId, feature, sequence, loading, error } = ins;
    if (runId === null || feature === null || loading || error || !shownName || !textName) return;
    if (findRun(runId)?.dataKey === dataKey && textName !== shownName)
      void inspectFeature(runId, feature, sequence);
  }, [ins, dataKey, textName, shownName]);
  if (ins.feature === null || ins.runId === null) {
    return (
      <section className="an-panel an-inspector" data-testid="inspector">
        <p className="muted">Click a leaf of the dendrogram (or a row of a heatmap) to inspect a feature.</p>
      </section>
    );
  }
  const d = ins.data;
  const runId = ins.runId;
  const feature = ins.feature;
  const go = (f: number) => void inspectFeature(runId, f);
  const openSeq = (s: number) => void inspectFeature(runId, feature, s);
  const t = d?.dashboard.temporal;
  return (
    <Panel
      title={`Feature ${feature}`}
      testId="inspector"
      className="an-inspector"
      exportName={`feature-${feature}-${runId}`}
      tools={
        <>
          <label className="an-inline">
            sequence{' '}
            <input
              type="number"
              min={0}
              max={d ? d.sequences - 1 : 0}
              value={d?.trace.sequence ?? 0}
              data-testid="inspector-sequence"
              onChange={(e) => openSeq(Number(e.target.value))}
              style={{ width: 56 }}
            />
          </label>
          <button type="button" onClick={close} aria-label="Close the inspector">
            ×
          </button>
        </>
      }
      data={
        d
          ? {
              csv: () =>
                toCsv(
                  ['position', 'token_id', 'token', 'activation'],
                  d.trace.tokens.map((c, i) => [i, c.id, c.text, c.value]),
                ),
              // The documented dashboard shape (README "Feature dashboard JSON").
              json: () => dashboardFileOfInspector(d),
            }
          : undefined
      }
    >
      {ins.loading && !d ? <p className="muted">Running the held-out sequences through the SAE…</p> : null}
      {ins.error ? <p className="an-error">{ins.error}</p> : null}
      {d && t ? (
        <div className="an-inspector-body" data-testid="inspector-body" data-feature={d.feature}>
          <dl className="an-facts">
            <dt>density</dt>
            <dd data-testid="inspector-density">{d.density.toPrecision(3)}</dd>
            <dt>mean when on</dt>
            <dd>{d.meanActive.toPrecision(3)}</dd>
            <dt>max</dt>
            <dd>{d.maxActivation.toPrecision(3)}</dd>
            <dt>step</dt>
            <dd>{d.step}</dd>
            <dt>stays on</dt>
            <dd data-testid="inspector-stay-on" title="P(on at t | on at t−1), same document">
              {pct(t.stayOn)}
            </dd>
            <dt>mean run</dt>
            <dd data-testid="inspector-mean-run" title="active tokens / runs">
              {Number.isFinite(t.meanRunLength) ? `${t.meanRunLength.toFixed(2)} tokens` : '–'}
            </dd>
            <dt>turns on</dt>
            <dd title="P(on at t | off at t−1)">{pct(t.onFromOff)}</dd>
            <dt>longest run</dt>
            <dd>{t.maxRunLength}</dd>
            {d.trueFeature ? (
              <>
                <dt>true feature</dt>
                <dd data-testid="inspector-true">
                  f{d.trueFeature.index} (cos {d.trueFeature.cos.toFixed(3)}
                  {d.trueFeature.cos > 0.9 ? ', recovered' : ''})
                </dd>
              </>
            ) : null}
          </dl>
          <DashboardExport
            key={`${runId}-${feature}`}
            runId={runId}
            runName={findRun(runId)?.name ?? runId}
            feature={feature}
            m={findRun(runId)?.config.d_sae ?? feature + 1}
          />
          <p className="an-source" data-testid="inspector-token-source">
            token text: {d.tokenSource.name}
            {d.tokenSource.kind === 'ids' ? ' — drop a vocabulary or tokenizer.json to read the tokens' : ''}
          </p>
          <TraceChart d={d} width={width - 24} />
          <div className="an-trace-text">
            <TokenStrip tokens={d.trace.tokens} max={d.maxActivation} testId="inspector-tokens" />
          </div>
          <h4>Top-activating contexts</h4>
          <OptionsBar onChange={() => void inspectFeature(runId, feature, ins.sequence)} />
          {d.topContexts.length === 0 ? (
            <p className="muted">The feature never fires on the held-out set.</p>
          ) : null}
          <ol className="an-contexts" data-testid="inspector-contexts">
            {d.topContexts.map((c, i) => (
              <Context key={i} c={c} max={d.maxActivation} onOpen={openSeq} />
            ))}
          </ol>
          {d.dashboard.quantiles.length ? (
            <>
              <h4>Across the activation range</h4>
              <ul className="an-quantiles" data-testid="inspector-quantiles">
                {d.dashboard.quantiles.map((q, i) => (
                  <li key={i}>
                    <div className="an-quantile-head">
                      ({q.lo.toPrecision(3)}, {q.hi.toPrecision(3)}] · {q.count} activations ({pct(q.share)})
                    </div>
                    {q.contexts.length ? (
                      <ol className="an-ctx-list">
                        {q.contexts.map((c, k) => (
                          <Context key={k} c={c} max={d.maxActivation} onOpen={openSeq} />
                        ))}
                      </ol>
                    ) : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <div className="an-row">
            <div>
              <h4>Activation histogram</h4>
              <HistogramChart d={d} width={Math.max(200, (width - 40) / 2)} />
              <h4>Run lengths</h4>
              <RunLengthChart d={d} width={Math.max(200, (width - 40) / 2)} />
            </div>
            <div>
              <h4>Nearest features (decoder cosine)</h4>
              <ul className="an-nearest" data-testid="inspector-nearest">
                {d.nearest.map((n) => (
                  <li key={n.feature}>
                    <button type="button" className="an-link" onClick={() => go(n.feature)}>
                      f{n.feature}
                    </button>{' '}
                    {n.cos.toFixed(3)}
                  </li>
                ))}
              </ul>
            </div>
          </div>
        </div>
      ) : null}
    </Panel>
  );
}
