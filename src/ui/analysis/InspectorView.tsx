// Feature inspector (issue 6): the feature's activation over one held-out sequence with the tokens as
// text shaded by activation, its top-activating contexts, a histogram of its activations, the decoder
// rows nearest to it, its density and, on synthetic data, the true feature it matches.
import { interpolateInferno } from 'd3';
import { inspectFeature } from '../../app/evaluationInspect';
import { useAnalysisStore, type InspectorData } from '../../store/analysisStore';
import { BinBars } from './BinBars';
import { Panel } from './Panel';
import { toCsv } from './exportFiles';

function shade(v: number, max: number): string {
  if (!(v > 0) || !(max > 0)) return 'transparent';
  return interpolateInferno(0.25 + 0.7 * Math.min(1, v / max));
}

function Tokens({
  tokens,
  values,
  max,
  center,
}: {
  tokens: string[];
  values: number[];
  max: number;
  center?: number;
}) {
  return (
    <span className="an-tokens">
      {tokens.map((t, i) => (
        <span
          key={i}
          className={`an-tok${i === center ? ' an-tok-center' : ''}`}
          style={{ background: shade(values[i], max), color: values[i] / max > 0.6 ? '#111' : undefined }}
          title={`${t}: ${values[i].toPrecision(3)}`}
        >
          {t}
        </span>
      ))}
    </span>
  );
}

/** Activation over the sequence as bars, positions along x (the chart exported as SVG/PNG). */
function TraceChart({ d, width }: { d: InspectorData; width: number }) {
  const T = d.trace.values.length;
  return (
    <BinBars
      edges={Array.from({ length: T + 1 }, (_, t) => t)}
      values={d.trace.values}
      width={width}
      height={110}
      color="#f0abfc"
      title={(t) => `${t} ${d.trace.tokens[t]}: ${d.trace.values[t].toPrecision(3)}`}
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

export function InspectorView({ width }: { width: number }) {
  const ins = useAnalysisStore((s) => s.inspector);
  const close = useAnalysisStore((s) => s.closeInspector);
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
              onChange={(e) => void inspectFeature(runId, feature, Number(e.target.value))}
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
                  ['position', 'token', 'activation'],
                  d.trace.values.map((v, t) => [t, d.trace.tokens[t], v]),
                ),
              json: () => d,
            }
          : undefined
      }
    >
      {ins.loading && !d ? <p className="muted">Running the held-out sequences through the SAE…</p> : null}
      {ins.error ? <p className="an-error">{ins.error}</p> : null}
      {d ? (
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
          <TraceChart d={d} width={width - 24} />
          <div className="an-trace-text" data-testid="inspector-tokens">
            <Tokens tokens={d.trace.tokens} values={d.trace.values} max={d.maxActivation} />
          </div>
          <h4>Top-activating contexts</h4>
          {d.topContexts.length === 0 ? (
            <p className="muted">The feature never fires on the held-out set.</p>
          ) : null}
          <ol className="an-contexts" data-testid="inspector-contexts">
            {d.topContexts.map((c, i) => (
              <li key={i}>
                <button
                  type="button"
                  className="an-link"
                  onClick={() => void inspectFeature(runId, feature, c.sequence)}
                >
                  {c.value.toPrecision(3)} · seq {c.sequence} t {c.position}
                </button>{' '}
                <Tokens tokens={c.tokens} values={c.values} max={d.maxActivation} center={c.center} />
              </li>
            ))}
          </ol>
          <div className="an-row">
            <div>
              <h4>Activation histogram</h4>
              <HistogramChart d={d} width={Math.max(200, (width - 40) / 2)} />
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
